// Status names and the errno translation shared by every I/O path. Kept out of the
// header so <cstring> and the errno table stay private to one file.
#include "orderlog/status.h"

#include <cerrno>
#include <cstring>

namespace orderlog {

std::string_view status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "Ok";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kCorruption: return "Corruption";
    case StatusCode::kIoError: return "IoError";
    case StatusCode::kNoSpace: return "NoSpace";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kTooLarge: return "TooLarge";
    case StatusCode::kWrongExpectedVersion: return "WrongExpectedVersion";
    case StatusCode::kBusy: return "Busy";
    case StatusCode::kReadOnly: return "ReadOnly";
    case StatusCode::kClosed: return "Closed";
    case StatusCode::kTimedOut: return "TimedOut";
  }
  return "Unknown";
}

namespace {

// strerror_r comes in an XSI flavour (returns int, fills the buffer) and a GNU one
// (returns the text, maybe not in the buffer); overloading accepts either, and both
// are thread-safe where plain strerror is not guaranteed to be.
[[maybe_unused]] const char* strerror_text(int result, const char* buffer) {
  return result == 0 ? buffer : "Unknown error";
}
[[maybe_unused]] const char* strerror_text(const char* result, const char* /*buffer*/) { return result; }

}  // namespace

Status Status::from_errno(int error_number, std::string_view context) {
  char buffer[128] = {};
  std::string message(context);
  message += ": ";
  message += strerror_text(strerror_r(error_number, buffer, sizeof(buffer)), buffer);
  message += " (errno ";
  message += std::to_string(error_number);
  message += ")";
  // A full disk is the one I/O failure callers react to differently (stop accepting
  // appends rather than treat the disk as broken), so it gets its own code.
  if (error_number == ENOSPC || error_number == EDQUOT) return no_space(std::move(message));
  return io_error(std::move(message));
}

std::string Status::to_string() const {
  if (is_ok()) return "Ok";
  std::string text(status_code_name(code_));
  text += ": ";
  text += message_;
  return text;
}

}  // namespace orderlog
