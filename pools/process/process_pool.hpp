#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "pools/core/executor.hpp"
#include "pools/core/fifo.hpp"
#include "pools/machine/cpu_set.hpp"
#include "pools/process/channel.hpp"
#include "pools/process/reply_ring.hpp"
#include "pools/process/subprocess.hpp"
#include "pools/process/worker_lease.hpp"

namespace poolbench {

/// N long-lived worker processes — `ProcessPoolExecutor(N)`. Workers are this executable
/// re-executed in worker mode (see worker_main.hpp), so they run only RegisteredTasks.
/// Arguments and fds cross a UNIX socket; results come back through shared memory (a
/// ReplyRing), with the socket left to wake a sleeping reader and to tell a worker's death.
/// When many short tasks wait, each worker is sent its share in one batch (at most
/// `max_pipelined`), so a task costs a fraction of a system call; one task alone, or long
/// ones, go out one at a time. A lone thread that waits for each result before submitting
/// the next sends its task to an idle worker itself and polls for the reply when it waits
/// (see WorkerLease), while the worker polls for the next task, so the round trip wakes
/// no one; the I/O thread takes back any such task that nobody waits for. A worker that
/// dies fails only the task it was running, with an error naming the signal or exit code,
/// and is replaced; replies it wrote before dying still count, and the tasks queued behind
/// it go to the replacement.
class ProcessPool final : public Executor {
 public:
  /// The most tasks sent to one worker ahead of their replies.
  static constexpr std::size_t max_pipelined = ReplyRing::max_entries;
  /// Tasks that take this long or more go to workers one at a time.
  static constexpr std::chrono::microseconds long_task{100};

  /// No limit on how long a task may run.
  static constexpr std::chrono::nanoseconds no_timeout = std::chrono::nanoseconds::max();
  /// How long a new worker may take to report ready; its start-up is no task's time.
  static constexpr std::chrono::seconds worker_start_timeout{30};
  /// Starts in a row that may end before the worker is ready (killed from outside, say).
  static constexpr int start_attempts = 3;

  /// Starts `workers` processes (at least 1); throws ResourceError when the OS refuses.
  /// A task still running `task_timeout` after it started fails with TimeoutError, and
  /// its worker is killed and replaced. A worker's start-up does not count.
  explicit ProcessPool(std::size_t workers, Placement placement = {},
                       std::chrono::nanoseconds task_timeout = no_timeout);
  ~ProcessPool() override;

  std::string_view name() const noexcept override { return "process-pool"; }
  std::size_t worker_count() const noexcept override { return workers_.size(); }
  bool runs_in_process() const noexcept override { return false; }
  void shutdown(bool wait = true, bool cancel_pending = false) override;
  /// `shutdown`, waiting at most `timeout` for running tasks: then the workers still
  /// running one are killed, those tasks fail with TimeoutError naming them, and tasks
  /// that had not started are cancelled or fail with it.
  void shutdown(bool wait, bool cancel_pending, std::chrono::nanoseconds timeout);

  /// The PIDs of the live workers, one per slot (-1 while a slot has none).
  std::vector<pid_t> worker_pids() const;
  std::vector<int> worker_processes() const override;
  /// Each live worker process's main thread, which runs its tasks.
  std::vector<WorkerThread> worker_threads() const override;
  /// Worker processes started, replacements included.
  std::uint64_t processes_created() const noexcept override { return created_.load(std::memory_order_relaxed); }
  /// Calls their submitters sent to an idle worker themselves (lent calls); none where the
  /// machine has one usable CPU, since the waiter could not poll while the worker runs.
  std::uint64_t lent_calls() const noexcept;
  /// One I/O thread per worker in this process.
  std::uint64_t threads_created() const noexcept override { return workers_.size(); }

 protected:
  void enqueue(Job job) override;
  void enqueue_remote(RemoteCall call) override;

 private:
  /// A call a submitter sent (or tried to send) to a worker while it was offered.
  struct LentCall {
    RemoteCall call;
    bool sent = true;
  };

