#include "pools/core/job.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

namespace poolbench {
namespace {

/// Counts how many of its kind are alive, so a test can tell that every body made was
/// destroyed exactly once however many Jobs it passed through.
struct Tally {
  int alive = 0;
  int runs = 0;
  int cancels = 0;
};

/// A body that is not trivially copyable: it owns memory and counts its lives.
class OwningBody {
 public:
  OwningBody(Tally& tally, std::string text, std::string& out) : tally_(&tally), text_(std::move(text)), out_(&out) {
    ++tally_->alive;
  }
  OwningBody(OwningBody&& other) noexcept : tally_(other.tally_), text_(std::move(other.text_)), out_(other.out_) {
    ++tally_->alive;
  }
  ~OwningBody() { --tally_->alive; }
  TaskOutcome run() {
    ++tally_->runs;
    *out_ = text_;
    return TaskOutcome::completed;
  }
  void cancel() noexcept { ++tally_->cancels; }
  void fail(std::exception_ptr) noexcept {}

 private:
  Tally* tally_;
  std::string text_;
  std::string* out_;
};

/// A trivially copyable body, copied as bytes when its Job moves.
struct PlainBody {
  int* out;
  int value;
  TaskOutcome run() {
    *out = value;
    return TaskOutcome::completed;
  }
  void cancel() noexcept { *out = -1; }
  void fail(std::exception_ptr) noexcept {}
};
static_assert(std::is_trivially_copyable_v<PlainBody>);

/// Too large to live inside a Job: it lives on the heap and the Job holds its address.
struct LargeBody {
  std::array<int, 64> values{};
  std::vector<int>* out;
  TaskOutcome run() {
    out->assign(values.begin(), values.end());
    return TaskOutcome::completed;
  }
  void cancel() noexcept {}
  void fail(std::exception_ptr) noexcept {}
};

/// Moves a job through as many hands as an executor's queue does, ending in a vector's growth.
Job passed_around(Job job) {
  std::vector<Job> jobs;
  jobs.push_back(std::move(job));
  for (int i = 0; i < 8; ++i) jobs.emplace_back();
  Job last = std::move(jobs.front());
  return last;
}

TEST(Job, AnOwningBodyArrivesWholeAndIsDestroyedOnce) {
  // A short string lives inside its object (its bytes cannot simply be copied), a long one on the heap.
  for (const std::string& text : {std::string("short"), std::string(100, 'x') + "end"}) {
    Tally tally;
    std::string out;
    {
      Job job = passed_around(Job(OwningBody(tally, text, out)));
      EXPECT_EQ(job.run(), TaskOutcome::completed);
      EXPECT_EQ(tally.alive, 0) << "a run job destroys its body";
    }
    EXPECT_EQ(out, text);
    EXPECT_EQ(tally.runs, 1);
    EXPECT_EQ(tally.alive, 0);
  }
}

TEST(Job, AnOwningBodyDroppedAfterMovesIsCancelledOnce) {
  Tally tally;
  std::string out;
  { Job job = passed_around(Job(OwningBody(tally, "never", out))); }
  EXPECT_EQ(tally.cancels, 1);
  EXPECT_EQ(tally.runs, 0);
  EXPECT_EQ(tally.alive, 0);
  EXPECT_EQ(out, "");
}

TEST(Job, APlainBodyArrivesWithItsValuesAfterMoves) {
  int out = 0;
  Job job = passed_around(Job(PlainBody{&out, 42}));
  EXPECT_EQ(job.run(), TaskOutcome::completed);
  EXPECT_EQ(out, 42);
  EXPECT_FALSE(job) << "a job is consumed by running it";
}

TEST(Job, APlainBodyDroppedAfterMovesIsCancelled) {
  int out = 0;
  { Job job = passed_around(Job(PlainBody{&out, 42})); }
  EXPECT_EQ(out, -1);
}

TEST(Job, ALargeBodyOnTheHeapArrivesWholeAfterMoves) {
  std::vector<int> out;
  LargeBody body;
  for (int i = 0; i < 64; ++i) body.values[static_cast<std::size_t>(i)] = i * 3;
  body.out = &out;
  Job job = passed_around(Job(body));
  EXPECT_EQ(job.run(), TaskOutcome::completed);
  ASSERT_EQ(out.size(), 64U);
  EXPECT_EQ(out[63], 63 * 3);
}

}  // namespace
}  // namespace poolbench
