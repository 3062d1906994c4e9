// orderlog: the operator's tool for a data directory.
//
//   orderlog verify DIR     reads the whole log read-only: checksums, gapless positions,
//                           the segment chain, stream versions and timestamps; says
//                           what the next open will find (clean, a torn tail it cuts,
//                           corruption it refuses). Exit 0 healthy, 1 damaged.
//   orderlog browse DIR     lists the streams with their versions, or with --stream
//                           prints one stream's events as JSON lines.
//   orderlog replay DIR     prints the log's events in position order as JSON lines
//                           (--from, --count, --type).
//   orderlog rebuild DIR    rebuilds the indexes (and --projections, --snapshots) of a
//                           closed directory from its log.
//
// verify, browse and replay change nothing and need no index; they can run beside
// orderlogd. Exit codes: 0 done, 1 verify found damage, 2 the command failed, 64 a
// bad command line. See docs/operations.md.
#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
  using namespace orderlog::tool;
  CLI::App app{"orderlog: verify, browse, replay and rebuild an orderlog data directory"};
  app.require_subcommand(1);
  const CLI::Validator directory(
      [](std::string& value) { return value.empty() ? std::string("the data directory must not be empty") : ""; },
      "DIR");
  const auto add_data_dir = [&](CLI::App* command, std::string* data_dir) {
    command->add_option("data_dir", *data_dir, "the data directory")->required()->check(directory);
  };

  VerifyArgs verify;
  CLI::App* verify_command = app.add_subcommand("verify", "check the whole log, read-only");
  add_data_dir(verify_command, &verify.data_dir);
  verify_command->add_flag("--json", verify.json, "print one JSON object");
  verify_command->add_option("--batch-bytes-max", verify.batch_bytes_max,
                             "the store's batch_bytes_max, if not the default (it bounds a torn write)");

  BrowseArgs browse;
  CLI::App* browse_command = app.add_subcommand("browse", "list streams, or print one stream's events");
  add_data_dir(browse_command, &browse.data_dir);
  browse_command->add_option("--stream", browse.stream, "print this stream's events");
  browse_command->add_option("--prefix", browse.prefix, "list only streams starting with this");
  browse_command->add_option("--count", browse.count, "print at most this many lines (0: all)");

  ReplayArgs replay;
  CLI::App* replay_command = app.add_subcommand("replay", "print the log's events in position order");
  add_data_dir(replay_command, &replay.data_dir);
  replay_command->add_option("--from", replay.from, "the first global position (0 and 1: the start)");
  replay_command->add_option("--count", replay.count, "print at most this many events (0: all)");
  replay_command->add_option("--type", replay.types, "only events of this type (repeatable)");

  RebuildArgs rebuild;
  CLI::App* rebuild_command = app.add_subcommand("rebuild", "rebuild the derived state of a closed directory");
  add_data_dir(rebuild_command, &rebuild.data_dir);
  rebuild_command->add_flag("--projections", rebuild.projections, "also replay the read models from the log");
  rebuild_command->add_flag("--snapshots", rebuild.snapshots, "also delete the order snapshots");
  rebuild_command->add_option("--batch-bytes-max", rebuild.batch_bytes_max,
                              "the store's batch_bytes_max, if not the default (its open bounds a torn write by it)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? kExitOk : kExitUsage;  // --help exits 0
  }
  if (app.got_subcommand(verify_command)) return run_verify(verify);
  if (app.got_subcommand(browse_command)) return run_browse(browse);
  if (app.got_subcommand(replay_command)) return run_replay(replay);
  return run_rebuild(rebuild);
}
