#pragma once

// Command-line grammar of atesctl: flag and positional specs, parsing and usage
// text. Pure (no gRPC, no I/O) so it is unit-tested on its own.

#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace ates::ctl {

// A mistake on the command line: exit code 2 and the usage hint.
class UsageError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct FlagSpec {
  std::string name;        // Long name without dashes: "output".
  char short_name = '\0';  // Optional single-letter alias: 'o'.
  std::string value_name;  // Empty for a switch that takes no value.
  std::string help;
};

struct PositionalSpec {
  std::string name;
  bool required = true;
  std::string help;
};

// One leaf command such as "tasks create".
// Members default to empty so tables can name only what a command has.
struct CommandSpec {
  std::vector<std::string> path{};  // {"tasks", "create"}.
  std::string summary{};
  std::vector<FlagSpec> flags{};
  std::vector<PositionalSpec> positionals{};
  std::string example{};
  std::string details{};  // Extra paragraph for --help; may be empty.
  bool csv = false;       // Also prints -o csv.
};

class ParsedArgs final {
 public:
  bool Has(const std::string& name) const { return values_.contains(name); }
  // The flag's value, or `fallback` when it was not given.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::optional<std::string> Find(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  std::string Positional(std::size_t i) const;
  bool help() const { return Has("help"); }

  void Set(const std::string& name, std::string value) { values_[name] = std::move(value); }
  void AddPositional(std::string value) { positionals_.push_back(std::move(value)); }
  // Values of `other` win over this object's.
  void MergeFrom(const ParsedArgs& other);

 private:
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
};

struct ParseOptions {
  // Stop at the first positional argument and report how many were consumed
  // (global flags before the command name).
  bool stop_at_positional = false;
};

struct ParseResult {
  ParsedArgs args;
  std::size_t consumed = 0;
};

// Parses `--name value`, `--name=value`, `-x value`, `-xvalue`, switches and
// positionals (`--` ends flags). Throws UsageError on unknown flags, missing
// values and, unless `stop_at_positional` or --help, wrong positional counts.
ParseResult ParseArgs(std::span<const std::string> argv, const std::vector<FlagSpec>& flags,
                      const std::vector<PositionalSpec>& positionals, ParseOptions options = {});

// Usage text of one command with its own flags followed by `globals`.
std::string Usage(const CommandSpec& command, const std::vector<FlagSpec>& globals);

// Help lines for a list of flags, aligned: "  -o, --output FORMAT  help".
std::string FlagHelp(const std::vector<FlagSpec>& flags);

// Accepts one of `allowed` (exactly) or throws UsageError naming the flag.
std::string OneOf(const std::string& flag, const std::string& value,
                  const std::vector<std::string>& allowed);

}  // namespace ates::ctl
