/*
 * printk and the kernel log buffer: a bounded ring of records (timestamp,
 * level, text), read back as dmesg and the console print it. Levels and
 * the SOH-prefixed KERN_* markers are Linux's.
 */
#ifndef DMASIM_KERNEL_PRINTK_H
#define DMASIM_KERNEL_PRINTK_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/strbuf.h"

struct machine;

#define KERN_SOH     "\001"
#define KERN_EMERG   KERN_SOH "0"
#define KERN_ALERT   KERN_SOH "1"
#define KERN_CRIT    KERN_SOH "2"
#define KERN_ERR     KERN_SOH "3"
#define KERN_WARNING KERN_SOH "4"
#define KERN_NOTICE  KERN_SOH "5"
#define KERN_INFO    KERN_SOH "6"
#define KERN_DEBUG   KERN_SOH "7"

#define LOGLEVEL_DEFAULT     4 /* a message with no level: KERN_WARNING */
#define CONSOLE_LOGLEVEL_DEF 7
#define LOG_BUF_LEN_DEFAULT  (256u * 1024u) /* CONFIG_LOG_BUF_SHIFT=18 */
#define LOG_LINE_MAX	     992

struct printk_record {
	uint64_t ts_ns;
	uint8_t level;
	char *text;
};

struct printk_log {
	pthread_mutex_t lock;
	struct printk_record *recs; /* circular */
	size_t cap, first, count;
	size_t bytes, limit;	    /* text bytes held, log_buf_len */
	int console_loglevel;
};

int printk_init(struct printk_log *log, size_t limit);
void printk_destroy(struct printk_log *log);
/* Change log_buf_len; older records are dropped if they no longer fit. */
void printk_set_limit(struct printk_log *log, size_t limit);

__attribute__((format(printf, 3, 4))) void
mprintk(struct machine *m, const char *prefix, const char *fmt, ...);
__attribute__((format(printf, 3, 0))) void
vmprintk(struct machine *m, const char *prefix, const char *fmt, va_list ap);

/*
 * pr_*(m, fmt, ...): a file may define PR_PREFIX (Linux's pr_fmt prefix,
 * e.g. "DMAR: ") before including this header.
 */
#ifndef PR_PREFIX
#define PR_PREFIX ""
#endif
#define pr_emerg(m, ...)  mprintk(m, KERN_EMERG PR_PREFIX, __VA_ARGS__)
#define pr_alert(m, ...)  mprintk(m, KERN_ALERT PR_PREFIX, __VA_ARGS__)
#define pr_crit(m, ...)	  mprintk(m, KERN_CRIT PR_PREFIX, __VA_ARGS__)
#define pr_err(m, ...)	  mprintk(m, KERN_ERR PR_PREFIX, __VA_ARGS__)
#define pr_warn(m, ...)	  mprintk(m, KERN_WARNING PR_PREFIX, __VA_ARGS__)
#define pr_notice(m, ...) mprintk(m, KERN_NOTICE PR_PREFIX, __VA_ARGS__)
#define pr_info(m, ...)	  mprintk(m, KERN_INFO PR_PREFIX, __VA_ARGS__)
#define pr_debug(m, ...)  mprintk(m, KERN_DEBUG PR_PREFIX, __VA_ARGS__)

/* Render the log dmesg-style (DMASIM_DMESG_* flags, a mask of levels). */
void printk_render(struct printk_log *log, struct strbuf *out,
		   unsigned int flags, unsigned int level_mask);

/* Linux's ratelimit_state: @burst messages per @interval_ns. */
struct ratelimit {
	uint64_t interval_ns;
	unsigned int burst;
	uint64_t begin;
	unsigned int printed, missed;
	bool started;
	pthread_mutex_t lock;
};
void ratelimit_init(struct ratelimit *rs, uint64_t interval_ns,
		    unsigned int burst);
void ratelimit_destroy(struct ratelimit *rs);
/* True if the caller may print; logs "<func>: N callbacks suppressed". */
bool ratelimit_ok(struct machine *m, struct ratelimit *rs, const char *func);

#endif
