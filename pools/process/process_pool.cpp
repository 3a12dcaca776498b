#include "pools/process/process_pool.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>
#include <system_error>

#include "pools/machine/cgroup.hpp"
#include "pools/machine/spin_wait.hpp"
#include "pools/process/channel.hpp"
#include "pools/process/worker_main.hpp"
#include "pools/process/worker_protocol.hpp"

namespace poolbench {
namespace {

constexpr int worker_channel_fd = 3;
/// A submitter sends its own call (a lent call) only when it is this small: the idle
/// worker takes it at once, so the send never waits.
constexpr std::size_t max_lent_request = 4096;

std::string seconds_text(std::chrono::nanoseconds duration) {
  std::ostringstream text;
  text << std::chrono::duration<double>(duration).count() << " s";
  return text.str();
}

std::string own_executable() {
  char path[4096];
  const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<std::size_t>(n)) : std::string("/proc/self/exe");
}

/// Tells threads apart cheaply: the address of a thread-local object.
std::uintptr_t this_thread_tag() noexcept {
  thread_local const char tag = 0;
  return reinterpret_cast<std::uintptr_t>(&tag);
}

}  // namespace

/// The workers' leases, and the wait helper of every lent call's future: a thread waiting
/// for a lent call reads its reply itself. Those futures keep it alive, so it outlives the
/// pool; a lease is closed before the pool goes, after which no waiter touches the pool.
class ProcessPool::Lending final : public detail::WaitHelper {
 public:
  Lending(ProcessPool& pool, std::size_t workers)
      : pool_(&pool), leases_(std::make_unique<WorkerLease[]>(workers)), workers_(workers) {}

  WorkerLease& lease(std::size_t index) noexcept { return leases_[index]; }

  /// True when this thread waited for one of the pool's results lately: only its calls are
  /// lent, since a lent call nobody waits for finishes only once the I/O thread takes it back.
  bool from_waiter() const noexcept { return waiter_.load(std::memory_order_relaxed) == this_thread_tag(); }
  void note_waiter(std::uintptr_t thread) noexcept {
    // Read first: the line is not written again for each of the same waiter's calls.
    if (waiter_.load(std::memory_order_relaxed) != thread) waiter_.store(thread, std::memory_order_relaxed);
  }
  void forget_waiter() noexcept { waiter_.store(0, std::memory_order_relaxed); }

  /// Whether a waiter is still reading a reply, which the pool must outlive.
  bool driving() const noexcept { return drivers_.load(std::memory_order_acquire) != 0; }

  void help(const detail::StateBase& state, std::chrono::nanoseconds limit) override {
    for (std::size_t i = 0; i < workers_; ++i) {
      if (!leases_[i].drive(&state)) continue;
      drivers_.fetch_add(1, std::memory_order_relaxed);
      pool_->drive(i, limit);
      drivers_.fetch_sub(1, std::memory_order_release);
      return;
    }
  }

 private:
  ProcessPool* pool_;
  std::unique_ptr<WorkerLease[]> leases_;
  std::size_t workers_;
  std::atomic<std::uintptr_t> waiter_{0};
  std::atomic<int> drivers_{0};
};

ProcessPool::ProcessPool(std::size_t workers, Placement placement, std::chrono::nanoseconds task_timeout)
    : executable_(own_executable()), placement_(std::move(placement)), task_timeout_(task_timeout) {
  if (task_timeout <= std::chrono::nanoseconds::zero())
    throw ConfigError("process-pool needs a positive task timeout, not " + seconds_text(task_timeout));
  require_workers(workers, name());
  // Whether idle threads may spin is settled here, once, not on a hot path. Lending needs
  // it: a waiter polls for the reply while the worker runs on another CPU.
  if (detail::can_spin()) lending_ = std::make_shared<Lending>(*this, workers);
  workers_.reserve(workers);
  try {
    for (std::size_t i = 0; i < workers; ++i) {
      workers_.push_back(std::make_unique<Worker>());
      start_worker(*workers_.back(), i);
    }
    for (std::size_t i = 0; i < workers; ++i) {
      workers_[i]->io = std::thread([this, i] { serve(i); });
      std::lock_guard lock(mutex_);
      ++serving_;
    }
  } catch (const std::system_error& e) {
    shutdown(true, true);
    throw ResourceError(std::string("process-pool could not start its I/O threads: ") + e.what());
  } catch (...) {
    shutdown(true, true);
    throw;
  }
}

ProcessPool::~ProcessPool() { shutdown(); }

