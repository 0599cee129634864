dmasim_test(test_sysfs_links LABELS "unit;memcheck")
