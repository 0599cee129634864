/* Kernel targets for the attack suite (see targets.h). */
#include "kernel/targets.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmasim/linux/mm.h"
#include "dmasim/linux/slab.h"
#include "kernel/machine.h"

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void fill_secret(uint8_t *p, uint64_t *seed)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = strlen(TARGET_SECRET_MAGIC);

	memcpy(p, TARGET_SECRET_MAGIC "\n", n + 1);
	for (size_t i = n + 1; i < 4096; i++)
		p[i] = (i % 65 == 64) ? '\n' : (uint8_t)hex[xorshift(seed) & 15];
}

static void fill_fptrs(struct kfptrs *f, uint64_t *seed)
{
	for (int i = 0; i < TARGET_NR_FPTRS; i++)
		f->fn[i] = 0xffffffff81000000ULL + (xorshift(seed) & 0xfffff0);
	snprintf(f->name, sizeof(f->name), "nat_dispatch");
}

int targets_create(struct machine *m, unsigned int kinds, uint64_t seed,
		   struct targets *t)
{
	uint64_t s = seed ? seed : 0x9e3779b97f4a7c15ULL;

	memset(t, 0, sizeof(*t));
	t->m = m;
	if (kinds & TARGET_SECRET) {
		t->secret = (uint8_t *)__get_free_pages(GFP_KERNEL, 0);
		if (!t->secret)
			goto nomem;
		fill_secret(t->secret, &s);
		memcpy(t->secret_copy, t->secret, 4096);
	}
	if (kinds & TARGET_CRED) {
		t->cred = kzalloc(sizeof(*t->cred), GFP_KERNEL);
		if (!t->cred)
			goto nomem;
		t->cred->usage = 1;
		for (uint32_t *id = &t->cred->uid; id <= &t->cred->fsgid; id++)
			*id = TARGET_CRED_ID;
		t->cred_copy = *t->cred;
	}
	if (kinds & TARGET_FPTRS) {
		t->fptrs = kmalloc(2048, GFP_KERNEL);
		if (!t->fptrs)
			goto nomem;
		memset(t->fptrs, 0, 2048);
		fill_fptrs(t->fptrs, &s);
		t->fptrs_copy = *t->fptrs;
	}
	return 0;
nomem:
	targets_destroy(t);
	return -ENOMEM;
}

void targets_destroy(struct targets *t)
{
	if (t->secret)
		free_pages((unsigned long)t->secret, 0);
	kfree(t->cred);
	kfree(t->fptrs);
	t->secret = NULL;
	t->cred = NULL;
	t->fptrs = NULL;
}

uint64_t targets_phys(const struct targets *t, const void *p)
{
	return (uint64_t)((const uint8_t *)p - t->m->ram.cpu);
}

static size_t diff(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;
	size_t d = 0;

	for (size_t i = 0; i < n; i++)
		d += x[i] != y[i];
	return d;
}

size_t targets_secret_changed(const struct targets *t)
{
	return t->secret ? diff(t->secret, t->secret_copy, 4096) : 0;
}

size_t targets_cred_changed(const struct targets *t)
{
	return t->cred ? diff(t->cred, &t->cred_copy, sizeof(*t->cred)) : 0;
}

size_t targets_fptrs_changed(const struct targets *t)
{
	return t->fptrs ? diff(t->fptrs, &t->fptrs_copy, sizeof(*t->fptrs)) : 0;
}

bool targets_cred_is_root(const struct targets *t)
{
	return t->cred && (t->cred->uid == 0 || t->cred->euid == 0);
}
