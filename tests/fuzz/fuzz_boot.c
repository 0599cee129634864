/*
 * Fuzz target: boot a small machine with the input as its kernel command
 * line, read every /proc file, and tear it down. Whatever the parameters
 * (mem=, log_buf_len=, loglevel=, intel_iommu=, amd_iommu=, quoting...),
 * on a VT-d or an AMD-Vi machine, the machine either boots or
 * refuses with a message; it never crashes or leaks.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/dmasim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const files[] = { "/proc/buddyinfo", "/proc/meminfo",
					     "/proc/zoneinfo", "/proc/iomem",
					     "/proc/cmdline" };
	struct dmasim_config cfg;
	struct dmasim_machine *m;
	char *line, err[256] = "";

	if (size > 4096)
		return 0;
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	dmasim_config_init(&cfg);
	cfg.ram_bytes = 256ULL << 20;
	cfg.cmdline = line;
	cfg.nr_cpus = 1;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	/* a line that mentions amd boots the AMD-Vi machine (amd_iommu=) */
	cfg.iommu = strstr(line, "amd") ? DMASIM_IOMMU_AMD : DMASIM_IOMMU_INTEL;
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err)) == 0) {
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char *text;
			size_t len;

			if (dmasim_read(m, files[i], &text, &len))
				abort();
			free(text);
		}
		free(dmasim_dmesg(m, 0, DMASIM_LEVELS_ALL));
		dmasim_machine_destroy(m);
	} else if (!err[0]) {
		abort(); /* a refusal must say why */
	}
	free(line);
	return 0;
}
