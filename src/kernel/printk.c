/*
 * The kernel log (see printk.h). dmesg's format is util-linux's default:
 * "[%5lu.%06lu] text", and "<level>" in front with --raw.
 */
#include "kernel/printk.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/dmasim.h"
#include "kernel/machine.h"

int printk_init(struct printk_log *log, size_t limit)
{
	memset(log, 0, sizeof(*log));
	log->limit = limit;
	log->console_loglevel = CONSOLE_LOGLEVEL_DEF;
	if (pthread_mutex_init(&log->lock, NULL))
		return -ENOMEM;
	return 0;
}

void printk_destroy(struct printk_log *log)
{
	for (size_t i = 0; i < log->count; i++)
		free(log->recs[(log->first + i) % log->cap].text);
	free(log->recs);
	pthread_mutex_destroy(&log->lock);
}

static size_t record_cost(const struct printk_record *r)
{
	return strlen(r->text) + 16; /* text plus a header, as Linux counts */
}

static void drop_oldest(struct printk_log *log)
{
	struct printk_record *r = &log->recs[log->first];

	log->bytes -= record_cost(r);
	free(r->text);
	log->first = (log->first + 1) % log->cap;
	log->count--;
}

static bool make_room(struct printk_log *log, size_t cost)
{
	while (log->count && log->bytes + cost > log->limit)
		drop_oldest(log);
	if (log->count < log->cap)
		return true;
	size_t ncap = log->cap ? log->cap * 2 : 256;
	struct printk_record *n = malloc(ncap * sizeof(*n));

	if (!n)
		return false;
	for (size_t i = 0; i < log->count; i++)
		n[i] = log->recs[(log->first + i) % log->cap];
	free(log->recs);
	log->recs = n;
	log->cap = ncap;
	log->first = 0;
	return true;
}

void printk_set_limit(struct printk_log *log, size_t limit)
{
	pthread_mutex_lock(&log->lock);
	log->limit = limit;
	while (log->count && log->bytes > log->limit)
		drop_oldest(log);
	pthread_mutex_unlock(&log->lock);
}

static void store_line(struct printk_log *log, uint64_t ts, int level,
		       const char *text, size_t len)
{
	struct printk_record r = { .ts_ns = ts, .level = (uint8_t)level };

	r.text = malloc(len + 1);
	if (!r.text)
		return;
	memcpy(r.text, text, len);
	r.text[len] = '\0';
	pthread_mutex_lock(&log->lock);
	if (!make_room(log, record_cost(&r))) {
		pthread_mutex_unlock(&log->lock);
		free(r.text);
		return;
	}
	log->recs[(log->first + log->count) % log->cap] = r;
	log->count++;
	log->bytes += record_cost(&r);
	pthread_mutex_unlock(&log->lock);
}

void vmprintk(struct machine *m, const char *prefix, const char *fmt,
	      va_list ap)
{
	char line[LOG_LINE_MAX];
	int level = LOGLEVEL_DEFAULT;
	uint64_t ts = mclock_now(&m->clock);
	size_t n;
	char *p, *nl;

	if (prefix[0] == KERN_SOH[0] && prefix[1] >= '0' && prefix[1] <= '7') {
		level = prefix[1] - '0';
		prefix += 2;
	}
	n = (size_t)snprintf(line, sizeof(line), "%s", prefix);
	if (n < sizeof(line))
		vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	/* One record per line, as the log holds them. */
	for (p = line; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			store_line(&m->log, ts, level, p, strlen(p));
			break;
		}
		store_line(&m->log, ts, level, p, (size_t)(nl - p));
	}
}

void mprintk(struct machine *m, const char *prefix, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmprintk(m, prefix, fmt, ap);
	va_end(ap);
}

void printk_render(struct printk_log *log, struct strbuf *out,
		   unsigned int flags, unsigned int level_mask)
{
	pthread_mutex_lock(&log->lock);
	for (size_t i = 0; i < log->count; i++) {
		const struct printk_record *r =
			&log->recs[(log->first + i) % log->cap];
		unsigned long sec = (unsigned long)(r->ts_ns / 1000000000ULL);
		unsigned long usec =
			(unsigned long)(r->ts_ns % 1000000000ULL / 1000);

		if (!(level_mask & (1u << r->level)))
			continue;
		if (flags & DMASIM_DMESG_RAW)
			strbuf_printf(out, "<%d>", r->level);
		if (!(flags & DMASIM_DMESG_NOTIME))
			strbuf_printf(out, "[%5lu.%06lu] ", sec, usec);
		strbuf_printf(out, "%s\n", r->text);
	}
	pthread_mutex_unlock(&log->lock);
}

void ratelimit_init(struct ratelimit *rs, uint64_t interval_ns,
		    unsigned int burst)
{
	memset(rs, 0, sizeof(*rs));
	rs->interval_ns = interval_ns;
	rs->burst = burst;
	pthread_mutex_init(&rs->lock, NULL);
}

void ratelimit_destroy(struct ratelimit *rs)
{
	pthread_mutex_destroy(&rs->lock);
}

bool ratelimit_ok(struct machine *m, struct ratelimit *rs, const char *func)
{
	uint64_t now = mclock_now(&m->clock);
	unsigned int missed = 0;
	bool ok;

	pthread_mutex_lock(&rs->lock);
	if (!rs->started) {
		rs->started = true;
		rs->begin = now;
	}
	if (now - rs->begin >= rs->interval_ns) {
		missed = rs->missed;
		rs->begin = now;
		rs->printed = 0;
		rs->missed = 0;
	}
	ok = rs->printed < rs->burst;
	if (ok)
		rs->printed++;
	else
		rs->missed++;
	pthread_mutex_unlock(&rs->lock);
	if (missed)
		mprintk(m, KERN_WARNING, "%s: %u callbacks suppressed\n", func,
			missed);
	return ok;
}
