/*
 * /proc files in Linux 6.1's formats, line by line: buddyinfo
 * (mm/vmstat.c frag_show_print), meminfo (fs/proc/meminfo.c and x86's
 * arch_report_meminfo), zoneinfo (zoneinfo_show_print), iomem
 * (kernel/resource.c r_show) and cmdline. Layouts were checked against
 * the capture of a real 6.1 boot in shared/reference/linux-6.1-output/.
 * Values are checked against the rules Linux computes them with, and
 * across files (buddyinfo vs zoneinfo vs meminfo vs iomem).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "dmasim/linux/gfp.h"

/* An unsigned decimal as "%lu": no leading zeros. */
#define DEC "(0|[1-9][0-9]*)"
/* The same right-aligned in 5, 6 and 8 columns ("%5lu", "%6lu", "%8lu"). */
#define NZ(n)  "[1-9][0-9]{" #n "}"   /* n + 1 digits */
#define NZP(n) "[1-9][0-9]{" #n ",}"  /* n + 1 digits or more */
#define U5 "( {4}[0-9]| {3}" NZ(1) "| {2}" NZ(2) "| " NZ(3) "|" NZP(4) ")"
#define U6 "( {5}[0-9]| {4}" NZ(1) "| {3}" NZ(2) "| {2}" NZ(3) "| " NZ(4) \
	   "|" NZP(5) ")"
#define U8 "( {7}[0-9]| {6}" NZ(1) "| {5}" NZ(2) "| {4}" NZ(3) "| {3}" \
	   NZ(4) "| {2}" NZ(5) "| " NZ(6) "|" NZP(7) ")"

#define LINE_MAX_LEN 512
#define NR_ZONES     5 /* DMA, DMA32, Normal, Movable, Device */
#define NR_CPUS	     2 /* what test_boot gives a machine */

/* ---- walking a file line by line ---- */

struct walk {
	const char *text;
	int n;
};

static void line_at(const char *text, int n, char *buf)
{
	if (test_line(text, n, buf, LINE_MAX_LEN))
		fail_msg("no line %d", n);
}

static void expect_next(struct walk *w, const char *re)
{
	char buf[LINE_MAX_LEN];

	line_at(w->text, w->n, buf);
	if (!test_matches(buf, re))
		fail_msg("line %d \"%s\" does not match /%s/", w->n, buf, re);
	w->n++;
}

/* The next line matches @pre @mid @post (@mid a literal without
 * regex metacharacters). */
static void expect_cat(struct walk *w, const char *pre, const char *mid,
		       const char *post)
{
	char re[LINE_MAX_LEN];

	snprintf(re, sizeof(re), "%s%s%s", pre, mid, post);
	expect_next(w, re);
}

static void expect_end(const struct walk *w)
{
	size_t len = strlen(w->text);

	assert_int_equal(w->n, test_count_lines(w->text));
	assert_true(len > 0 && w->text[len - 1] == '\n');
}

/* Is @line, exactly, a line of @text at or after line *@from? Moves *@from
 * past it. */
static bool find_line_from(const char *text, int *from, const char *line)
{
	char buf[LINE_MAX_LEN];

	for (int i = *from; !test_line(text, i, buf, sizeof(buf)); i++) {
		if (!strcmp(buf, line)) {
			*from = i + 1;
			return true;
		}
	}
	return false;
}

static void expect_lines_in_order(const char *text, const char *const *lines,
				  size_t n)
{
	int from = 0;

	for (size_t i = 0; i < n; i++)
		if (!find_line_from(text, &from, lines[i]))
			fail_msg("missing or out of order: \"%s\"", lines[i]);
}

/* ---- /proc/buddyinfo ---- */

static void expect_buddyinfo_zones(const char *text, const char *const *names,
				   int n)
{
	struct walk w = { text, 0 };

	/* "Node %d, zone %8s " then "%6lu " for each of the 11 orders: a
	 * space after the name, every line ends with a space. */
	for (int i = 0; i < n; i++)
		expect_cat(&w, "^Node 0, zone ", names[i], " (" U6 " ){11}$");
	expect_end(&w);
}

