/*
 * Options every command shares: the machine to boot (--ram, --platform,
 * --cmdline, --smp, --clock, ...) and the sysfs writes made once it has
 * booted (--write). A bad value says which option and why, and the
 * command exits with status 2; a write the machine refuses, status 1.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

enum { OPT_SMP = 0x100, OPT_CLOCK, OPT_JSON, OPT_HELP, OPT_NODEFAULTS, OPT_INLINE,
       OPT_CACHE_LINE, OPT_IOMMU, OPT_WRITE, OPT_ATS };

const struct option cli_common_opts[] = {
	{ "ram", required_argument, NULL, 'm' },
	{ "platform", required_argument, NULL, 'p' },
	{ "cmdline", required_argument, NULL, 'c' },
	{ "smp", required_argument, NULL, OPT_SMP },
	{ "clock", required_argument, NULL, OPT_CLOCK },
	{ "device", required_argument, NULL, 'd' },
	{ "nodefaults", no_argument, NULL, OPT_NODEFAULTS },
	{ "inline", no_argument, NULL, OPT_INLINE },
	{ "cache-line", required_argument, NULL, OPT_CACHE_LINE },
	{ "iommu-hw", required_argument, NULL, OPT_IOMMU },
	{ "ats", no_argument, NULL, OPT_ATS },
	{ "write", required_argument, NULL, OPT_WRITE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

void cli_error(const struct cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "dmasim%s%s: ", cli && cli->cmd ? " " : "",
		cli && cli->cmd ? cli->cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static int parse_smp(struct cli *cli, const char *arg)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || *end || !*arg || arg[0] == '-' || n < 1 || n > 256) {
		cli_error(cli, "--smp '%s': expected a CPU count from 1 to 256",
			  arg);
		return EXIT_USAGE;
	}
	cli->cfg.nr_cpus = (unsigned int)n;
	return 0;
}

static int parse_cache_line(struct cli *cli, const char *arg)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(arg, &end, 10);
	if (errno || *end || !*arg || arg[0] == '-' || n < 16 || n > 4096 ||
	    (n & (n - 1))) {
		cli_error(cli, "--cache-line '%s': expected a power of two from 16 to 4096 (bytes)",
			  arg);
		return EXIT_USAGE;
	}
	cli->cfg.cache_line = (unsigned int)n;
	return 0;
}

/* --write PATH=VALUE: kept for after boot (a path has no '='). */
static int add_write(struct cli *cli, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (!eq || eq == arg) {
		cli_error(cli, "--write '%s': expected PATH=VALUE, e.g. /sys/kernel/iommu_groups/1/type=identity",
			  arg);
		return EXIT_USAGE;
	}
	if (cli->nr_writes == CLI_MAX_WRITES) {
		cli_error(cli, "--write '%s': at most %d writes", arg,
			  CLI_MAX_WRITES);
		return EXIT_USAGE;
	}
	cli->writes[cli->nr_writes++] = arg;
	return 0;
}

