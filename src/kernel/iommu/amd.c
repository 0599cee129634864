/*
 * amd_iommu: the unit, boot, commands and events (see amd.h). Texts
 * follow Linux 6.1 (pr_fmt "AMD-Vi: "): the IVRS line "Using global IVHD
 * EFR:0x%llx, EFR2:0x%llx", "Found IOMMU cap 0x%x" on the IOMMU's PCI
 * function, "Extended features (0x%llx, 0x%llx):" with the feature names,
 * the IOMMUv2 module's line, and the event log as "Event logged
 * [IO_PAGE_FAULT domain=0x%04x address=0x%llx flags=0x%04x]" on the
 * faulting device, rate-limited per device (10 per 5 s).
 */
#define PR_PREFIX "AMD-Vi: "
#include "kernel/iommu/amd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/hw/amdvi.h"
#include "dmasim/linux/io.h"
#include "dmasim/linux/pci.h"
#include "hw/amdvi.h"
#include "hw/apic.h"
#include "hw/mmio.h"
#include "kernel/iommu/iommu.h"
#include "kernel/iommu/iommu_sysfs.h"
#include "kernel/machine.h"
#include "kernel/pci.h"

#define CW_SPINS 1000000

struct amd_iommu *amd_iommu_of(struct machine *m)
{
	return m ? m->amd_iommu : NULL;
}

/* Linux matches each option as a prefix and, for one it does not know,
 * prints the rest of the string. */
int amd_iommu_setup(struct machine *m, const char *val)
{
	while (val && *val) {
		if (!strncmp(val, "fullflush", 9)) {
			pr_warn(m, "amd_iommu=fullflush deprecated; use iommu.strict=1 instead\n");
			m->iommu_policy.strict = true;
			m->iommu_policy.strict_from_cmdline = true;
		} else if (!strncmp(val, "force_enable", 12)) {
			/* no known-buggy platform here: nothing to force */
		} else if (!strncmp(val, "off", 3)) {
			m->amd_iommu_off = true;
		} else if (!strncmp(val, "force_isolation", 15)) {
			/* every device has its own domain here already */
		} else if (!strncmp(val, "pgtbl_v1", 8)) {
			m->amd_pgtbl_v2 = false;
		} else if (!strncmp(val, "pgtbl_v2", 8)) {
			m->amd_pgtbl_v2 = true;
		} else {
			pr_notice(m, "Unknown option - '%s'\n", val);
			bootparam_problem(m, "amd_iommu: unknown option '%s' (ignored, as Linux does%s)",
					  val, strncmp(val, "on", 2) ? ""
					  : "; AMD-Vi is on unless amd_iommu=off");
		}
		val += strcspn(val, ",");
		while (*val == ',')
			val++;
	}
	return 0;
}

static struct iommu_unit *ivhd_unit(struct machine *m)
{
	for (struct iommu_unit *u = m->iommu_units; u; u = u->next)
		if (amdvi_is_unit(u))
			return u;
	return NULL;
}

static bool wanted(struct machine *m)
{
	return ivhd_unit(m) && !m->amd_iommu_off && !m->iommu_policy.off;
}

void amd_iommu_detect(struct machine *m)
{
	struct iommu_unit *u = ivhd_unit(m);

	if (!wanted(m))
		return;
	pr_info(m, "Using global IVHD EFR:0x%llx, EFR2:0x%llx\n",
		(unsigned long long)readq((char *)mmio_window(amdvi_regs(u)) +
					  AMDVI_MMIO_EXT_FEATURES),
		0ULL);
}

static void *kva(struct amd_iommu *iu, uint64_t phys)
{
	return iu->m->ram.cpu + phys;
}

static uint64_t reg_r64(struct amd_iommu *iu, unsigned int off)
{
	return readq((char *)iu->reg + off);
}

static void reg_w64(struct amd_iommu *iu, unsigned int off, uint64_t v)
{
	writeq(v, (char *)iu->reg + off);
}

