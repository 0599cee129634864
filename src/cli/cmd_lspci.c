/*
 * dmasim lspci: list the machine's PCI functions as pciutils' lspci does,
 * from what a user-space tool sees: the sysfs directory of devices, each
 * function's configuration space and its uevent (driver). Names come
 * from the device types, which play the role of pci.ids here.
 * Formats: "BB:DD.F Class: Vendor Device (rev NN)", -n "BB:DD.F CCCC:
 * VVVV:DDDD", -nn both, -t the bus tree, -v the verbose block.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "hw/pci.h"

struct fn_info {
	char name[16];	 /* 0000:BB:DD.F */
	uint8_t cfg[PCI_CFG_SPACE];
	unsigned bus, devfn;
	char driver[32];
	unsigned irq;
	int group;	 /* IOMMU group, -1: none */
};

struct lspci {
	struct fn_info *f;
	size_t n;
	int numeric;	 /* -n given once or twice */
	bool tree, verbose;
	int sel_bus, sel_slot, sel_func; /* -s, -1: any */
};

static unsigned cfg16(const struct fn_info *f, unsigned off)
{
	return f->cfg[off] | (unsigned)f->cfg[off + 1] << 8;
}

static uint32_t cfg32(const struct fn_info *f, unsigned off)
{
	return cfg16(f, off) | (uint32_t)cfg16(f, off + 2) << 16;
}

static const char *class_name(unsigned cls)
{
	static const struct { unsigned cls; const char *name; } t[] = {
		{ 0x0100, "SCSI storage controller" }, { 0x0101, "IDE interface" },
		{ 0x0106, "SATA controller" },
		{ 0x0108, "Non-Volatile memory controller" },
		{ 0x0200, "Ethernet controller" }, { 0x0300, "VGA compatible controller" },
		{ 0x0600, "Host bridge" }, { 0x0601, "ISA bridge" },
		{ 0x0604, "PCI bridge" }, { 0x0806, "IOMMU" },
		{ 0x0880, "System peripheral" },
		{ 0x0c03, "USB controller" }, { 0xff00, "Unassigned class" },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].cls == cls)
			return t[i].name;
	return NULL;
}

static const char *device_name(unsigned vendor, unsigned device)
{
	for (int i = 0; pci_types[i]; i++)
		if (pci_types[i]->vendor == vendor &&
		    pci_types[i]->device == device)
			return pci_types[i]->lspci_name;
	return NULL;
}

static void read_driver(struct dmasim_machine *m, struct fn_info *f)
{
	char path[96], *text = NULL, *p;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/uevent", f->name);
	if (dmasim_read(m, path, &text, NULL) == 0 &&
	    (p = strstr(text, "DRIVER=")) != NULL)
		snprintf(f->driver, sizeof(f->driver), "%.*s",
			 (int)strcspn(p + 7, "\n"), p + 7);
	free(text);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/irq", f->name);
	if (dmasim_read(m, path, &text, NULL) == 0)
		f->irq = (unsigned)strtoul(text, NULL, 10);
	free(text);
	/* as pciutils does: the last component of the iommu_group link */
	f->group = -1;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group",
		 f->name);
	text = NULL;
	if (dmasim_readlink(m, path, &text) == 0 && (p = strrchr(text, '/')))
		f->group = atoi(p + 1);
	free(text);
}

static int load(struct dmasim_machine *m, struct lspci *l)
{
	char **names;
	size_t count;
	int ret = dmasim_list(m, "/sys/bus/pci/devices", &names, &count);

	if (ret)
		return ret;
	l->f = calloc(count ? count : 1, sizeof(*l->f));
	for (size_t i = 0; l->f && i < count; i++) {
		struct fn_info *f = &l->f[l->n];
		unsigned dom, slot, func;

		if (sscanf(names[i], "%x:%x:%x.%x", &dom, &f->bus, &slot,
			   &func) != 4 ||
		    dmasim_pci_config(m, names[i], f->cfg, sizeof(f->cfg)))
			continue;
		snprintf(f->name, sizeof(f->name), "%s", names[i]);
		f->devfn = PCI_DEVFN(slot, func);
		read_driver(m, f);
		l->n++;
	}
	dmasim_free_names(names, count);
	return l->f ? 0 : -ENOMEM;
}

