/* The dmasim command: shared option handling and the command table. */
#ifndef DMASIM_CLI_CLI_H
#define DMASIM_CLI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "dmasim/dmasim.h"

#define EXIT_USAGE 2

struct cli {
	const char *cmd;	  /* the command being run */
	struct dmasim_config cfg; /* from --ram, --platform, --cmdline, ... */
	bool json;		  /* --json */
#define CLI_MAX_DEVICES 64
	const char *devices[CLI_MAX_DEVICES]; /* --device specs */
	size_t nr_devices;
	int boot_exit;		  /* exit status when cli_boot failed */
#define CLI_MAX_WRITES 64
	const char *writes[CLI_MAX_WRITES]; /* --write PATH=VALUE, in order */
	size_t nr_writes;
};

/* A command's own options: getopt_long entries plus a handler that returns
 * 0, or EXIT_USAGE after printing why. */
struct cli_extra {
	const struct option *opts;
	const char *shortopts;
	int (*handle)(struct cli *cli, int opt, const char *arg, void *ctx);
	void *ctx;
};

struct command {
	const char *name;
	const char *summary;
	const char *usage;   /* one line: the arguments */
	const char *details; /* the command's own options and notes */
	int (*run)(struct cli *cli, int argc, char **argv);
};

extern const struct command commands[];
const struct command *command_find(const char *name);

/* Parse common and @extra options; returns the index of the first operand
 * or -1 after printing an error (exit with EXIT_USAGE). */
int cli_parse(struct cli *cli, int argc, char **argv,
	      const struct cli_extra *extra);
/* Parse one common option (also used before the command word). */
int cli_common_option(struct cli *cli, int opt, const char *arg);
extern const struct option cli_common_opts[];
#define CLI_COMMON_SHORTOPTS "m:p:c:d:"

/* Boot the configured machine and make its --write writes; prints why and
 * returns NULL on failure (cli->boot_exit is then the exit status). */
struct dmasim_machine *cli_boot(struct cli *cli);
/* Parse options (no operands allowed), then boot. NULL: see boot_exit. */
struct dmasim_machine *cli_boot_noargs(struct cli *cli, int argc, char **argv,
				       const struct cli_extra *extra);

/* A mark in the kernel log (its length now), and the lines logged since
 * a mark that contain one of @keep (NULL: every line), each printed
 * after @prefix. */
size_t cli_log_mark(struct dmasim_machine *m);
void cli_log_since(struct dmasim_machine *m, size_t mark,
		   const char *const *keep, const char *prefix, FILE *out);

__attribute__((format(printf, 2, 3))) void cli_error(const struct cli *cli,
						     const char *fmt, ...);
void print_command_help(const struct command *c, FILE *out);
void print_common_help(FILE *out);

int cmd_boot(struct cli *cli, int argc, char **argv);
int cmd_dmesg(struct cli *cli, int argc, char **argv);
int cmd_cat(struct cli *cli, int argc, char **argv);
int cmd_ls(struct cli *cli, int argc, char **argv);
int cmd_readlink(struct cli *cli, int argc, char **argv);
int cmd_bench(struct cli *cli, int argc, char **argv);
int cmd_attack(struct cli *cli, int argc, char **argv);
int cmd_demo(struct cli *cli, int argc, char **argv);
int cmd_vfio(struct cli *cli, int argc, char **argv);
int cmd_help(struct cli *cli, int argc, char **argv);
int cmd_lspci(struct cli *cli, int argc, char **argv);
int cmd_devices(struct cli *cli, int argc, char **argv);
int cmd_dmatest(struct cli *cli, int argc, char **argv);

#endif
