// login, logout, whoami and accounts: AuthService.

#include <cctype>
#include <iostream>

#include "ates/auth/v1/auth_service.grpc.pb.h"
#include "commands.hpp"

namespace ates::ctl {
namespace {

namespace v1 = ates::auth::v1;

std::unique_ptr<v1::AuthService::Stub> Stub(Session& session) {
  return v1::AuthService::NewStub(session.Channel(Service::kAuth));
}

std::string Require(const ParsedArgs& args, const std::string& flag) {
  std::string value = args.Get(flag);
  if (value.empty()) throw UsageError("missing --" + flag);
  return value;
}

std::string YesNo(bool value) { return value ? "yes" : "no"; }

std::string AccountView(const v1::Account& a) {
  Table t({{"FIELD"}, {"VALUE"}});
  t.AddRow({"id", a.id()});
  t.AddRow({"login", a.login()});
  t.AddRow({"name", a.full_name()});
  t.AddRow({"email", a.email()});
  t.AddRow({"role", RoleName(a.role())});
  t.AddRow({"active", YesNo(a.active())});
  t.AddRow({"version", std::to_string(a.version())});
  t.AddRow({"created", FormatUnixTime(a.created_at().seconds())});
  t.AddRow({"updated", FormatUnixTime(a.updated_at().seconds())});
  return t.Render();
}

std::string AccountTable(const v1::ListAccountsResponse& resp) {
  Table t({{"ID"}, {"LOGIN"}, {"NAME"}, {"EMAIL"}, {"ROLE"}, {"ACTIVE"}, {"CREATED"}});
  for (const auto& a : resp.accounts()) {
    t.AddRow({a.id(), a.login(), a.full_name(), a.email(), RoleName(a.role()), YesNo(a.active()),
              FormatUnixTime(a.created_at().seconds())});
  }
  return t.Render();
}

// The password from stdin (--password-stdin or no terminal), else a prompt
// without echo; `confirm` asks twice.
std::string ReadPassword(const ParsedArgs& args, const std::string& prompt, bool confirm) {
  if (args.Has("password-stdin") || !StdinIsTerminal()) return ReadStdinLine("the password");
  std::string password = Prompt(prompt, true);
  if (confirm && Prompt("Repeat the password: ", true) != password) {
    throw CliError(kExitUsage, "the passwords do not match");
  }
  return password;
}

std::string LoginName(const ParsedArgs& args) {
  if (args.Has("user")) return Require(args, "user");
  if (!StdinIsTerminal()) throw UsageError("--user is required when standard input is no terminal");
  return Prompt("Login: ", false);
}

int Login(Session& session, const ParsedArgs& args) {
  v1::LoginRequest req;
  req.set_login(LoginName(args));
  req.set_password(ReadPassword(args, "Password: ", false));
  v1::LoginResponse resp;
  auto stub = Stub(session);
  session.Call(
      Service::kAuth, [&](grpc::ClientContext* ctx) { return stub->Login(ctx, req, &resp); },
      false);
  const auto& opts = session.options();
  WriteToken(opts.token_file, resp.access_token(), opts.default_token_file);
  std::cerr << "Logged in as " << resp.account().login() << " (" << RoleName(resp.account().role())
            << "); token saved to " << opts.token_file << ", valid until "
            << FormatUnixTime(resp.expires_at().seconds()) << "\n";
  resp.clear_access_token();  // Never print the secret.
  if (session.json()) session.Emit(resp, [] { return ""; });
  return kExitOk;
}

int Logout(Session& session, const ParsedArgs&) {
  const std::string& path = session.options().token_file;
  if (path.empty()) throw CliError(kExitUsage, "HOME is not set; use --token-file");
  std::cerr << (RemoveToken(path) ? "Logged out; removed " : "Not logged in; no ") << path << "\n";
  return kExitOk;
}

int GetAccount(Session& session, const std::string& id) {
  v1::GetAccountRequest req;
  req.set_account_id(id);
  v1::GetAccountResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kAuth,
               [&](grpc::ClientContext* ctx) { return stub->GetAccount(ctx, req, &resp); });
  session.Emit(resp, [&] { return AccountView(resp.account()); });
  return kExitOk;
}

int CreateAccount(Session& session, const ParsedArgs& args) {
  v1::CreateAccountRequest req;
  req.set_login(Require(args, "login"));
  req.set_full_name(Require(args, "name"));
  req.set_email(Require(args, "email"));
  req.set_role(static_cast<common::v1::Role>(ParseRole("--role", Require(args, "role"))));
  session.Token();  // Fail before asking for a password nobody can use.
  req.set_password(ReadPassword(args, "Password for " + req.login() + ": ", true));
  v1::CreateAccountResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kAuth,
               [&](grpc::ClientContext* ctx) { return stub->CreateAccount(ctx, req, &resp); });
  session.Emit(resp, [&] { return AccountView(resp.account()); });
  return kExitOk;
}