void ProcessPool::start_worker(Worker& worker, std::size_t index) {
  const std::optional<std::uint64_t> oom_kills = read_cgroup_oom_kills();
  ReplyRing ring = ReplyRing::create();
  auto [parent_end, child_end] = make_socket_pair();
  // A submitter that polls for a lent call's reply sends its next call a few microseconds
  // after it: the worker polls for it that long before it sleeps.
  const auto poll_limit = lending_ ? long_task / 2 : std::chrono::microseconds(0);
  Subprocess process = Subprocess::spawn(
      "/proc/self/exe",
      {executable_, worker_flag, std::to_string(worker_channel_fd), std::to_string(poll_limit.count())},
      child_end.get(), worker_channel_fd);
  created_.fetch_add(1, std::memory_order_relaxed);
  if (const CpuSet* cpus = placement_.for_worker(index)) {
    try {
      cpus->bind_process(process.pid());
    } catch (const Error&) {
      report_unobserved_error(std::current_exception());
    }
  }
  // The worker's first frame: the shared memory its replies go into.
  FrameWriter setup(parent_end.get());
  setup.add({}, std::span(&ring.fd(), 1));
  setup.flush();
  std::lock_guard lock(mutex_);
  worker.process = std::move(process);
  worker.channel = std::move(parent_end);
  worker.ring = std::move(ring);
  worker.lent_requests = FrameWriter(worker.channel.get());
  worker.oom_kills_at_start = oom_kills;
}

std::optional<std::string> ProcessPool::await_greeting(Worker& worker, Traffic& traffic) {
  traffic.detach();
  traffic.attach(worker.channel.get());
  const pid_t pid = worker.process->pid();
  std::string failure;
  bool died = false;
  try {
    const std::optional<Frame> greeting = traffic.replies->next(Clock::now() + worker_start_timeout);
    if (greeting && greeting->bytes.empty() && greeting->fds.empty()) return std::nullopt;
    if (greeting) failure = "sent something other than a greeting first";
    died = !greeting;
  } catch (const TimeoutError&) {
    failure = "did not report ready within " + seconds_text(worker_start_timeout);
  } catch (const PeerGoneError&) {
    died = true;
  } catch (const std::exception& e) {
    failure = std::string("broke its channel before it was ready: ") + e.what();
  }
  traffic.detach();
  if (died) return retire_worker(worker).describe() + " before it was ready";
  kill_worker(worker);
  retire_worker(worker);
  throw ResourceError("worker process " + std::to_string(pid) + " " + failure + "; it was killed");
}

void ProcessPool::start_ready_worker(Worker& worker, std::size_t index, Traffic& traffic) {
  for (int attempt = 1;; ++attempt) {
    start_worker(worker, index);
    const std::optional<std::string> death = await_greeting(worker, traffic);
    if (!death) return;
    // Killed from outside while it started, say: another start is due. A worker that can
    // never start must not be restarted forever.
    if (attempt == start_attempts)
      throw ResourceError(std::to_string(start_attempts) +
                          " worker processes in a row ended before they were ready; the last " + *death);
  }
}

std::string ProcessPool::Retired::describe() const {
  if (pid <= 0) return "was not running";
  return "worker process " + std::to_string(pid) + " " + describe_wait_status(status);
}

bool ProcessPool::Retired::killed_by_sigkill() const noexcept {
  return status && WIFSIGNALED(*status) && WTERMSIG(*status) == SIGKILL;
}

ProcessPool::Retired ProcessPool::retire_worker(Worker& worker) {
  std::optional<Subprocess> process;
  {
    std::lock_guard lock(mutex_);
    process.swap(worker.process);
    worker.channel.reset();
  }
  if (!process) return {};
  return {process->pid(), process->wait()};
}

void ProcessPool::kill_worker(Worker& worker) {
  std::lock_guard lock(mutex_);
  if (worker.process) worker.process->kill(SIGKILL);
}

void ProcessPool::enqueue(Job) { throw NotTransferableError("process-pool runs only registered tasks"); }

void ProcessPool::enqueue_remote(RemoteCall call) {
  if (lending_ && call.completion.waitable()) {
    call.submitter = this_thread_tag();
    // Only the call of a lone caller that waits for each result is lent: nothing else is
    // queued (it overtakes no call) or running (a backlog is the I/O threads' to batch).
    if (call.request.size() <= max_lent_request && lending_->from_waiter() && unfinished() == 1 && lend(call)) return;
  }
  std::unique_lock lock(mutex_);
  if (stopping_) throw ExecutorShutdownError("cannot submit to process-pool: it has been shut down");
  queue_.push_back(std::move(call));
  queued_.store(queue_.size(), std::memory_order_release);
  lock.unlock();
  wake_.notify_one();
}

