/* Test helpers (see helpers.h). */
#include "helpers.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dmasim_machine *test_boot_platform(uint64_t ram, const char *cmdline,
					  enum dmasim_platform platform)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[256] = "";
	int ret;

	dmasim_config_init(&cfg);
	cfg.ram_bytes = ram;
	cfg.cmdline = cmdline;
	cfg.platform = platform;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nr_cpus = 2;
	ret = dmasim_machine_create(&cfg, &m, err, sizeof(err));
	if (ret)
		print_error("boot failed: %d %s\n", ret, err);
	assert_int_equal(ret, 0);
	assert_non_null(m);
	return m;
}

struct dmasim_machine *test_boot(uint64_t ram, const char *cmdline)
{
	return test_boot_platform(ram, cmdline, DMASIM_PLATFORM_X86);
}

char *test_read(struct dmasim_machine *m, const char *path)
{
	char *text = NULL;
	size_t len = 0;

	assert_int_equal(dmasim_read(m, path, &text, &len), 0);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

char *test_dmesg(struct dmasim_machine *m)
{
	char *s = dmasim_dmesg(m, 0, DMASIM_LEVELS_ALL);

	assert_non_null(s);
	return s;
}

int test_line(const char *text, int n, char *buf, size_t len)
{
	const char *p = text;

	for (int i = 0; i < n; i++) {
		p = strchr(p, '\n');
		if (!p)
			return -1;
		p++;
	}
	if (!*p)
		return -1;
	size_t l = strcspn(p, "\n");

	if (l >= len)
		l = len - 1;
	memcpy(buf, p, l);
	buf[l] = '\0';
	return 0;
}

int test_count_lines(const char *text)
{
	int n = 0;

	for (const char *p = text; *p; p++)
		n += *p == '\n';
	return n;
}

int test_matches(const char *text, const char *re)
{
	regex_t r;
	int ok;

	if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB | REG_NEWLINE))
		fail_msg("bad regex %s", re);
	ok = regexec(&r, text, 0, NULL, 0) == 0;
	regfree(&r);
	return ok;
}

bool test_log_has(struct dmasim_machine *m, const char *line)
{
	char *log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	size_t n = strlen(line);
	bool ok = false;

	for (const char *p = log; p && !ok; p = strchr(p, '\n'), p = p ? p + 1 : p)
		ok = !strncmp(p, line, n) && (p[n] == '\n' || !p[n]);
	if (!ok)
		print_error("missing line: %s\n", line);
	free(log);
	return ok;
}
