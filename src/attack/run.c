/*
 * Running an attack: the policies, a fresh machine per run with the
 * rogue device below its own root port, and the result's fault count
 * and the DMAR / AMD-Vi lines the kernel logged meanwhile.
 */
#include "attack/attack.h"
#include "attack/ats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/rnic.h"
#include "hw/rogue.h"
#include "kernel/machine.h"

const struct atk_policy atk_policies[] = {
	{ "no-iommu", "", DMASIM_IOMMU_INTEL, false,
	  "VT-d present, not enabled (no intel_iommu=on)" },
	{ "passthrough", "intel_iommu=on iommu=pt", DMASIM_IOMMU_INTEL, false,
	  "identity domains: DMA addresses are physical" },
	{ "lazy", "intel_iommu=on", DMASIM_IOMMU_INTEL, false,
	  "translated, flush queue (the x86 default)" },
	{ "strict", "intel_iommu=on iommu.strict=1", DMASIM_IOMMU_INTEL, false,
	  "translated, IOTLB invalidated on every unmap" },
	{ "untrusted", "intel_iommu=on", DMASIM_IOMMU_INTEL, true,
	  "behind an external-facing port: strict, sub-page mappings bounced" },
	{ "amd-lazy", "", DMASIM_IOMMU_AMD, false,
	  "AMD-Vi (on by default), flush queue" },
	{ "amd-strict", "iommu.strict=1", DMASIM_IOMMU_AMD, false,
	  "AMD-Vi, IOTLB invalidated on every unmap" },
};
const size_t atk_nr_policies = sizeof(atk_policies) / sizeof(atk_policies[0]);

const struct atk_policy *atk_policy_find(const char *name)
{
	for (size_t i = 0; i < atk_nr_policies; i++)
		if (!strcmp(atk_policies[i].name, name))
			return &atk_policies[i];
	return NULL;
}

static const char *const shared_devs[] = {
	"rogue,id=victim,bus=atk_rp,addr=00.0",
	"rogue,id=rogue0,bus=atk_rp,addr=00.1", NULL,
};
/* multifunction=on gives function 0 the ACS capability */
static const char *const shared_acs_devs[] = {
	"rogue,id=victim,bus=atk_rp,addr=00.0,multifunction=on",
	"rogue,id=rogue0,bus=atk_rp,addr=00.1", NULL,
};
static const char *const pool_devs[] = {
	"rogue,id=rogue0,bus=atk_rp",
	"pcie-root-port,id=vic_rp", "rogue,id=victim,bus=vic_rp", NULL,
};

static const char *const ats_devs[] = { "rogue,id=rogue0,bus=atk_rp,ats=on", NULL };

const struct attack *const attacks[] = {
	&(const struct attack){ "scan",
		"PCILeech: read all of RAM for the secret, set the credential's uid to 0, reach the IOMMU's tables",
		512ULL << 20, NULL, NULL, attack_scan, false },
	&(const struct attack){ "subpage",
		"Thunderclap: a 2 KiB rx buffer exposes its page's other kmalloc-2k object",
		6ULL << 30, NULL, NULL, attack_subpage, false },
	&(const struct attack){ "stale-iotlb",
		"replay an rx IOVA after the driver unmapped it (deferred invalidation)",
		6ULL << 30, NULL, NULL, attack_stale_iotlb, false },
	&(const struct attack){ "open-descriptor",
		"never complete a transmit: the page stays readable; then a 5 ms watchdog",
		6ULL << 30, NULL, NULL, attack_open_descriptor, false },
	&(const struct attack){ "shared-group",
		"function 1 of a card without ACS uses function 0's IOVAs: one group, one domain",
		6ULL << 30, NULL, shared_devs, attack_shared_group, false },
	&(const struct attack){ "shared-group-acs",
		"the same with ACS on function 0: two groups, two domains",
		6ULL << 30, NULL, shared_acs_devs, attack_shared_group, false },
	&(const struct attack){ "bounce-pool",
		"32-bit DMA on 8 GiB: read another device's bounced data left in the swiotlb pool",
		8ULL << 30, NULL, pool_devs, attack_bounce_pool, false },
	&(const struct attack){ "ats",
		"Thunderclap: claim ATS, then send translated requests that bypass translation",
		512ULL << 20, NULL, ats_devs, attack_ats, true },
	NULL,
};

const struct attack *attack_find(const char *name)
{
	for (int i = 0; attacks[i]; i++)
		if (!strcmp(attacks[i]->name, name))
			return attacks[i];
	return NULL;
}

