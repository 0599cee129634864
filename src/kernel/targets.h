/*
 * Kernel targets for the attack suite, in emulated RAM where a device
 * can reach them: a page of secret data (key material), a credential
 * whose uid fields a device can set to 0 ("root"), and a table of
 * function pointers the kernel dispatches through (like the netfilter
 * NAT table Thunderclap overwrote). The kernel keeps its own copy of
 * what each held, out of the device's reach, so a check says exactly
 * which bytes changed.
 */
#ifndef DMASIM_KERNEL_TARGETS_H
#define DMASIM_KERNEL_TARGETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;

#define TARGET_SECRET_MAGIC "-----BEGIN DMASIM PRIVATE KEY-----"
#define TARGET_CRED_ID	    1000u
#define TARGET_NR_FPTRS	    16

/* Like struct cred: a usage count, then the ids. */
struct kcred {
	uint32_t usage;
	uint32_t uid, gid, suid, sgid, euid, egid, fsuid, fsgid;
};

struct kfptrs {
	uint64_t fn[TARGET_NR_FPTRS];	/* kernel text addresses */
	char name[32];
};

struct targets {
	struct machine *m;
	uint8_t *secret;		/* one page */
	struct kcred *cred;		/* kmalloc'd */
	struct kfptrs *fptrs;		/* kmalloc(2048): kmalloc-2k */
	uint8_t secret_copy[4096];
	struct kcred cred_copy;
	struct kfptrs fptrs_copy;
};

enum target_kind { TARGET_SECRET = 1, TARGET_CRED = 2, TARGET_FPTRS = 4 };

/* Allocate the targets in @kinds (a mask), filled from @seed. The
 * calling thread must be in @m. 0 or -ENOMEM. */
int targets_create(struct machine *m, unsigned int kinds, uint64_t seed,
		   struct targets *t);
void targets_destroy(struct targets *t);
uint64_t targets_phys(const struct targets *t, const void *p);
/* Bytes of each target that differ from the kernel's copy. */
size_t targets_secret_changed(const struct targets *t);
size_t targets_cred_changed(const struct targets *t);
size_t targets_fptrs_changed(const struct targets *t);
/* The kernel's check: does the credential now say root? */
bool targets_cred_is_root(const struct targets *t);

#endif
