// A task dump's await chain as text (pw::await_chain_text), and pw::code_address_text, which
// gives a code address as a person can look it up. The chain lists each coroutine by the
// address of its code; coroutine bodies are local symbols, which the dynamic linker cannot
// name, so the address is given as the file it was loaded from and its offset there,
// "polarway-ingest+0x571d0", which `addr2line -Cfe polarway-ingest 0x571d0` turns into the
// function, file and line. A symbol the dynamic symbol table does
// hold (in a shared library, or an executable linked with -rdynamic) is named as well.
// Apart from task_info.hpp, and not included by polarway/runtime.hpp, because the dynamic
// linker's headers bring the ELF format's macros with them.
#pragma once

#include <dlfcn.h>
#include <link.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "polarway/runtime/task_info.hpp"

namespace polarway {

/// "FILE+0xOFFSET", or "SYMBOL+0xN in FILE+0xOFFSET" when the dynamic symbol table names the
/// function; FILE is the base name of the executable or library, OFFSET the address in its
/// own address space (what addr2line takes). "0x..." alone for an address in no loaded file.
inline std::string code_address_text(const void* address) {
  Dl_info info{};
  link_map* map = nullptr;
  char text[64];
  if (!address || !::dladdr1(address, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) || !map) {
    std::snprintf(text, sizeof text, "0x%zx", static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(address)));
    return text;
  }
  const std::string_view path = info.dli_fname ? info.dli_fname : "";
  const std::size_t slash = path.rfind('/');
  std::string out;
  if (info.dli_sname && info.dli_saddr) {
    out += info.dli_sname;
    std::snprintf(text, sizeof text, "+0x%zx in ",
                  static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(address) -
                                           reinterpret_cast<std::uintptr_t>(info.dli_saddr)));
    out += text;
  }
  out += slash == std::string_view::npos ? path : path.substr(slash + 1);
  std::snprintf(text, sizeof text, "+0x%zx",
                static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(address) - map->l_addr));
  out += text;
  return out;
}

/// The await chain, a line for each coroutine, innermost first, each line starting with
/// `indent` and ending with a newline: "    in polarway-ingest+0x571d0". A chain that stops
/// short ends with a line that says so.
inline std::string await_chain_text(const task_info& t, std::string_view indent = "    ") {
  std::string out;
  for (const void* code : t.await_chain) {
    out += indent;
    out += "in ";
    out += code_address_text(code);
    out += '\n';
  }
  if (!t.await_chain.empty() && !t.await_chain_whole) {
    out += indent;
    out += t.await_chain.size() < task_info::max_await_chain ? "in (awaited by a coroutine that is not a pw::task)\n"
                                                              : "in (more coroutines)\n";
  }
  return out;
}

}  // namespace polarway
