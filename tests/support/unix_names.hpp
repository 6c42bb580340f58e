// Names for the Unix socket tests: a fresh directory for socket files (temp_dir.hpp), and
// abstract names (leading NUL) that no other test process uses.
#pragma once

#include <unistd.h>

#include <string>
#include <string_view>

#include "support/temp_dir.hpp"

namespace pw_test {

/// "\0polarway-<family>-test-<pid>-<tag>": unique per process and tag.
inline std::string abstract_name(std::string_view family, std::string_view tag) {
  return std::string(1, '\0') + "polarway-" + std::string(family) + "-test-" + std::to_string(::getpid()) + "-" +
         std::string(tag);
}

}  // namespace pw_test
