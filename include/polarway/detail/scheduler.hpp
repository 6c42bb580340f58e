// The work-stealing scheduler behind pw::runtime: worker threads, their run queues, the global
// inject queue, parking, and the life cycle of a task_cell from spawn to completion.
//
// Where a runnable task goes:
//   spawned on a worker        -> that worker's deque (bottom; LIFO, so fork-join runs depth-first)
//   woken on a worker          -> that worker's LIFO slot (the previous occupant moves to the deque)
//   yielded, or woken while running, or past the LIFO cap
//                              -> that worker's deferred FIFO list, moved to the deque when the
//                                 deque runs dry or every `fairness_interval` ticks
//   spawned or woken elsewhere -> the inject queue
// What a worker runs next: every `fairness_interval` ticks the inject queue first, then the
// oldest entry of its own deque if it has waited `starvation_limit` (so LIFO order cannot
// starve old work, nor break a fork-join tree's depth-first walk); otherwise the LIFO slot
// (at most `lifo_cap` times in a row, so two tasks waking each other cannot monopolise the
// worker), then its deque, then the inject queue, then the deferred list; then it steals from
// a random other worker; then it parks.
#pragma once

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "polarway/detail/await_chain.hpp"
#include "polarway/detail/blocking_pool.hpp"
#include "polarway/detail/chase_lev_deque.hpp"
#include "polarway/detail/flight_recorder.hpp"
#include "polarway/detail/context.hpp"
#include "polarway/detail/idle.hpp"
#include "polarway/detail/inject_queue.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/detail/reactor.hpp"
#include "polarway/detail/stall_watchdog.hpp"
#include "polarway/detail/task_cell.hpp"
#include "polarway/detail/task_registry.hpp"
#include "polarway/detail/timer_queue.hpp"
#include "polarway/detail/worker_counters.hpp"
#include "polarway/runtime/task_info.hpp"

namespace polarway::detail {

class scheduler;
struct worker;

// Fork-join children that finished on one worker and are not yet subtracted from their group's
// atomic count of unfinished children (fork_group in join_all.hpp): consecutive children of
// one group, run by one worker, are counted there with one atomic operation, not one each.
// The worker settles them (`settle`) before it runs a task that is not another child of the
// same group, and before it looks for work elsewhere or parks (and so before it exits, which
// it does only from there); the group settles them at once when they are all that is left of
// it. Until then the parent cannot resume, and it is waiting for these very children, so the
// group is alive.
struct pending_arrivals {
  void* group = nullptr;
  std::size_t count = 0;
  void (*apply)(void* group, std::size_t count) noexcept = nullptr;

  void settle() noexcept {
    if (!group) return;
    void* g = std::exchange(group, nullptr);
    apply(g, std::exchange(count, 0));
  }
};

struct worker {
  worker(scheduler* s, std::size_t i, std::size_t workers, std::size_t deque_capacity, std::size_t deque_max_capacity)
      : sched(s), index(i), deque(deque_capacity, deque_max_capacity), counters(workers) {}

  scheduler* const sched;
  const std::size_t index;
  chase_lev_deque<task_cell*> deque;
  task_cell* lifo = nullptr;
  int lifo_runs = 0;
  // The last child of the fork this worker just started: it runs next, before the LIFO slot and
  // the deque, as if the parent had called it, and no other worker can take it (they can take
  // its siblings). Filled only by start_children, whose caller suspends at once, so it is empty
  // whenever the worker looks for work elsewhere or goes idle.
  task_cell* next_child = nullptr;
  task_cell* deferred_head = nullptr;
  task_cell* deferred_tail = nullptr;
  std::uint32_t tick = 0;
  std::uint32_t rng;
  // The deque's oldest entry at the last fairness tick, and since when it has been the oldest.
  std::int64_t oldest_index = -1;
  clock::time_point oldest_since{};
  bool searching = false;
  // How long this worker's idle spells have lasted lately (from running out of work to finding
  // some of its own; see note_idle_spell), an average weighted to the latest; starts long, so
  // that a fresh worker parks.
  std::int64_t idle_spell_ns = std::numeric_limits<std::int32_t>::max();
  pending_arrivals arrivals;
  // The clock as this worker last read it (clock_ns), which new tasks spawned here take as
  // their birth: a spawn does not read the clock. The worker reads it at least every
  // `fairness_interval` runs and whenever it runs out of work, so it lags by at most the
  // current run and the 60 before it.
  std::int64_t clock_seen_ns = 0;
  // The run in progress, for the stall detector and task dumps on other threads: the task
  // (an identity, never dereferenced there) and its spawn site. Set as each run starts and
  // cleared when the worker runs out of work, not after each run (a store per run saved):
  // the scheduling steps between two runs, a few queue operations, count as part of the first.
  std::atomic<task_cell*> running_cell{nullptr};
  std::atomic<std::uint64_t> running_site{0};
  // The flight recorder's ring of this worker's recent events; null when it is off. With it
  // on, the reactor's completions already recorded (note_io_collected).
  std::unique_ptr<event_ring> trace;
  std::uint64_t completions_recorded = 0;
  std::unique_ptr<reactor> io;  // created on the worker's own thread
  timer_queue timers;
  worker_counters counters;
  std::thread thread;

