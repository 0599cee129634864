dmasim_test(test_cmdline LABELS "memcheck")
