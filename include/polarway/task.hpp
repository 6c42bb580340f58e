// pw::task<T>: the coroutine type of polarway. Lazy (nothing runs until it is awaited or
// spawned), move-only, and owning its frame: destroying a task that never started, or one that
// finished, frees the frame. Awaiting a task transfers control to it symmetrically, and its
// completion transfers back to the awaiter the same way, so a chain of a million nested awaits
// uses constant stack. Frames come from a per-thread recycling pool (detail/frame_pool.hpp).
//
// Exceptions: with exceptions enabled, an exception escaping the coroutine is stored and
// rethrown to the awaiter (the runtime turns one escaping a spawned task into
// join_error::panicked). Built with -fno-exceptions there is nothing to store.
//
// g++ 12: name the operand before awaiting it when it is a conditional expression. In
// `co_await (c ? a() : b())` g++ 12 destroys the chosen temporary more than once, whether it
// is a task (its frame is freed twice) or an awaiter; clang 14 is right. Write
// `auto t = c ? a() : b(); co_await t;` instead.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include "polarway/detail/frame_pool.hpp"
#include "polarway/detail/panic.hpp"

namespace polarway {

template <class T = void>
class task;

namespace detail {

class task_promise_base;

/// Whether a coroutine whose promise type is Promise is a pw::task whose promise a task dump
/// can find from the frame's address alone: at the offset of the task_promise_base (its first
/// and only base) in any frame, which holds while the promise is aligned no more than the two
/// code pointers a frame starts with (tests/runtime/await_chain_test.cpp checks it).
template <class Promise>
consteval bool promise_found_as_task() {
  if constexpr (std::is_base_of_v<task_promise_base, Promise>) return alignof(Promise) <= 2 * sizeof(void*);
  else return false;  // also for void, a type-erased handle
}
template <class Promise>
inline constexpr bool is_task_promise = promise_found_as_task<Promise>();

/// A coroutine handle that also says whether the coroutine is a pw::task (is_task_promise), in
/// the low bit of the frame's address (a frame holds pointers, so its address is even): set
/// for any other coroutine, so that a task's handle is stored as it is. A task dump reads a
/// frame's promise only when this says it is a task's; any other promise's layout is unknown.
class tagged_handle {
 public:
  tagged_handle() noexcept = default;
  template <class Promise>
  explicit tagged_handle(std::coroutine_handle<Promise> h) noexcept : tagged_handle(known(h, is_task_promise<Promise>)) {}

  std::coroutine_handle<> handle() const noexcept {
    return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(bits_ & ~foreign));
  }
  bool is_task() const noexcept { return (bits_ & foreign) == 0; }
  /// A type-erased handle, with what is known of its coroutine's type.
  static tagged_handle known(std::coroutine_handle<> h, bool is_task) noexcept {
    tagged_handle t;
    t.bits_ = reinterpret_cast<std::uintptr_t>(h.address()) | (is_task ? 0 : foreign);
    return t;
  }
  explicit operator bool() const noexcept { return bits_ != 0; }

 private:
  static constexpr std::uintptr_t foreign = 1;
  std::uintptr_t bits_ = 0;
};

// The root coroutine of the task that this thread's worker is running, set by the scheduler
// for each run (scheduler::run_task). When that coroutine reaches its final suspend, it hands
// its value or exception to `capture` (into the task's cell) and does not suspend: its frame is
// freed on the spot, as the coroutine ends. Suspending instead and leaving the worker to read
// the promise and destroy the frame costs g++ 12 a second entry into the coroutine's body (its
// destroy() goes through the same function as resume(), dispatching on the suspend point): 3%
// of skynet's instructions.
struct root_completion {
  void* frame = nullptr;  // the root's frame; null outside a run
  void* cell = nullptr;
  void (*capture)(void* cell, task_promise_base* promise) noexcept = nullptr;
  bool finished = false;  // set by the root's final suspend; the scheduler reads and clears it
};
inline thread_local constinit root_completion tls_root_completion{};

class task_promise_base {
 public:
  template <class Promise>
  struct final_awaiter {
    Promise* promise;

    bool await_ready() const noexcept {
#if defined(__clang__)
      // clang 14 crashes (SIGSEGV "While splitting coroutine") on a body that ends in a loop
      // around a co_await, e.g. `while (!done) co_await pw::yield_now();`, with this
      // symmetric-transfer final awaiter; an instruction at the start of the final suspend
      // avoids it. Emits no code. See also task::reset.
      asm volatile("");
#endif
      if (promise->continuation_) return false;  // awaited: transfer back to the awaiter
      root_completion& root = tls_root_completion;
      if (root.frame != std::coroutine_handle<Promise>::from_promise(*promise).address())
        return false;  // not a runtime's task (a test driving a coroutine by hand): suspend
      root.capture(root.cell, promise);
      root.finished = true;
      return true;
    }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> self) const noexcept {
      // Resuming the awaiter from here, rather than calling it, is the symmetric transfer that
      // keeps deep await chains off the stack.
      std::coroutine_handle<> next = self.promise().continuation();
      return next ? next : std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };

  std::suspend_always initial_suspend() const noexcept { return {}; }

