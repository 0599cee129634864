/*
 * dmasim vfio [DEVICE]: VFIO-style assignment of DEVICE's IOMMU group to
 * a VM, step by step: the group and why it is not viable while a host
 * driver holds a device, the devices moved to vfio-pci, the VM's memory
 * mapped at guest-physical addresses in an unmanaged domain, the device's
 * DMA landing in guest memory and its attempt on host memory blocked
 * (with the IOMMU's fault lines), then the group given back.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/vfio_story.h"
#include "dmasim/linux/pci.h"
#include "kernel/iommu/group.h"
#include "kernel/iommu/vfio.h"
#include "kernel/machine.h"
#include "kernel/pci.h"
#include "lib/size.h"

enum { OPT_GUEST_MEM = 0x200 };

static const struct option vfio_opts[] = {
	{ "guest-mem", required_argument, NULL, OPT_GUEST_MEM },
	{ NULL, 0, NULL, 0 },
};

static int vfio_opt(struct cli *cli, int opt, const char *arg, void *ctx)
{
	uint64_t *bytes = ctx;
	const char *end;

	if (opt != OPT_GUEST_MEM)
		return -1;
	*bytes = memparse(arg, &end);
	if (end == arg || *end || !*bytes || *bytes % VFIO_CHUNK_BYTES ||
	    *bytes > (1ULL << 36)) {
		cli_error(cli, "--guest-mem '%s': a multiple of 4M up to 64G", arg);
		return EXIT_USAGE;
	}
	return 0;
}

/* The device a user names, or the first function with a host driver. */
static struct kpci *pick(struct machine *m, const char *name)
{
	for (unsigned int i = 0; i < m->pcik.nr; i++) {
		struct kpci *k = m->pcik.devs[i];

		if (name ? !strcmp(k->name, name) || !strcmp(k->name + 5, name)
			 : k->pdev.driver != NULL)
			return k;
	}
	return NULL;
}

int cmd_vfio(struct cli *cli, int argc, char **argv)
{
	uint64_t guest = 16ULL << 20;
	struct cli_extra extra = { vfio_opts, "", vfio_opt, &guest };
	struct dmasim_machine *dm;
	struct kpci *k;
	int i = cli_parse(cli, argc, argv, &extra), ret;

	if (i < 0)
		return EXIT_USAGE;
	if (argc - i > 1) {
		cli_error(cli, "unexpected argument '%s'", argv[i + 1]);
		return EXIT_USAGE;
	}
	dm = cli_boot(cli);
	if (!dm)
		return cli->boot_exit;
	k = pick((struct machine *)dm, i < argc ? argv[i] : NULL);
	if (!k) {
		cli_error(cli, i < argc ? "no PCI device %s (see dmasim lspci)"
					: "no device with a driver to assign%s",
			  i < argc ? argv[i] : "");
		dmasim_machine_destroy(dm);
		return 1;
	}
	if (k->pdev.hdr_type != 0) {
		cli_error(cli, "%s is a PCI bridge: vfio-pci takes endpoints (type 0 headers) only",
			  k->name);
		dmasim_machine_destroy(dm);
		return 1;
	}
	ret = vfio_story(dm, k, guest, stdout);
	dmasim_machine_destroy(dm);
	return ret;
}