static void reg_w32(struct amd_iommu *iu, unsigned int off, uint32_t v)
{
	writel(v, (char *)iu->reg + off);
}

/* ---- commands --------------------------------------------------------- */

static void cmd_push(struct amd_iommu *iu, uint64_t q0, uint64_t q1)
{
	uint64_t *c = kva(iu, iu->cmd_buf);

	c[iu->cmd_tail * 2] = q0;
	c[iu->cmd_tail * 2 + 1] = q1;
	iu->cmd_tail = (iu->cmd_tail + 1) % (1u << AMDVI_RING_LOG2);
}

/* COMPLETION_WAIT storing a new sequence number, then wait for it: every
 * command before it has completed when it lands. Called locked. */
static void cmd_sync(struct amd_iommu *iu)
{
	volatile uint64_t *sem = kva(iu, iu->cw_sem);
	uint64_t seq = ++iu->cw_seq;

	cmd_push(iu, (uint64_t)AMDVI_CMD_COMPLETION_WAIT << AMDVI_CMD_OPCODE_SHIFT |
			     (iu->cw_sem & AMDVI_CMD_CW_ADDR_MASK) | AMDVI_CMD_CW_S,
		 seq);
	reg_w64(iu, AMDVI_MMIO_CMD_TAIL, (uint64_t)iu->cmd_tail * AMDVI_RING_ENTRY_SIZE);
	for (int i = 0; i < CW_SPINS; i++)
		if (__atomic_load_n(sem, __ATOMIC_ACQUIRE) == seq)
			return;
	pr_alert(iu->m, "Completion-Wait loop timed out\n");
}

static uint64_t inv_pages_q0(uint16_t domid)
{
	return (uint64_t)AMDVI_CMD_INV_IOMMU_PAGES << AMDVI_CMD_OPCODE_SHIFT |
	       (uint64_t)domid << AMDVI_CMD_PAGES_DOMAIN_SHIFT;
}

/* The address word of INVALIDATE_IOMMU_PAGES for [addr, addr + size):
 * one page, a naturally aligned power of two, or everything. */
static uint64_t inv_pages_q1(uint64_t addr, uint64_t size)
{
	uint64_t end, sz;
	unsigned int order = 12;

	if (!size)
		return AMDVI_INV_ALL_ADDR | AMDVI_CMD_PAGES_S | AMDVI_CMD_PAGES_PDE;
	end = addr + size - 1;
	while (order < 63 && (addr >> order) != (end >> order))
		order++;
	if (order >= 52)
		return AMDVI_INV_ALL_ADDR | AMDVI_CMD_PAGES_S | AMDVI_CMD_PAGES_PDE;
	if (order == 12)
		return (addr & ~0xfffULL) | AMDVI_CMD_PAGES_PDE;
	sz = 1ULL << order;
	/* bits order-2..12 ones, bit order-1 clear: 2^order bytes */
	return (addr & ~(sz - 1)) | (((sz >> 1) - 1) & ~0xfffULL) |
	       AMDVI_CMD_PAGES_S | AMDVI_CMD_PAGES_PDE;
}

void amd_flush_pages(struct amd_iommu *iu, uint16_t domid, uint64_t addr,
		     uint64_t size)
{
	pthread_mutex_lock(&iu->lock);
	cmd_push(iu, inv_pages_q0(domid), inv_pages_q1(addr, size));
	cmd_sync(iu);
	pthread_mutex_unlock(&iu->lock);
}

void amd_flush_iotlb(struct amd_iommu *iu, uint16_t devid, uint64_t addr,
		     uint64_t size)
{
	/* the same address encoding as INVALIDATE_IOMMU_PAGES, no PDE */
	uint64_t q1 = inv_pages_q1(addr, size) & ~AMDVI_CMD_PAGES_PDE;

	pthread_mutex_lock(&iu->lock);
	cmd_push(iu, (uint64_t)AMDVI_CMD_INV_IOTLB_PAGES << AMDVI_CMD_OPCODE_SHIFT |
			     devid, q1);
	cmd_sync(iu);
	pthread_mutex_unlock(&iu->lock);
}