static bool selected(const struct lspci *l, const struct fn_info *f)
{
	return (l->sel_bus < 0 || (unsigned)l->sel_bus == f->bus) &&
	       (l->sel_slot < 0 || (unsigned)l->sel_slot == PCI_SLOT(f->devfn)) &&
	       (l->sel_func < 0 || (unsigned)l->sel_func == PCI_FUNC(f->devfn));
}

static void print_title(const struct lspci *l, const struct fn_info *f)
{
	unsigned cls = cfg16(f, PCI_CLASS_DEVICE);
	unsigned ven = cfg16(f, PCI_VENDOR_ID), dev = cfg16(f, PCI_DEVICE_ID);
	const char *cn = class_name(cls), *dn = device_name(ven, dev);
	uint8_t rev = f->cfg[PCI_REVISION_ID];

	printf("%02x:%02x.%x ", f->bus, PCI_SLOT(f->devfn), PCI_FUNC(f->devfn));
	if (l->numeric == 1) {
		printf("%04x: %04x:%04x", cls, ven, dev);
	} else {
		if (cn)
			printf("%s", cn);
		else
			printf("Class %04x", cls);
		if (l->numeric >= 2)
			printf(" [%04x]", cls);
		printf(": ");
		if (dn)
			printf("%s", dn);
		else
			printf("Device %04x:%04x", ven, dev);
		if (l->numeric >= 2)
			printf(" [%04x:%04x]", ven, dev);
	}
	if (rev)
		printf(" (rev %02x)", rev);
	putchar('\n');
}

static const char *exp_type_name(unsigned type)
{
	switch (type) {
	case PCI_EXP_TYPE_ENDPOINT: return "Endpoint";
	case PCI_EXP_TYPE_LEG_END: return "Legacy Endpoint";
	case PCI_EXP_TYPE_ROOT_PORT: return "Root Port (Slot-)";
	case PCI_EXP_TYPE_UPSTREAM: return "Upstream Port";
	case PCI_EXP_TYPE_DOWNSTREAM: return "Downstream Port (Slot-)";
	case PCI_EXP_TYPE_PCI_BRIDGE: return "PCI-Express to PCI/PCI-X Bridge";
	case PCI_EXP_TYPE_RC_END: return "Root Complex Integrated Endpoint";
	default: return "Unknown type";
	}
}

static void print_size(uint64_t size)
{
	static const char *const unit[] = { "", "K", "M", "G" };
	int u = 0;

	while (u < 3 && size >= 1024 && !(size % 1024)) {
		size /= 1024;
		u++;
	}
	printf("[size=%llu%s]", (unsigned long long)size, unit[u]);
}

/* The ATS capability as lspci -vv shows it: the queue depth, and
 * whether the kernel enabled ATS (with its smallest translation unit). */
static void print_ats(const struct fn_info *f, unsigned pos)
{
	unsigned cap = cfg16(f, pos + PCI_ATS_CAP);
	unsigned ctl = cfg16(f, pos + PCI_ATS_CTRL);

	printf("\tCapabilities: [%03x] Address Translation Service (ATS)\n", pos);
	printf("\t\tATSCap:\tInvalidate Queue Depth: %02x\n",
	       PCI_ATS_CAP_QDEP(cap));
	printf("\t\tATSCtl:\tEnable%c, Smallest Translation Unit: %02x\n",
	       ctl & PCI_ATS_CTRL_ENABLE ? '+' : '-', PCI_ATS_CTRL_STU(ctl));
}