bool ProcessPool::lend(RemoteCall& call) {
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    WorkerLease& lease = lending_->lease(i);
    if (!lease.take()) continue;
    if (!accepting_.load(std::memory_order_acquire)) {
      lease.put_back();
      throw ExecutorShutdownError("cannot submit to process-pool: it has been shut down");
    }
    if (workers_[i]->poisoned.load(std::memory_order_acquire)) {
      // Its last reply broke the protocol, and what else it wrote may still be waiting: it
      // is the I/O thread's to kill and replace, and gets no call before that.
      lease.put_back();
      continue;
    }
    call.completion.start();  // nobody has its future yet, so nobody can have cancelled it
    call.completion.set_wait_helper(lending_);
    Worker& worker = *workers_[i];
    bool sent = true;
    try {
      worker.lent_requests.add(as_view(call.request), call.fds);
      worker.lent_requests.flush();
    } catch (...) {
      // The worker died while idle (or the send failed otherwise): the I/O thread replaces
      // it and sends the call, fds and all. Nothing half-added stays behind to be sent.
      sent = false;
      worker.lent_requests = FrameWriter(worker.channel.get());
    }
    if (sent) call.fds.clear();  // the worker holds its own copies now
    const void* tag = call.completion.tag();
    worker.lent.emplace(LentCall{std::move(call), sent});
    bool wake = true;
    if (sent) {
      wake = lease.lend(tag);
    } else {
      lease.abandon_sending(tag);
    }
    if (wake) wake_io();
    return true;
  }
  return false;
}

void ProcessPool::drive(std::size_t index, std::chrono::nanoseconds limit) {
  Worker& worker = *workers_[index];
  WorkerLease& lease = lending_->lease(index);
  ReplyRing& ring = *worker.ring;
  thread_local std::string reply;
  std::optional<RemoteCall> call;
  // This thread polls for the reply, and will likely send its next call right after it.
  ring.set_caller_polls(true);
  try {
    // The worker runs meanwhile on another CPU, the I/O thread sleeps: polling shared
    // memory for the reply costs no wake-up on either side.
    if (detail::spin_adaptively([&] { return ring.has_entry(); },
                                std::min<std::chrono::nanoseconds>(limit, long_task)) &&
        ring.pop_reply(reply) == ReplyRing::Entry::reply) {
      call = std::move(worker.lent->call);
      worker.lent.reset();
    }
  } catch (const std::exception&) {
    // A corrupt ring: the I/O thread, which takes the call back, reads it again and
    // replaces the worker.
  }
  // The reply is checked before the lease goes back, so the I/O thread never sends the
  // worker another call after a reply that broke the protocol.
  std::exception_ptr violation;
  if (call) {
    try {
      stage_reply(*call, reply, {});
    } catch (const std::exception& e) {
      violation = std::make_exception_ptr(WorkerProtocolError("the worker broke the protocol while running task '" +
                                                              *call->task_name + "': " + e.what() +
                                                              "; it was killed and replaced"));
      worker.poisoned.store(true, std::memory_order_release);
    }
  }
  // Released before the call ends: its done-callbacks may submit or wait for anything.
  lease.release(call.has_value());
  if (violation) {
    call->completion.fail(violation);
    record(TaskOutcome::failed);
    wake_io();
  } else if (call) {
    record(end_call(*call));
  } else {
    wake_io();  // a long task, a reply on the socket or a worker in trouble: the I/O thread's job
  }
}

void ProcessPool::wake_io() {
  { std::lock_guard lock(mutex_); }
  wake_.notify_all();
}

void ProcessPool::take_share(bool idle, std::size_t room, Fifo<RemoteCall>& out) {
  // A fair share: what is queued divided among the workers, so one worker does not take
  // tasks another, idle one could start now; an idle worker always takes one.
  std::size_t share = queue_.size() / workers_.size();
  if (idle && !queue_.empty()) share = std::max<std::size_t>(share, 1);
  const std::size_t n = std::min(share, room);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  queued_.store(queue_.size(), std::memory_order_release);
}

void ProcessPool::start_or_drop(Fifo<RemoteCall>& taken) {
  taken.erase_if([&](RemoteCall& call) {
    if (call.completion.start()) return false;
    record(TaskOutcome::cancelled);
    return true;
  });
}

