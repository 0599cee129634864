/* dmasim bench NAME [--json]: run one of bench/'s benchmarks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli/cli.h"

enum { OPT_MIB = 0x200, OPT_ITER };

static const struct option bench_opts[] = {
	{ "mib", required_argument, NULL, OPT_MIB },
	{ "iterations", required_argument, NULL, OPT_ITER },
	{ NULL, 0, NULL, 0 },
};

static int bench_option(struct cli *cli, int opt, const char *arg, void *ctx)
{
	struct bench_args *a = ctx;
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || *end || !*arg || arg[0] == '-' || v == 0 ||
	    v > (opt == OPT_MIB ? 65536ULL : 100000000ULL)) {
		cli_error(cli, "--%s '%s': expected a whole number from 1 to %s",
			  opt == OPT_MIB ? "mib" : "iterations", arg,
			  opt == OPT_MIB ? "65536" : "100000000");
		return EXIT_USAGE;
	}
	if (opt == OPT_MIB)
		a->mib = v;
	else
		a->iterations = (unsigned int)v;
	return 0;
}

int cmd_bench(struct cli *cli, int argc, char **argv)
{
	struct bench_args a = { 0 };
	const struct cli_extra extra = { bench_opts, "", bench_option, &a };
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
