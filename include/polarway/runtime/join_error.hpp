// Why awaiting a join_handle gave no value: the task was cancelled (aborted, its join_set
// dropped, or the runtime shut down before it finished) or it panicked (an exception escaped
// it; only possible when exceptions are enabled).
#pragma once

#include <string>

namespace polarway {

class join_error {
 public:
  enum class kind { cancelled, panicked };

  explicit join_error(kind k) noexcept : kind_(k) {}
  static join_error make_cancelled() noexcept { return join_error(kind::cancelled); }
  static join_error make_panicked() noexcept { return join_error(kind::panicked); }

  kind which() const noexcept { return kind_; }
  /// The task was cancelled before it finished.
  bool cancelled() const noexcept { return kind_ == kind::cancelled; }
  bool is_cancelled() const noexcept { return cancelled(); }
  /// An exception escaped the task.
  bool panicked() const noexcept { return kind_ == kind::panicked; }
  bool is_panicked() const noexcept { return panicked(); }
  std::string message() const { return cancelled() ? "task was cancelled" : "task panicked"; }

  friend bool operator==(const join_error&, const join_error&) = default;

 private:
  kind kind_;
};

}  // namespace polarway
