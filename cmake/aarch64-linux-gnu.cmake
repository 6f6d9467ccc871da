# Cross-compiling plugbox-server for arm64 hosts with Debian's cross
# toolchain (g++-aarch64-linux-gnu) and the arm64 library packages
# (libzstd-dev:arm64, libssl-dev:arm64; multiarch, /usr/lib/aarch64-linux-gnu).
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
# Libraries only from the arm64 multiarch directory; headers and CMake
# package files (header-only CLI11 and nlohmann-json) from the usual places.
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_IGNORE_PATH /usr/lib/x86_64-linux-gnu /lib/x86_64-linux-gnu)
