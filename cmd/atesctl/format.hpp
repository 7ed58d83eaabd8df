#pragma once

// Text helpers for atesctl output and flag values: money, times, durations and
// aligned tables. Pure (no gRPC, no I/O) so they are unit-tested on their own.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace ates::ctl {

// Cents as dollars with two decimals, without floating point: -1234 -> "-12.34".
std::string FormatCents(std::int64_t cents);

// Unix time as "YYYY-MM-DD HH:MM:SSZ" (UTC); "-" for the zero time (unset field).
std::string FormatUnixTime(std::int64_t seconds);

// "10s", "500ms", "2m", "1h", or a bare number of seconds. Throws UsageError.
std::chrono::milliseconds ParseDuration(const std::string& flag, const std::string& text);

// A positive integer such as a --limit. Throws UsageError.
std::int64_t ParsePositive(const std::string& flag, const std::string& text);

// "true" / "false" (also yes/no, 1/0). Throws UsageError.
bool ParseBool(const std::string& flag, const std::string& text);

// Checks "YYYY-MM-DD" (shape and calendar month/day ranges). Throws UsageError.
std::string CheckDate(const std::string& flag, const std::string& text);

// Columns padded to the widest cell (counted in UTF-8 code points), two spaces
// apart, header first; no trailing spaces. Right-aligned columns suit numbers.
class Table final {
 public:
  enum class Align { kLeft, kRight };
  struct Column {
    std::string name;
    Align align = Align::kLeft;
  };

  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  // Missing cells print empty; extra cells are dropped.
  void AddRow(std::vector<std::string> cells);
  std::size_t rows() const { return rows_.size(); }
  std::string Render() const;

 private:
  std::vector<std::size_t> Widths() const;
  std::string RenderLine(const std::vector<std::string>& cells,
                         const std::vector<std::size_t>& widths) const;

  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

// One RFC 4180 record ending in CRLF: fields joined by commas; a field holding
// a comma, a double quote, CR or LF is quoted, its double quotes doubled.
std::string CsvRecord(const std::vector<std::string>& fields);

// Who a row is about, for a table: the login, or the bare id while the server
// does not know the login yet (its accounts replica has not seen the account).
std::string LoginOrId(const std::string& login, const std::string& id);

// Display width of UTF-8 text (code points; control characters count as one).
std::size_t TextWidth(const std::string& text);

// Replaces tabs and line breaks with spaces so one value stays on one line.
std::string OneLine(const std::string& text);

}  // namespace ates::ctl
