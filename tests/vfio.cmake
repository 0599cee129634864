dmasim_test(test_vfio LABELS "unit;memcheck")
