#include "bench/probes.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>

#include "pools/core/errors.hpp"
#include "pools/core/named_table.hpp"
#include "pools/core/unique_fd.hpp"
#include "pools/process/subprocess.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/tcp.hpp"

namespace poolbench::bench {
namespace {

using scenarios::now_ns;

/// Times `batch(n)` (which performs n operations) `batches` times; median ns per op.
ProbeResult time_batches(const std::string& name, const std::string& description, int batches, int per_batch,
                         const std::function<void(int)>& batch) {
  batch(std::max(1, per_batch / 10));  // warm-up
  std::vector<double> per_op;
  for (int b = 0; b < batches; ++b) {
    const std::uint64_t start = now_ns();
    batch(per_batch);
    per_op.push_back(static_cast<double>(now_ns() - start) / per_batch);
  }
  std::sort(per_op.begin(), per_op.end());
  const double median = per_op[per_op.size() / 2];
  std::vector<double> deviation;
  for (double v : per_op) deviation.push_back(std::abs(v - median));
  std::sort(deviation.begin(), deviation.end());
  return {name, description, median, median > 0 ? deviation[deviation.size() / 2] / median : 0,
          static_cast<long long>(batches) * per_batch};
}

void write_byte(int fd) {
  const char c = 1;
  while (::write(fd, &c, 1) != 1) {
    if (errno != EINTR) throw_system_error("probe write", errno);
  }
}

void read_byte(int fd) {
  char c;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n == 1) return;
    if (n == 0) throw ResourceError("probe peer closed");
    if (errno != EINTR) throw_system_error("probe read", errno);
  }
}

/// One byte to a partner process over a pipe or a socket: false when the partner is gone
/// (a socket's peer closed: EPIPE or ECONNRESET, and no SIGPIPE).
bool send_to_partner(int fd, bool socket) {
  const char c = 1;
  for (;;) {
    const ssize_t n = socket ? ::send(fd, &c, 1, MSG_NOSIGNAL) : ::write(fd, &c, 1);
    if (n == 1) return true;
    if (errno == EPIPE || errno == ECONNRESET) return false;
    if (errno != EINTR) throw_system_error("probe write", errno);
  }
}

/// One byte from a partner process: false at end of file, when the partner is gone.
bool receive_from_partner(int fd) {
  char c;
  for (;;) {
    const ssize_t n = ::read(fd, &c, 1);
    if (n == 1) return true;
    if (n == 0 || errno == ECONNRESET) return false;
    if (errno != EINTR) throw_system_error("probe read", errno);
  }
}

int send_signal(int pidfd, int signal) noexcept {
  return static_cast<int>(::syscall(SYS_pidfd_send_signal, pidfd, signal, nullptr, 0));
}

std::string seconds_text(std::chrono::milliseconds limit) {
  return fmt::format("{:g} s", static_cast<double>(limit.count()) / 1000);
}

/// Bounds a probe's waits on another process. A thread of its own wakes every quarter of
/// `limit` and, when the probe has made no progress (`progressed`) for `limit`, kills the
/// process it waits for: the partner whose pidfd it was given (through a copy of its own),
/// or whichever `on_silence` kills. Once the partner's pidfd polls readable, the partner
/// has ended and `on_end` runs, to wake a probe that sleeps on shared memory (a pipe or a
/// socket tells the end by itself, as end-of-file). The probe's hot loop pays one relaxed
/// store per operation.
class PartnerWatch {
 public:
  /// Watches the partner process `pidfd`.
  PartnerWatch(int pidfd, std::chrono::milliseconds limit, std::function<void()> on_end)
      : limit_(limit), on_end_(std::move(on_end)) {
    if (pidfd < 0) throw ResourceError("a probe's partner process ended as soon as it started");
    pidfd_.reset(::fcntl(pidfd, F_DUPFD_CLOEXEC, 0));
    if (!pidfd_) throw_system_error("cannot watch a probe's partner process", errno);
    start();
  }
  /// Watches processes that come and go: `on_silence` kills the current one.
  PartnerWatch(std::chrono::milliseconds limit, std::function<void()> on_silence)
      : limit_(limit), on_silence_(std::move(on_silence)) {
    start();
  }
  ~PartnerWatch() {
    const std::uint64_t one = 1;
    while (::write(stop_.get(), &one, sizeof one) < 0 && errno == EINTR) {
    }
    thread_.join();
  }
  PartnerWatch(const PartnerWatch&) = delete;
  PartnerWatch& operator=(const PartnerWatch&) = delete;

