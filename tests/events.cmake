# The event contracts (api/contracts, ADR 0021): catalogue, typed router, upcasting.
add_executable(unit_contracts_test unit/contracts_event_router_test.cpp)
target_link_libraries(unit_contracts_test PRIVATE ates_test_support GTest::gtest GTest::gmock
  GTest::gtest_main)
ates_add_test(unit_contracts_test unit 60)
