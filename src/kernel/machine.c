/*
 * Machine bring-up and teardown, in the order a Linux 6.1 x86-64 boot
 * prints its memory lines: banner and command line, the BIOS e820 map,
 * early parameters (mem= edits the map), the kernel's own e820 edits,
 * zones and memblock, "Kernel command line:", the remaining parameters,
 * and the "Memory:" summary. Then /proc and /proc/iomem are built.
 */
#include "kernel/machine.h"
#include "kernel/cache_debugfs.h"
#include "kernel/dma/debug.h"
#include "kernel/dma/swiotlb.h"
#include "kernel/iommu/amd.h"
#include "kernel/iommu/intel.h"
#include "kernel/iommu/policy.h"
#include "hw/amdvi.h"
#include "hw/vtd.h"
#include "kernel/pci_sysfs.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kernel/iomem.h"
#include "kernel/page_alloc.h"
#include "kernel/slab.h"
#include "kernel/procfs.h"

/* Sizes of the kernel image's sections (a Debian 6.1 build), in KiB. */
#define KIMG_CODE_KB   14343
#define KIMG_RWDATA_KB 2338
#define KIMG_RODATA_KB 9132
#define KIMG_INIT_KB   2824
#define KIMG_BSS_KB    17344

void dmasim_config_init(struct dmasim_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->ram_bytes = DMASIM_RAM_DEFAULT;
	cfg->platform = DMASIM_PLATFORM_X86;
	cfg->clock = DMASIM_CLOCK_HOST;
}

static int check_config(const struct dmasim_config *cfg, char *err,
			size_t errlen)
{
	if (cfg->ram_bytes % (1ULL << 20)) {
		snprintf(err, errlen,
			 "RAM size %llu bytes is not a multiple of 1M",
			 (unsigned long long)cfg->ram_bytes);
		return -EINVAL;
	}
	if (cfg->ram_bytes < DMASIM_RAM_MIN || cfg->ram_bytes > DMASIM_RAM_MAX) {
		snprintf(err, errlen,
			 "RAM size %llu MiB is out of range (128M to 4T)",
			 (unsigned long long)(cfg->ram_bytes >> 20));
		return -EINVAL;
	}
	if (cfg->platform != DMASIM_PLATFORM_X86 &&
	    cfg->platform != DMASIM_PLATFORM_ARM64) {
		snprintf(err, errlen, "unknown platform %d", (int)cfg->platform);
		return -EINVAL;
	}
	if (cfg->iommu == DMASIM_IOMMU_AMD &&
	    cfg->platform != DMASIM_PLATFORM_X86) {
		snprintf(err, errlen, "an AMD-Vi IOMMU needs the x86 platform");
		return -EINVAL;
	}
	if (cfg->cache_line && (cfg->cache_line < 16 || cfg->cache_line > 4096 ||
				(cfg->cache_line & (cfg->cache_line - 1)))) {
		snprintf(err, errlen,
			 "cache line of %u bytes: use a power of two from 16 to 4096",
			 cfg->cache_line);
		return -EINVAL;
	}
	if (cfg->nr_cpus > MACHINE_MAX_CPUS) {
		snprintf(err, errlen, "%u CPUs is more than the %d supported",
			 cfg->nr_cpus, MACHINE_MAX_CPUS);
		return -EINVAL;
	}
	return 0;
}

static void print_last_pfn(struct machine *m)
{
	uint64_t end = e820_ram_end(&m->e820_kern, UINT64_MAX);
	uint64_t low = e820_ram_end(&m->e820_kern, RAM_HIGH_BASE);

	pr_info(m, "last_pfn = %#llx max_arch_pfn = 0x400000000\n",
		(unsigned long long)(end >> PAGE_SHIFT));
	if (end > RAM_HIGH_BASE)
		pr_info(m, "last_pfn = %#llx max_arch_pfn = 0x400000000\n",
			(unsigned long long)(low >> PAGE_SHIFT));
}

static void setup_log_buf(struct machine *m)
{
	size_t len = m->params.log_buf_len;

	if (!len)
		return;
	printk_set_limit(&m->log, len);
	pr_info(m, "printk: log_buf_len: %zu bytes\n", len);
	pr_info(m, "printk: early log buf free: %zu(%zu%%)\n",
		LOG_BUF_LEN_DEFAULT - m->log.bytes,
		(LOG_BUF_LEN_DEFAULT - m->log.bytes) * 100 / LOG_BUF_LEN_DEFAULT);
}