  /// One more operation done: called only by the probing thread.
  void progressed() noexcept {
    progress_.store(progress_.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
  /// Whether the watch gave up on silence and killed the process.
  bool found_silent() const noexcept { return silent_.load(std::memory_order_acquire); }

 private:
  void start() {
    stop_.reset(::eventfd(0, EFD_CLOEXEC));
    if (!stop_) throw_system_error("cannot watch a probe's partner process", errno);
    try {
      thread_ = std::thread([this] { watch(); });
    } catch (const std::system_error& e) {
      throw ResourceError(std::string("cannot start the thread that watches a probe's partner process: ") + e.what());
    }
  }

  void watch() {
    using Clock = std::chrono::steady_clock;
    const auto slice = std::clamp<std::chrono::milliseconds>(limit_ / 4, std::chrono::milliseconds(1),
                                                             std::chrono::milliseconds(1000));
    std::uint64_t seen = progress_.load(std::memory_order_relaxed);
    Clock::time_point last_progress = Clock::now();
    for (;;) {
      pollfd fds[2] = {{stop_.get(), POLLIN, 0}, {pidfd_.get(), POLLIN, 0}};
      const int r = ::poll(fds, pidfd_ ? 2 : 1, static_cast<int>(slice.count()));
      if (r < 0 && errno != EINTR) return;  // cannot happen with valid fds; the probe's own waits end it
      if (fds[0].revents != 0) return;      // the probe is over
      if (pidfd_ && fds[1].revents != 0) {
        if (on_end_) on_end_();
        return;
      }
      const auto now = Clock::now();
      const std::uint64_t progress = progress_.load(std::memory_order_relaxed);
      if (progress != seen) {
        seen = progress;
        last_progress = now;
      } else if (now - last_progress >= limit_) {
        silent_.store(true, std::memory_order_release);
        if (pidfd_) {
          send_signal(pidfd_.get(), SIGKILL);  // its end is then seen above
        } else {
          on_silence_();
        }
        last_progress = now;  // a child of fork_exit_wait: the next one gets a whole limit
      }
    }
  }

  std::chrono::milliseconds limit_;
  std::function<void()> on_silence_;
  std::function<void()> on_end_;
  UniqueFd pidfd_;
  UniqueFd stop_;
  std::atomic<std::uint64_t> progress_{0};
  std::atomic<bool> silent_{false};
  std::thread thread_;
};

/// The other process of a two-process probe: forked to run `body` (async-signal-safe calls
/// only; see Subprocess::fork), announced to `options.on_partner_started`, and watched
/// (see PartnerWatch): one that stays silent for `options.partner_timeout` is killed.
/// Destroying it stops the watch, then kills and reaps the partner, so a probe that fails
/// half-way leaves no process behind.
class Partner {
 public:
  template <class Body>
  Partner(std::string probe, Body& body, const ProbeOptions& options, std::function<void()> on_end = {})
      : probe_(std::move(probe)),
        limit_(options.partner_timeout),
        process_(Subprocess::fork(body)),
        watch_(process_.pidfd(), limit_, std::move(on_end)) {
    if (options.on_partner_started) options.on_partner_started(process_.pid());
  }
  Partner(const Partner&) = delete;
  Partner& operator=(const Partner&) = delete;

  void progressed() noexcept { watch_.progressed(); }

  /// Throws the ResourceError that says why the partner stopped answering: killed for
  /// silence, or how it died.
  [[noreturn]] void fail() {
    const pid_t pid = process_.pid();
    if (watch_.found_silent())
      throw ResourceError(fmt::format("{}: partner process {} did not answer for {}, so it was killed", probe_, pid,
                                      seconds_text(limit_)));
    // The partner's end of the pipe closed: it is exiting; make sure it is gone.
    if (!process_.ended_within(std::chrono::seconds(1))) process_.kill(SIGKILL);
    throw ResourceError(fmt::format("{}: partner process {} {} before the probe finished", probe_, pid,
                                    describe_wait_status(process_.wait())));
  }

 private:
  std::string probe_;
  std::chrono::milliseconds limit_;
  Subprocess process_;
  PartnerWatch watch_;  // after process_: stopped before the partner is killed and reaped
};

/// A thread that runs `body`, which returns once `stop` has been called; destroying it
/// stops and joins the thread, also when a probe fails half-way.
class ProbeThread {
 public:
  ProbeThread(std::function<void()> body, std::function<void()> stop)
      : stop_(std::move(stop)), thread_(std::move(body)) {}
  ~ProbeThread() {
    stop_();
    thread_.join();
  }
  ProbeThread(const ProbeThread&) = delete;
  ProbeThread& operator=(const ProbeThread&) = delete;

 private:
  std::function<void()> stop_;
  std::thread thread_;
};

/// Echoes every byte read from `in` to `out` until EOF (in a child: async-signal-safe).
void echo_bytes(int in, int out) noexcept {
  char c;
  while (::read(in, &c, 1) == 1) {
    if (::write(out, &c, 1) != 1) return;
  }
}

/// A batch of `n` one-byte round trips: write to `out`, read the echo from `in`.
auto round_trips(int out, int in) {
  return [out, in](int n) {
    for (int i = 0; i < n; ++i) {
      write_byte(out);
      read_byte(in);
    }
  };
}

ProbeResult thread_create_join(int batches, int per_batch, const ProbeOptions&) {
  return time_batches("thread_create_join", "std::thread create + join of an empty function", batches, per_batch,
                      [](int n) {
                        for (int i = 0; i < n; ++i) std::thread([] {}).join();
                      });
}

ProbeResult condvar_round_trip(int batches, int per_batch, const ProbeOptions&) {
  std::mutex mutex;
  std::condition_variable cv;
  long long turn = 0;  // even: ping's turn, odd: pong's
  bool stop = false;
  ProbeThread pong(
      [&] {
        std::unique_lock lock(mutex);
        for (;;) {
          cv.wait(lock, [&] { return turn % 2 == 1 || stop; });
          if (stop) return;
          ++turn;
          cv.notify_one();
        }
      },
      [&] {
        {
          std::lock_guard lock(mutex);
          stop = true;
        }
        cv.notify_one();
      });
  return time_batches("condvar_round_trip", "wake another thread with a condition variable and be woken back", batches,
                      per_batch, [&](int n) {
                        std::unique_lock lock(mutex);
                        for (int i = 0; i < n; ++i) {
                          ++turn;
                          cv.notify_one();
                          cv.wait(lock, [&] { return turn % 2 == 0; });
                        }
                      });
}

/// A batch of `n` one-byte round trips with a partner process: send to `out`, read the
/// echo from `in`; a partner that is gone fails the probe.
auto round_trips_with(Partner& partner, int out, int in, bool socket) {
  return [&partner, out, in, socket](int n) {
    for (int i = 0; i < n; ++i) {
      if (!send_to_partner(out, socket) || !receive_from_partner(in)) partner.fail();
      partner.progressed();
    }
  };
}

ProbeResult pipe_round_trip(int batches, int per_batch, const ProbeOptions& options) {
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) throw_system_error("probe pipe", errno);
  UniqueFd child_in(to_child[0]), parent_out(to_child[1]);
  if (::pipe2(from_child, O_CLOEXEC) != 0) throw_system_error("probe pipe", errno);
  UniqueFd parent_in(from_child[0]), child_out(from_child[1]);
  auto echo = [&] { echo_bytes(child_in.get(), child_out.get()); };
  Partner partner("pipe_round_trip", echo, options);
  // With no write end of the partner's pipe left here, its death is end-of-file; the read
  // end of ours stays open, so writing to a dead partner raises no SIGPIPE.
  child_out.reset();
  return time_batches("pipe_round_trip", "one byte to another process and back over two pipes", batches, per_batch,
                      round_trips_with(partner, parent_out.get(), parent_in.get(), false));
}

ProbeResult socketpair_round_trip(int batches, int per_batch, const ProbeOptions& options) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) throw_system_error("probe socketpair", errno);
  UniqueFd parent(pair[0]), child_end(pair[1]);
  auto echo = [&] { echo_bytes(child_end.get(), child_end.get()); };
  Partner partner("socketpair_round_trip", echo, options);
  child_end.reset();  // the partner's death is then end-of-file here
  return time_batches("socketpair_round_trip", "one byte to another process and back over a UNIX socketpair", batches,
                      per_batch, round_trips_with(partner, parent.get(), parent.get(), true));
}

