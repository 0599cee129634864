/*
 * VFIO-style assignment: a group is viable only when no device of it is
 * bound to a host driver; an assigned group's DMA reaches the VM's memory
 * at guest-physical addresses and nothing of the host (with the fault
 * logged); every device of a multi-device group is confined alike;
 * releasing the VM gives the group back to its default domain and host
 * drivers, and the kernel's DMA API works for it again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/dma-mapping.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "helpers.h"
#include "kernel/iommu/amd.h"
#include "kernel/iommu/group.h"
#include "kernel/iommu/vfio.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

static struct machine *boot_with(const char *cmdline, const char *const *specs,
				 size_t n, bool amd)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[200] = "";

	dmasim_config_init(&cfg);
	cfg.ram_bytes = GiB(8);
	cfg.cmdline = cmdline;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nr_cpus = 2;
	cfg.inline_devices = true;
	cfg.devices = specs;
	cfg.nr_devices = n;
	cfg.iommu = amd ? DMASIM_IOMMU_AMD : DMASIM_IOMMU_INTEL;
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err)))
		fail_msg("boot: %s", err);
	return (struct machine *)m;
}

static struct kpci *find(struct machine *m, const char *name)
{
	for (unsigned int i = 0; i < m->pcik.nr; i++)
		if (!strcmp(m->pcik.devs[i]->name, name))
			return m->pcik.devs[i];
	fail_msg("no %s", name);
	return NULL;
}

static void link_is(struct machine *m, const char *path, const char *want)
{
	char *t = NULL;

	assert_int_equal(dmasim_readlink((struct dmasim_machine *)m, path, &t), 0);
	assert_string_equal(t, want);
	free(t);
}

static void assigned_dma(struct machine *m, struct vfio_vm *vm,
			 const char *name)
{
	struct dmasim_machine *dm = (struct dmasim_machine *)m;
	struct page *host = alloc_page(GFP_KERNEL);
	char got[8];

	pci_set_master(&find(m, name)->pdev);
	strcpy(page_address(host), "host");
	assert_int_equal(dmasim_bus_write(dm, name, 0x3000, "guest!", 7), 0);
	assert_string_equal((char *)vfio_vm_mem(vm, 0x3000), "guest!");
	assert_int_equal(dmasim_bus_read(dm, name, 0x3000, got, 7), 0);
	assert_string_equal(got, "guest!");
	/* the host's memory, by its physical address: blocked, unchanged */
	assert_int_equal(dmasim_bus_read(dm, name, page_to_phys(host), got, 4), -EIO);
	assert_int_equal(dmasim_bus_write(dm, name, page_to_phys(host), "x", 1), -EIO);
	assert_string_equal(page_address(host), "host");
	/* past the end of the VM's memory */
	assert_int_equal(dmasim_bus_read(dm, name, vm->size, got, 1), -EIO);
	__free_page(host);
}