static void test_buddyinfo_8g(void **state)
{
	static const char *const zones[] = { "     DMA", "   DMA32", "  Normal" };
	struct dmasim_machine *m = *state;
	char *text;

	text = test_read(m, "/proc/buddyinfo");
	expect_buddyinfo_zones(text, zones, 3);
	free(text);
}

static void test_buddyinfo_512m(void **state)
{
	static const char *const zones[] = { "     DMA", "   DMA32" };
	struct dmasim_machine *m;
	char *text;

	(void)state;
	/* Below 4 GiB there is no Normal zone: only populated zones show. */
	m = test_boot(MiB(512), NULL);
	text = test_read(m, "/proc/buddyinfo");
	expect_buddyinfo_zones(text, zones, 2);
	free(text);
	dmasim_machine_destroy(m);
}

/* ---- /proc/zoneinfo parsing ---- */

struct zi {
	char name[16];
	bool populated;
	unsigned long free, min, low, high, spanned, present, managed;
	unsigned long nr_free_pages, start_pfn;
	long prot[NR_ZONES];
};

static bool num_after(const char *line, const char *prefix, unsigned long *v)
{
	size_t l = strlen(prefix);

	if (strncmp(line, prefix, l))
		return false;
	*v = strtoul(line + l, NULL, 10);
	return true;
}

static void parse_zone_line(struct zi *z, const char *b)
{
	const char *prot = "        protection: (";

	if (num_after(b, "  pages free     ", &z->free) ||
	    num_after(b, "        min      ", &z->min) ||
	    num_after(b, "        low      ", &z->low) ||
	    num_after(b, "        high     ", &z->high) ||
	    num_after(b, "        spanned  ", &z->spanned) ||
	    num_after(b, "        present  ", &z->present) ||
	    num_after(b, "        managed  ", &z->managed) ||
	    num_after(b, "      nr_free_pages ", &z->nr_free_pages) ||
	    num_after(b, "  start_pfn:           ", &z->start_pfn))
		return;
	if (!strncmp(b, prot, strlen(prot)))
		assert_int_equal(sscanf(b + strlen(prot), "%ld, %ld, %ld, %ld, %ld)",
					&z->prot[0], &z->prot[1], &z->prot[2],
					&z->prot[3], &z->prot[4]),
				 NR_ZONES);
	if (!strcmp(b, "  pagesets"))
		z->populated = true;
}

/* Parse the zone blocks of /proc/zoneinfo; returns how many. */
static int parse_zoneinfo(const char *text, struct zi *zones)
{
	char b[LINE_MAX_LEN];
	int nz = 0;

	for (int i = 0; !test_line(text, i, b, sizeof(b)); i++) {
		if (!strncmp(b, "Node 0, zone ", 13)) {
			assert_true(nz < NR_ZONES);
			memset(&zones[nz], 0, sizeof(zones[nz]));
			assert_int_equal(sscanf(b + 13, "%15s", zones[nz].name), 1);
			nz++;
			continue;
		}
		assert_true(nz > 0);
		parse_zone_line(&zones[nz - 1], b);
	}
	return nz;
}

static struct zi *read_zones(struct dmasim_machine *m)
{
	struct zi *z = calloc(NR_ZONES, sizeof(*z));
	char *text = test_read(m, "/proc/zoneinfo");

	assert_non_null(z);
	assert_int_equal(parse_zoneinfo(text, z), NR_ZONES);
	free(text);
	return z;
}

/* ---- /proc/buddyinfo against zoneinfo and dmasim_buddy_counts ---- */

static unsigned long buddy_pages(const char *line, const char *zone,
				 struct dmasim_machine *m)
{
	unsigned long c[DMASIM_NR_ORDERS], pages = 0;
	const char *p = line + strlen("Node 0, zone ") + 9;
	char *end;

	assert_int_equal(dmasim_buddy_counts(m, zone, c), 0);
	for (int o = 0; o < DMASIM_NR_ORDERS; o++) {
		unsigned long v = strtoul(p, &end, 10);

		assert_true(end != p);
		assert_int_equal(v, c[o]);
		pages += v << o;
		p = end;
	}
	return pages;
}

