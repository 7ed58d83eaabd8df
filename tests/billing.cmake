# Billing and scheduler suites (included from tests/CMakeLists.txt).

# --- unit: pure functions of billing ----------------------------------------
add_executable(unit_billing_test unit/billing_mailer_test.cpp unit/billing_reconcile_test.cpp)
target_link_libraries(unit_billing_test PRIVATE ates_billing_domain GTest::gtest GTest::gmock
  GTest::gtest_main)
ates_add_test(unit_billing_test unit 60)

# (unit_scheduler_test, for business_days.cpp, is defined in tests/CMakeLists.txt.)

# --- integration: ates-billing driven by events published by the tests -----
# One binary, one private stack, one ates-auth and one ates-billing shared by
# its tests (each test uses its own accounts, tasks and business days).
add_executable(integration_billing_test
  integration/billing_ledger_test.cpp
  integration/billing_access_test.cpp
  integration/billing_close_test.cpp
  integration/billing_dead_letter_test.cpp
  e2e/e2e_support.cpp)
target_link_libraries(integration_billing_test PRIVATE ates_test_main)
target_compile_definitions(integration_billing_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
  ATESCTL_BIN="$<TARGET_FILE:atesctl>")
add_dependencies(integration_billing_test ates-auth ates-billing atesctl)
ates_add_test(integration_billing_test integration 240)

# --- integration: reconciliation of TASKS with the ledger ------------------
# Its own stack, ates-auth and ates-billing (with /metrics), and atesctl: the
# tests delete and add ledger rows behind billing's back (and put them back).
add_executable(integration_billing_reconcile_test
  integration/billing_reconcile_test.cpp
  e2e/e2e_support.cpp)
target_link_libraries(integration_billing_reconcile_test PRIVATE ates_test_main)
target_compile_definitions(integration_billing_reconcile_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
  ATESCTL_BIN="$<TARGET_FILE:atesctl>")
add_dependencies(integration_billing_reconcile_test ates-auth ates-billing atesctl)
ates_add_test(integration_billing_reconcile_test integration 240)

# --- integration: the real ates-scheduler (and billing end to end) ----------
add_executable(integration_scheduler_test integration/scheduler_clock_test.cpp)
target_link_libraries(integration_scheduler_test PRIVATE ates_test_main)
target_compile_definitions(integration_scheduler_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
  ATES_SCHEDULER_BIN="$<TARGET_FILE:ates-scheduler>")
add_dependencies(integration_scheduler_test ates-auth ates-billing ates-scheduler)
ates_add_test(integration_scheduler_test integration 240)

# --- integration: the scheduler's clock against PostgreSQL's (issue 9) -------
# Its own binary: these tests close real, recent dates on their SCHEDULE stream,
# which would close every made-up past day of the other scheduler tests.
add_executable(integration_scheduler_guard_test integration/scheduler_guard_test.cpp
  e2e/e2e_support.cpp)
target_link_libraries(integration_scheduler_guard_test PRIVATE ates_test_main)
target_compile_definitions(integration_scheduler_guard_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_SCHEDULER_BIN="$<TARGET_FILE:ates-scheduler>")
add_dependencies(integration_scheduler_guard_test ates-auth ates-scheduler)
ates_add_test(integration_scheduler_guard_test integration 120)
