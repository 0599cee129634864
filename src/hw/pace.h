/*
 * Modelled device speed: a bandwidth and a per-operation latency, kept
 * in real time. An engine calls pace_op() after moving the data of an
 * operation; it sleeps until the modelled device would have finished, so
 * a run reaches the modelled bandwidth (as long as the host is faster)
 * and the engine thread is idle, not spinning, while it waits.
 */
#ifndef DMASIM_HW_PACE_H
#define DMASIM_HW_PACE_H

#include <stddef.h>
#include <stdint.h>

struct pace {
	uint64_t bytes_per_sec;	/* 0: as fast as the host goes */
	uint64_t latency_ns;	/* per operation */
	uint64_t busy_until_ns;	/* CLOCK_MONOTONIC */
};

void pace_init(struct pace *p, uint64_t bytes_per_sec, uint64_t latency_ns);
/* Nanoseconds the modelled device takes for @bytes (latency included). */
uint64_t pace_cost_ns(const struct pace *p, uint64_t bytes);
/* Account one operation of @bytes that started at @start_ns; sleep until
 * it is due. Returns the time it completes. */
uint64_t pace_op(struct pace *p, uint64_t start_ns, uint64_t bytes);
uint64_t pace_now_ns(void);
/* Sleep until an absolute CLOCK_MONOTONIC time. */
void pace_sleep_until(uint64_t t_ns);

/* "133M", "600MB/s", "3.5G", "unlimited" (0): decimal bytes per second.
 * 0 or -1 (err says why). */
int pace_parse_rate(const char *s, uint64_t *bps, char *err, size_t errlen);
/* "500ns", "5us", "1ms", "0": nanoseconds. */
int pace_parse_time(const char *s, uint64_t *ns, char *err, size_t errlen);

#endif
