/* Placeholder: dmasim dmatest (being written). */
#include "cli/cli.h"

int cmd_dmatest(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error(cli, "not available yet");
	return 1;
}