  std::uint32_t next_random() noexcept {  // xorshift32: victim selection only
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
  }
};

class scheduler : public scheduler_entry {
 public:
  static constexpr std::uint32_t fairness_interval = 61;
  static constexpr int lifo_cap = 3;
  // A full deque moves half its tasks to the inject queue, from which other workers take them
  // in batches (a thief steals one task per compare-exchange). The only worker of a runtime has
  // nobody to share with, and there the round trip through the inject queue's lock and list
  // cost a quarter of a burst of spawns (spawn_many_100k: about 150 ns per task, 125 with
  // growth): its deque grows instead, up to solo_deque_max_capacity (8 MiB of pointers, for a
  // million queued tasks whose frames take a few hundred MB).
  static constexpr std::size_t deque_capacity = 4096;
  static constexpr std::size_t solo_deque_max_capacity = std::size_t{1} << 20;
  static constexpr std::chrono::milliseconds starvation_limit{10};
  // How long an idle worker spins before parking when its recent idle spells were shorter
  // (spin_while_work_is_near): longer than waking a parked thread takes on a VM.
  static constexpr std::chrono::microseconds spin_window{50};

  /// Starts `workers` threads, each creating its reactor on its own thread; returns once all
  /// are ready. Panics if a worker cannot create any reactor (not even epoll).
  /// The blocking pool starts up to `max_blocking_threads`, each exiting after
  /// `blocking_keep_alive` idle.
  scheduler(std::size_t workers, backend_kind preferred, bool demanded,
            std::chrono::nanoseconds busy_poll = std::chrono::nanoseconds::zero(),
            std::size_t max_blocking_threads = 512,
            std::chrono::nanoseconds blocking_keep_alive = std::chrono::seconds(10), std::size_t trace_events = 0)
      : scheduler_entry{&scheduler::schedule_entry},
        idle_(workers),
        registry_(workers * 4),
        busy_poll_(busy_poll),
        pool_(max_blocking_threads, blocking_keep_alive) {
    workers_.reserve(workers);
    for (std::size_t i = 0; i < workers; ++i) {
      workers_.push_back(
          std::make_unique<worker>(this, i, workers, deque_capacity, workers == 1 ? solo_deque_max_capacity : deque_capacity));
      workers_.back()->rng = static_cast<std::uint32_t>(0x9e3779b9u * (i + 1));
      if (trace_events != 0) workers_.back()->trace = std::make_unique<event_ring>(trace_events);
    }
    std::vector<result<void>> started(workers);
    {
      std::unique_lock lock(start_mu_);
      for (auto& w : workers_)
        w->thread = std::thread([this, w = w.get(), preferred, demanded, &started] {
          auto io = reactor::create(preferred, demanded);
          {
            std::lock_guard lock(start_mu_);
            if (io)
              w->io = std::move(*io);
            else
              started[w->index] = err(io.error());
            ++started_count_;
          }
          start_cv_.notify_all();
          if (!w->io) return;
          run_worker(*w);
        });
      start_cv_.wait(lock, [&] { return started_count_ == workers; });
    }
    for (auto& r : started) {
      if (!r) {
        {
          std::lock_guard lock(quiet_mu_);
          exit_ = true;  // no task ever ran: nothing to wait for
        }
        stopping_.store(true);
        for (auto& w : workers_)
          if (w->io) w->io->unpark();
        join_workers();
        panic("runtime: cannot create a reactor", r.error().message());
      }
    }
    backend_ = backend_kind::io_uring;
    for (auto& w : workers_)
      if (w->io->kind() != backend_kind::io_uring) backend_ = backend_kind::epoll;
  }

  scheduler(const scheduler&) = delete;
  scheduler& operator=(const scheduler&) = delete;
  ~scheduler() { shutdown(); }

  std::size_t worker_count() const noexcept { return workers_.size(); }
  /// io_uring if every worker got a ring, else epoll.
  backend_kind backend() const noexcept { return backend_; }
  /// The pool for calls that would block a worker: spawn_blocking, and file operations the
  /// reactor cannot wait for.
  blocking_pool& pool() noexcept { return pool_; }

  /// Worker `i`, for metrics (its counters, deque, timers and reactor may be read from any
  /// thread).
  worker& worker_at(std::size_t i) noexcept { return *workers_[i]; }
  std::size_t inject_len() const noexcept { return inject_.len(); }
  /// Tasks created, and of those refused at shutdown without running, from outside the workers.
  std::uint64_t external_spawned() const noexcept { return external_spawned_.load(std::memory_order_relaxed); }
  std::uint64_t external_completed() const noexcept { return external_completed_.load(std::memory_order_relaxed); }

  /// Each worker's flight-recorder events, oldest first (any thread); empty when it is off.
  std::vector<std::vector<trace_event>> trace_snapshots() const {
    std::vector<std::vector<trace_event>> out;
    for (const auto& w : workers_)
      if (w->trace) out.push_back(w->trace->snapshot());
    return out;
  }
  bool tracing() const noexcept { return workers_.front()->trace != nullptr; }

  /// What worker `i` is doing now, for the stall detector (any thread).
  poll_sample sample_worker(std::size_t i) const noexcept {
    const worker& w = *workers_[i];
    poll_sample out;
    out.runs = w.counters.polls.get();
    out.in_run = w.running_cell.load(std::memory_order_relaxed) != nullptr;
    out.site = w.running_site.load(std::memory_order_acquire);
    out.parked = w.counters.parked_since_ns.load(std::memory_order_relaxed) != 0;
    return out;
  }

