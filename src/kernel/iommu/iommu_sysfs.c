/*
 * The IOMMU's sysfs, as Linux 6.1 lays it out: /sys/kernel/iommu_groups/
 * N/{devices/<name>, type, reserved_regions} (the x86 MSI window as
 * "0x00000000fee00000 0x00000000feefffff msi"), each group's devices/
 * entries links to the PCI devices and each device's iommu_group a link
 * back; the unit as a device, /sys/devices/virtual/iommu/dmar0 (VT-d)
 * or the IOMMU's PCI function's iommu/ivhd0 (AMD-Vi), with
 * {intel-iommu/{version,address,cap,ecap} | amd-iommu/{cap,features}},
 * devices/<name> links to the devices it translates for and each
 * device's "iommu" a link to it; /sys/class/iommu/<unit> a link to the
 * unit; and dmasim's /sys/kernel/debug/dmasim/{dmar0,ivhd0}/stats (IOTLB
 * hits, misses, ...).
 *
 * Writing a group's type changes its default domain by Linux 6.1's rules
 * (iommu_group_store_type, iommu_change_dev_def_domain): "identity",
 * "DMA", "DMA-FQ" or "auto" (the type the device needs, else the
 * policy's), else -EINVAL; only a group of one device ("iommu: Cannot
 * change default domain: Group has more than one device", -EINVAL) whose
 * device has no driver ("iommu: Device is still bound to driver",
 * -EBUSY) - except DMA to DMA-FQ, which Linux does in place under a bound
 * driver; the device must be in its default domain ("Group not assigned
 * to default domain", -EBUSY) and may need a type ("Device cannot be in
 * Translated domain", -EINVAL, for an untrusted device asked for DMA-FQ
 * or identity). Messages are rate-limited per call site as Linux does.
 */
#include "kernel/iommu/iommu_sysfs.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmasim/hw/vtd.h"
#include "hw/amdvi.h"
#include "hw/vtd.h"
#include "kernel/iommu/amd.h"
#include "kernel/iommu/dma-iommu.h"
#include "kernel/iommu/intel.h"
#include "kernel/iommu/iommu.h"
#include "kernel/iommu/policy.h"
#include "kernel/machine.h"

/* Shared by the groups' type files: one change at a time, and Linux's
 * per-call-site rate limits (5 s, 10 messages). */
struct type_state {
	pthread_mutex_t lock;
	struct ratelimit count_rs, bound_rs, owner_rs, devtype_rs;
};

/* pr_err of drivers/iommu/iommu.c */
#define iommu_err(m, ...) mprintk(m, KERN_ERR "iommu: ", __VA_ARGS__)

struct type_attr {
	struct iommu_group *g;
	struct type_state *st;
};

static void show_type(struct machine *m, void *ctx, struct strbuf *out)
{
	const struct iommu_group *g = ((const struct type_attr *)ctx)->g;

	(void)m;
	strbuf_printf(out, "%s\n", iommu_domain_type_name((unsigned)g->domain_type));
}

static void show_resv(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)ctx;
	strbuf_puts(out, "0x00000000fee00000 0x00000000feefffff msi\n");
	if (m->amd_iommu)
		strbuf_printf(out, "0x%016llx 0x%016llx reserved\n",
			      (unsigned long long)AMD_HT_START,
			      (unsigned long long)AMD_HT_END);
}

enum { IU_VERSION, IU_ADDRESS, IU_CAP, IU_ECAP, IU_DOMS, IU_USED, IU_NR };
static const char *const iu_names[IU_NR] = { "version", "address", "cap",
					     "ecap", "domains_supported",
					     "domains_used" };
static void show_iu(struct machine *m, void *ctx, struct strbuf *out)
{
	struct intel_iommu *iu = m->intel_iommu;
	int which = (int)((const char *const *)ctx - iu_names);

	switch (which) {
	case IU_VERSION: strbuf_puts(out, "1:0\n"); break;
	case IU_ADDRESS: strbuf_printf(out, "%llx\n", (unsigned long long)iu->reg_base); break;
	case IU_CAP: strbuf_printf(out, "%llx\n", (unsigned long long)iu->cap); break;
	case IU_ECAP: strbuf_printf(out, "%llx\n", (unsigned long long)iu->ecap); break;
	case IU_DOMS:
		strbuf_printf(out, "%lu\n", 1UL << (4 + 2 * VTD_CAP_ND(iu->cap)));
		break;
	case IU_USED: /* domain id 0 is reserved, as in Linux */
		pthread_mutex_lock(&iu->lock);
		strbuf_printf(out, "%u\n", iu->domains_live + 1);
		pthread_mutex_unlock(&iu->lock);
		break;
	}
}

