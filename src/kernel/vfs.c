/* Pseudo-filesystem tree (see vfs.h). */
#include "kernel/vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vfs_init(struct vfs *vfs)
{
	memset(vfs, 0, sizeof(*vfs));
	vfs->root.dir = true;
	vfs->root.name = strdup("");
	if (!vfs->root.name)
		return -ENOMEM;
	if (pthread_mutex_init(&vfs->lock, NULL)) {
		free(vfs->root.name);
		return -ENOMEM;
	}
	return 0;
}

static void free_node(struct vfs_node *n)
{
	struct vfs_node *c = n->child, *next;

	for (; c; c = next) {
		next = c->sibling;
		free_node(c);
		free(c);
	}
	free(n->name);
}

void vfs_destroy(struct vfs *vfs)
{
	free_node(&vfs->root);
	pthread_mutex_destroy(&vfs->lock);
	memset(vfs, 0, sizeof(*vfs));
}

static struct vfs_node *find_child(struct vfs_node *dir, const char *name,
				   size_t len)
{
	for (struct vfs_node *c = dir->child; c; c = c->sibling)
		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return c;
	return NULL;
}

static struct vfs_node *add_child(struct vfs_node *dir, const char *name,
				  size_t len, bool is_dir)
{
	struct vfs_node *n = calloc(1, sizeof(*n)), **pp;

	if (!n)
		return NULL;
	n->name = strndup(name, len);
	if (!n->name) {
		free(n);
		return NULL;
	}
	n->dir = is_dir;
	n->parent = dir;
	for (pp = &dir->child; *pp && strcmp((*pp)->name, n->name) < 0;)
		pp = &(*pp)->sibling;
	n->sibling = *pp;
	*pp = n;
	return n;
}

/* Walk @path from the root; with @create, make missing directories. */
static struct vfs_node *walk(struct vfs *vfs, const char *path, bool create,
			     int *err)
{
	struct vfs_node *cur = &vfs->root;
	const char *p = path;

	while (*p) {
		const char *s;
		size_t len;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		s = p;
		while (*p && *p != '/')
			p++;
		len = (size_t)(p - s);
		if (!cur->dir) {
			*err = -ENOTDIR;
			return NULL;
		}
		if (len == 1 && s[0] == '.')
			continue;
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			if (cur->parent)
				cur = cur->parent;
			continue;
		}
		struct vfs_node *next = find_child(cur, s, len);

		if (!next && create)
			next = add_child(cur, s, len, true);
		if (!next) {
			*err = create ? -ENOMEM : -ENOENT;
			return NULL;
		}
		cur = next;
	}
	/* "file/" names a directory that is not one. */
	if (!cur->dir && p > path && p[-1] == '/') {
		*err = -ENOTDIR;
		return NULL;
	}
	return cur;
}

int vfs_mkdir(struct vfs *vfs, const char *path)
{
	int err = 0;
	struct vfs_node *n;

	pthread_mutex_lock(&vfs->lock);
	n = walk(vfs, path, true, &err);
	if (n && !n->dir)
		err = -ENOTDIR;
	pthread_mutex_unlock(&vfs->lock);
	return err;
}

int vfs_add_file(struct vfs *vfs, const char *path, vfs_show_fn show,
		 void *ctx)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int err = 0;
	struct vfs_node *d, *f;

	if (!slash || !slash[1])
		return -EINVAL;
	dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -ENOMEM;
	pthread_mutex_lock(&vfs->lock);
	d = walk(vfs, dir, true, &err);
	if (d && !d->dir)
		err = -ENOTDIR;
	if (d && !err) {
		f = find_child(d, slash + 1, strlen(slash + 1));
		if (!f)
			f = add_child(d, slash + 1, strlen(slash + 1), false);
		if (!f || f->dir) {
			err = f ? -EISDIR : -ENOMEM;
		} else {
			f->show = show;
			f->ctx = ctx;
		}
	}
	pthread_mutex_unlock(&vfs->lock);
	free(dir);
	return err;
}

struct vfs_node *vfs_lookup(struct vfs *vfs, const char *path, int *err)
{
	struct vfs_node *n;

	*err = 0;
	pthread_mutex_lock(&vfs->lock);
	n = walk(vfs, path, false, err);
	pthread_mutex_unlock(&vfs->lock);
	return n;
}
