/*
 * Size parsing: Linux's memparse() semantics for the kernel command line,
 * and a stricter parser for dmasim's own --ram option (a unit is required,
 * so "8" is not silently 8 bytes).
 */
#include "lib/size.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dmasim/dmasim.h"

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* simple_strtoull(s, end, 0): base from the prefix, saturating. */
static uint64_t parse_ull(const char *s, const char **end)
{
	unsigned int base = 10;
	uint64_t v = 0;
	bool sat = false;
	const char *p = s;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') &&
	    digit_value(p[2]) < 16) {
		base = 16;
		p += 2;
	} else if (p[0] == '0') {
		base = 8;
	}
	for (; digit_value(*p) < (int)base; p++) {
		unsigned int d = (unsigned int)digit_value(*p);

		if (v > (UINT64_MAX - d) / base)
			sat = true;
		else
			v = v * base + d;
	}
	*end = p;
	return sat ? UINT64_MAX : v;
}

static unsigned int unit_shift(char c)
{
	switch (toupper((unsigned char)c)) {
	case 'K':
		return 10;
	case 'M':
		return 20;
	case 'G':
		return 30;
	case 'T':
		return 40;
	case 'P':
		return 50;
	case 'E':
		return 60;
	default:
		return 0;
	}
}

static uint64_t shift_sat(uint64_t v, unsigned int shift)
{
	if (shift && v > (UINT64_MAX >> shift))
		return UINT64_MAX;
	return v << shift;
}

uint64_t memparse(const char *s, const char **end)
{
	const char *p;
	uint64_t v = parse_ull(s, &p);
	unsigned int shift;

	if (p == s) {
		*end = s;
		return 0;
	}
	shift = unit_shift(*p);
	if (shift) {
		v = shift_sat(v, shift);
		p++;
	}
	*end = p;
	return v;
}

int dmasim_parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t v = 0;
	unsigned int shift;
	bool digits = false;

	if (!err)
		errlen = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		digits = true;
		if (v > (UINT64_MAX - 9) / 10) {
			snprintf(err, errlen, "'%s': number too large", s);
			return -EINVAL;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (!digits) {
		snprintf(err, errlen,
			 "'%s': expected a number with a unit, e.g. 512M or 8G",
			 s);
		return -EINVAL;
	}
	shift = unit_shift(*p);
	if (!shift || toupper((unsigned char)*p) == 'P' ||
	    toupper((unsigned char)*p) == 'E') {
		if (*p)
			snprintf(err, errlen,
				 "'%s': unknown unit '%c' (use K, M, G or T)",
				 s, *p);
		else
			snprintf(err, errlen,
				 "'%s': missing unit (use K, M, G or T, e.g. 8G)",
				 s);
		return -EINVAL;
	}
	p++;
	if (!strcmp(p, "iB") || !strcmp(p, "B") || !strcmp(p, "ib") ||
	    !strcmp(p, "b"))
		p += strlen(p);
	if (*p) {
		snprintf(err, errlen, "'%s': unexpected '%s' after the unit", s,
			 p);
		return -EINVAL;
	}
	if (v > (UINT64_MAX >> shift)) {
		snprintf(err, errlen, "'%s': number too large", s);
		return -EINVAL;
	}
	*out = v << shift;
	return 0;
}
