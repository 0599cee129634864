/* A growable, always NUL-terminated text buffer for building views. */
#ifndef DMASIM_LIB_STRBUF_H
#define DMASIM_LIB_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool failed; /* an allocation failed: contents are truncated */
};

void strbuf_init(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);
/* Hand the text over to the caller (malloc'd); the strbuf is reset. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
void strbuf_add(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
__attribute__((format(printf, 2, 3))) void
strbuf_printf(struct strbuf *sb, const char *fmt, ...);
__attribute__((format(printf, 2, 0))) void
strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap);

#endif
