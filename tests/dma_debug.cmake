dmasim_test(test_dma_debug LABELS "memcheck")
