/*
 * intel-iommu: the unit, boot and faults (see intel.h). Texts follow
 * Linux 6.1 (pr_fmt "DMAR: "): the DMAR table lines printed whenever the
 * firmware describes a unit, "IOMMU enabled" for intel_iommu=on, the
 * RMRR/ATSR/SATC lines, "dmar0: Using Queued invalidation", a group line
 * per function, "Intel(R) Virtualization Technology for Directed I/O";
 * faults as "DRHD: handling fault status reg %x" and "[DMA Read NO_PASID]
 * Request device [bb:dd.f] fault addr 0x%llx [fault reason 0x%02x] %s",
 * rate-limited to 10 lines per 5 s.
 */
#define PR_PREFIX "DMAR: "
#include "kernel/iommu/intel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/hw/vtd.h"
#include "dmasim/linux/io.h"
#include "dmasim/linux/pci.h"
#include "hw/apic.h"
#include "hw/mmio.h"
#include "hw/vtd.h"

#include "kernel/dma/swiotlb.h"
#include "kernel/iommu/dma-iommu.h"
#include "kernel/iommu/iommu.h"
#include "kernel/iommu/iommu_sysfs.h"
#include "kernel/machine.h"

static const char *const fault_reasons[] = {
	"Software",
	"Present bit in root entry is clear",
	"Present bit in context entry is clear",
	"Invalid context entry",
	"Access beyond MGAW",
	"PTE Write access is not set",
	"PTE Read access is not set",
	"Next page table ptr is invalid",
	"Root table address invalid",
	"Context table ptr is invalid",
	"non-zero reserved fields in RTP",
	"non-zero reserved fields in CTP",
	"non-zero reserved fields in PTE",
	"PCE for translation request specifies blocking",
};

struct intel_iommu *intel_iommu_of(struct machine *m)
{
	return m ? m->intel_iommu : NULL;
}

int intel_iommu_setup(struct machine *m, const char *val)
{
	while (val && *val) {
		size_t n = strcspn(val, ",");
		char opt[32];

		snprintf(opt, sizeof(opt), "%.*s", (int)n, val);
		if (!strcmp(opt, "on")) {
			m->intel_iommu_on = true;
			pr_info(m, "IOMMU enabled\n");
		} else if (!strcmp(opt, "off")) {
			m->intel_iommu_on = false;
			pr_info(m, "IOMMU disabled\n");
		} else if (!strcmp(opt, "sp_off")) {
			m->intel_sp_off = true;
			pr_info(m, "Disable supported super page\n");
		} else if (!strcmp(opt, "igfx_off")) {
			pr_info(m, "Disable GFX device mapping\n");
		} else if (!strcmp(opt, "strict")) {
			pr_warn(m, "intel_iommu=strict deprecated; use iommu.strict=1 instead\n");
			m->iommu_policy.strict = true;
			m->iommu_policy.strict_from_cmdline = true;
		} else if (n) {
			pr_notice(m, "Unknown option - '%s'\n", opt);
			bootparam_problem(m, "intel_iommu: unknown option '%s' (ignored, as Linux does)",
					  opt);
		}
		val += n + (val[n] == ',');
	}
	return 0;
}

static struct iommu_unit *dmar_unit(struct machine *m)
{
	for (struct iommu_unit *u = m->iommu_units; u; u = u->next)
		if (vtd_is_unit(u))
			return u;
	return NULL;
}

/* ---- ATSR (root port ATS capability reporting) ------------------------ */

/* The firmware's ATSR: 0 none, 1 one listing the root ports given
 * atsr=on (flags 0), 2 one with ALL_PORTS (flags 1, the machine's
 * --ats). */
static int atsr_flags(struct machine *m)
{
	if (m->cfg.ats)
		return 2;
	for (struct pci_func *f = m->pci.list; f; f = f->next)
		if (f->atsr && f->type->role == PCI_ROLE_ROOT_PORT)
			return 1;
	return 0;
}

