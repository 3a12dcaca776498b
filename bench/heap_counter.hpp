#pragma once

#include <cstdint>

namespace poolbench::bench {

/// Heap allocations made through `operator new` by this process so far, in all threads.
/// Linking bench_lib replaces the global `operator new` with a counting one (malloc
/// underneath), so `run` can report allocations per task; counting costs one uncontended
/// increment per allocation.
std::uint64_t heap_allocations() noexcept;

}  // namespace poolbench::bench