static void print_caps(const struct fn_info *f)
{
	unsigned pos = f->cfg[PCI_CAPABILITY_LIST] & ~3u;

	for (int ttl = 48; pos >= 0x40 && ttl; ttl--) {
		unsigned id = f->cfg[pos];

		printf("\tCapabilities: [%02x] ", pos);
		if (id == PCI_CAP_ID_MSI) {
			unsigned fl = cfg16(f, pos + PCI_MSI_FLAGS);

			printf("MSI: Enable%c Count=%u/%u Maskable%c 64bit%c\n",
			       fl & 1 ? '+' : '-', 1u << ((fl >> 4) & 7),
			       1u << ((fl >> 1) & 7), fl & 0x100 ? '+' : '-',
			       fl & 0x80 ? '+' : '-');
		} else if (id == PCI_CAP_ID_EXP) {
			unsigned fl = cfg16(f, pos + PCI_EXP_FLAGS);

			printf("Express %s, MSI %02x\n",
			       exp_type_name((fl >> 4) & 0xf), (fl >> 9) & 0x1f);
		} else if (id == 0x0f) { /* the AMD IOMMU's: pciutils has no decoder */
			printf("Secure device <?>\n");
		} else {
			printf("Unknown capability %02x\n", id);
		}
		pos = f->cfg[pos + 1] & ~3u;
	}
	for (pos = 0x100; pos && pos < PCI_CFG_SPACE - 4;) {
		uint32_t hdr = cfg32(f, pos);

		if (!hdr || hdr == UINT32_MAX)
			break;
		if ((hdr & 0xffff) == PCI_EXT_CAP_ID_ATS)
			print_ats(f, pos);
		else
			printf("\tCapabilities: [%03x] %s\n", pos,
			       (hdr & 0xffff) == PCI_EXT_CAP_ID_ACS
				       ? "Access Control Services"
				       : "Extended capability");
		pos = hdr >> 20;
	}
}

static void print_verbose(const struct fn_info *f, const struct lspci *l)
{
	unsigned cmd = cfg16(f, PCI_COMMAND);
	bool bridge = (f->cfg[PCI_HEADER_TYPE] & 0x7f) == 1;
	bool master = cmd & PCI_COMMAND_MASTER;

	if (!bridge && cfg16(f, PCI_SUBSYSTEM_VENDOR_ID)) {
		const char *dn = device_name(cfg16(f, PCI_SUBSYSTEM_VENDOR_ID),
					     cfg16(f, PCI_SUBSYSTEM_ID));

		if (dn && l->numeric != 1)
			printf("\tSubsystem: %s\n", dn);
		else
			printf("\tSubsystem: %04x:%04x\n",
			       cfg16(f, PCI_SUBSYSTEM_VENDOR_ID),
			       cfg16(f, PCI_SUBSYSTEM_ID));
	}
	printf("\tFlags: %sfast devsel%s", master ? "bus master, " : "",
	       master ? ", latency 0" : "");
	if (f->irq)
		printf(", IRQ %u", f->irq);
	if (f->group >= 0)
		printf(", IOMMU group %d", f->group);
	putchar('\n');
	if (!bridge && (cfg32(f, PCI_BASE_ADDRESS_0) & ~0xfu)) {
		uint64_t a = (cfg32(f, PCI_BASE_ADDRESS_0) & ~0xfull) |
			     (uint64_t)cfg32(f, PCI_BASE_ADDRESS_0 + 4) << 32;
		const struct pci_type *t = NULL;

		for (int i = 0; pci_types[i]; i++)
			if (pci_types[i]->vendor == cfg16(f, PCI_VENDOR_ID) &&
			    pci_types[i]->device == cfg16(f, PCI_DEVICE_ID))
				t = pci_types[i];
		printf("\tMemory at %08llx (64-bit, non-prefetchable)%s ",
		       (unsigned long long)a,
		       cmd & PCI_COMMAND_MEMORY ? "" : " [disabled]");
		print_size(t ? t->bar0_size : 0);
		putchar('\n');
	}
	if (bridge)
		printf("\tBus: primary=%02x, secondary=%02x, subordinate=%02x, sec-latency=0\n",
		       f->cfg[PCI_PRIMARY_BUS], f->cfg[PCI_SECONDARY_BUS],
		       f->cfg[PCI_SUBORDINATE_BUS]);
	if (bridge && cfg16(f, PCI_MEMORY_BASE) <= cfg16(f, PCI_MEMORY_LIMIT)) {
		uint64_t b = (uint64_t)(cfg16(f, PCI_MEMORY_BASE) & 0xfff0) << 16;
		uint64_t e = ((uint64_t)(cfg16(f, PCI_MEMORY_LIMIT) & 0xfff0) << 16) |
			     0xfffff;

		printf("\tMemory behind bridge: %08llx-%08llx ",
		       (unsigned long long)b, (unsigned long long)e);
		print_size(e - b + 1);
		printf(" [32-bit]\n");
	}
	print_caps(f);
	if (f->driver[0])
		printf("\tKernel driver in use: %s\n", f->driver);
	putchar('\n');
}