/* The unit's name under /sys/class/iommu. */
static const char *unit_name(struct machine *m)
{
	return m->amd_iommu ? "ivhd0" : "dmar0";
}

enum { AMD_CAP, AMD_FEATURES, AMD_NR };
static const char *const amd_names[AMD_NR] = { "cap", "features" };

static void show_amd(struct machine *m, void *ctx, struct strbuf *out)
{
	struct amd_iommu *iu = m->amd_iommu;

	if ((const char *const *)ctx == &amd_names[AMD_CAP])
		strbuf_printf(out, "%x\n", iu->cap);
	else /* EFR2:EFR */
		strbuf_printf(out, "0:%llx\n", (unsigned long long)iu->efr);
}

/* ---- writing a group's type --------------------------------------- */

/* iommu_domain_type_str: how the kernel names a type in messages. */
static const char *type_str(unsigned int type)
{
	switch (type) {
	case IOMMU_DOMAIN_BLOCKED: return "Blocked";
	case IOMMU_DOMAIN_IDENTITY: return "Passthrough";
	case IOMMU_DOMAIN_UNMANAGED: return "Unmanaged";
	case IOMMU_DOMAIN_DMA:
	case IOMMU_DOMAIN_DMA_FQ: return "Translated";
	default: return "Unknown";
	}
}

/* The value written: a type, 0 for "auto"; -EINVAL for anything else. */
static int parse_type(const char *buf, unsigned int *type)
{
	static const struct {
		const char *name;
		unsigned int type;
	} types[] = {
		{ "identity", IOMMU_DOMAIN_IDENTITY },
		{ "DMA", IOMMU_DOMAIN_DMA },
		{ "DMA-FQ", IOMMU_DOMAIN_DMA_FQ },
		{ "auto", 0 },
	};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (vfs_streq(buf, types[i].name)) {
			*type = types[i].type;
			return 0;
		}
	return -EINVAL;
}

/* iommu_change_dev_def_domain: the device's own checks, then the change.
 * DMA to DMA-FQ under a bound driver keeps the domain and its live
 * mappings and adds a flush queue to it, as Linux does. */
static int change_dev_def_domain(struct machine *m, struct type_attr *a,
				 unsigned int type)
{
	struct kpci *k = a->g->devs[0];
	struct device *dev = &k->pdev.dev;
	struct iommu_domain *def = a->g->domain;
	unsigned int dev_type = iommu_dev_def_domain_type(m, k);

	if (dev->iommu_domain != def) {
		if (ratelimit_ok(m, &a->st->owner_rs, "iommu_change_dev_def_domain"))
			dev_err(dev, "Group not assigned to default domain\n");
		return -EBUSY;
	}
	if (!type) {
		type = dev_type ? dev_type : iommu_def_domain_type(m);
	} else if (dev_type && type != dev_type) {
		if (ratelimit_ok(m, &a->st->devtype_rs, "iommu_change_dev_def_domain"))
			dev_err(dev, "Device cannot be in %s domain\n",
				type_str(type));
		return -EINVAL;
	}
	if (def->type == type)
		return 0;
	if (type == IOMMU_DOMAIN_DMA_FQ && def->type == IOMMU_DOMAIN_DMA &&
	    k->pdev.driver) {
		int ret = iommu_dma_init_fq(def);

		if (!ret)
			a->g->domain_type = (int)def->type;
		return ret;
	}
	return iommu_group_change_default_domain(m, a->g, type);
}

/* iommu_group_store_type: the group's checks. */
static int change_type(struct machine *m, struct type_attr *a,
		       unsigned int req)
{
	struct iommu_group *g = a->g;
	bool in_place;

	if (g->nr_devs != 1) {
		if (ratelimit_ok(m, &a->st->count_rs, "iommu_group_store_type"))
			iommu_err(m, "Cannot change default domain: Group has more than one device\n");
		return -EINVAL;
	}
	in_place = req == IOMMU_DOMAIN_DMA_FQ &&
		   ((struct iommu_domain *)g->domain)->type == IOMMU_DOMAIN_DMA;
	if (g->devs[0]->pdev.driver && !in_place) {
		if (ratelimit_ok(m, &a->st->bound_rs, "iommu_group_store_type"))
			iommu_err(m, "Device is still bound to driver\n");
		return -EBUSY;
	}
	return change_dev_def_domain(m, a, req);
}