static void expect_buddy_equals_free(struct dmasim_machine *m)
{
	char *text = test_read(m, "/proc/buddyinfo");
	struct zi *z = read_zones(m);
	char line[LINE_MAX_LEN];
	int n = 0;

	/* NR_FREE_PAGES counts the buddy lists, not per-CPU pages. */
	for (int i = 0; i < NR_ZONES; i++) {
		if (!z[i].populated)
			continue;
		line_at(text, n++, line);
		assert_int_equal(buddy_pages(line, z[i].name, m), z[i].free);
		assert_int_equal(z[i].free, z[i].nr_free_pages);
	}
	assert_int_equal(n, test_count_lines(text));
	free(z);
	free(text);
}

static void test_buddyinfo_counts_free_pages(void **state)
{
	struct dmasim_machine *m = *state;

	expect_buddy_equals_free(m);
}

/* ---- /proc/meminfo ---- */

struct mi_fmt {
	const char *label; /* as Linux writes it, padding included */
	int width;	   /* of the value */
	bool kb;	   /* followed by " kB" */
};

/* Linux 6.1 x86-64's lines, in order (DirectMap1G: with gbpages). */
static const struct mi_fmt meminfo_fmt[] = {
	{ "MemTotal:       ", 8, true }, { "MemFree:        ", 8, true },
	{ "MemAvailable:   ", 8, true }, { "Buffers:        ", 8, true },
	{ "Cached:         ", 8, true }, { "SwapCached:     ", 8, true },
	{ "Active:         ", 8, true }, { "Inactive:       ", 8, true },
	{ "Active(anon):   ", 8, true }, { "Inactive(anon): ", 8, true },
	{ "Active(file):   ", 8, true }, { "Inactive(file): ", 8, true },
	{ "Unevictable:    ", 8, true }, { "Mlocked:        ", 8, true },
	{ "SwapTotal:      ", 8, true }, { "SwapFree:       ", 8, true },
	{ "Zswap:          ", 8, true }, { "Zswapped:       ", 8, true },
	{ "Dirty:          ", 8, true }, { "Writeback:      ", 8, true },
	{ "AnonPages:      ", 8, true }, { "Mapped:         ", 8, true },
	{ "Shmem:          ", 8, true }, { "KReclaimable:   ", 8, true },
	{ "Slab:           ", 8, true }, { "SReclaimable:   ", 8, true },
	{ "SUnreclaim:     ", 8, true }, { "KernelStack:    ", 8, true },
	{ "PageTables:     ", 8, true }, { "SecPageTables:  ", 8, true },
	{ "NFS_Unstable:   ", 8, true }, { "Bounce:         ", 8, true },
	{ "WritebackTmp:   ", 8, true }, { "CommitLimit:    ", 8, true },
	{ "Committed_AS:   ", 8, true }, { "VmallocTotal:   ", 8, true },
	{ "VmallocUsed:    ", 8, true }, { "VmallocChunk:   ", 8, true },
	{ "Percpu:         ", 8, true },
	/* Its own format: "HardwareCorrupted: %5lu kB". */
	{ "HardwareCorrupted: ", 5, true },
	{ "AnonHugePages:  ", 8, true }, { "ShmemHugePages: ", 8, true },
	{ "ShmemPmdMapped: ", 8, true }, { "FileHugePages:  ", 8, true },
	{ "FilePmdMapped:  ", 8, true },
	/* hugetlb_report_meminfo: counts in "%5lu", no unit. */
	{ "HugePages_Total:   ", 5, false }, { "HugePages_Free:    ", 5, false },
	{ "HugePages_Rsvd:    ", 5, false }, { "HugePages_Surp:    ", 5, false },
	{ "Hugepagesize:   ", 8, true }, { "Hugetlb:        ", 8, true },
	{ "DirectMap4k:    ", 8, true }, { "DirectMap2M:    ", 8, true },
	{ "DirectMap1G:    ", 8, true },
};

static void re_escape(const char *s, char *out, size_t len)
{
	size_t n = 0;

	for (; *s && n + 3 < len; s++) {
		if (strchr("()[]{}.*+?^$|\\", *s))
			out[n++] = '\\';
		out[n++] = *s;
	}
	out[n] = '\0';
}

