dmasim_test(test_isolation_property LABELS "unit;memcheck")
