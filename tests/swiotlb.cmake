dmasim_test(test_swiotlb LABELS "memcheck")
