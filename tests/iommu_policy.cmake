dmasim_test(test_iommu_policy LABELS "memcheck")
