#include "pools/process/reply_ring.hpp"

#include <sys/mman.h>
#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "pools/core/errors.hpp"

namespace poolbench {
namespace {

using Word = std::uint32_t;
constexpr Word on_socket_flag = Word{1} << 31;
constexpr Word wrap_word = ~Word{0};

constexpr std::size_t entry_size(std::size_t bytes) noexcept { return (sizeof(Word) + bytes + 7) & ~std::size_t{7}; }

}  // namespace

struct ReplyRing::Shared {
  static constexpr std::size_t capacity = 64 * 1024;

  // Leaves `data` uninitialised, so creating a ring touches one page, not all of them.
  Shared() noexcept {}

  alignas(64) std::atomic<std::uint64_t> head{0};  ///< bytes the reader has taken
  alignas(64) std::atomic<std::uint64_t> tail{0};  ///< bytes the writer has published
  alignas(64) std::atomic<std::uint32_t> reader_sleeping{0};
  alignas(64) std::atomic<std::uint32_t> caller_polls{0};
  alignas(64) char data[capacity];

  static_assert(std::atomic<std::uint64_t>::is_always_lock_free && std::atomic<std::uint32_t>::is_always_lock_free,
                "the ring's counters must be lock-free to work between processes");
  static_assert(capacity == ReplyRing::Layout::capacity, "Layout must describe this struct");
  static_assert(max_entries * entry_size(max_entry) + entry_size(max_entry) <= capacity,
                "max_entries of the largest entry, plus the space one wrap skips, must fit in the ring");
};

ReplyRing ReplyRing::create() {
  static_assert(offsetof(Shared, head) == Layout::head && offsetof(Shared, tail) == Layout::tail &&
                    offsetof(Shared, reader_sleeping) == Layout::reader_sleeping &&
                    offsetof(Shared, caller_polls) == Layout::caller_polls && offsetof(Shared, data) == Layout::data,
                "Layout must describe Shared");
  UniqueFd fd(::memfd_create("poolbench-replies", MFD_CLOEXEC));
  if (!fd) throw_system_error("cannot create shared memory for a worker's replies", errno);
  if (::ftruncate(fd.get(), sizeof(Shared)) != 0)
    throw_system_error("cannot size shared memory for a worker's replies", errno);
  void* memory = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (memory == MAP_FAILED) throw_system_error("cannot map shared memory for a worker's replies", errno);
  return ReplyRing(std::move(fd), std::construct_at(static_cast<Shared*>(memory)));
}

ReplyRing ReplyRing::attach(UniqueFd fd) {
  struct stat info {};
  if (::fstat(fd.get(), &info) != 0 || static_cast<std::size_t>(info.st_size) != sizeof(Shared))
    throw ResourceError("the pool sent a reply ring of the wrong size");
  void* memory = ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
  if (memory == MAP_FAILED) throw_system_error("cannot map the pool's reply ring", errno);
  // The creator constructed the ring; this process only maps it.
  return ReplyRing(UniqueFd(), std::launder(static_cast<Shared*>(memory)));
}

ReplyRing::ReplyRing(ReplyRing&& other) noexcept
    : fd_(std::move(other.fd_)), shared_(std::exchange(other.shared_, nullptr)), read_head_(other.read_head_) {}

ReplyRing& ReplyRing::operator=(ReplyRing&& other) noexcept {
  if (this != &other) {
    if (shared_) ::munmap(shared_, sizeof(Shared));
    fd_ = std::move(other.fd_);
    shared_ = std::exchange(other.shared_, nullptr);
    read_head_ = other.read_head_;
  }
  return *this;
}

ReplyRing::~ReplyRing() {
  if (shared_) ::munmap(shared_, sizeof(Shared));
}

bool ReplyRing::push(std::string_view reply) {
  if (reply.size() > max_entry) throw ResourceError("a reply too large for the ring must go on the socket");
  return append(reply, 0);
}

bool ReplyRing::push_on_socket() { return append({}, on_socket_flag); }

bool ReplyRing::append(std::string_view bytes, Word flags) {
  constexpr std::size_t capacity = Shared::capacity;
  const std::uint64_t tail = shared_->tail.load(std::memory_order_relaxed);
  const std::uint64_t head = shared_->head.load(std::memory_order_acquire);
  const std::size_t need = entry_size(bytes.size());
  const std::size_t pos = tail % capacity;
  // An entry never wraps: the rest of the data area is skipped instead.
  const std::size_t skip = need > capacity - pos ? capacity - pos : 0;
  if (tail + skip + need - head > capacity)
    throw ResourceError("the reply ring is full: the pool stopped reading this worker's replies");
  std::uint64_t at = tail;
  if (skip > 0) {
    std::memcpy(shared_->data + pos, &wrap_word, sizeof wrap_word);
    at += skip;
  }
  const Word word = static_cast<Word>(bytes.size()) | flags;
  std::memcpy(shared_->data + at % capacity, &word, sizeof word);
  if (!bytes.empty()) std::memcpy(shared_->data + at % capacity + sizeof word, bytes.data(), bytes.size());
  // Publishing and then reading the reader's flag, both sequentially consistent, pairs
  // with prepare_to_sleep's store-then-read: either the reader sees this entry, or this
  // writer sees that it sleeps.
  shared_->tail.store(at + need, std::memory_order_seq_cst);
  return shared_->reader_sleeping.load(std::memory_order_seq_cst) != 0 &&
         shared_->reader_sleeping.exchange(0, std::memory_order_seq_cst) != 0;
}

ReplyRing::Entry ReplyRing::front(std::size_t& pos, std::size_t& size) {
  constexpr std::size_t capacity = Shared::capacity;
  // The reader's position is its own: the copy in shared memory only tells the writer
  // where free space begins, and the writer could have changed it.
  for (;;) {
    const std::uint64_t tail = shared_->tail.load(std::memory_order_acquire);
    if (read_head_ == tail) return Entry::none;
    if (tail - read_head_ > capacity || tail % 8 != 0)
      throw WorkerProtocolError("the worker's reply ring is corrupt: it claims " + std::to_string(tail - read_head_) +
                                " bytes of replies in a ring of " + std::to_string(capacity));
    pos = read_head_ % capacity;
    Word word;
    std::memcpy(&word, shared_->data + pos, sizeof word);
    if (word == wrap_word) {
      advance(capacity - pos);
      continue;
    }
    size = word & ~on_socket_flag;
    if (size > max_entry || entry_size(size) > tail - read_head_ || pos + entry_size(size) > capacity)
      throw WorkerProtocolError("the worker's reply ring is corrupt: an entry of " + std::to_string(size) +
                                " bytes at offset " + std::to_string(pos) + " does not fit");
    return (word & on_socket_flag) ? Entry::on_socket : Entry::reply;
  }
}

void ReplyRing::advance(std::size_t bytes) noexcept {
  read_head_ += bytes;
  shared_->head.store(read_head_, std::memory_order_release);
}

void ReplyRing::take(std::size_t pos, std::size_t size, std::string& reply) {
  reply.assign(shared_->data + pos + sizeof(Word), size);
  advance(entry_size(size));
}

ReplyRing::Entry ReplyRing::pop(std::string& reply) {
  std::size_t pos, size;
  const Entry entry = front(pos, size);
  if (entry != Entry::none) take(pos, size, reply);
  return entry;
}

ReplyRing::Entry ReplyRing::pop_reply(std::string& reply) {
  std::size_t pos, size;
  const Entry entry = front(pos, size);
  if (entry == Entry::reply) take(pos, size, reply);
  return entry;
}

bool ReplyRing::has_entry() const noexcept { return shared_->tail.load(std::memory_order_acquire) != read_head_; }

bool ReplyRing::prepare_to_sleep() noexcept {
  shared_->reader_sleeping.store(1, std::memory_order_seq_cst);
  if (shared_->tail.load(std::memory_order_seq_cst) == read_head_) return true;
  shared_->reader_sleeping.store(0, std::memory_order_relaxed);
  return false;
}

void ReplyRing::woke() noexcept { shared_->reader_sleeping.store(0, std::memory_order_relaxed); }

void ReplyRing::set_caller_polls(bool polls) noexcept {
  if (caller_polls() != polls) shared_->caller_polls.store(polls ? 1 : 0, std::memory_order_relaxed);
}

bool ReplyRing::caller_polls() const noexcept { return shared_->caller_polls.load(std::memory_order_relaxed) != 0; }

}  // namespace poolbench
