/* Checking boot logs line by line (test_bootlog and test_bootlog_big). */
#ifndef DMASIM_TESTS_BOOTLOG_H
#define DMASIM_TESTS_BOOTLOG_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

#define LOG_LINE_MAX 512
/* "[%5lu.%06lu] ": seconds right-aligned in at least 5 columns. */
#define TS                                                                 \
	"\\[( {4}[0-9]| {3}[1-9][0-9]| {2}[1-9][0-9]{2}| [1-9][0-9]{3}|" \
	"[1-9][0-9]{4,})\\.[0-9]{6}\\] "
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The message of line @n of the log (after the timestamp), or NULL. */
static inline const char *msg_at(const char *log, int n, char *buf)
{
	char *p;

	if (test_line(log, n, buf, LOG_LINE_MAX))
		return NULL;
	p = strstr(buf, "] ");
	assert_non_null(p);
	return p + 2;
}

/* First line at or after @from whose message is @msg, or -1. */
static inline int find_msg(const char *log, int from, const char *msg)
{
	char buf[LOG_LINE_MAX];
	const char *m;

	for (int i = from; (m = msg_at(log, i, buf)); i++)
		if (!strcmp(m, msg))
			return i;
	return -1;
}

/* @msgs[0] is in the log and the next lines are exactly @msgs[1..n-1]. */
static inline void expect_block(const char *log, const char *const *msgs,
				size_t n)
{
	char buf[LOG_LINE_MAX];
	int at = find_msg(log, 0, msgs[0]);

	if (at < 0)
		fail_msg("no \"%s\" in the log", msgs[0]);
	for (size_t i = 1; i < n; i++) {
		const char *m = msg_at(log, at + (int)i, buf);

		if (!m || strcmp(m, msgs[i]))
			fail_msg("after \"%s\": \"%s\", expected \"%s\"",
				 msgs[0], m ? m : "(end)", msgs[i]);
	}
}

/* Each of @msgs is in the log, in this order. */
static inline void expect_in_order(const char *log, const char *const *msgs,
				   size_t n)
{
	int at = 0;

	for (size_t i = 0; i < n; i++) {
		at = find_msg(log, at, msgs[i]);
		if (at < 0)
			fail_msg("\"%s\" missing or out of order", msgs[i]);
		at++;
	}
}

/* Boot, check that @msgs are consecutive lines of the log, shut down. */
static inline void expect_log(uint64_t ram, const char *cmdline,
			      const char *const *msgs, size_t n)
{
	struct dmasim_machine *m = test_boot(ram, cmdline);
	char *log = test_dmesg(m);

	expect_block(log, msgs, n);
	free(log);
	dmasim_machine_destroy(m);
}

/* kB in the "Early memory node ranges" lines. */
static inline unsigned long node_ranges_kb(const char *log)
{
	char buf[LOG_LINE_MAX];
	unsigned long long s, e;
	unsigned long kb = 0;
	const char *m;

	for (int i = 0; (m = msg_at(log, i, buf)); i++)
		if (sscanf(m, "  node   0: [mem %llx-%llx]", &s, &e) == 2)
			kb += (unsigned long)((e + 1 - s) >> 10);
	return kb;
}

/* The numbers of "Memory: %luK/%luK available (...)". */
struct mem_summary {
	unsigned long avail, total, code, rw, ro, init, bss, reserved, cma;
};

static inline void parse_summary(const char *log, struct mem_summary *s)
{
	static const char *re =
		"^" TS "Memory: [0-9]+K/[0-9]+K available \\([0-9]+K kernel code, "
		"[0-9]+K rwdata, [0-9]+K rodata, [0-9]+K init, [0-9]+K bss, "
		"[0-9]+K reserved, [0-9]+K cma-reserved\\)$";
	const char *p = strstr(log, "] Memory: ");
	char line[LOG_LINE_MAX];

	assert_non_null(p);
	assert_true(test_matches(log, re));
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(p, "\n"), p);
	assert_int_equal(sscanf(line,
				"] Memory: %luK/%luK available (%luK kernel code, %luK rwdata, %luK rodata, %luK init, %luK bss, %luK reserved, %luK cma-reserved)",
				&s->avail, &s->total, &s->code, &s->rw, &s->ro,
				&s->init, &s->bss, &s->reserved, &s->cma),
			 9);
}

/* The summary of @m's boot: physpages is what the node ranges hold
 * (@want_kb), reserved = physpages - totalram_pages - totalcma_pages,
 * and, nothing being allocated yet, all that is managed is free. */
static inline void expect_summary(struct dmasim_machine *m,
				  unsigned long want_kb)
{
	char *log = test_dmesg(m), *mi = test_read(m, "/proc/meminfo");
	unsigned long memtotal = 0;
	struct mem_summary s;

	parse_summary(log, &s);
	assert_int_equal(sscanf(mi, "MemTotal: %lu kB", &memtotal), 1);
	assert_int_equal(s.total, node_ranges_kb(log));
	assert_int_equal(s.total, want_kb);
	assert_int_equal(s.avail, memtotal);
	assert_int_equal(s.cma, 0);
	assert_int_equal(s.reserved, s.total - memtotal);
	/* Printed once the command line is parsed. */
	assert_non_null(strstr(log, "] Kernel command line: "));
	assert_true(strstr(log, "] Kernel command line: ") <
		    strstr(log, "] Memory: "));
	free(mi);
	free(log);
}

/* RAM the node ranges lose to the first page (reserved), the page the
 * EBDA starts in (RAM ends at 0x9fc00, rounded down to 0x9f000) and the
 * legacy hole [640K, 1M), in kB. */
#define LOW_LOSS_KB (4 + 4 + 384)

#endif