int ListAccounts(Session& session, const ParsedArgs& args) {
  auto stub = Stub(session);
  auto resp = ListAll<v1::ListAccountsRequest, v1::ListAccountsResponse>(
      session, Service::kAuth, {}, LimitOf(args),
      [&](grpc::ClientContext* ctx, const auto& req, auto* page) {
        return stub->ListAccounts(ctx, req, page);
      },
      [](auto& r) -> auto& { return *r.mutable_accounts(); });
  session.Emit(resp, [&] { return AccountTable(resp); });
  return kExitOk;
}

int UpdateAccount(Session& session, const ParsedArgs& args) {
  v1::UpdateAccountRequest req;
  req.set_account_id(args.Positional(0));
  if (auto role = args.Find("role")) {
    req.set_role(static_cast<common::v1::Role>(ParseRole("--role", *role)));
  }
  if (auto email = args.Find("email")) req.set_email(*email);
  if (auto name = args.Find("name")) req.set_full_name(*name);
  if (auto active = args.Find("active")) req.set_active(ParseBool("--active", *active));
  if (!req.has_role() && !req.has_email() && !req.has_full_name() && !req.has_active()) {
    throw UsageError("nothing to change: give --role, --email, --name or --active");
  }
  v1::UpdateAccountResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kAuth,
               [&](grpc::ClientContext* ctx) { return stub->UpdateAccount(ctx, req, &resp); });
  session.Emit(resp, [&] { return AccountView(resp.account()); });
  return kExitOk;
}

// LOGIN|ID: a UUID names the account by id, anything else by login.
bool LooksLikeUuid(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

int ResetPassword(Session& session, const ParsedArgs& args) {
  v1::ResetPasswordRequest req;
  std::string who = args.Positional(0);
  if (LooksLikeUuid(who)) {
    req.set_account_id(who);
  } else {
    req.set_login(who);
  }
  session.Token();  // Fail before asking for a password nobody can use.
  req.set_new_password(ReadPassword(args, "New password for " + who + ": ", true));
  v1::ResetPasswordResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kAuth,
               [&](grpc::ClientContext* ctx) { return stub->ResetPassword(ctx, req, &resp); });
  std::cerr << "Password of " << resp.account().login()
            << " reset; the account's older tokens no longer work.\n";
  session.Emit(resp, [&] { return AccountView(resp.account()); });
  return kExitOk;
}

int RotateKeys(Session& session, const ParsedArgs&) {
  v1::RotateSigningKeyRequest req;
  v1::RotateSigningKeyResponse resp;
  auto stub = Stub(session);
  session.Call(Service::kAuth,
               [&](grpc::ClientContext* ctx) { return stub->RotateSigningKey(ctx, req, &resp); });
  session.Emit(resp, [&] {
    Table t({{"FIELD"}, {"VALUE"}});
    t.AddRow({"kid", resp.kid()});
    t.AddRow({"created", FormatUnixTime(resp.created_at().seconds())});
    std::string retired;
    for (const auto& kid : resp.retired_kids()) retired += (retired.empty() ? "" : ", ") + kid;
    t.AddRow({"retired", retired.empty() ? "-" : retired});
    t.AddRow({"retired keys verify until", FormatUnixTime(resp.retired_until().seconds())});
    return t.Render();
  });
  return kExitOk;
}

