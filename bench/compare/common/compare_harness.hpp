// Shared command-line and output plumbing for the C++ implementations of the side-by-side
// benchmark workloads (bench/compare/README.md defines the protocol). Header-only, no
// dependencies beyond the standard library, so the Asio implementation and the polarway one
// can both use it.
//
//   <impl> <workload> <workers> [--scale small|full]
//
// prints one JSON line per figure on stdout and exits 0 (all ok), 1 (a check failed),
// 2 (workload not implemented / usage error).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace compare {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Args {
  std::string workload;
  int workers = 1;
  bool small = false;  // --scale small: the CI sizes from the README
  bool warm = false;   // --warm: the workload runs once untimed first, in the same process
};

// One figure of one workload, i.e. one JSON line.
struct Figure {
  std::string workload;  // e.g. "timers_5k_sched"
  double value = 0;
  std::string unit;  // ns/task ns/yield ns/round_trip ns/spawn ns/acquire msg/s timers/s ms ops/s ns/iter
  bool ok = false;
  std::string detail;
};

// Workload sizes, full and --scale small. Keep in sync with the table in README.md.
struct Sizes {
  bool small;
  std::uint64_t spawn_many() const { return small ? 10'000 : 100'000; }
  std::uint64_t yield_tasks() const { return 200; }
  std::uint64_t yield_per_task() const { return small ? 100 : 1'000; }
  std::uint64_t ping_pong() const { return small ? 10'000 : 100'000; }
  std::uint64_t chain_depth() const { return 1'000; }
  std::uint64_t chain_reps() const { return small ? 10 : 100; }
  std::uint64_t mpsc4_per_producer() const { return small ? 25'000 : 250'000; }
  std::uint64_t mpsc4x10m_per_producer() const { return small ? 250'000 : 2'500'000; }
  std::uint64_t mpsc1_total() const { return small ? 100'000 : 1'000'000; }
  std::uint64_t mpsc_capacity() const { return 1'024; }
  std::uint64_t sem_tasks() const { return 1'000; }
  std::uint64_t sem_permits() const { return 10; }
  std::uint64_t sem_iters() const { return small ? 10 : 100; }
  std::uint64_t timers_5k() const { return small ? 500 : 5'000; }
  std::uint64_t timers_100k() const { return small ? 5'000 : 100'000; }
  std::uint64_t tcp_conns() const { return 50; }
  std::uint64_t tcp_msgs() const { return small ? 100 : 2'000; }
  std::uint64_t tcp_msg_bytes() const { return 64; }
  std::uint64_t skynet_1m() const { return small ? 10'000 : 1'000'000; }
  std::uint64_t skynet_100m() const { return small ? 100'000 : 100'000'000; }
  int fib_n() const { return small ? 20 : 30; }
  int nqueens_n() const { return small ? 10 : 14; }
  std::uint64_t call_soon() const { return small ? 5'000 : 50'000; }
  std::uint64_t loop_overhead() const { return small ? 1'000 : 10'000; }
  std::uint64_t udp_round_trips() const { return small ? 10'000 : 100'000; }
  std::uint64_t udp_flood() const { return small ? 100'000 : 1'000'000; }
  std::uint64_t udp_bytes() const { return 64; }
  std::uint64_t udp_window() const { return 100; }  // udp_flood: datagrams in flight, acked each
  std::uint64_t broadcast_values() const { return small ? 10'000 : 100'000; }
  std::uint64_t broadcast_receivers() const { return 8; }
  std::uint64_t broadcast_capacity() const { return 1'024; }
  std::uint64_t watch_sends() const { return small ? 10'000 : 100'000; }
  std::uint64_t watch_receivers() const { return 4; }
  std::uint64_t races() const { return small ? 10'000 : 100'000; }
};

// Tasks in a skynet tree with `leaves` leaves (a power of 10): 1 + 10 + ... + leaves.
inline std::uint64_t skynet_tasks(std::uint64_t leaves) {
  std::uint64_t total = 0;
  for (std::uint64_t level = 1; level <= leaves; level *= 10) total += level;
  return total;
}

// fib(n) as the workload computes it: returns {value, number of calls (= tasks)}.
inline std::uint64_t fib_value(int n) {
  std::uint64_t a = 0, b = 1;
  for (int i = 0; i < n; ++i) {
    std::uint64_t t = a + b;
    a = b;
    b = t;
  }
  return a;
}
inline std::uint64_t fib_calls(int n) { return 2 * fib_value(n + 1) - 1; }

// The number of ways to place n queens on an n x n board (OEIS A000170), for n up to 16.
inline std::uint64_t nqueens_solutions(int n) {
  static constexpr std::uint64_t known[] = {1, 1, 0, 0, 2, 10, 4, 40, 92, 352, 724, 2'680, 14'200, 73'712, 365'596,
                                            2'279'184, 14'772'512};
  return n >= 0 && n <= 16 ? known[n] : 0;
}

// The UDP rows' datagrams: a sequence number (u64, little-endian) followed by a pattern derived
// from it, so that the receiver checks every byte; acknowledgements are the 8-byte number alone.
inline void put_u64le(unsigned char* p, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
inline std::uint64_t get_u64le(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= std::uint64_t(p[i]) << (8 * i);
  return v;
}
inline void fill_datagram(unsigned char* buf, std::size_t bytes, std::uint64_t seq) {
  put_u64le(buf, seq);
  for (std::size_t i = 8; i < bytes; ++i) buf[i] = static_cast<unsigned char>((seq * 7 + i) & 0xff);
}
// The sequence number of a datagram of exactly `bytes` bytes carrying the right pattern; none for
// any other size or content.
inline std::optional<std::uint64_t> datagram_seq(const unsigned char* buf, std::size_t len, std::size_t bytes) {
  if (len != bytes || len < 8) return std::nullopt;
  const std::uint64_t seq = get_u64le(buf);
  for (std::size_t i = 8; i < len; ++i)
    if (buf[i] != static_cast<unsigned char>((seq * 7 + i) & 0xff)) return std::nullopt;
  return seq;
}
// udp_flood's last datagram: the receiver acknowledges it and stops.
inline constexpr std::uint64_t flood_end = ~std::uint64_t{0};

// udp_flood's receiving side: what arrived, checked and counted once per sequence number.
struct FloodTally {
  FloodTally(std::uint64_t n, std::uint64_t window) : n(n), window(window), seen(n) {}
  std::uint64_t n, window;
  std::uint64_t received = 0, duplicates = 0, malformed = 0;
  bool ended = false;  // the end marker arrived
  std::vector<bool> seen;

  // Counts one datagram; returns the acknowledgement it calls for, if any: the number of the
  // last datagram of a window (or of the flood), or the end marker.
  std::optional<std::uint64_t> record(const unsigned char* buf, std::size_t len, std::size_t bytes) {
    const auto seq = datagram_seq(buf, len, bytes);
    if (seq == flood_end) {
      ended = true;
      return seq;
    }
    if (!seq || *seq >= n) {
      ++malformed;
      return std::nullopt;
    }
    if (seen[*seq]) {
      ++duplicates;
    } else {
      seen[*seq] = true;
      ++received;
    }
    if ((*seq + 1) % window == 0 || *seq + 1 == n) return seq;
    return std::nullopt;
  }

  // The figure: datagrams received per second. Losses are reported, not failed (the rate counts
  // what arrived); a duplicate, a malformed datagram or an unacknowledged end fails the check.
  Figure figure(double seconds, std::uint64_t ack_timeouts, bool end_acked, const std::string& how) const {
    return Figure{"udp_flood_64B", double(received) / seconds, "msg/s",
                  end_acked && received > 0 && duplicates == 0 && malformed == 0,
                  "received " + std::to_string(received) + " of " + std::to_string(n) + " (lost " +
                      std::to_string(n - received) + "), " + std::to_string(duplicates) + " duplicate, " +
                      std::to_string(malformed) + " malformed, " + std::to_string(ack_timeouts) +
                      " ack timeouts, end acknowledged: " + (end_acked ? "true" : "false") + " (" + how + ")"};
  }
};

inline const std::vector<std::string>& all_workloads() {
  static const std::vector<std::string> names = {
      "spawn_many_100k",
      "yield_many_200x1000",
      "ping_pong_100k",
      "chained_spawn_1000x100",
      "mpsc_4x250k_cap1024",
      "mpsc_4x2500k_cap1024",
      "mpsc_1x1M_cap1024",
      "semaphore_1000t_10p_x100",
      "timers_5k",
      "timers_100k",
      "tcp_echo_50c_x2000_64B",
      "skynet_1M",
      "skynet_100M",
      "fib_30",
      "nqueens_14",
      "call_soon_50k",
      "loop_overhead_10k",
      "udp_pingpong_64B",
      "udp_flood_64B",
      "broadcast_1to8_100k",
      "watch_100k",
      "race_100k"};
  return names;
}

inline std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 8);
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  return out;
}

// Prints one protocol line. `value` < 0 or NaN is printed as null.
inline void emit(const Args& a, const Figure& f) {
  char num[64];
  if (f.value >= 0 && f.value == f.value)
    std::snprintf(num, sizeof num, "%.6g", f.value);
  else
    std::snprintf(num, sizeof num, "null");
  std::printf(
      "{\"workload\": \"%s\", \"workers\": %d, \"value\": %s, \"unit\": \"%s\", \"ok\": %s, "
      "\"detail\": \"%s\", \"scale\": \"%s\"}\n",
      json_escape(f.workload).c_str(), a.workers, num, json_escape(f.unit).c_str(),
      f.ok ? "true" : "false", json_escape(f.detail).c_str(), a.small ? "small" : "full");
  std::fflush(stdout);
}

[[noreturn]] inline void usage(const char* argv0, const char* why) {
  std::fprintf(stderr, "%s: %s\nusage: %s <workload> <workers> [--scale small|full] [--warm]\n", argv0, why,
               argv0);
  std::exit(2);
}

inline Args parse_args(int argc, char** argv) {
  Args a;
  std::vector<std::string> pos;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--scale" && i + 1 < argc) {
      std::string v = argv[++i];
      if (v != "small" && v != "full") usage(argv[0], "--scale takes small or full");
      a.small = v == "small";
    } else if (s == "--scale=small") {
      a.small = true;
    } else if (s == "--scale=full") {
      a.small = false;
    } else if (s == "--warm") {
      a.warm = true;
    } else if (s == "--list") {
      for (auto& n : all_workloads()) std::printf("%s\n", n.c_str());
      std::exit(0);
    } else {
      pos.push_back(s);
    }
  }
  if (pos.size() != 2) usage(argv[0], "expected <workload> <workers>");
  a.workload = pos[0];
  char* end = nullptr;
  long w = std::strtol(pos[1].c_str(), &end, 10);
  if (!end || *end || w < 1 || w > 1024) usage(argv[0], "workers must be a positive integer");
  a.workers = static_cast<int>(w);
  return a;
}

// Emits a "not implemented" line for the workload and returns the matching exit code.
inline int not_implemented(const Args& a, const std::string& why) {
  Figure f{a.workload, -1, "", false, "not implemented: " + why};
  emit(a, f);
  return 2;
}

// Emits every figure; returns the process exit code (0 all ok, 1 a check failed).
inline int emit_all(const Args& a, const std::vector<Figure>& figs) {
  bool ok = !figs.empty();
  for (auto& f : figs) {
    emit(a, f);
    ok = ok && f.ok;
  }
  return ok ? 0 : 1;
}

}  // namespace compare
