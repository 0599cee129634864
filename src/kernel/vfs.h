/*
 * The machine's pseudo-filesystem: directories, generated files and
 * symbolic links (/proc/..., /sys/...). A file's text is produced when it
 * is read; a writable file hands what is written to its store callback,
 * as sysfs does. Links behave as on Linux: a relative target is resolved
 * from the link's own directory, ".." after a link goes up from where the
 * link points (not back along the path), every component but the last is
 * followed, and more than VFS_MAXSYMLINKS links in one lookup is -ELOOP.
 */
#ifndef DMASIM_KERNEL_VFS_H
#define DMASIM_KERNEL_VFS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/strbuf.h"

struct machine;

#define VFS_MAXSYMLINKS 40   /* Linux's MAXSYMLINKS */
#define VFS_PATH_MAX	4096 /* PATH_MAX: the longest link target */
#define VFS_WRITE_MAX	4096 /* a sysfs store sees at most a page */

typedef void (*vfs_show_fn)(struct machine *m, void *ctx, struct strbuf *out);
/* A write to a file: @buf holds @len (1..VFS_WRITE_MAX) bytes and a NUL
 * after them. Returns 0 or a negative errno value. */
typedef int (*vfs_store_fn)(struct machine *m, void *ctx, const char *buf,
			    size_t len);

struct vfs_node {
	char *name;
	bool dir;
	char *target;	/* a symbolic link's text; NULL for others */
	vfs_show_fn show;
	vfs_store_fn store; /* NULL: read-only */
	void *ctx;
	struct vfs_node *parent, *child, *sibling; /* children sorted by name */
};

struct vfs_ctx;

struct vfs {
	struct vfs_node root;
	pthread_mutex_t lock;
	struct vfs_ctx *ctxs; /* vfs_alloc_ctx */
};

int vfs_init(struct vfs *vfs);
void vfs_destroy(struct vfs *vfs);
/* Create a directory and its parents. 0, -ENOTDIR, -ENOMEM. */
int vfs_mkdir(struct vfs *vfs, const char *path);
/* Create (or replace the generator of) a file; parents are created.
 * -EEXIST if @path is a link, -EISDIR if a directory. */
int vfs_add_file(struct vfs *vfs, const char *path, vfs_show_fn show,
		 void *ctx);
/* The same for a writable file (@store may be NULL: read-only). */
int vfs_add_rw_file(struct vfs *vfs, const char *path, vfs_show_fn show,
		    vfs_store_fn store, void *ctx);
/* Create the symbolic link @path with the text @target, kept as given
 * (it need not exist); parents are created. 0, -EEXIST, -ENOENT (empty
 * target), -ENAMETOOLONG, -EINVAL, -ENOTDIR, -ENOMEM. */
int vfs_add_link(struct vfs *vfs, const char *path, const char *target);
/* sysfs_create_link: a link to the absolute path @to, written relative
 * to the link's directory as sysfs writes it ("../../devices/..."). */
int vfs_link_to(struct vfs *vfs, const char *path, const char *to);
/* Resolve @path ("/", "//", ".", ".." handled; relative means from "/"),
 * following links. Returns the node or NULL with *err = -ENOENT, -ENOTDIR
 * or -ELOOP. */
struct vfs_node *vfs_lookup(struct vfs *vfs, const char *path, int *err);
/* Remove a file, a link (not what it points to) or an empty directory:
 * 0, -ENOENT, -ENOTDIR, -EBUSY (a directory with entries). A reader
 * holding the node must not be running (sysfs changes happen in the
 * kernel's own thread, between commands). */
int vfs_unlink(struct vfs *vfs, const char *path);
/* Append the text of link @path (not followed) to @out. 0, -EINVAL (not a
 * link), -ENOENT, -ENOTDIR, -ELOOP, -ENOMEM. */
int vfs_readlink(struct vfs *vfs, const char *path, struct strbuf *out);
/* Zeroed memory that lives as long as the tree (files' contexts);
 * @release, if not NULL, runs on it before it is freed. NULL: no memory. */
void *vfs_alloc_ctx(struct vfs *vfs, size_t size, void (*release)(void *));
/* sysfs_streq: equal, except that either may end in one newline. */
bool vfs_streq(const char *a, const char *b);

#endif
