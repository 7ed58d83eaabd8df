#include "validation.hpp"

#include <cctype>

#include "ates/platform/error.hpp"
#include "ates/platform/events.hpp"

namespace ates::auth {

bool IsValidLogin(std::string_view login) {
  if (login.size() < 3 || login.size() > kMaxLogin) return false;
  if (!std::isalnum(static_cast<unsigned char>(login[0]))) return false;
  for (unsigned char c : login) {
    bool ok = (c >= 'a' && c <= 'z') || std::isdigit(c) || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool IsValidEmail(std::string_view email) {
  if (email.empty() || email.size() > kMaxEmail) return false;
  auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  auto domain = email.substr(at + 1);
  auto dot = domain.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= domain.size()) return false;
  for (unsigned char c : email) {
    if (c <= ' ' || c == 0x7f || c == '<' || c == '>' || c == ',' || c == ';') return false;
  }
  return domain.find("..") == std::string_view::npos;
}

bool IsValidFullName(std::string_view name) {
  if (name.empty() || name.size() > kMaxFullName) return false;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return name.find_first_not_of(' ') != std::string_view::npos;
}

bool IsValidPassword(std::string_view password) {
  return password.size() >= kMinPassword && password.size() <= kMaxPassword;
}

void Validate(const NewAccount& a) {
  Validator v;
  v.Check(IsValidLogin(a.login), "login",
          "3-64 characters of a-z, 0-9, '.', '_', '-', starting with a letter or digit");
  v.Check(IsValidFullName(a.full_name), "full_name", "1-200 characters, no control characters");
  v.Check(IsValidEmail(a.email), "email", "must be an e-mail address such as name@example.com");
  v.Check(a.role != Role::kUnspecified, "role",
          "must be one of admin, manager, accountant, worker");
  v.Check(IsValidPassword(a.password), "password", "8-128 characters");
  v.ThrowIfInvalid();
}

void Validate(const AccountPatch& p) {
  Validator v;
  v.Check(events::IsUuid(p.account_id), "account_id", "must be an account id (UUID)");
  if (p.role) {
    v.Check(*p.role != Role::kUnspecified, "role",
            "must be one of admin, manager, accountant, worker");
  }
  if (p.email) v.Check(IsValidEmail(*p.email), "email", "must be an e-mail address");
  if (p.full_name) {
    v.Check(IsValidFullName(*p.full_name), "full_name", "1-200 characters, no control characters");
  }
  v.Check(p.role || p.email || p.full_name || p.active, "account_id",
          "nothing to change: set at least one of role, email, full_name, active");
  v.ThrowIfInvalid();
}

}  // namespace ates::auth
