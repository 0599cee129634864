/*
 * Kernel command-line parsing: Linux's splitting rules (spaces, quotes,
 * '=', "--"), parameq's '-' == '_', memparse, kstrtobool, and the
 * messages a booting machine logs for unknown and malformed parameters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "kernel/bootparams.h"
#include "kernel/cmdline.h"
#include "kernel/machine.h"
#include "lib/size.h"

static void expect_args(const char *line, size_t n, const char *const *params,
			const char *const *vals)
{
	struct cmdline cl;

	assert_int_equal(cmdline_split(line, &cl), 0);
	assert_int_equal(cl.nr, n);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(cl.args[i].param, params[i]);
		if (vals[i])
			assert_string_equal(cl.args[i].val, vals[i]);
		else
			assert_null(cl.args[i].val);
	}
	cmdline_free(&cl);
}

static void test_split_spaces(void **state)
{
	const char *pv[] = { "a", "b", "c" };
	const char *v[] = { NULL, "1", NULL };

	(void)state;
	expect_args("  a\tb=1 \n c  ", 3, pv, v);
	expect_args("", 0, NULL, NULL);
	expect_args("   ", 0, NULL, NULL);
}

static void test_split_values(void **state)
{
	const char *p[] = { "mem", "x", "console" };
	const char *v[] = { "4G", "a=b", "ttyS0,115200" };

	(void)state;
	/* The first '=' separates; later ones belong to the value. */
	expect_args("mem=4G x=a=b console=ttyS0,115200", 3, p, v);
}

static void test_split_quotes(void **state)
{
	const char *p1[] = { "foo", "z" };
	const char *v1[] = { "bar baz", "1" };
	const char *p2[] = { "quoted arg", "k" };
	const char *v2[] = { NULL, "v w" };
	const char *p3[] = { "a" };
	const char *v3[] = { "x\"y z\"" };

	(void)state;
	/* A quoted value loses its quotes. */
	expect_args("foo=\"bar baz\" z=1", 2, p1, v1);
	/* A whole quoted argument loses its quotes; quotes inside a value
	 * group spaces and are removed only at the value's ends. */
	expect_args("\"quoted arg\" k=\"v w\"", 2, p2, v2);
	expect_args("a=x\"y z\"", 1, p3, v3);
}

static void test_split_unterminated_quote(void **state)
{
	const char *p[] = { "a" };
	const char *v[] = { "b c d" };

	(void)state;
	/* An open quote runs to the end of the line, as on Linux. */
	expect_args("a=\"b c d", 1, p, v);
}

static void test_split_dashes(void **state)
{
	struct cmdline cl;

	(void)state;
	assert_int_equal(cmdline_split("mem=2G -- init -- x=1", &cl), 0);
	assert_int_equal(cl.nr, 4);
	assert_false(cl.args[0].after_dashes);
	assert_string_equal(cl.args[1].param, "init");
	assert_true(cl.args[1].after_dashes);
	/* Only the first "--" is special. */
	assert_string_equal(cl.args[2].param, "--");
	assert_true(cl.args[3].after_dashes);
	cmdline_free(&cl);
}

static void test_split_equals_at_start(void **state)
{
	const char *p[] = { "=x", "a", "" };
	const char *v[] = { NULL, "=b", NULL };

	(void)state;
	/* '=' at the very start does not separate (Linux checks equals==0). */
	expect_args("=x a==b \"\"", 3, p, v);
}

static void test_parameq(void **state)
{
	(void)state;
	assert_true(parameq("iommu.strict", "iommu.strict"));
	assert_true(parameq("log-buf-len", "log_buf_len"));
	assert_false(parameq("mem", "memory"));
	assert_false(parameq("mem", "me"));
}

