/* Shared helpers for the tests: booting machines, reading their files. */
#ifndef DMASIM_TESTS_HELPERS_H
#define DMASIM_TESTS_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dmasim/dmasim.h"

/* Boot a machine (fails the test if it does not boot). @cmdline may be
 * NULL. The clock is virtual, so logs are reproducible. */
struct dmasim_machine *test_boot(uint64_t ram, const char *cmdline);
struct dmasim_machine *test_boot_platform(uint64_t ram, const char *cmdline,
					  enum dmasim_platform platform);
/* Read a machine file; fails the test if it cannot. Free the result. */
char *test_read(struct dmasim_machine *m, const char *path);
/* The whole dmesg (all levels, timestamps). Free the result. */
char *test_dmesg(struct dmasim_machine *m);
/* Line @n (0-based) of @text into @buf; returns 0 or -1 if none. */
int test_line(const char *text, int n, char *buf, size_t len);
/* Number of lines in @text. */
int test_count_lines(const char *text);
/* Does the machine's log (no timestamps) have @line as a whole line?
 * Prints what is missing when not. */
bool test_log_has(struct dmasim_machine *m, const char *line);
/* Does @text match the POSIX extended regex @re (anchored by caller)? */
int test_matches(const char *text, const char *re);

#define GiB(x) ((uint64_t)(x) << 30)
#define MiB(x) ((uint64_t)(x) << 20)

#endif
