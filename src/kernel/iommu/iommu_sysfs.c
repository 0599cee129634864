/*
 * The IOMMU's sysfs, as Linux 6.1 lays it out: /sys/kernel/iommu_groups/
 * N/{devices/<name>, type, reserved_regions} (the x86 MSI window as
 * "0x00000000fee00000 0x00000000feefffff msi") and /sys/class/iommu/dmar0/
 * {intel-iommu/{version,address,cap,ecap}, devices/<name>} or /sys/class/
 * iommu/ivhd0/{amd-iommu/{cap,features}, devices/<name>}; and dmasim's
 * /sys/kernel/debug/dmasim/{dmar0,ivhd0}/stats (IOTLB hits, misses, ...).
 */
#include "kernel/iommu/iommu_sysfs.h"

#include <stdio.h>

#include "dmasim/hw/vtd.h"
#include "hw/amdvi.h"
#include "hw/vtd.h"
#include "kernel/iommu/amd.h"
#include "kernel/iommu/intel.h"
#include "kernel/iommu/policy.h"
#include "kernel/machine.h"

static void show_type(struct machine *m, void *ctx, struct strbuf *out)
{
	struct iommu_group *g = ctx;

	(void)m;
	strbuf_printf(out, "%s\n", iommu_domain_type_name((unsigned)g->domain_type));
}

static void show_resv(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)m;
	(void)ctx;
	strbuf_puts(out, "0x00000000fee00000 0x00000000feefffff msi\n");
}

enum { IU_VERSION, IU_ADDRESS, IU_CAP, IU_ECAP, IU_NR };
static const char *const iu_names[IU_NR] = { "version", "address", "cap",
					     "ecap" };

static void show_iu(struct machine *m, void *ctx, struct strbuf *out)
{
	struct intel_iommu *iu = m->intel_iommu;
	int which = (int)((const char *const *)ctx - iu_names);

	switch (which) {
	case IU_VERSION: strbuf_puts(out, "1:0\n"); break;
	case IU_ADDRESS: strbuf_printf(out, "%llx\n", (unsigned long long)iu->reg_base); break;
	case IU_CAP: strbuf_printf(out, "%llx\n", (unsigned long long)iu->cap); break;
	case IU_ECAP: strbuf_printf(out, "%llx\n", (unsigned long long)iu->ecap); break;
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

static int group_files(struct machine *m, struct iommu_group *g)
{
	char p[160];
	int ret;

	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d/type", g->id);
	ret = vfs_add_file(&m->vfs, p, show_type, g);
	snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d/reserved_regions",
		 g->id);
	ret = ret ? ret : vfs_add_file(&m->vfs, p, show_resv, NULL);
	for (unsigned int i = 0; !ret && i < g->nr_devs; i++) {
		snprintf(p, sizeof(p), "/sys/kernel/iommu_groups/%d/devices/%s",
			 g->id, g->devs[i]->name);
		ret = vfs_mkdir(&m->vfs, p);
		snprintf(p, sizeof(p), "/sys/class/iommu/%s/devices/%s",
			 unit_name(m), g->devs[i]->name);
		ret = ret ? ret : vfs_mkdir(&m->vfs, p);
	}
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

int iommu_sysfs_init(struct machine *m)
{
	char path[96];
	int ret;

	snprintf(path, sizeof(path), "/sys/kernel/debug/dmasim/%s/stats",
		 unit_name(m));
	ret = vfs_add_file(&m->vfs, path, show_stats, NULL);
	for (unsigned int i = 0; !ret && i < m->iommu_groups.nr; i++)
		ret = group_files(m, m->iommu_groups.groups[i]);
	for (int i = 0; !ret && m->amd_iommu && i < AMD_NR; i++) {
		snprintf(path, sizeof(path), "/sys/class/iommu/ivhd0/amd-iommu/%s",
			 amd_names[i]);
		ret = vfs_add_file(&m->vfs, path, show_amd, (void *)&amd_names[i]);
	}
	for (int i = 0; !ret && m->intel_iommu && i < IU_NR; i++) {
		char p[96];

		snprintf(p, sizeof(p), "/sys/class/iommu/dmar0/intel-iommu/%s",
			 iu_names[i]);
		ret = vfs_add_file(&m->vfs, p, show_iu, (void *)&iu_names[i]);
	}
	return ret;
}
