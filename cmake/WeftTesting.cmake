# weft_add_test(<name> SOURCES <files...> [LIBS <targets...>] LABELS <labels...>
#               [TIMEOUT <s>] [PROPERTIES <ctest properties...>])
# One GoogleTest executable registered with ctest under the given labels
# (unit, property, explore, stress, bench-smoke). Tests are discovered at
# build time so each TEST shows up in ctest on its own.
function(weft_add_test name)
  cmake_parse_arguments(T "" "TIMEOUT" "SOURCES;LIBS;LABELS;PROPERTIES" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE weft::weft GTest::gtest GTest::gtest_main ${T_LIBS})
  weft_set_warnings(${name})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  if(WEFT_SANITIZER)
    # The asan preset is a Debug build (assertions and invariant checks on)
    # under ASan and UBSan: the explorer runs there ~60x slower than in the
    # default build (the hallway seed's livelock search, one iteration, 2.8 s
    # against 100-170 s on this project's 2-core hosts), so a case's limit
    # scales with it rather than failing on a slow host.
    math(EXPR T_TIMEOUT "${T_TIMEOUT} * 5")
  endif()
  if(WEFT_TEST_PER_CASE)
    gtest_discover_tests(${name}
      DISCOVERY_TIMEOUT 60
      PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT} ${T_PROPERTIES})
  else()
    # One ctest per binary: far less process start-up (a sanitizer runtime
    # makes each start slow), at the price of coarser ctest output.
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}" TIMEOUT 1200 ${T_PROPERTIES})
  endif()
endfunction()
