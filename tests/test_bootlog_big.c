/*
 * Boot logs and /proc files of machines with RAM above 4G, booted many
 * times over: 4, 8 and 64 GiB, and mem= cutting RAM above, below and
 * inside the PCI hole. The rules are those of test_bootlog.c. Not run
 * under valgrind: it takes seconds per 8 GiB boot there and cannot
 * reserve 64 GiB at all (natively every boot here is fast: RAM is sparse).
 */
#include "bootlog.h"

/* "%6lu " */
#define U6                                                                \
	"( {5}[0-9]| {4}[1-9][0-9]| {3}[1-9][0-9]{2}| {2}[1-9][0-9]{3}| " \
	"[1-9][0-9]{4}|[1-9][0-9]{5,}) "

static void test_zone_ranges_4g(void **state)
{
	/* 3G below the PCI hole, the last 1G above 4G. */
	static const char *const msgs[] = {
		"Zone ranges:",
		"  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
		"  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]",
		"  Normal   [mem 0x0000000100000000-0x000000013fffffff]",
		"  Device   empty",
	};

	(void)state;
	expect_log(GiB(4), NULL, msgs, ARRAY_SIZE(msgs));
}

static void test_zone_ranges_64g(void **state)
{
	/* RAM [1M, 3G) and [4G, 65G): Normal ends at 65G - 1. */
	static const char *const msgs[] = {
		"Zone ranges:",
		"  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
		"  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]",
		"  Normal   [mem 0x0000000100000000-0x000000103fffffff]",
		"  Device   empty",
		"Movable zone start for each node",
		"Early memory node ranges",
		"  node   0: [mem 0x0000000000001000-0x000000000009efff]",
		"  node   0: [mem 0x0000000000100000-0x00000000bfffffff]",
		"  node   0: [mem 0x0000000100000000-0x000000103fffffff]",
		"Initmem setup node 0 [mem 0x0000000000001000-0x000000103fffffff]",
	};

	(void)state;
	expect_log(GiB(64), NULL, msgs, ARRAY_SIZE(msgs));
}

static unsigned long mi_get(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	assert_non_null(p);
	return strtoul(p + strlen(key), NULL, 10);
}

static void expect_buddyinfo_3_zones(struct dmasim_machine *m)
{
	static const char *const res[] = {
		"^Node 0, zone      DMA (" U6 "){11}$",
		"^Node 0, zone    DMA32 (" U6 "){11}$",
		"^Node 0, zone   Normal (" U6 "){11}$",
	};
	char *text = test_read(m, "/proc/buddyinfo");
	char line[LOG_LINE_MAX];

	assert_int_equal(test_count_lines(text), 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(test_line(text, i, line, sizeof(line)), 0);
		if (!test_matches(line, res[i]))
			fail_msg("\"%s\" does not match /%s/", line, res[i]);
	}
	free(text);
}

static void test_files_64g(void **state)
{
	struct dmasim_machine *m;
	unsigned long total;
	char *text;

	(void)state;
	m = test_boot(GiB(64), NULL);
	expect_buddyinfo_3_zones(m);
	text = test_read(m, "/proc/meminfo");
	total = mi_get(text, "MemTotal:");
	assert_true(total <= 64UL << 20 && total > 60UL << 20);
	/* The ISA range and all RAM above 1M: [0, 3G) and [4G, 65G). */
	assert_int_equal(mi_get(text, "DirectMap4k:") +
				 mi_get(text, "DirectMap2M:") +
				 mi_get(text, "DirectMap1G:"),
			 64UL << 20);
	free(text);
	text = test_read(m, "/proc/iomem");
	assert_non_null(strstr(text, "\n100000000-103fffffff : System RAM\n"));
	free(text);
	expect_summary(m, (64UL << 20) - LOW_LOSS_KB);
	dmasim_machine_destroy(m);
}

static void test_mem_1g_of_8g(void **state)
{
	/* RAM above 4G goes too; reserved ranges stay. */
	static const char *const msgs[] = {
		"e820: remove [mem 0x40000000-0xfffffffffffffffe] usable",
		"NX (Execute Disable) protection: active",
		"user-defined physical RAM map:",
		"user: [mem 0x0000000000000000-0x000000000009fbff] usable",
		"user: [mem 0x000000000009fc00-0x000000000009ffff] reserved",
		"user: [mem 0x00000000000f0000-0x00000000000fffff] reserved",
		"user: [mem 0x0000000000100000-0x000000003fffffff] usable",
		"user: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved",
		"e820: update [mem 0x00000000-0x00000fff] usable ==> reserved",
	};
	static const char *const zones[] = {
		"Zone ranges:",
		"  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
		"  DMA32    [mem 0x0000000001000000-0x000000003fffffff]",
		"  Normal   empty",
		"  Device   empty",
	};
	struct dmasim_machine *m;
	char *log;

	(void)state;
	m = test_boot(GiB(8), "mem=1G");
	log = test_dmesg(m);
	expect_block(log, msgs, ARRAY_SIZE(msgs));
	expect_block(log, zones, ARRAY_SIZE(zones));
	expect_summary(m, (1UL << 20) - LOW_LOSS_KB);
	free(log);
	dmasim_machine_destroy(m);
}

static void test_mem_above_4g(void **state)
{
	/* mem=5G is an address: RAM [4G, 5G) stays, Normal with it. */
	static const char *const e820[] = {
		"e820: remove [mem 0x140000000-0xfffffffffffffffe] usable",
		"NX (Execute Disable) protection: active",
		"user-defined physical RAM map:",
		"user: [mem 0x0000000000000000-0x000000000009fbff] usable",
		"user: [mem 0x000000000009fc00-0x000000000009ffff] reserved",
		"user: [mem 0x00000000000f0000-0x00000000000fffff] reserved",
		"user: [mem 0x0000000000100000-0x00000000bfffffff] usable",
		"user: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved",
		"user: [mem 0x0000000100000000-0x000000013fffffff] usable",
	};
	static const char *const zones[] = {
		"Zone ranges:",
		"  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
		"  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]",
		"  Normal   [mem 0x0000000100000000-0x000000013fffffff]",
		"  Device   empty",
	};

	(void)state;
	expect_log(GiB(8), "mem=5G", e820, ARRAY_SIZE(e820));
	expect_log(GiB(8), "mem=5G", zones, ARRAY_SIZE(zones));
}

static void test_mem_in_pci_hole(void **state)
{
	/* mem=3584M ends in the hole: RAM ends at 3G, and so does DMA32. */
	static const char *const e820[] = {
		"e820: remove [mem 0xe0000000-0xfffffffffffffffe] usable",
	};
	static const char *const zones[] = {
		"Zone ranges:",
		"  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
		"  DMA32    [mem 0x0000000001000000-0x00000000bfffffff]",
		"  Normal   empty",
		"  Device   empty",
	};

	(void)state;
	expect_log(GiB(8), "mem=3584M", e820, ARRAY_SIZE(e820));
	expect_log(GiB(8), "mem=3584M", zones, ARRAY_SIZE(zones));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_ranges_4g),
		cmocka_unit_test(test_zone_ranges_64g),
		cmocka_unit_test(test_files_64g),
		cmocka_unit_test(test_mem_1g_of_8g),
		cmocka_unit_test(test_mem_above_4g),
		cmocka_unit_test(test_mem_in_pci_hole),
	};

	return cmocka_run_group_tests_name("bootlog_big", tests, NULL, NULL);
}