static void test_memparse(void **state)
{
	const char *end;

	(void)state;
	assert_int_equal(memparse("4G", &end), 4ULL << 30);
	assert_string_equal(end, "");
	assert_int_equal(memparse("512m", &end), 512ULL << 20);
	assert_int_equal(memparse("0x1000", &end), 4096);
	assert_int_equal(memparse("010", &end), 8);
	assert_int_equal(memparse("2Gxyz", &end), 2ULL << 30);
	assert_string_equal(end, "xyz");
	assert_int_equal(memparse("abc", &end), 0);
	assert_string_equal(end, "abc");
	assert_int_equal(memparse("1E", &end), 1ULL << 60);
	assert_int_equal(memparse("99999999999999999999", &end), UINT64_MAX);
}

static void test_parse_size(void **state)
{
	char err[128];
	uint64_t v;

	(void)state;
	assert_int_equal(dmasim_parse_size("512M", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 512ULL << 20);
	assert_int_equal(dmasim_parse_size("8G", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 8ULL << 30);
	assert_int_equal(dmasim_parse_size("1T", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 1ULL << 40);
	assert_int_equal(dmasim_parse_size("64KiB", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 64ULL << 10);
	assert_int_equal(dmasim_parse_size("2gb", &v, err, sizeof(err)), 0);
	assert_int_equal(v, 2ULL << 30);
	assert_int_equal(dmasim_parse_size("8", &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'8': missing unit (use K, M, G or T, e.g. 8G)");
	assert_int_equal(dmasim_parse_size("8X", &v, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'8X': unknown unit 'X' (use K, M, G or T)");
	assert_int_equal(dmasim_parse_size("G", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(dmasim_parse_size("8Gx", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(dmasim_parse_size("-1G", &v, err, sizeof(err)), -EINVAL);
	assert_int_equal(dmasim_parse_size("99999999999T", &v, err, sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "'99999999999T': number too large");
}

static void test_kstrtobool(void **state)
{
	bool b;

	(void)state;
	assert_int_equal(kstrtobool("1", &b), 0);
	assert_true(b);
	assert_int_equal(kstrtobool("on", &b), 0);
	assert_true(b);
	assert_int_equal(kstrtobool("off", &b), 0);
	assert_false(b);
	assert_int_equal(kstrtobool("N", &b), 0);
	assert_false(b);
	assert_int_equal(kstrtobool("2", &b), -EINVAL);
	assert_int_equal(kstrtobool("o", &b), -EINVAL);
	assert_int_equal(kstrtobool(NULL, &b), -EINVAL);
}

static void test_unknown_params_logged(void **state)
{
	struct dmasim_machine *m;
	char *log;

	(void)state;
	m = test_boot(MiB(512),
		      "console=ttyS0,115200 panic=1 log_buf_len=4M nokaslr "
		      "intel_iommu=on gt_tests=7 foo.bar=1 -- after x=1");
	log = test_dmesg(m);
	/* Names without a value first, then name=value, dotted ones dropped,
	 * nothing after "--". */
	assert_non_null(strstr(log,
			       "] Unknown kernel command line parameters \"nokaslr gt_tests=7\", will be passed to user space.\n"));
	assert_non_null(strstr(log, "] printk: log_buf_len: 4194304 bytes\n"));
	assert_string_equal(dmasim_cmdline_problems(m), "");
	free(log);
	dmasim_machine_destroy(m);
}

static void test_no_unknown_line_when_all_known(void **state)
{
	struct dmasim_machine *m;
	char *log;

	(void)state;
	m = test_boot(MiB(512), "iommu=pt iommu.strict=0 swiotlb=force dma_debug=off");
	log = test_dmesg(m);
	assert_null(strstr(log, "Unknown kernel command line"));
	free(log);
	dmasim_machine_destroy(m);
}

static void test_malformed_early_option(void **state)
{
	struct dmasim_machine *m;
	char *log;

	(void)state;
	m = test_boot(MiB(512), "mem=abc iommu.strict=2 loglevel=x panic=soon");
	log = test_dmesg(m);
	assert_non_null(strstr(log, "] Malformed early option 'mem'\n"));
	assert_non_null(strstr(log, "] Malformed early option 'iommu.strict'\n"));
	assert_non_null(strstr(log, "] Malformed early option 'loglevel'\n"));
	assert_non_null(strstr(log,
			       "] Booting kernel: `soon' invalid for parameter `panic'\n"));
	/* mem=abc removed nothing: all 512 MiB are still there. */
	assert_null(strstr(log, "user-defined physical RAM map"));
	assert_string_equal(dmasim_cmdline_problems(m),
			    "kernel command line: malformed early option 'mem=abc' (ignored)\n"
			    "kernel command line: malformed early option 'iommu.strict=2' (ignored)\n"
			    "kernel command line: malformed early option 'loglevel=x' (ignored)\n"
			    "kernel command line: `soon' invalid for parameter `panic'\n");
	free(log);
	dmasim_machine_destroy(m);
}

static void test_mem_limits_ram(void **state)
{
	struct dmasim_machine *m;
	char *log, *meminfo;
	unsigned long kb = 0;

	(void)state;
	m = test_boot(GiB(8), "mem=2G");
	log = test_dmesg(m);
	assert_non_null(strstr(log,
			       "] e820: remove [mem 0x80000000-0xfffffffffffffffe] usable\n"));
	assert_non_null(strstr(log, "] user-defined physical RAM map:\n"));
	assert_non_null(strstr(log,
			       "] user: [mem 0x0000000000100000-0x000000007fffffff] usable\n"));
	assert_non_null(strstr(log, "]   Normal   empty\n"));
	meminfo = test_read(m, "/proc/meminfo");
	assert_int_equal(sscanf(meminfo, "MemTotal: %lu kB", &kb), 1);
	assert_true(kb < 2UL * 1024 * 1024);
	assert_true(kb > 1900UL * 1024);
	free(meminfo);
	free(log);
	dmasim_machine_destroy(m);
}

static void test_mem_too_small_refused(void **state)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[256];

	(void)state;
	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.cmdline = "mem=1M";
	cfg.nr_cpus = 1;
	assert_int_equal(dmasim_machine_create(&cfg, &m, err, sizeof(err)),
			 -EINVAL);
	assert_null(m);
	assert_string_equal(err,
			    "kernel command line: mem=1M leaves too little memory to boot (the kernel needs RAM up to at least 128M)");
}

static void test_bootparam_get(void **state)
{
	struct dmasim_machine *m;

	(void)state;
	m = test_boot(MiB(512), "intel_iommu=off intel-iommu=on iommu.strict quiet -- iommu=pt");
	/* The last value wins, '-' == '_', a flag is "", after "--" is not ours. */
	assert_string_equal(bootparam_get((struct machine *)m, "intel_iommu"), "on");
	assert_string_equal(bootparam_get((struct machine *)m, "quiet"), "");
	assert_null(bootparam_get((struct machine *)m, "iommu"));
	assert_null(bootparam_get((struct machine *)m, "swiotlb"));
	dmasim_machine_destroy(m);
}

static void test_cmdline_file_and_truncation(void **state)
{
	struct dmasim_machine *m;
	char *line = malloc(3000), *text;

	(void)state;
	memset(line, 'a', 2999);
	line[2999] = '\0';
	m = test_boot(MiB(512), line);
	text = test_read(m, "/proc/cmdline");
	/* COMMAND_LINE_SIZE is 2048: 2047 characters and the newline. */
	assert_int_equal(strlen(text), 2048);
	assert_int_equal(text[2047], '\n');
	free(text);
	free(line);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_spaces),
		cmocka_unit_test(test_split_values),
		cmocka_unit_test(test_split_quotes),
		cmocka_unit_test(test_split_unterminated_quote),
		cmocka_unit_test(test_split_dashes),
		cmocka_unit_test(test_split_equals_at_start),
		cmocka_unit_test(test_parameq),
		cmocka_unit_test(test_memparse),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_kstrtobool),
		cmocka_unit_test(test_unknown_params_logged),
		cmocka_unit_test(test_no_unknown_line_when_all_known),
		cmocka_unit_test(test_malformed_early_option),
		cmocka_unit_test(test_mem_limits_ram),
		cmocka_unit_test(test_mem_too_small_refused),
		cmocka_unit_test(test_bootparam_get),
		cmocka_unit_test(test_cmdline_file_and_truncation),
	};

	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
