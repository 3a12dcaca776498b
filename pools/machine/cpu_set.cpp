#include "pools/machine/cpu_set.hpp"

#include <pthread.h>
#include <sched.h>

#include <cerrno>

#include "pools/core/errors.hpp"

namespace poolbench {
namespace {

cpu_set_t to_native(const std::vector<unsigned>& pus) {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (unsigned pu : pus) {
    if (pu < CPU_SETSIZE) CPU_SET(pu, &set);
  }
  return set;
}

}  // namespace

std::string CpuSet::to_string() const {
  std::string out;
  for (std::size_t i = 0; i < pus.size();) {
    std::size_t j = i;
    while (j + 1 < pus.size() && pus[j + 1] == pus[j] + 1) ++j;
    if (!out.empty()) out += ',';
    out += std::to_string(pus[i]);
    if (j > i) out += '-' + std::to_string(pus[j]);
    i = j + 1;
  }
  return out;
}

void CpuSet::bind_this_thread() const {
  const cpu_set_t set = to_native(pus);
  if (const int err = pthread_setaffinity_np(pthread_self(), sizeof set, &set); err != 0)
    throw_system_error("cannot bind a worker thread to PUs " + to_string(), err);
}

void CpuSet::bind_process(pid_t pid) const {
  const cpu_set_t set = to_native(pus);
  if (sched_setaffinity(pid, sizeof set, &set) != 0)
    throw_system_error("cannot bind worker process " + std::to_string(pid) + " to PUs " + to_string(), errno);
}

}  // namespace poolbench