static void expect_meminfo_line(struct walk *w, const struct mi_fmt *f)
{
	char label[64], re[LINE_MAX_LEN];

	re_escape(f->label, label, sizeof(label));
	snprintf(re, sizeof(re), "^%s%s%s$", label,
		 f->width == 5 ? U5 : U8, f->kb ? " kB" : "");
	expect_next(w, re);
}

static void test_meminfo_format(void **state)
{
	struct dmasim_machine *m = *state;
	struct walk w;
	char *text;

	text = test_read(m, "/proc/meminfo");
	w.text = text;
	w.n = 0;
	for (size_t i = 0; i < sizeof(meminfo_fmt) / sizeof(meminfo_fmt[0]); i++)
		expect_meminfo_line(&w, &meminfo_fmt[i]);
	expect_end(&w);
	free(text);
}

/* The value of @key ("MemTotal") in /proc/meminfo. */
static unsigned long mi_get(const char *text, const char *key)
{
	char pat[64];
	const char *p;
	size_t l;

	l = (size_t)snprintf(pat, sizeof(pat), "%s:", key);
	for (p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, pat, l))
			return strtoul(p + l, NULL, 10);
	fail_msg("no %s in /proc/meminfo", key);
	return 0;
}

/* calculate_totalreserve_pages(): per zone, its largest lowmem_reserve
 * plus its high watermark, at most what it manages. */
static unsigned long totalreserve_pages(const struct zi *z)
{
	unsigned long total = 0;

	for (int i = 0; i < NR_ZONES; i++) {
		long max = 0;

		for (int j = i; j < NR_ZONES; j++)
			if (z[i].prot[j] > max)
				max = z[i].prot[j];
		max += (long)z[i].high;
		if ((unsigned long)max > z[i].managed)
			max = (long)z[i].managed;
		total += (unsigned long)max;
	}
	return total;
}

static void expect_meminfo_values(struct dmasim_machine *m, uint64_t ram)
{
	char *text = test_read(m, "/proc/meminfo");
	struct zi *z = read_zones(m);
	unsigned long managed = 0, nfree = 0;
	unsigned long total = mi_get(text, "MemTotal");
	unsigned long mfree = mi_get(text, "MemFree");

	for (int i = 0; i < NR_ZONES; i++) {
		managed += z[i].managed;
		nfree += z[i].free;
	}
	assert_true(total <= ram >> 10);
	assert_true(total > (ram >> 10) * 8 / 10);
	assert_true(mfree <= total);
	assert_int_equal(total, managed << 2);
	assert_int_equal(mfree, nfree << 2);
	/* No page cache, no slab, no swap: si_mem_available() is what is
	 * free above the reserves; vm_commit_limit() half of RAM. */
	assert_int_equal(mi_get(text, "MemAvailable"),
			 (nfree - totalreserve_pages(z)) << 2);
	assert_int_equal(mi_get(text, "CommitLimit"), (managed / 2) << 2);
	assert_int_equal(mi_get(text, "SwapTotal"), 0);
	assert_int_equal(mi_get(text, "Hugepagesize"), 2048);
	free(z);
	free(text);
}

static void test_meminfo_values(void **state)
{
	struct dmasim_machine *m = *state;

	expect_meminfo_values(m, GiB(8));
	m = test_boot(MiB(512), NULL);
	expect_meminfo_values(m, MiB(512));
	dmasim_machine_destroy(m);
}

/* ---- /proc/iomem ---- */

struct res {
	int depth;
	unsigned long long start, end;
};

static void parse_iomem_line(const char *b, struct res *r)
{
	const char *p = b;
	char *end;

	while (*p == ' ')
		p++;
	assert_int_equal((p - b) % 2, 0);
	r->depth = (int)(p - b) / 2;
	r->start = strtoull(p, &end, 16);
	r->end = strtoull(end + 1, NULL, 16);
	assert_true(r->start <= r->end);
}

