#include "args.hpp"

#include <algorithm>
#include <sstream>

namespace ates::ctl {
namespace {

const FlagSpec* FindLong(const std::vector<FlagSpec>& flags, std::string_view name) {
  auto it =
      std::find_if(flags.begin(), flags.end(), [&](const FlagSpec& f) { return f.name == name; });
  return it == flags.end() ? nullptr : &*it;
}

const FlagSpec* FindShort(const std::vector<FlagSpec>& flags, char name) {
  auto it = std::find_if(flags.begin(), flags.end(),
                         [&](const FlagSpec& f) { return f.short_name == name; });
  return it == flags.end() ? nullptr : &*it;
}

// Splits "--name=value" / "-xvalue" into the flag and an inline value, if any.
struct RawFlag {
  const FlagSpec* spec = nullptr;
  std::string shown;  // As the user typed it, for messages.
  std::optional<std::string> inline_value;
};

RawFlag Resolve(const std::string& arg, const std::vector<FlagSpec>& flags) {
  RawFlag raw;
  if (arg.starts_with("--")) {
    std::string body = arg.substr(2);
    auto eq = body.find('=');
    if (eq != std::string::npos) {
      raw.inline_value = body.substr(eq + 1);
      body.resize(eq);
    }
    raw.shown = "--" + body;
    raw.spec = FindLong(flags, body);
  } else {
    raw.shown = arg.substr(0, 2);
    raw.spec = FindShort(flags, arg[1]);
    if (arg.size() > 2) raw.inline_value = arg.substr(2);
  }
  if (raw.spec == nullptr) throw UsageError("unknown flag " + raw.shown);
  return raw;
}

bool LooksLikeFlag(const std::string& arg) { return arg.size() > 1 && arg[0] == '-'; }

void CheckPositionals(const ParsedArgs& args, const std::vector<PositionalSpec>& positionals) {
  std::size_t required = std::count_if(positionals.begin(), positionals.end(),
                                       [](const PositionalSpec& p) { return p.required; });
  const auto& got = args.positionals();
  if (got.size() < required) {
    throw UsageError("missing argument " + positionals[got.size()].name);
  }
  if (got.size() > positionals.size()) {
    throw UsageError("unexpected argument '" + got[positionals.size()] + "'");
  }
}

std::string FlagLabel(const FlagSpec& f) {
  std::string label = f.short_name ? std::string("-") + f.short_name + ", " : "    ";
  label += "--" + f.name;
  if (!f.value_name.empty()) label += " " + f.value_name;
  return label;
}

}  // namespace

std::string ParsedArgs::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

std::optional<std::string> ParsedArgs::Find(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::string ParsedArgs::Positional(std::size_t i) const {
  return i < positionals_.size() ? positionals_[i] : std::string();
}

void ParsedArgs::MergeFrom(const ParsedArgs& other) {
  for (const auto& [name, value] : other.values_) values_[name] = value;
  for (const auto& p : other.positionals_) positionals_.push_back(p);
}

ParseResult ParseArgs(std::span<const std::string> argv, const std::vector<FlagSpec>& flags,
                      const std::vector<PositionalSpec>& positionals, ParseOptions options) {
  ParseResult result;
  std::size_t i = 0;
  bool flags_done = false;
  for (; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (flags_done || !LooksLikeFlag(arg)) {
      if (options.stop_at_positional) break;
      result.args.AddPositional(arg);
      continue;
    }
    if (arg == "--") {
      flags_done = true;
      continue;
    }
    RawFlag raw = Resolve(arg, flags);
    if (raw.spec->value_name.empty()) {
      if (raw.inline_value) throw UsageError(raw.shown + " takes no value");
      result.args.Set(raw.spec->name, "true");
      continue;
    }
    if (raw.inline_value) {
      result.args.Set(raw.spec->name, *raw.inline_value);
      continue;
    }
    if (i + 1 >= argv.size()) throw UsageError(raw.shown + " needs a value");
    result.args.Set(raw.spec->name, argv[++i]);
  }
  result.consumed = i;
  if (!options.stop_at_positional && !result.args.help()) {
    CheckPositionals(result.args, positionals);
  }
  return result;
}

std::string FlagHelp(const std::vector<FlagSpec>& flags) {
  std::size_t width = 0;
  for (const auto& f : flags) width = std::max(width, FlagLabel(f).size());
  std::ostringstream out;
  for (const auto& f : flags) {
    std::string label = FlagLabel(f);
    out << "  " << label << std::string(width - label.size() + 2, ' ') << f.help << "\n";
  }
  return out.str();
}

std::string Usage(const CommandSpec& command, const std::vector<FlagSpec>& globals) {
  std::ostringstream out;
  out << "Usage: atesctl";
  for (const auto& word : command.path) out << " " << word;
  if (!command.flags.empty()) out << " [flags]";
  for (const auto& p : command.positionals) {
    out << (p.required ? " " + p.name : " [" + p.name + "]");
  }
  out << "\n\n" << command.summary << "\n";
  if (!command.details.empty()) out << "\n" << command.details << "\n";
  if (!command.positionals.empty()) {
    out << "\nArguments:\n";
    for (const auto& p : command.positionals) out << "  " << p.name << "  " << p.help << "\n";
  }
  if (!command.flags.empty()) out << "\nFlags:\n" << FlagHelp(command.flags);
  out << "\nGlobal flags:\n" << FlagHelp(globals);
  if (!command.example.empty()) out << "\nExample:\n  " << command.example << "\n";
  return out.str();
}

std::string OneOf(const std::string& flag, const std::string& value,
                  const std::vector<std::string>& allowed) {
  if (std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return value;
  std::string list;
  for (const auto& a : allowed) list += (list.empty() ? "" : "|") + a;
  throw UsageError(flag + " must be " + list + ", not '" + value + "'");
}

}  // namespace ates::ctl