static int store_type(struct machine *m, void *ctx, const char *buf,
		      size_t len)
{
	struct type_attr *a = ctx;
	unsigned int req;
	int ret;

	(void)len; /* the value ends at the first NUL, as in Linux */
	if (!a->g->domain || parse_type(buf, &req))
		return -EINVAL;
	pthread_mutex_lock(&a->st->lock);
	ret = change_type(m, a, req);
	pthread_mutex_unlock(&a->st->lock);
	return ret;
}

static void type_state_release(void *p)
{
	struct type_state *st = p;

	ratelimit_destroy(&st->count_rs);
	ratelimit_destroy(&st->bound_rs);
	ratelimit_destroy(&st->owner_rs);
	ratelimit_destroy(&st->devtype_rs);
	pthread_mutex_destroy(&st->lock);
}

static struct type_state *type_state_new(struct machine *m)
{
	struct type_state *st = vfs_alloc_ctx(&m->vfs, sizeof(*st),
					      type_state_release);
	const uint64_t five_s = 5000000000ULL;

	if (!st)
		return NULL;
	pthread_mutex_init(&st->lock, NULL);
	ratelimit_init(&st->count_rs, five_s, 10);
	ratelimit_init(&st->bound_rs, five_s, 10);
	ratelimit_init(&st->owner_rs, five_s, 10);
	ratelimit_init(&st->devtype_rs, five_s, 10);
	return st;
}

/* ---- the tree ------------------------------------------------------- */

/* The unit's directory: a virtual device for VT-d, below the IOMMU's
 * own PCI function for AMD-Vi. */
static int unit_dir(struct machine *m, char *buf, size_t len)
{
	if (!m->amd_iommu) {
		snprintf(buf, len, "/sys/devices/virtual/iommu/%s", unit_name(m));
		return 0;
	}
	for (unsigned int i = 0; i < m->pcik.nr; i++) {
		struct kpci *k = m->pcik.devs[i];
		int ret;

		if (k->fn->iommu)
			continue; /* translated, so not the unit itself */
		ret = pci_sysfs_dev_path(k, buf, len - 16);
		if (!ret)
			strcat(buf, "/iommu/ivhd0");
		return ret;
	}
	return -ENODEV;
}

/* iommu_group_add_device and iommu_device_link: the four links. */
static int device_links(struct machine *m, struct iommu_group *g,
			struct kpci *k, const char *unit)
{
	char dev[PCI_SYSFS_PATH_MAX], p[PCI_SYSFS_PATH_MAX + 64], grp[64];
	int ret = pci_sysfs_dev_path(k, dev, sizeof(dev));

	snprintf(grp, sizeof(grp), "/sys/kernel/iommu_groups/%d", g->id);
	snprintf(p, sizeof(p), "%s/devices/%s", grp, k->name);
	ret = ret ? ret : vfs_link_to(&m->vfs, p, dev);
	snprintf(p, sizeof(p), "%s/iommu_group", dev);
	ret = ret ? ret : vfs_link_to(&m->vfs, p, grp);
	snprintf(p, sizeof(p), "%s/devices/%s", unit, k->name);
	ret = ret ? ret : vfs_link_to(&m->vfs, p, dev);
	snprintf(p, sizeof(p), "%s/iommu", dev);
	return ret ? ret : vfs_link_to(&m->vfs, p, unit);
}

static int group_files(struct machine *m, struct iommu_group *g,
		       struct type_state *st, const char *unit)
{
	struct type_attr *a = vfs_alloc_ctx(&m->vfs, sizeof(*a), NULL);
	char p[160];
	int ret;

	if (!a)
		return -ENOMEM;
	a->g = g;
	a->st = st;
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d/type", g->id);
	ret = vfs_add_rw_file(&m->vfs, p, show_type, store_type, a);
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d/reserved_regions",
		 g->id);
	ret = ret ? ret : vfs_add_file(&m->vfs, p, show_resv, NULL);
	for (unsigned int i = 0; !ret && i < g->nr_devs; i++)
		ret = device_links(m, g, g->devs[i], unit);
	return ret;
}

