/*
 * The IOMMU core's boot lines, printed by every machine as Linux 6.1's
 * iommu_subsys_init prints them (with its trailing space when no suffix
 * follows), for each way the command line can set the policy.
 */
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static void expect_lines(const char *cmdline, const char *type_line,
			 const char *policy_line)
{
	struct dmasim_machine *m = test_boot(MiB(256), cmdline);
	char *log = dmasim_dmesg(m, DMASIM_DMESG_NOTIME, DMASIM_LEVELS_ALL);

	if (!strstr(log, type_line))
		fail_msg("%s: no '%s'", cmdline ? cmdline : "(none)", type_line);
	if (policy_line && !strstr(log, policy_line))
		fail_msg("%s: no '%s'", cmdline ? cmdline : "(none)",
			 policy_line);
	if (!policy_line && strstr(log, "TLB invalidation policy"))
		fail_msg("%s: a policy line in passthrough", cmdline);
	free(log);
	dmasim_machine_destroy(m);
}

static void test_policy_lines(void **state)
{
	(void)state;
	expect_lines(NULL, "\niommu: Default domain type: Translated \n",
		     "\niommu: DMA domain TLB invalidation policy: lazy mode \n");
	expect_lines("iommu.strict=1",
		     "\niommu: Default domain type: Translated \n",
		     "\niommu: DMA domain TLB invalidation policy: strict mode (set via kernel command line)\n");
	expect_lines("iommu.strict=0",
		     "\niommu: Default domain type: Translated \n",
		     "\niommu: DMA domain TLB invalidation policy: lazy mode (set via kernel command line)\n");
	expect_lines("iommu=pt",
		     "\niommu: Default domain type: Passthrough (set via kernel command line)\n",
		     NULL);
	expect_lines("iommu.passthrough=1",
		     "\niommu: Default domain type: Passthrough (set via kernel command line)\n",
		     NULL);
	expect_lines("iommu=pt iommu=nopt",
		     "\niommu: Default domain type: Translated (set via kernel command line)\n",
		     "\niommu: DMA domain TLB invalidation policy: lazy mode \n");
	expect_lines("iommu.forcedac=1", "\nForcing DAC for PCI devices\n",
		     "lazy mode");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_lines),
	};

	return cmocka_run_group_tests_name("iommu_policy", tests, NULL, NULL);
}
