// Text helpers shared by sources, the lake and output formats.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace fleetlog {

// True when `text` is well-formed UTF-8.
bool IsValidUtf8(std::string_view text);
// Replaces each byte that does not begin a well-formed UTF-8 sequence with U+FFFD, so text
// that a source sent as bytes can be stored in a VARCHAR (Parquet strings are UTF-8).
std::string SanitizeUtf8(std::string_view text);
// Removes trailing blanks: the padding of char(n) values.
std::string_view TrimTrailingBlanks(std::string_view text);
// Columns `text` takes on a terminal, with wcwidth semantics: East Asian wide and fullwidth
// characters and emoji count 2, combining marks, zero-width and control characters 0, the rest 1.
// A byte that does not begin a well-formed sequence counts 1 (it prints as U+FFFD).
size_t DisplayWidth(std::string_view text);
// Escapes `text` as the inside of a JSON string.
void AppendJsonString(std::string* out, std::string_view text);
// `text` with A-Z as a-z; other bytes as they are.
std::string LowerAscii(std::string_view text);
// Percent-encodes every byte except A-Z a-z 0-9 - . _ ~ (and '/' when keep_slash), upper-case
// hex, as SigV4 and URLs want.
std::string UriEncode(std::string_view text, bool keep_slash);
// Decodes %XX sequences; a malformed sequence is kept as it is. '+' stays '+'.
std::string UriDecode(std::string_view text);

}  // namespace fleetlog
