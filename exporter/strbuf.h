/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A growing text buffer for the renderer. open_memstream() was the first
 * choice; with a stream (and its allocations) for each process's labels
 * and glibc's stream machinery for every sample line, a render of 1000
 * processes took four times as long as with this (perf: the time went to
 * malloc, memmove and page faults). Allocation failures are sticky: the
 * render goes on and strbuf_steal() says so at the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct strbuf {
	char *data;
	size_t len, allocated;
	bool failed;
};

void strbuf_append(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_putc(struct strbuf *b, char c);
_printf_(2, 3) void strbuf_printf(struct strbuf *b, const char *fmt, ...);

/* The NUL-terminated text (to free) and its length, or NULL if an allocation failed. */
char *strbuf_steal(struct strbuf *b, size_t *ret_len);
void strbuf_done(struct strbuf *b);
