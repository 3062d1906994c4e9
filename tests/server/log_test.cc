// The server's log line format (server/log.h): logfmt, one event per line. In-process,
// no running server.
#include "server/log.h"

#include <gtest/gtest.h>

#include <string>

namespace orderlog::server {
namespace {

TEST(LogLineTest, IsLogfmtWithQuotedAndEscapedValues) {
  const std::string line = format_log_line(1'700'000'000'123'456'789, LogLevel::kWarning, "listening",
                                           {{"addr", "127.0.0.1:7070"}, {"why", "a \"b\"\nc"}, {"n", uint64_t{7}}});
  EXPECT_EQ(line,
            "ts=2023-11-14T22:13:20.123456Z level=warn msg=\"listening\" addr=127.0.0.1:7070 why=\"a \\\"b\\\"\\nc\" "
            "n=7\n");
}

}  // namespace
}  // namespace orderlog::server
