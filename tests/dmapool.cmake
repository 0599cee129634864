dmasim_test(test_dmapool LABELS "memcheck")
