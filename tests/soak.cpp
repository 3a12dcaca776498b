// pools_soak: runs process-pool and thread-pool for a while under a random mix of tasks,
// cancels, result timeouts, worker deaths of every kind, task timeouts, shutdowns and
// restarts, and checks that every task ended exactly once, with the right value or an
// expected error, that the executors' counts agree, and that nothing leaked.
//
//   pools_soak [--seconds S] [--seed N] [--progress S] [--only process-pool|thread-pool]
//
// Exit codes: 0 all checks passed, 1 a check failed (each failure is printed), 2 bad
// command line, 3 a round hung (the watchdog prints what it was doing, then exits).

#include <cxxabi.h>
#include <dirent.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <typeinfo>
#include <variant>
#include <vector>

#include "pools/core/errors.hpp"
#include "pools/core/executor.hpp"
#include "pools/core/future.hpp"
#include "pools/process/process_pool.hpp"
#include "pools/process/worker_main.hpp"
#include "pools/threads/thread_pool.hpp"
#include "tests/test_tasks.hpp"

namespace {

using namespace std::chrono_literals;
using poolbench::Executor;
using poolbench::Future;
using Clock = std::chrono::steady_clock;

// Sanitized builds run several times slower: every duration the soak chooses is scaled.
constexpr int time_scale = poolbench::testing::sanitized ? 3 : 1;
/// A sanitizer's runtime has its own allocator and shadow memory, which keep what the
/// program freed (51 MiB more after one TSan minute): RSS is printed, not checked.
constexpr bool check_rss = !poolbench::testing::sanitized;

constexpr std::uint32_t max_payload = 1u << 20;
/// RSS may grow by this much from the start figures to the end ones (both taken after
/// malloc_trim(0), with no pool alive) before the soak calls it a leak.
constexpr long rss_bound_kib = 32 * 1024;
/// A round stage that lasts this long is a hang.
constexpr auto hang_limit = std::chrono::seconds(150 * time_scale);
/// A round stage that lasts this long is reported (once) as slow, with what it waits for.
constexpr auto slow_limit = std::chrono::seconds(10 * time_scale);

std::int64_t now_ns() { return Clock::now().time_since_epoch().count(); }
constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

// ---------------------------------------------------------------------------------------
// Payloads and the soak's own registered tasks.

std::uint64_t mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

/// `size` pseudo-random bytes determined by `seed`: a payload is regenerated to check a
/// result rather than kept.
std::string payload(std::uint64_t seed, std::size_t size) {
  std::string bytes(size, '\0');
  for (std::size_t i = 0; i < size; i += 8) {
    const std::uint64_t word = mix64(seed + i);
    std::memcpy(bytes.data() + i, &word, std::min<std::size_t>(8, size - i));
  }
  return bytes;
}

std::uint64_t fnv1a(std::string_view bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : bytes) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

/// Returns `size` bytes that depend on every byte of `input`: sizes each way independent.
std::string soak_fill(std::string input, std::uint64_t size) {
  if (size > max_payload) throw std::length_error("soak.fill: size over 1 MiB");
  return payload(fnv1a(input) ^ size, size);
}

std::uint64_t soak_checksum(std::string input) { return fnv1a(input); }

const poolbench::RegisteredTask<&soak_fill> fill_task{"soak.fill"};
const poolbench::RegisteredTask<&soak_checksum> checksum_task{"soak.checksum"};

// ---------------------------------------------------------------------------------------
// Random choices.

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next() { return engine_(); }
  /// Uniform in [0, n).
  std::uint64_t below(std::uint64_t n) {
    return n == 0 ? 0 : std::uniform_int_distribution<std::uint64_t>(0, n - 1)(engine_);
  }
  /// Uniform in [lo, hi].
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(engine_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(engine_) < p; }
  /// An index drawn with the given weights.
  template <std::size_t N>
  std::size_t pick(const std::array<int, N>& weights) {
    int total = 0;
    for (int w : weights) total += w;
    int r = static_cast<int>(below(static_cast<std::uint64_t>(total)));
    for (std::size_t i = 0; i < N; ++i) {
      if (r < weights[i]) return i;
      r -= weights[i];
    }
    return N - 1;
  }

 private:
  std::mt19937_64 engine_;
};

/// 0 .. 1 MiB: log-uniform mostly, with the edges the pools care about (empty, the 512-byte
/// ring/socket boundary, 64 KiB, the maximum) drawn often.
std::uint32_t payload_size(Rng& rng) {
  static constexpr std::array<std::uint32_t, 12> edges{0,   1,    7,     8,     511,   512,
                                                       513, 4096, 65535, 65536, 65537, max_payload};
  switch (rng.below(8)) {
    case 0:
      return edges[rng.below(edges.size())];
    case 1:
      return max_payload - static_cast<std::uint32_t>(rng.below(64));
    default:
      return static_cast<std::uint32_t>(rng.below(std::uint64_t{1} << rng.below(21)));
  }
}

// ---------------------------------------------------------------------------------------
// Tasks, their futures and how each must end.

enum class Kind : std::uint8_t { reverse, fill, checksum, sleep, raise, segfault, abort, exit, overrun };
constexpr std::array<const char*, 9> kind_names{"reverse",  "fill",  "checksum", "sleep",  "raise",
                                                "segfault", "abort", "exit",     "overrun"};
const char* name_of(Kind k) { return kind_names[static_cast<std::size_t>(k)]; }

struct Task {
  Kind kind{};
  std::uint64_t seed = 0;
  std::uint32_t in_size = 0;
  std::uint32_t out_size = 0;
  int arg = 0;
  bool closure = false;  ///< submitted as a lambda (thread-pool only)
  std::variant<std::monostate, Future<std::string>, Future<std::uint64_t>, Future<int>> future;
  bool cancel_called = false;
  bool cancel_returned = false;
  std::atomic<int> ends{0};  ///< done-callbacks run: must be exactly 1
  std::atomic<std::int64_t> ended_at{never};
  std::atomic<bool> callback_before_done{false};

  std::string describe() const {
    return std::string(name_of(kind)) + " task (seed " + std::to_string(seed) + ", in " + std::to_string(in_size) +
           " B, out " + std::to_string(out_size) + " B, arg " + std::to_string(arg) + (closure ? ", closure" : "") +
           ")";
  }
};

/// What happened to a pool during its round, with when: an error is expected only for a
/// task that ended after its cause.
struct Events {
  std::atomic<std::int64_t> first_kill{never};  ///< an outside SIGKILL was about to be sent
  std::atomic<std::int64_t> shutdown_begun{never};
  std::atomic<std::int64_t> shutdown_cancel{never};   ///< shutdown with cancel_pending began
  std::atomic<std::int64_t> shutdown_timeout{never};  ///< shutdown with a timeout began

  static void mark(std::atomic<std::int64_t>& at) {
    std::int64_t expected = never;
    at.compare_exchange_strong(expected, now_ns());
  }
};

