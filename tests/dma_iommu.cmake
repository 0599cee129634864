dmasim_test(test_dma_iommu LABELS "threads;memcheck")
target_link_libraries(test_dma_iommu PRIVATE Threads::Threads)