bool intel_dmar_ats_supported(struct machine *m, struct pci_dev *pdev)
{
	struct pci_func *p = ((struct pci_func *)pdev->hw)->parent;

	for (; p; p = p->parent) {
		if (p->conventional || p->type->role == PCI_ROLE_PCI_BRIDGE)
			return false;
		if (p->type->role == PCI_ROLE_ROOT_PORT)
			break;
	}
	if (!p)
		return true; /* integrated: on the root bus */
	return m->cfg.ats || p->atsr;
}

void intel_dmar_table_init(struct machine *m)
{
	struct iommu_unit *u = dmar_unit(m);
	void *reg;
	uint32_t ver;

	if (!u)
		return;
	reg = mmio_window(vtd_regs(u));
	ver = readl((char *)reg + DMAR_VER_REG);
	pr_info(m, "Host address width %u\n",
		VTD_CAP_MGAW(readq((char *)reg + DMAR_CAP_REG)));
	pr_info(m, "DRHD base: %#016llx flags: 0x1\n",
		(unsigned long long)vtd_reg_base(u));
	pr_info(m, "dmar0: reg_base_addr %llx ver %u:%u cap %llx ecap %llx\n",
		(unsigned long long)vtd_reg_base(u), VTD_VER_MAJOR(ver),
		VTD_VER_MINOR(ver),
		(unsigned long long)readq((char *)reg + DMAR_CAP_REG),
		(unsigned long long)readq((char *)reg + DMAR_ECAP_REG));
	if (atsr_flags(m))
		pr_info(m, "ATSR flags: %#x\n", atsr_flags(m) == 2 ? 1u : 0u);
}

static void *kva(struct intel_iommu *iu, uint64_t phys)
{
	return iu->m->ram.cpu + phys;
}

static void reg_w32(struct intel_iommu *iu, unsigned off, uint32_t v)
{
	writel(v, (char *)iu->reg + off);
}

static uint32_t reg_r32(struct intel_iommu *iu, unsigned off)
{
	return readl((char *)iu->reg + off);
}

static void reg_w64(struct intel_iommu *iu, unsigned off, uint64_t v)
{
	writeq(v, (char *)iu->reg + off);
}

static uint64_t reg_r64(struct intel_iommu *iu, unsigned off)
{
	return readq((char *)iu->reg + off);
}

/* A global command and wait for its status bit (the model is prompt). */
static int gcmd(struct intel_iommu *iu, uint32_t bit, bool set)
{
	uint32_t sts_bit = bit;

	if (bit & VTD_GCMD_ONESHOT) {
		reg_w32(iu, DMAR_GCMD_REG, iu->gcmd | bit);
	} else {
		iu->gcmd = set ? iu->gcmd | bit : iu->gcmd & ~bit;
		reg_w32(iu, DMAR_GCMD_REG, iu->gcmd);
	}
	for (int i = 0; i < 1000; i++)
		if (!!(reg_r32(iu, DMAR_GSTS_REG) & sts_bit) == set)
			return 0;
	return -ETIMEDOUT;
}

/* ---- queued invalidation --------------------------------------------- */

static void qi_submit(struct intel_iommu *iu, const uint64_t desc[2])
{
	uint64_t *q = kva(iu, iu->qi);
	unsigned int n = VTD_IQ_ENTRIES(0);
	uint64_t wait[2];
	volatile uint32_t *status = kva(iu, iu->qi_status);
	uint32_t seq = ++iu->qi_seq;

	q[iu->qi_tail * 2] = desc[0];
	q[iu->qi_tail * 2 + 1] = desc[1];
	iu->qi_tail = (iu->qi_tail + 1) % n;
	wait[0] = VTD_QI_WAIT | VTD_QI_WAIT_SW | (uint64_t)seq << 32;
	wait[1] = iu->qi_status;
	q[iu->qi_tail * 2] = wait[0];
	q[iu->qi_tail * 2 + 1] = wait[1];
	iu->qi_tail = (iu->qi_tail + 1) % n;
	reg_w64(iu, DMAR_IQT_REG, (uint64_t)iu->qi_tail << VTD_IQ_INDEX_SHIFT);
	for (int i = 0; i < 100000 && *status != seq; i++)
		;
	if (reg_r32(iu, DMAR_FSTS_REG) & VTD_FSTS_IQE) {
		pr_err(iu->m, "Invalidation Queue Error (IQE) cleared\n");
		reg_w32(iu, DMAR_FSTS_REG, VTD_FSTS_IQE);
	}
}

