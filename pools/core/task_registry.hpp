#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>

#include "pools/core/wire.hpp"

namespace poolbench {

/// Decodes a task's arguments, calls it, and encodes its result.
using TaskTrampoline = void (*)(WireReader& arguments, WireWriter& result);

/// One named task, callable from a worker process that received only its id.
struct TaskEntry {
  std::string name;
  std::uint64_t id;
  TaskTrampoline call;
};

/// The process-wide table of named tasks. Every process of one executable fills it the
/// same way at static initialisation, so an id sent by the parent means the same function
/// in a worker — as Python pickles a function by its qualified name.
class TaskRegistry {
 public:
  static TaskRegistry& instance();

  /// Registers `name`; a second task with the same name is a programming error (abort).
  const TaskEntry& add(std::string name, TaskTrampoline call);
  /// The task with `id`, or nullptr.
  const TaskEntry* find(std::uint64_t id) const noexcept;

 private:
  TaskRegistry() = default;
  struct Table;
  Table& table() const;
};

namespace detail {

template <class F>
struct FunctionTraits;
template <class R, class... A>
struct FunctionTraits<R (*)(A...)> {
  using result = R;
  using arguments = std::tuple<std::decay_t<A>...>;
};
template <class R, class... A>
struct FunctionTraits<R (*)(A...) noexcept> : FunctionTraits<R (*)(A...)> {};

template <class T>
concept TransferableResult = std::is_void_v<T> || Transferable<T>;

}  // namespace detail

/// A plain function made runnable by name on every executor, including `process-pool`.
/// Define one at namespace scope so it registers at static initialisation:
///   int square(int x) { return x * x; }
///   const poolbench::RegisteredTask<&square> square_task{"example.square"};
template <auto Fn>
class RegisteredTask {
  using Traits = detail::FunctionTraits<decltype(Fn)>;

 public:
  using result_type = typename Traits::result;
  using arguments = typename Traits::arguments;

  static_assert(detail::TransferableResult<result_type>,
                "a registered task returns void or a Transferable value: std::string, UniqueFd, bool, a scoped enum or "
                "a trivially copyable value holding no pointer");

  explicit RegisteredTask(std::string name) : entry_(&TaskRegistry::instance().add(std::move(name), &trampoline)) {}

  std::uint64_t id() const noexcept { return entry_->id; }
  const std::string& name() const noexcept { return entry_->name; }
  static constexpr auto function() noexcept { return Fn; }

  /// Encodes `args` as this task's parameters for a worker process.
  template <class... A>
  static void encode(WireWriter& out, A&&... args) {
    static_assert(sizeof...(A) == std::tuple_size_v<arguments>, "wrong number of task arguments");
    encode_each(out, std::make_index_sequence<sizeof...(A)>{}, std::forward<A>(args)...);
  }

 private:
  template <std::size_t... I, class... A>
  static void encode_each(WireWriter& out, std::index_sequence<I...>, A&&... args) {
    (out.put(std::tuple_element_t<I, arguments>(std::forward<A>(args))), ...);
  }

  template <std::size_t... I>
  static arguments decode(WireReader& in, std::index_sequence<I...>) {
    return arguments{in.get<std::tuple_element_t<I, arguments>>()...};
  }

  static void trampoline(WireReader& in, WireWriter& out) {
    auto args = decode(in, std::make_index_sequence<std::tuple_size_v<arguments>>{});
    in.expect_end();
    if constexpr (std::is_void_v<result_type>) {
      std::apply(Fn, std::move(args));
    } else {
      out.put(std::apply(Fn, std::move(args)));
    }
  }

  const TaskEntry* entry_;
};

}  // namespace poolbench
