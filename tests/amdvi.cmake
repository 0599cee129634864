# The AMD-Vi remapping hardware model (see docs/iommu.md, "AMD-Vi
# hardware"): registers, device table and I/O page table walks, the event
# log and its interrupt, the command buffer, caches, concurrent translation.
dmasim_test(test_amdvi LABELS "threads;memcheck")