void qi_flush_context(struct intel_iommu *iu, uint16_t did, uint16_t sid)
{
	uint64_t d[2] = { VTD_QI_CC | (uint64_t)(sid ? 3 : 1) << VTD_QI_GRAN_SHIFT |
				  (uint64_t)did << 16 | (uint64_t)sid << 32,
			  0 };

	pthread_mutex_lock(&iu->lock);
	qi_submit(iu, d);
	pthread_mutex_unlock(&iu->lock);
}

void qi_flush_iotlb(struct intel_iommu *iu, uint16_t did, uint64_t addr,
		    unsigned int am, int granularity)
{
	uint64_t d[2] = { VTD_QI_IOTLB | (uint64_t)granularity << VTD_QI_GRAN_SHIFT |
				  VTD_QI_IOTLB_DR | VTD_QI_IOTLB_DW |
				  (uint64_t)did << 16,
			  granularity == 3 ? (addr & ~0xfffULL) | am : 0 };

	pthread_mutex_lock(&iu->lock);
	qi_submit(iu, d);
	pthread_mutex_unlock(&iu->lock);
}

/* Device-TLB invalidate: S = 1 encodes 2^am pages in the address's
 * low bits (a run of ones below the size), as the specification has. */
void qi_flush_dev_iotlb(struct intel_iommu *iu, uint16_t sid, uint64_t addr,
			unsigned int am)
{
	uint64_t d[2] = { VTD_QI_DEV_IOTLB | (uint64_t)sid << 32, 0 };

	addr &= ~0xfffULL;
	if (am)
		d[1] = (addr | (((1ULL << (am + 11)) - 1) & ~0xfffULL)) |
		       VTD_QI_DEVTLB_S;
	else
		d[1] = addr;
	pthread_mutex_lock(&iu->lock);
	qi_submit(iu, d);
	pthread_mutex_unlock(&iu->lock);
}

/* ---- context entries -------------------------------------------------- */

int intel_context_set(struct intel_iommu *iu, uint16_t sid, uint16_t did,
		      uint64_t pgd, unsigned int tt)
{
	bool passthrough = tt == VTD_TT_PASS_THROUGH;

	unsigned int bus = sid >> 8, devfn = sid & 0xff;
	uint64_t *root = kva(iu, iu->root), *ctx;

	pthread_mutex_lock(&iu->lock);
	if (!iu->ctx[bus]) {
		iu->ctx[bus] = iommu_table_alloc(iu->m, 0);
		if (!iu->ctx[bus]) {
			pthread_mutex_unlock(&iu->lock);
			return -ENOMEM;
		}
		__atomic_store_n(&root[bus * 2], iu->ctx[bus] | VTD_ROOT_P,
				 __ATOMIC_RELEASE);
	}
	ctx = kva(iu, iu->ctx[bus]);
	__atomic_store_n(&ctx[devfn * 2 + 1],
			 (uint64_t)iu->agaw | (uint64_t)did << VTD_CTX_DID_SHIFT,
			 __ATOMIC_RELEASE);
	__atomic_store_n(&ctx[devfn * 2],
			 (passthrough ? 0 : pgd) | VTD_CTX_P |
				 (uint64_t)tt << VTD_CTX_TT_SHIFT,
			 __ATOMIC_RELEASE);
	pthread_mutex_unlock(&iu->lock);
	qi_flush_context(iu, did, sid);
	qi_flush_iotlb(iu, did, 0, 0, 2);
	return 0;
}

