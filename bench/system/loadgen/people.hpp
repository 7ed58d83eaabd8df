#pragma once

// The popugs of the run: accounts of every role created through ates-auth by
// the bootstrap admin, each logged in once (its bearer token).

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace ates::bench::system {

struct Person {
  std::string id;
  std::string login;
  std::string token;
  int role = 0;  // ates.common.v1.Role
};

struct People {
  Person admin;
  std::vector<Person> managers, accountants, workers;
  std::unordered_map<std::string, std::string> token_of;  // account id -> token
};

// Creates `workers` workers, `managers` managers and 2 accountants with the
// admin's token, logging them in on `threads` threads.
People CreatePeople(const std::shared_ptr<grpc::Channel>& auth, const std::string& admin_login,
                    const std::string& admin_password, int workers, int managers);

}  // namespace ates::bench::system
