/*
 * /proc views, in Linux 6.1's formats byte for byte:
 * - buddyinfo: "Node %d, zone %8s " then "%6lu " per order (trailing space);
 * - meminfo: label padded to 16 columns, "%8lu kB" (DirectMap* as x86's
 *   arch_report_meminfo, HugePages_* without the unit);
 * - zoneinfo: mm/vmstat.c's layout, per-node stats under the first
 *   populated zone, unpopulated zones ending after "protection";
 * - iomem: the resource tree; cmdline: the command line and a newline.
 */
#include "kernel/procfs.h"

#include "kernel/machine.h"
#include "kernel/page_alloc.h"

#define VMALLOC_TOTAL_KB 34359738367UL

static void show_buddyinfo(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)ctx;
	for (int i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *z = &m->mm.zones[i];

		if (!populated_zone(z))
			continue;
		strbuf_printf(out, "Node %d, zone %8s ", 0, z->name);
		pthread_mutex_lock(&z->lock);
		for (unsigned int o = 0; o < MAX_ORDER; o++)
			strbuf_printf(out, "%6lu ", zone_free_blocks(z, o));
		pthread_mutex_unlock(&z->lock);
		strbuf_putc(out, '\n');
	}
}

static void kb_line(struct strbuf *out, const char *label, unsigned long kb)
{
	strbuf_printf(out, "%-16s%8lu kB\n", label, kb);
}

/* Direct map page sizes: the ISA range and each memory range, mapped with
 * the largest pages their alignment allows. */
static void direct_map_sizes(const struct mm *mm, unsigned long kb[3])
{
	const uint64_t k4 = 1ULL << 12, m2 = 1ULL << 21, g1 = 1ULL << 30;

	kb[0] = 1024; /* the ISA range, always mapped with 4k pages */
	kb[1] = kb[2] = 0;
	for (unsigned int i = 0; i < mm->memory.cnt; i++) {
		uint64_t s = mm->memory.regions[i].base;
		uint64_t e = s + mm->memory.regions[i].size;

		if (s < 0x100000)
			s = 0x100000;
		while (s < e) {
			uint64_t step = k4;

			if (!(s % g1) && s + g1 <= e)
				step = g1;
			else if (!(s % m2) && s + m2 <= e)
				step = m2;
			kb[step == k4 ? 0 : step == m2 ? 1 : 2] += step >> 10;
			s += step;
		}
	}
}

static void show_meminfo(struct machine *m, void *ctx, struct strbuf *out)
{
	static const char *const zero_kb[] = {
		"Buffers:", "Cached:", "SwapCached:", "Active:", "Inactive:",
		"Active(anon):", "Inactive(anon):", "Active(file):",
		"Inactive(file):", "Unevictable:", "Mlocked:", "SwapTotal:",
		"SwapFree:", "Zswap:", "Zswapped:", "Dirty:", "Writeback:",
		"AnonPages:", "Mapped:", "Shmem:", "KReclaimable:", "Slab:",
		"SReclaimable:", "SUnreclaim:", "KernelStack:", "PageTables:",
		"SecPageTables:", "NFS_Unstable:", "Bounce:", "WritebackTmp:",
	};
	static const char *const tail_zero_kb[] = {
		"AnonHugePages:", "ShmemHugePages:",
		"ShmemPmdMapped:", "FileHugePages:", "FilePmdMapped:",
	};
	struct mm *mm = &m->mm;
	unsigned long free = mm_nr_free_pages(mm), dm[3];
	long avail = (long)free - (long)mm->totalreserve_pages;

	(void)ctx;
	kb_line(out, "MemTotal:", mm->totalram_pages << 2);
	kb_line(out, "MemFree:", free << 2);
	kb_line(out, "MemAvailable:", avail > 0 ? (unsigned long)avail << 2 : 0);
	for (size_t i = 0; i < sizeof(zero_kb) / sizeof(zero_kb[0]); i++)
		kb_line(out, zero_kb[i], 0);
	kb_line(out, "CommitLimit:", (mm->totalram_pages / 2) << 2);
	kb_line(out, "Committed_AS:", 0);
	kb_line(out, "VmallocTotal:", VMALLOC_TOTAL_KB);
	kb_line(out, "VmallocUsed:", 0);
	kb_line(out, "VmallocChunk:", 0);
	kb_line(out, "Percpu:", 0);
	/* Linux's own format for this one: "%5lu" after one space. */
	strbuf_printf(out, "HardwareCorrupted: %5lu kB\n", 0UL);
	for (size_t i = 0; i < sizeof(tail_zero_kb) / sizeof(tail_zero_kb[0]); i++)
		kb_line(out, tail_zero_kb[i], 0);
	strbuf_printf(out, "%-16s%8lu\n", "HugePages_Total:", 0UL);
	strbuf_printf(out, "%-16s%8lu\n", "HugePages_Free:", 0UL);
	strbuf_printf(out, "%-16s%8lu\n", "HugePages_Rsvd:", 0UL);
	strbuf_printf(out, "%-16s%8lu\n", "HugePages_Surp:", 0UL);
	kb_line(out, "Hugepagesize:", 2048);
	kb_line(out, "Hugetlb:", 0);
	direct_map_sizes(mm, dm);
	kb_line(out, "DirectMap4k:", dm[0]);
	kb_line(out, "DirectMap2M:", dm[1]);
	kb_line(out, "DirectMap1G:", dm[2]);
}

