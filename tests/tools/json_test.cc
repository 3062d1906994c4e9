// The tool's JSON printing (tools/orderlog/json.cc): any bytes make valid JSON, base64
// matches RFC 4648, and times print in UTC with nanoseconds.
#include "json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace orderlog::tool {
namespace {

std::vector<std::byte> bytes_of(std::string_view text) {
  std::vector<std::byte> bytes;
  for (char c : text) bytes.push_back(static_cast<std::byte>(c));
  return bytes;
}

TEST(JsonQuote, EscapesWhatJsonRequires) {
  EXPECT_EQ(json_quote("plain"), "\"plain\"");
  EXPECT_EQ(json_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_quote("line\nbreak\ttab\r"), "\"line\\nbreak\\ttab\\r\"");
  EXPECT_EQ(json_quote(std::string("nul\0x", 5)), "\"nul\\u0000x\"");
  EXPECT_EQ(json_quote("\x1f\x7f"), "\"\\u001f\\u007f\"");
}

TEST(JsonQuote, KeepsValidUtf8AndEscapesBytesThatAreNot) {
  EXPECT_EQ(json_quote("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6"), "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xa6\"");
  EXPECT_EQ(json_quote("\xff"), "\"\\u00ff\"");
  EXPECT_EQ(json_quote("\xc3"), "\"\\u00c3\"");                   // truncated sequence
  EXPECT_EQ(json_quote("\xc0\xaf"), "\"\\u00c0\\u00af\"");         // overlong '/'
  EXPECT_EQ(json_quote("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");  // a surrogate
}

TEST(Base64, MatchesTheRfcVectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"}};
  for (const auto& [input, encoded] : vectors) EXPECT_EQ(base64(bytes_of(input)), encoded) << input;
  EXPECT_EQ(base64(bytes_of(std::string("\xff\xfe\x00", 3))), "//4A");
}

TEST(PrintableText, IsUtf8WithoutControlCharacters) {
  EXPECT_TRUE(is_printable_text(bytes_of("")));
  EXPECT_TRUE(is_printable_text(bytes_of("hello\n\tworld \xc3\xa9")));
  EXPECT_FALSE(is_printable_text(bytes_of(std::string("a\0b", 3))));
  EXPECT_FALSE(is_printable_text(bytes_of("\x1b[31m")));
  EXPECT_FALSE(is_printable_text(bytes_of("\xff\xfe")));
}

TEST(UtcTime, PrintsNanosecondsInUtc) {
  EXPECT_EQ(utc_time(0), "1970-01-01T00:00:00.000000000Z");
  EXPECT_EQ(utc_time(1'796'595'656'776'234'917), "2026-12-06T22:20:56.776234917Z");
}

TEST(JsonObject, JoinsFieldsInOrder) {
  EXPECT_EQ(JsonObject().str(), "{}");
  EXPECT_EQ(JsonObject()
                .string("s", "x\"y")
                .number("n", 18'446'744'073'709'551'615u)
                .signed_number("i", -5)
                .boolean("b", false)
                .raw("o", "[1,2]")
                .str(),
            "{\"s\":\"x\\\"y\",\"n\":18446744073709551615,\"i\":-5,\"b\":false,\"o\":[1,2]}");
}

}  // namespace
}  // namespace orderlog::tool