void amd_dte_set(struct amd_iommu *iu, uint16_t devid, uint64_t q0,
		 uint64_t q1)
{
	uint16_t domid = AMDVI_DTE_DOMAIN(q1);

	uint64_t *dte = (uint64_t *)kva(iu, iu->dev_table) + (size_t)devid * 4;

	pthread_mutex_lock(&iu->lock);
	__atomic_store_n(&dte[1], q1, __ATOMIC_RELEASE);
	__atomic_store_n(&dte[0], q0, __ATOMIC_RELEASE);
	cmd_push(iu, (uint64_t)AMDVI_CMD_INV_DEVTAB_ENTRY << AMDVI_CMD_OPCODE_SHIFT | devid,
		 0);
	cmd_push(iu, inv_pages_q0(domid), inv_pages_q1(0, 0));
	cmd_sync(iu);
	pthread_mutex_unlock(&iu->lock);
}

/* ---- events ----------------------------------------------------------- */

/* The kernel's function with requester id @devid (NULL: none); @index
 * is its place in the machine's list. */
static struct kpci *kpci_find(struct machine *m, uint16_t devid,
			      unsigned int *index)
{
	for (unsigned int i = 0; i < m->pcik.nr; i++) {
		struct kpci *k = m->pcik.devs[i];

		if ((uint16_t)(k->fn->bus << 8 | k->fn->devfn) == devid) {
			if (index)
				*index = i;
			return k;
		}
	}
	return NULL;
}

static struct kpci *kpci_by_devid(struct machine *m, uint16_t devid)
{
	return kpci_find(m, devid, NULL);
}

static struct kpci *iommu_kpci(struct amd_iommu *iu)
{
	return kpci_by_devid(iu->m, AMDVI_PCI_DEVFN);
}

/* "%04x:%02x:%02x.%x" of a device id (PCI segment 0). */
static void devid_name(char *buf, size_t n, uint16_t devid)
{
	snprintf(buf, n, "0000:%02x:%02x.%x", devid >> 8, (devid >> 3) & 0x1f,
		 devid & 7);
}

/* amd_iommu_report_page_fault: a memory access (I clear) of a device
 * attached to a domain goes to the domain's fault handler first and is
 * logged only if the handler does not take it. */
static void page_fault(struct amd_iommu *iu, uint16_t devid, uint16_t dom,
		       uint64_t addr, unsigned int flags)
{
	struct machine *m = iu->m;
	unsigned int idx = 0;
	struct kpci *k = kpci_find(m, devid, &idx);
	char name[16];

	devid_name(name, sizeof(name), devid);
	if (k && k->group && idx < iu->nr_dev_rs) {
		struct device *dev = &k->pdev.dev;

		if (!(flags & AMDVI_EVT_FLAG_I)) {
			if (!dev->iommu_domain) {
				if (ratelimit_ok(m, &iu->detached_rs,
						 "amd_iommu_report_page_fault")) {
					pr_err(m, "Event logged [Device not attached to domain properly]\n");
					pr_err(m, "  device=%s domain=0x%04x\n", name, dom);
				}
				return;
			}
			if (!report_iommu_fault(dev->iommu_domain, dev, addr,
						(flags & AMDVI_EVT_FLAG_RW)
							? IOMMU_FAULT_WRITE
							: IOMMU_FAULT_READ))
				return;
		}
		if (ratelimit_ok(m, &iu->dev_rs[idx], "amd_iommu_report_page_fault"))
			dev_err(dev,
				"AMD-Vi: Event logged [IO_PAGE_FAULT domain=0x%04x address=0x%llx flags=0x%04x]\n",
				dom, (unsigned long long)addr, flags);
		return;
	}
	if (ratelimit_ok(m, &iu->unknown_rs, "amd_iommu_report_page_fault"))
		pr_err(m,
		       "Event logged [IO_PAGE_FAULT device=%s domain=0x%04x address=0x%llx flags=0x%04x]\n",
		       name, dom, (unsigned long long)addr, flags);
}