static void test_viability_and_confinement(void **state)
{
	struct machine *m = boot_with("intel_iommu=on", NULL, 0, false);
	struct kpci *k = find(m, "0000:01:00.0");
	struct iommu_group *g = k->group;
	struct vfio_vm *vm = NULL;
	char err[200], line[200], **names;
	size_t n;

	(void)state;
	assert_non_null(g);
	assert_int_equal(vfio_vm_create(m, g, 16 << 20, &vm, err, sizeof(err)), -EBUSY);
	assert_null(vm);
	assert_string_equal(err, "group 3 is not viable: 0000:01:00.0 is bound to dmasim_ata (bind every device of the group to vfio-pci)");
	assert_int_equal(vfio_bind_group(m, g), 0);
	assert_string_equal(k->pdev.driver->name, "vfio-pci");
	/* sysfs follows: the driver link and the driver's device link */
	link_is(m, "/sys/bus/pci/devices/0000:01:00.0/driver",
		"../../../../bus/pci/drivers/vfio-pci");
	link_is(m, "/sys/bus/pci/drivers/vfio-pci/0000:01:00.0",
		"../../../../devices/pci0000:00/0000:00:01.0/0000:01:00.0");
	assert_int_equal(dmasim_list((struct dmasim_machine *)m,
				     "/sys/bus/pci/drivers/dmasim_ata", &names, &n), 0);
	assert_int_equal(n, 0);
	dmasim_free_names(names, n);
	assert_int_equal(vfio_vm_create(m, g, 5 << 20, &vm, err, sizeof(err)), -EINVAL);
	assert_int_equal(vfio_vm_create(m, g, 16 << 20, &vm, err, sizeof(err)), 0);
	assigned_dma(m, vm, "0000:01:00.0");
	snprintf(line, sizeof(line), "DMAR: [DMA Read NO_PASID] Request device [01:00.0] fault addr 0x%llx [fault reason 0x06] PTE Read access is not set",
		 (unsigned long long)vm->size);
	assert_true(test_log_has((struct dmasim_machine *)m, line));
	vfio_vm_destroy(vm);
	vfio_unbind_group(m, g);
	assert_string_equal(k->pdev.driver->name, "dmasim_ata");
	link_is(m, "/sys/bus/pci/devices/0000:01:00.0/driver",
		"../../../../bus/pci/drivers/dmasim_ata");
	assert_ptr_equal(k->pdev.dev.iommu_domain, g->domain);
	assert_int_equal(dmasim_dma_debug_errors((struct dmasim_machine *)m), 0);
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

/* Two functions without ACS share a group: both must leave their host
 * driver, and both are confined to the same VM. */
static void test_multi_device_group(void **state)
{
	const char *specs[] = { "disk,id=f0,addr=05.0", "disk,id=f1,addr=05.1" };
	struct machine *m = boot_with(NULL, specs, 2, true);
	struct kpci *f0 = find(m, "0000:00:05.0"), *f1 = find(m, "0000:00:05.1");
	struct vfio_vm *vm;
	char err[200], line[200];

	(void)state;
	assert_ptr_equal(f0->group, f1->group);
	pci_driver_unbind(&f0->pdev); /* one device only: still not viable */
	assert_int_equal(vfio_vm_create(m, f0->group, 8 << 20, &vm, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "0000:00:05.1 is bound to dmasim_ata"));
	assert_int_equal(vfio_bind_group(m, f0->group), 0);
	assert_int_equal(vfio_vm_create(m, f0->group, 8 << 20, &vm, err, sizeof(err)), 0);
	assigned_dma(m, vm, "0000:00:05.0");
	assigned_dma(m, vm, "0000:00:05.1");
	snprintf(line, sizeof(line),
		 "vfio-pci 0000:00:05.1: AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x%04x address=0x800000 flags=0x0000]",
		 amd_domain_id(vm->domain));
	assert_true(test_log_has((struct dmasim_machine *)m, line));
	vfio_vm_destroy(vm);
	vfio_unbind_group(m, f0->group);
	assert_string_equal(f0->pdev.driver->name, "dmasim_ata");
	assert_string_equal(f1->pdev.driver->name, "dmasim_ata");
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

/* After the VM, the kernel's DMA API works for the device again. */
static void test_given_back(void **state)
{
	struct machine *m = boot_with("intel_iommu=on", NULL, 0, false);
	struct kpci *k = find(m, "0000:00:01.0");
	struct device *dev = &k->pdev.dev;
	struct vfio_vm *vm;
	struct page *pg;
	dma_addr_t a;
	char err[200], got[4];

	(void)state;
	assert_int_equal(vfio_bind_group(m, k->group), 0);
	assert_int_equal(vfio_vm_create(m, k->group, 4 << 20, &vm, err, sizeof(err)), 0);
	assert_ptr_not_equal(dev->iommu_domain, k->group->domain);
	vfio_vm_destroy(vm);
	vfio_unbind_group(m, k->group);
	pci_set_master(&k->pdev);
	pg = alloc_page(GFP_KERNEL);
	strcpy(page_address(pg), "dma");
	a = dma_map_single(dev, page_address(pg), 4, DMA_TO_DEVICE);
	assert_int_equal(dma_mapping_error(dev, a), 0);
	assert_int_equal(dmasim_bus_read((struct dmasim_machine *)m, k->name, a, got, 4), 0);
	assert_string_equal(got, "dma");
	/* guest-physical 0 is nothing now */
	assert_int_equal(dmasim_bus_read((struct dmasim_machine *)m, k->name, 0x3000, got, 1), -EIO);
	dma_unmap_single(dev, a, 4, DMA_TO_DEVICE);
	__free_page(pg);
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

static void test_no_iommu(void **state)
{
	struct machine *m = boot_with(NULL, NULL, 0, false);
	struct kpci *k = find(m, "0000:01:00.0");
	struct vfio_vm *vm;
	char err[200];

	(void)state;
	assert_null(k->group);
	assert_int_equal(vfio_vm_create(m, k->group, 4 << 20, &vm, err, sizeof(err)), -ENODEV);
	assert_non_null(strstr(err, "no IOMMU"));
	dmasim_machine_destroy((struct dmasim_machine *)m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_viability_and_confinement),
		cmocka_unit_test(test_multi_device_group),
		cmocka_unit_test(test_given_back),
		cmocka_unit_test(test_no_iommu),
	};

	return cmocka_run_group_tests_name("vfio", tests, NULL, NULL);
}