int cli_common_option(struct cli *cli, int opt, const char *arg)
{
	char err[160];

	switch (opt) {
	case 'm':
		if (dmasim_parse_size(arg, &cli->cfg.ram_bytes, err, sizeof(err))) {
			cli_error(cli, "--ram %s", err);
			return EXIT_USAGE;
		}
		if (cli->cfg.ram_bytes < DMASIM_RAM_MIN ||
		    cli->cfg.ram_bytes > DMASIM_RAM_MAX) {
			cli_error(cli, "--ram '%s': must be from 128M to 4T", arg);
			return EXIT_USAGE;
		}
		if (cli->cfg.ram_bytes % (1ULL << 20)) {
			cli_error(cli, "--ram '%s': must be a whole number of MiB",
				  arg);
			return EXIT_USAGE;
		}
		return 0;
	case 'p':
		if (dmasim_parse_platform(arg, &cli->cfg.platform)) {
			cli_error(cli, "--platform '%s': unknown platform (use x86 or arm64)",
				  arg);
			return EXIT_USAGE;
		}
		return 0;
	case 'c':
		if (strlen(arg) >= DMASIM_CMDLINE_MAX)
			fprintf(stderr,
				"dmasim: warning: kernel command line longer than %d bytes is truncated, as Linux does\n",
				DMASIM_CMDLINE_MAX - 1);
		cli->cfg.cmdline = arg;
		return 0;
	case OPT_SMP:
		return parse_smp(cli, arg);
	case OPT_CLOCK:
		if (!strcmp(arg, "host")) {
			cli->cfg.clock = DMASIM_CLOCK_HOST;
		} else if (!strcmp(arg, "virtual")) {
			cli->cfg.clock = DMASIM_CLOCK_VIRTUAL;
		} else {
			cli_error(cli, "--clock '%s': use host or virtual", arg);
			return EXIT_USAGE;
		}
		return 0;
	case 'd':
		if (cli->nr_devices == CLI_MAX_DEVICES) {
			cli_error(cli, "--device '%s': at most %d devices", arg,
				  CLI_MAX_DEVICES);
			return EXIT_USAGE;
		}
		cli->devices[cli->nr_devices++] = arg;
		cli->cfg.devices = cli->devices;
		cli->cfg.nr_devices = cli->nr_devices;
		return 0;
	case OPT_NODEFAULTS:
		cli->cfg.nodefaults = true;
		return 0;
	case OPT_INLINE:
		cli->cfg.inline_devices = true;
		return 0;
	case OPT_CACHE_LINE:
		return parse_cache_line(cli, arg);
	case OPT_IOMMU:
		if (!strcmp(arg, "intel")) {
			cli->cfg.iommu = DMASIM_IOMMU_INTEL;
		} else if (!strcmp(arg, "amd")) {
			cli->cfg.iommu = DMASIM_IOMMU_AMD;
		} else if (!strcmp(arg, "none")) {
			cli->cfg.iommu = DMASIM_IOMMU_NONE;
		} else {
			cli_error(cli, "--iommu-hw '%s': use intel, amd or none", arg);
			return EXIT_USAGE;
		}
		return 0;
	case OPT_ATS:
		cli->cfg.ats = true;
		return 0;
	case OPT_WRITE:
		return add_write(cli, arg);
	case OPT_JSON:
		cli->json = true;
		return 0;
	default:
		return -1;
	}
}

static int merge_opts(struct option *out, size_t cap,
		      const struct cli_extra *extra)
{
	size_t n = 0;

	for (const struct option *o = cli_common_opts; o->name && n + 1 < cap; o++)
		out[n++] = *o;
	for (const struct option *o = extra ? extra->opts : NULL; o && o->name && n + 1 < cap; o++)
		out[n++] = *o;
	memset(&out[n], 0, sizeof(out[n]));
	return 0;
}

static void report_bad_option(struct cli *cli, int opt, char **argv)
{
	const char *arg = argv[optind - 1];

	if (opt == ':')
		cli_error(cli, "option '%s' needs a value (see 'dmasim help %s')",
			  arg, cli->cmd);
	else if (optopt && strncmp(arg, "--", 2))
		cli_error(cli, "unknown option '-%c' (see 'dmasim help %s')",
			  optopt, cli->cmd);
	else
		cli_error(cli, "unknown option '%s' (see 'dmasim help %s')", arg,
			  cli->cmd);
}

int cli_parse(struct cli *cli, int argc, char **argv,
	      const struct cli_extra *extra)
{
	struct option opts[64];
	char shortopts[64];
	int opt, r;

	merge_opts(opts, sizeof(opts) / sizeof(opts[0]), extra);
	snprintf(shortopts, sizeof(shortopts), ":%s%s", CLI_COMMON_SHORTOPTS,
		 extra && extra->shortopts ? extra->shortopts : "");
	optind = 0; /* glibc: 0 re-initialises (the global pass ran in '+' mode) */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, opts, NULL)) != -1) {
		if (opt == '?' || opt == ':') {
			report_bad_option(cli, opt, argv);
			return -1;
		}
		if (opt == OPT_HELP) {
			print_command_help(command_find(cli->cmd), stdout);
			exit(0);
		}
		r = cli_common_option(cli, opt, optarg);
		if (r < 0 && extra && extra->handle)
			r = extra->handle(cli, opt, optarg, extra->ctx);
		if (r)
			return -1;
	}
	return optind;
}