  struct Worker {
    std::optional<Subprocess> process;
    UniqueFd channel;
    std::optional<ReplyRing> ring;                    ///< the current worker's replies; outlives its death until read
    FrameWriter lent_requests{-1};                    ///< on `channel`, for the submitter holding the lease
    std::optional<LentCall> lent;                     ///< used by whoever holds the lease
    std::atomic<bool> poisoned{false};                ///< a lent call's reply broke the protocol: replace the worker
    std::optional<std::uint64_t> oom_kills_at_start;  ///< the memory cgroup's OOM kills when it started
    std::thread io;
  };

  class Lending;

  using Clock = std::chrono::steady_clock;

  /// Why a worker that may still be alive must go; the task it was running fails with
  /// the matching error.
  struct Fault {
    enum class Kind { protocol, resource, timeout } kind;
    std::string what;
  };

  /// What one I/O thread keeps of its worker's traffic.
  struct Traffic {
    Fifo<RemoteCall> in_flight;           ///< sent, reply not yet read, in order: the front one is running
    Fifo<RemoteCall> unsent;              ///< started, still to send: new, or queued behind a worker that died
    std::optional<FrameWriter> requests;  ///< both bound to the current worker's channel
    std::optional<FrameReader> replies;   ///< doorbells, and replies too large for the ring
    Fifo<Frame> large_replies;            ///< read from the socket before the ring reached them
    std::string reply;                    ///< the ring's latest reply
    /// How long the worker's recent tasks took, from one reply to the next; assumed long
    /// until replies say otherwise.
    Clock::duration task_time = 2 * long_task;
    Clock::time_point serving_since{};
    std::optional<Fault> fault;  ///< set when the worker must be killed rather than mourned
    bool fault_charged = false;  ///< the task whose reply was the fault has failed already

    /// How many more calls to take: long tasks go one at a time, since batching them only
    /// ties tasks to a busy worker while another could start them.
    std::size_t room() const noexcept;
    /// Binds `requests` and `replies` to `socket`, the current worker's channel, unless bound.
    void attach(int socket);
    /// Forgets a worker that is gone, with whatever was buffered to or from it.
    void detach() noexcept;
    /// Reads one frame from the socket, waiting for it until `deadline`: a doorbell is
    /// dropped, a large reply kept in `large_replies`. False at end of stream; throws
    /// WorkerProtocolError for a reply no call in flight is waiting for.
    bool read_frame(Clock::time_point deadline);
    /// Reads the frames that have begun to arrive, waiting for the rest of one only until
    /// `deadline`; false when the worker is gone.
    bool drain(int socket, Clock::time_point deadline);
    /// When the call at the front must have ended: its start plus the task timeout.
    Clock::time_point deadline(std::chrono::nanoseconds task_timeout) const noexcept;
    /// Records why the worker must go, from the exception being handled; false, for the
    /// caller to return. A PeerGoneError is a death, not a fault.
    bool note_fault(std::exception_ptr error);
  };