std::unique_lock<std::mutex> ProcessPool::lock_queue() {
  // A submitter that just published a call may still hold the lock for a moment: wait
  // for it briefly rather than sleep on it.
  std::unique_lock lock(mutex_, std::defer_lock);
  if (!detail::spin_until([&] { return lock.try_lock(); }, std::chrono::microseconds(5))) lock.lock();
  return lock;
}

void ProcessPool::take_calls(std::size_t room, Fifo<RemoteCall>& out) {
  std::unique_lock lock = lock_queue();
  take_share(/*idle=*/false, room, out);
  lock.unlock();
  start_or_drop(out);
}

bool ProcessPool::await_calls(Worker& worker, std::size_t index, Traffic& traffic) {
  WorkerLease* lease = lending_ && worker.process ? &lending_->lease(index) : nullptr;
  if (lease) lease->offer();
  if (queued_.load(std::memory_order_acquire) == 0 && !spinning_.exchange(true, std::memory_order_acquire)) {
    // One idle I/O thread polls briefly, without the lock, so a caller that submits again
    // right after a result wakes nobody and meets no held lock; polling stops when a
    // submitter takes the worker, which it then drives itself.
    detail::spin_adaptively(
        [&] {
          return queued_.load(std::memory_order_acquire) > 0 ||
                 (lease && lease->holder() != WorkerLease::Holder::offered);
        },
        std::chrono::microseconds(100));
    spinning_.store(false, std::memory_order_release);
  }
  std::unique_lock lock = lock_queue();
  if (lease) {
    nap_while_offered(*lease, lock);
    take_back(*lease, worker, traffic, lock);
  } else {
    wake_.wait(lock, [&] { return !queue_.empty() || stopping_; });
  }
  const bool idle = traffic.in_flight.empty() && traffic.unsent.empty();
  if (idle && stopping_ && queue_.empty()) {
    if (lease) {
      lease->close();
      lock.unlock();
      while (lending_->driving()) std::this_thread::yield();
    }
    return false;
  }
  // With a call taken back, more are taken only once its reply has said how long tasks take.
  if (!idle) return true;
  take_share(/*idle=*/true, traffic.room(), traffic.unsent);
  lock.unlock();
  start_or_drop(traffic.unsent);
  return true;
}

void ProcessPool::nap_while_offered(WorkerLease& lease, std::unique_lock<std::mutex>& lock) {
  using Holder = WorkerLease::Holder;
  constexpr std::chrono::milliseconds short_nap{1};
  constexpr std::chrono::milliseconds long_nap{1000};
  std::chrono::milliseconds nap = short_nap;
  std::uint64_t lends = lease.lends();
  while (queue_.empty() && !stopping_ && lease.holder() != Holder::abandoned) {
    if (nap > short_nap) {
      // Store-then-read against the lender's: either this thread sees a call lent and
      // naps short, or the lender sees it napping and wakes it.
      lease.set_napping(true);
      if (lease.holder() == Holder::lent) nap = short_nap;
    }
    const bool timed_out = wake_.wait_for(lock, nap) == std::cv_status::timeout;
    lease.set_napping(false);
    if (!timed_out) continue;
    if (lease.lends() != lends) {
      lends = lease.lends();
      nap = short_nap;
    } else if (lease.holder() == Holder::lent) {
      lending_->forget_waiter();  // the same call, lent a whole nap ago: nobody waits for it
      return;
    } else {
      nap = std::min(2 * nap, long_nap);
    }
  }
}

void ProcessPool::take_back(WorkerLease& lease, Worker& worker, Traffic& traffic, std::unique_lock<std::mutex>& lock) {
  // A submitter or a waiter holds the worker only briefly.
  WorkerLease::Taken taken;
  while ((taken = lease.take_back()) == WorkerLease::Taken::not_yet) {
    lock.unlock();
    std::this_thread::yield();
    lock.lock();
  }
  // The worker is served in batches by this thread again, not by a polling caller.
  if (worker.ring) worker.ring->set_caller_polls(false);
  if (taken != WorkerLease::Taken::worker_and_call) return;
  traffic.serving_since = Clock::now();
  (worker.lent->sent ? traffic.in_flight : traffic.unsent).push_back(std::move(worker.lent->call));
  worker.lent.reset();
}