struct Stats {
  std::uint64_t rounds = 0, pools = 0, tasks = 0, completed = 0, failed = 0, cancelled = 0;
  std::uint64_t died_by_task = 0;       ///< WorkerDiedError of a segfault/abort/exit task, by its own hand
  std::uint64_t died_by_kill = 0;       ///< WorkerDiedError naming SIGKILL, after an outside kill
  std::uint64_t task_timeouts = 0;      ///< TimeoutError: task_timeout ran out, the worker was killed and replaced
  std::uint64_t shutdown_timeouts = 0;  ///< TimeoutError: shutdown's timeout ran out
  std::uint64_t raised = 0;             ///< the task's own exception, as expected
  std::uint64_t kills_sent = 0, replacements = 0;
  std::uint64_t cancels_tried = 0, cancels_took = 0, result_timeouts = 0, refused_submits = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;
  std::array<std::uint64_t, 5> modes{};

  void add(const Stats& o) {
    rounds += o.rounds, pools += o.pools, tasks += o.tasks, completed += o.completed, failed += o.failed;
    cancelled += o.cancelled, died_by_task += o.died_by_task, died_by_kill += o.died_by_kill;
    task_timeouts += o.task_timeouts, shutdown_timeouts += o.shutdown_timeouts, raised += o.raised;
    kills_sent += o.kills_sent, replacements += o.replacements, cancels_tried += o.cancels_tried;
    cancels_took += o.cancels_took, result_timeouts += o.result_timeouts, refused_submits += o.refused_submits;
    bytes_in += o.bytes_in, bytes_out += o.bytes_out;
    for (std::size_t i = 0; i < modes.size(); ++i) modes[i] += o.modes[i];
  }
};

// Live figures for the progress line.
std::atomic<std::uint64_t> live_tasks{0}, live_rounds{0}, live_deaths{0};
std::atomic<std::uint64_t> slow_stages{0};

// ---------------------------------------------------------------------------------------
// Failures: printed as they are found (the first 50); the soak goes on to its end, to find more.

std::mutex failures_mutex;
std::vector<std::string> failures;
std::map<std::string, std::uint64_t> failure_kinds;  ///< how many failures of each kind, for the summary

