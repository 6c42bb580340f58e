// Names for the Unix socket tests: a fresh directory for socket files, removed with everything
// in it, and abstract names (leading NUL) that no other test process uses.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace pw_test {

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/pw-unix-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() { std::filesystem::remove_all(path); }
  std::string file(std::string_view name) const { return path + "/" + std::string(name); }
};

/// "\0polarway-<family>-test-<pid>-<tag>": unique per process and tag.
inline std::string abstract_name(std::string_view family, std::string_view tag) {
  return std::string(1, '\0') + "polarway-" + std::string(family) + "-test-" + std::to_string(::getpid()) + "-" +
         std::string(tag);
}

}  // namespace pw_test
