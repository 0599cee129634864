/*
 * Interrupts (see irq.h). The entry point the local APIC calls looks the
 * vector up, counts it on the CPU and runs the action. free_irq removes
 * the action and then waits for handlers in flight, so after it returns
 * no handler of that driver runs.
 */
#include "kernel/irq.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/apic.h"
#include "kernel/machine.h"

struct irq_desc *irq_to_desc(struct machine *m, unsigned int irq)
{
	if (!m || irq >= NR_IRQS || !m->irq.desc[irq].allocated)
		return NULL;
	return &m->irq.desc[irq];
}

static void irq_entry(struct machine *m, unsigned int cpu, unsigned int vector)
{
	int irq = atomic_load_explicit(
		&m->irq.vector_irq[cpu * NR_VECTORS + vector], memory_order_acquire);
	struct irq_desc *d;
	struct irqaction *a;

	if (irq < 0) {
		atomic_fetch_add(&m->irq.err_count, 1);
		return;
	}
	d = &m->irq.desc[irq];
	atomic_fetch_add_explicit(&d->kstat[cpu], 1, memory_order_relaxed);
	atomic_fetch_add(&d->running, 1);
	a = atomic_load(&d->action);
	if (!a || a->handler(irq, a->dev_id) == IRQ_NONE)
		atomic_fetch_add_explicit(&d->unhandled, 1,
					  memory_order_relaxed);
	atomic_fetch_sub(&d->running, 1);
}

int irq_init(struct machine *m)
{
	m->irq.vector_irq = malloc(sizeof(*m->irq.vector_irq) * NR_VECTORS * m->nr_cpus);
	if (!m->irq.vector_irq)
		return -ENOMEM;
	for (size_t i = 0; i < (size_t)NR_VECTORS * m->nr_cpus; i++)
		m->irq.vector_irq[i] = -1;
	pthread_mutex_init(&m->irq.lock, NULL);
	m->apic.entry = irq_entry;
	return 0;
}

void irq_destroy(struct machine *m)
{
	m->apic.entry = NULL;
	for (unsigned int i = 0; i < NR_IRQS; i++) {
		free(atomic_load(&m->irq.desc[i].action));
		free((void *)m->irq.desc[i].kstat);
	}
	free((void *)m->irq.vector_irq);
	if (m->irq.vector_irq)
		pthread_mutex_destroy(&m->irq.lock);
}

/* An aligned block of @n free vectors on @cpu, or -1. */
static int find_vectors(struct machine *m, unsigned int cpu, unsigned int n)
{
	_Atomic int16_t *v = m->irq.vector_irq + (size_t)cpu * NR_VECTORS;

	for (unsigned int base = FIRST_DEVICE_VECTOR; base + n <= FIRST_SYSTEM_VECTOR;
	     base++) {
		unsigned int i;

		if (base & (n - 1))
			continue;
		for (i = 0; i < n && v[base + i] < 0; i++)
			;
		if (i == n)
			return (int)base;
	}
	return -1;
}

static int find_irqs(struct machine *m, unsigned int n)
{
	for (unsigned int irq = FIRST_MSI_IRQ; irq + n <= NR_IRQS; irq++) {
		unsigned int i;

		for (i = 0; i < n && !m->irq.desc[irq + i].allocated; i++)
			;
		if (i == n)
			return (int)irq;
	}
	return -1;
}

static int setup_desc(struct machine *m, unsigned int irq, unsigned int cpu,
		      unsigned int vector, const char *chip,
		      unsigned long hwirq)
{
	struct irq_desc *d = &m->irq.desc[irq];

	if (!d->kstat) {
		d->kstat = calloc(m->nr_cpus, sizeof(*d->kstat));
		if (!d->kstat)
			return -ENOMEM;
	}
	d->allocated = true;
	d->cpu = cpu;
	d->vector = vector;
	d->hwirq = hwirq;
	snprintf(d->chip, sizeof(d->chip), "%s", chip);
	m->irq.vector_irq[(size_t)cpu * NR_VECTORS + vector] = (int16_t)irq;
	return 0;
}

int irq_alloc_msi(struct machine *m, unsigned int n, const char *chip,
		  unsigned long hwirq)
{
	int irq = -ENOSPC;

	if (!n || (n & (n - 1)))
		return -EINVAL;
	pthread_mutex_lock(&m->irq.lock);
	for (unsigned int tries = 0; tries < m->nr_cpus; tries++) {
		unsigned int cpu = m->irq.next_cpu++ % m->nr_cpus;
		int vec = find_vectors(m, cpu, n), first = find_irqs(m, n);

		if (vec < 0 || first < 0)
			continue;
		for (unsigned int i = 0; i < n; i++)
			if (setup_desc(m, (unsigned)first + i, cpu,
				       (unsigned)vec + i, chip, hwirq + i)) {
				first = -ENOMEM;
				break;
			}
		irq = first;
		break;
	}
	pthread_mutex_unlock(&m->irq.lock);
	return irq;
}

void irq_free_msi(struct machine *m, unsigned int irq, unsigned int n)
{
	pthread_mutex_lock(&m->irq.lock);
	for (unsigned int i = irq; i < irq + n && i < NR_IRQS; i++) {
		struct irq_desc *d = &m->irq.desc[i];

		if (!d->allocated)
			continue;
		m->irq.vector_irq[(size_t)d->cpu * NR_VECTORS + d->vector] = -1;
		d->allocated = false;
	}
	pthread_mutex_unlock(&m->irq.lock);
}

unsigned long irq_count(struct machine *m, unsigned int irq)
{
	struct irq_desc *d = irq_to_desc(m, irq);
	unsigned long sum = 0;

	for (unsigned int c = 0; d && c < m->nr_cpus; c++)
		sum += atomic_load_explicit(&d->kstat[c], memory_order_relaxed);
	return sum;
}

int request_irq(unsigned int irq, irq_handler_t handler, unsigned long flags,
		const char *name, void *dev_id)
{
	struct machine *m = current_machine();
	struct irq_desc *d = irq_to_desc(m, irq);
	struct irqaction *a, *expected = NULL;

	(void)flags;
	if (!d || !handler)
		return -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->handler = handler;
	a->dev_id = dev_id;
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "");
	if (!atomic_compare_exchange_strong(&d->action, &expected, a)) {
		free(a);
		return -EBUSY; /* no sharing of MSI vectors */
	}
	return 0;
}

void synchronize_irq(unsigned int irq)
{
	struct irq_desc *d = irq_to_desc(current_machine(), irq);

	while (d && atomic_load(&d->running))
		sched_yield();
}

const void *free_irq(unsigned int irq, void *dev_id)
{
	struct machine *m = current_machine();
	struct irq_desc *d = irq_to_desc(m, irq);
	struct irqaction *a;
	static const char unnamed[] = "";

	if (!d)
		return NULL;
	a = atomic_load(&d->action);
	if (!a || a->dev_id != dev_id) {
		pr_warn(m, "Trying to free already-free IRQ %u\n", irq);
		return NULL;
	}
	atomic_store(&d->action, NULL);
	while (atomic_load(&d->running))
		sched_yield();
	free(a);
	/* Linux returns the devname; the action is gone here */
	return unnamed;
}
