# Warnings for polarway's own targets (tests, examples, benchmarks). Consumers of the library
# target never inherit these.
add_library(polarway_warnings INTERFACE)
target_compile_options(polarway_warnings INTERFACE -Wall -Wextra -Werror)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  # g++ 12 at -O3 reports impossible overlaps inside std::string's own copies (GCC bug 105329).
  target_compile_options(polarway_warnings INTERFACE -Wno-restrict)
endif()