/* -t: the tree, drawn as lspci draws it. */
struct tree {
	char line[1024];
	char pre[1024]; /* what continuation lines show in each column */
	size_t col;
};

static void emit(struct tree *t, const char *s, char mark)
{
	for (; *s && t->col + 1 < sizeof(t->line); s++) {
		t->line[t->col] = *s;
		t->pre[t->col++] = mark;
	}
	t->line[t->col] = '\0';
}

static void newline(struct tree *t, size_t col)
{
	printf("%s\n", t->line);
	memcpy(t->line, t->pre, col);
	t->col = col;
	t->line[col] = '\0';
}

static void tree_bus(const struct lspci *l, struct tree *t, unsigned bus,
		     bool root);

static void tree_dev(const struct lspci *l, struct tree *t,
		     const struct fn_info *f)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%02x.%x", PCI_SLOT(f->devfn),
		 PCI_FUNC(f->devfn));
	emit(t, buf, ' ');
	if ((f->cfg[PCI_HEADER_TYPE] & 0x7f) != 1)
		return;
	if (f->cfg[PCI_SECONDARY_BUS] == f->cfg[PCI_SUBORDINATE_BUS])
		snprintf(buf, sizeof(buf), "-[%02x]-", f->cfg[PCI_SECONDARY_BUS]);
	else
		snprintf(buf, sizeof(buf), "-[%02x-%02x]-",
			 f->cfg[PCI_SECONDARY_BUS], f->cfg[PCI_SUBORDINATE_BUS]);
	emit(t, buf, ' ');
	tree_bus(l, t, f->cfg[PCI_SECONDARY_BUS], false);
}

static void tree_bus(const struct lspci *l, struct tree *t, unsigned bus,
		     bool root)
{
	const struct fn_info *kids[256];
	size_t n = 0, col;

	for (size_t i = 0; i < l->n && n < 256; i++)
		if (l->f[i].bus == bus)
			kids[n++] = &l->f[i];
	if (n == 0) {
		emit(t, "-", ' ');
		return;
	}
	if (n == 1) {
		emit(t, root ? "--" : "---", ' ');
		tree_dev(l, t, kids[0]);
		return;
	}
	if (!root)
		emit(t, "-", ' ');
	col = t->col;
	for (size_t i = 0; i < n; i++) {
		if (i)
			newline(t, col);
		emit(t, i + 1 < n ? "+" : "\\", i + 1 < n ? '|' : ' ');
		emit(t, "-", ' ');
		tree_dev(l, t, kids[i]);
	}
}

static void print_tree(const struct lspci *l)
{
	struct tree t = { .col = 0 };

	emit(&t, "-[0000:00]-", ' ');
	tree_bus(l, &t, 0, true);
	printf("%s\n", t.line);
}

