/* Modelled bandwidth and latency in real time (see pace.h). */
#include "hw/pace.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t pace_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void pace_sleep_until(uint64_t t)
{
	struct timespec ts = { (time_t)(t / 1000000000ULL),
			       (long)(t % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	       EINTR)
		;
}

void pace_init(struct pace *p, uint64_t bytes_per_sec, uint64_t latency_ns)
{
	p->bytes_per_sec = bytes_per_sec;
	p->latency_ns = latency_ns;
	p->busy_until_ns = 0;
}

uint64_t pace_cost_ns(const struct pace *p, uint64_t bytes)
{
	uint64_t t = p->latency_ns;

	if (p->bytes_per_sec)
		t += (uint64_t)((double)bytes * 1e9 / (double)p->bytes_per_sec);
	return t;
}

uint64_t pace_op(struct pace *p, uint64_t start_ns, uint64_t bytes)
{
	uint64_t begin = start_ns > p->busy_until_ns ? start_ns : p->busy_until_ns;
	uint64_t end = begin + pace_cost_ns(p, bytes);

	if (!p->bytes_per_sec && !p->latency_ns)
		return start_ns;
	p->busy_until_ns = end;
	if (end > pace_now_ns())
		pace_sleep_until(end);
	return end;
}

static int parse_number(const char *s, double *v, const char **rest)
{
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	if (end == s || errno || !isfinite(*v) || *v < 0)
		return -1;
	*rest = end;
	return 0;
}

int pace_parse_rate(const char *s, uint64_t *bps, char *err, size_t errlen)
{
	static const struct { const char *suf; double mul; } units[] = {
		{ "", 1 }, { "K", 1e3 }, { "M", 1e6 }, { "G", 1e9 },
		{ "KB/s", 1e3 }, { "MB/s", 1e6 }, { "GB/s", 1e9 },
		{ "B/s", 1 },
	};
	const char *rest;
	double v;

	if (!strcmp(s, "unlimited") || !strcmp(s, "0")) {
		*bps = 0;
		return 0;
	}
	if (parse_number(s, &v, &rest) == 0)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(rest, units[i].suf) && v * units[i].mul >= 1 &&
			    v * units[i].mul < 1e13) {
				*bps = (uint64_t)(v * units[i].mul);
				return 0;
			}
	snprintf(err, errlen,
		 "'%s' is not a bandwidth: use e.g. 133M, 600MB/s, 3.5G (bytes per second, decimal) or unlimited",
		 s);
	return -1;
}

int pace_parse_time(const char *s, uint64_t *ns, char *err, size_t errlen)
{
	static const struct { const char *suf; double mul; } units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 },
	};
	const char *rest;
	double v;

	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	if (parse_number(s, &v, &rest) == 0)
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
			if (!strcmp(rest, units[i].suf) && v * units[i].mul < 1e11) {
				*ns = (uint64_t)(v * units[i].mul);
				return 0;
			}
	snprintf(err, errlen,
		 "'%s' is not a time: use e.g. 500ns, 5us, 1ms (at most 100s)", s);
	return -1;
}
