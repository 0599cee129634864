/*
 * Fuzz target: sysfs writes and link walks. The input is lines of
 * "PATH=VALUE" written with dmasim_write (the first byte picks VT-d or
 * AMD-Vi and the policy) after boot, then every group's type, a device's
 * iommu_group link and the groups directory are read back. Whatever the
 * paths and values (links, loops, "..", huge or empty values, bytes after
 * a NUL), a write succeeds or fails with an error; nothing crashes or
 * leaks, and the machine still reads back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/dmasim.h"

#define MAX_LINES 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const policies[] = {
	"intel_iommu=on", "intel_iommu=on iommu.strict=1",
	"intel_iommu=on iommu=pt", "",
};

static struct dmasim_machine *boot(uint8_t pick)
{
	struct dmasim_config cfg;
	struct dmasim_machine *m = NULL;
	char err[256] = "";

	dmasim_config_init(&cfg);
	cfg.ram_bytes = 256ULL << 20;
	cfg.nr_cpus = 1;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.inline_devices = true;
	cfg.iommu = (pick & 4) ? DMASIM_IOMMU_AMD : DMASIM_IOMMU_INTEL;
	cfg.cmdline = policies[pick & 3];
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err)))
		abort(); /* these machines always boot */
	return m;
}

static void read_back(struct dmasim_machine *m)
{
	char **names, *text, *target;
	size_t n, len;

	if (dmasim_list(m, "/sys/kernel/iommu_groups", &names, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			char p[96];

			strcpy(p, "/sys/kernel/iommu_groups/");
			strncat(p, names[i], 32);
			strcat(p, "/type");
			if (dmasim_read(m, p, &text, &len) == 0)
				free(text);
		}
		dmasim_free_names(names, n);
	}
	if (dmasim_readlink(m, "/sys/bus/pci/devices/0000:00:01.0/iommu_group",
			    &target) == 0)
		free(target);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dmasim_machine *m;
	char *text, *p;
	int lines = 0;

	if (size < 1 || size > 8192)
		return 0;
	m = boot(data[0]);
	text = malloc(size);
	if (!text)
		abort();
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	for (p = text; p && lines < MAX_LINES; lines++) {
		char *nl = strchr(p, '\n'), *eq;

		if (nl)
			*nl = '\0';
		eq = strchr(p, '=');
		if (eq) {
			*eq = '\0';
			/* the value may hold any bytes up to the line's end */
			dmasim_write(m, p, eq + 1, strlen(eq + 1));
		}
		p = nl ? nl + 1 : NULL;
	}
	read_back(m);
	free(text);
	dmasim_machine_destroy(m);
	return 0;
}