void intel_context_clear(struct intel_iommu *iu, uint16_t sid)
{
	unsigned int bus = sid >> 8, devfn = sid & 0xff;
	uint64_t *ctx;
	uint16_t did;

	if (!iu->ctx[bus])
		return;
	pthread_mutex_lock(&iu->lock);
	ctx = kva(iu, iu->ctx[bus]);
	did = (uint16_t)(ctx[devfn * 2 + 1] >> VTD_CTX_DID_SHIFT);
	__atomic_store_n(&ctx[devfn * 2], 0, __ATOMIC_RELEASE);
	__atomic_store_n(&ctx[devfn * 2 + 1], 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&iu->lock);
	qi_flush_context(iu, did, sid);
	qi_flush_iotlb(iu, did, 0, 0, 2);
}

/* ---- faults ----------------------------------------------------------- */

static void fault_do_one(struct intel_iommu *iu, uint64_t lo, uint64_t hi)
{
	unsigned int reason = VTD_FRCD_FR(hi);
	uint16_t sid = VTD_FRCD_SID(hi);

	pr_err(iu->m,
	       "[%s NO_PASID] Request device [%02x:%02x.%d] fault addr 0x%llx [fault reason 0x%02x] %s\n",
	       (hi & VTD_FRCD_T) ? "DMA Read" : "DMA Write", sid >> 8,
	       (sid >> 3) & 0x1f, sid & 7,
	       (unsigned long long)(lo & VTD_FRCD_FI_MASK), reason,
	       reason < sizeof(fault_reasons) / sizeof(fault_reasons[0])
		       ? fault_reasons[reason] : "Unknown");
}

static irqreturn_t dmar_fault(int irq, void *data)
{
	struct intel_iommu *iu = data;
	uint32_t fsts = reg_r32(iu, DMAR_FSTS_REG);
	unsigned int nfr = VTD_CAP_NFR(iu->cap), fro = VTD_CAP_FRO(iu->cap);
	unsigned int idx = VTD_FSTS_FRI(fsts);
	bool show = fsts && ratelimit_ok(iu->m, &iu->fault_rs, "dmar_fault");

	(void)irq;
	if (show)
		pr_err(iu->m, "DRHD: handling fault status reg %x\n", fsts);
	for (unsigned int n = 0; (fsts & VTD_FSTS_PPF) && n < nfr; n++) {
		unsigned int off = fro + ((idx + n) % nfr) * VTD_FRCD_LEN;
		uint64_t hi = reg_r64(iu, off + 8), lo;

		if (!(hi & VTD_FRCD_F))
			break;
		lo = reg_r64(iu, off);
		if (ratelimit_ok(iu->m, &iu->fault_rs, "dmar_fault"))
			fault_do_one(iu, lo, hi);
		/* F is write-1-to-clear, in the top 32-bit word */
		reg_w32(iu, off + 12, VTD_FRCD_HI32_F);
	}
	reg_w32(iu, DMAR_FSTS_REG, fsts & VTD_FSTS_W1C);
	return IRQ_HANDLED;
}

static int setup_fault_irq(struct intel_iommu *iu)
{
	struct machine *m = iu->m;
	int irq = irq_alloc_msi(m, 1, "DMAR-MSI", 0);
	struct irq_desc *d;

	if (irq < 0)
		return irq;
	iu->irq = irq;
	if (request_irq((unsigned)irq, dmar_fault, 0, "dmar0", iu))
		return -EBUSY;
	d = irq_to_desc(m, (unsigned)irq);
	reg_w32(iu, DMAR_FEDATA_REG, d->vector);
	reg_w32(iu, DMAR_FEADDR_REG, (uint32_t)apic_msi_address(d->cpu));
	reg_w32(iu, DMAR_FEUADDR_REG, 0);
	reg_w32(iu, DMAR_FECTL_REG, 0); /* unmask */
	return 0;
}