/// `what` with every run of digits replaced by '#': failures that differ only in numbers
/// are of one kind.
std::string without_numbers(std::string_view what) {
  std::string out;
  for (char c : what) {
    if (c >= '0' && c <= '9') {
      if (out.empty() || out.back() != '#') out.push_back('#');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

/// Records a failed check; `kind` groups it in the summary (by default, `what` without numbers).
void fail(const std::string& what, std::string kind = {}) {
  std::lock_guard lock(failures_mutex);
  if (failures.size() < 50) std::fprintf(stderr, "soak: FAILURE: %s\n", what.c_str());
  failures.push_back(what);
  ++failure_kinds[kind.empty() ? without_numbers(what) : kind];
}

void on_unobserved(std::exception_ptr error) noexcept {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    fail(std::string("an unobserved error was reported: ") + e.what(),
         "unobserved error: " + without_numbers(e.what()));
  } catch (...) {
    fail("an unobserved non-standard error was reported");
  }
}

std::string type_name(const std::exception& e) {
  int status = 0;
  char* name = abi::__cxa_demangle(typeid(e).name(), nullptr, nullptr, &status);
  std::string text = status == 0 && name ? name : typeid(e).name();
  std::free(name);
  return text;
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// ---------------------------------------------------------------------------------------
// The process's figures.

struct Figures {
  long fds = 0, threads = 0, children = 0, rss_kib = 0;
  long heap_kib = 0;  ///< malloc's bytes in use (mallinfo2): live allocations, not what the allocator keeps
};

long count_entries(const char* path) {
  DIR* dir = ::opendir(path);
  if (!dir) return -1;
  long n = 0;
  while (const dirent* entry = ::readdir(dir))
    if (std::strcmp(entry->d_name, ".") != 0 && std::strcmp(entry->d_name, "..") != 0) ++n;
  ::closedir(dir);
  return n;
}

/// The parent pid in /proc/<pid>/stat, or -1 (also when the process vanished meanwhile:
/// read with plain system calls, since a read error there is normal, not exceptional).
pid_t parent_of(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", static_cast<int>(pid));
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char text[1024];
  const ssize_t n = ::read(fd, text, sizeof text - 1);
  ::close(fd);
  if (n <= 0) return -1;
  text[n] = '\0';
  const char* paren = std::strrchr(text, ')');
  if (!paren) return -1;
  char state = 0;
  int ppid = -1;
  if (std::sscanf(paren + 1, " %c %d", &state, &ppid) != 2) return -1;
  return ppid;
}

long count_children() {
  DIR* dir = ::opendir("/proc");
  if (!dir) return -1;
  long n = 0;
  const pid_t self = ::getpid();
  while (const dirent* entry = ::readdir(dir)) {
    char* end = nullptr;
    const long pid = std::strtol(entry->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    if (parent_of(static_cast<pid_t>(pid)) == self) ++n;
  }
  ::closedir(dir);
  return n;
}

long rss_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return -1;
}

/// What malloc has handed out and not been given back, over every arena: malloc_info's
/// totals (mallinfo2 covers the main arena only). -1 when they cannot be read.
long heap_in_use_kib() {
  char* text = nullptr;
  std::size_t size = 0;
  FILE* out = ::open_memstream(&text, &size);
  if (!out) return -1;
  const bool ok = ::malloc_info(0, out) == 0;
  std::fclose(out);
  long long fast = -1, rest = -1, mmapped = -1, current = -1;
  if (ok) {
    // The totals over all arenas follow the last arena, so the last match of each counts.
    std::string_view xml(text, size);
    auto last = [&](std::string_view key) {
      const auto at = xml.rfind(key);
      if (at == std::string_view::npos) return -1LL;
      const auto sz = xml.find("size=\"", at);
      return sz == std::string_view::npos ? -1LL : std::atoll(xml.data() + sz + 6);
    };
    fast = last("<total type=\"fast\"");
    rest = last("<total type=\"rest\"");
    mmapped = last("<total type=\"mmap\"");
    current = last("<system type=\"current\"");
  }
  std::free(text);
  if (fast < 0 || rest < 0 || mmapped < 0 || current < 0) return -1;
  return static_cast<long>((current - fast - rest + mmapped) / 1024);
}

Figures take_figures() {
  ::malloc_trim(0);  // memory free()d but cached by the allocator is not a leak
  Figures f;
  f.fds = count_entries("/proc/self/fd") - 1;  // less the directory's own fd
  f.threads = count_entries("/proc/self/task");
  f.children = count_children();
  f.rss_kib = rss_kib();
  f.heap_kib = heap_in_use_kib();
  return f;
}

/// SIGKILLs `pid` only if it is this process's child, with no race against its reaping:
/// the pidfd pins the process, and the parent check is made after it is taken.
bool kill_own_child(pid_t pid) {
  // Called through syscall(): this glibc's <sys/pidfd.h> lacks extern "C" for C++.
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return false;
  bool sent = false;
  if (parent_of(pid) == ::getpid()) sent = ::syscall(SYS_pidfd_send_signal, fd, SIGKILL, nullptr, 0) == 0;
  ::close(fd);
  return sent;
}

// ---------------------------------------------------------------------------------------
// One round: a new pool, submitters, maybe a killer, a shutdown, then the checks.

enum class Mode : std::size_t { drain, now_wait, now_nowait, now_timeout, destructor };
constexpr std::array<const char*, 5> mode_names{"drain then shutdown(wait)", "shutdown(wait) mid-flight",
                                                "shutdown(nowait) mid-flight", "shutdown(wait, timeout) mid-flight",
                                                "destructor after drain"};

struct Params {
  bool process = false;
  bool warm = false;
  std::size_t workers = 1;
  std::chrono::milliseconds task_timeout{0};  ///< 0: none
  int tasks = 0;
  int submitters = 1;
  int kills = 0;
  int kill_gap_ms = 0;
  Mode mode = Mode::drain;
  bool cancel_pending = false;
  std::chrono::milliseconds shutdown_delay{0};
  std::chrono::milliseconds shutdown_timeout{0};

  std::string describe() const {
    std::string s = std::string(process ? "process-pool" : "thread-pool") + " x" + std::to_string(workers);
    if (task_timeout.count()) s += ", task_timeout " + std::to_string(task_timeout.count()) + " ms";
    s += ", " + std::to_string(tasks) + " tasks from " + std::to_string(submitters) + " submitter(s)";
    if (kills) s += ", " + std::to_string(kills) + " outside kill(s)";
    s += ", " + std::string(mode_names[static_cast<std::size_t>(mode)]);
    if (mode != Mode::drain && mode != Mode::destructor)
      s += " after " + std::to_string(shutdown_delay.count()) + " ms";
    if (cancel_pending) s += ", cancel_pending";
    if (mode == Mode::now_timeout) s += ", timeout " + std::to_string(shutdown_timeout.count()) + " ms";
    return s;
  }
};

Params choose_params(bool process, bool warm, Rng& rng) {
  Params p;
  p.process = process;
  p.warm = warm;
  if (process) {
    p.workers = static_cast<std::size_t>(rng.between(1, 4));
    if (warm || rng.chance(0.4)) p.task_timeout = std::chrono::milliseconds(rng.between(400, 800) * time_scale);
    p.tasks = warm ? 60 : static_cast<int>(rng.between(8, 120));
    p.kills = warm || rng.chance(0.35) ? static_cast<int>(rng.between(1, 3)) : 0;
    p.kill_gap_ms = static_cast<int>(rng.between(5, 200));
    p.mode = warm ? Mode::drain : static_cast<Mode>(rng.pick(std::array<int, 5>{30, 15, 15, 25, 15}));
  } else {
    p.workers = static_cast<std::size_t>(rng.between(1, 8));
    p.tasks = warm ? 200 : static_cast<int>(rng.between(10, 600));
    p.mode = warm ? Mode::drain : static_cast<Mode>(rng.pick(std::array<int, 5>{35, 25, 25, 0, 15}));
  }
  p.submitters = static_cast<int>(rng.between(1, 3));
  p.cancel_pending = warm || rng.chance(0.5);
  p.shutdown_delay = std::chrono::milliseconds(rng.chance(0.2) ? 0 : rng.between(1, 40) * time_scale);
  switch (rng.below(3)) {
    case 0:
      p.shutdown_timeout = 0ms;
      break;
    case 1:
      p.shutdown_timeout = std::chrono::milliseconds(rng.between(1, 50) * time_scale);
      break;
    default:
      p.shutdown_timeout = std::chrono::milliseconds(rng.between(50, 300) * time_scale);
      break;
  }
  return p;
}

/// What the watchdog sees of a driver.
struct DriverStatus {
  std::mutex mutex;
  std::string round;
  std::string stage;
  Clock::time_point since = Clock::now();
  bool idle = true;
  bool reported_slow = false;
  std::deque<std::unique_ptr<Task>>* tasks = nullptr;
  std::mutex* tasks_mutex = nullptr;
  Executor* pool = nullptr;

  void set_stage(std::string what) {
    std::lock_guard lock(mutex);
    stage = std::move(what);
    since = Clock::now();
    reported_slow = false;
  }
};

class Round {
 public:
  Round(Params params, std::uint64_t seed, std::uint64_t index, DriverStatus& status)
      : p_(std::move(params)), rng_(seed), index_(index), status_(status) {}

  void run(Stats& stats);

 private:
  struct Submitter {
    Rng rng;
    int tasks;
    int style;  ///< 0 submit all then wait, 1 wait for each, 2 both by turns
    std::uint64_t bytes = 0;
    std::vector<Task*> mine;
    Stats stats;
  };

  std::string where() const { return "round " + std::to_string(index_) + " (" + p_.describe() + ")"; }
  Kind choose_kind(Rng& rng);
  std::unique_ptr<Task> make_task(Submitter& s);
  void submit(Task& t);
  void submit_and_wait(Submitter& s);
  void try_cancel(Task& t, Stats& st);
  void await(Task& t, Rng& rng, Stats& st);
  void kill_workers(Stats& st);
  std::optional<std::string> judge(const Task& t, Stats& st, std::optional<poolbench::TaskOutcome>& outcome) const;
  std::optional<std::string> check_error(const Task& t, std::exception_ptr error, Stats& st) const;
  static std::optional<std::string> check_value(const Task& t, const std::string& value);
  static std::optional<std::string> check_value(const Task& t, std::uint64_t value);
  static std::optional<std::string> check_value(const Task& t, int value);

  Params p_;
  Rng rng_;
  std::uint64_t index_;
  DriverStatus& status_;
  std::unique_ptr<Executor> pool_;
  poolbench::ProcessPool* process_pool_ = nullptr;
  Events events_;
  std::mutex tasks_mutex_;
  std::deque<std::unique_ptr<Task>> tasks_;
  std::atomic<bool> stop_killing_{false};
  Submitter* first_submitter_ = nullptr;
};

Kind Round::choose_kind(Rng& rng) {
  if (p_.process) {
    //                                  rev fill sum sleep raise segv abrt exit overrun
    const std::size_t k = rng.pick(std::array<int, 9>{24, 22, 12, 18, 6, 4, 4, 4, 3});
    if (static_cast<Kind>(k) == Kind::overrun && p_.task_timeout.count() == 0) return Kind::sleep;
    return static_cast<Kind>(k);
  }
  return static_cast<Kind>(rng.pick(std::array<int, 5>{30, 25, 15, 22, 8}));
}

std::unique_ptr<Task> Round::make_task(Submitter& s) {
  auto t = std::make_unique<Task>();
  Rng& rng = s.rng;
  // The warm-up round's first submitter runs every kind once, at the largest sizes, first.
  const auto n = static_cast<std::size_t>(s.stats.tasks);
  if (p_.warm && &s == first_submitter_ && n < (p_.process ? kind_names.size() : 5)) {
    t->kind = static_cast<Kind>(n);
    if (t->kind == Kind::overrun && p_.task_timeout.count() == 0) t->kind = Kind::sleep;
  } else {
    t->kind = choose_kind(rng);
  }
  t->seed = rng.next();
  // Past 32 MiB of payloads in flight from one submitter, the rest are small.
  const bool big_ok = s.bytes < (32u << 20);
  switch (t->kind) {
    case Kind::reverse:
      t->in_size = p_.warm && n < 5 ? max_payload
                   : big_ok         ? payload_size(rng)
                                    : static_cast<std::uint32_t>(rng.below(4096));
      t->out_size = t->in_size;
      break;
    case Kind::fill:
      t->in_size = p_.warm && n < 5 ? max_payload
                   : big_ok         ? payload_size(rng)
                                    : static_cast<std::uint32_t>(rng.below(4096));
      t->out_size = p_.warm && n < 5 ? max_payload
                    : big_ok         ? payload_size(rng)
                                     : static_cast<std::uint32_t>(rng.below(4096));
      break;
    case Kind::checksum:
      t->in_size = big_ok ? payload_size(rng) : static_cast<std::uint32_t>(rng.below(4096));
      t->out_size = 8;
      break;
    case Kind::sleep:
      t->arg = static_cast<int>(rng.chance(0.1) ? rng.between(20, 100) : rng.between(0, 20));
      break;
    case Kind::exit:
      t->arg = static_cast<int>(rng.below(256));
      break;
    case Kind::overrun:
      t->arg = static_cast<int>(2 * p_.task_timeout.count() + 200 * time_scale);
      break;
    default:
      break;
  }
  t->closure = !p_.process && (t->kind == Kind::reverse || t->kind == Kind::checksum) && rng.chance(0.3);
  s.bytes += t->in_size + t->out_size;
  return t;
}

void Round::submit(Task& t) {
  namespace tt = poolbench::testing;
  Executor& ex = *pool_;
  switch (t.kind) {
    case Kind::reverse:
      if (t.closure) {
        t.future = ex.submit([bytes = payload(t.seed, t.in_size)]() mutable {
          std::reverse(bytes.begin(), bytes.end());
          return bytes;
        });
      } else {
        t.future = ex.submit(tt::reverse_task, payload(t.seed, t.in_size));
      }
      break;
    case Kind::fill:
      t.future = ex.submit(fill_task, payload(t.seed, t.in_size), std::uint64_t{t.out_size});
      break;
    case Kind::checksum:
      if (t.closure) {
        t.future = ex.submit([bytes = payload(t.seed, t.in_size)] { return fnv1a(bytes); });
      } else {
        t.future = ex.submit(checksum_task, payload(t.seed, t.in_size));
      }
      break;
    case Kind::sleep:
    case Kind::overrun:
      t.future = ex.submit(tt::sleep_task, t.arg);
      break;
    case Kind::raise:
      t.future = ex.submit(tt::throw_task, "soak raise " + std::to_string(t.seed));
      break;
    case Kind::segfault:
      t.future = ex.submit(tt::segfault_task);
      break;
    case Kind::abort:
      t.future = ex.submit(tt::abort_task);
      break;
    case Kind::exit:
      t.future = ex.submit(tt::exit_task, t.arg);
      break;
  }
}

void Round::try_cancel(Task& t, Stats& st) {
  std::visit(
      [&](auto& f) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(f)>, std::monostate>) {
          t.cancel_called = true;
          t.cancel_returned = f.cancel();
          ++st.cancels_tried;
          if (t.cancel_returned) ++st.cancels_took;
        }
      },
      t.future);
}

void Round::await(Task& t, Rng& rng, Stats& st) {
  std::visit(
      [&](auto& f) {
        if constexpr (!std::is_same_v<std::decay_t<decltype(f)>, std::monostate>) {
          if (rng.chance(0.25)) {
            static constexpr std::array<std::chrono::nanoseconds, 5> limits{0ns, 1us, 100us, 1ms, 5ms};
            try {
              (void)f.result(limits[rng.below(limits.size())] * time_scale);
            } catch (const poolbench::TimeoutError& e) {
              // The task's own TimeoutError (its task_timeout) is not a wait that timed out.
              if (std::string_view(e.what()) == "the task did not end within the timeout") ++st.result_timeouts;
            } catch (...) {
              // The task's own error: judged once the round is over.
            }
          }
          f.wait();  // a result that timed out is still waited for to the end
        }
      },
      t.future);
}

void Round::submit_and_wait(Submitter& s) {
  for (int i = 0; i < s.tasks; ++i) {
    std::unique_ptr<Task> owned = make_task(s);
    Task* t = owned.get();
    try {
      submit(*t);
    } catch (const poolbench::ExecutorShutdownError& e) {
      ++s.stats.refused_submits;
      if (events_.shutdown_begun.load() == never)
        fail(where() + ": submit was refused before any shutdown: " + e.what(), "submit refused before any shutdown");
      break;
    } catch (const std::exception& e) {
      fail(where() + ": submitting a " + t->describe() + " threw " + type_name(e) + ": " + e.what(),
           "submit threw " + type_name(e) + ": " + without_numbers(e.what()));
      break;
    }
    ++s.stats.tasks;
    s.stats.bytes_in += t->in_size;
    s.stats.bytes_out += t->out_size;
    live_tasks.fetch_add(1, std::memory_order_relaxed);
    {
      std::lock_guard lock(tasks_mutex_);
      tasks_.push_back(std::move(owned));
    }
    std::visit(
        [t](auto& f) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(f)>, std::monostate>) {
            f.add_done_callback([t](const auto& done) {
              if (!done.done()) t->callback_before_done.store(true);
              t->ended_at.store(now_ns());
              t->ends.fetch_add(1, std::memory_order_acq_rel);
            });
          }
        },
        t->future);
    s.mine.push_back(t);
    if (s.rng.chance(0.04)) try_cancel(*t, s.stats);
    if (s.style == 1 || (s.style == 2 && s.rng.chance(0.5))) await(*t, s.rng, s.stats);
    if (s.rng.chance(0.02)) std::this_thread::sleep_for(std::chrono::microseconds(s.rng.between(0, 3000)));
  }
  // Tasks late in a backlog have likely not started: cancel some.
  for (Task* t : s.mine)
    if (!t->cancel_called && s.rng.chance(0.12)) try_cancel(*t, s.stats);
  if (s.rng.chance(0.5)) {
    for (Task* t : s.mine) await(*t, s.rng, s.stats);
  } else {
    for (auto it = s.mine.rbegin(); it != s.mine.rend(); ++it) await(**it, s.rng, s.stats);
  }
}