void ProcessPool::serve(std::size_t index) {
  Worker& worker = *workers_[index];
  Traffic traffic;
  try {
    // A worker that died while it started is gone like one that failed: the first send
    // starts another, and says why when that fails too.
    static_cast<void>(await_greeting(worker, traffic));
  } catch (const Error&) {
  }
  for (;;) {
    try {
      if (traffic.unsent.empty()) {
        if (traffic.in_flight.empty()) {
          if (!await_calls(worker, index, traffic)) break;  // stopping, and the queue is drained
        } else {
          take_calls(traffic.room(), traffic.unsent);
        }
      }
      // Read before it is cleared: the flag's line is written only when a reply was bad.
      if (worker.poisoned.load(std::memory_order_relaxed) &&
          worker.poisoned.exchange(false, std::memory_order_acquire)) {
        // Taken back from a submitter whose reply broke the protocol: nothing more goes to it.
        traffic.fault = Fault{Fault::Kind::protocol, "a reply to a call its submitter sent broke the protocol"};
        recover_from_death(worker, index, traffic);
      }
      bool alive = traffic.unsent.empty() || send_unsent(worker, index, traffic);
      if (alive && !traffic.in_flight.empty()) alive = read_replies(worker, traffic);
      if (!alive) recover_from_death(worker, index, traffic);
    } catch (...) {
      // Nothing escapes this thread: whatever went wrong, the worker is replaced and its
      // running task fails with the error.
      traffic.note_fault(std::current_exception());
      recover_from_death(worker, index, traffic);
    }
  }
  // Closing the channel tells the worker to exit; then it is reaped.
  retire_worker(worker);
  std::lock_guard lock(mutex_);
  --serving_;
  served_.notify_all();
}

bool ProcessPool::Traffic::note_fault(std::exception_ptr error) {
  try {
    std::rethrow_exception(std::move(error));
  } catch (const PeerGoneError&) {
  } catch (const WorkerProtocolError& e) {
    fault = Fault{Fault::Kind::protocol, e.what()};
  } catch (const TimeoutError& e) {
    fault = Fault{Fault::Kind::timeout, e.what()};
  } catch (const std::bad_alloc&) {
    fault = Fault{Fault::Kind::resource, "out of memory while reading the worker's reply"};
  } catch (const std::exception& e) {
    fault = Fault{Fault::Kind::resource, e.what()};
  } catch (...) {
    fault = Fault{Fault::Kind::resource, "an unknown error while serving the worker"};
  }
  return false;
}

ProcessPool::Clock::time_point ProcessPool::Traffic::deadline(std::chrono::nanoseconds task_timeout) const noexcept {
  if (task_timeout == no_timeout || Clock::time_point::max() - serving_since <= task_timeout)
    return Clock::time_point::max();
  return serving_since + std::chrono::duration_cast<Clock::duration>(task_timeout);
}

void ProcessPool::Traffic::attach(int socket) {
  if (replies) return;
  requests.emplace(socket);
  replies.emplace(socket);
}

void ProcessPool::Traffic::detach() noexcept {
  requests.reset();
  replies.reset();
  large_replies.clear();
}

bool ProcessPool::Traffic::read_frame(Clock::time_point deadline) {
  std::optional<Frame> frame = replies->next(deadline);
  if (!frame) return false;
  // An empty frame only rings the doorbell; a reply waits for its marker in the ring.
  if (frame->bytes.empty() && frame->fds.empty()) return true;
  if (large_replies.size() >= in_flight.size())
    throw WorkerProtocolError("the worker sent a reply on its socket for a task it was not sent");
  large_replies.push_back(std::move(*frame));
  return true;
}

bool ProcessPool::Traffic::drain(int socket, Clock::time_point deadline) {
  // A frame begun in the buffer is finished (or refused) here: its bytes no longer make
  // the socket readable, and a reader sleeping on the socket would not see them.
  while (replies->has_bytes() || readable(socket)) {
    if (!read_frame(deadline)) return false;
  }
  return true;
}

std::size_t ProcessPool::Traffic::room() const noexcept {
  if (task_time >= long_task) return in_flight.empty() ? 1 : 0;
  return max_pipelined - in_flight.size();
}

