#pragma once

#include <cstddef>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

#include "pools/core/future.hpp"

namespace poolbench {

/// One queued unit of work: a move-only, type-erased task that an executor either runs,
/// cancels or fails, exactly once. Bodies up to `inline_capacity` bytes live inside the
/// Job, so queueing a small task allocates nothing beyond its future's state.
class Job {
 public:
  static constexpr std::size_t inline_capacity = 64;

  Job() noexcept = default;

  /// `body` provides `TaskOutcome run()`, `void cancel()` and `void fail(std::exception_ptr)`.
  template <class Body>
  requires(!std::is_same_v<std::decay_t<Body>, Job>) explicit Job(Body&& body) {
    using B = std::decay_t<Body>;
    if constexpr (fits_inline<B>()) {
      ::new (static_cast<void*>(storage_)) B(std::forward<Body>(body));
      ops_ = &inline_ops<B>;
    } else {
      ::new (static_cast<void*>(storage_)) B*(new B(std::forward<Body>(body)));
      ops_ = &heap_ops<B>;
    }
  }

  Job(Job&& other) noexcept { take(other); }
  Job& operator=(Job&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;
  ~Job() { reset(); }

  explicit operator bool() const noexcept { return ops_ != nullptr; }

  /// Runs the task unless its future was cancelled first; says how it ended.
  TaskOutcome run() {
    return consume([](const Ops* ops, void* body) { return ops->run(body); });
  }

  /// Ends the task as cancelled without running it.
  TaskOutcome cancel() noexcept {
    return consume([](const Ops* ops, void* body) {
      ops->cancel(body);
      return TaskOutcome::cancelled;
    });
  }

  /// Ends the task with `error` without running it (the executor could not run it).
  TaskOutcome fail(std::exception_ptr error) noexcept {
    return consume([&](const Ops* ops, void* body) {
      ops->fail(body, std::move(error));
      return TaskOutcome::failed;
    });
  }

 private:
  struct Ops {
    TaskOutcome (*run)(void*);
    void (*cancel)(void*) noexcept;
    void (*fail)(void*, std::exception_ptr) noexcept;
    /// Null where the stored bytes may simply be copied: a trivially copyable body, or
    /// the pointer to one on the heap. A job changes hands several times on its way to a
    /// worker, and a copy of its bytes costs less than a call through this table.
    void (*move)(void* from, void* to) noexcept;
    /// Null where the body has nothing to destroy (a trivially destructible inline body).
    void (*destroy)(void*) noexcept;
  };

  template <class B>
  static constexpr bool fits_inline() {
    return sizeof(B) <= inline_capacity && alignof(B) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<B>;
  }

  template <class B>
  static B& inline_body(void* p) noexcept {
    return *std::launder(static_cast<B*>(p));
  }
  template <class B>
  static B& heap_body(void* p) noexcept {
    return **std::launder(static_cast<B**>(p));
  }

  template <class B>
  static void relocate_inline(void* from, void* to) noexcept {
    ::new (to) B(std::move(inline_body<B>(from)));
    inline_body<B>(from).~B();
  }
  template <class B>
  static void destroy_inline(void* p) noexcept {
    inline_body<B>(p).~B();
  }

  template <class B>
  static constexpr Ops inline_ops{[](void* p) { return inline_body<B>(p).run(); },
                                  [](void* p) noexcept { inline_body<B>(p).cancel(); },
                                  [](void* p, std::exception_ptr e) noexcept { inline_body<B>(p).fail(std::move(e)); },
                                  std::is_trivially_copyable_v<B> ? nullptr : &relocate_inline<B>,
                                  std::is_trivially_destructible_v<B> ? nullptr : &destroy_inline<B>};

  template <class B>
  static constexpr Ops heap_ops{[](void* p) { return heap_body<B>(p).run(); },
                                [](void* p) noexcept { heap_body<B>(p).cancel(); },
                                [](void* p, std::exception_ptr e) noexcept { heap_body<B>(p).fail(std::move(e)); },
                                nullptr, [](void* p) noexcept { delete &heap_body<B>(p); }};

  template <class F>
  TaskOutcome consume(F&& action) {
    const Ops* ops = std::exchange(ops_, nullptr);
    struct Destroy {
      const Ops* ops;
      void* body;
      ~Destroy() {
        if (ops->destroy) ops->destroy(body);
      }
    } destroy{ops, storage_};
    return action(ops, static_cast<void*>(storage_));
  }

  void take(Job& other) noexcept {
    if (other.ops_) {
      if (other.ops_->move)
        other.ops_->move(other.storage_, storage_);
      else
        std::memcpy(storage_, other.storage_, inline_capacity);
      ops_ = std::exchange(other.ops_, nullptr);
    }
  }

  /// A job dropped without being run still ends: its future is cancelled, never left pending.
  void reset() noexcept {
    if (ops_) cancel();
  }

  alignas(std::max_align_t) std::byte storage_[inline_capacity];
  const Ops* ops_ = nullptr;
};

namespace detail {

/// A job body that runs `fn` and stores its result or exception in a future's state.
template <class R, class Fn>
class FutureTask {
 public:
  FutureTask(std::shared_ptr<State<R>> state, Fn fn) : state_(std::move(state)), fn_(std::move(fn)) {}

  TaskOutcome run() {
    if (!state_->try_start()) return TaskOutcome::cancelled;
    try {
      if constexpr (std::is_void_v<R>) {
        fn_();
        state_->set_value();
      } else {
        state_->set_value(fn_());
      }
      return TaskOutcome::completed;
    } catch (...) {
      state_->set_exception(std::current_exception());
      return TaskOutcome::failed;
    }
  }
  void cancel() noexcept { state_->cancel(); }
  void fail(std::exception_ptr error) noexcept { state_->set_exception(std::move(error)); }

 private:
  std::shared_ptr<State<R>> state_;
  Fn fn_;
};

/// A job body with no future (`post`): an exception is counted and reported, not stored.
template <class Fn>
class DetachedTask {
 public:
  explicit DetachedTask(Fn fn) : fn_(std::move(fn)) {}

  TaskOutcome run() {
    try {
      fn_();
      return TaskOutcome::completed;
    } catch (...) {
      report_unobserved_error(std::current_exception());
      return TaskOutcome::failed;
    }
  }
  void cancel() noexcept {}
  void fail(std::exception_ptr error) noexcept { report_unobserved_error(std::move(error)); }

 private:
  Fn fn_;
};

}  // namespace detail
}  // namespace poolbench
