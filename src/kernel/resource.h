/*
 * The physical address-space resource tree behind /proc/iomem: RAM,
 * reserved ranges, the kernel image, PCI windows, device registers.
 */
#ifndef DMASIM_KERNEL_RESOURCE_H
#define DMASIM_KERNEL_RESOURCE_H

#include <stdint.h>

#include "lib/strbuf.h"

struct resource {
	uint64_t start;
	uint64_t end; /* inclusive, as Linux */
	char *name;
	struct resource *parent, *child, *sibling;
};

void resource_root_init(struct resource *root, const char *name,
			uint64_t end);
/*
 * Insert [start, end] under the deepest resource that contains it whole;
 * resources it contains whole become its children. Returns the new
 * resource or NULL if it partly overlaps a sibling or memory ran out.
 */
struct resource *insert_resource(struct resource *root, uint64_t start,
				 uint64_t end, const char *name);
void resource_free_tree(struct resource *root);
/* /proc/iomem: "%0*llx-%0*llx : name", two spaces per level. */
void resource_render(const struct resource *root, struct strbuf *out);

#endif