bool ProcessPool::send_unsent(Worker& worker, std::size_t index, Traffic& traffic) {
  if (traffic.in_flight.empty() && worker.process && !drain_socket(worker, traffic)) {
    // Died while idle, or sent what nobody asked for: nothing of ours was running.
    if (traffic.fault) kill_worker(worker);
    retire_worker(worker);
    traffic.detach();
    traffic.fault.reset();
  }
  if (!worker.process) {
    try {
      start_ready_worker(worker, index, traffic);
    } catch (const std::exception& e) {
      for (auto& call : traffic.unsent) {
        call.completion.fail(std::make_exception_ptr(
            ResourceError("process-pool could not start a worker for task '" + *call.task_name + "': " + e.what())));
        record(TaskOutcome::failed);
      }
      traffic.unsent.clear();
      return true;
    }
  }
  if (traffic.in_flight.empty()) traffic.serving_since = Clock::now();
  // The calls count as in flight from here: replies to the first may come back while the
  // last are still being sent, and are read and completed meanwhile, so that neither side
  // waits on the other (a worker blocked sending a large reply reads no more calls) and
  // each call's deadline runs from the reply before it, not from the start of the batch.
  traffic.attach(worker.channel.get());
  const int socket = worker.channel.get();
  const FrameWriter::InputHandler read_meanwhile = [this, &worker, &traffic, socket] {
    if (!traffic.drain(socket, traffic.deadline(task_timeout_)) || !complete_ready(worker, traffic))
      throw PeerGoneError("the worker closed its channel");
    return traffic.deadline(task_timeout_);
  };
  try {
    while (!traffic.unsent.empty()) {
      RemoteCall& call = traffic.unsent.front();
      if (!traffic.requests->has_room(call.fds.size()))
        traffic.requests->flush(read_meanwhile, traffic.deadline(task_timeout_));
      traffic.requests->add(as_view(call.request), call.fds);
      traffic.in_flight.push_back(std::move(call));
      traffic.unsent.pop_front();
    }
    traffic.requests->flush(read_meanwhile, traffic.deadline(task_timeout_));
  } catch (...) {
    // Those not yet added follow the ones in flight, in order, to the replacement.
    for (auto& call : traffic.unsent) traffic.in_flight.push_back(std::move(call));
    traffic.unsent.clear();
    return traffic.note_fault(std::current_exception());
  }
  // The worker holds its own copies of the fds now (those sent before hold none already).
  for (RemoteCall& call : traffic.in_flight) call.fds.clear();
  return true;
}

bool ProcessPool::read_replies(Worker& worker, Traffic& traffic) {
  traffic.attach(worker.channel.get());
  ReplyRing& ring = *worker.ring;
  if (traffic.in_flight.size() == 1 && traffic.task_time < long_task && !ring.has_entry()) {
    // One short task alone, as when a caller waits for each result: its reply is polled
    // for briefly, in shared memory, so it costs no wake-up of this thread.
    detail::spin_adaptively([&] { return ring.has_entry(); }, long_task);
  }
  try {
    for (;;) {
      const std::size_t waiting = traffic.in_flight.size();
      if (!complete_ready(worker, traffic)) return false;
      if (traffic.in_flight.size() < waiting) return true;
      // A reply that came meanwhile is taken on the next pass, without a system call.
      if (!ring.prepare_to_sleep()) continue;
      // The worker rings the socket when it next writes a reply; a death closes it. Bytes
      // received already, with the last frame read, are what it wrote: no ring will follow.
      const bool input =
          traffic.replies->has_bytes() || wait_for_input(worker.channel.get(), traffic.deadline(task_timeout_));
      ring.woke();
      if (!input && !ring.has_entry())
        throw TimeoutError("did not end within the task timeout of " + seconds_text(task_timeout_));
      if (!traffic.drain(worker.channel.get(), traffic.deadline(task_timeout_))) return false;
    }
  } catch (...) {
    return traffic.note_fault(std::current_exception());
  }
}

bool ProcessPool::complete_ready(Worker& worker, Traffic& traffic, bool read_socket) {
  while (!traffic.in_flight.empty()) {
    const ReplyRing::Entry entry = worker.ring->pop(traffic.reply);
    if (entry == ReplyRing::Entry::none) return true;
    const Clock::time_point now = Clock::now();
    traffic.task_time = (traffic.task_time + (now - traffic.serving_since)) / 2;
    traffic.serving_since = now;
    try {
      if (entry == ReplyRing::Entry::reply) {
        record(complete(traffic.in_flight.front(), traffic.reply, {}));
      } else {
        // The worker sent this reply on the socket before it wrote the marker.
        while (traffic.large_replies.empty()) {
          if (!read_socket || !traffic.read_frame(traffic.deadline(task_timeout_))) return false;
        }
        Frame& reply = traffic.large_replies.front();
        record(complete(traffic.in_flight.front(), as_view(reply.bytes), std::move(reply.fds)));
        traffic.large_replies.pop_front();
      }
    } catch (const WorkerProtocolError& e) {
      // This reply, taken from the ring, is malformed: its task is the one to fail.
      RemoteCall& call = traffic.in_flight.front();
      const Fault fault{Fault::Kind::protocol, e.what()};
      call.completion.fail(failure_of(call, fault, worker.process ? worker.process->pid() : -1, {}));
      record(TaskOutcome::failed);
      traffic.in_flight.pop_front();
      traffic.fault = fault;
      traffic.fault_charged = true;
      return false;
    }
    traffic.in_flight.pop_front();
  }
  if (read_socket && (worker.ring->has_entry() || !traffic.large_replies.empty()))
    throw WorkerProtocolError("the worker sent a reply for a task it was not sent");
  return true;
}

