/*
 * The PCI fabric: topology from --device specs, bus numbers as firmware
 * assigns them, configuration space contents, requester IDs and the
 * PCIe-to-PCI bridge alias, bus mastering and the bus-master path's
 * statuses and counters, the boot lines, /sys/bus/pci, and every kind of
 * bad spec answered with a message naming it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "hw/bus.h"
#include "hw/pci.h"
#include "kernel/machine.h"

static struct dmasim_machine *boot_devs(const char *const *specs, size_t n,
					bool nodefaults)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[512] = "";
	int ret;

	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(512);
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nr_cpus = 2;
	cfg.devices = specs;
	cfg.nr_devices = n;
	cfg.nodefaults = nodefaults;
	cfg.inline_devices = true;
	ret = dmasim_machine_create(&cfg, &m, err, sizeof(err));
	if (ret)
		print_error("boot failed: %s\n", err);
	assert_int_equal(ret, 0);
	return m;
}

/* Boot must fail with -EINVAL and a message containing @want. */
static void expect_bad(const char *spec, const char *want)
{
	const char *specs[] = { "pcie-root-port,id=rp1",
				"x3130-upstream,id=up,bus=rp1", spec };
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[512] = "";

	dmasim_config_init(&cfg);
	cfg.ram_bytes = MiB(256);
	cfg.nr_cpus = 1;
	cfg.devices = specs;
	cfg.nr_devices = 3;
	assert_int_equal(dmasim_machine_create(&cfg, &m, err, sizeof(err)),
			 -EINVAL);
	assert_null(m);
	if (!strstr(err, want) || !strstr(err, spec))
		fail_msg("spec '%s': message '%s' lacks '%s'", spec, err, want);
}

static struct pci_func *fn_by_id(struct dmasim_machine *dm, const char *id)
{
	struct pci_func *fn = pci_find_id((struct machine *)dm, id);

	assert_non_null(fn);
	return fn;
}

static void test_default_topology(void **state)
{
	struct dmasim_machine *m = boot_devs(NULL, 0, false);
	char **names;
	size_t n;
	char *log;

	(void)state;
	assert_int_equal(dmasim_list(m, "/sys/bus/pci/devices", &names, &n), 0);
	assert_int_equal(n, 4);
	assert_string_equal(names[0], "0000:00:00.0");
	assert_string_equal(names[1], "0000:00:01.0");
	assert_string_equal(names[2], "0000:00:02.0");
	assert_string_equal(names[3], "0000:01:00.0");
	dmasim_free_names(names, n);
	log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	assert_non_null(strstr(log, "PCI host bridge to bus 0000:00\n"));
	assert_non_null(strstr(log, "pci 0000:00:00.0: [8086:29c0] type 00 class 0x060000\n"));
	assert_non_null(strstr(log, "pci 0000:00:01.0: [1b36:000c] type 01 class 0x060400\n"));
	assert_non_null(strstr(log, "pci 0000:00:02.0: [d3a5:0001] type 00 class 0x088000\n"));
	assert_non_null(strstr(log, "pci 0000:00:01.0: PCI bridge to [bus 01]\n"));
	assert_true(test_matches(log, "pci 0000:00:02\\.0: BAR 0 \\[mem 0x[0-9a-f]{8}-0x[0-9a-f]{8} 64bit\\]"));
	assert_true(test_matches(log, "pci 0000:00:01\\.0:   bridge window \\[mem 0x[0-9a-f]{8}-0x[0-9a-f]{8}\\]"));
	free(log);
	dmasim_machine_destroy(m);
}