  /// The live tasks (runtime::dump_tasks, any thread): every listed task, which is every task
  /// that has suspended at least once or was spawned from outside the workers, and the tasks
  /// the workers are running now. A task spawned on a worker is listed when it first suspends;
  /// until then it is queued, and not shown, or running, and shown from its worker's record:
  /// its site and worker, with no age or polls (its cell may be freed meanwhile, so it is not
  /// read). A waiting task's await chain is read while the task is held still (a worker that
  /// takes it meanwhile waits for the read: task_cell::begin_inspection). A listed task is
  /// running if it is the one a worker's record names (a run that has not reached an awaiter
  /// yet leaves the state `notified`, as if queued). The record of a run that has just ended
  /// lasts until the worker starts another or runs out of work, so a task that has just
  /// completed or suspended may still be shown as running.
  std::vector<task_info> dump_tasks() {
    const std::size_t n = workers_.size();
    std::vector<const task_cell*> running(n);
    std::vector<std::uint64_t> running_site(n);
    for (std::size_t i = 0; i < n; ++i) {
      running_site[i] = workers_[i]->running_site.load(std::memory_order_acquire);
      running[i] = workers_[i]->running_cell.load(std::memory_order_relaxed);
    }
    std::vector<bool> listed(n, false);
    std::vector<task_info> out;
    out.reserve(registry_.size() + n);
    const std::int64_t now = clock_ns(clock::now());
    registry_.for_each([&](task_cell& c) {
      task_info t;
      t.site = c.site();
      t.age = std::chrono::nanoseconds(std::max<std::int64_t>(0, now - c.born_ns()));
      t.polls = c.polls();
      t.waiting_on = c.waiting_on();
      const std::uint64_t state = c.state(std::memory_order_relaxed);
      const auto on = std::find(running.begin(), running.end(), &c);
      if (on != running.end()) {
        t.state = task_state::running;
        t.worker = static_cast<std::size_t>(on - running.begin());
        listed[*t.worker] = true;
      } else if (state & task_cell::running) {
        t.state = task_state::running;
      } else if (state & task_cell::notified) {
        t.state = task_state::scheduled;
      } else {
        t.state = task_state::waiting;
        if (c.begin_inspection()) {
          t.await_chain_whole = read_await_chain(c, t.await_chain, task_info::max_await_chain);
          c.end_inspection();
        }
      }
      out.push_back(std::move(t));
    }, [](const task_cell& c) { c.prefetch_resume_point(); });
    for (std::size_t i = 0; i < n; ++i) {
      if (!running[i] || listed[i]) continue;
      task_info t;
      t.site = spawn_site::from_bits(running_site[i]);
      t.state = task_state::running;
      t.worker = i;
      out.push_back(t);
    }
    return out;
  }

  /// Whether the calling thread is one of this scheduler's workers.
  bool on_worker_thread() const noexcept {
    const worker* w = tls_context.current_worker;
    return w && w->sched == this;
  }

  /// Creates a cell for a new task and queues it. Spawned on a worker, it is listed in the
  /// registry only if it ever suspends, and after shutdown it is cancelled when a worker takes
  /// it from the queue. Spawned elsewhere, it is listed now, and after shutdown the frame is
  /// destroyed at once and the cell is returned already complete as cancelled. Either way the
  /// join handle reports join_error::cancelled. `extra_refs` (at least one) are the caller's
  /// references, on top of the runtime's.
  template <class T>
  task_cell* spawn_cell(task<T> t, std::uint64_t extra_state, std::uint32_t extra_refs, spawn_site site) {
    const std::uint64_t state = task_cell::notified | extra_state | (1 + extra_refs) * task_cell::ref_one;
    worker* w = tls_context.current_worker;
    if (w && w->sched == this) [[likely]] {
      task_cell* cell = new_cell(t, state, site, w->clock_seen_ns);
      if (w->trace) [[unlikely]]
        w->trace->record(trace_kind::spawn, site.bits());
      w->counters.spawned.add();
      push_local(*w, cell);  // listed if it ever suspends (go_idle)
      return cell;
    }
    task_cell* cell = new_cell(t, state, site, clock_ns(clock::now()));
    spawn_external(cell);
    return cell;
  }

  /// spawn_cell from a thread that is not one of this runtime's workers: the task is listed
  /// now, so that shutdown finds it. Out of line, so that the spawn from a task (the common
  /// one) does not save the registers this path needs.
  [[gnu::noinline]] void spawn_external(task_cell* cell) {
    external_spawned_.fetch_add(1, std::memory_order_relaxed);
    if (!registry_.insert(cell, next_external_shard_++)) {
      // Shutting down: the task never runs. Its cell completes as cancelled so that a join
      // handle reports it, and the runtime's reference goes, as at the end of a run that never
      // marked the task running. The caller's references (at least one) keep the cell.
      cell->destroy_root();
      external_completed_.fetch_add(1, std::memory_order_relaxed);
      cell->complete_and_release(task_outcome::cancelled, false);
      return;
    }
    push_remote(cell);
  }

  /// Creates the cell of a fork-join child, not yet queued (start_children does that): unlisted,
  /// since it is reachable through its parent, which is; held by its group alone (one
  /// reference), with the group's callback `done(group)` already installed. It carries its
  /// parent's site: a stall report about it names the task that forked it. Its birth is left
  /// at zero: being unlisted, it never appears in a task dump, the one reader of it.
  template <class T>
  task_cell* fork_cell(task<T>& t, void (*done)(void*), void* group, std::uint64_t extra_state,
                       const task_cell& parent) {
    task_cell* cell = new_cell(t,
                               task_cell::notified | task_cell::join_interest | task_cell::join_waker |
                                   task_cell::group_child | extra_state | task_cell::ref_one,
                               parent.site(), 0);
    cell->preset_join_waker(done, group);
    return cell;
  }

  /// The worker of this runtime that the calling thread is, or null: for a fork, whether
  /// start_children will keep the last child on it (see there). Then no child can finish its
  /// run, nor its group's count reach zero, before the forking task has suspended.
  worker* own_worker() const noexcept {
    worker* w = tls_context.current_worker;
    return w && w->sched == this ? w : nullptr;
  }