static void dump_dte(struct amd_iommu *iu, uint16_t devid)
{
	const uint64_t *dte = (const uint64_t *)kva(iu, iu->dev_table) +
			      (size_t)devid * 4;

	for (int i = 0; i < 4; i++)
		pr_err(iu->m, "DTE[%d]: %016llx\n", i,
		       (unsigned long long)__atomic_load_n(&dte[i], __ATOMIC_ACQUIRE));
}

static void dump_command(struct amd_iommu *iu, uint64_t phys)
{
	uint32_t w[4] = { 0 };

	if (phys >= iu->cmd_buf &&
	    phys + 16 <= iu->cmd_buf + (PAGE_SIZE << AMDVI_RING_ORDER))
		memcpy(w, kva(iu, phys), sizeof(w));
	for (int i = 0; i < 4; i++)
		pr_err(iu->m, "CMD[%d]: %08x\n", i, w[i]);
}

/* One event log entry, as iommu_print_event prints it. */
static void print_event(struct amd_iommu *iu, const uint64_t e[2])
{
	struct kpci *self = iommu_kpci(iu);
	struct device *dev = self ? &self->pdev.dev : NULL;
	uint16_t devid = AMDVI_EVT_DEVID(e[0]), dom = AMDVI_EVT_DOMAIN(e[0]);
	unsigned int flags = AMDVI_EVT_FLAGS(e[0]);
	unsigned long long addr = e[1];
	char n[16];
	char msg[200];

	devid_name(n, sizeof(n), devid);
	switch (AMDVI_EVT_CODE(e[0])) {
	case AMDVI_EVT_IO_PAGE_FAULT:
		page_fault(iu, devid, dom, e[1], flags);
		return;
	case AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY:
		snprintf(msg, sizeof(msg),
			 "ILLEGAL_DEV_TABLE_ENTRY device=%s pasid=0x%05x address=0x%llx flags=0x%04x",
			 n, dom, addr, flags);
		break;
	case AMDVI_EVT_DEV_TAB_HW_ERROR:
		snprintf(msg, sizeof(msg),
			 "DEV_TAB_HARDWARE_ERROR device=%s address=0x%llx flags=0x%04x",
			 n, addr, flags);
		break;
	case AMDVI_EVT_PAGE_TAB_HW_ERROR:
		snprintf(msg, sizeof(msg),
			 "PAGE_TAB_HARDWARE_ERROR device=%s pasid=0x%04x address=0x%llx flags=0x%04x",
			 n, dom, addr, flags);
		break;
	case AMDVI_EVT_ILLEGAL_COMMAND_ERROR:
		snprintf(msg, sizeof(msg), "ILLEGAL_COMMAND_ERROR address=0x%llx",
			 addr);
		break;
	case AMDVI_EVT_COMMAND_HW_ERROR:
		snprintf(msg, sizeof(msg),
			 "COMMAND_HARDWARE_ERROR address=0x%llx flags=0x%04x", addr,
			 flags);
		break;
	case AMDVI_EVT_IOTLB_INV_TIMEOUT:
		snprintf(msg, sizeof(msg),
			 "IOTLB_INV_TIMEOUT device=%s address=0x%llx", n, addr);
		break;
	case AMDVI_EVT_INVALID_DEVICE_REQUEST:
		snprintf(msg, sizeof(msg),
			 "INVALID_DEVICE_REQUEST device=%s pasid=0x%05x address=0x%llx flags=0x%04x",
			 n, dom, addr, flags);
		break;
	default:
		snprintf(msg, sizeof(msg),
			 "UNKNOWN event[0]=0x%08x event[1]=0x%08x event[2]=0x%08x event[3]=0x%08x",
			 (unsigned)e[0], (unsigned)(e[0] >> 32), (unsigned)e[1],
			 (unsigned)(e[1] >> 32));
		break;
	}
	if (dev)
		dev_err(dev, "AMD-Vi: Event logged [%s]\n", msg);
	else
		pr_err(iu->m, "Event logged [%s]\n", msg);
	if (AMDVI_EVT_CODE(e[0]) == AMDVI_EVT_ILLEGAL_DEV_TABLE_ENTRY)
		dump_dte(iu, devid);
	else if (AMDVI_EVT_CODE(e[0]) == AMDVI_EVT_ILLEGAL_COMMAND_ERROR)
		dump_command(iu, e[1]);
}

