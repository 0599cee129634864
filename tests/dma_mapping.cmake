dmasim_test(test_dma_mapping LABELS "memcheck")
