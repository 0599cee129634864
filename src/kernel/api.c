/* The machine API's views and accessors (see dmasim.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hw/bus.h"
#include "kernel/dma/debug.h"
#include "kernel/machine.h"
#include "kernel/page_alloc.h"

static struct machine *M(struct dmasim_machine *dm)
{
	return (struct machine *)dm;
}

int dmasim_read(struct dmasim_machine *dm, const char *path, char **text,
		size_t *len)
{
	struct machine *m = M(dm);
	struct strbuf sb;
	struct vfs_node *n;
	int err;

	*text = NULL;
	if (len)
		*len = 0;
	n = vfs_lookup(&m->vfs, path, &err);
	if (!n)
		return err;
	if (n->dir)
		return -EISDIR;
	strbuf_init(&sb);
	if (n->show)
		n->show(m, n->ctx, &sb);
	if (sb.failed) {
		strbuf_release(&sb);
		return -ENOMEM;
	}
	*text = strbuf_detach(&sb, len);
	return *text ? 0 : -ENOMEM;
}

/* What a store sees: at most a page, NUL-terminated (kernfs's copy). */
static int store(struct machine *m, struct vfs_node *n, const char *buf,
		 size_t len)
{
	size_t n_bytes = len < VFS_WRITE_MAX ? len : VFS_WRITE_MAX;
	char *copy = malloc(n_bytes + 1);
	struct cpu_ctx save;
	bool switched = current_machine() != m;
	int ret;

	if (!copy)
		return -ENOMEM;
	memcpy(copy, buf, n_bytes);
	copy[n_bytes] = '\0';
	if (switched)
		cpu_ctx_switch(m, &save);
	ret = n->store(m, n->ctx, copy, n_bytes);
	if (switched)
		cpu_ctx_restore(&save);
	free(copy);
	return ret;
}

int dmasim_write(struct dmasim_machine *dm, const char *path, const char *buf,
		 size_t len)
{
	struct machine *m = M(dm);
	struct vfs_node *n;
	int err;

	n = vfs_lookup(&m->vfs, path, &err);
	if (!n)
		return err;
	if (n->dir)
		return -EISDIR;
	if (!n->store)
		return -EACCES;
	if (!len)
		return 0; /* sysfs does not call the store for nothing */
	if (!buf)
		return -EFAULT;
	return store(m, n, buf, len);
}

int dmasim_readlink(struct dmasim_machine *dm, const char *path, char **target)
{
	struct strbuf sb;
	int err;

	*target = NULL;
	strbuf_init(&sb);
	err = vfs_readlink(&M(dm)->vfs, path, &sb);
	if (!err)
		*target = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	if (!err && !*target)
		err = -ENOMEM;
	return err;
}

void dmasim_free_names(char **names, size_t count)
{
	for (size_t i = 0; names && i < count; i++)
		free(names[i]);
	free(names);
}

int dmasim_list(struct dmasim_machine *dm, const char *path, char ***names,
		size_t *count)
{
	struct machine *m = M(dm);
	struct vfs_node *n;
	size_t nr = 0, i = 0;
	int err;

	*names = NULL;
	*count = 0;
	n = vfs_lookup(&m->vfs, path, &err);
	if (!n)
		return err;
	if (!n->dir)
		return -ENOTDIR;
	pthread_mutex_lock(&m->vfs.lock);
	for (struct vfs_node *c = n->child; c; c = c->sibling)
		nr++;
	*names = calloc(nr ? nr : 1, sizeof(char *));
	for (struct vfs_node *c = n->child; *names && c; c = c->sibling) {
		(*names)[i] = strdup(c->name);
		if (!(*names)[i++]) {
			dmasim_free_names(*names, i);
			*names = NULL;
		}
	}
	pthread_mutex_unlock(&m->vfs.lock);
	if (!*names)
		return -ENOMEM;
	*count = nr;
	return 0;
}

