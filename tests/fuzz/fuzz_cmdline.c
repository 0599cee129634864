/*
 * Fuzz target: the kernel command-line splitter. Any bytes must split
 * without crashing; every argument must be a NUL-terminated piece of the
 * copy, and no name may be empty unless the argument was (e.g. '=x').
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/bootparams.h"
#include "kernel/cmdline.h"
#include "lib/size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	struct cmdline cl;
	size_t storage_len;

	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	if (cmdline_split(line, &cl) == 0) {
		storage_len = strlen(line);
		for (size_t i = 0; i < cl.nr; i++) {
			const char *p = cl.args[i].param, *v = cl.args[i].val;
			const char *end;
			bool b;

			if (p < cl.storage || p > cl.storage + storage_len)
				abort();
			if (v && (v < cl.storage || v > cl.storage + storage_len))
				abort();
			(void)parameq(p, "mem");
			if (v) {
				(void)memparse(v, &end);
				if (end < v)
					abort();
				(void)kstrtobool(v, &b);
			}
		}
		cmdline_free(&cl);
	}
	free(line);
	return 0;
}
