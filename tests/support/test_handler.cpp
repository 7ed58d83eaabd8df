#include "support/test_handler.hpp"

#include <stdexcept>

#include "ates/events/accounts/v1/account_events.pb.h"

namespace ates::test {
namespace {

namespace ev = ::ates::events::accounts::v1;

constexpr std::string_view kInsertEffects =
    "INSERT INTO test_effects (consumer, event_id, account_id, login)"
    " SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[])";

}  // namespace

std::vector<std::pair<std::string, int>> RecordingHandler::Accepts() const {
  return {{"accounts.account.created", 1}};
}

void RecordingHandler::Apply(pg::Transaction& tx,
                             const std::vector<const platform::InboundEvent*>& events) {
  std::vector<std::string> ids, account_ids, logins;
  for (const auto* e : events) {
    const auto& created = e->As<ev::AccountCreated>();
    if (created.account().login() == "explode") {
      throw std::runtime_error("handler cannot apply account 'explode'");
    }
    ids.push_back(e->id);
    account_ids.push_back(created.account().account_id());
    logins.push_back(created.account().login());
  }
  tx.Exec(kInsertEffects, {pg::Text(consumer_), pg::TextArray(ids), pg::TextArray(account_ids),
                           pg::TextArray(logins)});
}

std::string AccountCreatedPayload(const std::string& account_id, const std::string& login) {
  ev::AccountCreated created;
  auto* a = created.mutable_account();
  a->set_account_id(account_id);
  a->set_login(login);
  a->set_full_name("Test " + login);
  a->set_email(login + "@example.com");
  a->set_role(ates::common::v1::ROLE_WORKER);
  a->set_active(true);
  a->set_version(1);
  return created.SerializeAsString();
}

}  // namespace ates::test
