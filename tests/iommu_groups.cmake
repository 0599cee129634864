dmasim_test(test_iommu_groups LABELS "memcheck")
