/* Completions on a mutex and condition variable (see completion.h). */
#include "dmasim/linux/completion.h"

#include <errno.h>
#include <time.h>

void init_completion(struct completion *x)
{
	pthread_condattr_t a;

	x->done = 0;
	pthread_mutex_init(&x->lock, NULL);
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	pthread_cond_init(&x->wait, &a);
	pthread_condattr_destroy(&a);
}

void reinit_completion(struct completion *x)
{
	pthread_mutex_lock(&x->lock);
	x->done = 0;
	pthread_mutex_unlock(&x->lock);
}

void complete(struct completion *x)
{
	pthread_mutex_lock(&x->lock);
	if (x->done != UINT32_MAX)
		x->done++;
	pthread_cond_signal(&x->wait);
	pthread_mutex_unlock(&x->lock);
}

void complete_all(struct completion *x)
{
	pthread_mutex_lock(&x->lock);
	x->done = UINT32_MAX;
	pthread_cond_broadcast(&x->wait);
	pthread_mutex_unlock(&x->lock);
}

static void take(struct completion *x)
{
	if (x->done != UINT32_MAX)
		x->done--;
}

void wait_for_completion(struct completion *x)
{
	pthread_mutex_lock(&x->lock);
	while (!x->done)
		pthread_cond_wait(&x->wait, &x->lock);
	take(x);
	pthread_mutex_unlock(&x->lock);
}

unsigned long wait_for_completion_timeout(struct completion *x,
					  unsigned long timeout)
{
	struct timespec now, end;
	uint64_t ns = (uint64_t)jiffies_to_msecs(timeout) * 1000000ULL;
	unsigned long left = timeout ? timeout : 1;
	int ret = 0;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += (time_t)(ns / 1000000000ULL);
	end.tv_nsec += (long)(ns % 1000000000ULL);
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&x->lock);
	while (!x->done && ret != ETIMEDOUT)
		ret = pthread_cond_timedwait(&x->wait, &x->lock, &end);
	if (!x->done) {
		pthread_mutex_unlock(&x->lock);
		return 0;
	}
	take(x);
	pthread_mutex_unlock(&x->lock);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (now.tv_sec < end.tv_sec ||
	    (now.tv_sec == end.tv_sec && now.tv_nsec < end.tv_nsec)) {
		uint64_t rem = (uint64_t)(end.tv_sec - now.tv_sec) * 1000000000ULL +
			       (uint64_t)(end.tv_nsec - now.tv_nsec);

		left = msecs_to_jiffies((unsigned int)(rem / 1000000ULL));
	}
	return left ? left : 1;
}

bool try_wait_for_completion(struct completion *x)
{
	bool ok;

	pthread_mutex_lock(&x->lock);
	ok = x->done != 0;
	if (ok)
		take(x);
	pthread_mutex_unlock(&x->lock);
	return ok;
}

bool completion_done(struct completion *x)
{
	bool done;

	pthread_mutex_lock(&x->lock);
	done = x->done != 0;
	pthread_mutex_unlock(&x->lock);
	return done;
}
