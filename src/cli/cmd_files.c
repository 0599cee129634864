/*
 * dmasim cat, ls and readlink: the machine's files, answered as cat(1),
 * ls(1) and readlink(1) answer ("dmasim: PATH: No such file or
 * directory", status 1). Paths follow symbolic links; ls -l shows where
 * a link points ("NAME -> TARGET").
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

/* NAME, or NAME -> TARGET for a link when @longf. */
static void print_entry(struct dmasim_machine *m, const char *dir,
			const char *name, bool longf)
{
	size_t dl = strlen(dir);
	char *path, *target = NULL;

	if (!longf) {
		printf("%s\n", name);
		return;
	}
	path = malloc(dl + strlen(name) + 2);
	if (path) {
		sprintf(path, "%s%s%s", dir, dl && dir[dl - 1] == '/' ? "" : "/",
			name);
		dmasim_readlink(m, path, &target);
	}
	if (target)
		printf("%s -> %s\n", name, target);
	else
		printf("%s\n", name);
	free(target);
	free(path);
}

/* ls -l PATH where PATH is itself a link (no trailing '/'): the link. */
static bool list_link(struct dmasim_machine *m, const char *path)
{
	char *target;
	size_t len = strlen(path);

	if (!len || path[len - 1] == '/' || dmasim_readlink(m, path, &target))
		return false;
	printf("%s -> %s\n", path, target);
	free(target);
	return true;
}

static int list_one(struct dmasim_machine *m, const char *path, bool header,
		    bool first, bool longf)
{
	char **names;
	size_t n;
	int err;

	if (longf && list_link(m, path))
		return 0;
	err = dmasim_list(m, path, &names, &n);
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
		print_entry(m, path, names[k], longf);
	dmasim_free_names(names, n);
	return 0;
}

static int ls_option(struct cli *cli, int opt, const char *arg, void *ctx)
{
	(void)cli;
	(void)arg;
	if (opt != 'l')
		return EXIT_USAGE;
	*(bool *)ctx = true;
	return 0;
}

int cmd_ls(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	bool longf = false;
	const struct cli_extra extra = { opts, "l", ls_option, &longf };
	struct dmasim_machine *m;
	int i = cli_parse(cli, argc, argv, &extra), status = 0;
	bool header;

	if (i < 0)
		return EXIT_USAGE;
	m = cli_boot(cli);
	if (!m)
		return cli->boot_exit;
	header = argc - i > 1;
	if (i >= argc)
		status = list_one(m, "/", false, true, longf);
	for (int k = i; k < argc; k++)
		status |= list_one(m, argv[k], header, k == i, longf);
	dmasim_machine_destroy(m);
	return status;
}

int cmd_readlink(struct cli *cli, int argc, char **argv)
{
	struct dmasim_machine *m;
	int i = cli_parse(cli, argc, argv, NULL), status = 0;

	if (i < 0)
		return EXIT_USAGE;
	if (i >= argc) {
		cli_error(cli, "which link? e.g. dmasim readlink /sys/class/iommu/dmar0");
		return EXIT_USAGE;
	}
	m = cli_boot(cli);
	if (!m)
		return cli->boot_exit;
	for (; i < argc; i++) {
		char *target;
		int err = dmasim_readlink(m, argv[i], &target);

		if (err) {
			path_error(argv[i], err);
			status = 1;
			continue;
		}
		printf("%s\n", target);
		free(target);
	}
	dmasim_machine_destroy(m);
	return status;
}