void Round::kill_workers(Stats& st) {
  for (int k = 0; k < p_.kills && !stop_killing_.load(); ++k) {
    const auto until = Clock::now() + std::chrono::milliseconds(rng_.between(0, p_.kill_gap_ms) * time_scale);
    while (Clock::now() < until && !stop_killing_.load()) std::this_thread::sleep_for(1ms);
    std::vector<pid_t> pids = process_pool_->worker_pids();
    std::erase_if(pids, [](pid_t pid) { return pid <= 0; });
    if (pids.empty()) continue;
    const pid_t victim = pids[rng_.below(pids.size())];
    Events::mark(events_.first_kill);
    if (kill_own_child(victim)) ++st.kills_sent;
  }
}

std::optional<std::string> Round::check_value(const Task& t, const std::string& value) {
  if (value.size() != t.out_size)
    return "returned " + std::to_string(value.size()) + " bytes, not " + std::to_string(t.out_size);
  const std::string input = payload(t.seed, t.in_size);
  std::size_t bad = value.size();
  if (t.kind == Kind::reverse) {
    for (std::size_t i = 0; i < value.size() && bad == value.size(); ++i)
      if (value[i] != input[input.size() - 1 - i]) bad = i;
  } else if (t.kind == Kind::fill) {
    const std::string expected = payload(fnv1a(input) ^ t.out_size, t.out_size);
    const auto mismatch = std::mismatch(value.begin(), value.end(), expected.begin());
    if (mismatch.first != value.end()) bad = static_cast<std::size_t>(mismatch.first - value.begin());
  } else {
    return "completed with a string, which it does not return";
  }
  if (bad != value.size()) return "returned a wrong byte at offset " + std::to_string(bad);
  return std::nullopt;
}

