# The dmac DMA controller, its driver and the dmaengine API (see
# docs/dmac.md): the DPDK-style suite on both engines, concurrency, the
# register interface, and dmasim dmatest from the command line.
dmasim_test(test_dmac LABELS "threads;memcheck")
dmasim_test(test_dmac_wrap LABELS "threads")
dmasim_test(test_dmac_threads LABELS "threads;memcheck")
dmasim_test(test_dmac_hw LABELS "threads;memcheck")
add_test(NAME test_dmac_dmatest COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/test_dmac_dmatest.sh $<TARGET_FILE:dmasim>)
set_tests_properties(test_dmac_dmatest PROPERTIES LABELS "unit" TIMEOUT 120)
