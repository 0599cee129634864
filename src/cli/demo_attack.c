/*
 * The tour's last step, the seed's story: a malicious PCIe device
 * DMA-ing into kernel memory. The same rogue device and targets, first
 * on the machine without an IOMMU in use (it finds the secret and makes
 * a credential root), then with intel_iommu=on (every access faults,
 * the kernel logs the DMAR lines, the targets are unchanged).
 */
#include <stdio.h>
#include <string.h>

#include "attack/attack.h"
#include "cli/demo.h"

static void tell(const struct attack *a, const char *policy,
		 const struct dmasim_config *base)
{
	static struct atk_result r; /* large */
	const struct atk_policy *p = atk_policy_find(policy);

	memset(&r, 0, sizeof(r));
	attack_run(a, p, base, &r);
	if (r.error)
		return;
	printf("%s: %s\n", policy, p->what);
	for (const char *l = r.did; *l;) {
		size_t n = strcspn(l, "\n");

		printf("  %.*s\n", (int)n, l);
		l += n + (l[n] ? 1 : 0);
	}
	for (const char *l = r.log; *l;) {
		size_t n = strcspn(l, "\n");

		printf("  | %.*s\n", (int)n, l);
		l += n + (l[n] ? 1 : 0);
	}
	printf("  => %s\n\n", r.verdict);
}

void demo_attack(const struct dmasim_config *base)
{
	const struct attack *scan = attack_find("scan");
	struct dmasim_machine *prev;

	if (base->platform != DMASIM_PLATFORM_X86 ||
	    base->iommu == DMASIM_IOMMU_NONE || !scan)
		return;
	demo_heading("12. A malicious device: DMA into kernel memory, with and without the IOMMU");
	printf("What stops a malicious PCIe device from reading and writing kernel\n"
	       "memory? A rogue bus master (`--device rogue`) scans RAM for a secret\n"
	       "and a credential, PCILeech style, and sets the credential's uid to 0.\n\n");
	prev = dmasim_enter(NULL);
	tell(scan, "no-iommu", base);
	tell(scan, base->iommu == DMASIM_IOMMU_AMD ? "amd-lazy" : "lazy", base);
	dmasim_enter(prev);
	printf("Every attack under every policy: dmasim attack all (docs/attacks.md).\n");
}