/* The --write writes, in order; the first that fails stops them. */
size_t cli_log_mark(struct dmasim_machine *m)
{
	char *log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	size_t n = log ? strlen(log) : 0;

	free(log);
	return n;
}

static bool kept(const char *line, const char *const *keep)
{
	for (size_t i = 0; keep && keep[i]; i++)
		if (strstr(line, keep[i]))
			return true;
	return !keep;
}

void cli_log_since(struct dmasim_machine *m, size_t mark,
		   const char *const *keep, const char *prefix, FILE *out)
{
	char *log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	char *save = NULL;

	if (log && strlen(log) > mark)
		for (char *l = strtok_r(log + mark, "\n", &save); l;
		     l = strtok_r(NULL, "\n", &save))
			if (kept(l, keep))
				fprintf(out, "%s%s\n", prefix, l);
	free(log);
}

static int apply_writes(struct cli *cli, struct dmasim_machine *m)
{
	for (size_t i = 0; i < cli->nr_writes; i++) {
		const char *arg = cli->writes[i], *eq = strchr(arg, '=');
		char *path = strndup(arg, (size_t)(eq - arg));
		size_t before = cli_log_mark(m);
		int err = path ? dmasim_write(m, path, eq + 1, strlen(eq + 1))
			       : -ENOMEM;

		if (err) {
			cli_error(cli, "--write %s: %s", arg, strerror(-err));
			/* the kernel's reason, as Linux logs it */
			cli_log_since(m, before, NULL, "dmasim: kernel: ", stderr);
			if (err == -ENOENT && path &&
			    !strncmp(path, "/sys/kernel/iommu_groups", 24))
				fprintf(stderr, "dmasim: (groups exist when an IOMMU is in use: --cmdline intel_iommu=on, or --iommu-hw amd)\n");
		}
		free(path);
		if (err)
			return err;
	}
	return 0;
}

struct dmasim_machine *cli_boot(struct cli *cli)
{
	struct dmasim_machine *m;
	char err[256] = "";
	const char *problems;
	int ret;

	ret = dmasim_machine_create(&cli->cfg, &m, err, sizeof(err));
	if (ret == -EINVAL && !strncmp(err, "--device", 8)) {
		/* a bad device spec is a bad option */
		cli_error(cli, "%s", err);
		cli->boot_exit = EXIT_USAGE;
		return NULL;
	}
	cli->boot_exit = 1;
	if (ret) {
		cli_error(cli, "cannot boot the machine: %s",
			  err[0] ? err : strerror(-ret));
		return NULL;
	}
	/* The machine boots as Linux would; say what was ignored. */
	for (problems = dmasim_cmdline_problems(m); *problems;) {
		const char *nl = strchr(problems, '\n');
		int len = nl ? (int)(nl - problems) : (int)strlen(problems);

		fprintf(stderr, "dmasim: warning: %.*s\n", len, problems);
		problems += len + (nl ? 1 : 0);
	}
	if (apply_writes(cli, m)) {
		dmasim_machine_destroy(m);
		return NULL;
	}
	return m;
}

struct dmasim_machine *cli_boot_noargs(struct cli *cli, int argc, char **argv,
				       const struct cli_extra *extra)
{
	int i = cli_parse(cli, argc, argv, extra);

	cli->boot_exit = EXIT_USAGE;
	if (i < 0)
		return NULL;
	if (i < argc) {
		cli_error(cli, "unexpected argument '%s'", argv[i]);
		return NULL;
	}
	return cli_boot(cli);
}
