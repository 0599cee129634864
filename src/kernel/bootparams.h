/*
 * Kernel parameters: the registry of those the kernel knows, and the
 * values the command line gave. Early parameters run while memory is set
 * up (mem=, loglevel=, iommu=, ...), the rest after; unknown ones are
 * reported as Linux reports them. Later subsystems read their values with
 * bootparam_get().
 */
#ifndef DMASIM_KERNEL_BOOTPARAMS_H
#define DMASIM_KERNEL_BOOTPARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cmdline.h"
#include "lib/strbuf.h"

struct machine;

enum kparam_kind {
	KP_EARLY, /* early_param(): handled before memory is set up */
	KP_SETUP, /* __setup(): handled with the rest */
	KP_CORE,  /* core/module parameter "name" or "module.name" */
};

struct kparam {
	const char *name;
	enum kparam_kind kind;
	/* 0 or -EINVAL (or NULL: any value is accepted and kept) */
	int (*set)(struct machine *m, const char *val);
	const char *help;
};

struct boot_params {
	struct cmdline cl;
	uint64_t mem_limit;	/* mem=, 0 for none */
	size_t log_buf_len;	/* log_buf_len=, 0 for the default */
	bool ignore_loglevel;
	struct strbuf problems; /* one line per rejected parameter */
};

/* The table of known parameters (NULL-terminated). */
extern const struct kparam kernel_params[];

int bootparams_split(struct machine *m);
void bootparams_release(struct boot_params *bp);
void parse_early_params(struct machine *m);
void parse_late_params(struct machine *m);
/* The last value given for @name ('-' == '_'); "" for a bare flag; NULL
 * when absent. Arguments after "--" are not the kernel's. */
const char *bootparam_get(struct machine *m, const char *name);
/* Note a parameter the kernel ignores or rejects: the command line says
 * so on stderr ("dmasim: warning: kernel command line: ..."). */
__attribute__((format(printf, 2, 3))) void
bootparam_problem(struct machine *m, const char *fmt, ...);

/* Linux's kstrtobool(): y/Y/t/T/1/on -> true, n/N/f/F/0/off -> false. */
int kstrtobool(const char *s, bool *res);

#endif
