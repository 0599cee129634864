/*
 * The fabric's own functions: the host bridge, PCIe root ports, the two
 * halves of a PCIe switch and the PCIe-to-PCI bridge. IDs are those of
 * the parts emulators commonly present (the Q35 host bridge, QEMU's
 * generic root port and PCIe-to-PCI bridge, the TI XIO3130 switch).
 */
#include <stddef.h>
#include <string.h>

#include "hw/pci.h"

const struct pci_type pci_host_type = {
	.name = "host-bridge",
	.help = "the host bridge at 00:00.0 (always present)",
	.role = PCI_ROLE_HOST,
	.builtin = true,
	.vendor = 0x8086, .device = 0x29c0, .class_code = 0x060000,
	.lspci_name = "Intel Corporation 82G33/G31/P35/P31 Express DRAM Controller",
};

const struct pci_type pci_root_port_type = {
	.name = "pcie-root-port",
	.help = "PCIe root port on the root bus; options acs=on|off, external=on|off, atsr=on|off",
	.role = PCI_ROLE_ROOT_PORT,
	.vendor = 0x1b36, .device = 0x000c, .class_code = 0x060400,
	.lspci_name = "Red Hat, Inc. QEMU PCIe Root port",
};

const struct pci_type pci_switch_up_type = {
	.name = "x3130-upstream",
	.help = "PCIe switch upstream port (below a root or downstream port)",
	.role = PCI_ROLE_SWITCH_UP,
	.vendor = 0x104c, .device = 0x8232, .class_code = 0x060400,
	.revision = 0x02,
	.lspci_name = "Texas Instruments XIO3130 PCI Express Switch (Upstream)",
};

const struct pci_type pci_switch_down_type = {
	.name = "xio3130-downstream",
	.help = "PCIe switch downstream port (on an upstream port's bus); acs=, external=",
	.role = PCI_ROLE_SWITCH_DOWN,
	.vendor = 0x104c, .device = 0x8233, .class_code = 0x060400,
	.revision = 0x01,
	.lspci_name = "Texas Instruments XIO3130 PCI Express Switch (Downstream)",
};

const struct pci_type pci_bridge_type = {
	.name = "pcie-pci-bridge",
	.help = "PCIe-to-PCI bridge: devices below are conventional PCI and share its requester ID",
	.role = PCI_ROLE_PCI_BRIDGE,
	.vendor = 0x1b36, .device = 0x000e, .class_code = 0x060400,
	.lspci_name = "Red Hat, Inc. QEMU PCIe-to-PCI bridge",
};
