/*
 * /sys/kernel/debug/dmasim/cache/: what the DMA API's cache maintenance
 * did on a non-coherent machine (line size, bytes cleaned to RAM, bytes
 * invalidated). Linux has no such file; a performance engineer wants it.
 */
#include "kernel/cache_debugfs.h"

#include <stdio.h>

#include "kernel/machine.h"

static void show_line(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)ctx;
	strbuf_printf(out, "%llu\n", (unsigned long long)m->ram.line);
}

static void show_counter(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)m;
	strbuf_printf(out, "%llu\n", (unsigned long long)__atomic_load_n(
					     (uint64_t *)ctx, __ATOMIC_RELAXED));
}

static void show_coherent(struct machine *m, void *ctx, struct strbuf *out)
{
	(void)ctx;
	strbuf_printf(out, "%c\n", m->ram.coherent ? 'Y' : 'N');
}

int cache_debugfs_init(struct machine *m)
{
	const char *d = "/sys/kernel/debug/dmasim/cache/";
	char p[96];
	int ret;

	snprintf(p, sizeof(p), "%scoherent", d);
	ret = vfs_add_file(&m->vfs, p, show_coherent, NULL);
	snprintf(p, sizeof(p), "%sline_size", d);
	ret = ret ? ret : vfs_add_file(&m->vfs, p, show_line, NULL);
	snprintf(p, sizeof(p), "%sbytes_cleaned", d);
	ret = ret ? ret : vfs_add_file(&m->vfs, p, show_counter,
				       &m->ram.bytes_cleaned);
	snprintf(p, sizeof(p), "%sbytes_invalidated", d);
	ret = ret ? ret : vfs_add_file(&m->vfs, p, show_counter,
				       &m->ram.bytes_invalidated);
	return ret;
}
