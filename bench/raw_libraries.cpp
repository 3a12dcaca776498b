#include "bench/raw_libraries.hpp"

#include <oneapi/tbb/global_control.h>
#include <oneapi/tbb/info.h>
#include <oneapi/tbb/task_arena.h>
#include <oneapi/tbb/task_group.h>

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include <latch>
#include <optional>

#include "pools/core/errors.hpp"
#include "pools/core/executor.hpp"
#include "pools/core/named_table.hpp"
#include "pools/core/tsan_annotations.hpp"

namespace poolbench::bench {
namespace {

/// An arena shaped as TbbExecutor's: `workers` slots, none reserved for the caller, and
/// oneTBB allowed the threads to fill them.
class Arena {
 public:
  explicit Arena(std::size_t workers) : arena_(static_cast<int>(workers), /*reserved_for_masters=*/0) {
    if (static_cast<int>(workers) + 1 > oneapi::tbb::info::default_concurrency())
      parallelism_.emplace(oneapi::tbb::global_control::max_allowed_parallelism, workers + 1);
    arena_.initialize();
  }
  oneapi::tbb::task_arena& get() noexcept { return arena_; }

 private:
  std::optional<oneapi::tbb::global_control> parallelism_;
  oneapi::tbb::task_arena arena_;
};

/// One latch count-down, handed to oneTBB (which is not built with ThreadSanitizer, so the
/// hand-off is annotated as the adapter's is; a no-op in other builds).
struct CountDown {
  std::latch* latch;
  explicit CountDown(std::latch* l) : latch(l) { tsan_published(this); }
  CountDown(const CountDown& other) : latch(other.latch) { tsan_published(this); }
  void operator()() const {
    tsan_received(const_cast<CountDown*>(this));
    latch->count_down();
  }
};

class TbbEnqueue final : public TaskBatch {
 public:
  explicit TbbEnqueue(std::size_t workers) : arena_(workers) {}
  void run(std::uint64_t tasks) override {
    std::latch done(static_cast<std::ptrdiff_t>(tasks));
    for (std::uint64_t i = 0; i < tasks; ++i) arena_.get().enqueue(CountDown(&done));
    done.wait();
  }

 private:
  Arena arena_;
};

class TbbTaskGroup final : public TaskBatch {
 public:
  explicit TbbTaskGroup(std::size_t workers) : arena_(workers) {}
  void run(std::uint64_t tasks) override {
    arena_.get().execute([tasks] {
      oneapi::tbb::task_group group;
      for (std::uint64_t i = 0; i < tasks; ++i) group.run([] {});
      group.wait();
    });
  }

 private:
  Arena arena_;
};

class AsioPost final : public TaskBatch {
 public:
  explicit AsioPost(std::size_t workers) : pool_(workers) {}
  ~AsioPost() override { pool_.join(); }
  AsioPost(const AsioPost&) = delete;
  AsioPost& operator=(const AsioPost&) = delete;
  void run(std::uint64_t tasks) override {
    std::latch done(static_cast<std::ptrdiff_t>(tasks));
    for (std::uint64_t i = 0; i < tasks; ++i) boost::asio::post(pool_, [&done] { done.count_down(); });
    done.wait();
  }

 private:
  boost::asio::thread_pool pool_;
};

struct RawLibrary {
  const char* name;
  std::unique_ptr<TaskBatch> (*make)(std::size_t);
};

template <class Run>
std::unique_ptr<TaskBatch> make(std::size_t workers) {
  return std::make_unique<Run>(workers);
}

const std::vector<RawLibrary>& raw_libraries() {
  static const std::vector<RawLibrary> table{
      {"tbb_enqueue", &make<TbbEnqueue>},
      {"tbb_task_group", &make<TbbTaskGroup>},
      {"asio_post", &make<AsioPost>},
  };
  return table;
}

}  // namespace

const std::vector<std::string>& raw_library_names() {
  static const std::vector<std::string> names = names_of(raw_libraries());
  return names;
}

std::unique_ptr<TaskBatch> make_raw_library_run(const std::string& name, std::size_t workers) {
  const RawLibrary* library = find_named(raw_libraries(), name);
  if (!library) throw_unknown_name("raw library path", name, raw_library_names());
  return library->make(require_workers(workers, name));
}

}  // namespace poolbench::bench
