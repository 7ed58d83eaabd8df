#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <optional>
#include <type_traits>

#include "ates/platform/call_admission.hpp"
#include "ates/platform/error.hpp"
#include "ates/platform/pg.hpp"

// How an RPC body's outcome becomes a grpc::Status: domain errors, database
// failures and bugs each map to their code in one place.
namespace ates::platform {

// Maps a domain error to its gRPC status; INVALID_ARGUMENT carries a
// google.rpc.BadRequest naming the fields.
grpc::Status ToStatus(const ates::Error& error);

// Runs an RPC body and turns whatever it throws into a status. With the
// call's context, the body runs only when CallAdmission admitted the call
// (policy table, token, input), and gets the caller's principal when it takes
// one (`[&](const auth::Principal& who) {...}`); its database work stops at
// the caller's deadline (pg::CallDeadline): no connection wait or retry
// outlives the caller.
template <class Fn>
grpc::Status Handle(const grpc::ServerContext& ctx, Fn&& fn);
template <class Fn>
grpc::Status Handle(Fn&& fn);

// UNAVAILABLE for a transient database failure (lost connection, no free
// pooled connection, lock wait timed out), DEADLINE_EXCEEDED when a statement
// or the caller's deadline ran out, INTERNAL for anything else.
grpc::Status DatabaseStatus(const pg::PgError& error);
grpc::Status InternalStatus(const std::exception& error);
// The caller's deadline on the steady clock; none when the call has none.
std::optional<std::chrono::steady_clock::time_point> DeadlineOf(const grpc::ServerContext& ctx);

template <class Fn>
grpc::Status Handle(const grpc::ServerContext& ctx, Fn&& fn) {
  pg::CallDeadline deadline(DeadlineOf(ctx));
  return Handle([&] {
    auth::Principal who = AdmittedPrincipal(ctx);
    if constexpr (std::is_invocable_v<Fn, const auth::Principal&>) {
      fn(who);
    } else {
      fn();
    }
  });
}

template <class Fn>
grpc::Status Handle(Fn&& fn) {
  try {
    fn();
    return grpc::Status::OK;
  } catch (const ates::Error& e) {
    return ToStatus(e);
  } catch (const pg::PgError& e) {
    return DatabaseStatus(e);
  } catch (const std::exception& e) {
    return InternalStatus(e);
  }
}

}  // namespace ates::platform
