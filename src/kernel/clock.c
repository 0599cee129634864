/* The machine clock (see clock.h). */
#include "kernel/clock.h"

#include <time.h>

uint64_t host_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void mclock_init(struct mclock *c, enum dmasim_clock mode)
{
	c->mode = mode;
	c->boot_host_ns = host_monotonic_ns();
	atomic_init(&c->virt_ns, 0);
}

uint64_t mclock_now(struct mclock *c)
{
	uint64_t v = atomic_load_explicit(&c->virt_ns, memory_order_relaxed);

	if (c->mode == DMASIM_CLOCK_VIRTUAL)
		return v;
	return host_monotonic_ns() - c->boot_host_ns + v;
}

void mclock_advance(struct mclock *c, uint64_t ns)
{
	if (c->mode == DMASIM_CLOCK_VIRTUAL)
		atomic_fetch_add_explicit(&c->virt_ns, ns,
					  memory_order_relaxed);
}