  void serve(std::size_t index);
  /// The I/O thread, idle: offers the worker to submitters (when lending), waits for calls
  /// to send or a lent call to take back, and takes its share; false once stopping with
  /// nothing left.
  bool await_calls(Worker& worker, std::size_t index, Traffic& traffic);
  /// Sleeps, with `lock` held, until calls are queued, the pool stops, or `lease`'s lent
  /// call needs the I/O thread: its waiter gave up on it, or nobody drove it for a while.
  void nap_while_offered(WorkerLease& lease, std::unique_lock<std::mutex>& lock);
  /// Takes the worker back from `lease`, with the call lent on it, if any.
  void take_back(WorkerLease& lease, Worker& worker, Traffic& traffic, std::unique_lock<std::mutex>& lock);
  /// Sends `call` to an offered worker from the submitting thread; false when none is offered.
  bool lend(RemoteCall& call);
  /// Reads the reply to the call lent on worker `index`, in the thread that waits for it,
  /// for at most `limit`; leaves it to the I/O thread when it takes longer.
  void drive(std::size_t index, std::chrono::nanoseconds limit);
  /// Wakes the idle I/O threads so they see a change of lease.
  void wake_io();
  /// Sends `unsent` (starting a worker first if there is none); false when the worker died.
  bool send_unsent(Worker& worker, std::size_t index, Traffic& traffic);
  /// Reads at least one reply and any others already here; false when the worker died.
  bool read_replies(Worker& worker, Traffic& traffic);
  /// Completes the calls whose replies are in the ring now, reading those on the socket
  /// (while `read_socket`, else only those read already); false when the worker is gone
  /// (or a reply is not at hand). Throws WorkerProtocolError for a malformed reply, which
  /// leaves its call at the front.
  bool complete_ready(Worker& worker, Traffic& traffic, bool read_socket = true);
  /// Reads what the socket holds now without waiting: doorbells are dropped, large replies
  /// kept for their place in the ring; false when the worker is gone.
  bool drain_socket(Worker& worker, Traffic& traffic);
  /// Reaps a dead worker, starts its replacement, fails the task it was running and
  /// puts the ones batched behind it back to be sent.
  void recover_from_death(Worker& worker, std::size_t index, Traffic& traffic);
  /// Moves this worker's share of the queue into `out`, at most `room`; an idle worker
  /// takes at least one call if any is queued. Call with `mutex_` held.
  void take_share(bool idle, std::size_t room, Fifo<RemoteCall>& out);
  /// Moves calls just taken from the queue to running, without the lock; those cancelled
  /// while queued end here.
  void start_or_drop(Fifo<RemoteCall>& taken);
  /// Locks `mutex_`, polling briefly first.
  std::unique_lock<std::mutex> lock_queue();
  /// `take_share` for a busy worker, which does not wait for calls.
  void take_calls(std::size_t room, Fifo<RemoteCall>& out);
  /// Reads the worker's reply to `call` into its future, or its error into the call,
  /// ending nothing yet. Throws WorkerProtocolError for a malformed reply.
  void stage_reply(RemoteCall& call, std::string_view reply, std::vector<UniqueFd> fds);
  /// Ends a call with what `stage_reply` read.
  TaskOutcome end_call(RemoteCall& call) noexcept;
  /// Both: ends a call with the worker's reply, or throws WorkerProtocolError leaving it.
  TaskOutcome complete(RemoteCall& call, std::string_view reply, std::vector<UniqueFd> fds);
  void start_worker(Worker& worker, std::size_t index);
  /// Waits for a new worker's greeting, so that no task's timeout counts its start-up:
  /// nullopt once it came; how the worker ended, reaped, when it died first. Throws
  /// ResourceError, the worker killed and reaped, when it broke the protocol or stayed silent.
  std::optional<std::string> await_greeting(Worker& worker, Traffic& traffic);
  /// Starts a worker and waits for its greeting, starting another when one dies first, up
  /// to `start_attempts` in a row; then throws ResourceError saying how the last ended.
  void start_ready_worker(Worker& worker, std::size_t index, Traffic& traffic);
  /// A worker process reaped: its pid (-1 when there was none) and how it ended.
  struct Retired {
    pid_t pid = -1;
    std::optional<int> status;  ///< nullopt when someone else collected it (SIGCHLD ignored)

    /// "worker process 4242 was killed by signal 9 (SIGKILL, Killed)", or "was not running".
    std::string describe() const;
    bool killed_by_sigkill() const noexcept;
  };

  /// Closes the worker's channel, which tells it to exit, and reaps it.
  Retired retire_worker(Worker& worker);
  /// SIGKILLs the worker process, if any, so that retiring it cannot wait on it.
  void kill_worker(Worker& worker);
  /// The error the task running on a worker that ended fails with.
  std::exception_ptr failure_of(const RemoteCall& call, const std::optional<Fault>& fault, pid_t pid,
                                const std::string& death) const;
  void join_io();

  std::string executable_;
  Placement placement_;
  std::chrono::nanoseconds task_timeout_;
  std::vector<std::unique_ptr<Worker>> workers_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  Fifo<RemoteCall> queue_;
  std::atomic<std::size_t> queued_{0};  ///< queue_.size(), readable without the lock
  std::atomic<bool> spinning_{false};   ///< an idle I/O thread is polling queued_
  bool stopping_ = false;
  std::size_t serving_ = 0;            ///< I/O threads that have not finished
  std::condition_variable served_;     ///< signalled when serving_ drops
  std::atomic<bool> overrun_{false};   ///< shutdown's timeout ran out: kill, do not replace
  std::atomic<bool> accepting_{true};  ///< !stopping_, for submitters that lend without the lock
  std::shared_ptr<Lending> lending_;   ///< null where waiters cannot poll (one CPU)
  std::atomic<std::uint64_t> created_{0};
  std::mutex join_mutex_;
};

}  // namespace poolbench
