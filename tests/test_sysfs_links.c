/*
 * Symbolic links in the machine's sysfs and writable files: the links
 * Linux 6.1 has (PCI devices under /sys/devices/pci0000:00 with
 * /sys/bus/pci/devices/<name> pointing there, iommu_group, the groups'
 * devices/, /sys/class/iommu/<unit>, driver) with readlink's exact text,
 * lookups through them, loops (-ELOOP), and writes to
 * /sys/kernel/iommu_groups/N/type by Linux's rules, with the device's
 * DMA going direct after "identity" and translated again after "DMA".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/iommu.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "helpers.h"
#include "kernel/iommu/dma-iommu.h"
#include "hw/bus.h"
#include "hw/pci.h"
#include "kernel/machine.h"
#include "kernel/vfs.h"

#define TYPE(n) "/sys/kernel/iommu_groups/" #n "/type"

static struct dmasim_machine *boot_cfg(const char *cmdline,
				       enum dmasim_iommu hw,
				       const char *const *devs, size_t n)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[256] = "";

	dmasim_config_init(&cfg);
	cfg.ram_bytes = GiB(4);
	cfg.cmdline = cmdline;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nr_cpus = 2;
	cfg.inline_devices = true;
	cfg.iommu = hw;
	cfg.devices = devs;
	cfg.nr_devices = n;
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err)))
		fail_msg("boot failed: %s", err);
	return m;
}

static struct dmasim_machine *boot_intel(const char *cmdline)
{
	return boot_cfg(cmdline, DMASIM_IOMMU_INTEL, NULL, 0);
}

static void link_is(struct dmasim_machine *m, const char *path,
		    const char *want)
{
	char *t = NULL;
	int err = dmasim_readlink(m, path, &t);

	if (err)
		fail_msg("readlink %s: %s", path, strerror(-err));
	if (strcmp(t, want))
		fail_msg("readlink %s: '%s', expected '%s'", path, t, want);
	free(t);
}

static void read_is(struct dmasim_machine *m, const char *path,
		    const char *want)
{
	char *s = test_read(m, path);

	if (strcmp(s, want))
		fail_msg("%s: '%s', expected '%s'", path, s, want);
	free(s);
}

static bool listed(struct dmasim_machine *m, const char *dir,
		   const char *name)
{
	char **names;
	size_t n;
	bool found = false;

	assert_int_equal(dmasim_list(m, dir, &names, &n), 0);
	for (size_t i = 0; i < n; i++)
		found |= !strcmp(names[i], name);
	dmasim_free_names(names, n);
	return found;
}

/* ---- links ---------------------------------------------------------- */

