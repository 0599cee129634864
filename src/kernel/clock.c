/* The machine clock and its virtual timers (see clock.h). */
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
	pthread_mutex_init(&c->tlock, NULL);
	pthread_mutex_init(&c->run_lock, NULL);
	c->timers = NULL;
}

void mclock_destroy(struct mclock *c)
{
	pthread_mutex_destroy(&c->tlock);
	pthread_mutex_destroy(&c->run_lock);
}

uint64_t mclock_now(struct mclock *c)
{
	uint64_t v = atomic_load_explicit(&c->virt_ns, memory_order_relaxed);

	if (c->mode == DMASIM_CLOCK_VIRTUAL)
		return v;
	return host_monotonic_ns() - c->boot_host_ns + v;
}

/* Unlink and return an armed timer that has expired by @now, or NULL. */
static struct vtimer *pop_expired(struct mclock *c, uint64_t now)
{
	struct vtimer **pp, *t = NULL;

	pthread_mutex_lock(&c->tlock);
	for (pp = &c->timers; *pp; pp = &(*pp)->next) {
		if ((*pp)->expires <= now) {
			t = *pp;
			*pp = t->next;
			t->pending = false;
			break;
		}
	}
	pthread_mutex_unlock(&c->tlock);
	return t;
}

void mclock_advance(struct mclock *c, uint64_t ns)
{
	struct vtimer *t;
	uint64_t now;

	if (c->mode != DMASIM_CLOCK_VIRTUAL)
		return;
	now = atomic_fetch_add_explicit(&c->virt_ns, ns, memory_order_relaxed) + ns;
	pthread_mutex_lock(&c->run_lock);
	while ((t = pop_expired(c, now)))
		t->fn(t->arg);
	pthread_mutex_unlock(&c->run_lock);
}

void vtimer_arm(struct mclock *c, struct vtimer *t, uint64_t expires)
{
	pthread_mutex_lock(&c->tlock);
	if (!t->pending) {
		t->expires = expires;
		t->pending = true;
		t->next = c->timers;
		c->timers = t;
	}
	pthread_mutex_unlock(&c->tlock);
}

void vtimer_cancel(struct mclock *c, struct vtimer *t)
{
	pthread_mutex_lock(&c->run_lock);
	pthread_mutex_lock(&c->tlock);
	for (struct vtimer **pp = &c->timers; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	t->pending = false;
	pthread_mutex_unlock(&c->tlock);
	pthread_mutex_unlock(&c->run_lock);
}