  /// Queues a fork's children (from fork_cell); `w` is own_worker(). On a worker the last one
  /// goes to its next_child slot, to run next without a trip through the deque, and the others
  /// onto the deque with one publication of `bottom` and at most one wake-up for the lot.
  /// `wake_peers` false: no wake-up at all. The children are still stealable by a worker that
  /// is awake, and this one runs them as soon as the one in next_child suspends; for children
  /// that only wait (pw::race's arms), waking a parked worker to steal them would cost the
  /// waker a wake-up call and find nothing worth running elsewhere.
  void start_children(worker* w, task_cell* const* cells, std::size_t n, bool wake_peers = true) noexcept {
    // Children count as spawned once queued (a fork that failed to create them all releases
    // the ones it made, which never run).
    if (w && n > 0) {
      w->counters.spawned.add(n);
      if (w->next_child) push_local(*w, w->next_child);  // a task forks again before it suspends
      w->next_child = cells[--n];
      const bool was_empty = w->deque.looks_empty();
      if (w->deque.push_all(cells, n)) {
        if (was_empty && n > 0 && wake_peers) notify_peers();
      } else {  // more than the ring has room for: one by one, growing it or overflowing
        for (std::size_t i = 0; i < n; ++i) push_local(*w, cells[i]);
      }
      return;
    }
    external_spawned_.fetch_add(n, std::memory_order_relaxed);
    for (std::size_t i = 0; i < n; ++i) push_remote(cells[i]);
  }

  /// Queues a cell that transition_to_notified()/transition_to_cancelled() said must be queued.
  void schedule_woken(task_cell* cell) noexcept {
    worker* w = tls_context.current_worker;
    if (w && w->sched == this) {
      if (w->lifo_runs < lifo_cap) {
        task_cell* displaced = w->lifo;
        w->lifo = cell;
        if (displaced) push_local(*w, displaced);
      } else {
        push_deferred(*w, cell);
      }
      return;
    }
    push_remote(cell);
  }

  static void schedule_entry(task_cell* cell) noexcept { cell->sched<scheduler>()->schedule_woken(cell); }

  /// Aborts a task from any thread.
  void abort(task_cell* cell) noexcept {
    if (cell->transition_to_cancelled()) schedule_woken(cell);
  }

  /// Stops accepting tasks, cancels every task, waits for them, and joins the workers.
  /// Idempotent.
  ///
  /// Shutdown. Every task is then in one of three places: listed (it has suspended, or was
  /// spawned from outside), which close_and_abort_all cancels; in a worker's queue, never run,
  /// which the worker cancels when it takes it (shut_down_ is set); or running on a worker, which lists
  /// it if the run ends with it suspended, and cancels it itself if the registry has closed
  /// meanwhile. Fork-join children follow their parent. The workers keep running until they
  /// are all parked at once with nothing listed (park_at_shutdown): no task is left then, and
  /// none can appear, since every source of work (a running task, an I/O completion or wake-up
  /// for a listed task) is gone.
  void shutdown() {
    if (shut_down_.exchange(true)) {
      join_workers();
      return;
    }
    if (on_worker_thread()) panic("runtime shutdown", "called from inside one of the runtime's own tasks");
    registry_.close_and_abort_all([this](task_cell* c) { abort(c); });
    stopping_.store(true, std::memory_order_seq_cst);
    for (auto& w : workers_) w->io->unpark();
    join_workers();
  }

  bool is_shut_down() const noexcept { return shut_down_.load(std::memory_order_acquire); }

 private:
  void join_workers() {
    std::lock_guard lock(join_mu_);
    for (auto& w : workers_)
      if (w->thread.joinable()) w->thread.join();
  }

  // The task leaves `t` only once its cell exists, so that a failed allocation leaves it there.
  template <class T>
  task_cell* new_cell(task<T>& t, std::uint64_t initial_state, spawn_site site, std::int64_t born_ns) {
    if (!t.valid()) [[unlikely]]
      panic("spawning a task (pw::spawn, join_all, when_all, timeout, join_set)",
            "the task is empty: default-constructed, or moved from");
    auto root = t.handle();
    task_cell* cell = task_cell::create(this, root, &output_ops_for<T>, initial_state, site, born_ns);
    (void)t.release();
    return cell;
  }

  // From a thread that is not one of this runtime's workers: the inject queue, and a parked
  // worker woken to take it.
  void push_remote(task_cell* cell) noexcept {
    inject_.push(cell);
    notify_parked();
  }

  // Onto the owner's deque, where other workers can steal it; half the deque moves to the
  // inject queue when it is full. Only a push onto an empty deque needs to wake an idle worker:
  // a non-empty deque is either being stolen from already or was visible to the last searcher
  // before it parked (it re-checks every deque), so later pushes would only pay the fence.
  void push_local(worker& w, task_cell* cell) noexcept {
    using result = chase_lev_deque<task_cell*>::push_result;
    const result r = w.deque.push_noting_empty(cell);
    if (r == result::pushed) [[likely]]
      return;
    if (r == result::full)
      push_after_overflow(w, cell);  // then the deque holds half its capacity: no wake-up
    else
      notify_peers();
  }

  // The rare paths of a push are out of line (as are the deque's growth and notify_parked), so
  // that the common one, once per spawn, stays short: with them inlined, g++ 12 made it save
  // six registers and keep five values on the stack; now it saves five and keeps none there.
  [[gnu::noinline]] void push_after_overflow(worker& w, task_cell* cell) noexcept {
    do overflow_half(w);
    while (!w.deque.push(cell));
  }

