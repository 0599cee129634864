/* Interrupt handlers as Linux drivers register them (linux/interrupt.h). */
#ifndef DMASIM_LINUX_INTERRUPT_H
#define DMASIM_LINUX_INTERRUPT_H

#include "types.h"

typedef enum irqreturn {
	IRQ_NONE = 0,
	IRQ_HANDLED = 1,
	IRQ_WAKE_THREAD = 2,
} irqreturn_t;

typedef irqreturn_t (*irq_handler_t)(int irq, void *dev_id);

#define IRQF_SHARED 0x00000080

/* Handlers run in interrupt context: on the thread of the device that
 * raised the interrupt, counted on the CPU the vector targets. */
int request_irq(unsigned int irq, irq_handler_t handler, unsigned long flags,
		const char *name, void *dev_id);
/* Returns the name given to request_irq, or NULL if @dev_id had none. */
const void *free_irq(unsigned int irq, void *dev_id);
/* Wait until no handler of @irq runs. */
void synchronize_irq(unsigned int irq);

#endif
