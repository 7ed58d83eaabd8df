# NATS credentials per service and the consumers' envelope check (issue 10,
# ADR 15). Included from tests/CMakeLists.txt.

# --- unit: the envelope table and check, the credentials config ------------
add_executable(unit_nats_security_test unit/event_envelope_test.cpp)
target_link_libraries(unit_nats_security_test PRIVATE ates_contracts GTest::gtest GTest::gmock
  GTest::gtest_main)
ates_add_test(unit_nats_security_test unit 60)

# --- integration: real nats-server with the users of ADR 15, ates-auth,
# ates-billing and ates-tasks: forged publishes refused by the server, forged
# envelopes dead-lettered by the consumer, refused credentials end a daemon.
add_executable(integration_nats_security_test
  integration/nats_security_test.cpp)
target_link_libraries(integration_nats_security_test PRIVATE ates_test_main)
target_compile_definitions(integration_nats_security_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
  ATES_TASKS_BIN="$<TARGET_FILE:ates-tasks>")
add_dependencies(integration_nats_security_test ates-auth ates-billing ates-tasks)
ates_add_test(integration_nats_security_test integration 240)
