#pragma once

// Local side effects of atesctl: the token file and reading from the terminal.

#include <optional>
#include <stdexcept>
#include <string>

#include "exit_codes.hpp"

namespace ates::ctl {

// A failure with a chosen exit code; main prints "atesctl: <what>" and exits.
class CliError final : public std::runtime_error {
 public:
  CliError(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// The stored token, trimmed; std::nullopt when the file does not exist.
std::optional<std::string> ReadToken(const std::string& path);

// Writes the token atomically with mode 0600, creating missing folders with
// mode 0700; `own_folder` (the default ates folder) also tightens an existing
// parent folder to 0700.
void WriteToken(const std::string& path, const std::string& token, bool own_folder);

// Removes the token file; false when there was none.
bool RemoveToken(const std::string& path);

bool StdinIsTerminal();

// One line from stdin without its line break; CliError on end of input.
std::string ReadStdinLine(const std::string& what);

// Prints `prompt` on stderr and reads a line from the terminal, without echo
// when `secret`.
std::string Prompt(const std::string& prompt, bool secret);

}  // namespace ates::ctl
