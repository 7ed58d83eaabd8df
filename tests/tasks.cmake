# Suites of ates-tasks (issue 3). Included from tests/CMakeLists.txt.

# --- unit: task_rules, the v1 -> v2 upcaster, RandomPicker (no I/O) ---------
add_executable(unit_tasks_test
  unit/tasks_rules_test.cpp
  unit/tasks_events_test.cpp
  unit/tasks_random_test.cpp)
target_link_libraries(unit_tasks_test PRIVATE
  ates_tasks_domain GTest::gtest GTest::gmock GTest::gtest_main)
target_include_directories(unit_tasks_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
ates_add_test(unit_tasks_test unit 60)

# --- integration: real PostgreSQL, nats-server, ates-auth and ates-tasks ---
# Separate binaries, because one binary shares one NATS and so one ACCOUNTS stream:
#   api    - one ates-tasks for the whole API (assignment, visibility, completion,
#            idempotency, validation, shuffle and its race, events on TASKS);
#   clean  - a clean slate: no assignable account at first (FAILED_PRECONDITION),
#            then exactly five workers for the chi-square test with a fixed seed;
#   commit - ates-tasks behind a proxy that loses the connection at COMMIT: create,
#            shuffle and complete still apply once (ADR 12);
#   limits - the business limits: CreateTask rate per account, shuffle cool-down
#            across two replicas (RESOURCE_EXHAUSTED with a retry delay).
foreach(suite api clean commit limits)
  set(target integration_tasks_${suite}_test)
  add_executable(${target} integration/tasks_${suite}_test.cpp)
  target_link_libraries(${target} PRIVATE ates_test_main)
  target_compile_definitions(${target} PRIVATE
    ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
    ATES_TASKS_BIN="$<TARGET_FILE:ates-tasks>")
  add_dependencies(${target} ates-auth ates-tasks)
  ates_add_test(${target} integration 180)
endforeach()
