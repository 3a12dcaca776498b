#pragma once

#include <atomic>
#include <cstdint>

namespace poolbench {

/// Who may use one process-pool worker: its I/O thread or, while that thread is idle, one
/// submitting thread that sends a call itself and then, when it waits for the result,
/// reads the reply itself. A caller that waits for each result then makes a round trip
/// between two processes, with no third thread to wake on the way. Every change of hands
/// is one atomic step, so the worker always has exactly one holder.
class WorkerLease {
 public:
  enum class Holder : std::uint8_t {
    io,         ///< the I/O thread
    offered,    ///< nobody: the I/O thread is idle, and a submitter may take the worker
    sending,    ///< a submitter, sending its call
    lent,       ///< nobody: a call was sent, and the first to take its reply may
    driven,     ///< a waiter, reading the lent call's reply
    abandoned,  ///< nobody: the lent call is for the I/O thread to finish
    closed,     ///< nobody, for good: the I/O thread has stopped
  };

  Holder holder() const noexcept { return holder_.load(std::memory_order_seq_cst); }
  /// The call that is lent, sent or driven now (an opaque tag), or nullptr.
  const void* call() const noexcept { return call_.load(std::memory_order_acquire); }
  /// How many calls have been lent so far: an I/O thread that finds the same call lent
  /// and the count unchanged after a while knows that nobody is waiting for it.
  std::uint64_t lends() const noexcept { return lends_.load(std::memory_order_acquire); }

  /// I/O thread, idle: io → offered.
  void offer() noexcept;
  /// What `take_back` found.
  enum class Taken { not_yet, worker, worker_and_call };
  /// I/O thread: takes the worker back, with the lent call if there is one (lent or
  /// abandoned → io). `not_yet` while a submitter or waiter holds it: they hold it only
  /// for a bounded time, so try again.
  Taken take_back() noexcept;
  /// I/O thread, holding the worker: io → closed.
  void close() noexcept;

  /// Submitter: offered → sending; false when the worker is not offered.
  bool take() noexcept;
  /// Submitter, after sending `call`: sending → lent. Returns true when the I/O thread
  /// is napping and should be told (see `set_napping`).
  bool lend(const void* call) noexcept;
  /// Submitter that will not send after all: sending → offered.
  void put_back() noexcept;
  /// Submitter whose send failed: sending → abandoned, leaving `call` to the I/O thread.
  void abandon_sending(const void* call) noexcept;

  /// Waiter: lent → driven, only when `call` is the one lent.
  bool drive(const void* call) noexcept;
  /// Waiter: driven → offered once the call has ended, or → abandoned when the I/O
  /// thread must finish it.
  void release(bool call_ended) noexcept;

  /// I/O thread: says whether it sleeps long, so that a lend must wake it.
  void set_napping(bool napping) noexcept;

 private:
  bool change(Holder from, Holder to) noexcept;

  std::atomic<Holder> holder_{Holder::io};
  std::atomic<const void*> call_{nullptr};
  std::atomic<std::uint64_t> lends_{0};
  std::atomic<bool> napping_{false};
};

}  // namespace poolbench
