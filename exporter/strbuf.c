/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* Room for n more bytes and the NUL. */
static bool reserve(struct strbuf *b, size_t n) {
	size_t want = b->len + n + 1, size;
	char *p;

	if (b->failed)
		return false;
	if (want <= b->allocated)
		return true;
	/* Small to start: a process's labels are a buffer each. */
	size = b->allocated ? b->allocated : 256;
	while (size < want)
		size *= 2;
	p = realloc(b->data, size);
	if (!p) {
		b->failed = true;
		return false;
	}
	b->data = p;
	b->allocated = size;
	return true;
}

void strbuf_append(struct strbuf *b, const char *s, size_t n) {
	if (!reserve(b, n))
		return;
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = 0;
}

void strbuf_puts(struct strbuf *b, const char *s) {
	strbuf_append(b, s, strlen(s));
}

void strbuf_putc(struct strbuf *b, char c) {
	strbuf_append(b, &c, 1);
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...) {
	va_list ap;
	int n;

	/* Most fit in what is left; the rest are formatted again once there is room. */
	va_start(ap, fmt);
	n = reserve(b, 0) ? vsnprintf(b->data + b->len, b->allocated - b->len, fmt, ap) : -1;
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if ((size_t) n >= b->allocated - b->len) {
		if (!reserve(b, (size_t) n))
			return;
		va_start(ap, fmt);
		vsnprintf(b->data + b->len, b->allocated - b->len, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t) n;
}

char *strbuf_steal(struct strbuf *b, size_t *ret_len) {
	char *p;

	if (!reserve(b, 0)) {
		strbuf_done(b);
		return NULL;
	}
	b->data[b->len] = 0; /* nothing may have been written yet */
	p = TAKE_PTR(b->data);
	*ret_len = b->len;
	*b = (struct strbuf) {};
	return p;
}

void strbuf_done(struct strbuf *b) {
	free(b->data);
	*b = (struct strbuf) {};
}
