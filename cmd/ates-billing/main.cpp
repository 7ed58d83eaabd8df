// ates-billing: prices, the double-entry ledger, billing cycles, payouts and their e-mails,
// and the reconciliation of TASKS with the ledger.
#include "ates/contracts/accounts_replica.hpp"
#include "ates/platform/dates.hpp"
#include "ates/platform/server.hpp"
#include "billing_grpc_service.hpp"
#include "ledger.hpp"
#include "mailer.hpp"
#include "reconciler.hpp"

const std::vector<ates::pg::Migration>& BillingMigrations();

namespace {

ates::platform::ConsumerOptions ConsumerFor(ates::platform::Config& cfg, const std::string& key,
                                            const std::string& stream) {
  ates::platform::ConsumerOptions co;
  co.name = cfg.GetString("consumers." + key + ".durable");
  co.stream = stream;
  co.batch_size = static_cast<int>(cfg.GetInt("consumers." + key + ".batch_size"));
  co.max_deliver = static_cast<int>(cfg.GetInt("consumers." + key + ".max_deliver"));
  return co;
}

}  // namespace

int main(int argc, char** argv) {
  std::unique_ptr<ates::platform::RandomPicker> random;
  std::unique_ptr<ates::billing::LedgerHandler> ledger;
  std::unique_ptr<ates::billing::BillingQueries> queries;
  std::unique_ptr<ates::billing::Reconciler> reconciler;
  std::unique_ptr<ates::billing::BillingGrpcService> service;
  std::unique_ptr<ates::billing::Mailer> mailer;
  std::unique_ptr<ates::contracts::AccountsReplicaHandler> accounts;
  return ates::platform::RunDaemon("ates-billing", argc, argv, [&](ates::platform::App& app) {
    auto& cfg = app.config();
    std::string tz = cfg.GetString("business_day.time_zone");
    int64_t seed = cfg.GetInt("billing.random_seed");
    random = seed == 0
                 ? std::make_unique<ates::platform::RandomPicker>()
                 : std::make_unique<ates::platform::RandomPicker>(static_cast<uint64_t>(seed));
    ates::billing::MailSettings mail;
    mail.smtp_url = cfg.GetString("billing.mail.smtp_url");
    mail.smtp_user = cfg.GetString("billing.mail.smtp_user", "");
    mail.smtp_password = cfg.GetString("billing.mail.smtp_password", "");
    mail.from = cfg.GetString("billing.mail.from");
    mail.dir = cfg.GetString("billing.mail.dir");
    mailer = std::make_unique<ates::billing::Mailer>(mail, app.db().conninfo(),
                                                     &app.metrics().registry());

    app.AddMigrations(ates::contracts::AccountsReplicaMigrations());
    app.AddMigrations(BillingMigrations());
    ledger = std::make_unique<ates::billing::LedgerHandler>(ates::billing::LedgerSettings{tz},
                                                            *random, [&app, &mailer] {
                                                              app.relay().Notify();
                                                              mailer->Notify();
                                                            });
    queries = std::make_unique<ates::billing::BillingQueries>(app.db(), tz);
    ates::billing::ReconcileSettings rs;
    rs.time_zone = tz;
    rs.inbox_consumer = cfg.GetString("consumers.tasks.durable");
    rs.publish_grace = cfg.GetDuration("billing.reconcile.publish_grace");
    reconciler = std::make_unique<ates::billing::Reconciler>(rs, app.db(), app.nats(),
                                                             &app.metrics().registry());
    service = std::make_unique<ates::billing::BillingGrpcService>(*queries, *reconciler);
    app.AddService(service.get(), ates::billing::BillingGrpcService::Policy());

    auto& states = app.EnableRevocation(ates::platform::ReplicaAccountLoader(app.db()));
    accounts = std::make_unique<ates::contracts::AccountsReplicaHandler>([&] { states.Poke(); });
    app.AddConsumer(ConsumerFor(cfg, "accounts", "ACCOUNTS"), *accounts);
    app.AddConsumer(ConsumerFor(cfg, "tasks", "TASKS"), *ledger);
    app.AddConsumer(ConsumerFor(cfg, "schedule", "SCHEDULE"), *ledger);
    // An unknown zone is a configuration error (exit 2), checked once the
    // database answers and before any consumer applies an event.
    app.OnReady([&app, tz] { ates::platform::CheckTimeZone(app.db(), tz); });
    app.OnReady([&] { mailer->Start(); });
    app.OnStop([&] { mailer->Stop(); });
  });
}