bool ProcessPool::drain_socket(Worker& worker, Traffic& traffic) {
  traffic.attach(worker.channel.get());
  try {
    return traffic.drain(worker.channel.get(), traffic.deadline(task_timeout_));
  } catch (...) {
    return traffic.note_fault(std::current_exception());
  }
}

void ProcessPool::recover_from_death(Worker& worker, std::size_t index, Traffic& traffic) {
  // Replies the worker wrote before it died are still in the ring: those tasks finished.
  // So did those before a fault: the replies up to the first bad entry are taken, with
  // socket replies only as far as they were read already, and the task at the front
  // then is the one the fault is charged to.
  try {
    if (worker.ring && worker.channel && !traffic.fault_charged) {
      traffic.attach(worker.channel.get());
      complete_ready(worker, traffic, /*read_socket=*/!traffic.fault);
    }
  } catch (...) {
    if (!traffic.fault) traffic.note_fault(std::current_exception());
  }
  traffic.detach();
  const bool overrun = overrun_.load(std::memory_order_acquire);
  if (traffic.fault || overrun) kill_worker(worker);
  const Retired retired = retire_worker(worker);
  std::string death = retired.describe();
  if (!traffic.fault && !overrun && retired.killed_by_sigkill()) {
    // A SIGKILL nobody here sent: the memory cgroup's count tells whether it was the OOM killer's.
    const std::optional<std::uint64_t> kills = read_cgroup_oom_kills();
    if (kills && worker.oom_kills_at_start && *kills > *worker.oom_kills_at_start)
      death += ", by the OOM killer of its memory cgroup (oom_kill " + std::to_string(*worker.oom_kills_at_start) +
               " -> " + std::to_string(*kills) + ")";
  }
  // Replace the worker before the failure becomes visible, so whoever sees the error
  // finds the pool whole again; the next send retries a failed start. Not once shutdown's
  // timeout ran out: then every worker still running is killed.
  if (!overrun) {
    try {
      start_ready_worker(worker, index, traffic);
    } catch (const std::exception&) {
    }
  }
  if (!traffic.in_flight.empty() && !traffic.fault_charged) {
    RemoteCall& running = traffic.in_flight.front();
    running.completion.fail(failure_of(running, traffic.fault, retired.pid, death));
    record(TaskOutcome::failed);
    traffic.in_flight.pop_front();
  }
  traffic.fault.reset();
  traffic.fault_charged = false;
  // The rest never started: they go to the replacement, keeping their order.
  for (auto& call : traffic.in_flight) traffic.unsent.push_back(std::move(call));
  traffic.in_flight.clear();
  if (overrun) {
    for (auto& call : traffic.unsent) {
      call.completion.fail(std::make_exception_ptr(
          TimeoutError("task '" + *call.task_name + "' had not started when process-pool's shutdown timeout ran out")));
      record(TaskOutcome::failed);
    }
    traffic.unsent.clear();
  }
}

std::exception_ptr ProcessPool::failure_of(const RemoteCall& call, const std::optional<Fault>& fault, pid_t pid,
                                           const std::string& death) const {
  const std::string task = "task '" + *call.task_name + "'";
  const std::string worker = "worker process " + std::to_string(pid);
  if (overrun_.load(std::memory_order_acquire))
    return std::make_exception_ptr(TimeoutError(
        task + " was still running when process-pool's shutdown timeout ran out; its " + worker + " was killed"));
  if (!fault) return std::make_exception_ptr(WorkerDiedError(death + " while running " + task));
  const std::string replaced = "; the " + worker + " was killed and replaced";
  switch (fault->kind) {
    case Fault::Kind::protocol:
      return std::make_exception_ptr(WorkerProtocolError("the " + worker + " broke the protocol while running " + task +
                                                         ": " + fault->what + "; it was killed and replaced"));
    case Fault::Kind::timeout:
      // Every deadline this pool's I/O waits with is the front task's, whichever wait ran
      // out (a send the worker took nothing of, a reply that never came, half a frame).
      return std::make_exception_ptr(
          TimeoutError(task + ": did not end within the task timeout of " + seconds_text(task_timeout_) + replaced));
    case Fault::Kind::resource:
      break;
  }
  return std::make_exception_ptr(ResourceError(task + " could not be served: " + fault->what + replaced));
}