  void overflow_half(worker& w) noexcept {
    task_cell* first = nullptr;
    task_cell* last = nullptr;
    // The oldest half, in one claim (FIFO order is kept).
    const std::size_t n = w.deque.take_oldest(w.deque.capacity() / 2, [&](task_cell* c) {
      c->next = nullptr;
      if (last)
        last->next = c;
      else
        first = c;
      last = c;
    });
    if (n) {
      inject_.push_batch(first, last, n);
      w.counters.overflowed.add(n);
    }
  }

  void push_deferred(worker& w, task_cell* cell) noexcept {
    cell->next = nullptr;
    if (w.deferred_tail)
      w.deferred_tail->next = cell;
    else
      w.deferred_head = cell;
    w.deferred_tail = cell;
  }

  // Moves the deferred list to the deque so that its oldest entry is taken first, and wakes a
  // parked worker for it. `taking_one`: the caller's deque was empty and it takes a task from
  // it next; then a worker is woken only if more than that one was deferred. A lone deferred
  // task (one yielding, or a channel's receiver woken during its run) runs here at once, and
  // waking a worker to steal it costs the waker a wake-up call and ends the woken worker's
  // idle spell with nothing found.
  bool flush_deferred(worker& w, bool taking_one = false) noexcept {
    task_cell* c = w.deferred_head;
    if (!c) return false;
    const bool lone = c == w.deferred_tail;
    w.deferred_head = w.deferred_tail = nullptr;
    // Reverse the chain, then push newest first: take() pops from the bottom.
    task_cell* reversed = nullptr;
    while (c) {
      task_cell* next = c->next;
      c->next = reversed;
      reversed = c;
      c = next;
    }
    while (reversed) {
      task_cell* next = reversed->next;
      reversed->next = nullptr;
      while (!w.deque.push(reversed)) overflow_half(w);
      reversed = next;
    }
    if (!(taking_one && lone)) notify_peers();
    return true;
  }

  [[gnu::noinline]] void notify_parked() noexcept {
    const std::size_t index = idle_.worker_to_notify();
    if (index != idle_state::none) workers_[index]->io->unpark();
  }

  // After a worker queued work on its own deque: the only worker of a runtime is the one
  // running, so it has nobody to wake, and skips notify_parked's fence (chained_spawn on one
  // worker paid 6% of its time for it).
  void notify_peers() noexcept {
    if (workers_.size() > 1) notify_parked();
  }

  // I/O completions and due timers: their tasks land in this worker's queues.
  void poll_events(worker& w, clock::time_point now = clock::now()) noexcept {
    w.clock_seen_ns = clock_ns(now);
    w.io->poll();
    if (w.trace) [[unlikely]]
      note_io_collected(w);
    w.timers.fire_due(now);
  }

  // The flight recorder on: the reactor's completions since the last record (those collected
  // by this poll or park, and any collected meanwhile, as a submission does on io_uring).
  [[gnu::noinline]] static void note_io_collected(worker& w) noexcept {
    const std::uint64_t total = w.io->counts().completions;
    if (total == w.completions_recorded) return;
    w.trace->record(trace_kind::io_collected, total - w.completions_recorded);
    w.completions_recorded = total;
  }

  // The oldest entry of the worker's own deque, if it has waited there for `starvation_limit`
  // (seen at fairness ticks): LIFO order must not starve it, e.g. behind a chain of tasks that
  // each spawn the next. Taking it any sooner breaks the depth-first walk of a fork-join tree,
  // whose oldest entry is its largest unexplored subtree: taking it every fairness tick kept
  // hundreds of thousands of subtrees open at once in skynet (135 MB peak for 10 M leaves,
  // against 7 MB) and cost a third of its speed. A thief or an overflow that takes the entry
  // first restarts the clock.
  task_cell* take_starved(worker& w, clock::time_point now) noexcept {
    const std::int64_t top = w.deque.top_index();
    if (w.deque.looks_empty() || top != w.oldest_index) {
      w.oldest_index = top;
      w.oldest_since = now;
      return nullptr;
    }
    if (now - w.oldest_since < starvation_limit) return nullptr;
    w.oldest_since = now;  // the next oldest entry waits its own limit
    auto [c, status] = w.deque.steal();
    return status == chase_lev_deque<task_cell*>::steal_status::success ? c : nullptr;
  }

  // Once per task. The rare paths (the fairness tick, a dry deque) are out of line and reached
  // by tail calls, so that the common one needs no stack frame: with the tick's work inline,
  // g++ 12 saved and restored six registers on every call.
  task_cell* next_local(worker& w) noexcept {
    if (++w.tick % fairness_interval == 0) [[unlikely]]
      return fairness_tick(w);
    return next_queued(w);
  }

  // Every `fairness_interval` ticks: I/O and timers, the inject queue, the deferred list and a
  // starved deque entry get their turn before the worker's usual order.
  [[gnu::noinline]] task_cell* fairness_tick(worker& w) noexcept {
    const clock::time_point now = clock::now();
    poll_events(w, now);
    if (task_cell* c = inject_.pop()) return c;
    flush_deferred(w);
    if (task_cell* c = take_starved(w, now)) return c;
    return next_queued(w);
  }

  // The fork's next child, the LIFO slot (capped), then the worker's own deque.
  task_cell* next_queued(worker& w) noexcept {
    if (w.next_child) return std::exchange(w.next_child, nullptr);
    if (w.lifo) {
      if (w.lifo_runs < lifo_cap) {
        ++w.lifo_runs;
        w.counters.lifo_hits.add();
        return std::exchange(w.lifo, nullptr);
      }
      push_deferred(w, std::exchange(w.lifo, nullptr));
    }
    w.lifo_runs = 0;
    if (task_cell* c = take_own(w)) return c;
    return next_after_own(w);
  }

