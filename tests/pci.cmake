dmasim_test(test_pci LABELS "memcheck")
