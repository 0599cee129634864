dmasim_test(test_ats LABELS "unit;memcheck")
