/*
 * dmasim cat and dmasim ls: the machine's files, answered as cat(1) and
 * ls(1) answer ("dmasim: PATH: No such file or directory", status 1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static void path_error(const char *path, int err)
{
	fprintf(stderr, "dmasim: %s: %s\n", path, strerror(-err));
}

int cmd_cat(struct cli *cli, int argc, char **argv)
{
	struct dmasim_machine *m;
	int i = cli_parse(cli, argc, argv, NULL), status = 0;

	if (i < 0)
		return EXIT_USAGE;
	if (i >= argc) {
		cli_error(cli, "which file? e.g. dmasim cat /proc/buddyinfo");
		return EXIT_USAGE;
	}
	m = cli_boot(cli);
	if (!m)
		return cli->boot_exit;
	for (; i < argc; i++) {
		char *text;
		size_t len;
		int err = dmasim_read(m, argv[i], &text, &len);

		if (err) {
			path_error(argv[i], err);
			status = 1;
			continue;
		}
		fwrite(text, 1, len, stdout);
		free(text);
	}
	dmasim_machine_destroy(m);
	return status;
}

static int list_one(struct dmasim_machine *m, const char *path, bool header,
		    bool first)
{
	char **names;
	size_t n;
	int err = dmasim_list(m, path, &names, &n);

	if (err == -ENOTDIR) {
		printf("%s\n", path);
		return 0;
	}
	if (err) {
		fprintf(stderr, "dmasim: cannot access '%s': %s\n", path,
			strerror(-err));
		return 1;
	}
	if (header)
		printf("%s%s:\n", first ? "" : "\n", path);
	for (size_t k = 0; k < n; k++)
		printf("%s\n", names[k]);
	dmasim_free_names(names, n);
	return 0;
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	struct dmasim_machine *m;
	int i = cli_parse(cli, argc, argv, NULL), status = 0;
	bool header;

	if (i < 0)
		return EXIT_USAGE;
	m = cli_boot(cli);
	if (!m)
		return cli->boot_exit;
	header = argc - i > 1;
	if (i >= argc)
		status = list_one(m, "/", false, true);
	for (int k = i; k < argc; k++)
		status |= list_one(m, argv[k], header, k == i);
	dmasim_machine_destroy(m);
	return status;
}
