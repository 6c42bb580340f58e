// pw::spawn_site: what a task is called in a stall report or a task dump: the source file and
// line of the spawn that created it (captured by pw::spawn's default argument), or the name
// given to pw::spawn_named.
//
// It is one word, so that the task's cell carries it at no extra size: the address of the
// file name (a string literal) or of the name (interned for the life of the process) in the
// low 48 bits, and the line in the top 16 (0 for a name; lines past 65,535 are kept as
// 65,535). 48 bits hold every address of a Linux process's image and heap on x86-64 and
// AArch64 (the kernel maps above 2^47 only where a program asks it to), and the packing is
// not checked at run time: a spawn pays for an OR of two constants and nothing else.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace polarway {

class spawn_site {
 public:
  /// The unknown site.
  constexpr spawn_site() noexcept = default;

  /// The caller's file and line (used as a default argument, the caller of the function that
  /// declares it).
  static spawn_site here(const char* file = __builtin_FILE(), unsigned line = __builtin_LINE()) noexcept {
    return spawn_site(file, line == 0 ? 1 : line);
  }

  /// A task's name, which must outlive every task that carries it (pw::spawn_named interns it).
  static spawn_site named(const char* name) noexcept { return spawn_site(name, 0); }

  bool known() const noexcept { return bits_ != 0; }
  bool is_name() const noexcept { return known() && line() == 0; }
  /// The file name or the task's name; empty when unknown.
  std::string_view text() const noexcept {
    const auto* p = reinterpret_cast<const char*>(static_cast<std::uintptr_t>(bits_ & address_mask));
    return p ? std::string_view(p) : std::string_view();
  }
  /// The spawn's line; 0 for a name or an unknown site.
  unsigned line() const noexcept { return static_cast<unsigned>(bits_ >> address_bits); }

  /// "file:line", the name, or "unknown".
  std::string to_string() const {
    if (!known()) return "unknown";
    std::string out(text());
    if (!is_name()) {
      out += ':';
      out += std::to_string(line());
    }
    return out;
  }

  /// The packed word, for storing in a cell and rebuilding with from_bits.
  std::uint64_t bits() const noexcept { return bits_; }
  static spawn_site from_bits(std::uint64_t bits) noexcept {
    spawn_site s;
    s.bits_ = bits;
    return s;
  }

  friend bool operator==(spawn_site a, spawn_site b) noexcept { return a.bits_ == b.bits_; }

 private:
  static constexpr int address_bits = 48;
  static constexpr std::uint64_t address_mask = (std::uint64_t{1} << address_bits) - 1;
  static constexpr unsigned max_line = 0xffff;

  spawn_site(const char* text, unsigned line) noexcept
      : bits_(text ? static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(text)) |
                         (static_cast<std::uint64_t>(line > max_line ? max_line : line) << address_bits)
                   : 0) {}

  std::uint64_t bits_ = 0;
};

}  // namespace polarway
