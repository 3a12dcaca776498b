#include "pools/core/task_registry.hpp"

#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>

namespace poolbench {
namespace {

std::uint64_t fnv1a(std::string_view text) noexcept {
  std::uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  return hash;
}

}  // namespace

struct TaskRegistry::Table {
  mutable std::mutex mutex;
  std::map<std::uint64_t, std::unique_ptr<TaskEntry>> entries;
};

TaskRegistry& TaskRegistry::instance() {
  static TaskRegistry registry;
  return registry;
}

TaskRegistry::Table& TaskRegistry::table() const {
  static Table table;
  return table;
}

const TaskEntry& TaskRegistry::add(std::string name, TaskTrampoline call) {
  const auto id = fnv1a(name);
  Table& t = table();
  std::lock_guard lock(t.mutex);
  auto [it, inserted] = t.entries.try_emplace(id, nullptr);
  if (!inserted) {
    std::fprintf(stderr, "poolbench: two tasks are registered as '%s' (or their names collide)\n", name.c_str());
    std::abort();
  }
  it->second = std::make_unique<TaskEntry>(TaskEntry{std::move(name), id, call});
  return *it->second;
}

const TaskEntry* TaskRegistry::find(std::uint64_t id) const noexcept {
  const Table& t = table();
  std::lock_guard lock(t.mutex);
  const auto it = t.entries.find(id);
  return it == t.entries.end() ? nullptr : it->second.get();
}

}  // namespace poolbench