void ProcessPool::stage_reply(RemoteCall& call, std::string_view reply, std::vector<UniqueFd> fds) {
  WireReader in(reply, std::move(fds));
  ReplyStatus status;
  std::string type, message;
  try {
    status = in.get<ReplyStatus>();
    if (status == ReplyStatus::error) {
      type = in.get<std::string>();
      message = in.get<std::string>();
      in.expect_end();
    }
  } catch (const std::exception& e) {
    throw WorkerProtocolError(std::string("the worker's reply is malformed: ") + e.what());
  }
  if (status == ReplyStatus::error) {
    call.remote_error = std::make_exception_ptr(RemoteTaskError(std::move(type), message));
  } else if (status == ReplyStatus::ok) {
    call.completion.stage(in);
  } else {
    throw WorkerProtocolError("the worker's reply has status " + std::to_string(static_cast<int>(status)) +
                              ", which is neither ok nor error");
  }
}

TaskOutcome ProcessPool::end_call(RemoteCall& call) noexcept {
  // A submitter that sleeps waiting for its result will have its next calls lent.
  if (lending_ && call.completion.has_waiters()) lending_->note_waiter(call.submitter);
  if (call.remote_error) {
    call.completion.fail(std::move(call.remote_error));
    return TaskOutcome::failed;
  }
  return call.completion.publish();
}

TaskOutcome ProcessPool::complete(RemoteCall& call, std::string_view reply, std::vector<UniqueFd> fds) {
  stage_reply(call, reply, std::move(fds));
  return end_call(call);
}

void ProcessPool::shutdown(bool wait, bool cancel_pending) { shutdown(wait, cancel_pending, no_timeout); }

void ProcessPool::shutdown(bool wait, bool cancel_pending, std::chrono::nanoseconds timeout) {
  Fifo<RemoteCall> dropped;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    accepting_.store(false, std::memory_order_release);
    if (cancel_pending) {
      dropped.swap(queue_);
      queued_.store(0, std::memory_order_release);
    }
  }
  wake_.notify_all();
  for (auto& call : dropped) {
    call.completion.cancel();
    record(TaskOutcome::cancelled);
  }
  if (!wait) return;
  if (timeout != no_timeout) {
    std::unique_lock lock(mutex_);
    if (!served_.wait_for(lock, timeout, [&] { return serving_ == 0; })) {
      // What is still queued will not start; what runs is killed, and its I/O thread,
      // woken by the death, fails it and starts no replacement.
      overrun_.store(true, std::memory_order_release);
      Fifo<RemoteCall> never_started;
      never_started.swap(queue_);
      queued_.store(0, std::memory_order_release);
      for (auto& worker : workers_)
        if (worker->process) worker->process->kill(SIGKILL);
      lock.unlock();
      wake_.notify_all();
      for (auto& call : never_started) {
        call.completion.cancel();
        record(TaskOutcome::cancelled);
      }
    }
  }
  join_io();
}

void ProcessPool::join_io() {
  std::lock_guard lock(join_mutex_);
  for (auto& worker : workers_) {
    if (worker->io.joinable() && worker->io.get_id() != std::this_thread::get_id()) worker->io.join();
  }
  for (auto& worker : workers_) retire_worker(*worker);
}

std::uint64_t ProcessPool::lent_calls() const noexcept {
  std::uint64_t lent = 0;
  for (std::size_t i = 0; lending_ && i < workers_.size(); ++i) lent += lending_->lease(i).lends();
  return lent;
}

std::vector<pid_t> ProcessPool::worker_pids() const {
  std::lock_guard lock(mutex_);
  std::vector<pid_t> pids;
  for (const auto& worker : workers_) pids.push_back(worker->process ? worker->process->pid() : -1);
  return pids;
}

std::vector<int> ProcessPool::worker_processes() const {
  std::vector<int> live;
  for (pid_t pid : worker_pids())
    if (pid > 0) live.push_back(pid);
  return live;
}

std::vector<WorkerThread> ProcessPool::worker_threads() const {
  std::vector<WorkerThread> threads;
  for (int pid : worker_processes()) threads.push_back({pid, pid});
  return threads;
}

}  // namespace poolbench
