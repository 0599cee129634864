dmasim_test(test_procfs LABELS "memcheck")