FlagSpec PasswordStdinFlag() {
  return {"password-stdin", '\0', "", "read the password as one line from standard input"};
}

}  // namespace

std::vector<Command> AuthCommands() {
  std::vector<Command> commands;
  commands.push_back(
      {{.path = {"login"},
        .summary = "Log in and keep the access token in the token file (mode 0600).",
        .flags = {{"user", 'u', "LOGIN", "login name (prompted on a terminal when missing)"},
                  PasswordStdinFlag()},
        .example = "echo \"$PASSWORD\" | atesctl login --user admin --password-stdin",
        .details = "On a terminal the password is prompted without echo; otherwise one line is\n"
                   "read from standard input."},
       Login});
  commands.push_back({{.path = {"logout"},
                       .summary = "Forget the stored access token.",
                       .example = "atesctl logout"},
                      Logout});
  commands.push_back({{.path = {"whoami"},
                       .summary = "Show the logged-in account.",
                       .example = "atesctl whoami -o json"},
                      [](Session& s, const ParsedArgs&) { return GetAccount(s, ""); }});
  commands.push_back(
      {{.path = {"accounts", "create"},
        .summary = "Create an account (admin only).",
        .flags = {{"login", '\0', "LOGIN", "login name (required)"},
                  {"name", '\0', "NAME", "full name (required)"},
                  {"email", '\0', "EMAIL", "e-mail address (required)"},
                  {"role", '\0', "ROLE", "worker, manager, accountant or admin (required)"},
                  PasswordStdinFlag()},
        .example = "atesctl accounts create --login popug1 --name 'Popug One' "
                   "--email p1@example.com --role worker",
        .details = "On a terminal the new password is prompted twice without echo; otherwise\n"
                   "one line is read from standard input."},
       CreateAccount});
  commands.push_back({{.path = {"accounts", "list"},
                       .summary = "List all accounts (admin only).",
                       .flags = {LimitFlag()},
                       .example = "atesctl accounts list --limit 20"},
                      ListAccounts});
  commands.push_back(
      {{.path = {"accounts", "get"},
        .summary = "Show one account (your own without ID; any account for an admin).",
        .positionals = {{"ID", false, "account id (uuid); default: your own"}},
        .example = "atesctl accounts get 7d4c9a4e-0f5e-4b8a-9a57-2f1f7b0c1d2e"},
       [](Session& s, const ParsedArgs& a) { return GetAccount(s, a.Positional(0)); }});
  commands.push_back(
      {{.path = {"accounts", "update"},
        .summary = "Change an account's role, e-mail, name or active flag (admin only).",
        .flags = {{"role", '\0', "ROLE", "worker, manager, accountant or admin"},
                  {"email", '\0', "EMAIL", "new e-mail address"},
                  {"name", '\0', "NAME", "new full name"},
                  {"active", '\0', "BOOL", "true or false"}},
        .positionals = {{"ID", true, "account id (uuid)"}},
        .example = "atesctl accounts update 7d4c9a4e-0f5e-4b8a-9a57-2f1f7b0c1d2e --role manager"},
       UpdateAccount});
  commands.push_back(
      {{.path = {"accounts", "reset-password"},
        .summary = "Set another account's password (admin only); its older tokens stop working.",
        .flags = {PasswordStdinFlag()},
        .positionals = {{"LOGIN|ID", true, "login name or account id (uuid)"}},
        .example = "atesctl accounts reset-password popug1",
        .details = "On a terminal the new password is prompted twice without echo; otherwise\n"
                   "one line is read from standard input. Your own password: change it with\n"
                   "ChangePassword (the old password is required)."},
       ResetPassword});
  commands.push_back(
      {{.path = {"keys", "rotate"},
        .summary = "Rotate the token signing key (admin only).",
        .example = "atesctl keys rotate",
        .details = "A new key signs from now on; the old keys keep verifying tokens for one\n"
                   "token lifetime (auth.token_ttl plus the key cache), then are retired."},
       RotateKeys});
  return commands;
}

}  // namespace ates::ctl
