dmasim_test(test_disk LABELS "threads;memcheck")
dmasim_test(test_disk_errors LABELS "threads;memcheck")
