/*
 * The machine clock: nanoseconds since boot. Host mode follows the host's
 * monotonic clock; virtual mode moves only when told, so logs repeat.
 *
 * Virtual timers: on a virtual clock, kernel timers (the flush queue's
 * 10 ms timer) cannot wait on the host's time; they are armed here and
 * fire on the thread that advances the clock past their expiry, so a run
 * is the same every time.
 */
#ifndef DMASIM_KERNEL_CLOCK_H
#define DMASIM_KERNEL_CLOCK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dmasim/dmasim.h"

struct vtimer {
	uint64_t expires;	   /* machine ns */
	void (*fn)(void *arg);
	void *arg;
	struct vtimer *next;	   /* armed timers (under the clock's lock) */
	bool pending;
};

struct mclock {
	enum dmasim_clock mode;
	uint64_t boot_host_ns;	   /* host monotonic time at boot */
	_Atomic uint64_t virt_ns; /* virtual time, or an offset added in host mode */
	pthread_mutex_t tlock;	   /* the armed timers */
	pthread_mutex_t run_lock;  /* held while expired timers run */
	struct vtimer *timers;
};

uint64_t host_monotonic_ns(void);
void mclock_init(struct mclock *c, enum dmasim_clock mode);
void mclock_destroy(struct mclock *c);
uint64_t mclock_now(struct mclock *c);
/* Advance a virtual clock; timers that expire run on this thread. */
void mclock_advance(struct mclock *c, uint64_t ns);
static inline bool mclock_is_virtual(const struct mclock *c)
{
	return c->mode == DMASIM_CLOCK_VIRTUAL;
}

/* Arm @t (fn and arg set) to fire at @expires; no effect if pending. */
void vtimer_arm(struct mclock *c, struct vtimer *t, uint64_t expires);
/* Disarm @t; waits for it if it is running on another thread. */
void vtimer_cancel(struct mclock *c, struct vtimer *t);

#endif
