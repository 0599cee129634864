/*
 * Resource tree (see resource.h). Children are kept sorted by address; a
 * range equal to an existing one goes inside it, as Linux nests
 * "Reserved" > "System ROM".
 */
#include "kernel/resource.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void resource_root_init(struct resource *root, const char *name,
			uint64_t end)
{
	memset(root, 0, sizeof(*root));
	root->end = end;
	root->name = strdup(name);
}

static struct resource *find_container(struct resource *parent,
				       uint64_t start, uint64_t end)
{
	for (struct resource *c = parent->child; c; c = c->sibling)
		if (c->start <= start && end <= c->end)
			return find_container(c, start, end);
	return parent;
}

static void adopt_children(struct resource *parent, struct resource *r)
{
	struct resource **pp = &parent->child, **tail = &r->child;

	while (*pp) {
		struct resource *c = *pp;

		if (c != r && c->start >= r->start && c->end <= r->end) {
			*pp = c->sibling;
			c->sibling = NULL;
			c->parent = r;
			*tail = c;
			tail = &c->sibling;
		} else {
			pp = &c->sibling;
		}
	}
}

struct resource *insert_resource(struct resource *root, uint64_t start,
				 uint64_t end, const char *name)
{
	struct resource *parent = find_container(root, start, end);
	struct resource *r, **pp;

	for (struct resource *c = parent->child; c; c = c->sibling) {
		bool inside = c->start >= start && c->end <= end;

		if (!inside && c->start <= end && start <= c->end)
			return NULL; /* partial overlap */
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->name = strdup(name);
	if (!r->name) {
		free(r);
		return NULL;
	}
	r->start = start;
	r->end = end;
	r->parent = parent;
	adopt_children(parent, r);
	for (pp = &parent->child; *pp && (*pp)->start < start;)
		pp = &(*pp)->sibling;
	r->sibling = *pp;
	*pp = r;
	return r;
}

static void free_children(struct resource *r)
{
	struct resource *c = r->child, *next;

	for (; c; c = next) {
		next = c->sibling;
		free_children(c);
		free(c->name);
		free(c);
	}
	r->child = NULL;
}

void resource_free_tree(struct resource *root)
{
	free_children(root);
	free(root->name);
	root->name = NULL;
}

static void render_level(const struct resource *parent, int depth,
			 int width, struct strbuf *out)
{
	for (const struct resource *c = parent->child; c; c = c->sibling) {
		strbuf_printf(out, "%*s%0*llx-%0*llx : %s\n", depth * 2, "",
			      width, (unsigned long long)c->start, width,
			      (unsigned long long)c->end, c->name);
		render_level(c, depth + 1, width, out);
	}
}

void resource_render(const struct resource *root, struct strbuf *out)
{
	render_level(root, 0, root->end < 0x10000 ? 4 : 8, out);
}
