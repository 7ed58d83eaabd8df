#pragma once

#include <functional>
#include <string>

#include "ates/ops/v1/dead_letter_service.grpc.pb.h"
#include "ates/platform/consumer.hpp"
#include "ates/platform/pg.hpp"
#include "ates/platform/policy.hpp"

namespace ates::platform {

// ates.ops.v1.DeadLetterService for the consumers of one daemon (admin only):
// lists the dead_letters table and replays rows through their consumer.
class DeadLetterGrpcService final : public ops::v1::DeadLetterService::Service {
 public:
  static constexpr const char* kName = "ates.ops.v1.DeadLetterService";
  // `find` returns the daemon's consumer of that name, nullptr when none.
  using FindConsumer = std::function<Consumer*(const std::string& name)>;

  DeadLetterGrpcService(pg::Pool& db, FindConsumer find);
  // Admins only.
  static ServicePolicy Policy();

  grpc::Status ListDeadLetters(grpc::ServerContext* ctx, const ops::v1::ListDeadLettersRequest* req,
                               ops::v1::ListDeadLettersResponse* resp) override;
  grpc::Status ReplayDeadLetters(grpc::ServerContext* ctx,
                                 const ops::v1::ReplayDeadLettersRequest* req,
                                 ops::v1::ReplayDeadLettersResponse* resp) override;

 private:
  pg::Pool& db_;
  FindConsumer find_;
};

}  // namespace ates::platform
