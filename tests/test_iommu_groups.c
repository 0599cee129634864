/*
 * IOMMU groups over several topologies, as Linux's pci_device_group()
 * forms them once ACS is enabled: root ports with and without ACS, a
 * switch with and without ACS on its downstream ports, a PCIe-to-PCI
 * bridge with two devices, multi-function devices with and without ACS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "hw/pci.h"
#include "kernel/iommu/group.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

static struct machine *boot_acs(const char *const *specs, size_t n,
				bool enable_acs)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[512] = "";

	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(256);
	cfg.nr_cpus = 1;
	cfg.nodefaults = true;
	cfg.inline_devices = true;
	cfg.devices = specs;
	cfg.nr_devices = n;
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err)))
		fail_msg("boot: %s", err);
	if (enable_acs)
		pci_enable_acs_all((struct machine *)m);
	assert_int_equal(iommu_groups_build((struct machine *)m), 0);
	return (struct machine *)m;
}

static struct machine *boot_groups(const char *const *specs, size_t n)
{
	return boot_acs(specs, n, true);
}

static int group_id(struct machine *m, const char *id)
{
	struct pci_func *fn = pci_find_id(m, id);

	assert_non_null(fn);
	for (unsigned int i = 0; i < m->pcik.nr; i++)
		if (m->pcik.devs[i]->fn == fn)
			return m->pcik.devs[i]->group->id;
	fail_msg("no kpci for %s", id);
	return -1;
}

#define SAME(m, a, b) assert_int_equal(group_id(m, a), group_id(m, b))
#define APART(m, a, b) assert_int_not_equal(group_id(m, a), group_id(m, b))

static void test_root_ports(void **state)
{
	const char *specs[] = {
		"pcie-root-port,id=rp1", "disk,id=d1,bus=rp1",
		"pcie-root-port,id=rp2,acs=off", "disk,id=d2,bus=rp2",
		"dmac,id=dma",
	};
	struct machine *m = boot_groups(specs, 5);

	(void)state;
	/* probe order: 00:00.0 host, 00:01.0 rp1, 00:02.0 rp2, 00:03.0 dmac,
	 * then 01:00.0 d1, 02:00.0 d2 */
	assert_int_equal(group_id(m, "host"), 0);
	assert_int_equal(group_id(m, "rp1"), 1);
	assert_int_equal(group_id(m, "rp2"), 2);
	assert_int_equal(group_id(m, "dma"), 3);
	assert_int_equal(group_id(m, "d1"), 4);	/* isolated by rp1's ACS */
	SAME(m, "d2", "rp2");			/* no ACS: joins its port */
	assert_int_equal(m->iommu_groups.nr, 5);
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static void test_switch(void **state)
{
	const char *with[] = {
		"pcie-root-port,id=rp", "x3130-upstream,id=up,bus=rp",
		"xio3130-downstream,id=dn1,bus=up",
		"xio3130-downstream,id=dn2,bus=up,addr=01",
		"disk,id=d1,bus=dn1", "disk,id=d2,bus=dn2",
	};
	const char *without[] = {
		"pcie-root-port,id=rp", "x3130-upstream,id=up,bus=rp",
		"xio3130-downstream,id=dn1,bus=up,acs=off",
		"xio3130-downstream,id=dn2,bus=up,addr=01,acs=off",
		"disk,id=d1,bus=dn1", "disk,id=d2,bus=dn2",
	};
	struct machine *m = boot_groups(with, 6);

	(void)state;
	APART(m, "d1", "d2");
	APART(m, "d1", "dn1");
	APART(m, "up", "rp");
	dmasim_machine_destroy((struct dmasim_machine *)m);
	m = boot_groups(without, 6);
	/* peer-to-peer through the switch is possible: each device shares
	 * its downstream port's group */
	SAME(m, "d1", "dn1");
	SAME(m, "d2", "dn2");
	APART(m, "d1", "d2");
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static void test_root_port_without_acs_above_switch(void **state)
{
	const char *specs[] = {
		"pcie-root-port,id=rp,acs=off", "x3130-upstream,id=up,bus=rp",
		"xio3130-downstream,id=dn1,bus=up",
		"xio3130-downstream,id=dn2,bus=up,addr=01",
		"disk,id=d1,bus=dn1", "disk,id=d2,bus=dn2",
	};
	struct machine *m = boot_groups(specs, 6);

	(void)state;
	/* the path to the root lacks ACS: everything below joins rp */
	SAME(m, "d1", "rp");
	SAME(m, "d2", "rp");
	SAME(m, "up", "rp");
	SAME(m, "dn1", "rp");
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static void test_pcie_to_pci_bridge(void **state)
{
	const char *specs[] = {
		"pcie-root-port,id=rp", "pcie-pci-bridge,id=pb,bus=rp",
		"disk,id=a,bus=pb,addr=01", "disk,id=b,bus=pb,addr=02",
	};
	struct machine *m;

	(void)state;
	/* the root port's link holds one device: the bridge */
	m = boot_groups(specs, 4);
	SAME(m, "a", "b");
	SAME(m, "a", "pb");
	APART(m, "pb", "rp");
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static void test_multifunction(void **state)
{
	const char *no_acs[] = { "disk,id=f0,addr=05.0", "disk,id=f1,addr=05.1",
				 "disk,id=g0,addr=06.0" };
	const char *acs[] = { "disk,id=f0,addr=05.0,multifunction=on",
			      "disk,id=f1,addr=05.1" };
	struct machine *m = boot_groups(no_acs, 3);

	(void)state;
	SAME(m, "f0", "f1");
	APART(m, "f0", "g0");
	dmasim_machine_destroy((struct dmasim_machine *)m);
	/* function 0 has ACS (SV RR CR UF enabled): it stays apart */
	m = boot_groups(acs, 2);
	APART(m, "f0", "f1");
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

/* ACS the hardware has but nobody enabled isolates nothing. */
static void test_acs_present_not_enabled(void **state)
{
	const char *specs[] = { "pcie-root-port,id=rp", "disk,id=d,bus=rp" };
	struct machine *m = boot_acs(specs, 2, false);

	(void)state;
	SAME(m, "d", "rp");
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static void test_acs_enabled_bits(void **state)
{
	const char *specs[] = { "pcie-root-port,id=rp", "disk,id=d,bus=rp" };
	struct machine *m = boot_groups(specs, 2);
	struct pci_func *rp = pci_find_id(m, "rp");
	unsigned pos = pci_find_ext_capability(rp, PCI_EXT_CAP_ID_ACS);

	(void)state;
	assert_int_equal(pci_cfg_read(rp, pos + PCI_ACS_CTRL, 2),
			 PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF);
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_ports),
		cmocka_unit_test(test_switch),
		cmocka_unit_test(test_root_port_without_acs_above_switch),
		cmocka_unit_test(test_pcie_to_pci_bridge),
		cmocka_unit_test(test_multifunction),
		cmocka_unit_test(test_acs_present_not_enabled),
		cmocka_unit_test(test_acs_enabled_bits),
	};

	return cmocka_run_group_tests_name("iommu_groups", tests, NULL, NULL);
}