static void test_nodefaults(void **state)
{
	struct dmasim_machine *m = boot_devs(NULL, 0, true);
	char **names;
	size_t n;

	(void)state;
	assert_int_equal(dmasim_list(m, "/sys/bus/pci/devices", &names, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(names[0], "0000:00:00.0");
	dmasim_free_names(names, n);
	dmasim_machine_destroy(m);
}

/* Depth-first numbering: a bridge's secondary bus comes right after the
 * buses of the bridges before it; subordinate covers its subtree. */
static void test_bus_numbers(void **state)
{
	const char *specs[] = {
		"pcie-root-port,id=rp1,addr=03",
		"x3130-upstream,id=up,bus=rp1",
		"xio3130-downstream,id=dn1,bus=up",
		"xio3130-downstream,id=dn2,bus=up,addr=01.0",
		"pcie-pci-bridge,id=pb,bus=dn2",
		"disk,id=d1,bus=pb,addr=05",
		"disk,id=d2,bus=dn1",
		"pcie-root-port,id=rp2,addr=04",
	};
	struct dmasim_machine *m = boot_devs(specs, 8, false);
	static const struct {
		const char *id;
		unsigned bus, sec, sub;
	} want[] = {
		{ "rp0", 0, 1, 1 }, { "rp1", 0, 2, 6 }, { "up", 2, 3, 6 },
		{ "dn1", 3, 4, 4 }, { "dn2", 3, 5, 6 }, { "pb", 5, 6, 6 },
		{ "rp2", 0, 7, 7 },
	};
	uint8_t cfg[64];

	(void)state;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct pci_func *f = fn_by_id(m, want[i].id);

		assert_int_equal(f->bus, want[i].bus);
		assert_int_equal(dmasim_pci_config(m, f->name, cfg, sizeof(cfg)), 0);
		assert_int_equal(cfg[PCI_PRIMARY_BUS], want[i].bus);
		assert_int_equal(cfg[PCI_SECONDARY_BUS], want[i].sec);
		assert_int_equal(cfg[PCI_SUBORDINATE_BUS], want[i].sub);
		assert_int_equal(cfg[PCI_HEADER_TYPE] & 0x7f, 1);
	}
	assert_string_equal(fn_by_id(m, "d1")->name, "0000:06:05.0");
	assert_string_equal(fn_by_id(m, "d2")->name, "0000:04:00.0");
	assert_string_equal(fn_by_id(m, "rp1")->name, "0000:00:03.0");
	dmasim_machine_destroy(m);
}

/* A conventional device behind a PCIe-to-PCI bridge is seen upstream
 * with the bridge's secondary bus and devfn 0. */
static void test_requester_id_alias(void **state)
{
	const char *specs[] = {
		"pcie-root-port,id=rp0",
		"pcie-root-port,id=rp1",
		"pcie-pci-bridge,id=pb,bus=rp1",
		"disk,id=behind,bus=pb,addr=03",
		"disk,id=behind2,bus=pb,addr=04",
		"disk,id=direct,bus=rp0",
	};
	struct dmasim_machine *m;
	struct pci_func *b, *b2, *pb, *d;

	(void)state;
	m = boot_devs(specs, 6, true);
	b = fn_by_id(m, "behind");
	b2 = fn_by_id(m, "behind2");
	pb = fn_by_id(m, "pb");
	d = fn_by_id(m, "direct");
	assert_true(b->conventional);
	assert_false(d->conventional);
	assert_int_equal(pci_requester_id(b), pb->secondary << 8);
	assert_int_equal(pci_requester_id(b2), pci_requester_id(b));
	assert_int_equal(pci_requester_id(d), d->bus << 8 | d->devfn);
	/* conventional PCI has no extended configuration space */
	{
		uint8_t cfg[0x104];

		assert_int_equal(dmasim_pci_config(m, b->name, cfg, sizeof(cfg)), 0);
		assert_int_equal(cfg[0x100], 0xff);
		assert_int_equal(pci_find_capability(b, PCI_CAP_ID_EXP), 0);
		assert_true(pci_find_capability(d, PCI_CAP_ID_EXP) != 0);
	}
	dmasim_machine_destroy(m);
}

static void test_config_space(void **state)
{
	struct dmasim_machine *m = boot_devs(NULL, 0, false);
	struct pci_func *rp = fn_by_id(m, "rp0"), *dmac = fn_by_id(m, "dmac0");
	unsigned acs = pci_find_ext_capability(rp, PCI_EXT_CAP_ID_ACS);
	unsigned msi = pci_find_capability(dmac, PCI_CAP_ID_MSI);

	(void)state;
	assert_int_equal(pci_cfg_read(dmac, PCI_VENDOR_ID, 2), 0xd3a5);
	assert_int_equal(pci_cfg_read(dmac, PCI_DEVICE_ID, 2), 0x0001);
	assert_int_equal(pci_cfg_read(dmac, PCI_CLASS_DEVICE, 2), 0x0880);
	assert_true(pci_cfg_read(dmac, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
	/* ACS on the root port: capability bits, control writable */
	assert_int_equal(acs, PCI_EXT_ACS_OFF);
	assert_int_equal(pci_cfg_read(rp, acs + PCI_ACS_CAP, 2),
			 PCI_ACS_SV | PCI_ACS_TB | PCI_ACS_RR | PCI_ACS_CR |
				 PCI_ACS_UF | PCI_ACS_DT);
	pci_cfg_write(rp, acs + PCI_ACS_CTRL,
		      PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF, 2);
	assert_int_equal(pci_cfg_read(rp, acs + PCI_ACS_CTRL, 2),
			 PCI_ACS_SV | PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_UF);
	/* read-only registers stay as they are */
	pci_cfg_write(dmac, PCI_VENDOR_ID, 0x1234, 2);
	assert_int_equal(pci_cfg_read(dmac, PCI_VENDOR_ID, 2), 0xd3a5);
	/* MSI capability: 64-bit, up to 8 vectors */
	assert_true(msi != 0);
	assert_int_equal(pci_cfg_read(dmac, msi + PCI_MSI_FLAGS, 2) & 0x8e,
			 PCI_MSI_FLAGS_64BIT | 3 << 1);
	/* out-of-range accesses do not crash and read all ones */
	assert_int_equal(pci_cfg_read(dmac, PCI_CFG_SPACE - 1, 4), UINT32_MAX);
	pci_cfg_write(dmac, PCI_CFG_SPACE, 0, 4);
	dmasim_machine_destroy(m);
}

static void test_acs_off(void **state)
{
	const char *specs[] = { "pcie-root-port,id=rp1,acs=off" };
	struct dmasim_machine *m = boot_devs(specs, 1, true);

	(void)state;
	assert_int_equal(pci_find_ext_capability(fn_by_id(m, "rp1"),
						 PCI_EXT_CAP_ID_ACS), 0);
	dmasim_machine_destroy(m);
}

static void test_multifunction(void **state)
{
	const char *specs[] = { "disk,id=f0,addr=05.0", "disk,id=f1,addr=05.1",
				"disk,id=f3,addr=05.3" };
	struct dmasim_machine *m = boot_devs(specs, 3, true);
	uint8_t cfg[64];

	(void)state;
	assert_int_equal(dmasim_pci_config(m, "0000:00:05.0", cfg, 64), 0);
	assert_int_equal(cfg[PCI_HEADER_TYPE], PCI_HEADER_MULTIFUNC);
	assert_int_equal(dmasim_pci_config(m, "0000:00:05.3", cfg, 64), 0);
	assert_int_equal(cfg[PCI_HEADER_TYPE], 0);
	dmasim_machine_destroy(m);
	expect_bad("disk,addr=06.2", "function 0 of slot 06 is missing");
}

/* The bus-master path: BME, holes, partial transfers, counters. */
static void test_bus_master_path(void **state)
{
	struct dmasim_machine *m = boot_devs(NULL, 0, true);
	struct machine *km = (struct machine *)m;
	struct pci_func *fn;
	const char *specs[] = { "pcie-root-port,id=rp1" };
	uint8_t buf[256], back[256];
	size_t done = 1234;

	(void)state;
	dmasim_machine_destroy(m);
	m = boot_devs(specs, 1, true);
	km = (struct machine *)m;
	fn = fn_by_id(m, "rp1");
	memset(buf, 0x5a, sizeof(buf));
	/* bus mastering is off after reset: nothing moves */
	assert_int_equal(bus_write(fn, 0x200000, buf, sizeof(buf), &done),
			 PCI_STATUS_MASTER_ABORT);
	assert_int_equal(done, 0);
	assert_int_equal(atomic_load(&fn->cnt.master_aborts), 1);
	assert_int_equal(dmasim_phys_read(m, 0x200000, back, sizeof(back)), 0);
	assert_int_not_equal(back[0], 0x5a);
	pci_cfg_write(fn, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	assert_int_equal(bus_write(fn, 0x200000, buf, sizeof(buf), &done),
			 PCI_STATUS_OK);
	assert_int_equal(done, sizeof(buf));
	assert_int_equal(dmasim_phys_read(m, 0x200000, back, sizeof(back)), 0);
	assert_memory_equal(back, buf, sizeof(buf));
	/* the legacy hole: unsupported request, no crash */
	assert_int_equal(bus_read(fn, 0xa0000, back, 16, &done), PCI_STATUS_UR);
	assert_int_equal(done, 0);
	/* running off the end of low RAM into the hole: partial */
	assert_int_equal(bus_read(fn, 0x9ff80, back, 256, &done), PCI_STATUS_UR);
	assert_int_equal(done, 0x80);
	/* beyond RAM (512 MiB machine) and at the top of the address space */
	assert_int_equal(bus_write(fn, MiB(512), buf, 1, &done), PCI_STATUS_UR);
	assert_int_equal(bus_read(fn, UINT64_MAX, back, 1, &done), PCI_STATUS_UR);
	assert_int_equal(bus_fill(fn, MiB(512) - 4, 0x1122334455667788ULL, 8,
				  &done), PCI_STATUS_UR);
	assert_int_equal(done, 4);
	assert_int_equal(atomic_load(&fn->cnt.unsupported), 5);
	assert_int_equal(atomic_load(&fn->cnt.bytes_written), sizeof(buf) + 4);
	(void)km;
	dmasim_machine_destroy(m);
}

static void test_bus_fill_and_copy(void **state)
{
	const char *specs[] = { "pcie-root-port,id=rp1" };
	struct dmasim_machine *m = boot_devs(specs, 1, true);
	struct pci_func *fn = fn_by_id(m, "rp1");
	uint8_t out[100];
	size_t done;

	(void)state;
	pci_cfg_write(fn, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	for (size_t off = 0; off < 9; off++) {
		memset(out, 0, sizeof(out));
		dmasim_phys_write(m, 0x300000, out, sizeof(out));
		assert_int_equal(bus_fill(fn, 0x300000 + off, 0x0807060504030201ULL,
					  89, &done), PCI_STATUS_OK);
		dmasim_phys_read(m, 0x300000, out, sizeof(out));
		for (size_t i = 0; i < sizeof(out); i++) {
			uint8_t want = (i >= off && i < off + 89)
					       ? (uint8_t)((i - off) % 8 + 1) : 0;

			if (out[i] != want)
				fail_msg("fill at +%zu: byte %zu is %u, want %u",
					 off, i, out[i], want);
		}
	}
	assert_int_equal(bus_copy(fn, 0x400000, 0x300000, 100, &done),
			 PCI_STATUS_OK);
	assert_int_equal(done, 100);
	dmasim_machine_destroy(m);
}

static char *read_file(struct dmasim_machine *m, const char *path)
{
	return test_read(m, path);
}

static void test_sysfs(void **state)
{
	struct dmasim_machine *m = boot_devs(NULL, 0, false);
	char *s;

	(void)state;
	s = read_file(m, "/sys/bus/pci/devices/0000:00:02.0/vendor");
	assert_string_equal(s, "0xd3a5\n");
	free(s);
	s = read_file(m, "/sys/bus/pci/devices/0000:00:02.0/class");
	assert_string_equal(s, "0x088000\n");
	free(s);
	s = read_file(m, "/sys/bus/pci/devices/0000:00:01.0/device");
	assert_string_equal(s, "0x000c\n");
	free(s);
	s = read_file(m, "/sys/bus/pci/devices/0000:00:02.0/resource");
	assert_int_equal(test_count_lines(s), 13);
	assert_true(test_matches(s, "^0x00000000fc[0-9a-f]{6} 0x00000000fc[0-9a-f]{6} 0x0000000000140204\n"));
	free(s);
	s = read_file(m, "/sys/bus/pci/devices/0000:00:01.0/resource");
	assert_int_equal(test_count_lines(s), 17);
	free(s);
	s = read_file(m, "/sys/bus/pci/devices/0000:00:02.0/uevent");
	assert_true(test_matches(s, "^DRIVER=dmac\nPCI_CLASS=88000\nPCI_ID=D3A5:0001\n"));
	assert_non_null(strstr(s, "PCI_SLOT_NAME=0000:00:02.0\n"));
	free(s);
	s = read_file(m, "/sys/bus/pci/devices/0000:00:02.0/dma_mask_bits");
	assert_true(!strcmp(s, "32\n") || !strcmp(s, "64\n"));
	free(s);
	s = read_file(m, "/proc/interrupts");
	assert_true(test_matches(s, "^ {11}CPU0       CPU1       \n"));
	assert_true(test_matches(s, "\nERR:          0\nMIS:          0\n$"));
	free(s);
	dmasim_machine_destroy(m);
}

static void test_bad_specs(void **state)
{
	(void)state;
	expect_bad("nosuchdevice", "unknown device type 'nosuchdevice'");
	expect_bad("disk,bus=nope", "bus 'nope' does not exist");
	expect_bad("disk,bus=up", "only downstream ports sit on a switch");
	expect_bad("disk,addr=01.0", "is taken by rp0");
	expect_bad("disk,addr=20", "addr=20: expected [BB:]DD[.F]");
	expect_bad("disk,addr=01.8", "addr=01.8");
	expect_bad("disk,addr=", "addr=: expected");
	expect_bad("disk,id=rp1", "id 'rp1' is already used");
	expect_bad("disk,id=9x", "id=9x");
	expect_bad("disk,bus=rp1,addr=01", "must be in slot 00");
	expect_bad("xio3130-downstream", "a downstream port goes on a switch");
	expect_bad("pcie-root-port,bus=rp1", "a root port sits on the root bus");
	expect_bad("disk,,id=a", "empty option");
	expect_bad("disk,id", "'id': expected key=value");
	expect_bad("disk,colour=red", "'colour' is not an option of disk");
	expect_bad("pcie-root-port,acs=maybe", "acs=maybe: expected on or off");
	expect_bad("disk,acs=on", "'acs' is not an option of disk");
	expect_bad(",id=x", "no device type");
	expect_bad("disk,addr=05:07.0", "but bus pcie.0 is bus 00 after enumeration");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_topology),
		cmocka_unit_test(test_nodefaults),
		cmocka_unit_test(test_bus_numbers),
		cmocka_unit_test(test_requester_id_alias),
		cmocka_unit_test(test_config_space),
		cmocka_unit_test(test_acs_off),
		cmocka_unit_test(test_multifunction),
		cmocka_unit_test(test_bus_master_path),
		cmocka_unit_test(test_bus_fill_and_copy),
		cmocka_unit_test(test_sysfs),
		cmocka_unit_test(test_bad_specs),
	};

	return cmocka_run_group_tests_name("pci", tests, NULL, NULL);
}
