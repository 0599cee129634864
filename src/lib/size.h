/* Sizes as people and the kernel write them. */
#ifndef DMASIM_LIB_SIZE_H
#define DMASIM_LIB_SIZE_H

#include <stdint.h>

/*
 * Linux's memparse(): a number in C base notation (0x.., 0..., decimal)
 * followed by an optional K, M, G, T, P or E (either case). Returns the
 * value and sets *end past what was consumed (*end == s: no number).
 * Overflow saturates to UINT64_MAX.
 */
uint64_t memparse(const char *s, const char **end);

#endif
