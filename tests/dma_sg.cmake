dmasim_test(test_dma_sg LABELS "memcheck")