std::optional<std::string> Round::check_value(const Task& t, std::uint64_t value) {
  if (t.kind != Kind::checksum) return "completed with a number, which it does not return";
  if (value != fnv1a(payload(t.seed, t.in_size))) return "returned a wrong checksum";
  return std::nullopt;
}

std::optional<std::string> Round::check_value(const Task& t, int value) {
  if (t.kind != Kind::sleep) return "completed with " + std::to_string(value) + ", though it must not complete";
  if (value != t.arg) return "returned " + std::to_string(value) + ", not " + std::to_string(t.arg);
  return std::nullopt;
}

std::optional<std::string> Round::check_error(const Task& t, std::exception_ptr error, Stats& st) const {
  const std::int64_t end = t.ended_at.load();
  const std::string raise_message = "soak raise " + std::to_string(t.seed);
  try {
    std::rethrow_exception(error);
  } catch (const poolbench::WorkerDiedError& e) {
    const std::string_view m = e.what();
    if (!p_.process) return "failed with WorkerDiedError on a thread-pool: " + std::string(m);
    if (contains(m, "SIGKILL") && end >= events_.first_kill.load()) {
      ++st.died_by_kill;
      return std::nullopt;
    }
    const bool own = (t.kind == Kind::segfault && contains(m, "SIGSEGV")) ||
                     (t.kind == Kind::abort && contains(m, "SIGABRT")) ||
                     (t.kind == Kind::exit && contains(m, "exited with code " + std::to_string(t.arg) + " while"));
    if (own && contains(m, std::string("'tests.crash_"))) {
      ++st.died_by_task;
      return std::nullopt;
    }
    return "failed with an unexpected WorkerDiedError: " + std::string(m);
  } catch (const poolbench::TimeoutError& e) {
    const std::string_view m = e.what();
    // Usually "did not end within the task timeout"; when the deadline passes while later
    // calls of a batch are being sent, the flush's "the worker took nothing it was sent
    // before the deadline" (the task that overran still is the one that fails).
    if (p_.process && t.kind == Kind::overrun &&
        (contains(m, "within the task timeout") || contains(m, "took nothing it was sent before the deadline"))) {
      ++st.task_timeouts;
      return std::nullopt;
    }
    if (p_.process && contains(m, "shutdown timeout ran out") && end >= events_.shutdown_timeout.load()) {
      ++st.shutdown_timeouts;
      return std::nullopt;
    }
    return "failed with an unexpected TimeoutError: " + std::string(m);
  } catch (const poolbench::RemoteTaskError& e) {
    if (p_.process && t.kind == Kind::raise && e.what() == raise_message &&
        contains(e.remote_type(), "runtime_error")) {
      ++st.raised;
      return std::nullopt;
    }
    return "failed with an unexpected RemoteTaskError (" + e.remote_type() + "): " + e.what();
  } catch (const poolbench::Error& e) {
    return "failed with an unexpected " + type_name(e) + ": " + e.what();
  } catch (const std::runtime_error& e) {
    if (!p_.process && t.kind == Kind::raise && e.what() == raise_message && typeid(e) == typeid(std::runtime_error)) {
      ++st.raised;
      return std::nullopt;
    }
    return "failed with an unexpected " + type_name(e) + ": " + e.what();
  } catch (const std::exception& e) {
    return "failed with an unexpected " + type_name(e) + ": " + e.what();
  } catch (...) {
    return "failed with a non-standard exception";
  }
}

std::optional<std::string> Round::judge(const Task& t, Stats& st,
                                        std::optional<poolbench::TaskOutcome>& outcome) const {
  return std::visit(
      [&](const auto& f) -> std::optional<std::string> {
        if constexpr (std::is_same_v<std::decay_t<decltype(f)>, std::monostate>) {
          return "has no future";
        } else {
          if (!f.done()) return "has not ended, though its pool is gone";
          const std::int64_t end = t.ended_at.load();
          if (f.cancelled()) {
            outcome = poolbench::TaskOutcome::cancelled;
            if (t.cancel_returned) return std::nullopt;
            if (t.cancel_called) return "was cancelled, though cancel() had returned false";
            if (end >= events_.shutdown_cancel.load() || end >= events_.shutdown_timeout.load()) return std::nullopt;
            return "was cancelled, though nothing cancelled it";
          }
          std::exception_ptr error = f.exception();
          outcome = error ? poolbench::TaskOutcome::failed : poolbench::TaskOutcome::completed;
          if (t.cancel_returned) return "ended, though cancel() had returned true";
          if (error) return check_error(t, error, st);
          return check_value(t, f.get());
        }
      },
      t.future);
}

/// How counts() differ from the futures' outcomes, in words without numbers: "more failed".
std::string compare_counts(const poolbench::TaskCounts& c, std::uint64_t submitted, std::uint64_t completed,
                           std::uint64_t failed, std::uint64_t cancelled) {
  std::string text;
  auto note = [&](const char* what, std::uint64_t counted, std::uint64_t seen) {
    if (counted == seen) return;
    text += text.empty() ? "" : ", ";
    text += (counted > seen ? "more " : "fewer ") + std::string(what);
  };
  note("submitted", c.submitted, submitted);
  note("completed", c.completed, completed);
  note("failed", c.failed, failed);
  note("cancelled", c.cancelled, cancelled);
  return text.empty() ? "ended != submitted" : text;
}

