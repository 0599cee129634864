/*
 * Kernel parameters (see bootparams.h). Messages are Linux's:
 *   Malformed early option '%s'                         (early handler failed)
 *   Booting kernel: `%s' invalid for parameter `%s'     (core parameter)
 *   Unknown kernel command line parameters "%s", will be passed to user space.
 * Unknown dotted names (module.param) are dropped silently, as Linux does.
 */
#include "kernel/bootparams.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/iommu/amd.h"
#include "kernel/iommu/intel.h"
#include "kernel/machine.h"
#include "lib/size.h"

int kstrtobool(const char *s, bool *res)
{
	if (!s)
		return -EINVAL;
	switch (s[0]) {
	case 'y': case 'Y': case 't': case 'T': case '1':
		*res = true;
		return 0;
	case 'n': case 'N': case 'f': case 'F': case '0':
		*res = false;
		return 0;
	case 'o': case 'O':
		if (s[1] == 'n' || s[1] == 'N') {
			*res = true;
			return 0;
		}
		if (s[1] == 'f' || s[1] == 'F') {
			*res = false;
			return 0;
		}
		return -EINVAL;
	default:
		return -EINVAL;
	}
}

static int parse_int(const char *s, int *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 0);
	if (errno || *end || v < INT_MIN || v > INT_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int set_mem(struct machine *m, const char *val)
{
	const char *end;
	uint64_t size;

	if (!val)
		return -EINVAL;
	if (!strcmp(val, "nopentium")) {
		pr_warn(m, "mem=nopentium ignored! (only supported on x86_32)\n");
		return -EINVAL;
	}
	size = memparse(val, &end);
	if (!size)
		return -EINVAL;
	m->params.mem_limit = size;
	e820_remove(m, &m->e820_kern, size, UINT64_MAX - size, E820_TYPE_RAM);
	return 0;
}

static int set_loglevel(struct machine *m, const char *val)
{
	int level;

	if (parse_int(val, &level))
		return -EINVAL;
	m->log.console_loglevel = level;
	return 0;
}

static int set_quiet(struct machine *m, const char *val)
{
	(void)val;
	m->log.console_loglevel = 4;
	return 0;
}

static int set_debug(struct machine *m, const char *val)
{
	(void)val;
	m->log.console_loglevel = 10;
	return 0;
}

static int set_ignore_loglevel(struct machine *m, const char *val)
{
	(void)val;
	m->params.ignore_loglevel = true;
	pr_info(m, "debug: ignoring loglevel setting.\n");
	return 0;
}

static int set_log_buf_len(struct machine *m, const char *val)
{
	const char *end;
	uint64_t size, p2 = 1;

	if (!val)
		return -EINVAL;
	size = memparse(val, &end);
	if (size > (1ULL << 31)) {
		pr_err(m, "log_buf over 2G is unsupported. Capping at 2G.\n");
		size = 1ULL << 31;
	}
	while (p2 < size)
		p2 <<= 1;
	if (size && p2 > LOG_BUF_LEN_DEFAULT && p2 > m->params.log_buf_len)
		m->params.log_buf_len = (size_t)p2;
	return 0;
}

static int set_bool(struct machine *m, const char *val)
{
	bool b;

	(void)m;
	return kstrtobool(val, &b);
}

static int set_int(struct machine *m, const char *val)
{
	int v;

	(void)m;
	return parse_int(val, &v);
}

static int set_intel_iommu(struct machine *m, const char *val)
{
	return intel_iommu_setup(m, val ? val : "");
}

static int set_amd_iommu(struct machine *m, const char *val)
{
	return amd_iommu_setup(m, val ? val : "");
}

const struct kparam kernel_params[] = {
	{ "mem", KP_EARLY, set_mem, "limit usable RAM to this physical address (memparse size)" },
	{ "loglevel", KP_EARLY, set_loglevel, "console log level" },
	{ "quiet", KP_EARLY, set_quiet, "console log level 4 (warnings and worse)" },
	{ "debug", KP_EARLY, set_debug, "console log level 10 (everything)" },
	{ "ignore_loglevel", KP_EARLY, set_ignore_loglevel, "print every message on the console" },
	{ "log_buf_len", KP_EARLY, set_log_buf_len, "kernel log buffer size" },
	{ "iommu", KP_EARLY, NULL, "x86 IOMMU options: pt, nopt, off, soft, ..." },
	{ "iommu.strict", KP_EARLY, set_bool, "strict (1) or lazy (0) IOTLB invalidation" },
	{ "iommu.passthrough", KP_EARLY, set_bool, "identity (1) or translated (0) default domains" },
	{ "iommu.forcedac", KP_EARLY, set_bool, "allocate IOVAs above 4 GiB first" },
	{ "swiotlb", KP_EARLY, NULL, "bounce buffer slabs and options (force, noforce)" },
	{ "dma_debug", KP_EARLY, NULL, "off: disable DMA-API debugging" },
	{ "dma_debug_entries", KP_EARLY, set_int, "DMA-API debug entries to preallocate" },
	{ "earlycon", KP_EARLY, NULL, "early console" },
	{ "intel_iommu", KP_SETUP, set_intel_iommu, "Intel VT-d: on, off, sp_off, ..." },
	{ "amd_iommu", KP_SETUP, set_amd_iommu, "AMD-Vi: off, fullflush, force_isolation, pgtbl_v1, ..." },
	{ "console", KP_SETUP, NULL, "console device" },
	{ "init", KP_SETUP, NULL, "program to run as init" },
	{ "rdinit", KP_SETUP, NULL, "init program in the initramfs" },
	{ "root", KP_SETUP, NULL, "root filesystem" },
	{ "ro", KP_SETUP, NULL, "mount root read-only" },
	{ "rw", KP_SETUP, NULL, "mount root read-write" },
	{ "panic", KP_CORE, set_int, "seconds before reboot on panic" },
	{ NULL, KP_EARLY, NULL, NULL },
};

static const struct kparam *kparam_find(const char *name)
{
	for (const struct kparam *p = kernel_params; p->name; p++)
		if (parameq(p->name, name))
			return p;
	return NULL;
}

__attribute__((format(printf, 2, 0))) static void
vproblem(struct machine *m, const char *fmt, va_list ap)
{
	strbuf_puts(&m->params.problems, "kernel command line: ");
	strbuf_vprintf(&m->params.problems, fmt, ap);
	strbuf_putc(&m->params.problems, '\n');
}

__attribute__((format(printf, 2, 3))) static void
problem(struct machine *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(m, fmt, ap);
	va_end(ap);
}

void bootparam_problem(struct machine *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vproblem(m, fmt, ap);
	va_end(ap);
}

int bootparams_split(struct machine *m)
{
	strbuf_init(&m->params.problems);
	return cmdline_split(m->cmdline, &m->params.cl);
}

void bootparams_release(struct boot_params *bp)
{
	cmdline_free(&bp->cl);
	strbuf_release(&bp->problems);
}

void parse_early_params(struct machine *m)
{
	for (size_t i = 0; i < m->params.cl.nr; i++) {
		const struct cmdline_arg *a = &m->params.cl.args[i];
		const struct kparam *p = kparam_find(a->param);

		if (a->after_dashes || !p || p->kind != KP_EARLY || !p->set)
			continue;
		if (p->set(m, a->val)) {
			pr_warn(m, "Malformed early option '%s'\n", a->param);
			problem(m, "malformed early option '%s%s%s' (ignored)",
				a->param, a->val ? "=" : "",
				a->val ? a->val : "");
		}
	}
}

static void add_unknown(struct strbuf *sb, const struct cmdline_arg *a)
{
	if (sb->len)
		strbuf_putc(sb, ' ');
	strbuf_puts(sb, a->param);
	if (a->val)
		strbuf_printf(sb, "=%s", a->val);
}

void parse_late_params(struct machine *m)
{
	struct strbuf argv, envp;

	strbuf_init(&argv);
	strbuf_init(&envp);
	for (size_t i = 0; i < m->params.cl.nr; i++) {
		const struct cmdline_arg *a = &m->params.cl.args[i];
		const struct kparam *p = kparam_find(a->param);

		if (a->after_dashes)
			continue;
		if (p && p->kind != KP_EARLY && p->set && p->set(m, a->val)) {
			pr_err(m, "Booting kernel: `%s' invalid for parameter `%s'\n",
			       a->val ? a->val : "", a->param);
			problem(m, "`%s' invalid for parameter `%s'",
				a->val ? a->val : "", a->param);
		}
		if (p || strchr(a->param, '.') || !strcmp(a->param, "BOOT_IMAGE"))
			continue;
		add_unknown(a->val ? &envp : &argv, a);
	}
	if (argv.len && envp.len)
		strbuf_putc(&argv, ' ');
	if (envp.len)
		strbuf_add(&argv, envp.buf, envp.len);
	if (argv.len) {
		pr_notice(m, "Unknown kernel command line parameters \"%s\", will be passed to user space.\n",
			  argv.buf);
	}
	strbuf_release(&argv);
	strbuf_release(&envp);
}

const char *bootparam_get(struct machine *m, const char *name)
{
	const char *v = NULL;

	for (size_t i = 0; i < m->params.cl.nr; i++) {
		const struct cmdline_arg *a = &m->params.cl.args[i];

		if (!a->after_dashes && parameq(a->param, name))
			v = a->val ? a->val : "";
	}
	return v;
}
