/* dmasim bench NAME [--json]: run one of bench/'s benchmarks. */
#include <string.h>

#include "bench.h"
#include "cli/cli.h"

int cmd_bench(struct cli *cli, int argc, char **argv)
{
	int i = cli_parse(cli, argc, argv, NULL);

	if (i < 0)
		return EXIT_USAGE;
	if (i >= argc) {
		printf("benchmarks:\n");
		for (const struct bench *b = benches; b->name; b++)
			printf("  %-8s %s\n", b->name, b->summary);
		return 0;
	}
	if (i + 1 < argc) {
		cli_error(cli, "unexpected argument '%s'", argv[i + 1]);
		return EXIT_USAGE;
	}
	for (const struct bench *b = benches; b->name; b++)
		if (!strcmp(b->name, argv[i]))
			return b->run(&cli->cfg, cli->json, stdout);
	cli_error(cli, "no benchmark '%s' (run 'dmasim bench' for the list)",
		  argv[i]);
	return EXIT_USAGE;
}
