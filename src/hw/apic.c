/* MSI delivery (see apic.h). */
#include "hw/apic.h"

#include "kernel/machine.h"

void apic_msi_write(struct machine *m, uint64_t addr, uint32_t data)
{
	unsigned int cpu = (unsigned int)(addr >> APIC_DEST_SHIFT) & 0xff;
	unsigned int vector = data & 0xff;

	if ((addr & APIC_MSI_MASK) != APIC_MSI_BASE || cpu >= m->nr_cpus ||
	    vector < FIRST_EXTERNAL_VECTOR || !m->apic.entry) {
		atomic_fetch_add_explicit(&m->apic.spurious, 1,
					  memory_order_relaxed);
		return;
	}
	m->apic.entry(m, cpu, vector);
}
