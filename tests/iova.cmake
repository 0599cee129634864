dmasim_test(test_iova LABELS "threads;memcheck")
target_link_libraries(test_iova PRIVATE Threads::Threads)
