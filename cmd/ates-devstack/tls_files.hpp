#pragma once

#include "settings.hpp"

namespace ates::devstack {

// ATES_RUN_TLS=1: a local CA, a server certificate per daemon (127.0.0.1,
// localhost and the bind address) and client certificates for the daemons'
// calls to ates-auth and for atesctl, made by scripts/tls-certs.sh in
// DIR/tls. Kept across runs; remade when missing or expiring within a day.
void EnsureTlsFiles(const Settings& settings);

}  // namespace ates::devstack