/* Children inside their parent, siblings sorted and disjoint. */
static void expect_iomem_tree(const char *text)
{
	struct res last[8], r;
	bool have[8] = { false };
	char b[LINE_MAX_LEN];
	int prev = -1;

	for (int i = 0; !test_line(text, i, b, sizeof(b)); i++) {
		if (!test_matches(b, "^(  )*([0-9a-f]{8}|[1-9a-f][0-9a-f]{8,})-([0-9a-f]{8}|[1-9a-f][0-9a-f]{8,}) : [^ ].*$"))
			fail_msg("iomem line \"%s\"", b);
		parse_iomem_line(b, &r);
		assert_true(r.depth <= prev + 1 && r.depth < 8);
		if (r.depth > 0)
			assert_true(last[r.depth - 1].start <= r.start &&
				    r.end <= last[r.depth - 1].end);
		if (have[r.depth])
			assert_true(r.start > last[r.depth].end);
		last[r.depth] = r;
		have[r.depth] = true;
		for (int d = r.depth + 1; d < 8; d++)
			have[d] = false;
		prev = r.depth;
	}
	assert_true(prev >= 0);
}

static void test_iomem_8g(void **state)
{
	static const char *const lines[] = {
		"00000000-00000fff : Reserved",
		"00001000-0009fbff : System RAM",
		"0009fc00-0009ffff : Reserved",
		"000f0000-000fffff : Reserved",
		"  000f0000-000fffff : System ROM",
		"00100000-bfffffff : System RAM",
		"  01000000-01e01d31 : Kernel code",
		"  02000000-028eafff : Kernel rodata",
		"  02a00000-02c4897f : Kernel data",
		"  03310000-043fffff : Kernel bss",
		"fec00000-fec003ff : IOAPIC 0",
		"fee00000-fee00fff : Local APIC",
		"100000000-23fffffff : System RAM",
	};
	const char *last = "\n100000000-23fffffff : System RAM\n";
	struct dmasim_machine *m = *state;
	char *text;

	text = test_read(m, "/proc/iomem");
	expect_iomem_tree(text);
	expect_lines_in_order(text, lines, sizeof(lines) / sizeof(lines[0]));
	/* RAM above 4 GiB comes last: nothing is mapped beyond it. */
	assert_string_equal(text + strlen(text) - strlen(last), last);
	free(text);
}

static int count_substr(const char *text, const char *s)
{
	int n = 0;

	for (const char *p = strstr(text, s); p; p = strstr(p + 1, s))
		n++;
	return n;
}

static void test_iomem_512m(void **state)
{
	static const char *const lines[] = {
		"00000000-00000fff : Reserved",
		"00001000-0009fbff : System RAM",
		"00100000-1fffffff : System RAM",
		"  01000000-01e01d31 : Kernel code",
	};
	struct dmasim_machine *m;
	char *text;

	(void)state;
	m = test_boot(MiB(512), NULL);
	text = test_read(m, "/proc/iomem");
	expect_iomem_tree(text);
	expect_lines_in_order(text, lines, sizeof(lines) / sizeof(lines[0]));
	/* Nothing above 4 GiB, and no other RAM than those two ranges. */
	assert_false(test_matches(text, "^[0-9a-f]{9,}-"));
	assert_int_equal(count_substr(text, " : System RAM\n"), 2);
	free(text);
	dmasim_machine_destroy(m);
}

/* ---- DirectMap against the RAM iomem shows ---- */

/* kB of top-level System RAM above 1 MiB, page-aligned inwards. */
static unsigned long ram_above_1m_kb(const char *iomem)
{
	char b[LINE_MAX_LEN];
	unsigned long kb = 0;
	struct res r;

	for (int i = 0; !test_line(iomem, i, b, sizeof(b)); i++) {
		parse_iomem_line(b, &r);
		if (r.depth || !strstr(b, " : System RAM"))
			continue;
		r.start = (r.start + 0xfff) & ~0xfffULL;
		r.end = ((r.end + 1) & ~0xfffULL);
		if (r.start < 0x100000)
			r.start = 0x100000;
		if (r.start < r.end)
			kb += (unsigned long)((r.end - r.start) >> 10);
	}
	return kb;
}

