/*
 * The attack suite: a rogue bus master (src/hw/rogue.h) against kernel
 * targets (src/kernel/targets.h) and the rnic driver's buffers, run
 * under each IOMMU policy on a fresh, deterministic machine (virtual
 * clock, inline devices, seeded contents). What the device got is
 * measured, not assumed: every successful access is translated to the
 * physical bytes it reached and compared with a shadow of what the
 * kernel mapped for the device; bytes outside it are leaked (read) or
 * corrupted (written).
 */
#ifndef DMASIM_ATTACK_ATTACK_H
#define DMASIM_ATTACK_ATTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmasim/dmasim.h"
#include "hw/pci.h"

struct machine;
struct rogue;
struct rnic;
struct pci_dev;

/* A machine configuration an attack runs under. */
struct atk_policy {
	const char *name;	/* "no-iommu", "lazy", ... */
	const char *cmdline;
	enum dmasim_iommu hw;
	bool external;		/* the rogue behind an external-facing port */
	const char *what;	/* one line for people */
};

extern const struct atk_policy atk_policies[];
extern const size_t atk_nr_policies;
const struct atk_policy *atk_policy_find(const char *name);

#define ATK_TEXT 1024

struct atk_result {
	const char *attack;
	char policy[48];
	uint64_t bytes_leaked, bytes_corrupted, faults;
	unsigned long fault_lines;	/* DMAR / AMD-Vi lines logged */
	char verdict[160];
	char did[ATK_TEXT];		/* what the device did, lines */
	char log[ATK_TEXT];		/* the first fault lines, quoted */
	int error;			/* 0, or -errno: the run failed */
};

/* A mapping the kernel made for the device, as the shadow keeps it. */
struct atk_map {
	uint64_t dma, len;
	uint64_t phys_lo, phys_hi;	/* what it exposes: [lo, hi) */
	bool live;
};

#define ATK_MAX_MAPS 64

struct atk_ctx {
	struct dmasim_machine *dm;
	struct machine *m;
	struct pci_func *fn;
	struct rogue *r;
	struct pci_dev *pdev;
	struct rnic *nic;
	/* a second, honest device ("victim"), when the attack has one */
	struct rogue *vr;
	struct pci_dev *vpdev;
	struct rnic *vnic;
	struct atk_map maps[ATK_MAX_MAPS];
	size_t nmaps;
	struct atk_result *res;
};

struct attack {
	const char *name;
	const char *summary;
	uint64_t ram;			/* bytes */
	const char *cmdline;		/* added to the policy's */
	/* --device specs after the port atk_rp; NULL: the rogue alone
	 * below it. The attacker is id rogue0, a second device victim. */
	const char *const *devices;
	int (*run)(struct atk_ctx *c);
	/* the firmware's DMAR has an ATSR for all root ports (--ats): the
	 * kernel may enable ATS for trusted devices below them */
	bool atsr;
};

extern const struct attack *const attacks[];
const struct attack *attack_find(const char *name);

/* Run @a under @p on a fresh machine; @base (may be NULL) gives the
 * platform and CPU count. The result's error is set if it could not. */
void attack_run(const struct attack *a, const struct atk_policy *p,
		const struct dmasim_config *base, struct atk_result *res);

/* ---- what attacks use (account.c) ------------------------------------ */

/* The device reads / writes; the bytes reached outside the shadow are
 * added to the result. */
enum pci_status atk_read(struct atk_ctx *c, uint64_t addr, void *buf,
			 size_t len, size_t *done);
enum pci_status atk_write(struct atk_ctx *c, uint64_t addr, const void *buf,
			  size_t len, size_t *done);
/* Bring the shadow up to date with the rnic driver's buffers. */
void atk_shadow_sync(struct atk_ctx *c);
/* Add / drop a mapping made outside the driver. */
void atk_shadow_add(struct atk_ctx *c, uint64_t dma, uint64_t len);
void atk_shadow_drop(struct atk_ctx *c, uint64_t dma);
/* Bytes of physical [p, p + n) that no live mapping of the shadow
 * exposes (all of them for p == UINT64_MAX). */
uint64_t atk_phys_outside(const struct atk_ctx *c, uint64_t p, uint64_t n);
/* Where device address @dma lands in RAM, or UINT64_MAX if nowhere. */
uint64_t atk_xlate(struct atk_ctx *c, uint64_t dma);

/* Append a line to the result's "did" text. */
__attribute__((format(printf, 2, 3))) void atk_did(struct atk_ctx *c,
						   const char *fmt, ...);
__attribute__((format(printf, 2, 3))) void atk_verdict(struct atk_ctx *c,
						       const char *fmt, ...);
/* Advance the machine clock by @ms (timers fire). */
void atk_advance_ms(struct atk_ctx *c, unsigned int ms);

/* ---- the PCILeech-style search (scan.c), shared with ats ------------ */

struct atk_found {
	uint64_t secret, cred;	/* device addresses, 0: not found */
};
/* How the device reads: atk_read, or atk_read_translated (ats). */
typedef enum pci_status (*atk_reader)(struct atk_ctx *c, uint64_t addr,
				      void *buf, size_t len, size_t *done);
/* Read RAM from 0 in 64 KiB blocks with @rd until the key material and
 * the credential are found; counts the blocks read and answered. */
void atk_sweep(struct atk_ctx *c, atk_reader rd, struct atk_found *f,
	       uint64_t *blocks, uint64_t *answered);

/* The attacks. */
int attack_scan(struct atk_ctx *c);
int attack_subpage(struct atk_ctx *c);
int attack_stale_iotlb(struct atk_ctx *c);
int attack_open_descriptor(struct atk_ctx *c);
int attack_shared_group(struct atk_ctx *c);
int attack_bounce_pool(struct atk_ctx *c);

/* ---- the IOMMU's own tables (iommu_tables.c) ------------------------- */

/* A page of the IOMMU's structures that translate for the device, and
 * the entry in it that does. */
struct atk_table {
	const char *what;	/* "root table", "context table", ... */
	uint64_t page;		/* phys */
	uint64_t entry;		/* phys of the entry for the device */
	unsigned int entry_len;	/* bytes */
};

#define ATK_MAX_TABLES 8

/* Walk the kernel's IOMMU structures in RAM, as the unit does, for the
 * device's requester ID and @iova: root and context tables and the
 * second-level tables (VT-d), or the device table entry and the I/O page
 * tables (AMD-Vi). Returns how many pages were found; 0 when no IOMMU
 * driver is running. */
size_t atk_iommu_tables(struct atk_ctx *c, uint64_t iova,
			struct atk_table *t, size_t max);

#endif
