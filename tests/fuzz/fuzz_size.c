/*
 * Fuzz target: the size parsers (dmasim's --ram parser and Linux's
 * memparse) and the platform name parser. A size that parses must be the
 * number times its unit; memparse must consume a prefix of its input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmasim/dmasim.h"
#include "lib/size.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1), err[128];
	uint64_t v = 0;
	const char *end;
	enum dmasim_platform p;

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (dmasim_parse_size(s, &v, err, sizeof(err)) == 0) {
		if (s[0] < '0' || s[0] > '9')
			abort();
	} else if (!err[0]) {
		abort(); /* an error must say why */
	}
	(void)memparse(s, &end);
	if (end < s || end > s + strlen(s))
		abort();
	(void)dmasim_parse_platform(s, &p);
	free(s);
	return 0;
}
