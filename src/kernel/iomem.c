/*
 * The physical address space as /proc/iomem shows it on a PC: e820 RAM
 * and reserved ranges from the kernel's map, the kernel image sections
 * inside System RAM, the legacy VGA window and the PCI hole's window, and
 * the fixed chipset ranges (IOAPIC, HPET, local APIC).
 */
#include "kernel/iomem.h"

#include <errno.h>

#include "dmasim/hw/amdvi.h"
#include "hw/amdvi.h"
#include "kernel/iommu/amd.h"
#include "kernel/machine.h"

struct fixed_range {
	uint64_t start, end;
	const char *name;
};

static const struct fixed_range kernel_sections[] = {
	{ 0x01000000, 0x01e01d31, "Kernel code" },
	{ 0x02000000, 0x028eafff, "Kernel rodata" },
	{ 0x02a00000, 0x02c4897f, "Kernel data" },
	{ 0x03310000, 0x043fffff, "Kernel bss" },
};

static const struct fixed_range chipset[] = {
	{ 0x000a0000, 0x000bffff, "PCI Bus 0000:00" },
	{ 0x000f0000, 0x000fffff, "System ROM" },
	{ 0xfec00000, 0xfec003ff, "IOAPIC 0" },
	{ 0xfed00000, 0xfed003ff, "HPET 0" },
	{ 0xfee00000, 0xfee00fff, "Local APIC" },
};

static int add(struct machine *m, uint64_t s, uint64_t e, const char *name)
{
	return insert_resource(&m->iomem, s, e, name) ? 0 : -ENOMEM;
}

int iomem_init(struct machine *m)
{
	const struct e820_table *t = &m->e820_kern;
	uint64_t low_end = e820_ram_end(t, RAM_LOW_LIMIT);
	int err = 0;

	for (unsigned int i = 0; i < t->nr && !err; i++)
		err = add(m, t->map[i].addr, t->map[i].addr + t->map[i].size - 1,
			  t->map[i].type == E820_TYPE_RAM ? "System RAM"
							  : "Reserved");
	for (size_t i = 0; i < sizeof(chipset) / sizeof(chipset[0]) && !err; i++)
		err = add(m, chipset[i].start, chipset[i].end, chipset[i].name);
	/* The PCI window: from the end of low RAM (rounded up to 256 MiB) to
	 * below the IOAPIC. */
	if (!err) {
		uint64_t win = (low_end + 0xfffffff) & ~0xfffffffULL;

		if (win < 0xc0000000)
			win = 0xc0000000;
		err = add(m, win, 0xfebfffff, "PCI Bus 0000:00");
	}
	if (!err && m->iommu_units && amdvi_is_unit(m->iommu_units))
		err = add(m, AMDVI_REG_BASE, AMDVI_REG_BASE + AMDVI_MMIO_SIZE - 1,
			  "amd_iommu");
	else if (!err && m->iommu_units)
		err = add(m, 0xfed90000ULL, 0xfed90fffULL, "dmar0");
	for (size_t i = 0; i < sizeof(kernel_sections) / sizeof(kernel_sections[0]) && !err; i++)
		err = add(m, kernel_sections[i].start, kernel_sections[i].end,
			  kernel_sections[i].name);
	return err;
}
