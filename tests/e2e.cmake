# End-to-end, analytics and deployment suites (included from tests/CMakeLists.txt).

# --- e2e: a whole business day with all five real daemons and atesctl --------
add_executable(e2e_business_day_test
  e2e/business_day_test.cpp
  e2e/e2e_support.cpp)
target_link_libraries(e2e_business_day_test PRIVATE ates_test_main)
target_compile_definitions(e2e_business_day_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_TASKS_BIN="$<TARGET_FILE:ates-tasks>"
  ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
  ATES_ANALYTICS_BIN="$<TARGET_FILE:ates-analytics>"
  ATES_SCHEDULER_BIN="$<TARGET_FILE:ates-scheduler>"
  ATESCTL_BIN="$<TARGET_FILE:atesctl>")
add_dependencies(e2e_business_day_test
  ates-auth ates-tasks ates-billing ates-analytics ates-scheduler atesctl)
ates_add_test(e2e_business_day_test e2e 240)

# --- integration: analytics against billing's own data -----------------------
# Real ates-auth, ates-billing and ates-analytics; TASKS and SCHEDULE events
# published by the test over twelve business days (days, ISO weeks, months),
# scrambled and partly twice.
add_executable(integration_analytics_billing_test integration/analytics_billing_test.cpp
  e2e/e2e_support.cpp)
target_link_libraries(integration_analytics_billing_test PRIVATE ates_test_main)
target_compile_definitions(integration_analytics_billing_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
  ATES_ANALYTICS_BIN="$<TARGET_FILE:ates-analytics>")
add_dependencies(integration_analytics_billing_test ates-auth ates-billing ates-analytics)
ates_add_test(integration_analytics_billing_test integration 240)

# --- integration: analytics read model vs order, duplicates and replay -------
# Its own stack (no billing daemon: the test publishes BILLING events itself).
add_executable(integration_analytics_replay_test integration/analytics_replay_test.cpp
  e2e/e2e_support.cpp)
target_link_libraries(integration_analytics_replay_test PRIVATE ates_test_main)
target_compile_definitions(integration_analytics_replay_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
  ATES_ANALYTICS_BIN="$<TARGET_FILE:ates-analytics>")
add_dependencies(integration_analytics_replay_test ates-auth ates-analytics)
ates_add_test(integration_analytics_replay_test integration 180)

# --- unit: the Kubernetes manifests (kubectl kustomize + yaml-cpp checks) ----
add_executable(deploy_manifest_check deploy/manifest_check.cpp)
target_link_libraries(deploy_manifest_check PRIVATE yaml-cpp)
add_test(NAME deploy_manifest_test
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/deploy/manifest_test.sh
          $<TARGET_FILE:deploy_manifest_check> ${CMAKE_SOURCE_DIR}/deploy/k8s)
set_tests_properties(deploy_manifest_test PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)

# --- integration: start in any order (issue 9) --------------------------------
# ates-tasks, ates-billing and ates-analytics started before ates-auth; an
# unknown business time zone stops billing and analytics (exit 2).
add_executable(integration_start_order_test integration/start_order_test.cpp
  e2e/e2e_support.cpp)
target_link_libraries(integration_start_order_test PRIVATE ates_test_main)
target_compile_definitions(integration_start_order_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_TASKS_BIN="$<TARGET_FILE:ates-tasks>"
  ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
  ATES_ANALYTICS_BIN="$<TARGET_FILE:ates-analytics>")
add_dependencies(integration_start_order_test ates-auth ates-tasks ates-billing ates-analytics)
ates_add_test(integration_start_order_test integration 120)
