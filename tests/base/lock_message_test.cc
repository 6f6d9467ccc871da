#include "base/lock_message.h"

#include <catch2/catch.hpp>

using plugbox::base::lock_message_problem;

TEST_CASE("lock_message_problem: something, on one line, at most 500 bytes", "[lock_message]") {
  CHECK_FALSE(lock_message_problem("db migration until 18:00"));
  CHECK_FALSE(lock_message_problem(std::string(500, 'x')));
  CHECK(lock_message_problem("")->find("the lock message is empty: say why") == 0);
  CHECK(lock_message_problem(" \t ")->find("the lock message is empty") == 0);
  CHECK(lock_message_problem(std::string(501, 'x'))->find("longer than 500 bytes") != std::string::npos);
  CHECK(lock_message_problem("two\nlines")->find("control character") != std::string::npos);
  CHECK(lock_message_problem("tab\there")->find("control character") != std::string::npos);
}
