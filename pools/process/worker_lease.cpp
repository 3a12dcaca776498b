#include "pools/process/worker_lease.hpp"

namespace poolbench {

bool WorkerLease::change(Holder from, Holder to) noexcept {
  return holder_.compare_exchange_strong(from, to, std::memory_order_acq_rel, std::memory_order_acquire);
}

void WorkerLease::offer() noexcept { holder_.store(Holder::offered, std::memory_order_release); }

WorkerLease::Taken WorkerLease::take_back() noexcept {
  Holder now = holder();
  if (now == Holder::io) return Taken::worker;
  if (now == Holder::offered && change(Holder::offered, Holder::io)) return Taken::worker;
  if ((now == Holder::lent || now == Holder::abandoned) && change(now, Holder::io)) {
    call_.store(nullptr, std::memory_order_relaxed);
    return Taken::worker_and_call;
  }
  return Taken::not_yet;
}

void WorkerLease::close() noexcept { holder_.store(Holder::closed, std::memory_order_release); }

bool WorkerLease::take() noexcept { return holder() == Holder::offered && change(Holder::offered, Holder::sending); }

bool WorkerLease::lend(const void* call) noexcept {
  call_.store(call, std::memory_order_relaxed);
  lends_.fetch_add(1, std::memory_order_relaxed);
  // Publishing the lend and then reading the flag, both sequentially consistent, pairs
  // with set_napping's store-then-read: either the I/O thread sees this call lent before
  // it naps, or this submitter sees that it naps.
  holder_.store(Holder::lent, std::memory_order_seq_cst);
  return napping_.load(std::memory_order_seq_cst);
}

void WorkerLease::put_back() noexcept { holder_.store(Holder::offered, std::memory_order_release); }

void WorkerLease::abandon_sending(const void* call) noexcept {
  call_.store(call, std::memory_order_relaxed);
  holder_.store(Holder::abandoned, std::memory_order_release);
}

bool WorkerLease::drive(const void* call) noexcept {
  return call_.load(std::memory_order_acquire) == call && change(Holder::lent, Holder::driven);
}

void WorkerLease::release(bool call_ended) noexcept {
  if (call_ended) call_.store(nullptr, std::memory_order_relaxed);
  holder_.store(call_ended ? Holder::offered : Holder::abandoned, std::memory_order_release);
}

void WorkerLease::set_napping(bool napping) noexcept { napping_.store(napping, std::memory_order_seq_cst); }

}  // namespace poolbench
