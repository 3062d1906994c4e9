// See bootstrap.h.
#include "server/bootstrap.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

namespace orderlog::server {
namespace {

constexpr size_t kAdminTokenRandomBytes = 32;

std::string random_hex(size_t bytes) {
  // std::random_device reads the kernel's CSPRNG (getrandom) on Linux.
  std::random_device device;
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes);
  for (size_t i = 0; i < bytes; ++i) {
    const auto byte = static_cast<unsigned>(device()) & 0xffu;
    out.push_back(kDigits[byte >> 4]);
    out.push_back(kDigits[byte & 0xf]);
  }
  return out;
}

Status write_all(int fd, const std::string& content, const std::string& path) {
  size_t written = 0;
  while (written < content.size()) {
    const ssize_t n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::from_errno(errno, "write " + path);
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return Status::from_errno(errno, "fsync " + path);
  return Status::ok();
}

// Creates `path` with mode 0600 (never readable by others, even for a moment).
Status write_new_private_file(const std::string& path, const std::string& content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Status::from_errno(errno, "create " + path);
  Status status = write_all(fd, content, path);
  ::close(fd);
  return status;
}

Result<std::string> read_token(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::io_error("cannot read " + path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && (token.back() == '\r' || token.back() == ' ')) token.pop_back();
  if (token.size() < 16) return Status::invalid_argument(path + " does not hold a token (16 or more characters)");
  return token;
}

}  // namespace

Status create_data_dir(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Status::io_error("cannot create data directory " + dir + ": " + error.message());
  return Status::ok();
}

Result<TenantConfig> admin_tenant(const std::string& data_dir, bool* created) {
  const std::string path = data_dir + "/" + kAdminTokenFile;
  *created = false;
  if (!std::filesystem::exists(path)) {
    OL_RETURN_IF_ERROR(write_new_private_file(path, random_hex(kAdminTokenRandomBytes) + "\n"));
    *created = true;
  }
  OL_ASSIGN_OR_RETURN(std::string token, read_token(path));
  TenantConfig admin;
  admin.name = "admin";
  admin.token = std::move(token);
  admin.read_prefixes = {""};
  admin.write_prefixes = {""};
  admin.commands = {"*"};
  admin.may_query = true;
  return admin;
}

Status write_file_atomically(const std::string& path, const std::string& content) {
  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  std::remove(temp.c_str());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno(errno, "create " + temp);
  Status status = write_all(fd, content, temp);
  ::close(fd);
  OL_RETURN_IF_ERROR(status);
  if (::rename(temp.c_str(), path.c_str()) != 0) return Status::from_errno(errno, "rename " + temp);
  return Status::ok();
}

}  // namespace orderlog::server