  // The worker's own deque is empty: the inject queue, then the deferred list.
  [[gnu::noinline]] task_cell* next_after_own(worker& w) noexcept {
    if (task_cell* c = take_from_inject(w)) return c;
    // Yielded tasks last: they asked to let everything else that was waiting go first.
    if (flush_deferred(w, /*taking_one=*/true)) return take_own(w);
    return nullptr;
  }

  // The only worker of a runtime has no thieves, so its takes skip the deque's locked exchange
  // (3-7% of a fork-join workload on one worker).
  task_cell* take_own(worker& w) noexcept { return workers_.size() > 1 ? w.deque.take() : w.deque.take_unshared(); }

  // Takes a batch from the inject queue: the first to run now, the rest onto the deque.
  task_cell* take_from_inject(worker& w) noexcept {
    task_cell* first = nullptr;
    const std::size_t max = std::max<std::size_t>(1, std::min(inject_.len() / workers_.size() + 1, deque_capacity / 2));
    inject_.pop_batch(max, [&](task_cell* c) {
      if (!first)
        first = c;
      else if (!w.deque.push(c))
        push_deferred(w, c);
    });
    return first;
  }

  task_cell* steal_work(worker& w) noexcept {
    if (!w.searching) {
      if (!idle_.transition_to_searching()) return nullptr;
      w.searching = true;
    }
    task_cell* found = nullptr;
    const std::size_t n = workers_.size();
    const std::size_t start = w.next_random() % n;
    for (std::size_t i = 0; i < n && !found; ++i) {
      worker& victim = *workers_[(start + i) % n];
      if (&victim == &w) continue;
      for (;;) {
        w.counters.steal_attempts.add();
        auto [c, status] = victim.deque.steal();
        if (status == chase_lev_deque<task_cell*>::steal_status::success) {
          found = c;
          w.counters.steals.add();
          w.counters.tasks_stolen_from[victim.index].add();
          if (w.trace) [[unlikely]]
            w.trace->record(trace_kind::steal, victim.index);
        }
        if (status != chase_lev_deque<task_cell*>::steal_status::lost_race) break;
      }
    }
    if (!found) found = take_from_inject(w);
    return found;
  }

  // A searching worker that found something to run stops searching; if it was the last
  // searcher it wakes another worker, since there may be more work where this came from.
  void end_search(worker& w) noexcept {
    if (!w.searching) return;
    w.searching = false;
    if (idle_.transition_from_searching()) notify_parked();
  }

  bool work_anywhere() const noexcept {
    if (!inject_.looks_empty()) return true;
    for (const auto& w : workers_)
      if (!w->deque.looks_empty()) return true;
    return false;
  }

  // runtime_options::busy_poll: before parking, an idle worker keeps collecting I/O and timers
  // and looking at every queue for up to busy_poll_, because waking a parked thread costs tens of
  // microseconds (over a hundred on a VM whose idle vCPU the host must reschedule). At most half
  // the workers (at least one) poll at once, so the others stay free for whoever shares the
  // machine. True when it found something to run (here or to steal), or shutdown began. A
  // poller that was searching stays counted as a searcher: notify_parked leaves the work it
  // sees to it.
  bool busy_poll(worker& w) noexcept {
    if (busy_poll_.count() == 0) return false;
    if (pollers_.fetch_add(1, std::memory_order_relaxed) >= std::max<std::size_t>(1, workers_.size() / 2)) {
      pollers_.fetch_sub(1, std::memory_order_relaxed);
      return false;
    }
    const bool found = poll_until(w, clock::now() + busy_poll_);
    pollers_.fetch_sub(1, std::memory_order_relaxed);
    return found;
  }

  // The default idle policy (busy_poll zero): a worker whose recent idle spells ended soon, and
  // by events of its own (an I/O completion in its reactor, a timer of its own), spins, polling
  // as busy_poll does, for up to spin_window before it parks: that work is likely to come back
  // sooner than a parked thread could be woken. It is the case of a dependent hand-off through
  // the kernel (a datagram answered by a task on the other worker, whose reply completes here):
  // each step otherwise pays the wake-up of a parked thread, tens of microseconds, more than
  // the step. A spell that ends with work found elsewhere (another worker's deque, the inject
  // queue) counts as long: stealing gains nothing from spinning, and a worker spinning to
  // steal from a busy one moves tasks between cores that one worker alone ran faster. A
  // worker whose spells are long parks at once, so an idle runtime burns nothing. Every worker
  // may spin; each yields its core between polls to whatever else is runnable there.
  bool spin_while_work_is_near(worker& w, clock::time_point idle_since, bool& found_own) noexcept {
    if (busy_poll_.count() != 0 || w.idle_spell_ns >= std::chrono::nanoseconds(spin_window).count()) return false;
    if (!poll_until(w, idle_since + spin_window)) return false;
    found_own = w.lifo || !w.deque.looks_empty();
    return true;
  }

  // A steady-clock time as nanoseconds since the clock's epoch (boot): never 0 in practice, so
  // worker_counters can use 0 for "not parked".
  static std::int64_t clock_ns(clock::time_point t) noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  }

