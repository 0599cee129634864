/* The VFIO assignment story (see vfio_story.h). */
#include "cli/vfio_story.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "dmasim/linux/mm.h"
#include "dmasim/linux/pci.h"
#include "kernel/iommu/group.h"
#include "kernel/iommu/policy.h"
#include "kernel/iommu/vfio.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

static const char *verdict(int r)
{
	return r == 0 ? "reached" : r == -EIO ? "BLOCKED" : "refused";
}

static void row(FILE *out, const char *what, int r)
{
	fprintf(out, "  %-50s %s\n", what, verdict(r));
}

static void list_group(struct iommu_group *g, FILE *out)
{
	fprintf(out, "IOMMU group %d (default domain %s):\n", g->id,
		iommu_domain_type_name((unsigned)g->domain_type));
	for (unsigned int i = 0; i < g->nr_devs; i++) {
		struct pci_dev *p = &g->devs[i]->pdev;

		fprintf(out, "  %s  driver %s\n", g->devs[i]->name,
			p->driver ? p->driver->name : "(none)");
	}
}

/* The VM's device writes guest memory and tries the host's. */
static void device_dma(struct dmasim_machine *dm, struct kpci *k,
		       struct vfio_vm *vm, FILE *out)
{
	static const char msg[] = "written by the device";
	static const char *const faults[] = { "DMAR: ", "AMD-Vi: Event", NULL };
	struct page *secret = alloc_page(GFP_KERNEL);
	uint64_t beyond = vm->size + (1ULL << 20);
	char got[8], what[80];
	size_t from;
	int w, r1, r2;

	strcpy(page_address(secret), "host kernel secret");
	pci_set_master(&k->pdev); /* the guest's driver enables DMA */
	from = cli_log_mark(dm);
	w = dmasim_bus_write(dm, k->name, 0x2000, msg, sizeof(msg));
	r1 = dmasim_bus_read(dm, k->name, page_to_phys(secret), got, sizeof(got));
	r2 = dmasim_bus_read(dm, k->name, beyond, got, sizeof(got));
	fprintf(out, "\nThe guest's driver programs the device with guest-physical addresses:\n");
	row(out, "write guest-physical 0x2000", w);
	if (!w)
		fprintf(out, "      the VM's memory (host 0x%llx) now holds \"%s\"\n",
			(unsigned long long)vfio_vm_gpa_to_hpa(vm, 0x2000),
			(const char *)vfio_vm_mem(vm, 0x2000));
	snprintf(what, sizeof(what), "read  host kernel page 0x%llx",
		 (unsigned long long)page_to_phys(secret));
	row(out, what, r1);
	snprintf(what, sizeof(what), "read  guest-physical 0x%llx (beyond the VM)",
		 (unsigned long long)beyond);
	row(out, what, r2);
	fprintf(out, "  The IOMMU refused and logged them:\n");
	cli_log_since(dm, from, faults, "    ", out);
	__free_page(secret);
}

static int give_back(struct machine *m, struct vfio_vm *vm,
		     struct iommu_group *g, FILE *out)
{
	vfio_vm_destroy(vm);
	vfio_unbind_group(m, g);
	fprintf(out, "\nThe VM is gone: its domain freed, the group back in its default\n"
		     "domain and with its host drivers.\n");
	list_group(g, out);
	return 0;
}

/* Why there is no IOMMU, and what would give one. */
static const char *no_iommu_hint(const struct machine *m)
{
	if (m->cfg.platform != DMASIM_PLATFORM_X86)
		return "VT-d and AMD-Vi are modelled on --platform x86 only";
	if (m->cfg.iommu == DMASIM_IOMMU_NONE)
		return "the machine has none: drop --iommu-hw none";
	if (m->cfg.iommu == DMASIM_IOMMU_AMD)
		return "the AMD-Vi driver is off: drop amd_iommu=off / iommu=off";
	if (m->iommu_policy.off)
		return "iommu=off turns it off";
	return "boot with intel_iommu=on, or use --iommu-hw amd";
}

int vfio_story(struct dmasim_machine *dm, struct kpci *k, uint64_t guest,
	       FILE *out)
{
	struct machine *m = (struct machine *)dm;
	struct iommu_group *g = k->group;
	struct vfio_vm *vm;
	char err[200];
	int ret;

	if (!g) {
		fprintf(stderr, "dmasim vfio: %s is in no IOMMU group: no IOMMU translates this machine's DMA (%s)\n",
			k->name, no_iommu_hint(m));
		return 1;
	}
	list_group(g, out);
	ret = vfio_vm_create(m, g, guest, &vm, err, sizeof(err));
	if (ret == -EBUSY)
		fprintf(out, "\nvfio: %s\n", err);
	if (ret == -EBUSY) {
		vfio_bind_group(m, g);
		fprintf(out, "So every device of the group leaves its host driver for vfio-pci:\n");
		list_group(g, out);
		ret = vfio_vm_create(m, g, guest, &vm, err, sizeof(err));
	}
	if (ret) {
		fprintf(stderr, "dmasim vfio: %s\n", err);
		vfio_unbind_group(m, g);
		return 1;
	}
	fprintf(out, "\nThe group is viable. A VM with %llu MiB of memory (host 0x%llx...) owns\n"
		     "it: its devices now translate through one unmanaged domain that maps\n"
		     "guest-physical 0x0-0x%llx to the VM's memory, and nothing else.\n",
		(unsigned long long)(guest >> 20),
		(unsigned long long)vfio_vm_gpa_to_hpa(vm, 0),
		(unsigned long long)(guest - 1));
	device_dma(dm, k, vm, out);
	return give_back(m, vm, g, out);
}
