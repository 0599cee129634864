/*
 * The boot log as Linux 6.1 x86-64 prints it (checked against the capture
 * in shared/reference/linux-6.1-output/a1-intel-dmesg-full.txt): the
 * "[%5lu.%06lu] " prefix, the command line, the e820 maps and mem=, the
 * zone ranges, the memory node ranges and the "Memory:" summary.
 *
 * Zone bounds follow free_area_init() with x86-64's zone_sizes_init():
 * DMA from the first usable page to 16M, DMA32 from 16M to
 * min(4G, end of RAM), Normal from 4G to the end of RAM; a zone whose
 * start is not below its end prints "empty". On x86-64 max_low_pfn is
 * raised to max_pfn, so DMA32 runs to 4G even when RAM below 4G stops
 * at the PCI hole (3G here). mem=X cuts RAM at the address X.
 *
 * Machines of 8 GiB and more take valgrind seconds each: this executable
 * (under valgrind in CI) boots one and shares it; test_bootlog_big has
 * the rest.
 */
#include "bootlog.h"

static void expect_all_lines_stamped(const char *log)
{
	char buf[LOG_LINE_MAX];
	int n = test_count_lines(log);

	assert_true(n > 10);
	for (int i = 0; i < n; i++) {
		assert_int_equal(test_line(log, i, buf, sizeof(buf)), 0);
		if (!test_matches(buf, "^" TS ".*$"))
			fail_msg("line %d \"%s\" lacks the timestamp", i, buf);
	}
	assert_int_equal(log[strlen(log) - 1], '\n');
}

static void test_every_line_stamped(void **state)
{
	struct dmasim_machine *m = *state;
	struct dmasim_config cfg;
	char err[256], *log;

	log = test_dmesg(m);
	expect_all_lines_stamped(log);
	assert_true(test_matches(log, "^" TS "Linux version 6\\.1\\."));
	free(log);
	/* The host clock gives other numbers, the same layout. */
	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.nr_cpus = 1;
	assert_int_equal(dmasim_machine_create(&cfg, &m, err, sizeof(err)), 0);
	log = test_dmesg(m);
	expect_all_lines_stamped(log);
	free(log);
	dmasim_machine_destroy(m);
}

static void test_command_line_lines(void **state)
{
	static const char *const order[] = {
		"Command line: console=ttyS0,115200 foo=\"a b\" -- x",
		"BIOS-provided physical RAM map:",
		"Zone ranges:",
		"Kernel command line: console=ttyS0,115200 foo=\"a b\" -- x",
	};
	struct dmasim_machine *m = *state;
	char buf[LOG_LINE_MAX], *log;

	/* An empty line still prints the label, and its space. */
	log = test_dmesg(m);
	assert_string_equal(msg_at(log, 1, buf), "Command line: ");
	assert_true(find_msg(log, 0, "Kernel command line: ") > 1);
	free(log);
	m = test_boot(MiB(512), "console=ttyS0,115200 foo=\"a b\" -- x");
	log = test_dmesg(m);
	/* Right after the banner, as given. */
	assert_int_equal(find_msg(log, 0, order[0]), 1);
	expect_in_order(log, order, ARRAY_SIZE(order));
	free(log);
	dmasim_machine_destroy(m);
}

static void test_zone_ranges_8g(void **state)
{
	/* RAM [0, 640K), [1M, 3G) and [4G, 9G); page 0 is reserved. */
	static const char *const msgs[] = {
		"Zone ranges:",
		"  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
		"  DMA32    [mem 0x0000000001000000-0x00000000ffffffff]",
		"  Normal   [mem 0x0000000100000000-0x000000023fffffff]",
		"  Device   empty",
		"Movable zone start for each node",
		"Early memory node ranges",
		"  node   0: [mem 0x0000000000001000-0x000000000009efff]",
		"  node   0: [mem 0x0000000000100000-0x00000000bfffffff]",
		"  node   0: [mem 0x0000000100000000-0x000000023fffffff]",
		"Initmem setup node 0 [mem 0x0000000000001000-0x000000023fffffff]",
	};
	char *log = test_dmesg(*state);

	expect_block(log, msgs, ARRAY_SIZE(msgs));
	free(log);
}

