// A fresh directory under /tmp for one test, removed with everything in it when the test ends.
#pragma once

#include <doctest/doctest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>

namespace pw_test {

struct temp_dir {
  std::string path;
  temp_dir() {
    char tmpl[] = "/tmp/pw-test-XXXXXX";  // mkdtemp replaces the Xs
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(std::string_view name) const { return path + "/" + std::string(name); }
};

}  // namespace pw_test