long futex(std::atomic<int>* word, int op, int value) {
  return ::syscall(SYS_futex, reinterpret_cast<int*>(word), op, value, nullptr, nullptr, 0);
}

/// One page of memory shared with children forked after it, unmapped on destruction.
class SharedPage {
 public:
  SharedPage() : memory_(::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)) {
    if (memory_ == MAP_FAILED) throw_system_error("probe mmap", errno);
  }
  ~SharedPage() { ::munmap(memory_, size); }
  SharedPage(const SharedPage&) = delete;
  SharedPage& operator=(const SharedPage&) = delete;
  void* get() const noexcept { return memory_; }

 private:
  static constexpr std::size_t size = 4096;
  void* memory_;
};

ProbeResult shm_futex_round_trip(int batches, int per_batch, const ProbeOptions& options) {
  enum Turn : int { parent_turn = 0, partner_turn = 1, partner_gone = 2 };
  SharedPage page;
  auto* word = ::new (page.get()) std::atomic<int>(parent_turn);
  auto flip_back = [word] {
    for (;;) {
      const int turn = word->load(std::memory_order_acquire);
      if (turn == partner_turn) {
        word->store(parent_turn, std::memory_order_release);
        futex(word, FUTEX_WAKE, 1);
      } else if (turn == parent_turn) {
        futex(word, FUTEX_WAIT, parent_turn);
      } else {
        return;
      }
    }
  };
  // Once the partner has ended (or been killed for silence), the watch marks the word so
  // that the sleeping parent wakes and fails; the parent takes its turn only from
  // parent_turn, so it never overwrites the mark.
  Partner partner("shm_futex_round_trip", flip_back, options, [word] {
    word->store(partner_gone, std::memory_order_release);
    futex(word, FUTEX_WAKE, 1);
  });
  return time_batches("shm_futex_round_trip", "flip a word in shared memory, futex-wake another process, be woken back",
                      batches, per_batch, [&](int n) {
                        for (int i = 0; i < n; ++i) {
                          int turn = parent_turn;
                          if (!word->compare_exchange_strong(turn, partner_turn, std::memory_order_acq_rel))
                            partner.fail();
                          futex(word, FUTEX_WAKE, 1);
                          while ((turn = word->load(std::memory_order_acquire)) == partner_turn)
                            futex(word, FUTEX_WAIT, partner_turn);
                          if (turn == partner_gone) partner.fail();
                          partner.progressed();
                        }
                      });
}

