add_test(NAME test_cli COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_cli.sh $<TARGET_FILE:dmasim>)
set_tests_properties(test_cli PROPERTIES LABELS "unit" TIMEOUT 300)
