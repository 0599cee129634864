/*
 * The machine clock: nanoseconds since boot. Host mode follows the host's
 * monotonic clock; virtual mode moves only when told, so logs repeat.
 */
#ifndef DMASIM_KERNEL_CLOCK_H
#define DMASIM_KERNEL_CLOCK_H

#include <stdatomic.h>
#include <stdint.h>

#include "dmasim/dmasim.h"

struct mclock {
	enum dmasim_clock mode;
	uint64_t boot_host_ns;	   /* host monotonic time at boot */
	_Atomic uint64_t virt_ns; /* virtual time, or an offset added in host mode */
};

uint64_t host_monotonic_ns(void);
void mclock_init(struct mclock *c, enum dmasim_clock mode);
uint64_t mclock_now(struct mclock *c);
void mclock_advance(struct mclock *c, uint64_t ns);

#endif