/* Is this log line a fault the IOMMU driver reported? */
static bool fault_line(const char *l, size_t n)
{
	static const char *const pats[] = { "DMAR: [DMA ", "AMD-Vi: Event logged" };

	for (size_t i = 0; i < 2; i++)
		for (const char *p = l; p + strlen(pats[i]) <= l + n; p++)
			if (!strncmp(p, pats[i], strlen(pats[i])))
				return true;
	return false;
}

/* Count the fault lines after @skip bytes of the log; quote two. */
static void collect_faults(struct atk_ctx *c, size_t skip)
{
	char *log = dmasim_dmesg(c->dm, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	size_t quoted = 0;

	if (!log)
		return;
	for (char *l = log + (skip < strlen(log) ? skip : strlen(log)); *l;) {
		size_t n = strcspn(l, "\n");

		if (fault_line(l, n) && c->res->fault_lines++ < 2) {
			quoted += (size_t)snprintf(c->res->log + quoted,
						   sizeof(c->res->log) - quoted,
						   "%.*s\n", (int)n, l);
			if (quoted >= sizeof(c->res->log))
				quoted = sizeof(c->res->log) - 1;
		}
		l += n + (l[n] ? 1 : 0);
	}
	free(log);
}

static const char *const default_devs[] = { "rogue,id=rogue0,bus=atk_rp", NULL };

static int boot(const struct attack *a, const struct atk_policy *p,
		const struct dmasim_config *base, struct dmasim_machine **dm)
{
	char cmdline[512], port[64];
	const char *devs[8] = { port };
	const char *const *more = a->devices ? a->devices : default_devs;
	struct dmasim_config cfg;
	size_t n = 1;

	dmasim_config_init(&cfg);
	if (base) {
		cfg.platform = base->platform;
		cfg.nr_cpus = base->nr_cpus;
	}
	cfg.nr_cpus = cfg.nr_cpus ? cfg.nr_cpus : 2;
	cfg.ram_bytes = base && base->ram_bytes != DMASIM_RAM_DEFAULT
				? base->ram_bytes : a->ram;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.inline_devices = true;
	cfg.iommu = p->hw;
	cfg.ats = a->atsr || (base && base->ats);
	snprintf(cmdline, sizeof(cmdline), "%s%s%s", p->cmdline,
		 a->cmdline && p->cmdline[0] ? " " : "", a->cmdline ? a->cmdline : "");
	cfg.cmdline = cmdline;
	snprintf(port, sizeof(port), "pcie-root-port,id=atk_rp%s",
		 p->external ? ",external=on" : "");
	while (*more && n < sizeof(devs) / sizeof(devs[0]))
		devs[n++] = *more++;
	cfg.devices = devs;
	cfg.nr_devices = n;
	return dmasim_machine_create(&cfg, dm, NULL, 0);
}

static int setup(struct atk_ctx *c)
{
	struct pci_func *fn;

	c->m = (struct machine *)c->dm;
	c->fn = pci_find_id(c->m, "rogue0");
	c->r = rogue_of(c->fn);
	c->pdev = c->fn ? pci_get_by_name(c->m, c->fn->name) : NULL;
	c->nic = c->pdev ? rnic_of(c->pdev) : NULL;
	fn = pci_find_id(c->m, "victim");
	if (fn) {
		c->vr = rogue_of(fn);
		c->vpdev = pci_get_by_name(c->m, fn->name);
		c->vnic = c->vpdev ? rnic_of(c->vpdev) : NULL;
		if (!c->vr || !c->vnic)
			return -ENODEV;
	}
	return c->r && c->nic ? 0 : -ENODEV;
}

void attack_run(const struct attack *a, const struct atk_policy *p,
		const struct dmasim_config *base, struct atk_result *res)
{
	struct atk_ctx c = { .res = res };
	struct dmasim_machine *prev = dmasim_current();
	struct rogue_stats st;
	char *log;
	size_t mark;

	memset(res, 0, sizeof(*res));
	res->attack = a->name;
	snprintf(res->policy, sizeof(res->policy), "%s", p->name);
	res->error = boot(a, p, base, &c.dm);
	if (res->error)
		return;
	dmasim_enter(c.dm);
	res->error = setup(&c);
	log = dmasim_dmesg(c.dm, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	mark = log ? strlen(log) : 0;
	free(log);
	if (!res->error)
		res->error = a->run(&c);
	if (c.r) {
		rogue_get_stats(c.r, &st);
		res->faults = st.faults;
	}
	collect_faults(&c, mark);
	dmasim_enter(prev);
	dmasim_machine_destroy(c.dm);
}
