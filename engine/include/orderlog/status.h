// Status and Result<T>: how every expected failure (I/O, corruption, conflicts,
// bad input, limits) is reported across the engine. No exceptions cross the
// engine's API; bugs are not statuses, they trip OL_CHECK (see check.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace orderlog {

enum class StatusCode : uint8_t {
  kOk = 0,
  kNotFound,
  kCorruption,
  kIoError,
  kNoSpace,
  kInvalidArgument,
  kTooLarge,
  kWrongExpectedVersion,
  kBusy,
  kReadOnly,
  kClosed,
  kTimedOut,
};

std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;

  static Status ok() { return Status(); }
  static Status not_found(std::string message) { return {StatusCode::kNotFound, std::move(message)}; }
  static Status corruption(std::string message) { return {StatusCode::kCorruption, std::move(message)}; }
  static Status io_error(std::string message) { return {StatusCode::kIoError, std::move(message)}; }
  static Status no_space(std::string message) { return {StatusCode::kNoSpace, std::move(message)}; }
  static Status invalid_argument(std::string message) { return {StatusCode::kInvalidArgument, std::move(message)}; }
  static Status too_large(std::string message) { return {StatusCode::kTooLarge, std::move(message)}; }
  static Status busy(std::string message) { return {StatusCode::kBusy, std::move(message)}; }
  static Status read_only(std::string message) { return {StatusCode::kReadOnly, std::move(message)}; }
  static Status closed(std::string message) { return {StatusCode::kClosed, std::move(message)}; }
  static Status timed_out(std::string message) { return {StatusCode::kTimedOut, std::move(message)}; }
  // `actual_version` is the stream's version when the append was decided.
  static Status wrong_expected_version(std::string message, uint64_t actual_version) {
    Status status(StatusCode::kWrongExpectedVersion, std::move(message));
    status.actual_version_ = actual_version;
    return status;
  }
  // errno-based I/O failure; ENOSPC maps to kNoSpace.
  static Status from_errno(int error_number, std::string_view context);

  bool is_ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // Only set for kWrongExpectedVersion.
  std::optional<uint64_t> actual_version() const { return actual_version_; }

  // The same status with "context: " put before its message.
  Status with_context(std::string_view context) const {
    Status copy = *this;
    copy.message_ = std::string(context) + ": " + message_;
    return copy;
  }

  // "Corruption: segment 00000000000000000001.log offset 4096: checksum mismatch".
  std::string to_string() const;

 private:
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::optional<uint64_t> actual_version_;
};

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : storage_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : storage_(std::move(status)) {}  // NOLINT: implicit by design

  bool is_ok() const { return std::holds_alternative<T>(storage_); }
  explicit operator bool() const { return is_ok(); }

  // REQUIRES: is_ok().
  T& value() & { return std::get<T>(storage_); }
  const T& value() const& { return std::get<T>(storage_); }
  T&& value() && { return std::get<T>(std::move(storage_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // ok() when holding a value.
  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(storage_); }

 private:
  std::variant<T, Status> storage_;
};

}  // namespace orderlog

// Propagates a non-ok Status from an expression returning Status.
#define OL_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::orderlog::Status ol_status_ = (expr);      \
    if (!ol_status_.is_ok()) return ol_status_;  \
  } while (0)

#define OL_CONCAT_INNER(a, b) a##b
#define OL_CONCAT(a, b) OL_CONCAT_INNER(a, b)
// `OL_ASSIGN_OR_RETURN(auto x, f());` binds the value or returns the Status.
#define OL_ASSIGN_OR_RETURN(lhs, expr) OL_ASSIGN_OR_RETURN_IMPL(OL_CONCAT(ol_result_, __LINE__), lhs, expr)
#define OL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.is_ok()) return tmp.status();         \
  lhs = std::move(tmp).value()
