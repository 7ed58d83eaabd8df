#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "ates/platform/token.hpp"

namespace ates::auth {

// Input rules for accounts, kept free of I/O so they are unit-tested directly.
inline constexpr size_t kMaxLogin = 64;
inline constexpr size_t kMaxFullName = 200;
inline constexpr size_t kMaxEmail = 254;
inline constexpr size_t kMinPassword = 8;
inline constexpr size_t kMaxPassword = 128;

bool IsValidLogin(std::string_view login);    // 3..64 of [a-z0-9._-], starts with a letter/digit
bool IsValidEmail(std::string_view email);    // local@domain.tld, no spaces, <= 254
bool IsValidFullName(std::string_view name);  // 1..200 bytes, no control characters
bool IsValidPassword(std::string_view password);

struct NewAccount {
  std::string login;
  std::string full_name;
  std::string email;
  Role role = Role::kUnspecified;
  std::string password;
};

struct AccountPatch {
  std::string account_id;
  std::optional<Role> role;
  std::optional<std::string> email;
  std::optional<std::string> full_name;
  std::optional<bool> active;
};

// Throw INVALID_ARGUMENT naming every bad field.
void Validate(const NewAccount& account);
void Validate(const AccountPatch& patch);

}  // namespace ates::auth
