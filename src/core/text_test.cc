#include "core/text.h"

#include <gtest/gtest.h>

namespace fleetlog {
namespace {

const std::string kFffd = "\xEF\xBF\xBD";

TEST(TextTest, ValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));  // é € 😀
  EXPECT_TRUE(IsValidUtf8(std::string("nul\0inside", 10)));
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\x80"));
  EXPECT_FALSE(IsValidUtf8("\xC0\x80"));          // overlong NUL
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\x80"));      // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xE2\x82"));          // truncated
}

TEST(TextTest, SanitizeReplacesEachBadByte) {
  EXPECT_EQ(SanitizeUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(SanitizeUtf8("a\xFF" "b"), "a" + kFffd + "b");
  EXPECT_EQ(SanitizeUtf8("\xC0\x80"), kFffd + kFffd);
  EXPECT_EQ(SanitizeUtf8("\xE2\x82"), kFffd + kFffd);                // truncated at the end
  EXPECT_EQ(SanitizeUtf8("\xE2\x82" "x"), kFffd + kFffd + "x");      // truncated in the middle
  EXPECT_EQ(SanitizeUtf8("\xED\xA0\x80"), kFffd + kFffd + kFffd);    // surrogate
  EXPECT_EQ(SanitizeUtf8("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);
  EXPECT_EQ(SanitizeUtf8("\xC3\xA9\xA9"), "\xC3\xA9" + kFffd);       // stray continuation
  EXPECT_EQ(SanitizeUtf8("\xF0\x9F\x98\x80\xF0\x9F\x98"), "\xF0\x9F\x98\x80" + kFffd + kFffd + kFffd);
  // Latin-1 text sent as bytes.
  EXPECT_EQ(SanitizeUtf8("S\xE3o Paulo"), "S" + kFffd + "o Paulo");
  EXPECT_TRUE(IsValidUtf8(SanitizeUtf8("\xFE\xFF\xC3\x28\xA0\xA1")));
}

TEST(TextTest, LowerAsciiLowersOnlyAToZ) {
  EXPECT_EQ(LowerAscii("SeLeCt Content-LENGTH_1$"), "select content-length_1$");
  EXPECT_EQ(LowerAscii("\xC3\x84Gr\xC3\x9C\xC3\x9F"), "\xC3\x84gr\xC3\x9C\xC3\x9F");  // bytes >= 0x80 stay
  EXPECT_EQ(LowerAscii(""), "");
}

TEST(TextTest, TrimTrailingBlanks) {
  EXPECT_EQ(TrimTrailingBlanks("abc   "), "abc");
  EXPECT_EQ(TrimTrailingBlanks("  abc"), "  abc");
  EXPECT_EQ(TrimTrailingBlanks("a\t "), "a\t");
  EXPECT_EQ(TrimTrailingBlanks("    "), "");
  EXPECT_EQ(TrimTrailingBlanks(""), "");
}

TEST(TextTest, JsonStrings) {
  std::string out;
  AppendJsonString(&out, "a\"b\\c\nd\re\tf\x01g\x1F" "\xC3\xA9/");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001f\xC3\xA9/\"");
  out = "x";
  AppendJsonString(&out, "");
  EXPECT_EQ(out, "x\"\"");
  out.clear();
  AppendJsonString(&out, std::string("\0", 1));
  EXPECT_EQ(out, "\"\\u0000\"");
}

}  // namespace
}  // namespace fleetlog

namespace fleetlog {
namespace {

TEST(TextTest, DisplayWidthCountsTerminalColumns) {
  EXPECT_EQ(DisplayWidth(""), 0u);
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("Gr\xC3\xBC\xC3\x9F" "e"), 5u);           // Grüße: Latin-1 letters are narrow
  EXPECT_EQ(DisplayWidth("\xE4\xB8\x96\xE7\x95\x8C"), 4u);          // 世界: CJK ideographs are wide
  EXPECT_EQ(DisplayWidth("\xED\x95\x9C\xEA\xB8\x80"), 4u);          // 한글: Hangul syllables are wide
  EXPECT_EQ(DisplayWidth("\xEF\xBC\xA1"), 2u);                      // Ａ: fullwidth form
  EXPECT_EQ(DisplayWidth("\xF0\x9F\x98\x80"), 2u);                  // 😀: emoji presentation
  EXPECT_EQ(DisplayWidth("e\xCC\x81"), 1u);                         // e + combining acute
  EXPECT_EQ(DisplayWidth("\xE2\x80\x8B"), 0u);                      // zero-width space
  EXPECT_EQ(DisplayWidth("\xFF" "a"), 2u);                          // a bad byte prints as U+FFFD
  EXPECT_EQ(DisplayWidth("\xEF\xBD\xA1"), 1u);                      // ｡ halfwidth: narrow
}

}  // namespace
}  // namespace fleetlog
