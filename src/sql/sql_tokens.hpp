#pragma once
// A light SQL tokenizer for the pre-parsers of syntax PostgreSQL's grammar lacks
// (mutually_recursive.cpp, mz_syntax.cpp): words, quoted identifiers, numbers, strings
// (including E'' and $tag$ quoting), single-character punctuation; comments and whitespace
// are skipped. Throws SqlError 42601 for an unterminated string, identifier or comment.
// Cost: linear in the text. Thread-safety: pure function.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace freshet::sql {

struct Token {
  enum class Kind : uint8_t { kWord, kQuotedIdent, kNumber, kPunct, kString, kOther } kind;
  size_t begin = 0, end = 0;  // byte offsets in the text
  std::string text;  // words: lower-cased; quoted identifiers: unquoted; punctuation: the char
};

std::vector<Token> tokenize(std::string_view sql);

}  // namespace freshet::sql
