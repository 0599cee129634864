/*
 * CPUs of a machine. A host thread that enters a machine takes a free CPU
 * id of it (the lowest), as a task runs on a CPU; the id indexes per-CPU
 * structures. The binding is the thread's own (thread-local), like
 * Linux's "current": no state is shared between machines.
 */
#include <errno.h>
#include <pthread.h>

#include "kernel/machine.h"
#include "kernel/page_alloc.h"

static _Thread_local struct machine *tls_machine;
static _Thread_local int tls_cpu = -1;
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

/* A thread that exits inside a machine leaves it: its CPU is freed and
 * its per-CPU pages go back (the machine must still exist). */
static void thread_exit(void *arg)
{
	(void)arg;
	dmasim_enter(NULL);
}

static void make_exit_key(void)
{
	pthread_key_create(&exit_key, thread_exit);
}

struct machine *current_machine(void)
{
	return tls_machine;
}

int current_cpu(void)
{
	return tls_cpu;
}

struct dmasim_machine *dmasim_current(void)
{
	return (struct dmasim_machine *)tls_machine;
}

int dmasim_cpu_id(void)
{
	return tls_cpu;
}

static void cpu_release(struct machine *m, int cpu)
{
	uint64_t bit = 1ULL << (cpu % 64);

	atomic_fetch_and(&m->cpu_used[cpu / 64], ~bit);
}

/* The lowest free CPU id, or -EBUSY if all are taken: a thread beyond the
 * machine's CPU count still works, without per-CPU caches (id -1). */
static int cpu_claim(struct machine *m)
{
	for (unsigned int cpu = 0; cpu < m->nr_cpus; cpu++) {
		uint64_t bit = 1ULL << (cpu % 64);
		uint64_t old = atomic_fetch_or(&m->cpu_used[cpu / 64], bit);

		if (!(old & bit))
			return (int)cpu;
	}
	return -EBUSY;
}

struct dmasim_machine *dmasim_enter(struct dmasim_machine *dm)
{
	struct machine *prev = tls_machine, *m = (struct machine *)dm;

	if (prev == m)
		return dm;
	if (prev && tls_cpu >= 0) {
		/* A CPU going offline gives its per-CPU pages back. */
		mm_drain_local_pages(prev);
		cpu_release(prev, tls_cpu);
	}
	tls_machine = m;
	tls_cpu = -1;
	pthread_once(&exit_key_once, make_exit_key);
	pthread_setspecific(exit_key, m);
	if (m) {
		int cpu = cpu_claim(m);

		tls_cpu = cpu >= 0 ? cpu : -1;
	}
	return (struct dmasim_machine *)prev;
}

void cpu_ctx_switch(struct machine *m, struct cpu_ctx *save)
{
	save->m = tls_machine;
	save->cpu = tls_cpu;
	tls_machine = m;
	tls_cpu = -1;
}

void cpu_ctx_restore(const struct cpu_ctx *save)
{
	tls_machine = save->m;
	tls_cpu = save->cpu;
}
