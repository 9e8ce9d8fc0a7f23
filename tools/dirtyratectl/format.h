/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Values as people read them, in systemd's style: sizes in powers of 1024
 * with one letter ("4.0M", as systemd-cgtop and systemctl status print them),
 * a standard error beside an estimate ("9.3M ±0.8M"), durations ("100ms"),
 * and text cut to a number of terminal columns.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Big enough for every formatter here. */
#define FORMAT_MAX 64

/* Reads the terminal's character set (LC_CTYPE, set by the caller): "±" and
 * "…" on a UTF-8 terminal, "+-" and "..." elsewhere. */
void glyphs_init(void);
const char *glyph_plus_minus(void);
const char *glyph_ellipsis(void);

/* "512B", "4.0K", "123.4M"; NaN as "-". */
char *format_bytes(char buf[static FORMAT_MAX], double bytes);
/* A rate (bytes/s) and its standard error: "9.3M ±0.8M" when se > 0, else as
 * format_bytes(). NaN rate: "disturbed" when the interval was, else "-". */
char *format_rate(char buf[static FORMAT_MAX], double rate, double se, bool disturbed);
/* Events per second: "0", "12345", "123.4k", "1.2M"; NaN as "-". */
char *format_count(char buf[static FORMAT_MAX], double count);
/* "100ms", "1s", "2.5s", "1min 30s", as systemd prints a timespan. */
char *format_usec(char buf[static FORMAT_MAX], uint64_t usec);

/* Terminal columns the UTF-8 string takes (invalid bytes count one each). */
size_t text_width(const char *s);
/* s cut to at most width columns, ending in the ellipsis when cut; returns
 * buf (of size bytes), which always holds a terminated string. */
char *text_ellipsize(char *buf, size_t size, const char *s, size_t width);
