/*
 * Device specs in QEMU's -device spirit: "TYPE[,key=value...]" with the
 * generic keys id=, bus=, addr=[BB:]DD[.F], multifunction=on|off,
 * acs=on|off (ports), external=on|off (ports), atsr=on|off (root
 * ports); other keys go to the device type. Every error names the spec
 * and the part that is wrong.
 */
#include "hw/pci_spec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hw/pci.h"

__attribute__((format(printf, 4, 5))) static int
spec_error(char *err, size_t errlen, const char *spec, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errlen, "--device '%s': ", spec);

	if (n >= 0 && (size_t)n < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static int parse_hex(const char *s, size_t n, unsigned max, int *out)
{
	unsigned v = 0;

	if (n == 0 || n > 2)
		return -1;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		v = v * 16 + d;
	}
	if (v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* "[BB:]DD[.F]", hexadecimal as lspci prints it. */
int pci_parse_addr(const char *s, int *bus, int *slot, int *func)
{
	const char *colon = strchr(s, ':'), *dot, *p = s;

	*bus = -1;
	*func = 0;
	if (colon) {
		if (parse_hex(s, (size_t)(colon - s), 0xff, bus))
			return -1;
		p = colon + 1;
	}
	dot = strchr(p, '.');
	if (parse_hex(p, dot ? (size_t)(dot - p) : strlen(p), 0x1f, slot))
		return -1;
	if (dot && (strlen(dot + 1) != 1 || parse_hex(dot + 1, 1, 7, func)))
		return -1;
	return 0;
}

static int parse_onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "yes") ||
	    !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") ||
		 !strcmp(v, "no") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

static bool valid_id(const char *v)
{
	if (!*v || strlen(v) >= 32 ||
	    !((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z')))
		return false;
	for (; *v; v++)
		if (!((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		      (*v >= '0' && *v <= '9') || *v == '-' || *v == '_' ||
		      *v == '.'))
			return false;
	return true;
}

static bool is_port(const struct pci_func *fn)
{
	return pci_is_bridge(fn);
}

static int generic_key(struct pci_func *fn, const char *spec, const char *k,
		       const char *v, char *err, size_t errlen)
{
	if (!strcmp(k, "id")) {
		if (!valid_id(v))
			return spec_error(err, errlen, spec,
					  "id=%s: an id is a letter followed by letters, digits, '-', '_' or '.' (at most 31)",
					  v);
		snprintf(fn->id, sizeof(fn->id), "%s", v);
	} else if (!strcmp(k, "bus")) {
		if (!valid_id(v))
			return spec_error(err, errlen, spec,
					  "bus=%s: not a bus id", v);
		snprintf(fn->bus_id, sizeof(fn->bus_id), "%s", v);
	} else if (!strcmp(k, "addr")) {
		if (pci_parse_addr(v, &fn->want_busnr, &fn->want_slot,
				   &fn->want_func))
			return spec_error(err, errlen, spec,
					  "addr=%s: expected [BB:]DD[.F] in hexadecimal (slot 00-1f, function 0-7)",
					  v);
	} else if (!strcmp(k, "multifunction")) {
		if (parse_onoff(v, &fn->multifunction))
			return spec_error(err, errlen, spec,
					  "multifunction=%s: expected on or off", v);
	} else if (!strcmp(k, "acs") && is_port(fn)) {
		if (parse_onoff(v, &fn->acs))
			return spec_error(err, errlen, spec,
					  "acs=%s: expected on or off", v);
	} else if (!strcmp(k, "external") && is_port(fn)) {
		if (parse_onoff(v, &fn->external))
			return spec_error(err, errlen, spec,
					  "external=%s: expected on or off", v);
	} else if (!strcmp(k, "atsr") &&
		   fn->type->role == PCI_ROLE_ROOT_PORT) {
		if (parse_onoff(v, &fn->atsr))
			return spec_error(err, errlen, spec,
					  "atsr=%s: expected on or off", v);
	} else {
		return 1;
	}
	return 0;
}

static int apply_option(struct pci_func *fn, const char *spec, char *kv,
			char *err, size_t errlen)
{
	char *eq = strchr(kv, '=');
	char msg[200] = "";
	int ret;

	if (!*kv)
		return spec_error(err, errlen, spec, "empty option (two commas?)");
	if (!eq)
		return spec_error(err, errlen, spec,
				  "'%s': expected key=value", kv);
	*eq = '\0';
	ret = generic_key(fn, spec, kv, eq + 1, err, errlen);
	if (ret <= 0)
		return ret;
	if (!fn->type->set_option)
		return spec_error(err, errlen, spec,
				  "'%s' is not an option of %s", kv,
				  fn->type->name);
	ret = fn->type->set_option(fn, kv, eq + 1, msg, sizeof(msg));
	if (ret == -ENOENT)
		return spec_error(err, errlen, spec,
				  "'%s' is not an option of %s", kv,
				  fn->type->name);
	if (ret)
		return spec_error(err, errlen, spec, "%s=%s: %s", kv, eq + 1,
				  msg[0] ? msg : "invalid value");
	return 0;
}

static struct pci_func *func_new(struct machine *m, const struct pci_type *t)
{
	struct pci_func *fn = calloc(1, sizeof(*fn));

	if (!fn)
		return NULL;
	fn->m = m;
	fn->type = t;
	fn->want_slot = fn->want_func = fn->want_busnr = -1;
	fn->acs = true;
	if (t->priv_size) {
		fn->priv = calloc(1, t->priv_size);
		if (!fn->priv) {
			free(fn);
			return NULL;
		}
	}
	return fn;
}

void pci_func_free(struct pci_func *fn)
{
	if (!fn)
		return;
	free(fn->priv);
	free(fn->spec);
	free(fn);
}

static void unknown_type(const char *spec, size_t n, char *err, size_t errlen)
{
	int off = snprintf(err, errlen,
			   "--device '%s': unknown device type '%.*s' (known:",
			   spec, (int)n, spec);

	for (int i = 0; pci_types[i] && off > 0 && (size_t)off < errlen; i++)
		if (!pci_types[i]->builtin)
			off += snprintf(err + off, errlen - (size_t)off, " %s",
				pci_types[i]->name);
	if (off > 0 && (size_t)off < errlen)
		snprintf(err + off, errlen - (size_t)off, ")");
}

int pci_spec_parse(struct machine *m, const char *spec, struct pci_func **out,
		   char *err, size_t errlen)
{
	size_t tlen = strcspn(spec, ",");
	char tname[64], *copy, *save = NULL;
	const struct pci_type *t;
	struct pci_func *fn;
	int ret = 0;

	*out = NULL;
	if (tlen == 0)
		return spec_error(err, errlen, spec, "no device type");
	snprintf(tname, sizeof(tname), "%.*s", (int)tlen, spec);
	t = tlen < sizeof(tname) ? pci_type_find(tname) : NULL;
	if (!t || t->builtin) {
		unknown_type(spec, tlen, err, errlen);
		return -EINVAL;
	}
	fn = func_new(m, t);
	copy = strdup(spec + tlen);
	if (!fn || !copy) {
		pci_func_free(fn);
		free(copy);
		return -ENOMEM;
	}
	if (copy[0] == ',') {
		/* strtok_r would merge empty fields: split by hand */
		for (char *p = copy + 1; !ret; ) {
			char *c = strchr(p, ',');

			if (c)
				*c = '\0';
			ret = apply_option(fn, spec, p, err, errlen);
			if (!c)
				break;
			p = c + 1;
		}
	}
	(void)save;
	free(copy);
	if (ret) {
		pci_func_free(fn);
		return ret;
	}
	fn->spec = strdup(spec);
	if (!fn->spec) {
		pci_func_free(fn);
		return -ENOMEM;
	}
	*out = fn;
	return 0;
}