ProbeResult fork_exit_wait(int batches, int per_batch, const ProbeOptions& options) {
  // A child that does not exit within the limit (stopped from outside) is killed, so
  // waitpid ends; the probe then fails.
  std::atomic<pid_t> current{0};
  PartnerWatch watch(options.partner_timeout, [&current] {
    if (const pid_t pid = current.load(std::memory_order_relaxed); pid > 0) ::kill(pid, SIGKILL);
  });
  return time_batches("fork_exit_wait", "fork a child that exits at once, and reap it", batches, per_batch, [&](int n) {
    for (int i = 0; i < n; ++i) {
      const pid_t pid = ::fork();
      if (pid < 0) throw_system_error("probe fork", errno);
      if (pid == 0) ::_exit(0);
      current.store(pid, std::memory_order_relaxed);
      int status = 0;
      pid_t r;
      while ((r = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
      }
      current.store(0, std::memory_order_relaxed);
      // ECHILD: SIGCHLD is ignored and the kernel reaped the child, which did exit.
      if (r == pid && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
        throw ResourceError(fmt::format("fork_exit_wait: child process {} {}", pid,
                                        watch.found_silent() ? fmt::format("did not exit for {}, so it was killed",
                                                                           seconds_text(options.partner_timeout))
                                                             : describe_wait_status(status)));
      watch.progressed();
    }
  });
}

ProbeResult tcp_round_trip(int batches, int per_batch, const ProbeOptions&) {
  UniqueFd listener = scenarios::listen_on_loopback(1);
  UniqueFd client = scenarios::connect_to_loopback(scenarios::local_port(listener.get()), std::chrono::seconds(5));
  UniqueFd server(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!server) throw_system_error("probe accept", errno);
  const int yes = 1;
  ::setsockopt(server.get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  ProbeThread echo([&] { echo_bytes(server.get(), server.get()); }, [&] { ::shutdown(client.get(), SHUT_RDWR); });
  return time_batches("tcp_round_trip", "one byte over loopback TCP to another thread and back", batches, per_batch,
                      round_trips(client.get(), client.get()));
}

struct Probe {
  const char* name;
  int default_per_batch;
  ProbeResult (*run)(int, int, const ProbeOptions&);
};

const std::vector<Probe>& probes() {
  static const std::vector<Probe> table{
      {"thread_create_join", 300, &thread_create_join},
      {"condvar_round_trip", 2000, &condvar_round_trip},
      {"pipe_round_trip", 2000, &pipe_round_trip},
      {"socketpair_round_trip", 2000, &socketpair_round_trip},
      {"shm_futex_round_trip", 2000, &shm_futex_round_trip},
      {"fork_exit_wait", 20, &fork_exit_wait},
      {"tcp_round_trip", 2000, &tcp_round_trip},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& probe_names() {
  static const std::vector<std::string> names = names_of(probes());
  return names;
}

ProbeResult run_probe(const std::string& name, int batches, int per_batch, const ProbeOptions& options) {
  const Probe* p = find_named(probes(), name);
  if (!p) throw_unknown_name("probe", name, probe_names());
  return p->run(batches, per_batch > 0 ? per_batch : p->default_per_batch, options);
}

}  // namespace poolbench::bench
