#pragma once

#include <cstdint>

namespace poolbench {

/// The first byte of a worker's reply. A request (RemoteCall::request) is the task id (u64) then its arguments;
/// an ok reply carries the encoded result, an error reply the exception's type and message.
enum class ReplyStatus : std::uint8_t { ok = 0, error = 1 };

}  // namespace poolbench
