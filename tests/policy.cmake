# Authorization in one place, token revocation and input checks (ADR 0017).
# Included from tests/CMakeLists.txt.

# --- unit: policy tables of every service, the string check, the revocation view
add_executable(unit_policy_test unit/policy_test.cpp)
target_link_libraries(unit_policy_test PRIVATE
  ates_auth_service ates_tasks_service ates_billing_service ates_analytics_service
  ates_scheduler_service ates_test_support GTest::gtest GTest::gmock GTest::gtest_main)
ates_add_test(unit_policy_test unit 60)

# --- integration: CallAdmission on an in-process gRPC server (no daemons) ----
add_executable(integration_policy_admission_test integration/policy_admission_test.cpp)
target_link_libraries(integration_policy_admission_test PRIVATE
  ates_test_support GTest::gtest GTest::gmock GTest::gtest_main)
ates_add_test(integration_policy_admission_test integration 60)

# --- integration: all five daemons: policy coverage, revocation, fuzzing -----
foreach(suite daemons fuzz)
  set(target integration_policy_${suite}_test)
  add_executable(${target} integration/policy_${suite}_test.cpp)
  target_link_libraries(${target} PRIVATE ates_test_main)
  target_compile_definitions(${target} PRIVATE
    ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
    ATES_TASKS_BIN="$<TARGET_FILE:ates-tasks>"
    ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
    ATES_ANALYTICS_BIN="$<TARGET_FILE:ates-analytics>"
    ATES_SCHEDULER_BIN="$<TARGET_FILE:ates-scheduler>")
  add_dependencies(${target} ates-auth ates-tasks ates-billing ates-analytics ates-scheduler)
endforeach()
ates_add_test(integration_policy_daemons_test integration 240)
ates_add_test(integration_policy_fuzz_test integration 300)