static void drain_event_log(struct amd_iommu *iu)
{
	unsigned int n = 1u << AMDVI_RING_LOG2;
	uint64_t head = reg_r64(iu, AMDVI_MMIO_EVT_HEAD) & AMDVI_RING_PTR_MASK;
	uint64_t tail = reg_r64(iu, AMDVI_MMIO_EVT_TAIL) & AMDVI_RING_PTR_MASK;

	while (head != tail) {
		const uint64_t *e = (const uint64_t *)kva(iu, iu->evt_log + head);
		uint64_t ev[2] = { __atomic_load_n(&e[0], __ATOMIC_ACQUIRE),
				   __atomic_load_n(&e[1], __ATOMIC_ACQUIRE) };

		print_event(iu, ev);
		iu->events_seen++;
		head = (head + AMDVI_RING_ENTRY_SIZE) % (n * AMDVI_RING_ENTRY_SIZE);
		reg_w64(iu, AMDVI_MMIO_EVT_HEAD, head);
	}
}

static void restart_event_logging(struct amd_iommu *iu)
{
	uint64_t ctrl = reg_r64(iu, AMDVI_MMIO_CONTROL);

	reg_w64(iu, AMDVI_MMIO_CONTROL, ctrl & ~AMDVI_CTRL_EVT_LOG_EN);
	reg_w64(iu, AMDVI_MMIO_STATUS, AMDVI_STATUS_EVT_OVERFLOW);
	reg_w64(iu, AMDVI_MMIO_CONTROL, ctrl);
}

static irqreturn_t amd_iommu_int(int irq, void *data)
{
	struct amd_iommu *iu = data;
	uint64_t status;

	(void)irq;
	pthread_mutex_lock(&iu->evt_lock);
	while ((status = reg_r64(iu, AMDVI_MMIO_STATUS)) &
	       (AMDVI_STATUS_EVT_INT | AMDVI_STATUS_EVT_OVERFLOW)) {
		reg_w64(iu, AMDVI_MMIO_STATUS, AMDVI_STATUS_EVT_INT);
		drain_event_log(iu);
		if (status & AMDVI_STATUS_EVT_OVERFLOW) {
			if (ratelimit_ok(iu->m, &iu->overflow_rs, "amd_iommu_int_thread"))
				pr_info(iu->m, "IOMMU event log overflow\n");
			restart_event_logging(iu);
		}
	}
	pthread_mutex_unlock(&iu->evt_lock);
	return IRQ_HANDLED;
}

static int setup_irq(struct amd_iommu *iu)
{
	struct machine *m = iu->m;
	int irq = irq_alloc_msi(m, 1, "PCI-MSI", (unsigned long)AMDVI_PCI_DEVFN << 11);
	struct irq_desc *d;

	if (irq < 0)
		return irq;
	iu->irq = irq;
	if (request_irq((unsigned)irq, amd_iommu_int, 0, "AMD-Vi", iu))
		return -EBUSY;
	d = irq_to_desc(m, (unsigned)irq);
	reg_w32(iu, AMDVI_MMIO_MSI_ADDR_LO, (uint32_t)apic_msi_address(d->cpu));
	reg_w32(iu, AMDVI_MMIO_MSI_ADDR_HI, 0);
	reg_w32(iu, AMDVI_MMIO_MSI_DATA, d->vector);
	reg_w32(iu, AMDVI_MMIO_MSI_CAP,
		AMDVI_MSI_CAP_ID | AMDVI_MSI_CAP_EN | AMDVI_MSI_CAP_64);
	return 0;
}

