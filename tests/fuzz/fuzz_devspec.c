/*
 * Fuzz target: the input is a list of --device specs, one per line. The
 * machine either boots with that topology (and lists its PCI devices) or
 * refuses with a message; it never crashes or leaks. Specs naming files
 * (file=) are skipped so the fuzzer cannot write outside its sandbox.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/dmasim.h"

#define MAX_SPECS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t split(char *text, const char **specs)
{
	size_t n = 0;

	for (char *p = text; p && n < MAX_SPECS;) {
		char *nl = strchr(p, '\n');

		if (nl)
			*nl = '\0';
		specs[n++] = p;
		p = nl ? nl + 1 : NULL;
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *specs[MAX_SPECS];
	struct dmasim_config cfg;
	struct dmasim_machine *m;
	char *text, err[512] = "";

	if (size > 2048 || memchr(data, '\0', size))
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (strstr(text, "file=")) {
		free(text);
		return 0;
	}
	dmasim_config_init(&cfg);
	cfg.ram_bytes = 128ULL << 20;
	cfg.nr_cpus = 1;
	cfg.clock = DMASIM_CLOCK_VIRTUAL;
	cfg.nodefaults = true;
	cfg.inline_devices = true;
	cfg.devices = specs;
	cfg.nr_devices = split(text, specs);
	if (dmasim_machine_create(&cfg, &m, err, sizeof(err)) == 0) {
		char **names;
		size_t n;

		if (dmasim_list(m, "/sys/bus/pci/devices", &names, &n))
			abort();
		dmasim_free_names(names, n);
		dmasim_machine_destroy(m);
	} else if (!err[0]) {
		abort(); /* a refusal must say why */
	}
	free(text);
	return 0;
}
