# The daemon runtime and its modules (ADR 0018), in-process: no database, no NATS.
# Included from tests/CMakeLists.txt.
add_executable(integration_runtime_module_test integration/runtime_module_test.cpp)
target_link_libraries(integration_runtime_module_test PRIVATE
  ates_tasks_service ates_test_support GTest::gtest GTest::gmock GTest::gtest_main)
target_compile_definitions(integration_runtime_module_test PRIVATE
  ATES_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
ates_add_test(integration_runtime_module_test integration 60)
