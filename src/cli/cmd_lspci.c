/* Placeholder: dmasim lspci. */
#include "cli/cli.h"

int cmd_lspci(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error(cli, "not available yet");
	return 1;
}

int cmd_devices(struct cli *cli, int argc, char **argv)
{
	(void)argc;
	(void)argv;
	cli_error(cli, "not available yet");
	return 1;
}
