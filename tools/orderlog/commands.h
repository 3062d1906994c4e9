// The `orderlog` tool's commands (see main.cc for the command line). Each prints its
// results on stdout and what went wrong on stderr, and returns the exit code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace orderlog::tool {

inline constexpr int kExitOk = 0;
inline constexpr int kExitDamaged = 1;  // verify: the log is corrupt or breaks its rules
inline constexpr int kExitError = 2;    // the command could not do its work
inline constexpr int kExitUsage = 64;   // a bad command line (sysexits' EX_USAGE)

struct VerifyArgs {
  std::string data_dir;
  bool json = false;
  uint64_t batch_bytes_max = 0;  // 0: the store's default
};
// Reads the whole log read-only and reports what the next open will find.
int run_verify(const VerifyArgs& args);

struct BrowseArgs {
  std::string data_dir;
  std::string stream;  // empty: list the streams
  std::string prefix;  // listing only: streams whose id starts with this
  uint64_t count = 0;  // at most this many lines; 0: all
};
// Lists streams with their versions, or prints one stream's events as JSON lines.
int run_browse(const BrowseArgs& args);

struct ReplayArgs {
  std::string data_dir;
  uint64_t from = 1;  // first global position
  uint64_t count = 0;  // at most this many events; 0: all
  std::vector<std::string> types;  // empty: every type
};
// Prints the log's events in position order as JSON lines.
int run_replay(const ReplayArgs& args);

struct RebuildArgs {
  std::string data_dir;
  bool projections = false;
  bool snapshots = false;
  uint64_t batch_bytes_max = 0;  // 0: the store's default
};
// Deletes the derived state (the indexes, and the read models and snapshots when
// asked) and rebuilds it from the log. The directory must not be open elsewhere.
int run_rebuild(const RebuildArgs& args);

}  // namespace orderlog::tool
