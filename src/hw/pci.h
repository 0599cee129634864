/*
 * The PCI fabric: a host bridge with its root bus, PCIe root ports,
 * switches (an upstream port with a bus of downstream ports), PCIe-to-PCI
 * bridges and endpoints, each a function with a 4 KiB configuration space
 * laid out as the PCI and PCIe specifications say (type 0 and type 1
 * headers, the MSI and PCI Express capabilities, the ACS extended
 * capability). Bus numbers are assigned by a depth-first enumeration, as
 * firmware does. A device model is a type with hooks; its registers live
 * in memory BARs whose accesses call the model (see mmio.h).
 */
#ifndef DMASIM_HW_PCI_H
#define DMASIM_HW_PCI_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct machine;
struct pci_func;
struct mmio_region;
struct iommu_unit;

/* Configuration space offsets and bits (PCI Local Bus 3.0, PCIe 4.0). */
#define PCI_VENDOR_ID		0x00
#define PCI_DEVICE_ID		0x02
#define PCI_COMMAND		0x04
#define  PCI_COMMAND_MEMORY	0x2
#define  PCI_COMMAND_MASTER	0x4
#define  PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS		0x06
#define  PCI_STATUS_CAP_LIST	0x10
#define  PCI_STATUS_REC_MASTER_ABORT 0x2000
#define  PCI_STATUS_SIG_SYSTEM_ERROR 0x4000
#define PCI_REVISION_ID		0x08
#define PCI_CLASS_PROG		0x09
#define PCI_CLASS_DEVICE	0x0a
#define PCI_HEADER_TYPE		0x0e
#define  PCI_HEADER_TYPE_BRIDGE	0x01
#define  PCI_HEADER_MULTIFUNC	0x80
#define PCI_BASE_ADDRESS_0	0x10
#define PCI_PRIMARY_BUS		0x18
#define PCI_SECONDARY_BUS	0x19
#define PCI_SUBORDINATE_BUS	0x1a
#define PCI_MEMORY_BASE		0x20 /* bridges */
#define PCI_MEMORY_LIMIT	0x22
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID	0x2e
#define PCI_CAPABILITY_LIST	0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d

#define PCI_CAP_ID_MSI		0x05
#define PCI_CAP_ID_EXP		0x10
#define PCI_MSI_FLAGS		2    /* within the capability */
#define  PCI_MSI_FLAGS_ENABLE	0x1
#define  PCI_MSI_FLAGS_64BIT	0x80
#define PCI_MSI_ADDRESS_LO	4
#define PCI_MSI_ADDRESS_HI	8
#define PCI_MSI_DATA_64		12
#define PCI_EXP_FLAGS		2
#define PCI_EXP_TYPE_ENDPOINT	0x0
#define PCI_EXP_TYPE_LEG_END	0x1
#define PCI_EXP_TYPE_ROOT_PORT	0x4
#define PCI_EXP_TYPE_UPSTREAM	0x5
#define PCI_EXP_TYPE_DOWNSTREAM 0x6
#define PCI_EXP_TYPE_PCI_BRIDGE 0x7
#define PCI_EXP_TYPE_RC_END	0x9

#define PCI_EXT_CAP_ID_ACS	0x0d
#define PCI_ACS_CAP		4    /* within the capability */
#define PCI_ACS_CTRL		6
#define  PCI_ACS_SV		0x01 /* source validation */
#define  PCI_ACS_TB		0x02 /* translation blocking */
#define  PCI_ACS_RR		0x04 /* P2P request redirect */
#define  PCI_ACS_CR		0x08 /* P2P completion redirect */
#define  PCI_ACS_UF		0x10 /* upstream forwarding */
#define  PCI_ACS_EC		0x20 /* P2P egress control */
#define  PCI_ACS_DT		0x40 /* direct translated P2P */
#define PCI_EXT_CAP_ID_ATS	0x0f /* Address Translation Services */
#define PCI_ATS_CAP		4    /* within the capability (16 bits) */
#define  PCI_ATS_CAP_QDEP(c)	((c) & 0x1f) /* invalidate queue depth */
#define  PCI_ATS_CAP_PAGE_ALIGNED 0x0020 /* requests are page aligned */
#define PCI_ATS_CTRL		6    /* 16 bits */
#define  PCI_ATS_CTRL_ENABLE	0x8000
#define  PCI_ATS_CTRL_STU(s)	((s) & 0x1f) /* smallest translation unit */
#define PCI_ATS_MIN_STU		12   /* STU 0: 4 KiB */