static int parse_sel(struct lspci *l, const char *s)
{
	const char *colon = strchr(s, ':'), *p = colon ? colon + 1 : s;
	const char *dot = strchr(p, '.');
	char *end;

	l->sel_bus = l->sel_slot = l->sel_func = -1;
	if (colon && colon > s) {
		l->sel_bus = (int)strtol(s, &end, 16);
		if (end != colon || l->sel_bus > 0xff || l->sel_bus < 0)
			return -1;
	}
	if ((dot ? dot : p + strlen(p)) > p) {
		l->sel_slot = (int)strtol(p, &end, 16);
		if (end != (dot ? dot : p + strlen(p)) || l->sel_slot > 0x1f ||
		    l->sel_slot < 0)
			return -1;
	}
	if (dot && dot[1]) {
		l->sel_func = (int)strtol(dot + 1, &end, 16);
		if (*end || l->sel_func > 7 || l->sel_func < 0)
			return -1;
	}
	return 0;
}

static int lspci_option(struct cli *cli, int opt, const char *arg, void *ctx)
{
	struct lspci *l = ctx;

	switch (opt) {
	case 't': l->tree = true; return 0;
	case 'v': l->verbose = true; return 0;
	case 'n': l->numeric++; return 0;
	case 's':
		if (parse_sel(l, arg)) {
			cli_error(cli, "-s '%s': expected [[BB]:][DD][.F] in hexadecimal",
				  arg);
			return EXIT_USAGE;
		}
		return 0;
	}
	return -1;
}

int cmd_lspci(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	struct lspci l = { .sel_bus = -1, .sel_slot = -1, .sel_func = -1 };
	const struct cli_extra extra = { opts, "tvns:", lspci_option, &l };
	struct dmasim_machine *m;

	m = cli_boot_noargs(cli, argc, argv, &extra);
	if (!m)
		return cli->boot_exit;
	if (load(m, &l)) {
		cli_error(cli, "cannot read the PCI devices");
		dmasim_machine_destroy(m);
		return 1;
	}
	if (l.tree)
		print_tree(&l);
	for (size_t k = 0; !l.tree && k < l.n; k++) {
		if (!selected(&l, &l.f[k]))
			continue;
		print_title(&l, &l.f[k]);
		if (l.verbose)
			print_verbose(&l.f[k], &l);
	}
	free(l.f);
	dmasim_machine_destroy(m);
	return 0;
}

static void print_type(const struct pci_type *t)
{
	static const char *const roles[] = {
		"host bridge", "root port", "switch upstream port",
		"switch downstream port", "PCIe-to-PCI bridge", "endpoint",
		"integrated endpoint",
	};

	printf("  %-20s %s (%s, %04x:%04x)\n", t->name, t->help,
	       roles[t->role], t->vendor, t->device);
}

int cmd_devices(struct cli *cli, int argc, char **argv)
{
	int i = cli_parse(cli, argc, argv, NULL);

	if (i < 0)
		return EXIT_USAGE;
	if (i < argc) {
		cli_error(cli, "unexpected argument '%s'", argv[i]);
		return EXIT_USAGE;
	}
	printf("Device types for --device TYPE[,id=ID][,bus=ID][,addr=[BB:]DD[.F]][,key=value...]:\n");
	for (int k = 0; pci_types[k]; k++)
		if (!pci_types[k]->builtin)
			print_type(pci_types[k]);
	printf("\nEvery device takes id=, bus= (pcie.0 or the id of a bridge or port given\n"
	       "before it), addr= and multifunction=on|off; ports take acs=on|off and\n"
	       "external=on|off, root ports atsr=on|off (ATS allowed below: an ACPI ATSR\n"
	       "lists the port). The default machine has: pcie-root-port,id=rp0,addr=01.0;\n"
	       "disk,id=disk0,bus=rp0; dmac,id=dmac0,addr=02.0 (--nodefaults removes them).\n"
	       "See docs/devices.md for each type's own options.\n");
	return 0;
}
