dmasim_test(test_intel_iommu LABELS "threads;memcheck")
