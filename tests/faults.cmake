# The fault suite (issue 9): a business day against the real daemons while one
# fault strikes, then a reconciliation of TASKS with billing's ledger and of
# analytics with billing. Label "faults" (`make test-faults`); each case is its
# own ctest entry (one process, one private stack each) and runs alone
# (RUN_SERIAL): it is a load test on a small machine.

# The reconciliation, the oracle of the coming `atesctl audit reconcile`.
add_library(ates_test_reconcile STATIC faults/reconcile.cpp)
target_link_libraries(ates_test_reconcile PUBLIC ates_test_support)

add_executable(faults_test faults/faults_test.cpp faults/reconcile_test.cpp faults/fault_day.cpp)
target_link_libraries(faults_test PRIVATE ates_test_reconcile ates_test_main)
target_compile_definitions(faults_test PRIVATE
  ATES_AUTH_BIN="$<TARGET_FILE:ates-auth>"
  ATES_TASKS_BIN="$<TARGET_FILE:ates-tasks>"
  ATES_BILLING_BIN="$<TARGET_FILE:ates-billing>"
  ATES_ANALYTICS_BIN="$<TARGET_FILE:ates-analytics>"
  ATES_SCHEDULER_BIN="$<TARGET_FILE:ates-scheduler>")
add_dependencies(faults_test ates-auth ates-tasks ates-billing ates-analytics ates-scheduler)

# ctest name (faults_<name>), gtest filter, timeout (s); the oracle first: a
# quick check that the reconciliation sees what it must.
set(ATES_FAULT_CASES
  "oracle|ReconcileOracle.CountsWhatWasDoneToTheLedgerAnalyticsAndTasksByHand|180"
  "order_oracle|FaultChecks.PerTaskOrderSeesAssignmentsOutOfOrder|60"
  "pg_stopped|FaultSuite.PostgresStoppedForMinutesWhileConsumersHaveABacklog|900"
  "pg_frozen|FaultSuite.PostgresFrozenLongerThanTheStatementTimeout|600"
  "nats_killed|FaultSuite.NatsServerKilledAndRestartedMidLoad|600"
  "daemons_killed|FaultSuite.EachDaemonKilledInTurnAndRestartedDuringTheLoad|600"
  "two_replicas|FaultSuite.TwoReplicasOfEveryConsumerDaemonServeTheDay|600"
  "relay_leader_frozen|FaultSuite.RelayLeaderOfTasksFrozenAndTheStandbyTakesOver|600"
  "commit_lost|FaultSuite.CommitRepliesOfTasksLostAgainAndAgainDuringTheLoad|600"
  "jetstream_cluster|FaultSuite.LeaderOfTheReplicatedTasksStreamKilledInAThreeNodeJetStreamCluster|600")
foreach(entry ${ATES_FAULT_CASES})
  string(REPLACE "|" ";" parts "${entry}")
  list(GET parts 0 case)
  list(GET parts 1 gtest_name)
  list(GET parts 2 timeout)
  add_test(NAME faults_${case}
    COMMAND faults_test --gtest_color=no --gtest_filter=${gtest_name})
  set_tests_properties(faults_${case} PROPERTIES LABELS faults TIMEOUT ${timeout} RUN_SERIAL TRUE
    ENVIRONMENT "ATES_FAULT_RESULTS=${CMAKE_BINARY_DIR}/fault-results.txt")
endforeach()
