# ates-auth hardening (issue 10 items 3, 5, 7, 9; ADR 16). Included from tests/CMakeLists.txt.

# --- unit: client addresses, sealed keys, the Argon2 gate (no I/O) ---------
add_executable(unit_auth_security_test unit/auth_security_unit_test.cpp)
target_link_libraries(unit_auth_security_test PRIVATE ates_auth_domain GTest::gtest GTest::gmock
  GTest::gtest_main)
ates_add_test(unit_auth_security_test unit 60)

# --- integration: real PostgreSQL, nats-server, ates-auth (+ ates-tasks, atesctl) ---
#   login_flood - 200 parallel junk logins, atomic per-login/per-address throttling;
#   revocation  - version bumps + events on password change/reset, self-protection, atesctl;
#   keys        - sealed keys, plaintext migration, rotation overlap at ates-tasks, retirement.
add_executable(integration_auth_login_flood_test integration/auth_login_flood_test.cpp)
target_link_libraries(integration_auth_login_flood_test PRIVATE ates_test_main)
target_compile_definitions(integration_auth_login_flood_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>")
add_dependencies(integration_auth_login_flood_test ates-auth)
ates_add_test(integration_auth_login_flood_test integration 180)

add_executable(integration_auth_revocation_test integration/auth_revocation_test.cpp
  e2e/e2e_support.cpp)
target_link_libraries(integration_auth_revocation_test PRIVATE ates_test_main ates_auth_domain)
target_compile_definitions(integration_auth_revocation_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATESCTL_BIN="$<TARGET_FILE:atesctl>")
add_dependencies(integration_auth_revocation_test ates-auth atesctl)
ates_add_test(integration_auth_revocation_test integration 180)

add_executable(integration_auth_keys_test integration/auth_keys_test.cpp)
target_link_libraries(integration_auth_keys_test PRIVATE ates_test_main)
target_compile_definitions(integration_auth_keys_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_TASKS_BIN="$<TARGET_FILE:ates-tasks>")
add_dependencies(integration_auth_keys_test ates-auth ates-tasks)
ates_add_test(integration_auth_keys_test integration 240)

# --- integration: payout mail against a plain SMTP server on loopback (no STARTTLS) ---
add_executable(integration_smtp_tls_test integration/smtp_tls_test.cpp)
target_link_libraries(integration_smtp_tls_test PRIVATE ates_billing_domain GTest::gtest GTest::gmock
  GTest::gtest_main)
ates_add_test(integration_smtp_tls_test integration 60)