static void test_zone_ranges_512m(void **state)
{
	/* All RAM below 4G: DMA32 ends with it, Normal is empty. */
	static const char *const msgs[] = {
		"Zone ranges:",
		"  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
		"  DMA32    [mem 0x0000000001000000-0x000000001fffffff]",
		"  Normal   empty",
		"  Device   empty",
		"Movable zone start for each node",
		"Early memory node ranges",
		"  node   0: [mem 0x0000000000001000-0x000000000009efff]",
		"  node   0: [mem 0x0000000000100000-0x000000001fffffff]",
		"Initmem setup node 0 [mem 0x0000000000001000-0x000000001fffffff]",
	};

	(void)state;
	expect_log(MiB(512), NULL, msgs, ARRAY_SIZE(msgs));
}

static void expect_mem_1g_files(struct dmasim_machine *m)
{
	unsigned long kb = 0;
	char *text;

	text = test_read(m, "/proc/meminfo");
	assert_int_equal(sscanf(text, "MemTotal: %lu kB", &kb), 1);
	assert_true(kb < 1024UL * 1024 && kb > 900UL * 1024);
	free(text);
	text = test_read(m, "/proc/buddyinfo");
	assert_int_equal(test_count_lines(text), 2);
	assert_null(strstr(text, "Normal"));
	free(text);
	text = test_read(m, "/proc/iomem");
	assert_non_null(strstr(text, "\n00100000-3fffffff : System RAM\n"));
	free(text);
}

static void test_mem_1g(void **state)
{
	static const char *const e820[] = {
		"e820: remove [mem 0x40000000-0xfffffffffffffffe] usable",
		"NX (Execute Disable) protection: active",
		"user-defined physical RAM map:",
		"user: [mem 0x0000000000000000-0x000000000009fbff] usable",
		"user: [mem 0x000000000009fc00-0x000000000009ffff] reserved",
		"user: [mem 0x00000000000f0000-0x00000000000fffff] reserved",
		"user: [mem 0x0000000000100000-0x000000003fffffff] usable",
		"user: [mem 0x00000000fffc0000-0x00000000ffffffff] reserved",
	};
	static const char *const zones[] = {
		"Zone ranges:",
		"  DMA      [mem 0x0000000000001000-0x0000000000ffffff]",
		"  DMA32    [mem 0x0000000001000000-0x000000003fffffff]",
		"  Normal   empty",
		"  Device   empty",
		"Movable zone start for each node",
		"Early memory node ranges",
		"  node   0: [mem 0x0000000000001000-0x000000000009efff]",
		"  node   0: [mem 0x0000000000100000-0x000000003fffffff]",
		"Initmem setup node 0 [mem 0x0000000000001000-0x000000003fffffff]",
	};
	struct dmasim_machine *m;
	char *log;

	(void)state;
	m = test_boot(GiB(2), "mem=1G");
	log = test_dmesg(m);
	expect_block(log, e820, ARRAY_SIZE(e820));
	expect_block(log, zones, ARRAY_SIZE(zones));
	assert_true(find_msg(log, 0, "last_pfn = 0x40000 max_arch_pfn = 0x400000000") > 0);
	expect_mem_1g_files(m);
	expect_summary(m, (1UL << 20) - LOW_LOSS_KB);
	free(log);
	dmasim_machine_destroy(m);
}

static void test_memory_summary(void **state)
{
	struct dmasim_machine *m;

	expect_summary(*state, (8UL << 20) - LOW_LOSS_KB);
	m = test_boot(MiB(512), NULL);
	expect_summary(m, (512UL << 10) - LOW_LOSS_KB);
	dmasim_machine_destroy(m);
}

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
		cmocka_unit_test(test_every_line_stamped),
		cmocka_unit_test(test_command_line_lines),
		cmocka_unit_test(test_zone_ranges_8g),
		cmocka_unit_test(test_zone_ranges_512m),
		cmocka_unit_test(test_mem_1g),
		cmocka_unit_test(test_memory_summary),
	};

	return cmocka_run_group_tests_name("bootlog", tests, boot_8g, destroy);
}
