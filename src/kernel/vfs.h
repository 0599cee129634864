/*
 * The machine's pseudo-filesystem: directories and generated files
 * (/proc/..., later /sys/...). A file's text is produced when it is read.
 */
#ifndef DMASIM_KERNEL_VFS_H
#define DMASIM_KERNEL_VFS_H

#include <pthread.h>
#include <stdbool.h>

#include "lib/strbuf.h"

struct machine;

typedef void (*vfs_show_fn)(struct machine *m, void *ctx, struct strbuf *out);

struct vfs_node {
	char *name;
	bool dir;
	vfs_show_fn show;
	void *ctx;
	struct vfs_node *parent, *child, *sibling; /* children sorted by name */
};

struct vfs {
	struct vfs_node root;
	pthread_mutex_t lock;
};

int vfs_init(struct vfs *vfs);
void vfs_destroy(struct vfs *vfs);
/* Create a directory and its parents. 0, -ENOTDIR, -ENOMEM. */
int vfs_mkdir(struct vfs *vfs, const char *path);
/* Create (or replace the generator of) a file; parents are created. */
int vfs_add_file(struct vfs *vfs, const char *path, vfs_show_fn show,
		 void *ctx);
/* Resolve @path ("/", "//", ".", ".." handled; relative means from "/").
 * Returns the node or NULL with *err = -ENOENT or -ENOTDIR. */
struct vfs_node *vfs_lookup(struct vfs *vfs, const char *path, int *err);

#endif