/* ---- bring-up --------------------------------------------------------- */

/* Every device blocked until attached: valid, translation valid, no
 * page table, no permission (Linux's init_device_table_dma). */
static void init_device_table(struct amd_iommu *iu)
{
	uint64_t *dt = kva(iu, iu->dev_table);

	for (size_t i = 0; i < 65536; i++)
		dt[i * 4] = AMDVI_DTE_V | AMDVI_DTE_TV;
}

static int setup_tables(struct amd_iommu *iu)
{
	struct machine *m = iu->m;

	iu->dev_table = iommu_table_alloc(m, AMDVI_DEVTAB_ORDER);
	iu->cmd_buf = iommu_table_alloc(m, AMDVI_RING_ORDER);
	iu->evt_log = iommu_table_alloc(m, AMDVI_RING_ORDER);
	iu->cw_sem = iommu_table_alloc(m, 0);
	if (!iu->dev_table || !iu->cmd_buf || !iu->evt_log || !iu->cw_sem)
		return -ENOMEM;
	init_device_table(iu);
	reg_w64(iu, AMDVI_MMIO_CONTROL, 0);
	reg_w64(iu, AMDVI_MMIO_DEV_TABLE,
		iu->dev_table | ((1u << AMDVI_DEVTAB_ORDER) - 1));
	reg_w64(iu, AMDVI_MMIO_CMD_BUF,
		iu->cmd_buf | (uint64_t)AMDVI_RING_LOG2 << AMDVI_RING_LEN_SHIFT);
	reg_w64(iu, AMDVI_MMIO_CMD_HEAD, 0);
	reg_w64(iu, AMDVI_MMIO_CMD_TAIL, 0);
	reg_w64(iu, AMDVI_MMIO_EVT_LOG,
		iu->evt_log | (uint64_t)AMDVI_RING_LOG2 << AMDVI_RING_LEN_SHIFT);
	reg_w64(iu, AMDVI_MMIO_EVT_HEAD, 0);
	reg_w64(iu, AMDVI_MMIO_EVT_TAIL, 0);
	return 0;
}

static void enable(struct amd_iommu *iu)
{
	reg_w64(iu, AMDVI_MMIO_CONTROL,
		AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_EVT_LOG_EN |
			AMDVI_CTRL_EVT_INT_EN | AMDVI_CTRL_COHERENT |
			AMDVI_CTRL_CMD_BUF_EN);
	pthread_mutex_lock(&iu->lock);
	cmd_push(iu, (uint64_t)AMDVI_CMD_INV_IOMMU_ALL << AMDVI_CMD_OPCODE_SHIFT, 0);
	cmd_sync(iu);
	pthread_mutex_unlock(&iu->lock);
}

static struct amd_iommu *iu_new(struct machine *m, struct iommu_unit *u)
{
	struct amd_iommu *iu = calloc(1, sizeof(*iu));
	struct kpci *self;

	if (iu)
		iu->dev_rs = calloc(m->pcik.nr ? m->pcik.nr : 1,
				    sizeof(*iu->dev_rs));
	if (!iu || !iu->dev_rs) {
		free(iu);
		return NULL;
	}
	iu->m = m;
	iu->reg = mmio_window(amdvi_regs(u));
	iu->reg_base = amdvi_reg_base(u);
	iu->efr = reg_r64(iu, AMDVI_MMIO_EXT_FEATURES);
	iu->did_next = 1; /* domain id 0 is for devices attached to none */
	iu->irq = -1;
	self = kpci_by_devid(m, AMDVI_PCI_DEVFN);
	if (self)
		pci_read_config_dword(&self->pdev, AMDVI_CAP_PTR, &iu->cap);
	pthread_mutex_init(&iu->lock, NULL);
	pthread_mutex_init(&iu->evt_lock, NULL);
	ratelimit_init(&iu->unknown_rs, 5ULL * 1000000000ULL, 10);
	ratelimit_init(&iu->overflow_rs, 5ULL * 1000000000ULL, 10);
	ratelimit_init(&iu->detached_rs, 5ULL * 1000000000ULL, 10);
	iu->nr_dev_rs = m->pcik.nr;
	for (unsigned int i = 0; i < iu->nr_dev_rs; i++)
		ratelimit_init(&iu->dev_rs[i], 5ULL * 1000000000ULL, 10);
	m->amd_iommu = iu;
	return iu;
}

