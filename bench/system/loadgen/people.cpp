#include "people.hpp"

#include <mutex>
#include <stdexcept>
#include <thread>

#include "ates/auth/v1/auth_service.grpc.pb.h"

namespace ates::bench::system {
namespace {

namespace authv1 = ates::auth::v1;
constexpr const char* kPassword = "bench-system-popug-1";

Person Login(authv1::AuthService::Stub& stub, const std::string& login,
             const std::string& password) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  authv1::LoginRequest req;
  req.set_login(login);
  req.set_password(password);
  authv1::LoginResponse resp;
  auto st = stub.Login(&ctx, req, &resp);
  if (st.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {  // logins are rate-limited
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return Login(stub, login, password);
  }
  if (!st.ok()) throw std::runtime_error("Login " + login + ": " + st.error_message());
  return {resp.account().id(), login, resp.access_token(), static_cast<int>(resp.account().role())};
}

void Create(authv1::AuthService::Stub& stub, const std::string& admin_token,
            const std::string& login, int role) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  ctx.AddMetadata("authorization", "Bearer " + admin_token);
  authv1::CreateAccountRequest req;
  req.set_login(login);
  req.set_full_name("Popug " + login);
  req.set_email(login + "@bench.example");
  req.set_role(static_cast<ates::common::v1::Role>(role));
  req.set_password(kPassword);
  authv1::CreateAccountResponse resp;
  auto st = stub.CreateAccount(&ctx, req, &resp);
  if (!st.ok()) throw std::runtime_error("CreateAccount " + login + ": " + st.error_message());
}

struct Wanted {
  std::string login;
  int role;
};

}  // namespace

People CreatePeople(const std::shared_ptr<grpc::Channel>& auth, const std::string& admin_login,
                    const std::string& admin_password, int workers, int managers) {
  auto stub = authv1::AuthService::NewStub(auth);
  People out;
  out.admin = Login(*stub, admin_login, admin_password);
  std::vector<Wanted> wanted;
  for (int i = 0; i < workers; ++i) wanted.push_back({"worker" + std::to_string(i), 4});
  for (int i = 0; i < managers; ++i) wanted.push_back({"manager" + std::to_string(i), 2});
  for (int i = 0; i < 2; ++i) wanted.push_back({"accountant" + std::to_string(i), 3});
  std::mutex mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < wanted.size(); i += 2) {
        Create(*stub, out.admin.token, wanted[i].login, wanted[i].role);
        Person p = Login(*stub, wanted[i].login, kPassword);
        std::lock_guard lock(mu);
        (p.role == 4 ? out.workers : p.role == 2 ? out.managers : out.accountants).push_back(p);
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto* group : {&out.workers, &out.managers, &out.accountants}) {
    for (const auto& p : *group) out.token_of[p.id] = p.token;
  }
  out.token_of[out.admin.id] = out.admin.token;
  return out;
}

}  // namespace ates::bench::system
