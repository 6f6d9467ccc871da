// One Catch2 main for every test executable: compiling it once saves ~15 s per binary.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
