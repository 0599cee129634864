/* Pseudo-filesystem tree (see vfs.h). */
#include "kernel/vfs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct vfs_ctx {
	struct vfs_ctx *next;
	void (*release)(void *);
	_Alignas(max_align_t) unsigned char data[];
};

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
	free(n->target);
}

void vfs_destroy(struct vfs *vfs)
{
	struct vfs_ctx *c, *next;

	free_node(&vfs->root);
	for (c = vfs->ctxs; c; c = next) {
		next = c->next;
		if (c->release)
			c->release(c->data);
		free(c);
	}
	pthread_mutex_destroy(&vfs->lock);
	memset(vfs, 0, sizeof(*vfs));
}

void *vfs_alloc_ctx(struct vfs *vfs, size_t size, void (*release)(void *))
{
	struct vfs_ctx *c = calloc(1, sizeof(*c) + size);

	if (!c)
		return NULL;
	c->release = release;
	pthread_mutex_lock(&vfs->lock);
	c->next = vfs->ctxs;
	vfs->ctxs = c;
	pthread_mutex_unlock(&vfs->lock);
	return c->data;
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

/* One lookup: links followed so far, and whether to create directories. */
struct walk {
	struct vfs *vfs;
	unsigned int links;
	bool create;
	int err;
};

/* The next component of *@p (slashes skipped), its length in *@len; *@p
 * moves past it. */
static const char *next_comp(const char **p, size_t *len)
{
	const char *s = *p;

	while (*s == '/')
		s++;
	*p = s + strcspn(s, "/");
	*len = (size_t)(*p - s);
	return s;
}

static bool only_slashes(const char *p)
{
	return p[strspn(p, "/")] == '\0';
}

static struct vfs_node *resolve(struct walk *w, struct vfs_node *start,
				const char *path, bool follow_last);

/* Where link @l (in directory @dir) points; creation stays off there. */
static struct vfs_node *follow(struct walk *w, struct vfs_node *dir,
			       struct vfs_node *l)
{
	bool create = w->create;
	struct vfs_node *n;

	if (++w->links > VFS_MAXSYMLINKS) {
		w->err = -ELOOP;
		return NULL;
	}
	w->create = false;
	n = resolve(w, dir, l->target, true);
	w->create = create;
	return n;
}

static struct vfs_node *step(struct walk *w, struct vfs_node *cur,
			     const char *s, size_t len)
{
	struct vfs_node *next;

	if (len == 1 && s[0] == '.')
		return cur;
	if (len == 2 && s[0] == '.' && s[1] == '.')
		return cur->parent ? cur->parent : cur;
	next = find_child(cur, s, len);
	if (!next && w->create)
		next = add_child(cur, s, len, true);
	if (!next)
		w->err = w->create ? -ENOMEM : -ENOENT;
	return next;
}

/* Resolve @path from @start (from the root when absolute). A link as the
 * last component is followed if @follow_last or the path ends in '/'. */
static struct vfs_node *resolve(struct walk *w, struct vfs_node *start,
				const char *path, bool follow_last)
{
	struct vfs_node *cur = path[0] == '/' ? &w->vfs->root : start;
	const char *p = path;
	bool slash_end = false;

	while (!only_slashes(p)) {
		size_t len;
		const char *s = next_comp(&p, &len);
		struct vfs_node *next;

		if (!cur->dir) {
			w->err = -ENOTDIR;
			return NULL;
		}
		next = step(w, cur, s, len);
		if (!next)
			return NULL;
		slash_end = *p == '/';
		if (next->target && (follow_last || !only_slashes(p) || slash_end))
			next = follow(w, cur, next);
		if (!next)
			return NULL;
		cur = next;
	}
	/* "file/" names a directory that is not one. */
	if (!cur->dir && slash_end) {
		w->err = -ENOTDIR;
		return NULL;
	}
	return cur;
}

/* Split @path into its directory (malloc'd into *@dir) and last name.
 * The name must not be empty, "." or "..". */
static int split(const char *path, char **dir, const char **name)
{
	const char *slash = strrchr(path, '/');

	*name = slash ? slash + 1 : path;
	if (!**name || !strcmp(*name, ".") || !strcmp(*name, ".."))
		return -EINVAL;
	*dir = strndup(path, slash ? (size_t)(slash - path) : 0);
	return *dir ? 0 : -ENOMEM;
}

/* The directory @path's last component goes into (created, followed);
 * vfs->lock held. */
static struct vfs_node *parent_dir(struct vfs *vfs, const char *dir, int *err)
{
	struct walk w = { vfs, 0, true, 0 };
	struct vfs_node *d = resolve(&w, &vfs->root, dir, true);

	*err = w.err;
	if (d && !d->dir) {
		*err = -ENOTDIR;
		return NULL;
	}
	return d;
}

int vfs_mkdir(struct vfs *vfs, const char *path)
{
	struct walk w = { vfs, 0, true, 0 };
	struct vfs_node *n;

	pthread_mutex_lock(&vfs->lock);
	n = resolve(&w, &vfs->root, path, true);
	if (n && !n->dir)
		w.err = -ENOTDIR;
	pthread_mutex_unlock(&vfs->lock);
	return w.err;
}

static int set_file(struct vfs_node *d, const char *name, vfs_show_fn show,
		    vfs_store_fn store, void *ctx)
{
	struct vfs_node *f = find_child(d, name, strlen(name));

	if (!f)
		f = add_child(d, name, strlen(name), false);
	if (!f)
		return -ENOMEM;
	if (f->target)
		return -EEXIST;
	if (f->dir)
		return -EISDIR;
	f->show = show;
	f->store = store;
	f->ctx = ctx;
	return 0;
}

int vfs_add_rw_file(struct vfs *vfs, const char *path, vfs_show_fn show,
		    vfs_store_fn store, void *ctx)
{
	const char *name;
	char *dir;
	int err = split(path, &dir, &name);
	struct vfs_node *d;

	if (err)
		return err;
	pthread_mutex_lock(&vfs->lock);
	d = parent_dir(vfs, dir, &err);
	if (d)
		err = set_file(d, name, show, store, ctx);
	pthread_mutex_unlock(&vfs->lock);
	free(dir);
	return err;
}

int vfs_add_file(struct vfs *vfs, const char *path, vfs_show_fn show,
		 void *ctx)
{
	return vfs_add_rw_file(vfs, path, show, NULL, ctx);
}

static int new_link(struct vfs_node *d, const char *name, const char *target)
{
	struct vfs_node *l;
	char *t;

	if (find_child(d, name, strlen(name)))
		return -EEXIST;
	t = strdup(target);
	l = t ? add_child(d, name, strlen(name), false) : NULL;
	if (!l) {
		free(t);
		return -ENOMEM;
	}
	l->target = t;
	return 0;
}

int vfs_add_link(struct vfs *vfs, const char *path, const char *target)
{
	const char *name;
	char *dir;
	int err;
	struct vfs_node *d;

	if (!target[0])
		return -ENOENT;
	if (strlen(target) >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	err = split(path, &dir, &name);
	if (err)
		return err;
	pthread_mutex_lock(&vfs->lock);
	d = parent_dir(vfs, dir, &err);
	if (d)
		err = new_link(d, name, target);
	pthread_mutex_unlock(&vfs->lock);
	free(dir);
	return err;
}

/* @to relative to directory @from (both absolute, without "." or ".."):
 * "../" for each component of @from below their common ancestor, then
 * the rest of @to. */
static void relative(const char *from, const char *to, struct strbuf *out)
{
	const char *a = from, *b = to, *sa, *sb;
	size_t la, lb;

	for (;;) {
		const char *pa = a, *pb = b;

		sa = next_comp(&pa, &la);
		sb = next_comp(&pb, &lb);
		if (!la || la != lb || memcmp(sa, sb, la))
			break;
		a = pa;
		b = pb;
	}
	while (next_comp(&a, &la), la)
		strbuf_puts(out, "../");
	sb = next_comp(&b, &lb);
	strbuf_puts(out, sb);
}

int vfs_link_to(struct vfs *vfs, const char *path, const char *to)
{
	const char *name;
	char *dir;
	struct strbuf rel;
	int err = split(path, &dir, &name);

	if (err)
		return err;
	strbuf_init(&rel);
	relative(dir, to, &rel);
	err = rel.failed ? -ENOMEM : vfs_add_link(vfs, path, rel.buf ? rel.buf : "");
	strbuf_release(&rel);
	free(dir);
	return err;
}

struct vfs_node *vfs_lookup(struct vfs *vfs, const char *path, int *err)
{
	struct walk w = { vfs, 0, false, 0 };
	struct vfs_node *n;

	pthread_mutex_lock(&vfs->lock);
	n = resolve(&w, &vfs->root, path, true);
	pthread_mutex_unlock(&vfs->lock);
	*err = n ? 0 : w.err;
	return n;
}

int vfs_readlink(struct vfs *vfs, const char *path, struct strbuf *out)
{
	struct walk w = { vfs, 0, false, 0 };
	struct vfs_node *n;

	pthread_mutex_lock(&vfs->lock);
	n = resolve(&w, &vfs->root, path, false);
	if (n && !n->target)
		w.err = -EINVAL;
	else if (n)
		strbuf_puts(out, n->target);
	pthread_mutex_unlock(&vfs->lock);
	if (!w.err && out->failed)
		w.err = -ENOMEM;
	return w.err;
}

/* Take @n out of its parent's sorted list of children. */
static void detach(struct vfs_node *n)
{
	struct vfs_node **pp = &n->parent->child;

	while (*pp && *pp != n)
		pp = &(*pp)->sibling;
	if (*pp)
		*pp = n->sibling;
}

int vfs_unlink(struct vfs *vfs, const char *path)
{
	struct walk w = { vfs, 0, false, 0 };
	struct vfs_node *n;

	pthread_mutex_lock(&vfs->lock);
	n = resolve(&w, &vfs->root, path, false);
	if (n && (n == &vfs->root || (n->dir && n->child)))
		w.err = -EBUSY;
	else if (n)
		detach(n);
	pthread_mutex_unlock(&vfs->lock);
	if (!w.err && n) {
		free_node(n);
		free(n);
	}
	return w.err;
}

bool vfs_streq(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	if (*a == *b)
		return true;
	if (!*a && b[0] == '\n' && !b[1])
		return true;
	return !*b && a[0] == '\n' && !a[1];
}
