/* dmasim bench NAME [--json]: run one of bench/'s benchmarks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli/cli.h"

enum { OPT_MIB = 0x200, OPT_ITER, OPT_PATH, OPT_DIR, OPT_BIOMMU };

static const struct option bench_opts[] = {
	{ "mib", required_argument, NULL, OPT_MIB },
	{ "iterations", required_argument, NULL, OPT_ITER },
	{ "threads", required_argument, NULL, 't' },
	{ "seconds", required_argument, NULL, 's' },
	{ "granule", required_argument, NULL, 'g' },
	{ "dir", required_argument, NULL, OPT_DIR }, /* -d is --device */
	{ "bits", required_argument, NULL, 'b' },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "iommu", no_argument, NULL, OPT_BIOMMU },
	{ NULL, 0, NULL, 0 },
};

/* Numeric options: their range and, for map's, dma_map_benchmark's
 * own complaint. */
static const struct {
	int opt;
	const char *name;
	unsigned long long min, max;
	const char *why;
} numeric[] = {
	{ OPT_MIB, "--mib", 1, 65536, "expected a whole number from 1 to 65536" },
	{ OPT_ITER, "--iterations", 1, 100000000,
	  "expected a whole number from 1 to 100000000" },
	{ 't', "-t", 1, 1024, "invalid number of threads, must be in 1-1024" },
	{ 's', "-s", 1, 300, "invalid number of seconds, must be in 1-300" },
	{ 'g', "-g", 1, 1024, "invalid granule size" },
	{ OPT_DIR, "--dir", 0, 2, "invalid dma direction" },
	{ 'b', "-b", 20, 64, "invalid dma mask bit, must be in 20-64" },
};

static void store(struct bench_args *a, int opt, unsigned long long v)
{
	switch (opt) {
	case OPT_MIB: a->mib = v; break;
	case OPT_ITER: a->iterations = (unsigned int)v; break;
	case 't': a->threads = (unsigned int)v; break;
	case 's': a->seconds = (unsigned int)v; break;
	case 'g': a->granule = (unsigned int)v; break;
	case OPT_DIR: a->dir = (int)v; break;
	case 'b': a->bits = (unsigned int)v; break;
	}
}

static int bench_option(struct cli *cli, int opt, const char *arg, void *ctx)
{
	struct bench_args *a = ctx;
	unsigned long long v;
	char *end;

	if (opt == OPT_BIOMMU) {
		a->iommu = true;
		return 0;
	}
	if (opt == OPT_PATH) {
		if (strcmp(arg, "direct") && strcmp(arg, "bounce") &&
		    strcmp(arg, "iommu-lazy") && strcmp(arg, "iommu-strict")) {
			cli_error(cli, "--path '%s': use direct, bounce, iommu-lazy or iommu-strict",
				  arg);
			return EXIT_USAGE;
		}
		a->path = arg;
		return 0;
	}
	for (size_t i = 0; i < sizeof(numeric) / sizeof(numeric[0]); i++) {
		if (numeric[i].opt != opt)
			continue;
		errno = 0;
		v = strtoull(arg, &end, 10);
		if (errno || *end || !*arg || arg[0] == '-' ||
		    v < numeric[i].min || v > numeric[i].max) {
			cli_error(cli, "%s '%s': %s", numeric[i].name, arg,
				  numeric[i].why);
			return EXIT_USAGE;
		}
		store(a, opt, v);
		return 0;
	}
	return -1;
}

int cmd_bench(struct cli *cli, int argc, char **argv)
{
	struct bench_args a = { .dir = -1 };
	const struct cli_extra extra = { bench_opts, "t:s:g:b:", bench_option,
					 &a };
	int i = cli_parse(cli, argc, argv, &extra);

	if (i < 0)
		return EXIT_USAGE;
	if (i >= argc) {
		printf("benchmarks:\n");
		for (const struct bench *b = benches; b->name; b++)
			printf("  %-11s %s\n", b->name, b->summary);
		return 0;
	}
	if (i + 1 < argc) {
		cli_error(cli, "unexpected argument '%s'", argv[i + 1]);
		return EXIT_USAGE;
	}
	for (const struct bench *b = benches; b->name; b++)
		if (!strcmp(b->name, argv[i])) {
			a.cfg = &cli->cfg;
			a.json = cli->json;
			a.out = stdout;
			return b->run(&a);
		}
	cli_error(cli, "no benchmark '%s' (run 'dmasim bench' for the list)",
		  argv[i]);
	return EXIT_USAGE;
}
