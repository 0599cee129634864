dmasim_test(test_dma_threads LABELS "threads;memcheck")
target_link_libraries(test_dma_threads PRIVATE Threads::Threads)