static const char *const node_stat_names[] = {
	"nr_inactive_anon", "nr_active_anon", "nr_inactive_file",
	"nr_active_file", "nr_unevictable", "nr_slab_reclaimable",
	"nr_slab_unreclaimable", "nr_isolated_anon", "nr_isolated_file",
	"workingset_nodes", "workingset_refault_anon",
	"workingset_refault_file", "workingset_activate_anon",
	"workingset_activate_file", "workingset_restore_anon",
	"workingset_restore_file", "workingset_nodereclaim", "nr_anon_pages",
	"nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback",
	"nr_writeback_temp", "nr_shmem", "nr_shmem_hugepages",
	"nr_shmem_pmdmapped", "nr_file_hugepages", "nr_file_pmdmapped",
	"nr_anon_transparent_hugepages", "nr_vmscan_write",
	"nr_vmscan_immediate_reclaim", "nr_dirtied", "nr_written",
	"nr_throttled_written", "nr_kernel_misc_reclaimable",
	"nr_foll_pin_acquired", "nr_foll_pin_released", "nr_kernel_stack",
	"nr_page_table_pages", "nr_sec_page_table_pages", "nr_swapcached",
	"pgpromote_success", "pgpromote_candidate",
};

static const char *const zone_stat_names[] = {
	"nr_zone_inactive_anon", "nr_zone_active_anon",
	"nr_zone_inactive_file", "nr_zone_active_file",
	"nr_zone_unevictable", "nr_zone_write_pending", "nr_mlock",
	"nr_bounce", "nr_zspages", "nr_free_cma",
};

static void stat_line(struct strbuf *out, const char *name, unsigned long v)
{
	strbuf_printf(out, "\n      %-12s %lu", name, v);
}

static void zoneinfo_populated(struct machine *m, struct zone *z,
			       long nr_free, unsigned long hits,
			       struct strbuf *out)
{
	stat_line(out, "nr_free_pages", (unsigned long)nr_free);
	for (size_t i = 0; i < sizeof(zone_stat_names) / sizeof(zone_stat_names[0]); i++)
		stat_line(out, zone_stat_names[i], 0);
	stat_line(out, "numa_hit", hits);
	stat_line(out, "numa_miss", 0);
	stat_line(out, "numa_foreign", 0);
	stat_line(out, "numa_interleave", 0);
	stat_line(out, "numa_local", hits);
	stat_line(out, "numa_other", 0);
	strbuf_puts(out, "\n  pagesets");
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++) {
		strbuf_printf(out,
			      "\n    cpu: %u\n              count: %d\n              high:  %lu\n              batch: %lu",
			      cpu, atomic_load(&z->pcp[cpu].count), z->pcp_high,
			      z->pcp_batch);
		strbuf_printf(out, "\n  vm stats threshold: %d", z->stat_threshold);
	}
	strbuf_printf(out, "\n  node_unreclaimable:  %u\n  start_pfn:           %lu",
		      0u, z->zone_start_pfn);
}

static void show_zoneinfo(struct machine *m, void *ctx, struct strbuf *out)
{
	bool first = true;

	(void)ctx;
	for (int i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *z = &m->mm.zones[i];
		long nr_free;
		unsigned long hits;

		nr_free = atomic_load(&z->nr_free_pages);
		hits = atomic_load(&z->numa_hit);
		for (unsigned int c = 0; z->pcp && c < m->nr_cpus; c++)
			hits += atomic_load(&z->pcp[c].numa_hit);
		strbuf_printf(out, "Node %d, zone %8s", 0, z->name);
		if (populated_zone(z) && first) {
			first = false;
			strbuf_puts(out, "\n  per-node stats");
			for (size_t s = 0; s < sizeof(node_stat_names) / sizeof(node_stat_names[0]); s++)
				stat_line(out, node_stat_names[s], 0);
		}
		strbuf_printf(out,
			      "\n  pages free     %lu\n        boost    %lu\n        min      %lu\n        low      %lu\n        high     %lu\n        spanned  %lu\n        present  %lu\n        managed  %lu\n        cma      %lu",
			      (unsigned long)nr_free, 0UL, z->watermark[WMARK_MIN],
			      z->watermark[WMARK_LOW], z->watermark[WMARK_HIGH],
			      z->spanned_pages, z->present_pages, z->managed_pages, 0UL);
		strbuf_printf(out, "\n        protection: (%ld", z->lowmem_reserve[0]);
		for (int j = 1; j < MAX_NR_ZONES; j++)
			strbuf_printf(out, ", %ld", z->lowmem_reserve[j]);
		strbuf_putc(out, ')');
		if (populated_zone(z))
			zoneinfo_populated(m, z, nr_free, hits, out);
		strbuf_putc(out, '\n');
	}
}

static void show_iomem(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)ctx;
	resource_render(&m->iomem, out);
}

static void show_cmdline(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)ctx;
	strbuf_printf(out, "%s\n", m->cmdline);
}

static void show_version(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)ctx;
	(void)m;
	strbuf_printf(out, "%s\n", LINUX_BANNER);
}

int procfs_init(struct machine *m)
{
	static const struct {
		const char *path;
		vfs_show_fn show;
	} files[] = {
		{ "/proc/buddyinfo", show_buddyinfo },
		{ "/proc/meminfo", show_meminfo },
		{ "/proc/zoneinfo", show_zoneinfo },
		{ "/proc/iomem", show_iomem },
		{ "/proc/cmdline", show_cmdline },
		{ "/proc/version", show_version },
	};
	int err;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		err = vfs_add_file(&m->vfs, files[i].path, files[i].show, NULL);
		if (err)
			return err;
	}
	return vfs_mkdir(&m->vfs, "/sys");
}