char *dmasim_dmesg(struct dmasim_machine *dm, unsigned int flags,
		   unsigned int level_mask)
{
	struct strbuf sb;

	strbuf_init(&sb);
	printk_render(&M(dm)->log, &sb, flags, level_mask);
	if (sb.failed) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

char *dmasim_console(struct dmasim_machine *dm)
{
	struct machine *m = M(dm);
	int level = m->params.ignore_loglevel ? 8 : m->log.console_loglevel;
	unsigned int mask = level >= 8 ? DMASIM_LEVELS_ALL
			    : level <= 0 ? 0
					 : (1u << level) - 1;

	return dmasim_dmesg(dm, 0, mask);
}

const char *dmasim_cmdline_problems(struct dmasim_machine *dm)
{
	struct machine *m = M(dm);

	return m->params.problems.buf ? m->params.problems.buf : "";
}

int dmasim_phys_read(struct dmasim_machine *dm, uint64_t phys, void *buf,
		     size_t len)
{
	return ram_read(&M(dm)->ram, phys, buf, len);
}

int dmasim_phys_write(struct dmasim_machine *dm, uint64_t phys,
		      const void *buf, size_t len)
{
	return ram_write(&M(dm)->ram, phys, buf, len);
}

void dmasim_clock_advance(struct dmasim_machine *dm, uint64_t ns)
{
	mclock_advance(&M(dm)->clock, ns);
}

uint64_t dmasim_clock_ns(struct dmasim_machine *dm)
{
	return mclock_now(&M(dm)->clock);
}

void dmasim_drain_pages(struct dmasim_machine *dm)
{
	if (dmasim_current() == dm)
		mm_drain_local_pages(M(dm));
}

int dmasim_buddy_counts(struct dmasim_machine *dm, const char *zone,
			unsigned long counts[DMASIM_NR_ORDERS])
{
	struct machine *m = M(dm);

	for (int i = 0; i < MAX_NR_ZONES; i++) {
		struct zone *z = &m->mm.zones[i];

		if (strcmp(z->name, zone))
			continue;
		pthread_mutex_lock(&z->lock);
		for (unsigned int o = 0; o < MAX_ORDER; o++)
			counts[o] = zone_free_blocks(z, o);
		pthread_mutex_unlock(&z->lock);
		return 0;
	}
	return -ENOENT;
}

const char *dmasim_platform_name(enum dmasim_platform p)
{
	return p == DMASIM_PLATFORM_ARM64 ? "arm64" : "x86";
}

int dmasim_parse_platform(const char *s, enum dmasim_platform *out)
{
	if (!strcmp(s, "x86") || !strcmp(s, "x86_64")) {
		*out = DMASIM_PLATFORM_X86;
		return 0;
	}
	if (!strcmp(s, "arm64") || !strcmp(s, "aarch64")) {
		*out = DMASIM_PLATFORM_ARM64;
		return 0;
	}
	return -EINVAL;
}

int dmasim_pci_config(struct dmasim_machine *dm, const char *name,
		      uint8_t *buf, size_t len)
{
	struct machine *m = M(dm);
	struct pci_dev *p = pci_get_by_name(m, name);

	if (!p)
		return -ENOENT;
	if (len > PCI_CFG_SPACE)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)pci_cfg_read(p->hw, (unsigned)i, 1);
	return 0;
}

unsigned long dmasim_dma_debug_errors(struct dmasim_machine *dm)
{
	return dma_debug_error_count(M(dm));
}

void dmasim_dma_debug_all_errors(struct dmasim_machine *dm, bool all)
{
	dma_debug_set_all_errors(M(dm), all);
}

struct device *dmasim_pci_device(struct dmasim_machine *dm, const char *name)
{
	struct pci_dev *p = name ? pci_get_by_name(M(dm), name) : NULL;

	return p ? &p->dev : NULL;
}

static int bus_status(enum pci_status st)
{
	return st == PCI_STATUS_OK ? 0
	       : st == PCI_STATUS_MASTER_ABORT ? -EPERM : -EIO;
}

int dmasim_bus_read(struct dmasim_machine *dm, const char *name, uint64_t addr,
		    void *buf, size_t len)
{
	struct pci_dev *p = name ? pci_get_by_name(M(dm), name) : NULL;

	if (!p)
		return -ENOENT;
	return bus_status(bus_read(p->hw, addr, buf, len, NULL));
}

int dmasim_bus_write(struct dmasim_machine *dm, const char *name,
		     uint64_t addr, const void *buf, size_t len)
{
	struct pci_dev *p = name ? pci_get_by_name(M(dm), name) : NULL;

	if (!p)
		return -ENOENT;
	return bus_status(bus_write(p->hw, addr, buf, len, NULL));
}
