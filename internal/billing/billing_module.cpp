#include "billing_module.hpp"

#include "ates/platform/dates.hpp"

const std::vector<ates::pg::Migration>& BillingMigrations();

namespace ates::billing {

const platform::ConfigSchema<BillingSettings>& BillingSettings::Schema() {
  using S = BillingSettings;
  static const auto schema =
      platform::ConfigSchema<S>()
          .Required("business_day.time_zone", &S::time_zone,
                    "IANA zone of the business day (e.g. Europe/Berlin)")
          .Required("billing.random_seed", &S::random_seed,
                    "0: truly random prices; any other value repeats them (tests)")
          .Required("billing.mail.smtp_url", &S::smtp_url,
                    "e.g. smtp://mail.example.com:25; empty writes .eml files to billing.mail.dir")
          .Key("billing.mail.smtp_user", &S::smtp_user, "",
               "with a user, STARTTLS is required on smtp://")
          .Key("billing.mail.smtp_password", &S::smtp_password, "", "its password (a secret)")
          .Required("billing.mail.from", &S::mail_from, "sender address of payout e-mails")
          .Required("billing.mail.dir", &S::mail_dir, "where .eml files go without smtp_url")
          .Required("billing.reconcile.publish_grace", &S::publish_grace,
                    "how long after a day's end its last task events may still be published");
  return schema;
}

std::vector<platform::ConfigKey> BillingModule::ConfigKeys() const {
  return platform::WithConsumerKeys(BillingSettings::Schema().keys(),
                                    {"accounts", "tasks", "schedule"});
}

void BillingModule::DeclareMailer(platform::ModuleBuilder& builder, const BillingSettings& s) {
  MailSettings mail;
  mail.smtp_url = s.smtp_url;
  mail.smtp_user = s.smtp_user;
  mail.smtp_password = s.smtp_password;
  mail.from = s.mail_from;
  mail.dir = s.mail_dir;
  mailer_ = std::make_unique<Mailer>(mail, builder.db().conninfo(), &builder.metrics().registry());
}

void BillingModule::Declare(platform::ModuleBuilder& builder) {
  auto s = builder.Settings(BillingSettings::Schema());
  random_ = s.random_seed == 0
                ? std::make_unique<platform::RandomPicker>()
                : std::make_unique<platform::RandomPicker>(static_cast<uint64_t>(s.random_seed));
  DeclareMailer(builder, s);
  accounts_.Declare(builder);
  builder.Migrations(BillingMigrations());
  auto& relay = builder.relay();
  ledger_ = std::make_unique<LedgerHandler>(LedgerSettings{s.time_zone}, *random_, [this, &relay] {
    relay.Notify();
    mailer_->Notify();
  });
  queries_ = std::make_unique<BillingQueries>(builder.db(), s.time_zone);
  ReconcileSettings rs;
  rs.time_zone = s.time_zone;
  rs.inbox_consumer = platform::ConsumerSchema("tasks").Read(builder.config()).durable;
  rs.publish_grace = s.publish_grace;
  reconciler_ =
      std::make_unique<Reconciler>(rs, builder.db(), builder.nats(), &builder.metrics().registry());
  service_ = std::make_unique<BillingGrpcService>(*queries_, *reconciler_);
  builder.Service(*service_, BillingGrpcService::Policy());
  builder.Consume("tasks", "TASKS", *ledger_);
  builder.Consume("schedule", "SCHEDULE", *ledger_);
  // An unknown zone is a configuration error (exit 2), checked once the
  // database answers and before any consumer applies an event.
  auto& db = builder.db();
  builder.OnReady([&db, tz = s.time_zone] { platform::CheckTimeZone(db, tz); });
  builder.OnReady([this] { mailer_->Start(); });
  builder.OnStop([this] { mailer_->Stop(); });
}

}  // namespace ates::billing
