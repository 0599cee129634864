/*
 * The IOMMU's sysfs, as Linux 6.1 lays it out: /sys/kernel/iommu_groups/
 * N/{devices/<name>, type, reserved_regions} (the x86 MSI window as
 * "0x00000000fee00000 0x00000000feefffff msi") and /sys/class/iommu/dmar0/
 * {intel-iommu/{version,address,cap,ecap}, devices/<name>}; and dmasim's
 * /sys/kernel/debug/dmasim/dmar0/stats (IOTLB hits, misses, walks, ...).
 */
#include "kernel/iommu/iommu_sysfs.h"

#include <stdio.h>

#include "dmasim/hw/vtd.h"
#include "hw/vtd.h"
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
		snprintf(p, sizeof(p), "/sys/class/iommu/dmar0/devices/%s",
			 g->devs[i]->name);
		ret = ret ? ret : vfs_mkdir(&m->vfs, p);
	}
	return ret;
}

/* dmasim's view of the unit's counters (Linux has no such file). */
static void show_stats(struct machine *m, void *ctx, struct strbuf *out)
{
	struct vtd_stats st;

	(void)ctx;
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
	int ret = vfs_add_file(&m->vfs, "/sys/kernel/debug/dmasim/dmar0/stats",
			       show_stats, NULL);

	for (unsigned int i = 0; !ret && i < m->iommu_groups.nr; i++)
		ret = group_files(m, m->iommu_groups.groups[i]);
	for (int i = 0; !ret && i < IU_NR; i++) {
		char p[96];

		snprintf(p, sizeof(p), "/sys/class/iommu/dmar0/intel-iommu/%s",
			 iu_names[i]);
		ret = vfs_add_file(&m->vfs, p, show_iu, (void *)&iu_names[i]);
	}
	return ret;
}