static void expect_direct_map(struct dmasim_machine *m, unsigned long want_kb)
{
	char *mi = test_read(m, "/proc/meminfo");
	char *iomem = test_read(m, "/proc/iomem");
	unsigned long k4 = mi_get(mi, "DirectMap4k");
	unsigned long m2 = mi_get(mi, "DirectMap2M");
	unsigned long g1 = mi_get(mi, "DirectMap1G");

	/* Whole pages of each size; the ISA range [0, 1M) always in 4k. */
	assert_true(k4 >= 1024 && k4 % 4 == 0);
	assert_int_equal(m2 % 2048, 0);
	assert_int_equal(g1 % (1024 * 1024), 0);
	/* The direct map covers the ISA range and all RAM above it. */
	assert_int_equal(k4 + m2 + g1, 1024 + ram_above_1m_kb(iomem));
	assert_int_equal(k4 + m2 + g1, want_kb);
	free(iomem);
	free(mi);
}

static void test_meminfo_direct_map(void **state)
{
	struct dmasim_machine *m = *state;

	/* [0, 3G) and [4G, 9G): exactly 8 GiB mapped. */
	expect_direct_map(m, 8UL << 20);
	/* mem=1G keeps [0, 1G). */
	m = test_boot(GiB(2), "mem=1G");
	expect_direct_map(m, 1UL << 20);
	dmasim_machine_destroy(m);
	m = test_boot(MiB(512), NULL);
	expect_direct_map(m, 512UL << 10);
	dmasim_machine_destroy(m);
}

/* ---- /proc/zoneinfo ---- */

static const char *const node_stats[] = {
	"nr_inactive_anon", "nr_active_anon", "nr_inactive_file",
	"nr_active_file", "nr_unevictable", "nr_slab_reclaimable",
	"nr_slab_unreclaimable", "nr_isolated_anon", "nr_isolated_file",
	"workingset_nodes", "workingset_refault_anon",
	"workingset_refault_file", "workingset_activate_anon",
	"workingset_activate_file", "workingset_restore_anon",
	"workingset_restore_file", "workingset_nodereclaim", "nr_anon_pages",
	"nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback",
	"nr_writeback_temp", "nr_shmem", "nr_shmem_hugepages",
	"nr_shmem_pmdmapped", "nr_file_hugepages", "nr_file_pmdmapped",
	"nr_anon_transparent_hugepages", "nr_vmscan_write",
	"nr_vmscan_immediate_reclaim", "nr_dirtied", "nr_written",
	"nr_throttled_written", "nr_kernel_misc_reclaimable",
	"nr_foll_pin_acquired", "nr_foll_pin_released", "nr_kernel_stack",
	"nr_page_table_pages", "nr_sec_page_table_pages", "nr_swapcached",
	"pgpromote_success", "pgpromote_candidate",
};

static const char *const zone_stats[] = {
	"nr_free_pages", "nr_zone_inactive_anon", "nr_zone_active_anon",
	"nr_zone_inactive_file", "nr_zone_active_file", "nr_zone_unevictable",
	"nr_zone_write_pending", "nr_mlock", "nr_bounce", "nr_zspages",
	"nr_free_cma", "numa_hit", "numa_miss", "numa_foreign",
	"numa_interleave", "numa_local", "numa_other",
};

/* "\n      %-12s %lu" */
static void expect_stats(struct walk *w, const char *const *names, size_t n)
{
	char name[64];

	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "%-12s", names[i]);
		expect_cat(w, "^      ", name, " " DEC "$");
	}
}

