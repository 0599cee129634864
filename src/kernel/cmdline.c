/*
 * Command-line splitting (see cmdline.h). The rules are those Linux's
 * kernel/params.c documents and applies: a quote toggles "inside quotes";
 * the first '=' not at the very start separates name and value; a value
 * that starts with a quote loses it and a matching closing quote; an
 * argument that starts with a quote loses it and its closing quote.
 */
#include "kernel/cmdline.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	       c == '\r';
}

static char *skip_spaces(char *s)
{
	while (is_space(*s))
		s++;
	return s;
}

/* Split one argument off @args in place; returns where the next starts. */
static char *next_arg(char *args, char **param, char **val)
{
	size_t i, equals = 0;
	bool in_quote = false, quoted = false;

	if (*args == '"') {
		args++;
		in_quote = true;
		quoted = true;
	}
	for (i = 0; args[i]; i++) {
		if (is_space(args[i]) && !in_quote)
			break;
		if (equals == 0 && args[i] == '=')
			equals = i;
		if (args[i] == '"')
			in_quote = !in_quote;
	}
	*param = args;
	*val = NULL;
	if (equals) {
		args[equals] = '\0';
		*val = args + equals + 1;
		if (**val == '"') {
			(*val)++;
			if (i > 0 && args[i - 1] == '"')
				args[i - 1] = '\0';
		}
	}
	if (quoted && i > 0 && args[i - 1] == '"')
		args[i - 1] = '\0';
	if (args[i]) {
		args[i] = '\0';
		args += i + 1;
	} else {
		args += i;
	}
	return skip_spaces(args);
}

int cmdline_split(const char *line, struct cmdline *out)
{
	size_t cap = 0;
	bool dashes = false;
	char *p;

	memset(out, 0, sizeof(*out));
	out->storage = strdup(line ? line : "");
	if (!out->storage)
		return -ENOMEM;
	p = skip_spaces(out->storage);
	while (*p) {
		char *param, *val;

		p = next_arg(p, &param, &val);
		if (!dashes && !val && !strcmp(param, "--")) {
			dashes = true;
			continue;
		}
		if (out->nr == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			void *n = realloc(out->args, ncap * sizeof(*out->args));

			if (!n) {
				cmdline_free(out);
				return -ENOMEM;
			}
			out->args = n;
			cap = ncap;
		}
		out->args[out->nr].param = param;
		out->args[out->nr].val = val;
		out->args[out->nr].after_dashes = dashes;
		out->nr++;
	}
	return 0;
}

void cmdline_free(struct cmdline *cl)
{
	free(cl->args);
	free(cl->storage);
	memset(cl, 0, sizeof(*cl));
}

bool parameq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char ca = *a == '-' ? '_' : *a;
		char cb = *b == '-' ? '_' : *b;

		if (ca != cb)
			return false;
		if (!ca)
			return true;
	}
}
