/*
 * dmasim attack NAME|all [--policy P] [--json]: run the attack suite
 * (src/attack/) and print, per run, the policy, what the device did, the
 * bytes it read or wrote outside its mappings, the faults and the lines
 * the kernel logged, and a verdict; or a table, or JSON.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "attack/attack.h"
#include "cli/cli.h"

enum { OPT_POLICY = 0x300 };

static const struct option attack_opts[] = {
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ NULL, 0, NULL, 0 },
};

static int attack_option(struct cli *cli, int opt, const char *arg, void *ctx)
{
	const struct atk_policy **p = ctx;

	if (opt != OPT_POLICY)
		return -1;
	*p = atk_policy_find(arg);
	if (!*p) {
		cli_error(cli, "--policy '%s': unknown policy (run 'dmasim attack' for the list)",
			  arg);
		return EXIT_USAGE;
	}
	return 0;
}

static void list(void)
{
	printf("attacks:\n");
	for (int i = 0; attacks[i]; i++)
		printf("  %-16s %s\n", attacks[i]->name, attacks[i]->summary);
	printf("\npolicies:\n");
	for (size_t i = 0; i < atk_nr_policies; i++)
		printf("  %-12s %-36s %s\n", atk_policies[i].name,
		       atk_policies[i].cmdline[0] ? atk_policies[i].cmdline : "(empty)",
		       atk_policies[i].what);
}

static void print_run(const struct atk_result *r, const struct atk_policy *p)
{
	printf("== %s under %s: %s\n", r->attack, r->policy, p->what);
	if (p->hw == DMASIM_IOMMU_AMD || p->cmdline[0])
		printf("   machine: %s%s%s%s%s\n",
		       p->hw == DMASIM_IOMMU_AMD ? "--iommu-hw amd" : "",
		       p->hw == DMASIM_IOMMU_AMD && p->cmdline[0] ? " " : "",
		       p->cmdline[0] ? "--cmdline \"" : "", p->cmdline,
		       p->cmdline[0] ? "\"" : "");
	if (p->external)
		printf("   (the rogue device is behind an external-facing port)\n");
	if (r->error) {
		printf("   the run failed: %s\n\n", strerror(-r->error));
		return;
	}
	for (const char *l = r->did; *l;) {
		size_t n = strcspn(l, "\n");

		printf("   %.*s\n", (int)n, l);
		l += n + (l[n] ? 1 : 0);
	}
	printf("   outside its mappings: %llu bytes read, %llu bytes written; %llu faults, %lu logged\n",
	       (unsigned long long)r->bytes_leaked,
	       (unsigned long long)r->bytes_corrupted,
	       (unsigned long long)r->faults, r->fault_lines);
	for (const char *l = r->log; *l;) {
		size_t n = strcspn(l, "\n");

		printf("   | %.*s\n", (int)n, l);
		l += n + (l[n] ? 1 : 0);
	}
	printf("   verdict: %s\n\n", r->verdict);
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

static void json_row(const struct atk_result *r, bool first)
{
	printf("%s{\"attack\":", first ? "" : ",");
	json_str(r->attack);
	printf(",\"policy\":");
	json_str(r->policy);
	printf(",\"bytes_leaked\":%llu,\"bytes_corrupted\":%llu,\"faults\":%llu,\"verdict\":",
	       (unsigned long long)r->bytes_leaked,
	       (unsigned long long)r->bytes_corrupted,
	       (unsigned long long)r->faults);
	json_str(r->error ? "the run failed" : r->verdict);
	printf("}");
}

static void table_row(const struct atk_result *r)
{
	printf("%-16s %-12s %12llu %12llu %8llu  %s\n", r->attack, r->policy,
	       (unsigned long long)r->bytes_leaked,
	       (unsigned long long)r->bytes_corrupted,
	       (unsigned long long)r->faults,
	       r->error ? "the run failed" : r->verdict);
}

struct plan {
	bool table;			/* attack all: one row per run */
	const struct atk_policy *policy; /* NULL: every one */
	struct atk_policy custom;	/* from --cmdline / --iommu-hw */
	bool first;
	int status;
};

static void run_one(struct cli *cli, struct plan *pl, const struct attack *a,
		    const struct atk_policy *p)
{
	struct atk_result r;

	attack_run(a, p, &cli->cfg, &r);
	if (cli->json)
		json_row(&r, pl->first);
	else if (pl->table)
		table_row(&r);
	else
		print_run(&r, p);
	pl->first = false;
	if (r.error)
		pl->status = 1;
}

static void run_attack(struct cli *cli, struct plan *pl, const struct attack *a)
{
	if (pl->policy) {
		run_one(cli, pl, a, pl->policy);
		return;
	}
	for (size_t i = 0; i < atk_nr_policies; i++)
		run_one(cli, pl, a, &atk_policies[i]);
}

/* --cmdline or --iommu-hw given: one run on that machine. */
/* What the attack machines cannot honour: a usage error, not a silent
 * change of what runs. */
static bool machine_conflict(struct cli *cli, const struct plan *pl)
{
	bool custom = cli->cfg.cmdline || cli->cfg.iommu != DMASIM_IOMMU_INTEL;

	if (cli->cfg.platform != DMASIM_PLATFORM_X86) {
		cli_error(cli, "the attacks run on --platform x86 (the IOMMU policies are VT-d and AMD-Vi)");
		return true;
	}
	if (custom && pl->policy) {
		cli_error(cli, "--policy and --cmdline/--iommu-hw: give one or the other");
		return true;
	}
	if (cli->cfg.nr_devices || cli->cfg.nodefaults) {
		cli_error(cli, "the attacks build their own devices: --device and --nodefaults do not apply");
		return true;
	}
	return false;
}

static void custom_policy(struct cli *cli, struct plan *pl)
{
	if (!cli->cfg.cmdline && cli->cfg.iommu == DMASIM_IOMMU_INTEL)
		return;
	pl->custom = (struct atk_policy){
		"custom", cli->cfg.cmdline ? cli->cfg.cmdline : "",
		cli->cfg.iommu, false, "as given",
	};
	pl->policy = &pl->custom;
}

int cmd_attack(struct cli *cli, int argc, char **argv)
{
	struct plan pl = { .first = true };
	const struct cli_extra extra = { attack_opts, "", attack_option,
					 &pl.policy };
	const struct attack *a = NULL;
	int i = cli_parse(cli, argc, argv, &extra);

	if (i < 0)
		return EXIT_USAGE;
	if (i >= argc) {
		list();
		return 0;
	}
	if (i + 1 < argc) {
		cli_error(cli, "unexpected argument '%s'", argv[i + 1]);
		return EXIT_USAGE;
	}
	pl.table = !strcmp(argv[i], "all");
	if (!pl.table && !(a = attack_find(argv[i]))) {
		cli_error(cli, "no attack '%s' (run 'dmasim attack' for the list)",
			  argv[i]);
		return EXIT_USAGE;
	}
	if (machine_conflict(cli, &pl))
		return EXIT_USAGE;
	custom_policy(cli, &pl);
	if (cli->json)
		printf("{\"results\":[");
	else if (pl.table)
		printf("%-16s %-12s %12s %12s %8s  %s\n", "attack", "policy",
		       "leaked", "corrupted", "faults", "verdict");
	for (int k = 0; attacks[k]; k++)
		if (!a || a == attacks[k])
			run_attack(cli, &pl, attacks[k]);
	if (cli->json)
		printf("]}\n");
	return pl.status;
}
