# Warnings for polarway's own targets (tests, examples, benchmarks). Consumers of the library
# target never inherit these.
add_library(polarway_warnings INTERFACE)
target_compile_options(polarway_warnings INTERFACE -Wall -Wextra -Werror)
