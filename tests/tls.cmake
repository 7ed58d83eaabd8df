# TLS of gRPC servers and clients, key-set merging (issue 10 item 1, ADR 0014).
# Included from tests/CMakeLists.txt.

# --- unit: merged key sets, TLS config keys, atesctl's TLS options -----------
add_executable(unit_tls_test unit/token_merge_test.cpp unit/tls_config_test.cpp)
target_link_libraries(unit_tls_test PRIVATE ates_platform GTest::gtest GTest::gmock GTest::gtest_main)
ates_add_test(unit_tls_test unit 60)

add_executable(unit_atesctl_tls_test unit/atesctl_tls_test.cpp)
target_link_libraries(unit_atesctl_tls_test PRIVATE atesctl_core GTest::gtest GTest::gmock
  GTest::gtest_main)
ates_add_test(unit_atesctl_tls_test unit 60)

# --- integration: real ates-auth and ates-tasks over TLS and mTLS -------------
# Certificates made by scripts/tls-certs.sh (openssl) in the test's folder.
add_executable(integration_tls_test integration/tls_test.cpp e2e/e2e_support.cpp)
target_link_libraries(integration_tls_test PRIVATE ates_test_main)
target_compile_definitions(integration_tls_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_TASKS_BIN="$<TARGET_FILE:ates-tasks>"
  ATESCTL_BIN="$<TARGET_FILE:atesctl>")
add_dependencies(integration_tls_test ates-auth ates-tasks atesctl)
ates_add_test(integration_tls_test integration 240)

# --- deploy: the prod overlay's TLS and the cert-manager overlay --------------
add_test(NAME deploy_tls_overlay_test
  COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/deploy/tls_overlay_test.sh
          $<TARGET_FILE:deploy_manifest_check> ${CMAKE_SOURCE_DIR}/deploy/k8s)
set_tests_properties(deploy_tls_overlay_test PROPERTIES LABELS unit TIMEOUT 120 SKIP_RETURN_CODE 77)
