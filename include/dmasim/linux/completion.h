/*
 * Completions (linux/completion.h): a waiter sleeps, without polling,
 * until another thread (an interrupt handler, usually) completes.
 */
#ifndef DMASIM_LINUX_COMPLETION_H
#define DMASIM_LINUX_COMPLETION_H

#include <pthread.h>

#include "jiffies.h"
#include "types.h"

struct completion {
	unsigned int done;
	pthread_mutex_t lock;
	pthread_cond_t wait;
};

void init_completion(struct completion *x);
void reinit_completion(struct completion *x);
void complete(struct completion *x);
void complete_all(struct completion *x);
void wait_for_completion(struct completion *x);
/* 0 on timeout, else the jiffies left (at least 1). */
unsigned long wait_for_completion_timeout(struct completion *x,
					  unsigned long timeout);
bool try_wait_for_completion(struct completion *x);
bool completion_done(struct completion *x);

#endif
