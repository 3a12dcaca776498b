#pragma once

namespace poolbench {

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* address);
extern "C" void __tsan_release(void* address);
#endif

/// Tells ThreadSanitizer that a hand-off through code it cannot see (a prebuilt library
/// such as oneTBB) orders what happened before `tsan_published(object)` with what follows
/// `tsan_received(object)`. Both are no-ops in other builds.
inline void tsan_published(void* object) noexcept {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(object);
#else
  (void)object;
#endif
}

inline void tsan_received(void* object) noexcept {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(object);
#else
  (void)object;
#endif
}

}  // namespace poolbench