static void expect_watermarks(struct walk *w)
{
	static const char *const keys[] = {
		"  pages free     ", "        boost    ", "        min      ",
		"        low      ", "        high     ", "        spanned  ",
		"        present  ", "        managed  ", "        cma      ",
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		expect_cat(w, "^", keys[i], DEC "$");
	expect_next(w, "^        protection: \\(" DEC "(, " DEC "){4}\\)$");
}

static void expect_pagesets(struct walk *w)
{
	char re[LINE_MAX_LEN];

	expect_next(w, "^  pagesets$");
	for (int cpu = 0; cpu < NR_CPUS; cpu++) {
		snprintf(re, sizeof(re), "^    cpu: %d$", cpu);
		expect_next(w, re);
		expect_next(w, "^              count: " DEC "$");
		expect_next(w, "^              high:  " DEC "$");
		expect_next(w, "^              batch: " DEC "$");
		expect_next(w, "^  vm stats threshold: " DEC "$");
	}
	expect_next(w, "^  node_unreclaimable:  [01]$");
	expect_next(w, "^  start_pfn:           " DEC "$");
}

/* One zone's block; @first: the first populated zone, which also
 * carries the node's statistics. Unpopulated zones end at protection. */
static void expect_zone_block(struct walk *w, const char *name8, bool first,
			      bool populated)
{
	expect_cat(w, "^Node 0, zone ", name8, "$");
	if (first) {
		expect_next(w, "^  per-node stats$");
		expect_stats(w, node_stats, sizeof(node_stats) / sizeof(node_stats[0]));
	}
	expect_watermarks(w);
	if (!populated)
		return;
	expect_stats(w, zone_stats, sizeof(zone_stats) / sizeof(zone_stats[0]));
	expect_pagesets(w);
}

static void test_zoneinfo_layout(void **state)
{
	struct dmasim_machine *m = *state;
	struct walk w;
	char *text;

	text = test_read(m, "/proc/zoneinfo");
	w.text = text;
	w.n = 0;
	expect_zone_block(&w, "     DMA", true, true);
	expect_zone_block(&w, "   DMA32", false, true);
	expect_zone_block(&w, "  Normal", false, true);
	expect_zone_block(&w, " Movable", false, false);
	expect_zone_block(&w, "  Device", false, false);
	expect_end(&w);
	free(text);

	m = test_boot(MiB(512), NULL);
	text = test_read(m, "/proc/zoneinfo");
	w.text = text;
	w.n = 0;
	expect_zone_block(&w, "     DMA", true, true);
	expect_zone_block(&w, "   DMA32", false, true);
	expect_zone_block(&w, "  Normal", false, false);
	expect_zone_block(&w, " Movable", false, false);
	expect_zone_block(&w, "  Device", false, false);
	expect_end(&w);
	free(text);
	dmasim_machine_destroy(m);
}

/* setup_per_zone_lowmem_reserve(): zone i keeps back, against an
 * allocation meant for zone j > i, the pages managed by zones i+1..j
 * divided by its ratio (256, 256, 32); none in empty zones. */
static void expect_protection(const struct zi *z)
{
	static const long ratio[NR_ZONES] = { 256, 256, 32, 0, 0 };

	for (int i = 0; i < NR_ZONES; i++) {
		unsigned long upper = 0;

		for (int j = 0; j <= i; j++)
			assert_int_equal(z[i].prot[j], 0);
		for (int j = i + 1; j < NR_ZONES; j++) {
			upper += z[j].managed;
			if (!ratio[i] || !z[i].managed)
				assert_int_equal(z[i].prot[j], 0);
			else
				assert_int_equal(z[i].prot[j], (long)upper / ratio[i]);
		}
	}
}

/* __setup_per_zone_wmarks(): low and high step up from min by
 * max(min / 4, managed * 10 / 10000). */
static void expect_watermark_steps(const struct zi *z)
{
	for (int i = 0; i < NR_ZONES; i++) {
		unsigned long step = z[i].managed * 10 / 10000;

		if (z[i].min / 4 > step)
			step = z[i].min / 4;
		assert_int_equal(z[i].low, z[i].min + step);
		assert_int_equal(z[i].high, z[i].min + 2 * step);
		assert_true(z[i].managed <= z[i].present);
		assert_true(z[i].present <= z[i].spanned);
		assert_true(z[i].free <= z[i].managed);
	}
}

static void expect_span(const struct zi *z, unsigned long start,
			unsigned long spanned, unsigned long present)
{
	assert_true(z->populated);
	assert_int_equal(z->start_pfn, start);
	assert_int_equal(z->spanned, spanned);
	assert_int_equal(z->present, present);
}

static void test_zoneinfo_values_8g(void **state)
{
	struct dmasim_machine *m = *state;
	struct zi *z;

	z = read_zones(m);
	assert_string_equal(z[0].name, "DMA");
	assert_string_equal(z[4].name, "Device");
	/* DMA [0x1000, 16M): pfns 1..0xfff, the 0x9f..0xff hole excluded. */
	expect_span(&z[0], 1, 4095, 4095 - 97);
	/* DMA32 spans [16M, 4G) though RAM stops at 3G. */
	expect_span(&z[1], 4096, 0x100000 - 4096, 0xc0000 - 4096);
	expect_span(&z[2], 0x100000, 0x140000, 0x140000);
	assert_false(z[3].populated || z[4].populated);
	assert_int_equal(z[3].spanned + z[4].spanned, 0);
	/* DMA keeps back 1/256 of what DMA32 and above manage. */
	assert_int_equal(z[0].prot[1], (long)(z[1].managed / 256));
	assert_int_equal(z[0].prot[2], (long)((z[1].managed + z[2].managed) / 256));
	expect_protection(z);
	expect_watermark_steps(z);
	free(z);
}

static void test_zoneinfo_values_512m(void **state)
{
	struct dmasim_machine *m;
	struct zi *z;

	(void)state;
	m = test_boot(MiB(512), NULL);
	z = read_zones(m);
	expect_span(&z[0], 1, 4095, 4095 - 97);
	expect_span(&z[1], 4096, 0x20000 - 4096, 0x20000 - 4096);
	assert_false(z[2].populated);
	assert_int_equal(z[2].spanned, 0);
	assert_int_equal(z[0].prot[2], z[0].prot[1]);
	assert_int_equal(z[1].prot[2], 0);
	expect_protection(z);
	expect_watermark_steps(z);
	free(z);
	dmasim_machine_destroy(m);
}

/* ---- the files stay consistent as pages come and go ---- */

static void test_files_follow_allocations(void **state)
{
	struct dmasim_machine *m = *state;
	struct page *p;
	unsigned long before, after;
	char *mi;

	dmasim_enter(m);
	mi = test_read(m, "/proc/meminfo");
	before = mi_get(mi, "MemFree");
	free(mi);
	/* Order 5 does not go through the per-CPU lists. */
	p = alloc_pages(GFP_KERNEL, 5);
	assert_non_null(p);
	expect_buddy_equals_free(m);
	mi = test_read(m, "/proc/meminfo");
	after = mi_get(mi, "MemFree");
	free(mi);
	assert_int_equal(before - after, 32 * 4);
	__free_pages(p, 5);
	dmasim_drain_pages(m);
	expect_buddy_equals_free(m);
	mi = test_read(m, "/proc/meminfo");
	assert_int_equal(mi_get(mi, "MemFree"), before);
	free(mi);
}

/* ---- /proc/cmdline ---- */

static void expect_cmdline(const char *cmdline, const char *want)
{
	struct dmasim_machine *m = test_boot(MiB(512), cmdline);
	char *text = test_read(m, "/proc/cmdline");

	assert_string_equal(text, want);
	free(text);
	dmasim_machine_destroy(m);
}

static void test_cmdline_file(void **state)
{
	(void)state;
	/* The line as given, quotes, "--" and spacing kept, plus "\n". */
	expect_cmdline("console=ttyS0,115200 foo=\"a b\"  mem=4G -- x",
		       "console=ttyS0,115200 foo=\"a b\"  mem=4G -- x\n");
	expect_cmdline(NULL, "\n");
	expect_cmdline("", "\n");
}

/* One 8 GiB machine for the tests that only read it (or restore it):
 * valgrind takes seconds to boot one. */
static int boot_8g(void **state)
{
	*state = test_boot(GiB(8), NULL);
	return 0;
}

static int destroy(void **state)
{
	dmasim_machine_destroy(*state);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buddyinfo_8g),
		cmocka_unit_test(test_buddyinfo_512m),
		cmocka_unit_test(test_buddyinfo_counts_free_pages),
		cmocka_unit_test(test_meminfo_format),
		cmocka_unit_test(test_meminfo_values),
		cmocka_unit_test(test_meminfo_direct_map),
		cmocka_unit_test(test_zoneinfo_layout),
		cmocka_unit_test(test_zoneinfo_values_8g),
		cmocka_unit_test(test_zoneinfo_values_512m),
		cmocka_unit_test(test_iomem_8g),
		cmocka_unit_test(test_iomem_512m),
		cmocka_unit_test(test_files_follow_allocations),
		cmocka_unit_test(test_cmdline_file),
	};

	return cmocka_run_group_tests_name("procfs", tests, boot_8g, destroy);
}