void Round::run(Stats& stats) {
  {
    std::lock_guard lock(status_.mutex);
    status_.round = where();
    status_.idle = false;
  }
  status_.set_stage("starting the pool");
  try {
    if (p_.process) {
      auto pool = std::make_unique<poolbench::ProcessPool>(
          p_.workers, poolbench::Placement{},
          p_.task_timeout.count() ? std::chrono::nanoseconds(p_.task_timeout) : poolbench::ProcessPool::no_timeout);
      process_pool_ = pool.get();
      pool_ = std::move(pool);
    } else {
      pool_ = std::make_unique<poolbench::ThreadPool>(p_.workers);
    }
  } catch (const std::exception& e) {
    fail(where() + ": the pool did not start: " + type_name(e) + ": " + e.what(),
         "a pool did not start: " + type_name(e) + ": " + without_numbers(e.what()));
    std::lock_guard lock(status_.mutex);
    status_.idle = true;
    return;
  }
  {
    std::lock_guard lock(status_.mutex);
    status_.pool = pool_.get();
    status_.tasks = &tasks_;
    status_.tasks_mutex = &tasks_mutex_;
  }
  ++stats.pools;
  ++stats.modes[static_cast<std::size_t>(p_.mode)];

  std::deque<Submitter> submitters;
  int left = p_.tasks;
  for (int i = 0; i < p_.submitters; ++i) {
    const int n = i + 1 == p_.submitters ? left : left / (p_.submitters - i);
    left -= n;
    submitters.push_back(Submitter{Rng(rng_.next()), n, static_cast<int>(rng_.below(3)), 0, {}, {}});
  }
  first_submitter_ = &submitters.front();
  if (p_.warm) first_submitter_->style = 0;

  Stats killer_stats;
  status_.set_stage("submitting and waiting");
  std::thread killer;
  if (p_.process && p_.kills > 0) killer = std::thread([&] { kill_workers(killer_stats); });
  std::vector<std::thread> threads;
  for (auto& s : submitters) threads.emplace_back([this, &s] { submit_and_wait(s); });
  auto join_submitters = [&] {
    for (auto& th : threads) th.join();
    threads.clear();
  };

  auto begin_shutdown = [&](bool with_timeout) {
    Events::mark(events_.shutdown_begun);
    if (p_.cancel_pending) Events::mark(events_.shutdown_cancel);
    if (with_timeout) Events::mark(events_.shutdown_timeout);
  };
  const bool cancel = p_.cancel_pending;
  std::optional<poolbench::TaskCounts> counts;
  switch (p_.mode) {
    case Mode::drain:
      join_submitters();
      status_.set_stage("shutdown(wait) after the drain");
      begin_shutdown(false);
      pool_->shutdown(true, cancel);
      break;
    case Mode::now_wait:
      std::this_thread::sleep_for(p_.shutdown_delay);
      status_.set_stage("shutdown(wait) mid-flight");
      begin_shutdown(false);
      pool_->shutdown(true, cancel);
      break;
    case Mode::now_nowait:
      std::this_thread::sleep_for(p_.shutdown_delay);
      status_.set_stage("shutdown(nowait) mid-flight");
      begin_shutdown(false);
      pool_->shutdown(false, cancel);
      break;
    case Mode::now_timeout:
      std::this_thread::sleep_for(p_.shutdown_delay);
      status_.set_stage("shutdown(wait, timeout) mid-flight");
      begin_shutdown(true);
      process_pool_->shutdown(true, cancel, p_.shutdown_timeout);
      break;
    case Mode::destructor:
      break;
  }
  status_.set_stage("waiting for the submitters' futures");
  join_submitters();
  stop_killing_.store(true);
  if (killer.joinable()) killer.join();
  if (p_.mode == Mode::destructor) {
    // No shutdown before the destructor: the counts settle once the last task is recorded.
    status_.set_stage("waiting for counts() to settle before the destructor");
    const auto limit = Clock::now() + 30s * time_scale;
    // Until every task is counted and the counts hold still for 20 ms: a pool that counts
    // more ended than submitted (checked below) reaches `submitted` before the last tasks.
    poolbench::TaskCounts c = pool_->counts();
    auto still_since = Clock::now();
    while (Clock::now() < limit && (c.ended() < c.submitted || Clock::now() - still_since < 20ms)) {
      std::this_thread::sleep_for(1ms);
      const poolbench::TaskCounts now = pool_->counts();
      if (now.submitted != c.submitted || now.ended() != c.ended() || now.failed != c.failed)
        still_since = Clock::now();
      c = now;
    }
    counts = c;
  } else {
    status_.set_stage("final shutdown(wait)");
    pool_->shutdown(true);  // a second shutdown: returns once every task has ended
    counts = pool_->counts();
  }
  if (process_pool_) stats.replacements += process_pool_->processes_created() - p_.workers;
  status_.set_stage("destroying the pool");
  {
    std::lock_guard lock(status_.mutex);
    status_.pool = nullptr;
  }
  pool_.reset();
  process_pool_ = nullptr;

  status_.set_stage("checking");
  Stats local;
  for (auto& s : submitters) local.add(s.stats);
  local.add(killer_stats);
  std::uint64_t completed = 0, failed = 0, cancelled = 0;
  {
    std::lock_guard lock(tasks_mutex_);
    for (const auto& t : tasks_) {
      const std::string pool_kind = p_.process ? "process-pool: a " : "thread-pool: a ";
      if (const int ends = t->ends.load(); ends != 1)
        fail(where() + ": a " + t->describe() + " ended " + std::to_string(ends) + " times (done-callbacks run)",
             pool_kind + name_of(t->kind) + " task ended " + std::to_string(ends) + " times");
      if (t->callback_before_done.load())
        fail(where() + ": a " + t->describe() + " ran its done-callback before done()",
             pool_kind + name_of(t->kind) + " task ran its done-callback before done()");
      std::optional<poolbench::TaskOutcome> outcome;
      if (auto error = judge(*t, local, outcome))
        fail(where() + ": a " + t->describe() + " " + *error,
             pool_kind + name_of(t->kind) + " task " + without_numbers(*error));
      if (outcome) switch (*outcome) {
          case poolbench::TaskOutcome::completed:
            ++completed;
            break;
          case poolbench::TaskOutcome::failed:
            ++failed;
            break;
          case poolbench::TaskOutcome::cancelled:
            ++cancelled;
            break;
        }
    }
    const poolbench::TaskCounts& c = *counts;
    if ((c.submitted != tasks_.size() || c.completed != completed || c.failed != failed || c.cancelled != cancelled ||
         c.submitted != c.ended())) {
      fail(where() + ": counts() say submitted " + std::to_string(c.submitted) + ", completed " +
               std::to_string(c.completed) + ", failed " + std::to_string(c.failed) + ", cancelled " +
               std::to_string(c.cancelled) + "; the futures say " + std::to_string(tasks_.size()) + " submitted, " +
               std::to_string(completed) + " completed, " + std::to_string(failed) + " failed, " +
               std::to_string(cancelled) + " cancelled",
           std::string(p_.process ? "process-pool" : "thread-pool") + ": counts() disagree with the futures (" +
               compare_counts(c, tasks_.size(), completed, failed, cancelled) + ")");
    }
  }
  local.completed = completed;
  local.failed = failed;
  local.cancelled = cancelled;
  local.rounds = 0;
  local.pools = 0;
  local.modes = {};
  stats.add(local);
  ++stats.rounds;
  live_rounds.fetch_add(1, std::memory_order_relaxed);
  live_deaths.fetch_add(local.died_by_task + local.died_by_kill + local.task_timeouts, std::memory_order_relaxed);
  {
    std::lock_guard lock(status_.mutex);
    status_.tasks = nullptr;
    status_.tasks_mutex = nullptr;
    status_.idle = true;
  }
}

}  // namespace

