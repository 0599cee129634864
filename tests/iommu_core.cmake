dmasim_test(test_iommu_core LABELS "memcheck")