#define PCI_CFG_SPACE		4096
#define PCI_CAP_MSI_OFF		0x50
#define PCI_CAP_EXP_OFF		0x70
#define PCI_EXT_ACS_OFF		0x100
#define PCI_NUM_BARS		6

#define PCI_DEVFN(slot, fn)	((((slot) & 0x1f) << 3) | ((fn) & 0x07))
#define PCI_SLOT(devfn)		(((devfn) >> 3) & 0x1f)
#define PCI_FUNC(devfn)		((devfn) & 0x07)

/* What a function is in the fabric. */
enum pci_role {
	PCI_ROLE_HOST,	      /* host bridge, 00:00.0 */
	PCI_ROLE_ROOT_PORT,   /* PCIe root port: a bridge on the root bus */
	PCI_ROLE_SWITCH_UP,   /* switch upstream port: a bridge */
	PCI_ROLE_SWITCH_DOWN, /* switch downstream port: a bridge */
	PCI_ROLE_PCI_BRIDGE,  /* PCIe-to-PCI bridge: conventional PCI below */
	PCI_ROLE_ENDPOINT,    /* PCIe endpoint (or PCI device below a bridge) */
	PCI_ROLE_RC_ENDPOINT, /* root-complex integrated endpoint */
};

/* Result of a bus-master access as the device sees it. */
enum pci_status {
	PCI_STATUS_OK = 0,
	PCI_STATUS_MASTER_ABORT, /* bus mastering disabled: never left */
	PCI_STATUS_UR,		 /* unsupported request: no RAM answered */
};

/* A device model: what `--device TYPE,...` creates. */
struct pci_type {
	const char *name;
	const char *help;	  /* one line for `dmasim devices` */
	enum pci_role role;
	uint16_t vendor, device;
	uint32_t class_code;	  /* class << 16 | subclass << 8 | prog-if */
	uint8_t revision;
	const char *lspci_name;	  /* "Vendor Device" as lspci prints it */
	bool builtin;		  /* part of the platform, not for --device */
	bool remapping_unit;	  /* the IOMMU's own function: untranslated */
	uint32_t bar0_size;	  /* 0: no registers */
	unsigned int nr_msi;	  /* MSI vectors the function asks for */
	size_t priv_size;	  /* model state, zeroed, at fn->priv */
	/* A "key=value" the generic parser does not know: 0, or -EINVAL
	 * with a message. */
	int (*set_option)(struct pci_func *fn, const char *key,
			  const char *val, char *err, size_t errlen);
	/* After options and placement: open files, start threads. */
	int (*realize)(struct pci_func *fn, char *err, size_t errlen);
	void (*unrealize)(struct pci_func *fn);
	/* Register accesses (offset within BAR 0, size 1/2/4/8). */
	uint64_t (*mmio_read)(struct pci_func *fn, uint64_t off, unsigned size);
	void (*mmio_write)(struct pci_func *fn, uint64_t off, uint64_t val,
			   unsigned size);
	/* Type-specific configuration space (capabilities), after the
	 * common header and capabilities are filled in. */
	void (*fill_config)(struct pci_func *fn);
	/* Quiesce: stop touching memory (called before teardown). */
	void (*reset)(struct pci_func *fn);
};

struct pci_counters {
	_Atomic uint64_t reads, writes;	   /* bus-master transactions */
	_Atomic uint64_t bytes_read, bytes_written;
	_Atomic uint64_t master_aborts;	   /* dropped: BME clear */
	_Atomic uint64_t unsupported;	   /* UR: hole, beyond RAM, fault */
	_Atomic uint64_t msi_sent, msi_dropped;
};