/* ---- bring-up --------------------------------------------------------- */

static int setup_tables(struct intel_iommu *iu)
{
	iu->root = iommu_table_alloc(iu->m, 0);
	iu->qi = iommu_table_alloc(iu->m, 0);
	iu->qi_status = iommu_table_alloc(iu->m, 0);
	if (!iu->root || !iu->qi || !iu->qi_status)
		return -ENOMEM;
	reg_w64(iu, DMAR_IQT_REG, 0);
	reg_w64(iu, DMAR_IQA_REG, iu->qi); /* QS 0: 256 entries */
	if (gcmd(iu, VTD_GCMD_QIE, true))
		return -EIO;
	pr_info(iu->m, "dmar0: Using Queued invalidation\n");
	reg_w64(iu, DMAR_RTADDR_REG, iu->root);
	if (gcmd(iu, VTD_GCMD_SRTP, true))
		return -EIO;
	qi_flush_context(iu, 0, 0);
	qi_flush_iotlb(iu, 0, 0, 0, 1);
	return 0;
}

static struct intel_iommu *iu_new(struct machine *m, struct iommu_unit *u)
{
	struct intel_iommu *iu = calloc(1, sizeof(*iu));

	if (!iu)
		return NULL;
	iu->m = m;
	iu->reg = mmio_window(vtd_regs(u));
	iu->reg_base = vtd_reg_base(u);
	iu->cap = reg_r64(iu, DMAR_CAP_REG);
	iu->ecap = reg_r64(iu, DMAR_ECAP_REG);
	iu->agaw = (VTD_CAP_SAGAW(iu->cap) & VTD_SAGAW_48) ? VTD_AW_48 : VTD_AW_39;
	iu->sp_off = m->intel_sp_off || !VTD_CAP_SLLPS(iu->cap);
	iu->did_next = 1; /* domain id 0 is reserved in caching mode */
	iu->irq = -1;
	pthread_mutex_init(&iu->lock, NULL);
	ratelimit_init(&iu->fault_rs, 5ULL * 1000000000ULL, 10);
	m->intel_iommu = iu;
	return iu;
}

int intel_iommu_init(struct machine *m)
{
	struct iommu_unit *u = dmar_unit(m);
	struct intel_iommu *iu;
	int ret;

	if (!u || !m->intel_iommu_on || m->iommu_policy.off)
		return 0;
	pr_info(m, "No RMRR found\n");
	if (!atsr_flags(m))
		pr_info(m, "No ATSR found\n");
	pr_info(m, "No SATC found\n");
	iu = iu_new(m, u);
	if (!iu)
		return -ENOMEM;
	ret = setup_tables(iu);
	if (!ret)
		ret = setup_fault_irq(iu);
	if (!ret)
		ret = iommu_device_register(&iu->iommu, &intel_iommu_ops, NULL);
	if (!ret)
		ret = iommu_probe_devices(m);
	if (!ret)
		ret = gcmd(iu, VTD_GCMD_TE, true);
	if (ret)
		return ret;
	pr_info(m, "Intel(R) Virtualization Technology for Directed I/O\n");
	return iommu_sysfs_init(m);
}

void intel_iommu_exit(struct machine *m)
{
	struct intel_iommu *iu = m->intel_iommu;

	if (!iu)
		return;
	iommu_release_devices(m);
	if (iu->irq >= 0) {
		free_irq((unsigned)iu->irq, iu);
		irq_free_msi(m, (unsigned)iu->irq, 1);
	}
	iommu_device_unregister(&iu->iommu);
	ratelimit_destroy(&iu->fault_rs);
	pthread_mutex_destroy(&iu->lock);
	free(iu);
	m->intel_iommu = NULL;
}