namespace {

struct Driver {
  Driver(bool process_pool, std::uint64_t driver_seed) : process(process_pool), seed(driver_seed) {}

  bool process;
  std::uint64_t seed;
  DriverStatus status;
  Stats stats;
  std::uint64_t next_round = 0;
  std::atomic<bool> done{false};
  double slowest = 0;
  std::string slowest_round;

  void round(bool warm) {
    const std::uint64_t index = next_round++;
    const std::uint64_t round_seed = mix64(seed ^ mix64(index * 2 + (process ? 1 : 0)));
    Rng rng(round_seed);
    Params params = choose_params(process, warm, rng);
    const std::string description = "round " + std::to_string(index) + " (" + params.describe() + ")";
    const auto began = Clock::now();
    Round(std::move(params), rng.next(), index, status).run(stats);
    const double took = std::chrono::duration<double>(Clock::now() - began).count();
    if (took > slowest) {
      slowest = took;
      slowest_round = description;
    }
  }

  void run_until(Clock::time_point deadline) {
    while (Clock::now() < deadline) round(false);
    done.store(true);
  }
};

/// Exits the process when a round stage outlasts hang_limit, saying what it was doing.
class Watchdog {
 public:
  explicit Watchdog(std::vector<Driver*> drivers) : drivers_(std::move(drivers)), thread_([this] { watch(); }) {}
  ~Watchdog() {
    stop_.store(true);
    thread_.join();
  }

 private:
  void watch() {
    while (!stop_.load()) {
      std::this_thread::sleep_for(200ms);
      for (Driver* d : drivers_) {
        std::lock_guard lock(d->status.mutex);
        if (d->status.idle) continue;
        const auto stuck = Clock::now() - d->status.since;
        if (stuck >= slow_limit && !d->status.reported_slow) {
          d->status.reported_slow = true;
          ++slow_stages;
          report(*d, "SLOW", slow_limit);
        }
        if (stuck < hang_limit) continue;
        report(*d, "HANG", hang_limit);
        std::fflush(stdout);
        std::fflush(stderr);
        ::_exit(3);
      }
    }
  }

  static void report(Driver& d, const char* tag, std::chrono::seconds limit) {
    DriverStatus& s = d.status;
    std::fprintf(stderr, "soak: %s: %s stuck for over %lld s in stage '%s'\n", tag, s.round.c_str(),
                 static_cast<long long>(limit.count()), s.stage.c_str());
    if (s.pool) {
      const poolbench::TaskCounts c = s.pool->counts();
      std::fprintf(stderr,
                   "soak: %s: counts(): submitted %" PRIu64 ", completed %" PRIu64 ", failed %" PRIu64
                   ", cancelled %" PRIu64 "; live workers:",
                   tag, c.submitted, c.completed, c.failed, c.cancelled);
      for (int pid : s.pool->worker_processes()) std::fprintf(stderr, " %d", pid);
      std::fprintf(stderr, "\n");
    }
    if (s.tasks) {
      std::lock_guard lock(*s.tasks_mutex);
      int shown = 0;
      for (const auto& t : *s.tasks) {
        const bool done = std::visit(
            [](const auto& f) {
              if constexpr (std::is_same_v<std::decay_t<decltype(f)>, std::monostate>) {
                return true;
              } else {
                return f.done();
              }
            },
            t->future);
        if (done) continue;
        if (shown++ < 20)
          std::fprintf(stderr, "soak: %s: not ended: %s%s\n", tag, t->describe().c_str(),
                       std::visit(
                           [](const auto& f) {
                             if constexpr (std::is_same_v<std::decay_t<decltype(f)>, std::monostate>) {
                               return "";
                             } else {
                               return f.running() ? ", running" : ", pending";
                             }
                           },
                           t->future));
      }
      std::fprintf(stderr, "soak: %s: %d task(s) not ended\n", tag, shown);
    }
  }

  std::vector<Driver*> drivers_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

int usage(const char* what) {
  std::fprintf(
      stderr,
      "pools_soak: %s\nusage: pools_soak [--seconds S] [--seed N] [--progress S] [--only process-pool|thread-pool]\n",
      what);
  return 2;
}

std::optional<std::uint64_t> parse_number(const char* text) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0' || text[0] == '-') return std::nullopt;
  return v;
}

std::string mib(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  // Process-pool workers re-execute this binary: they serve tasks and never get further.
  if (auto code = poolbench::run_worker_if_requested(argc, argv)) return *code;

  std::uint64_t seconds = 60;
  std::uint64_t progress = 60;
  std::optional<std::uint64_t> seed;
  bool run_process = true, run_thread = true;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (i + 1 >= argc) return usage(("missing value after " + std::string(arg)).c_str());
    if (arg == "--only") {
      const std::string_view which = argv[++i];
      if (which != "process-pool" && which != "thread-pool") return usage("--only takes process-pool or thread-pool");
      run_process = which == "process-pool";
      run_thread = which == "thread-pool";
      continue;
    }
    const auto value = parse_number(argv[++i]);
    if (!value) return usage(("not a number: " + std::string(argv[i])).c_str());
    if (arg == "--seconds") {
      seconds = *value;
    } else if (arg == "--seed") {
      seed = *value;
    } else if (arg == "--progress") {
      progress = *value;
    } else {
      return usage(("unknown option " + std::string(arg)).c_str());
    }
  }
  // Fixed thresholds instead of glibc's dynamic ones: once a 1 MiB payload has been freed,
  // glibc raises its mmap and trim thresholds, and each of up to 16 arenas then keeps MiBs
  // of freed payloads at its top, which malloc_trim returns only for the main arena. RSS
  // would grow with the arenas in use, not with what is live. (Workers are not affected.)
  ::mallopt(M_MMAP_THRESHOLD, 128 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 128 * 1024);
  if (!seed) seed = std::random_device{}() ^ (static_cast<std::uint64_t>(std::random_device{}()) << 32);
  poolbench::set_unobserved_error_handler(&on_unobserved);

  std::printf("soak: seed %" PRIu64 " (rerun the same mix with --seed %" PRIu64 "), %" PRIu64 " s, %s%s\n", *seed,
              *seed, seconds,
              run_process && run_thread ? "process-pool and thread-pool side by side"
              : run_process             ? "process-pool only"
                                        : "thread-pool only",
              time_scale > 1 ? ", sanitized build: durations x3" : "");
  std::fflush(stdout);

