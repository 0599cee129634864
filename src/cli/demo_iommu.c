/*
 * The tour's IOMMU step: the same machine booted with intel_iommu=on, its
 * boot lines and groups, then a device that reaches only what a driver
 * mapped for it: its read of the mapped buffer works, its write to that
 * read-only mapping and its read of another kernel page by physical
 * address are blocked, and the kernel logs the DMAR fault lines.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/demo.h"
#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "cli/vfio_story.h"
#include "kernel/machine.h"

#define DEV "0000:00:01.0"

static void show_lines(struct dmasim_machine *m, const char *const *keep,
		       const char *since)
{
	char *log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	char *line, *save = NULL, *from = log && since ? strstr(log, since) : log;

	while (from && from > log && from[-1] != '\n')
		from--; /* the whole line that holds @since */

	for (line = from ? strtok_r(from, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save))
		for (int i = 0; keep[i]; i++)
			if (strstr(line, keep[i])) {
				printf("  %s\n", line);
				break;
			}
	free(log);
}

static const char *result(int r)
{
	return r == 0 ? "allowed" : r == -EIO ? "BLOCKED" : "refused";
}

static void confinement(struct dmasim_machine *m, bool amd)
{
	static const char *const dmar[] = { "DMAR: DRHD: handling",
					    "DMAR: [DMA", NULL };
	static const char *const ivhd[] = { "AMD-Vi: Event logged", NULL };
	const char *const *faults = amd ? ivhd : dmar;
	struct device *dev = dmasim_pci_device(m, DEV);
	struct page *buf = alloc_page(GFP_KERNEL), *secret = alloc_page(GFP_KERNEL);
	dma_addr_t a;
	char got[16] = "";
	int r1, r2, r3;

	pci_set_master(to_pci_dev(dev)); /* the driver lets it master the bus */
	strcpy(page_address(buf), "for the device");
	strcpy(page_address(secret), "kernel secret");
	a = dma_map_single(dev, page_address(buf), 64, DMA_TO_DEVICE);
	r1 = dmasim_bus_read(m, DEV, a, got, 15);
	r2 = dmasim_bus_write(m, DEV, a, "overwrite", 9);
	r3 = dmasim_bus_read(m, DEV, page_to_phys(secret), got + 15, 1);
	{
		char l1[64], l3[64];

		snprintf(l1, sizeof(l1), "read  the mapped buffer at %#llx",
			 (unsigned long long)a);
		snprintf(l3, sizeof(l3), "read  another kernel page at %#llx",
			 (unsigned long long)page_to_phys(secret));
		printf("A driver maps one buffer for the device at %s (TO_DEVICE: the\n"
		       "device may read it). The DMA address is an IOVA, %#llx, not the\n"
		       "buffer's physical address %#llx. The device then tries:\n\n"
		       "  %-42s %s%s%s%s\n  %-42s %s\n  %-42s %s\n\n"
		       "The unit recorded the blocked accesses and the kernel logged them:\n\n",
		       DEV, (unsigned long long)a,
		       (unsigned long long)page_to_phys(buf), l1, result(r1),
		       r1 ? "" : " (\"", r1 ? "" : got, r1 ? "" : "\")",
		       "write the same buffer", result(r2), l3, result(r3));
	}
	show_lines(m, faults, faults[0]);
	dma_unmap_single(dev, a, 64, DMA_TO_DEVICE);
	__free_page(buf);
	__free_page(secret);
}

/* The VM gets direct access to a device through the IOMMU; the host
 * stays protected. */
static void assignment(struct dmasim_machine *m)
{
	struct machine *mm = (struct machine *)m;

	demo_heading("11. VFIO: a VM drives a device directly, the host stays protected");
	printf("The IOMMU is also what makes device assignment safe: a VM gets a device\n"
	       "(its whole IOMMU group) and drives it with guest-physical addresses;\n"
	       "the group's domain maps only the VM's memory. `dmasim vfio` tells it:\n\n");
	for (unsigned int i = 0; i < mm->pcik.nr; i++)
		if (!strcmp(mm->pcik.devs[i]->name, "0000:01:00.0")) {
			vfio_story(m, mm->pcik.devs[i], 16ULL << 20, stdout);
			return;
		}
}

void demo_iommu(const struct dmasim_config *base)
{
	static const char *const boot[] = { "DMAR:", "AMD-Vi:", "iommu:",
					    "iommu group", NULL };
	struct dmasim_config cfg = *base;
	struct dmasim_machine *m, *prev;
	bool amd = cfg.iommu == DMASIM_IOMMU_AMD;

	if (cfg.platform != DMASIM_PLATFORM_X86 || cfg.iommu == DMASIM_IOMMU_NONE)
		return;
	demo_heading("10. The IOMMU: devices confined to their mappings");
	cfg.cmdline = amd ? "" : "intel_iommu=on";
	cfg.devices = NULL;
	cfg.nr_devices = 0;
	prev = dmasim_enter(NULL);
	if (dmasim_machine_create(&cfg, &m, NULL, 0)) {
		dmasim_enter(prev);
		return;
	}
	if (amd)
		printf("The same machine with its AMD-Vi unit in use (Linux uses it unless\n"
		       "amd_iommu=off): it translates every device access through tables the\n"
		       "kernel writes; devices it cannot isolate from each other share a group.\n\n");
	else
		printf("The same machine booted with intel_iommu=on: the VT-d unit (DMAR)\n"
		       "translates every device access through tables the kernel writes;\n"
		       "devices it cannot isolate from each other share a group.\n\n");
	show_lines(m, boot, NULL);
	printf("\n");
	confinement(m, amd);
	assignment(m);
	dmasim_machine_destroy(m);
	dmasim_enter(prev);
}