/* setup_arch(): the firmware map, early parameters, the kernel's edits. */
static void setup_arch(struct machine *m)
{
	e820_from_firmware(&m->e820, &m->ram);
	m->e820_kern = m->e820;
	pr_info(m, "BIOS-provided physical RAM map:\n");
	e820_print(m, &m->e820, "BIOS-e820");
	parse_early_params(m);
	iommu_policy_init(m);
	pr_info(m, "NX (Execute Disable) protection: active\n");
	if (m->params.mem_limit) {
		pr_info(m, "user-defined physical RAM map:\n");
		e820_print(m, &m->e820_kern, "user");
	}
	e820_update(m, &m->e820_kern, 0, PAGE_SIZE, E820_TYPE_RAM,
		    E820_TYPE_RESERVED);
	e820_remove(m, &m->e820_kern, RAM_LEGACY_START,
		    RAM_LEGACY_END - RAM_LEGACY_START, E820_TYPE_RAM);
	print_last_pfn(m);
	setup_log_buf(m);
}

static void print_memory_summary(struct machine *m)
{
	unsigned long phys = 0;

	for (int i = 0; i < MAX_NR_ZONES; i++)
		phys += m->mm.zones[i].present_pages;
	pr_info(m,
		"Memory: %luK/%luK available (%luK kernel code, %luK rwdata, %luK rodata, %luK init, %luK bss, %luK reserved, %luK cma-reserved)\n",
		m->mm.totalram_pages << 2, phys << 2, (unsigned long)KIMG_CODE_KB,
		(unsigned long)KIMG_RWDATA_KB, (unsigned long)KIMG_RODATA_KB,
		(unsigned long)KIMG_INIT_KB, (unsigned long)KIMG_BSS_KB,
		(phys - m->mm.totalram_pages) << 2, 0UL);
}

static int enough_memory(struct machine *m, char *err, size_t errlen)
{
	uint64_t end = e820_ram_end(&m->e820_kern, UINT64_MAX);

	if (end >= DMASIM_RAM_MIN)
		return 0;
	snprintf(err, errlen,
		 "kernel command line: mem=%s leaves too little memory to boot (the kernel needs RAM up to at least 128M)",
		 bootparam_get(m, "mem"));
	return -EINVAL;
}

/* The platform's remapping hardware on x86: one unit covering every PCI
 * function, VT-d (a DRHD with INCLUDE_PCI_ALL) or AMD-Vi (an IVHD whose
 * own PCI function is 00:00.2); none with --iommu-hw none. */
static int iommu_units_create(struct machine *m, char *err, size_t errlen)
{
	struct iommu_unit *u;
	int ret;

	if (m->cfg.platform != DMASIM_PLATFORM_X86 ||
	    m->cfg.iommu == DMASIM_IOMMU_NONE)
		return 0;
	if (m->cfg.iommu == DMASIM_IOMMU_AMD)
		ret = amdvi_create(m, AMDVI_REG_BASE, NULL, &u);
	else
		ret = vtd_create(m, DMAR_REG_BASE, NULL, &u);
	if (ret) {
		snprintf(err, errlen, "cannot create the %s unit: %s",
			 m->cfg.iommu == DMASIM_IOMMU_AMD ? "AMD-Vi" : "VT-d",
			 strerror(-ret));
		return ret;
	}
	u->next = m->iommu_units;
	m->iommu_units = u;
	return 0;
}

static void iommu_units_destroy(struct machine *m)
{
	while (m->iommu_units) {
		struct iommu_unit *u = m->iommu_units;

		m->iommu_units = u->next;
		if (amdvi_is_unit(u))
			amdvi_destroy(u);
		else
			vtd_destroy(u);
	}
}

static int boot(struct machine *m, char *err, size_t errlen)
{
	int ret;

	pr_notice(m, "%s\n", LINUX_BANNER);
	pr_info(m, "Command line: %s\n", m->cmdline);
	ret = bootparams_split(m);
	if (ret)
		return ret;
	setup_arch(m);
	ret = enough_memory(m, err, errlen);
	if (ret)
		return ret;
	ret = mm_init(m);
	if (!ret)
		ret = kmem_init(m);
	if (ret)
		return ret;
	pr_info(m, "smpboot: Allowing %u CPUs, 0 hotplug CPUs\n", m->nr_cpus);
	pr_notice(m, "Kernel command line: %s\n", m->cmdline);
	parse_late_params(m);
	swiotlb_print_areas(m);
	print_memory_summary(m);
	ret = iomem_init(m);
	if (!ret)
		ret = procfs_init(m);
	if (!ret)
		ret = irq_init(m);
	if (!ret) {
		intel_dmar_table_init(m);
		amd_iommu_detect(m);
	}
	if (!ret)
		ret = pci_subsys_init(m);
	if (!ret)
		iommu_policy_print(m);
	if (!ret)
		ret = intel_iommu_init(m);
	if (!ret)
		ret = amd_iommu_init(m);
	if (!ret)
		ret = swiotlb_late_init(m);
	if (!ret)
		amd_iommu_v2_init(m);
	if (!ret)
		ret = dma_debug_init(m);
	if (!ret)
		ret = cache_debugfs_init(m);
	if (!ret)
		pci_bind_drivers(m);
	if (!ret)
		ret = pci_sysfs_init(m);
	return ret;
}

