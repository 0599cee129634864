/*
 * The kernel command line, split by Linux's rules: arguments separated by
 * white space; "key=value"; double quotes group text containing spaces and
 * are removed around a value or a whole argument; "--" ends the kernel's
 * arguments (the rest goes to init). Parameter names compare with '-' and
 * '_' equal, as Linux's parameq().
 */
#ifndef DMASIM_KERNEL_CMDLINE_H
#define DMASIM_KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>

struct cmdline_arg {
	char *param;	   /* name (or the whole argument if no '=') */
	char *val;	   /* value after the first '=', or NULL */
	bool after_dashes; /* came after "--": for init, not the kernel */
};

struct cmdline {
	struct cmdline_arg *args;
	size_t nr;
	char *storage; /* the split copy the args point into */
};

/* Split @line. Returns 0 or -ENOMEM. Never fails on content. */
int cmdline_split(const char *line, struct cmdline *out);
void cmdline_free(struct cmdline *cl);
/* parameq(): equal names, treating '-' and '_' as the same. */
bool parameq(const char *a, const char *b);

#endif
