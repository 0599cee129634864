#include "cli/cli.h"
int cmd_demo(struct cli *cli, int argc, char **argv){(void)cli;(void)argc;(void)argv;return 0;}
