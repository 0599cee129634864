# Machines: isolation, create/destroy, bus errors, platforms, threads and
# CPUs, refused configurations. The 1 TiB and 4 TiB boots are a separate
# executable kept out of the memcheck label (valgrind is slow on them).
find_package(Threads REQUIRED)
dmasim_test(test_machines LABELS "threads;memcheck")
target_link_libraries(test_machines PRIVATE Threads::Threads)
dmasim_test(test_bigmachine LABELS "")
