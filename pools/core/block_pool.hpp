#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POOLBENCH_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define POOLBENCH_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define POOLBENCH_POISON(p, n) ((void)(p), (void)(n))
#define POOLBENCH_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace poolbench::detail {

/// Recycles memory blocks of one size, so objects made and dropped once per task (future
/// states) cost no heap allocation once the pool has warmed up. Each thread keeps a small
/// cache; full caches pass batches to a shared depot, which feeds threads whose caches run
/// dry — blocks freed by workers flow back to the submitting thread, the way
/// thread-caching allocators work. The depot keeps at most `depot_limit` blocks; beyond
/// that, blocks go back to the heap.
template <std::size_t Size>
class BlockPool {
 public:
  static constexpr std::size_t batch = 64;
  static constexpr std::size_t depot_limit = std::size_t{1} << 16;

  static void* allocate() {
    Cache& cache = local();
    if (cache.blocks.empty()) depot().refill(cache.blocks);
    if (cache.blocks.empty()) return ::operator new(Size);
    void* block = cache.blocks.back();
    cache.blocks.pop_back();
    POOLBENCH_UNPOISON(block, Size);
    return block;
  }

  static void deallocate(void* block) noexcept {
    POOLBENCH_POISON(block, Size);
    Cache& cache = local();
    if (cache.blocks.size() >= 2 * batch) depot().take(cache.blocks, batch);
    cache.blocks.push_back(block);  // within the capacity reserved up front: cannot throw
  }

 private:
  static void release(void* block) noexcept {
    POOLBENCH_UNPOISON(block, Size);
    ::operator delete(block);
  }

  /// Never destroyed: threads outside our control (oneTBB's workers) may exit after
  /// static destruction and hand their caches back then.
  class Depot {
   public:
    /// Moves up to one batch into `out` (which is empty).
    void refill(std::vector<void*>& out) {
      std::lock_guard lock(mutex_);
      const std::size_t n = blocks_.size() < batch ? blocks_.size() : batch;
      out.insert(out.end(), blocks_.end() - static_cast<std::ptrdiff_t>(n), blocks_.end());
      blocks_.resize(blocks_.size() - n);
    }
    /// Takes the last `n` blocks of `from`, freeing those beyond the depot's limit.
    void take(std::vector<void*>& from, std::size_t n) noexcept {
      const auto first = from.end() - static_cast<std::ptrdiff_t>(n < from.size() ? n : from.size());
      {
        std::lock_guard lock(mutex_);
        auto it = first;
        for (; it != from.end() && blocks_.size() < depot_limit; ++it) blocks_.push_back(*it);
        for (; it != from.end(); ++it) release(*it);
      }
      from.erase(first, from.end());
    }

   private:
    std::mutex mutex_;
    std::vector<void*> blocks_;
  };

  struct Cache {
    std::vector<void*> blocks;
    Cache() { blocks.reserve(2 * batch + 1); }
    ~Cache() { depot().take(blocks, blocks.size()); }
  };

  static Depot& depot() {
    alignas(Depot) static std::byte storage[sizeof(Depot)];
    static Depot* const instance = ::new (static_cast<void*>(storage)) Depot();
    return *instance;
  }
  static Cache& local() {
    thread_local Cache cache;
    return cache;
  }
};

/// A standard allocator over BlockPool for single objects (what std::allocate_shared
/// asks for); arrays and over-aligned types use the heap as usual.
template <class T>
class RecyclingAllocator {
 public:
  using value_type = T;

  RecyclingAllocator() noexcept = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}

  T* allocate(std::size_t n) {
    if (n == 1 && pooled) return static_cast<T*>(Pool::allocate());
    return std::allocator<T>{}.allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (n == 1 && pooled) return Pool::deallocate(p);
    std::allocator<T>{}.deallocate(p, n);
  }

  template <class U>
  bool operator==(const RecyclingAllocator<U>&) const noexcept {
    return true;
  }

 private:
  static constexpr std::size_t rounded = (sizeof(T) + 63) / 64 * 64;
  static constexpr bool pooled = alignof(T) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__;
  using Pool = BlockPool<rounded>;
};

}  // namespace poolbench::detail
