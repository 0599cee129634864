/*
 * Interrupt descriptors: Linux numbers (MSI interrupts from 24 up, after
 * the IOAPIC's pins), per-CPU vectors, per-CPU counts for
 * /proc/interrupts, and the actions drivers register with request_irq.
 */
#ifndef DMASIM_KERNEL_IRQ_H
#define DMASIM_KERNEL_IRQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "dmasim/linux/interrupt.h"

#define NR_IRQS	       512
#define FIRST_MSI_IRQ  24

struct machine;

struct irqaction {
	irq_handler_t handler;
	void *dev_id;
	char name[48];
};

struct irq_desc {
	bool allocated;
	unsigned int cpu, vector;
	unsigned long hwirq;
	char chip[12];			/* "PCI-MSI" */
	_Atomic(struct irqaction *) action;
	_Atomic int running;		/* handlers executing now */
	_Atomic unsigned long *kstat;	/* per CPU */
	_Atomic unsigned long unhandled;
};

struct irq_state {
	struct irq_desc desc[NR_IRQS];
	_Atomic int16_t *vector_irq;	/* [cpu * 256 + vector] -> irq or -1 */
	unsigned int next_cpu;		/* round-robin placement */
	_Atomic unsigned long err_count;
	pthread_mutex_t lock;
};

int irq_init(struct machine *m);
void irq_destroy(struct machine *m);
/*
 * Allocate @n (a power of two) consecutive interrupts with an aligned
 * block of vectors on one CPU, named by @chip and @hwirq (the first).
 * Returns the first irq number or -ENOSPC.
 */
int irq_alloc_msi(struct machine *m, unsigned int n, const char *chip,
		  unsigned long hwirq);
void irq_free_msi(struct machine *m, unsigned int irq, unsigned int n);
struct irq_desc *irq_to_desc(struct machine *m, unsigned int irq);
/* Total interrupts taken by @irq on all CPUs. */
unsigned long irq_count(struct machine *m, unsigned int irq);

#endif
