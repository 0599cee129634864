/*
 * The 16-bit ring index and the channel wrapping twice, on both engines
 * (test_dmac.c's test_ring_index_wrap): 2 x 65536 descriptors each, kept
 * out of the valgrind run.
 */
#pragma GCC diagnostic ignored "-Wunused-function"
#define DMAC_WRAP_ONLY
#include "test_dmac.c"