  static void* operator new(std::size_t size) { return frame_pool::allocate(size); }
  static void operator delete(void* frame, std::size_t size) noexcept {
    frame_pool::deallocate(frame, size);
  }

#if defined(__cpp_exceptions)
  void unhandled_exception() noexcept { exception_ = std::current_exception(); }
  bool has_exception() const noexcept { return static_cast<bool>(exception_); }
  std::exception_ptr exception() const noexcept { return exception_; }
  void rethrow_if_exception() const {
    if (exception_) std::rethrow_exception(exception_);
  }
#else
  [[noreturn]] void unhandled_exception() noexcept { std::abort(); }  // cannot happen
  bool has_exception() const noexcept { return false; }
  void rethrow_if_exception() const noexcept {}
#endif

  /// The coroutine to resume when this one finishes; none for a task the runtime drives.
  /// Whether that coroutine is a task too is kept beside it (Promise is its promise type), so
  /// that a task dump follows the chain of awaiting coroutines only through frames it knows.
  template <class Promise>
  void set_continuation(std::coroutine_handle<Promise> c) noexcept {
    continuation_ = tagged_handle(c);
  }
  std::coroutine_handle<> continuation() const noexcept { return continuation_.handle(); }
  /// The awaiting coroutine, tagged with whether it is a task (for task dumps).
  tagged_handle awaiting_coroutine() const noexcept { return continuation_; }

 private:
  tagged_handle continuation_{};
#if defined(__cpp_exceptions)
  std::exception_ptr exception_;
#endif
};

template <class T>
class task_promise : public task_promise_base {
 public:
  task<T> get_return_object() noexcept;
  final_awaiter<task_promise> final_suspend() noexcept { return {this}; }

  template <class U>
    requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    value_.emplace(std::forward<U>(v));
  }

  T& result() & {
    rethrow_if_exception();
    return *value_;
  }
  T&& result() && {
    rethrow_if_exception();
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
};

template <class T>
class task_promise<T&> : public task_promise_base {
 public:
  task<T&> get_return_object() noexcept;
  final_awaiter<task_promise> final_suspend() noexcept { return {this}; }
  void return_value(T& v) noexcept { value_ = std::addressof(v); }
  T& result() {
    rethrow_if_exception();
    return *value_;
  }

 private:
  T* value_ = nullptr;
};

template <>
class task_promise<void> : public task_promise_base {
 public:
  task<void> get_return_object() noexcept;
  final_awaiter<task_promise> final_suspend() noexcept { return {this}; }
  void return_void() noexcept {}
  void result() const { rethrow_if_exception(); }
};

}  // namespace detail

template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;

  /// An empty task, e.g. to assign over later.
  task() noexcept = default;
  explicit task(handle_type h) noexcept : h_(h) {}
  task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  task(const task&) = delete;
  task& operator=(const task&) = delete;
  ~task() { reset(); }

  /// Whether the task owns a coroutine.
  bool valid() const noexcept { return static_cast<bool>(h_); }
  /// Whether the coroutine has run to completion.
  bool done() const noexcept { return h_ && h_.done(); }

  class awaiter {
   public:
    explicit awaiter(handle_type h) noexcept : h_(h) {}
    bool await_ready() const noexcept { return h_.done(); }
    template <class Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> caller) const noexcept {
      h_.promise().set_continuation(caller);
      return h_;
    }
    decltype(auto) await_resume() const {
      if constexpr (std::is_reference_v<T> || std::is_void_v<T>) return h_.promise().result();
      else return std::move(h_.promise()).result();
    }

   private:
    handle_type h_;
  };

  /// Runs the task to completion and gives its value (moved out of the frame).
  awaiter operator co_await() & noexcept { return awaiter(checked()); }
  awaiter operator co_await() && noexcept { return awaiter(checked()); }

  /// The coroutine, still owned by this task (for the runtime and its drivers).
  handle_type handle() const noexcept { return h_; }
  /// Gives up ownership of the coroutine; the caller must destroy it.
  handle_type release() noexcept { return std::exchange(h_, {}); }

 private:
  handle_type checked() const noexcept {
    if (!h_) [[unlikely]]
      detail::panic("co_await on an empty task");
    return h_;
  }
  void reset() noexcept {
    if (h_) {
      h_.destroy();
#if defined(__clang__)
      // Works around a clang 14 CoroSplit miscompilation (in the pass that turns symmetric
      // transfers into tail calls, addMustTailToCoroResumes). When the awaiting
      // coroutine inlines this task's creation, CoroElide turns this destroy() into a direct
      // `fastcc` call to the child's .cleanup clone. CoroSplit mistakes that call for a
      // symmetric-transfer resume, follows the branches after it along the path where the
      // co_await was destroyed (clang's cleanup destination 2), and constant-folds the shared
      // `cleanup.dest == 3` test that leads to the final suspend for the whole function. The
      // awaiter's .resume clone then has no final suspend: co_return frees the frame and
      // returns, and whoever awaited it is never resumed (the parquet sink's commit() hung
      // this way with -fno-exceptions). An instruction after the call stops that walk; this
      // empty asm emits no code and keeps the elision.
      asm volatile("");
#endif
    }
    h_ = {};
  }

  handle_type h_{};
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise>::from_promise(*this));
}
template <class T>
task<T&> task_promise<T&>::get_return_object() noexcept {
  return task<T&>(std::coroutine_handle<task_promise>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise>::from_promise(*this));
}
}  // namespace detail

}  // namespace polarway
