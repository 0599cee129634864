/* dmasim boot and dmasim dmesg: the kernel log of a freshly booted machine. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static int print_and_free(char *text)
{
	if (!text) {
		fprintf(stderr, "dmasim: out of memory\n");
		return 1;
	}
	fputs(text, stdout);
	free(text);
	return 0;
}

int cmd_boot(struct cli *cli, int argc, char **argv)
{
	struct dmasim_machine *m;
	int ret;

	m = cli_boot_noargs(cli, argc, argv, NULL);
	if (!m)
		return cli->boot_exit;
	ret = print_and_free(dmasim_console(m));
	dmasim_machine_destroy(m);
	return ret;
}

struct dmesg_opts {
	unsigned int flags;
	unsigned int levels;
};

static const char *const level_names[] = { "emerg",  "alert", "crit",
					   "err",    "warn",  "notice",
					   "info",   "debug" };

static int parse_levels(struct cli *cli, const char *arg, unsigned int *mask)
{
	char *copy = strdup(arg), *save = NULL, *tok;
	int ret = 0;

	if (!copy)
		return 1;
	for (tok = strtok_r(copy, ",", &save); tok && !ret;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int l;

		for (l = 0; l < 8 && strcmp(tok, level_names[l]); l++)
			;
		if (l == 8) {
			cli_error(cli, "--level: unknown level '%s' (use emerg, alert, crit, err, warn, notice, info, debug)",
				  tok);
			ret = EXIT_USAGE;
		}
		*mask |= 1u << l;
	}
	free(copy);
	return ret;
}

static int dmesg_option(struct cli *cli, int opt, const char *arg, void *ctx)
{
	struct dmesg_opts *o = ctx;

	switch (opt) {
	case 'r':
		o->flags |= DMASIM_DMESG_RAW;
		return 0;
	case 't':
		o->flags |= DMASIM_DMESG_NOTIME;
		return 0;
	case 'l':
		return parse_levels(cli, arg, &o->levels);
	default:
		return -1;
	}
}

int cmd_dmesg(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "raw", no_argument, NULL, 'r' },
		{ "notime", no_argument, NULL, 't' },
		{ "level", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	struct dmesg_opts o = { 0, 0 };
	struct cli_extra extra = { opts, "rtl:", dmesg_option, &o };
	struct dmasim_machine *m;
	int ret;

	m = cli_boot_noargs(cli, argc, argv, &extra);
	if (!m)
		return cli->boot_exit;
	ret = print_and_free(dmasim_dmesg(m, o.flags,
					  o.levels ? o.levels : DMASIM_LEVELS_ALL));
	dmasim_machine_destroy(m);
	return ret;
}
