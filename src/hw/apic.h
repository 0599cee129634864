/*
 * The interrupt controller as MSI sees it: a device's MSI is a memory
 * write to 0xfee00000 | destination APIC id << 12 with the vector in the
 * data (Intel SDM vol. 3, 11.11). The local APIC of the destination CPU
 * raises that vector; the kernel's entry point for it was installed at
 * boot, as an IDT is.
 */
#ifndef DMASIM_HW_APIC_H
#define DMASIM_HW_APIC_H

#include <stdatomic.h>
#include <stdint.h>

#define APIC_MSI_BASE	0xfee00000ULL
#define APIC_MSI_MASK	0xfff00000ULL
#define APIC_DEST_SHIFT 12
#define FIRST_EXTERNAL_VECTOR 0x20
#define FIRST_DEVICE_VECTOR   0x21 /* after the legacy range */
#define FIRST_SYSTEM_VECTOR   0xec
#define NR_VECTORS	      256

struct machine;

typedef void (*apic_entry_fn)(struct machine *m, unsigned int cpu,
			      unsigned int vector);

struct apic {
	apic_entry_fn entry;
	_Atomic uint64_t spurious; /* no entry, or a malformed message */
};

static inline uint64_t apic_msi_address(unsigned int cpu)
{
	return APIC_MSI_BASE | (uint64_t)cpu << APIC_DEST_SHIFT;
}

/* A posted write of @data to @addr by a device. */
void apic_msi_write(struct machine *m, uint64_t addr, uint32_t data);

#endif