/* dmasim's view of the unit's counters (Linux has no such file). */
static void show_amd_stats(struct machine *m, struct strbuf *out)
{
	struct amdvi_stats st;

	amdvi_get_stats(m->iommu_units, &st);
	strbuf_printf(out,
		      "iotlb_hits %llu\niotlb_misses %llu\nwalks %llu\nevictions %llu\n"
		      "faults %llu\nfaults_suppressed %llu\nevents_written %llu\n"
		      "events_lost %llu\nevent_interrupts %llu\n"
		      "iotlb_invalidations %llu\ndte_invalidations %llu\n"
		      "dtc_hits %llu\ndtc_misses %llu\ncommands %llu\n"
		      "command_errors %llu\niotlb_valid %u\n",
		      (unsigned long long)st.hits, (unsigned long long)st.misses,
		      (unsigned long long)st.walks, (unsigned long long)st.evictions,
		      (unsigned long long)st.faults,
		      (unsigned long long)st.faults_suppressed,
		      (unsigned long long)st.events_written,
		      (unsigned long long)st.events_lost,
		      (unsigned long long)st.event_interrupts,
		      (unsigned long long)st.iotlb_invalidations,
		      (unsigned long long)st.dte_invalidations,
		      (unsigned long long)st.dtc_hits,
		      (unsigned long long)st.dtc_misses,
		      (unsigned long long)st.commands,
		      (unsigned long long)st.command_errors, st.iotlb_valid);
}

static void show_stats(struct machine *m, void *ctx, struct strbuf *out)
{
	struct vtd_stats st;

	(void)ctx;
	if (m->iommu_units && amdvi_is_unit(m->iommu_units)) {
		show_amd_stats(m, out);
		return;
	}
	if (!m->iommu_units || !vtd_is_unit(m->iommu_units))
		return;
	vtd_get_stats(m->iommu_units, &st);
	strbuf_printf(out,
		      "iotlb_hits %llu\niotlb_misses %llu\nwalks %llu\nevictions %llu\n"
		      "faults %llu\nfaults_recorded %llu\nfaults_lost %llu\n"
		      "iotlb_invalidations %llu\ncontext_invalidations %llu\n"
		      "qi_descriptors %llu\niotlb_valid %u\n",
		      (unsigned long long)st.hits, (unsigned long long)st.misses,
		      (unsigned long long)st.walks, (unsigned long long)st.evictions,
		      (unsigned long long)st.faults,
		      (unsigned long long)st.faults_recorded,
		      (unsigned long long)st.faults_lost,
		      (unsigned long long)st.iotlb_invalidations,
		      (unsigned long long)st.cc_invalidations,
		      (unsigned long long)st.qi_descriptors, st.iotlb_valid);
}

static int unit_files(struct machine *m, const char *unit)
{
	char p[PCI_SYSFS_PATH_MAX + 64];
	int ret = 0;

	for (int i = 0; !ret && m->amd_iommu && i < AMD_NR; i++) {
		snprintf(p, sizeof(p), "%s/amd-iommu/%s", unit, amd_names[i]);
		ret = vfs_add_file(&m->vfs, p, show_amd, (void *)&amd_names[i]);
	}
	for (int i = 0; !ret && m->intel_iommu && i < IU_NR; i++) {
		snprintf(p, sizeof(p), "%s/intel-iommu/%s", unit, iu_names[i]);
		ret = vfs_add_file(&m->vfs, p, show_iu, (void *)&iu_names[i]);
	}
	snprintf(p, sizeof(p), "%s/devices", unit);
	ret = ret ? ret : vfs_mkdir(&m->vfs, p);
	snprintf(p, sizeof(p), "/sys/class/iommu/%s", unit_name(m));
	return ret ? ret : vfs_link_to(&m->vfs, p, unit);
}

int iommu_sysfs_init(struct machine *m)
{
	char path[96], unit[PCI_SYSFS_PATH_MAX];
	struct type_state *st = type_state_new(m);
	int ret = st ? unit_dir(m, unit, sizeof(unit)) : -ENOMEM;

	snprintf(path, sizeof(path), "/sys/kernel/debug/dmasim/%s/stats",
		 unit_name(m));
	ret = ret ? ret : vfs_add_file(&m->vfs, path, show_stats, NULL);
	ret = ret ? ret : unit_files(m, unit);
	for (unsigned int i = 0; !ret && i < m->iommu_groups.nr; i++)
		ret = group_files(m, m->iommu_groups.groups[i], st, unit);
	return ret;
}
