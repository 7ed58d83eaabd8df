#include "format.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

#include "args.hpp"

namespace ates::ctl {
namespace {

constexpr std::int64_t kMaxDurationMs = 24LL * 3600 * 1000;

bool ParseInt(const std::string& text, std::int64_t* out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

bool AllDigits(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

std::string FormatCents(std::int64_t cents) {
  // Unsigned magnitude so INT64_MIN does not overflow on negation.
  std::uint64_t magnitude =
      cents < 0 ? ~static_cast<std::uint64_t>(cents) + 1 : static_cast<std::uint64_t>(cents);
  std::string fraction = std::to_string(magnitude % 100);
  if (fraction.size() < 2) fraction.insert(0, "0");
  return (cents < 0 ? "-" : "") + std::to_string(magnitude / 100) + "." + fraction;
}

std::string CsvRecord(const std::vector<std::string>& fields) {
  std::string out;
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ',';
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out += '"';
    for (char c : f) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }
  return out + "\r\n";
}

std::string LoginOrId(const std::string& login, const std::string& id) {
  return login.empty() ? id : login;
}

std::string FormatUnixTime(std::int64_t seconds) {
  if (seconds == 0) return "-";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%SZ", &tm);
  return buf;
}

std::chrono::milliseconds ParseDuration(const std::string& flag, const std::string& text) {
  struct Unit {
    std::string_view suffix;
    std::int64_t ms;
  };
  // "ms" before "s" and "m": the longest suffix that matches wins.
  static constexpr Unit kUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
  std::int64_t number = 0;
  std::int64_t scale = 1000;
  std::string digits = text;
  for (const auto& unit : kUnits) {
    if (text.ends_with(unit.suffix)) {
      digits = text.substr(0, text.size() - unit.suffix.size());
      scale = unit.ms;
      break;
    }
  }
  if (!ParseInt(digits, &number) || number <= 0 || number > kMaxDurationMs / scale) {
    throw UsageError(flag + " must be a duration such as 10s, 500ms or 2m, not '" + text + "'");
  }
  return std::chrono::milliseconds(number * scale);
}

std::int64_t ParsePositive(const std::string& flag, const std::string& text) {
  std::int64_t number = 0;
  if (!ParseInt(text, &number) || number <= 0) {
    throw UsageError(flag + " must be a positive whole number, not '" + text + "'");
  }
  return number;
}

bool ParseBool(const std::string& flag, const std::string& text) {
  if (text == "true" || text == "yes" || text == "1") return true;
  if (text == "false" || text == "no" || text == "0") return false;
  throw UsageError(flag + " must be true or false, not '" + text + "'");
}

std::string CheckDate(const std::string& flag, const std::string& text) {
  auto bad = [&] { return UsageError(flag + " must be a date YYYY-MM-DD, not '" + text + "'"); };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') throw bad();
  std::string_view v(text);
  if (!AllDigits(v.substr(0, 4)) || !AllDigits(v.substr(5, 2)) || !AllDigits(v.substr(8, 2))) {
    throw bad();
  }
  int year = std::stoi(text.substr(0, 4));
  int month = std::stoi(text.substr(5, 2));
  int day = std::stoi(text.substr(8, 2));
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) throw bad();
  return text;
}

std::size_t TextWidth(const std::string& text) {
  // Continuation bytes (10xxxxxx) do not start a code point.
  return std::count_if(text.begin(), text.end(),
                       [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
}

std::string OneLine(const std::string& text) {
  std::string out = text;
  std::replace_if(
      out.begin(), out.end(), [](char c) { return c == '\n' || c == '\r' || c == '\t'; }, ' ');
  return out;
}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(columns_.size());
  for (auto& cell : cells) cell = OneLine(cell);
  rows_.push_back(std::move(cells));
}

std::vector<std::size_t> Table::Widths() const {
  std::vector<std::size_t> widths;
  for (const auto& c : columns_) widths.push_back(TextWidth(c.name));
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], TextWidth(row[i]));
  }
  return widths;
}

std::string Table::RenderLine(const std::vector<std::string>& cells,
                              const std::vector<std::size_t>& widths) const {
  std::string line;
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    std::string pad(widths[i] - TextWidth(cells[i]), ' ');
    if (i > 0) line += "  ";
    line += columns_[i].align == Align::kRight ? pad + cells[i] : cells[i] + pad;
  }
  line.erase(line.find_last_not_of(' ') + 1);
  return line + "\n";
}

std::string Table::Render() const {
  auto widths = Widths();
  std::vector<std::string> header;
  for (const auto& c : columns_) header.push_back(c.name);
  std::string out = RenderLine(header, widths);
  for (const auto& row : rows_) out += RenderLine(row, widths);
  return out;
}

}  // namespace ates::ctl