struct pci_func {
	struct machine *m;
	const struct pci_type *type;
	char id[32];		/* id= or generated ("dmac0") */
	uint16_t domain;
	uint8_t bus, devfn;	/* assigned by enumeration / placement */
	char name[16];		/* "0000:02:00.0" */
	uint8_t cfg[PCI_CFG_SPACE];
	_Atomic uint16_t command; /* mirror of PCI_COMMAND, read on DMA */
	struct pci_func *parent; /* upstream bridge; NULL on the root bus */
	struct pci_func *next;	 /* all functions, in bus order */
	struct pci_func *children; /* for bridges: functions below */
	struct pci_func *sibling;
	uint8_t secondary, subordinate; /* bridges */
	uint64_t win_start, win_end;	/* bridge memory window (0: none) */
	bool realized;
	bool external;		 /* an external-facing port (untrusted) */
	bool atsr;		 /* a root port the DMAR table's ATSR lists */
	bool conventional;	 /* PCI, not PCIe (below a PCIe-to-PCI bridge) */
	struct mmio_region *bar0;
	struct iommu_unit *iommu;	/* the remapping unit covering it */
	uint64_t bar0_addr;
	/* MSI as programmed by the kernel (address, data per vector). */
	_Atomic uint64_t msi_addr;
	_Atomic uint32_t msi_data;
	_Atomic unsigned int msi_enabled; /* vectors enabled (0: none) */
	struct pci_counters cnt;
	void *priv;
	/* parsing state */
	char *spec;		/* as given, for messages */
	char bus_id[32];
	int want_slot, want_func, want_busnr; /* -1: any */
	bool multifunction;
	bool acs;
};

struct pci_fabric {
	struct pci_func *host;	/* 00:00.0 */
	struct pci_func *list;	/* every function, in enumeration order */
	unsigned int nr;
	uint8_t last_bus;
	uint64_t mmio_next;	/* BAR allocation cursor */
};

/* Build the fabric from device specs (NULL-terminated not required:
 * @n specs). Adds the default devices unless @nodefaults. */
int pci_fabric_init(struct machine *m, const char *const *specs, size_t n,
		    bool nodefaults, char *err, size_t errlen);
void pci_fabric_destroy(struct machine *m);

/* Lookups. */
struct pci_func *pci_find_id(struct machine *m, const char *id);
struct pci_func *pci_find_bdf(struct machine *m, unsigned int bus,
			      unsigned int devfn);
const struct pci_type *pci_type_find(const char *name);
extern const struct pci_type *const pci_types[];

static inline bool pci_is_bridge(const struct pci_func *fn)
{
	return fn->type->role >= PCI_ROLE_ROOT_PORT &&
	       fn->type->role <= PCI_ROLE_PCI_BRIDGE;
}

/* The requester ID upstream sees: bus << 8 | devfn, or for a
 * conventional device the PCIe-to-PCI bridge's secondary bus, devfn 0
 * (its DMA alias). */
uint16_t pci_requester_id(const struct pci_func *fn);

/* Configuration space accessors (little-endian, as the hardware). */
uint32_t pci_cfg_read(struct pci_func *fn, unsigned off, unsigned size);
void pci_cfg_write(struct pci_func *fn, unsigned off, uint32_t val,
		   unsigned size);
unsigned pci_find_capability(const struct pci_func *fn, uint8_t id);
unsigned pci_find_ext_capability(const struct pci_func *fn, uint16_t id);
/* Append an extended capability of @id (version 1) at the end of the
 * list (a device type's fill_config): its offset, or 0 without room. */
unsigned pci_add_ext_capability(struct pci_func *fn, uint16_t id);

/* Raise MSI vector @vec of @fn: dropped (and counted) unless enabled and
 * bus mastering is on (an MSI is a memory write). */
void pci_msi_raise(struct pci_func *fn, unsigned int vec);

#endif
