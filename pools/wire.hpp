#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "pools/errors.hpp"
#include "pools/unique_fd.hpp"

namespace poolbench {

/// A type that can cross a process boundary as a task argument or result: a trivially
/// copyable value (no pointers), `std::string` (bytes), or `UniqueFd` (passed with SCM_RIGHTS).
template <class T>
concept Transferable =
    std::is_same_v<T, std::string> || std::is_same_v<T, UniqueFd> ||
    (std::is_trivially_copyable_v<T> && !std::is_pointer_v<T> && !std::is_member_pointer_v<T>);

/// An encoded message's bytes: up to 64 live inside the object, so the message of a small
/// task or result allocates nothing.
using WireBytes = boost::container::small_vector<char, 64>;

inline std::string_view as_view(const WireBytes& bytes) noexcept { return {bytes.data(), bytes.size()}; }

/// Appends task arguments or results to a byte buffer plus a list of fds to send along.
class WireWriter {
 public:
  template <Transferable T>
  void put(T value) {
    if constexpr (std::is_same_v<T, UniqueFd>) {
      put(static_cast<std::uint32_t>(fds_.size()));
      fds_.push_back(std::move(value));
    } else if constexpr (std::is_same_v<T, std::string>) {
      put(static_cast<std::uint64_t>(value.size()));
      bytes_.insert(bytes_.end(), value.begin(), value.end());
    } else {
      const auto* p = reinterpret_cast<const char*>(&value);
      bytes_.insert(bytes_.end(), p, p + sizeof(T));
    }
  }

  std::string_view bytes() const noexcept { return as_view(bytes_); }
  WireBytes take_bytes() noexcept { return std::move(bytes_); }
  std::vector<UniqueFd>& fds() noexcept { return fds_; }

 private:
  WireBytes bytes_;
  std::vector<UniqueFd> fds_;
};

/// Reads back what a WireWriter wrote, in the same order; throws NotTransferableError on
/// a short or malformed message rather than reading past its end.
class WireReader {
 public:
  WireReader(std::string_view bytes, std::vector<UniqueFd> fds = {})
      : bytes_(bytes), fds_(std::move(fds)) {}

  template <Transferable T>
  T get() {
    if constexpr (std::is_same_v<T, UniqueFd>) {
      const auto index = get<std::uint32_t>();
      if (index >= fds_.size() || !fds_[index]) throw NotTransferableError("message names a missing fd");
      return std::move(fds_[index]);
    } else if constexpr (std::is_same_v<T, std::string>) {
      const auto size = get<std::uint64_t>();
      return std::string(take(size));
    } else {
      T value;
      std::memcpy(&value, take(sizeof(T)).data(), sizeof(T));
      return value;
    }
  }

  bool at_end() const noexcept { return offset_ == bytes_.size(); }

 private:
  std::string_view take(std::uint64_t size) {
    if (size > bytes_.size() - offset_) throw NotTransferableError("message is shorter than its contents");
    const auto piece = bytes_.substr(offset_, size);
    offset_ += size;
    return piece;
  }

  std::string_view bytes_;
  std::vector<UniqueFd> fds_;
  std::size_t offset_ = 0;
};

}  // namespace poolbench
