dmasim_test(test_amd_iommu LABELS "threads;memcheck")
