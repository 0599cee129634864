/*
 * The machine: everything one emulated computer owns. No part of dmasim
 * keeps state outside it, so several machines live in one process.
 */
#ifndef DMASIM_KERNEL_MACHINE_H
#define DMASIM_KERNEL_MACHINE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dmasim/dmasim.h"
#include "hw/apic.h"
#include "hw/pci.h"
#include "hw/ram.h"
#include "kernel/bootparams.h"
#include "kernel/clock.h"
#include "kernel/dma/pool.h"
#include "kernel/e820.h"
#include "kernel/iommu/group.h"
#include "kernel/iommu/policy.h"
#include "kernel/irq.h"
#include "kernel/mmzone.h"
#include "kernel/pci.h"
#include "kernel/printk.h"
#include "kernel/resource.h"
#include "kernel/vfs.h"

#define MACHINE_MAX_CPUS 256

struct io_tlb_mem;
struct dma_debug;
struct iommu_device;
struct iommu_unit;
struct intel_iommu;
struct amd_iommu;
struct kmem;

struct machine {
	struct dmasim_config cfg;
	char cmdline[DMASIM_CMDLINE_MAX]; /* as given (truncated like Linux) */
	struct mclock clock;
	struct printk_log log;
	struct ram ram;
	struct e820_table e820;	   /* the firmware's map (BIOS-e820) */
	struct e820_table e820_kern; /* after the kernel's edits and mem= */
	struct resource iomem;
	struct boot_params params;
	struct mm mm;
	struct vfs vfs;
	unsigned int nr_cpus;
	_Atomic uint64_t cpu_used[MACHINE_MAX_CPUS / 64];
	struct ratelimit nopage_rs; /* warn_alloc's limit */
	/* hardware */
	struct pci_fabric pci;
	struct apic apic;
	/* kernel */
	struct irq_state irq;
	struct pci_kernel pcik;
	bool pci_sysfs_ready;		/* drivers (re)bound after it: links */
	struct io_tlb_mem *swiotlb;	/* NULL: no bounce pool */
	struct dma_debug *dma_debug;	/* DMA-API debugging state */
	bool dma_debug_on;		/* fast check before the hooks */
	struct iommu_groups iommu_groups;
	struct iommu_policy iommu_policy;
	struct iommu_device *iommu_dev;	/* the registered IOMMU driver */
	struct iommu_unit *iommu_units;	/* hardware: remapping units */
	struct intel_iommu *intel_iommu; /* the intel-iommu driver's unit */
	bool intel_iommu_on, intel_sp_off; /* intel_iommu= */
	struct amd_iommu *amd_iommu;	/* the amd_iommu driver's unit */
	bool amd_iommu_off, amd_pgtbl_v2; /* amd_iommu= */
	struct dma_pools dma_pools;	/* every dma_pool, for sysfs */
	struct ratelimit dma_rs;	/* dev_warn_ratelimited of the DMA API */
	struct dma_device *dma_devices; /* dmaengine providers (dmaengine.c) */
	struct kmem *kmem;		/* kmalloc's caches (slab.c) */
};

/* The machine and CPU the calling thread is in (dmasim_enter). */
struct machine *current_machine(void);
int current_cpu(void);

/* Run kernel code for @m on this thread without taking a CPU (boot,
 * teardown, interrupt handlers on device threads); restore after. */
struct cpu_ctx {
	struct machine *m;
	int cpu;
};
void cpu_ctx_switch(struct machine *m, struct cpu_ctx *save);
void cpu_ctx_restore(const struct cpu_ctx *save);

#endif