static unsigned int host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	return n > MACHINE_MAX_CPUS ? MACHINE_MAX_CPUS : (unsigned int)n;
}

static int machine_alloc(const struct dmasim_config *cfg, struct machine **out)
{
	struct machine *m = calloc(1, sizeof(*m));
	int ret;

	if (!m)
		return -ENOMEM;
	m->cfg = *cfg;
	m->cfg.cmdline = NULL;
	m->cfg.devices = NULL; /* the caller's; only used while booting */
	m->cfg.nr_devices = 0;
	snprintf(m->cmdline, sizeof(m->cmdline), "%s",
		 cfg->cmdline ? cfg->cmdline : "");
	m->nr_cpus = cfg->nr_cpus ? cfg->nr_cpus : host_cpus();
	mclock_init(&m->clock, cfg->clock);
	ratelimit_init(&m->nopage_rs, 10ULL * 1000000000ULL, 1);
	ratelimit_init(&m->dma_rs, 5ULL * 1000000000ULL, 10);
	dma_pools_init(m);
	resource_root_init(&m->iomem, "PCI mem", UINT64_MAX);
	ret = printk_init(&m->log, LOG_BUF_LEN_DEFAULT);
	if (!ret)
		ret = vfs_init(&m->vfs);
	*out = m;
	return ret;
}

int dmasim_machine_create(const struct dmasim_config *cfg,
			  struct dmasim_machine **out, char *err, size_t errlen)
{
	struct machine *m = NULL;
	char dummy[1];
	int ret;

	if (!err || !errlen) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	*out = NULL;
	ret = check_config(cfg, err, errlen);
	if (ret)
		return ret;
	ret = machine_alloc(cfg, &m);
	if (ret)
		goto fail;
	ret = ram_init(&m->ram, cfg->ram_bytes,
		       cfg->platform == DMASIM_PLATFORM_X86);
	if (!ret && cfg->cache_line)
		m->ram.line = cfg->cache_line;
	if (ret) {
		snprintf(err, errlen, "cannot reserve %llu MiB of RAM: %s",
			 (unsigned long long)(cfg->ram_bytes >> 20),
			 strerror(-ret));
		goto fail;
	}
	ret = iommu_units_create(m, err, errlen);
	if (!ret)
		ret = pci_fabric_init(m, cfg->devices, cfg->nr_devices,
				      cfg->nodefaults, err, errlen);
	if (ret)
		goto fail;
	{
		struct cpu_ctx save;

		cpu_ctx_switch(m, &save);
		ret = boot(m, err, errlen);
		cpu_ctx_restore(&save);
	}
	if (ret)
		goto fail;
	*out = (struct dmasim_machine *)m;
	if (!dmasim_current())
		dmasim_enter(*out);
	return 0;
fail:
	if (ret == -ENOMEM && err[0] == '\0')
		snprintf(err, errlen, "out of host memory while booting");
	if (m)
		dmasim_machine_destroy((struct dmasim_machine *)m);
	return ret;
}

void dmasim_machine_destroy(struct dmasim_machine *dm)
{
	struct machine *m = (struct machine *)dm;

	if (!m)
		return;
	if (dmasim_current() == dm)
		dmasim_enter(NULL);
	{
		struct cpu_ctx save;

		cpu_ctx_switch(m, &save);
		pci_unbind_drivers(m);
		kmem_destroy(m);
		intel_iommu_exit(m);
		amd_iommu_exit(m);
		iommu_groups_free(m);
		pci_subsys_exit(m);
		pci_fabric_destroy(m);
		iommu_units_destroy(m);
		irq_destroy(m);
		cpu_ctx_restore(&save);
		swiotlb_destroy(m);
		dma_debug_destroy(m);
		dma_pools_destroy(m);
	}
	mm_destroy(&m->mm);
	ram_destroy(&m->ram);
	vfs_destroy(&m->vfs);
	resource_free_tree(&m->iomem);
	bootparams_release(&m->params);
	ratelimit_destroy(&m->nopage_rs);
	ratelimit_destroy(&m->dma_rs);
	printk_destroy(&m->log);
	mclock_destroy(&m->clock);
	free(m);
}