  // A spell that ended with work of the worker's own counts as it lasted; any other as long.
  static void note_idle_spell(worker& w, clock::duration spell, bool own) noexcept {
    constexpr std::int64_t long_spell = std::numeric_limits<std::int32_t>::max();
    const std::int64_t ns =
        own ? std::min<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(spell).count(), long_spell)
            : long_spell;
    w.idle_spell_ns = (3 * w.idle_spell_ns + ns) / 4;
  }

  // Polls I/O and timers and looks at every queue until there is something to run or
  // `deadline`; true if there is (or shutdown began).
  bool poll_until(worker& w, clock::time_point deadline) noexcept {
    for (clock::time_point now = clock::now(); now < deadline; now = clock::now()) {
      poll_events(w, now);
      if (w.lifo || work_anywhere() || stopping_.load(std::memory_order_acquire)) return true;
      // Let a thread that shares this core run now rather than when the poller's time slice
      // ends: on a 2-core machine shared with the feed, a poller that did not yield raised the
      // tick pipeline's p99 at 100k ticks/s from under 100 us to over 1 ms.
      ::sched_yield();
    }
    return false;
  }

  // Parks until woken; true if the worker woke on its own (I/O or a timer), false if a
  // notifier woke it to look for work.
  bool park_worker(worker& w) {
    const bool was_searching = std::exchange(w.searching, false);
    if (idle_.transition_to_parked(w.index, was_searching) && work_anywhere()) notify_parked();
    const clock::time_point parked_at = clock::now();
    w.counters.parks.add();
    w.counters.parked_since_ns.store(clock_ns(parked_at), std::memory_order_relaxed);
    if (w.trace) [[unlikely]]
      w.trace->record(trace_kind::park, 0);
    w.io->wait(w.timers.ns_until_next(parked_at));
    const clock::time_point woke_at = clock::now();
    w.counters.parked_ns.add(static_cast<std::uint64_t>(clock_ns(woke_at) - clock_ns(parked_at)));
    w.counters.parked_since_ns.store(0, std::memory_order_relaxed);
    w.clock_seen_ns = clock_ns(woke_at);
    w.timers.fire_due(woke_at);
    // Woken by a notifier: it counted us as a searcher. Woken by I/O or a timer: we have
    // local work, and take ourselves off the sleeper list.
    const bool own = idle_.unpark_self(w.index);
    if (w.trace) [[unlikely]] {
      w.trace->record(trace_kind::unpark, own ? 0 : 1);
      note_io_collected(w);
    }
    if (own) return true;
    w.counters.notified_wakeups.add();
    w.searching = true;
    return false;
  }

  void run_worker(worker& w) {
    tls_context.current_worker = &w;
    tls_context.forced_yields = &w.counters.forced_yields;
    w.clock_seen_ns = clock_ns(clock::now());
    w.counters.started_ns.store(w.clock_seen_ns, std::memory_order_relaxed);
    tls_root_completion.capture = &task_cell::capture_at_final;
    // The flight recorder is on or off for the worker's life: each way has a loop of its own,
    // so that a run pays no test for it.
    if (w.trace)
      run_loop<true>(w);
    else
      run_loop<false>(w);
    w.io->quiesce();
    tls_context.current_worker = nullptr;
    tls_context.forced_yields = nullptr;
  }

  template <bool traced>
  void run_loop(worker& w) {
    for (;;) {
      task_cell* c = next_local(w);
      if (!c) {
        // Out of local work: collect finished I/O and due timers before looking elsewhere.
        w.io->flush();
        poll_events(w);
        c = next_local(w);
      }
      if (w.arrivals.group) [[unlikely]]
        c = settle_arrivals_before(w, c);
      if (!c) c = steal_work(w);
      if (c) {
        end_search(w);
        // For watchers on other threads (the stall detector, task dumps), which read these
        // and the count without ordering between them: they act only on a run seen unchanged
        // across a whole sampling interval. The site is released, as a plain store on x86-64,
        // so that a watcher that acquires it may read the name it points to (interned by
        // whichever thread spawned the task).
        const std::uint64_t site = c->site_bits();
        w.running_site.store(site, std::memory_order_release);
        w.running_cell.store(c, std::memory_order_relaxed);
        w.counters.polls.add();
        c->count_poll();
        // The run's beginning and end, by the site read above (the cell may be gone by the end).
        if constexpr (traced) w.trace->record(trace_kind::run_begin, site);
        run_task(w, c);
        if constexpr (traced) w.trace->record(trace_kind::run_end, site);
        continue;
      }
      w.running_cell.store(nullptr, std::memory_order_relaxed);
      if (stopping_.load(std::memory_order_acquire)) {
        if (park_at_shutdown(w)) break;
        continue;
      }
      const clock::time_point idle_since = clock::now();
      bool own = false;
      if (!busy_poll(w) && !spin_while_work_is_near(w, idle_since, own)) own = park_worker(w);
      note_idle_spell(w, clock::now() - idle_since, own);
    }
  }

  // The worker is about to run `next` (null: it has nothing local left): the fork-join arrivals
  // it holds back are settled, unless `next` is another child of the same group. Returns what
  // to run: with nothing local left, settling may have woken the parent into this worker's
  // LIFO slot.
  [[gnu::noinline]] task_cell* settle_arrivals_before(worker& w, task_cell* next) noexcept {
    if (next && next->is_fork_child_of(w.arrivals.group)) return next;
    w.arrivals.settle();
    return next ? next : next_local(w);
  }

  // A worker with nothing to do once shutdown has begun. True when it may exit: every worker
  // has reached this point with nothing to do, at the same time, and no task is listed. A
  // worker counts here only while it is parked (it leaves the count as soon as it wakes),
  // so the last one in knows that no other holds or runs a task.
  bool park_at_shutdown(worker& w) {
    {
      std::lock_guard lock(quiet_mu_);
      if (exit_) return true;
      if (++quiet_ == workers_.size() && registry_.empty() && inject_.looks_empty()) {
        exit_ = true;
        for (auto& other : workers_)
          if (other.get() != &w) other->io->unpark();
        return true;
      }
    }
    park_worker(w);
    std::lock_guard lock(quiet_mu_);
    --quiet_;
    return exit_;
  }

  // A run starts with a plain load of the state, not the notified -> running transition: the
  // task stays `notified` while it runs, which to wakers and abort() looks the same as queued
  // (neither queues it again), and the transition is made only if the task reaches an awaiter
  // that may be woken: current_task_or_panic() makes it before the awaiter can register the
  // cell anywhere (see mark_running). A run that ends without one, such as most runs of a
  // fork-join child or of a spawned task that never waits, saves that atomic operation; the
  // run's end then works from `notified` (finish, go_idle). Always inlined: in the worker's
  // loop, which the compiler would otherwise leave calling it from each of the two loops.
  [[gnu::always_inline]] void run_task(worker& w, task_cell* cell) noexcept {
    // Shutting down: a task taken from a queue now is cancelled, whether it was listed (and
    // aborted already) or never ran.
    if (shut_down_.load(std::memory_order_relaxed)) [[unlikely]]
      (void)cell->transition_to_cancelled();
    // One test for both rare cases: a task dump is reading the frames (wait for it first), or
    // the task was aborted.
    bool cancelled = false;
    if (cell->state() & (task_cell::cancelled | task_cell::inspected)) [[unlikely]] {
      const std::uint64_t seen = cell->wait_out_inspection();
      cancelled = (seen & task_cell::cancelled) != 0;
      if (cancelled) {
        (void)cell->transition_to_running();
        cancel_hook* hook = cell->cancel_on;
        if (hook && !hook->request_cancel()) {
          go_idle(w, cell, true);  // the hook wakes the task when its frame may be destroyed
          return;
        }
        // The operation is settled now, so whether it completed with a value can no longer
        // change. (Asking before request_cancel() raced: an operation completing between the
        // two calls was "done" for request_cancel and its bytes were dropped.)
        if ((seen & task_cell::soft_cancel) && hook && hook->completed_with_value()) {
          cell->withdraw_cancel();  // the operation won the race: let the task take its value
        } else {
          cell->cancel_on = nullptr;
          cell->destroy_root();
          finish(w, cell, task_outcome::cancelled, true);
          return;
        }
      }
    }
    thread_context& ctx = tls_context;
    ctx.current_task = cell;
    ctx.run_unmarked = !cancelled;
    ctx.budget = coop_budget;
    root_completion& root = tls_root_completion;
    root.frame = cell->root().address();
    root.cell = cell;
    cell->resume_point().resume();
    root.frame = nullptr;
    ctx.current_task = nullptr;
    const bool marked = !std::exchange(ctx.run_unmarked, false);
    if (std::exchange(root.finished, false)) {  // the frame is gone; the cell has the result
      finish(w, cell, cell->outcome(), marked);
      return;
    }
    if (cell->root().done()) [[unlikely]] {  // finished, but suspended at its end after all
      finish(w, cell, cell->capture_result(), marked);
      return;
    }
    go_idle(w, cell, marked);
  }

  // The run ended with the task suspended. `marked`: the task is `running` (see run_task);
  // if not, it is still `notified`, so it registered nowhere and must simply run again.
  void go_idle(worker& w, task_cell* cell, bool marked) noexcept {
    if (cell->awaits_listing()) [[unlikely]]
      list_suspended(w, cell);
    if (!marked || cell->transition_to_idle()) push_deferred(w, cell);
  }

  // A task spawned on a worker suspended for the first time. Listed while it is still
  // `running` here, so that nobody can complete it meanwhile. If shutdown has closed the
  // registry, close_and_abort_all may be past its shard: the task cancels itself (it is
  // running, so this only marks it; it runs again, as cancelled, once it goes idle).
  void list_suspended(worker& w, task_cell* cell) noexcept {
    if (!registry_.insert_suspended(cell, w.index)) (void)cell->transition_to_cancelled();
  }

  // The frame is gone by now (freed as the coroutine ended, or destroyed by capture_result or
  // on cancellation). A fork-join child's cell may be freed by its group as soon as the
  // callback has run.
  // Counted as completed before the join handle can see it, so a snapshot taken by whoever
  // joined it no longer counts it as live.
  void finish(worker& w, task_cell* cell, task_outcome outcome, bool marked) noexcept {
    w.counters.completed.add();
    registry_.remove(cell);
    cell->complete_and_release(outcome, marked);
  }

  std::vector<std::unique_ptr<worker>> workers_;
  // On a line of its own: every wake-up reads scheduler_entry::schedule, at the start of the
  // object, and must not share its line with the queue's lock.
  alignas(64) inject_queue inject_;
  idle_state idle_;
  task_registry registry_;
  std::atomic<std::size_t> next_external_shard_{0};
  std::atomic<std::uint64_t> external_spawned_{0};    // tasks created outside the workers
  std::atomic<std::uint64_t> external_completed_{0};  // of which refused at shutdown, never run
  std::atomic<bool> shut_down_{false};  // set first: every task taken from a queue is cancelled
  std::atomic<bool> stopping_{false};   // set once every listed task was aborted: workers may exit
  const std::chrono::nanoseconds busy_poll_;
  std::atomic<std::size_t> pollers_{0};  // workers in busy_poll() now
  std::mutex quiet_mu_;                 // park_at_shutdown's count and decision
  std::size_t quiet_ = 0;
  bool exit_ = false;
  std::mutex join_mu_;
  std::mutex start_mu_;
  std::condition_variable start_cv_;
  std::size_t started_count_ = 0;
  backend_kind backend_ = backend_kind::epoll;
  blocking_pool pool_;
};

}  // namespace polarway::detail