static void test_pci_and_group_links(void **state)
{
	struct dmasim_machine *m = boot_intel("intel_iommu=on");
	char *t;

	(void)state;
	link_is(m, "/sys/bus/pci/devices/0000:00:02.0",
		"../../../devices/pci0000:00/0000:00:02.0");
	link_is(m, "/sys/bus/pci/devices/0000:01:00.0",
		"../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
	link_is(m, "/sys/bus/pci/devices/0000:00:02.0/iommu_group",
		"../../../kernel/iommu_groups/2");
	link_is(m, "/sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0/iommu_group",
		"../../../../kernel/iommu_groups/3");
	link_is(m, "/sys/kernel/iommu_groups/2/devices/0000:00:02.0",
		"../../../../devices/pci0000:00/0000:00:02.0");
	link_is(m, "/sys/kernel/iommu_groups/3/devices/0000:01:00.0",
		"../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
	link_is(m, "/sys/class/iommu/dmar0", "../../devices/virtual/iommu/dmar0");
	link_is(m, "/sys/class/iommu/dmar0/devices/0000:00:02.0",
		"../../../../pci0000:00/0000:00:02.0");
	link_is(m, "/sys/bus/pci/devices/0000:00:02.0/iommu",
		"../../virtual/iommu/dmar0");
	link_is(m, "/sys/bus/pci/devices/0000:00:02.0/driver",
		"../../../bus/pci/drivers/dmac");
	link_is(m, "/sys/bus/pci/drivers/dmac/0000:00:02.0",
		"../../../../devices/pci0000:00/0000:00:02.0");
	/* lookups follow them */
	read_is(m, "/sys/bus/pci/devices/0000:00:02.0/vendor", "0xd3a5\n");
	read_is(m, "/sys/kernel/iommu_groups/3/devices/0000:01:00.0/class",
		"0x010180\n");
	read_is(m, "/sys/bus/pci/devices/0000:00:02.0/iommu_group/type",
		"DMA-FQ\n");
	read_is(m, "/sys/class/iommu/dmar0/intel-iommu/address", "fed90000\n");
	read_is(m, "/sys/bus/pci/devices/0000:00:02.0/iommu_group/devices/"
		   "0000:00:02.0/iommu_group/reserved_regions",
		"0x00000000fee00000 0x00000000feefffff msi\n");
	/* ".." after a link goes up from where it points */
	read_is(m, "/sys/bus/pci/devices/0000:01:00.0/../vendor", "0x1b36\n");
	read_is(m, "/sys/class/iommu/dmar0/../dmar0/intel-iommu/version", "1:0\n");
	/* listing: links by name, directories through them */
	assert_true(listed(m, "/sys/bus/pci/devices", "0000:01:00.0"));
	assert_true(listed(m, "/sys/bus/pci/devices/0000:00:02.0", "iommu_group"));
	assert_true(listed(m, "/sys/bus/pci/devices/0000:00:02.0", "vendor"));
	assert_true(listed(m, "/sys/class/iommu/dmar0/devices", "0000:01:00.0"));
	assert_true(listed(m, "/sys/devices/pci0000:00/0000:00:01.0", "0000:01:00.0"));
	/* errors */
	assert_int_equal(dmasim_readlink(m, "/sys/bus/pci/devices/0000:00:02.0/vendor", &t),
			 -EINVAL);
	assert_null(t);
	assert_int_equal(dmasim_readlink(m, "/sys/class/iommu/nope", &t), -ENOENT);
	assert_int_equal(dmasim_read(m, "/sys/class/iommu/dmar0", &t, NULL), -EISDIR);
	assert_int_equal(dmasim_read(m, "/sys/bus/pci/devices/0000:00:02.0/vendor/",
				     &t, NULL), -ENOTDIR);
	dmasim_machine_destroy(m);
}

static void test_no_iommu_and_amd(void **state)
{
	struct dmasim_machine *m = boot_intel(NULL);
	char *t;

	(void)state;
	read_is(m, "/sys/bus/pci/devices/0000:00:01.0/device", "0x000c\n");
	assert_int_equal(dmasim_readlink(m, "/sys/bus/pci/devices/0000:00:01.0/iommu_group", &t),
			 -ENOENT);
	assert_int_equal(dmasim_read(m, "/sys/class/iommu/dmar0/devices", &t, NULL),
			 -ENOENT);
	dmasim_machine_destroy(m);
	m = boot_cfg(NULL, DMASIM_IOMMU_AMD, NULL, 0);
	link_is(m, "/sys/class/iommu/ivhd0",
		"../../devices/pci0000:00/0000:00:00.2/iommu/ivhd0");
	link_is(m, "/sys/class/iommu/ivhd0/devices/0000:00:02.0",
		"../../../../0000:00:02.0");
	link_is(m, "/sys/bus/pci/devices/0000:00:02.0/iommu",
		"../0000:00:00.2/iommu/ivhd0");
	read_is(m, "/sys/class/iommu/ivhd0/amd-iommu/cap", "1903700f\n");
	read_is(m, "/sys/bus/pci/devices/0000:00:01.0/iommu/amd-iommu/features",
		"0:400000000840\n");
	assert_false(listed(m, "/sys/class/iommu/ivhd0/devices", "0000:00:00.2"));
	assert_int_equal(dmasim_readlink(m, "/sys/bus/pci/devices/0000:00:00.2/iommu_group", &t),
			 -ENOENT);
	dmasim_machine_destroy(m);
}

static int lookup_err(struct vfs *vfs, const char *path)
{
	int err;

	vfs_lookup(vfs, path, &err);
	return err;
}

static char *readlink_s(struct vfs *vfs, const char *path)
{
	struct strbuf sb;

	strbuf_init(&sb);
	assert_int_equal(vfs_readlink(vfs, path, &sb), 0);
	return strbuf_detach(&sb, NULL);
}

static void test_vfs_loops_and_targets(void **state)
{
	struct vfs vfs;
	char path[64], target[64], *s;

	(void)state;
	assert_int_equal(vfs_init(&vfs), 0);
	assert_int_equal(vfs_add_file(&vfs, "/a/b/file", NULL, NULL), 0);
	assert_int_equal(vfs_add_link(&vfs, "/l/ping", "pong"), 0);
	assert_int_equal(vfs_add_link(&vfs, "/l/pong", "./ping"), 0);
	assert_int_equal(vfs_add_link(&vfs, "/l/self", "self"), 0);
	assert_int_equal(vfs_add_link(&vfs, "/l/up", ".."), 0);
	assert_int_equal(vfs_add_link(&vfs, "/l/abs", "/a/b"), 0);
	assert_int_equal(vfs_add_link(&vfs, "/l/dangling", "../nowhere"), 0);
	assert_int_equal(lookup_err(&vfs, "/l/ping"), -ELOOP);
	assert_int_equal(lookup_err(&vfs, "/l/self/x"), -ELOOP);
	assert_int_equal(lookup_err(&vfs, "/l/dangling"), -ENOENT);
	assert_int_equal(lookup_err(&vfs, "/l/abs/file"), 0);
	assert_int_equal(lookup_err(&vfs, "/l/abs/file/"), -ENOTDIR);
	assert_int_equal(lookup_err(&vfs, "/l/up/l/up/a/b/file"), 0);
	s = readlink_s(&vfs, "/l/ping"); /* not followed */
	assert_string_equal(s, "pong");
	free(s);
	s = readlink_s(&vfs, "/l/up/l/abs"); /* followed on the way */
	assert_string_equal(s, "/a/b");
	free(s);
	/* 40 links in a lookup are fine, 41 are a loop */
	for (int i = 0; i < 40; i++) {
		snprintf(path, sizeof(path), "/chain/%d", i);
		snprintf(target, sizeof(target), "%d", i + 1);
		assert_int_equal(vfs_add_link(&vfs, path, target), 0);
	}
	assert_int_equal(vfs_add_link(&vfs, "/chain/40", "/a/b/file"), 0);
	assert_int_equal(lookup_err(&vfs, "/chain/1"), 0);
	assert_int_equal(lookup_err(&vfs, "/chain/0"), -ELOOP);
	/* what cannot be made */
	assert_int_equal(vfs_add_link(&vfs, "/l/ping", "x"), -EEXIST);
	assert_int_equal(vfs_add_link(&vfs, "/l/new", ""), -ENOENT);
	assert_int_equal(vfs_add_link(&vfs, "/l/", "x"), -EINVAL);
	assert_int_equal(vfs_add_link(&vfs, "/a/b/file/x", "x"), -ENOTDIR);
	assert_int_equal(vfs_add_file(&vfs, "/l/ping", NULL, NULL), -EEXIST);
	assert_int_equal(vfs_add_file(&vfs, "/l/self/f", NULL, NULL), -ELOOP);
	/* sysfs's relative form */
	assert_int_equal(vfs_link_to(&vfs, "/x/y/z/l", "/x/q/r"), 0);
	s = readlink_s(&vfs, "/x/y/z/l");
	assert_string_equal(s, "../../q/r");
	free(s);
	assert_int_equal(vfs_link_to(&vfs, "/x/y/l2", "/x/y/z"), 0);
	s = readlink_s(&vfs, "/x/y/l2");
	assert_string_equal(s, "z");
	free(s);
	vfs_destroy(&vfs);
	/* sysfs_streq */
	assert_true(vfs_streq("DMA", "DMA"));
	assert_true(vfs_streq("DMA\n", "DMA"));
	assert_true(vfs_streq("DMA", "DMA\n"));
	assert_false(vfs_streq("DMA\n\n", "DMA"));
	assert_false(vfs_streq("DM\nA", "DMA"));
	assert_false(vfs_streq("", "DMA"));
	assert_false(vfs_streq("DMA-FQ", "DMA"));
}

static void test_machine_loop(void **state)
{
	struct dmasim_machine *m = boot_intel(NULL);
	struct machine *k = (struct machine *)m;
	char **names, *t;
	size_t n;

	(void)state;
	assert_int_equal(vfs_add_link(&k->vfs, "/sys/loop/a", "b"), 0);
	assert_int_equal(vfs_add_link(&k->vfs, "/sys/loop/b", "../loop/a"), 0);
	assert_int_equal(dmasim_read(m, "/sys/loop/a", &t, NULL), -ELOOP);
	assert_int_equal(dmasim_list(m, "/sys/loop/b", &names, &n), -ELOOP);
	assert_int_equal(dmasim_write(m, "/sys/loop/a", "x", 1), -ELOOP);
	assert_true(listed(m, "/sys/loop", "a"));
	link_is(m, "/sys/loop/b", "../loop/a");
	dmasim_machine_destroy(m);
}

/* ---- writes --------------------------------------------------------- */

static void test_write_errors(void **state)
{
	struct dmasim_machine *m = boot_intel("intel_iommu=on");
	struct device *dev = dmasim_pci_device(m, "0000:00:01.0");
	struct iommu_domain *d = dev->iommu_domain;
	char big[VFS_WRITE_MAX * 3];

	(void)state;
	assert_int_equal(dmasim_write(m, "/nope", "x", 1), -ENOENT);
	assert_int_equal(dmasim_write(m, "/proc", "x", 1), -EISDIR);
	assert_int_equal(dmasim_write(m, "/proc/buddyinfo", "x", 1), -EACCES);
	assert_int_equal(dmasim_write(m, "/sys/bus/pci/devices/0000:00:01.0/vendor", "1", 1),
			 -EACCES);
	assert_int_equal(dmasim_write(m, "/sys/kernel/iommu_groups/1/reserved_regions",
				      "x", 1), -EACCES);
	assert_int_equal(dmasim_write(m, "/proc/buddyinfo/x", "x", 1), -ENOTDIR);
	/* values the type file does not take */
	assert_int_equal(dmasim_write(m, TYPE(1), "bogus", 5), -EINVAL);
	assert_int_equal(dmasim_write(m, TYPE(1), "dma", 3), -EINVAL);
	assert_int_equal(dmasim_write(m, TYPE(1), "DMA\n\n", 5), -EINVAL);
	assert_int_equal(dmasim_write(m, TYPE(1), "DM\nA", 4), -EINVAL);
	assert_int_equal(dmasim_write(m, TYPE(1), " DMA", 4), -EINVAL);
	assert_int_equal(dmasim_write(m, TYPE(1), "\n", 1), -EINVAL);
	memset(big, 'x', sizeof(big));
	assert_int_equal(dmasim_write(m, TYPE(1), big, sizeof(big)), -EINVAL);
	memcpy(big, "identity", 8); /* the rest is beyond the page */
	assert_int_equal(dmasim_write(m, TYPE(1), big, sizeof(big)), -EINVAL);
	/* nothing written: nothing happens (sysfs skips the store) */
	assert_int_equal(dmasim_write(m, TYPE(1), NULL, 0), 0);
	assert_int_equal(dmasim_write(m, TYPE(1), "", 0), 0);
	assert_ptr_equal(dev->iommu_domain, d);
	read_is(m, TYPE(1), "DMA-FQ\n");
	/* no NUL needed; the same type changes nothing */
	assert_int_equal(dmasim_write(m, TYPE(1), "DMA-FQX", 6), 0);
	assert_ptr_equal(dev->iommu_domain, d);
	/* the value ends at a NUL, as the store's string does in Linux */
	assert_int_equal(dmasim_write(m, TYPE(1), "DMA-FQ\0junk", 11), 0);
	dmasim_machine_destroy(m);
}

struct dev_fx {
	struct dmasim_machine *m;
	struct pci_func *fn;
	struct device *dev;
	struct page *pg;
};

static void dev_fx(struct dev_fx *f, struct dmasim_machine *m)
{
	f->m = m;
	f->dev = dmasim_pci_device(m, "0000:00:01.0"); /* a root port: no driver */
	f->fn = to_pci_dev(f->dev)->hw;
	pci_cfg_write(f->fn, PCI_COMMAND, PCI_COMMAND_MASTER, 2);
	f->pg = alloc_pages(GFP_KERNEL | GFP_DMA32, 0);
	strcpy(page_address(f->pg), "payload");
}

static void dev_fx_done(struct dev_fx *f)
{
	__free_pages(f->pg, 0);
	dmasim_machine_destroy(f->m);
}

/* Map the page, let the device read it; the DMA address. */
static dma_addr_t dma_roundtrip(struct dev_fx *f)
{
	char got[8] = "";
	size_t done;
	dma_addr_t a = dma_map_single(f->dev, page_address(f->pg), 64,
				      DMA_BIDIRECTIONAL);

	assert_int_equal(dma_mapping_error(f->dev, a), 0);
	assert_int_equal(bus_read(f->fn, a, got, 8, &done), PCI_STATUS_OK);
	assert_string_equal(got, "payload");
	dma_unmap_single(f->dev, a, 64, DMA_BIDIRECTIONAL);
	return a;
}

static void check_type_changes(struct dmasim_machine *m, const char *type,
			       const char *initial)
{
	struct dev_fx f;
	phys_addr_t phys;
	struct iommu_domain *d;
	size_t done;
	char c;

	dev_fx(&f, m);
	phys = page_to_phys(f.pg);
	read_is(m, type, initial);
	if (strcmp(initial, "identity\n"))
		assert_true(dma_roundtrip(&f) != phys); /* translated */
	assert_int_equal(dmasim_write(m, type, "identity\n", 9), 0);
	read_is(m, type, "identity\n");
	assert_int_equal(f.dev->iommu_domain->type, IOMMU_DOMAIN_IDENTITY);
	assert_null(f.dev->dma_ops);
	assert_int_equal(dma_roundtrip(&f), phys); /* dma-direct */
	assert_int_equal(dmasim_write(m, type, "DMA", 3), 0);
	read_is(m, type, "DMA\n");
	d = f.dev->iommu_domain;
	assert_int_equal(d->type, IOMMU_DOMAIN_DMA);
	assert_true(dma_roundtrip(&f) != phys);
	/* translated and confined again: the physical address faults */
	assert_int_equal(bus_read(f.fn, phys, &c, 1, &done), PCI_STATUS_UR);
	assert_int_equal(dmasim_write(m, type, "DMA-FQ", 6), 0);
	read_is(m, type, "DMA-FQ\n");
	assert_int_equal(f.dev->iommu_domain->type, IOMMU_DOMAIN_DMA_FQ);
	assert_true(dma_roundtrip(&f) != phys);
	assert_int_equal(dmasim_write(m, type, "identity", 8), 0);
	assert_int_equal(dmasim_write(m, type, "auto", 4), 0); /* the policy's */
	read_is(m, type, initial);
	dev_fx_done(&f);
}

static void test_type_changes_intel(void **state)
{
	(void)state;
	check_type_changes(boot_intel("intel_iommu=on"), TYPE(1), "DMA-FQ\n");
	check_type_changes(boot_intel("intel_iommu=on iommu.strict=1"), TYPE(1),
			   "DMA\n");
	check_type_changes(boot_intel("intel_iommu=on iommu=pt"), TYPE(1),
			   "identity\n");
}

static void test_type_changes_amd(void **state)
{
	(void)state;
	check_type_changes(boot_cfg(NULL, DMASIM_IOMMU_AMD, NULL, 0), TYPE(1),
			   "DMA-FQ\n");
}

static void test_type_refusals(void **state)
{
	struct dmasim_machine *m = boot_intel("intel_iommu=on");
	struct device *dmac = dmasim_pci_device(m, "0000:00:02.0");
	struct device *rp = dmasim_pci_device(m, "0000:00:01.0");
	struct iommu_domain *d = dmac->iommu_domain, *um;

	(void)state;
	/* a driver is bound: no change */
	assert_non_null(dmac->driver);
	assert_int_equal(dmasim_write(m, TYPE(2), "identity", 8), -EBUSY);
	assert_true(test_log_has(m, "iommu: Device is still bound to driver"));
	assert_int_equal(dmasim_write(m, TYPE(2), "DMA", 3), -EBUSY);
	assert_ptr_equal(dmac->iommu_domain, d);
	read_is(m, TYPE(2), "DMA-FQ\n");
	/* the device is not in its default domain (a VFIO-like owner) */
	um = iommu_domain_alloc(&pci_bus_type);
	assert_int_equal(iommu_attach_device(um, rp), 0);
	assert_int_equal(dmasim_write(m, TYPE(1), "identity", 8), -EBUSY);
	assert_true(test_log_has(m, "pci 0000:00:01.0: Group not assigned to default domain"));
	iommu_detach_device(um, rp);
	iommu_domain_free(um);
	dmasim_machine_destroy(m);
}

static void test_type_ratelimit(void **state)
{
	struct dmasim_machine *m = boot_intel("intel_iommu=on");
	char *log, *p;
	int lines = 0;

	(void)state;
	for (int i = 0; i < 13; i++)
		assert_int_equal(dmasim_write(m, TYPE(2), "identity", 8), -EBUSY);
	dmasim_clock_advance(m, 6000000000ULL);
	assert_int_equal(dmasim_write(m, TYPE(2), "identity", 8), -EBUSY);
	log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);
	for (p = strstr(log, "Device is still bound"); p;
	     p = strstr(p + 1, "Device is still bound"))
		lines++;
	assert_int_equal(lines, 11);
	assert_non_null(strstr(log, "\niommu_group_store_type: 3 callbacks suppressed\n"));
	free(log);
	dmasim_machine_destroy(m);
}

/* A group of two (a PCIe-to-PCI bridge speaks for the disk behind it),
 * and an untrusted device, which must stay translated and strict. */
static void test_type_group_and_untrusted(void **state)
{
	const char *specs[] = {
		"pcie-root-port,id=rp9", "pcie-pci-bridge,id=pb,bus=rp9",
		"disk,id=d,bus=pb,addr=01",
		"pcie-root-port,id=ext,external=on",
		"pcie-pci-bridge,id=ub,bus=ext",
	};
	struct dmasim_machine *m = boot_cfg("intel_iommu=on", DMASIM_IOMMU_INTEL,
					    specs, 5);
	struct machine *k = (struct machine *)m;
	struct pci_func *pb = pci_find_id(k, "pb"), *ub = pci_find_id(k, "ub");
	struct device *udev = dmasim_pci_device(m, ub->name);
	char path[96], line[128];
	int gpb = kpci_of(to_pci_dev(dmasim_pci_device(m, pb->name)))->group->id;
	int gub = kpci_of(to_pci_dev(udev))->group->id;

	(void)state;
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/type", gpb);
	assert_int_equal(dmasim_write(m, path, "identity", 8), -EINVAL);
	assert_true(test_log_has(m, "iommu: Cannot change default domain: Group has more than one device"));
	/* untrusted: DMA only */
	assert_true(to_pci_dev(udev)->untrusted);
	snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%d/type", gub);
	read_is(m, path, "DMA\n");
	assert_int_equal(dmasim_write(m, path, "identity", 8), -EINVAL);
	snprintf(line, sizeof(line), "pci %s: Device cannot be in Passthrough domain",
		 ub->name);
	assert_true(test_log_has(m, line));
	assert_int_equal(dmasim_write(m, path, "DMA-FQ", 6), -EINVAL);
	snprintf(line, sizeof(line), "pci %s: Device cannot be in Translated domain",
		 ub->name);
	assert_true(test_log_has(m, line));
	assert_int_equal(dmasim_write(m, path, "auto", 4), 0);
	assert_int_equal(dmasim_write(m, path, "DMA", 3), 0);
	read_is(m, path, "DMA\n");
	assert_int_equal(udev->iommu_domain->type, IOMMU_DOMAIN_DMA);
	dmasim_machine_destroy(m);
}

/* DMA to DMA-FQ is the one change Linux makes under a bound driver, in
 * place. Until dma-iommu can add a flush queue to a live domain it is
 * refused with -EOPNOTSUPP, after the bound-driver check let it by. */
/* DMA to DMA-FQ with the driver bound: the same domain gets a flush
 * queue, its live mappings untouched; unmaps become lazy from then on. */
static void test_type_dma_to_fq_bound(void **state)
{
	struct dmasim_machine *m = boot_intel("intel_iommu=on iommu.strict=1");
	struct device *dmac = dmasim_pci_device(m, "0000:00:02.0");
	struct iommu_domain *d = dmac->iommu_domain;
	struct page *pg = alloc_page(GFP_KERNEL);
	dma_addr_t a;
	char got = 0;

	(void)state;
	read_is(m, TYPE(2), "DMA\n");
	pci_set_master(to_pci_dev(dmac));
	*(char *)page_address(pg) = 'q';
	a = dma_map_single(dmac, page_address(pg), 64, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dmac, a), 0);
	assert_int_equal(dmasim_write(m, TYPE(2), "DMA-FQ", 6), 0);
	assert_false(test_log_has(m, "iommu: Device is still bound to driver"));
	assert_ptr_equal(dmac->iommu_domain, d);
	assert_int_equal(d->type, IOMMU_DOMAIN_DMA_FQ);
	read_is(m, TYPE(2), "DMA-FQ\n");
	/* the mapping made before the change still answers */
	assert_int_equal(dmasim_bus_read(m, "0000:00:02.0", a, &got, 1), 0);
	assert_int_equal(got, 'q');
	/* and its unmap is lazy now: the stale entry answers until a flush */
	dma_unmap_single(dmac, a, 64, DMA_TO_DEVICE);
	assert_int_equal(dmasim_bus_read(m, "0000:00:02.0", a, &got, 1), 0);
	iommu_dma_flush_fq(d);
	assert_int_equal(dmasim_bus_read(m, "0000:00:02.0", a, &got, 1), -EIO);
	/* the shortcut is only DMA -> DMA-FQ: asked again, the bound driver
	 * refuses it, as in 6.1 */
	assert_int_equal(dmasim_write(m, TYPE(2), "DMA-FQ", 6), -EBUSY);
	__free_page(pg);
	dmasim_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pci_and_group_links),
		cmocka_unit_test(test_no_iommu_and_amd),
		cmocka_unit_test(test_vfs_loops_and_targets),
		cmocka_unit_test(test_machine_loop),
		cmocka_unit_test(test_write_errors),
		cmocka_unit_test(test_type_changes_intel),
		cmocka_unit_test(test_type_changes_amd),
		cmocka_unit_test(test_type_refusals),
		cmocka_unit_test(test_type_ratelimit),
		cmocka_unit_test(test_type_group_and_untrusted),
		cmocka_unit_test(test_type_dma_to_fq_bound),
	};

	return cmocka_run_group_tests_name("sysfs_links", tests, NULL, NULL);
}
