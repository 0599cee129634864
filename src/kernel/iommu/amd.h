/*
 * The amd_iommu driver (drivers/iommu/amd/ in Linux 6.1, host "v1" page
 * tables): it finds the IOMMU the firmware's IVRS table describes, writes
 * the device table, the I/O page tables and commands into RAM, turns
 * translation on, and prints the unit's event log as Linux does.
 * amd.c: the unit, boot, commands and events; amd_domain.c: domains.
 */
#ifndef DMASIM_KERNEL_IOMMU_AMD_H
#define DMASIM_KERNEL_IOMMU_AMD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "dmasim/linux/iommu.h"
#include "kernel/printk.h"

#define AMDVI_REG_BASE	  0xfed80000ULL /* the IVHD's base address */
#define AMDVI_DEVTAB_ORDER 9		/* 65536 entries of 32 bytes: 2 MiB */
#define AMDVI_RING_ORDER  1		/* 8 KiB: 512 entries of 16 bytes */
#define AMDVI_RING_LOG2	  9
#define AMDVI_PCI_DEVFN	  0x02		/* the IOMMU's function: 00:00.2 */
#define AMDVI_CAP_PTR	  0x40		/* its IOMMU capability */
/* HyperTransport's reserved range: never an IOVA (a reserved region) */
#define AMD_HT_START	  0xfd00000000ULL
#define AMD_HT_END	  0xffffffffffULL

struct machine;

struct amd_iommu {
	struct machine *m;
	void *reg;			/* ioremap of the register block */
	uint64_t reg_base;
	uint64_t efr;			/* extended feature register */
	uint32_t cap;			/* the capability header (config) */
	char pci_name[16];		/* its PCI function, "0000:00:00.2" */
	uint64_t dev_table;		/* phys; 2 MiB */
	uint64_t cmd_buf, evt_log;	/* phys */
	unsigned int cmd_tail;		/* index */
	uint64_t cw_sem;		/* COMPLETION_WAIT store word (phys) */
	uint64_t cw_seq;
	pthread_mutex_t lock;		/* the command buffer, domain ids */
	unsigned long did_next;
	int irq;			/* the event interrupt */
	pthread_mutex_t evt_lock;	/* the event log's head */
	struct ratelimit unknown_rs;	/* faults of devices we do not know */
	struct ratelimit overflow_rs;
	struct ratelimit detached_rs;	/* "not attached to domain properly" */
	struct ratelimit *dev_rs;	/* per PCI function (dev_data->rs) */
	unsigned int nr_dev_rs;
	struct iommu_device iommu;
	uint64_t events_seen;		/* event log entries handled */
};

/* amd_iommu= (a comma list): off, fullflush (deprecated),
 * force_isolation, force_enable, pgtbl_v1, pgtbl_v2. */
int amd_iommu_setup(struct machine *m, const char *val);
/* ACPI IVRS parsing: the early line, before PCI is scanned. */
void amd_iommu_detect(struct machine *m);
/* The device table, command buffer and event log, groups and default
 * domains for every PCI function, translation on. 0 or -errno. */
int amd_iommu_init(struct machine *m);
/* The IOMMUv2 module's line (after swiotlb's, as in Linux's order). */
void amd_iommu_v2_init(struct machine *m);
void amd_iommu_exit(struct machine *m);

extern const struct iommu_ops amd_iommu_ops;
/* The domain id a domain of this driver has in device table entries. */
uint16_t amd_domain_id(struct iommu_domain *dom);
struct amd_iommu *amd_iommu_of(struct machine *m);

/* INVALIDATE_IOTLB_PAGES: @devid's ATS cache for [addr, addr + size)
 * (size 0: all), and a completion wait. */
void amd_flush_iotlb(struct amd_iommu *iu, uint16_t devid, uint64_t addr,
		     uint64_t size);
/* Device table entries, with the invalidation and wait they need:
 * qword 0, and qword 1 (the domain id, DTE.I). */
void amd_dte_set(struct amd_iommu *iu, uint16_t devid, uint64_t q0,
		 uint64_t q1);
/* Invalidate a domain's pages: [addr, addr + size) rounded out to a
 * power of two (size 0: everything), then wait for completion. */
void amd_flush_pages(struct amd_iommu *iu, uint16_t domid, uint64_t addr,
		     uint64_t size);

#endif
