dmasim_test(test_attack LABELS "unit;memcheck")
dmasim_test(test_kmalloc LABELS "unit;memcheck;threads")
target_link_libraries(test_kmalloc PRIVATE Threads::Threads)
