#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "pools/core/errors.hpp"
#include "pools/core/unique_fd.hpp"

namespace poolbench {

namespace detail {

/// Types that are trivially copyable but refer to memory of the process they were made
/// in: their bytes mean nothing in another process.
template <class T>
struct is_pointer_like
    : std::bool_constant<std::is_pointer_v<T> || std::is_member_pointer_v<T> || std::is_null_pointer_v<T>> {};
template <class C, class Traits>
struct is_pointer_like<std::basic_string_view<C, Traits>> : std::true_type {};
template <class T, std::size_t N>
struct is_pointer_like<std::span<T, N>> : std::true_type {};
template <class T>
struct is_pointer_like<std::reference_wrapper<T>> : std::true_type {};

/// An enum whose every value of the underlying type is a valid value: a scoped enum,
/// which always has a fixed underlying type. Unscoped enums may not, and a byte from
/// another process outside their range would be undefined behaviour.
template <class T>
concept ScopedEnum = std::is_enum_v<T> && !std::is_convertible_v<T, std::underlying_type_t<T>>;

}  // namespace detail

/// A type that can cross a process boundary as a task argument or result: `std::string`
/// (bytes), `UniqueFd` (passed with SCM_RIGHTS), `bool` (checked on arrival to be 0 or 1),
/// scoped enums (any value of their fixed underlying type is one of theirs), or another
/// trivially copyable value that holds no pointer — pointers,
/// `std::string_view` and `std::span` are refused. A class type must be valid for every
/// byte pattern (no `bool` or enum members), since a worker's bytes are not trusted.
template <class T>
concept Transferable = std::is_same_v<T, std::string> || std::is_same_v<T, UniqueFd> || std::is_same_v<T, bool> ||
    detail::ScopedEnum<T> ||
    (std::is_trivially_copyable_v<T> && !detail::is_pointer_like<T>::value && !std::is_enum_v<T>);

/// The most bytes one encoded message may hold: a task's arguments, or its result. Larger
/// ones are refused at `submit` (or fail the task, for a result) rather than sent.
inline constexpr std::size_t max_message_bytes = std::size_t{64} << 20;
/// The most fds one message may carry: a task's arguments, or its result.
inline constexpr std::size_t max_message_fds = 16;

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
    } else if constexpr (std::is_same_v<T, bool>) {
      bytes_.push_back(value ? 1 : 0);
    } else if constexpr (std::is_enum_v<T>) {
      put(static_cast<std::underlying_type_t<T>>(value));
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
/// a short or malformed message (a bool that is neither 0 nor 1, an fd index it was not
/// sent) rather than reading past its end or making an invalid value.
class WireReader {
 public:
  WireReader(std::string_view bytes, std::vector<UniqueFd> fds = {}) : bytes_(bytes), fds_(std::move(fds)) {}

  template <Transferable T>
  T get() {
    if constexpr (std::is_same_v<T, UniqueFd>) {
      const auto index = get<std::uint32_t>();
      if (index >= fds_.size() || !fds_[index]) throw NotTransferableError("message names a missing fd");
      return std::move(fds_[index]);
    } else if constexpr (std::is_same_v<T, std::string>) {
      const auto size = get<std::uint64_t>();
      return std::string(take(size));
    } else if constexpr (std::is_same_v<T, bool>) {
      const auto byte = static_cast<unsigned char>(take(1)[0]);
      if (byte > 1) throw NotTransferableError("message holds a bool that is neither 0 nor 1");
      return byte == 1;
    } else if constexpr (std::is_enum_v<T>) {
      return static_cast<T>(get<std::underlying_type_t<T>>());
    } else {
      T value;
      std::memcpy(&value, take(sizeof(T)).data(), sizeof(T));
      return value;
    }
  }

  bool at_end() const noexcept { return offset_ == bytes_.size(); }
  /// Throws NotTransferableError unless every byte was read: a message with bytes after
  /// its last value is malformed.
  void expect_end() const {
    if (!at_end())
      throw NotTransferableError("message has " + std::to_string(bytes_.size() - offset_) +
                                 " bytes after its last value");
  }

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