  Driver process(true, *seed);
  Driver thread(false, mix64(*seed));
  Watchdog watchdog({&process, &thread});

  // Warm-up, one forced mix (every kind, 1 MiB each way, outside kills) and one random
  // round per pool, so that lazy allocations are made before the start figures.
  {
    std::thread a([&] {
      if (run_process) process.round(true), process.round(false);
    });
    std::thread b([&] {
      if (run_thread) thread.round(true), thread.round(false);
    });
    a.join();
    b.join();
  }
  const Figures start = take_figures();
  const auto started = Clock::now();
  const auto deadline = started + std::chrono::seconds(seconds);
  {
    std::thread a([&] { process.run_until(run_process ? deadline : started); });
    std::thread b([&] { thread.run_until(run_thread ? deadline : started); });
    auto next_progress = started + std::chrono::seconds(progress);
    while (!(process.done.load() && thread.done.load())) {
      std::this_thread::sleep_for(100ms);
      if (progress && Clock::now() >= next_progress) {
        next_progress += std::chrono::seconds(progress);
        std::printf(
            "soak: %4lld s: %" PRIu64 " rounds, %" PRIu64 " tasks, %" PRIu64 " deaths survived, VmRSS %ld KiB\n",
            static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - started).count()),
            live_rounds.load(), live_tasks.load(), live_deaths.load(), rss_kib());
        std::fflush(stdout);
      }
    }
    a.join();
    b.join();
  }
  const double ran = std::chrono::duration<double>(Clock::now() - started).count();
  const Figures end = take_figures();

  Stats all;
  all.add(process.stats);
  all.add(thread.stats);
  const std::uint64_t deaths = all.died_by_task + all.died_by_kill + all.task_timeouts;
  std::printf("soak: ran %.0f s (+ warm-up): %" PRIu64 " rounds, %" PRIu64 " process-pools and %" PRIu64
              " thread-pools started and shut down\n",
              ran, all.rounds, process.stats.pools, thread.stats.pools);
  std::printf("tasks run: %" PRIu64 " (process-pool %" PRIu64 ", thread-pool %" PRIu64 "): completed %" PRIu64
              ", failed %" PRIu64 ", cancelled %" PRIu64 "; payloads %s in, %s out\n",
              all.tasks, process.stats.tasks, thread.stats.tasks, all.completed, all.failed, all.cancelled,
              mib(all.bytes_in).c_str(), mib(all.bytes_out).c_str());
  std::printf("  failed as expected: %" PRIu64 " raised, %" PRIu64 " worker deaths, %" PRIu64 " task timeouts, %" PRIu64
              " shutdown timeouts\n",
              all.raised, all.died_by_task + all.died_by_kill, all.task_timeouts, all.shutdown_timeouts);
  std::printf("  cancel() took %" PRIu64 " of %" PRIu64 ", result(timeout) timed out %" PRIu64 " times, %" PRIu64
              " submits refused after shutdown\n",
              all.cancels_took, all.cancels_tried, all.result_timeouts, all.refused_submits);
  std::printf("  shutdowns:");
  for (std::size_t m = 0; m < mode_names.size(); ++m)
    std::printf("%s %s %" PRIu64, m ? "," : "", mode_names[m], all.modes[m]);
  std::printf("\n");
  std::printf("deaths survived: %" PRIu64 " (segfault/abort/exit %" PRIu64 ", outside SIGKILL %" PRIu64
              ", task_timeout kills %" PRIu64 "); %" PRIu64 " SIGKILLs sent from outside, %" PRIu64
              " replacement workers started\n",
              deaths, all.died_by_task, all.died_by_kill, all.task_timeouts, all.kills_sent, all.replacements);
  for (const Driver* d : {&process, &thread})
    if (d->stats.rounds > 0)
      std::printf("slowest %s round: %.1f s, %s\n", d->process ? "process-pool" : "thread-pool", d->slowest,
                  d->slowest_round.c_str());
  if (const auto slow = slow_stages.load())
    std::printf("stages over %lld s (reported above): %" PRIu64 "\n", static_cast<long long>(slow_limit.count()), slow);
  std::printf("%-26s %10s %10s\n", "this process", "start", "end");
  std::printf("%-26s %10ld %10ld\n", "open descriptors", start.fds, end.fds);
  std::printf("%-26s %10ld %10ld\n", "threads", start.threads, end.threads);
  std::printf("%-26s %10ld %10ld\n", "live child processes", start.children, end.children);
  if (check_rss) {
    std::printf("%-26s %10ld %10ld   (bound: +%ld KiB; malloc_trim'd, mmap/trim thresholds fixed at 128 KiB)\n",
                "VmRSS KiB", start.rss_kib, end.rss_kib, rss_bound_kib);
    std::printf("%-26s %10ld %10ld   (not checked: shows whether RSS growth is live memory)\n", "heap in use KiB",
                start.heap_kib, end.heap_kib);
  } else {
    std::printf("%-26s %10ld %10ld   (not checked: the sanitizer's allocator and shadow memory keep freed memory)\n",
                "VmRSS KiB", start.rss_kib, end.rss_kib);
  }

  std::vector<std::string> reasons;
  {
    std::lock_guard lock(failures_mutex);
    if (!failures.empty()) {
      reasons.push_back(std::to_string(failures.size()) + " check(s) failed, of " +
                        std::to_string(failure_kinds.size()) + " kind(s):");
      for (const auto& [kind, n] : failure_kinds) reasons.push_back("  " + std::to_string(n) + " x " + kind);
      reasons.push_back("the first " + std::to_string(std::min<std::size_t>(failures.size(), 3)) + ":");
      for (std::size_t i = 0; i < failures.size() && i < 3; ++i) reasons.push_back("  " + failures[i]);
    }
  }
  if (end.fds > start.fds) reasons.push_back("open descriptors grew by " + std::to_string(end.fds - start.fds));
  if (end.threads > start.threads) reasons.push_back("threads grew by " + std::to_string(end.threads - start.threads));
  if (end.children > start.children)
    reasons.push_back("live child processes grew by " + std::to_string(end.children - start.children));
  if (check_rss && end.rss_kib - start.rss_kib > rss_bound_kib)
    reasons.push_back("VmRSS grew by " + std::to_string(end.rss_kib - start.rss_kib) + " KiB, over the bound of " +
                      std::to_string(rss_bound_kib) + " KiB");
  if (all.tasks == 0) reasons.push_back("no task ran");
  if (reasons.empty()) {
    std::printf("soak: PASS (seed %" PRIu64 ")\n", *seed);
    return 0;
  }
  for (const auto& r : reasons) std::printf("soak: FAIL: %s\n", r.c_str());
  std::printf("soak: FAIL (seed %" PRIu64 ")\n", *seed);
  return 1;
}
