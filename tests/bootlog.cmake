dmasim_test(test_bootlog LABELS "memcheck")
# Machines above 4 GiB, booted many times: slow under valgrind, which
# cannot reserve 64 GiB at all. No memcheck label.
dmasim_test(test_bootlog_big)
