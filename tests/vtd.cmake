# The VT-d remapping hardware model and the IOTLB it shares with AMD-Vi
# (see docs/iommu.md, "VT-d hardware"): registers, walks, faults,
# invalidation (registers and queue), caches, concurrent translation.
dmasim_test(test_vtd LABELS "threads;memcheck")
dmasim_test(test_iotlb LABELS "threads;memcheck")
