#include "bench/probes.hpp"

#include <fmt/format.h>
#include <fcntl.h>
#include <signal.h>
#include <linux/futex.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <new>
#include <thread>

#include "pools/errors.hpp"
#include "pools/named_table.hpp"
#include "pools/unique_fd.hpp"
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

/// A forked child process that runs `body` and exits; destroying it kills and reaps the
/// child, so a probe that fails half-way leaves no process behind. The body may only make
/// async-signal-safe calls (read, write, futex, _exit), which POSIX allows in the child
/// of a multi-threaded parent.
class ProbeChild {
 public:
  template <class Body>
  explicit ProbeChild(Body body) {
    pid_ = ::fork();
    if (pid_ < 0) throw_system_error("probe fork", errno);
    if (pid_ == 0) {
      body();
      ::_exit(0);
    }
  }
  ~ProbeChild() {
    ::kill(pid_, SIGKILL);
    int status;
    ::waitpid(pid_, &status, 0);
  }
  ProbeChild(const ProbeChild&) = delete;
  ProbeChild& operator=(const ProbeChild&) = delete;

 private:
  pid_t pid_ = -1;
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

ProbeResult thread_create_join(int batches, int per_batch) {
  return time_batches("thread_create_join", "std::thread create + join of an empty function", batches, per_batch,
                      [](int n) {
                        for (int i = 0; i < n; ++i) std::thread([] {}).join();
                      });
}

ProbeResult condvar_round_trip(int batches, int per_batch) {
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

ProbeResult pipe_round_trip(int batches, int per_batch) {
  int to_child[2], from_child[2];
  if (::pipe2(to_child, O_CLOEXEC) != 0) throw_system_error("probe pipe", errno);
  UniqueFd child_in(to_child[0]), parent_out(to_child[1]);
  if (::pipe2(from_child, O_CLOEXEC) != 0) throw_system_error("probe pipe", errno);
  UniqueFd parent_in(from_child[0]), child_out(from_child[1]);
  ProbeChild child([&] { echo_bytes(child_in.get(), child_out.get()); });
  return time_batches("pipe_round_trip", "one byte to another process and back over two pipes", batches, per_batch,
                      round_trips(parent_out.get(), parent_in.get()));
}

ProbeResult socketpair_round_trip(int batches, int per_batch) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) throw_system_error("probe socketpair", errno);
  UniqueFd parent(pair[0]), child_end(pair[1]);
  ProbeChild child([&] { echo_bytes(child_end.get(), child_end.get()); });
  return time_batches("socketpair_round_trip", "one byte to another process and back over a UNIX socketpair", batches,
                      per_batch, round_trips(parent.get(), parent.get()));
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

ProbeResult shm_futex_round_trip(int batches, int per_batch) {
  SharedPage page;
  auto* word = ::new (page.get()) std::atomic<int>(0);  // 0: parent's turn to ping, 1: child's turn
  ProbeChild child([word] {
    for (;;) {
      if (word->load(std::memory_order_acquire) == 1) {
        word->store(0, std::memory_order_release);
        futex(word, FUTEX_WAKE, 1);
      } else {
        futex(word, FUTEX_WAIT, 0);
      }
    }
  });
  return time_batches("shm_futex_round_trip", "flip a word in shared memory, futex-wake another process, be woken back",
                      batches, per_batch, [&](int n) {
                        for (int i = 0; i < n; ++i) {
                          word->store(1, std::memory_order_release);
                          futex(word, FUTEX_WAKE, 1);
                          while (word->load(std::memory_order_acquire) == 1) futex(word, FUTEX_WAIT, 1);
                        }
                      });
}

ProbeResult fork_exit_wait(int batches, int per_batch) {
  return time_batches("fork_exit_wait", "fork a child that exits at once, and reap it", batches, per_batch, [](int n) {
    for (int i = 0; i < n; ++i) {
      const pid_t pid = ::fork();
      if (pid < 0) throw_system_error("probe fork", errno);
      if (pid == 0) ::_exit(0);
      int status;
      ::waitpid(pid, &status, 0);
    }
  });
}

ProbeResult tcp_round_trip(int batches, int per_batch) {
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
  ProbeResult (*run)(int, int);
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

ProbeResult run_probe(const std::string& name, int batches, int per_batch) {
  const Probe* p = find_named(probes(), name);
  if (!p) throw_unknown_name("probe", name, probe_names());
  return p->run(batches, per_batch > 0 ? per_batch : p->default_per_batch);
}

}  // namespace poolbench::bench