/* "Extended features (0x%llx, 0x%llx):" and the names of EFR bits 0-9
 * that are set, as Linux 6.1 prints them. */
static void print_features(struct amd_iommu *iu)
{
	static const char *const names[] = { "PreF", "PPR", "X2APIC", "NX",
					     "GT",   "[5]", "IA",     "GA",
					     "HE",   "PC" };
	char line[160];
	int off = snprintf(line, sizeof(line), "Extended features (0x%llx, 0x0):",
			   (unsigned long long)iu->efr);

	for (unsigned int i = 0; i < 10; i++)
		if ((iu->efr >> i) & 1)
			off += snprintf(line + off, sizeof(line) - (size_t)off,
					" %s", names[i]);
	pr_info(iu->m, "%s\n", line);
}

int amd_iommu_init(struct machine *m)
{
	struct iommu_unit *u = ivhd_unit(m);
	struct amd_iommu *iu;
	struct kpci *self;
	int ret;

	if (!wanted(m))
		return 0;
	iu = iu_new(m, u);
	if (!iu)
		return -ENOMEM;
	ret = setup_tables(iu);
	if (!ret)
		ret = setup_irq(iu);
	if (ret)
		return ret;
	enable(iu);
	ret = iommu_device_register(&iu->iommu, &amd_iommu_ops, NULL);
	if (!ret)
		ret = iommu_probe_devices(m);
	if (ret)
		return ret;
	self = iommu_kpci(iu);
	if (self)
		dev_info(&self->pdev.dev, "AMD-Vi: Found IOMMU cap 0x%x\n",
			 AMDVI_CAP_PTR);
	print_features(iu);
	if (m->amd_pgtbl_v2)
		pr_warn(m, "Cannot enable v2 page table for DMA-API. Fallback to v1.\n");
	return iommu_sysfs_init(m);
}

void amd_iommu_v2_init(struct machine *m)
{
	struct amd_iommu *iu = m->amd_iommu;

	if (!iu)
		return;
	/* IOMMUv2 (PASID, PPR) needs EFR.PPR and GT: this unit has neither */
	if (!(iu->efr & AMDVI_EFR_PPR) || !(iu->efr & AMDVI_EFR_GT))
		pr_info(m, "AMD IOMMUv2 functionality not available on this system - This is not a bug.\n");
}

void amd_iommu_exit(struct machine *m)
{
	struct amd_iommu *iu = m->amd_iommu;

	if (!iu)
		return;
	iommu_release_devices(m);
	reg_w64(iu, AMDVI_MMIO_CONTROL, 0);
	if (iu->irq >= 0) {
		free_irq((unsigned)iu->irq, iu);
		irq_free_msi(m, (unsigned)iu->irq, 1);
	}
	iommu_device_unregister(&iu->iommu);
	iommu_table_free(m, iu->dev_table, AMDVI_DEVTAB_ORDER);
	iommu_table_free(m, iu->cmd_buf, AMDVI_RING_ORDER);
	iommu_table_free(m, iu->evt_log, AMDVI_RING_ORDER);
	iommu_table_free(m, iu->cw_sem, 0);
	ratelimit_destroy(&iu->unknown_rs);
	ratelimit_destroy(&iu->overflow_rs);
	ratelimit_destroy(&iu->detached_rs);
	for (unsigned int i = 0; i < iu->nr_dev_rs; i++)
		ratelimit_destroy(&iu->dev_rs[i]);
	free(iu->dev_rs);
	pthread_mutex_destroy(&iu->evt_lock);
	pthread_mutex_destroy(&iu->lock);
	free(iu);
	m->amd_iommu = NULL;
}
