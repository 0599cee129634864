/* Every device type `--device` knows, in `dmasim devices` order. */
#include <string.h>

#include "hw/pci.h"

extern const struct pci_type pci_host_type, pci_root_port_type,
	pci_switch_up_type, pci_switch_down_type, pci_bridge_type, dmac_type,
	disk_type, amdvi_pci_type, rogue_type;

const struct pci_type *const pci_types[] = {
	&dmac_type,
	&disk_type,
	&rogue_type,
	&pci_root_port_type,
	&pci_switch_up_type,
	&pci_switch_down_type,
	&pci_bridge_type,
	&pci_host_type,
	&amdvi_pci_type,
	NULL,
};

const struct pci_type *pci_type_find(const char *name)
{
	for (int i = 0; pci_types[i]; i++)
		if (!strcmp(pci_types[i]->name, name))
			return pci_types[i];
	return NULL;
}
