dmasim_test(test_buddy LABELS "threads;memcheck")
