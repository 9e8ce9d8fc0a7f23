/* SPDX-License-Identifier: GPL-2.0-only */
#include <langinfo.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "format.h"
#include "util.h"

static bool utf8;

void glyphs_init(void) {
	utf8 = streq(nl_langinfo(CODESET), "UTF-8");
}

const char *glyph_plus_minus(void) {
	return utf8 ? "±" : "+-";
}

const char *glyph_ellipsis(void) {
	return utf8 ? "…" : "...";
}

static const char prefixes[] = "KMGTPE";

/* The prefix index (-1: plain bytes) systemd's format_bytes() would use. */
static int bytes_prefix(double v) {
	int i = -1;

	while (v >= 1024 && i + 1 < (int) strlen(prefixes)) {
		v /= 1024;
		i++;
	}
	return i;
}

static char *format_bytes_prefix(char buf[static FORMAT_MAX], double v, int prefix) {
	if (prefix < 0)
		snprintf(buf, FORMAT_MAX, "%.0fB", v);
	else
		snprintf(buf, FORMAT_MAX, "%.1f%c", v / pow(1024, prefix + 1), prefixes[prefix]);
	return buf;
}

char *format_bytes(char buf[static FORMAT_MAX], double bytes) {
	if (isnan(bytes)) {
		snprintf(buf, FORMAT_MAX, "-");
		return buf;
	}
	return format_bytes_prefix(buf, bytes, bytes_prefix(bytes));
}

char *format_rate(char buf[static FORMAT_MAX], double rate, double se, bool disturbed) {
	char e[FORMAT_MAX];
	size_t n;
	int prefix;

	if (isnan(rate)) {
		snprintf(buf, FORMAT_MAX, "%s", disturbed ? "disturbed" : "-");
		return buf;
	}
	if (!(se > 0) || isinf(se))
		return format_bytes(buf, rate);

	/* The error in the value's unit reads best ("9.3M ±0.8M"); one that
	 * this unit shows badly gets its own ("9.3M ±12.0K", "0B ±37.3K"). */
	prefix = bytes_prefix(rate);
	if (se / pow(1024, prefix + 1) < 0.05 || se / pow(1024, prefix + 1) >= 1024)
		prefix = bytes_prefix(se);
	format_bytes_prefix(e, se, prefix);
	n = strlen(format_bytes(buf, rate));
	snprintf(buf + n, FORMAT_MAX - n, " %s%s", glyph_plus_minus(), e);
	return buf;
}

char *format_count(char buf[static FORMAT_MAX], double count) {
	static const struct { double factor; char suffix; } si[] = {
		{ 1e9, 'G' }, { 1e6, 'M' }, { 1e3, 'k' },
	};

	if (isnan(count)) {
		snprintf(buf, FORMAT_MAX, "-");
		return buf;
	}
	if (count >= 100000)
		for (size_t i = 0; i < ELEMENTSOF(si); i++)
			if (count >= si[i].factor) {
				snprintf(buf, FORMAT_MAX, "%.1f%c", count / si[i].factor, si[i].suffix);
				return buf;
			}
	snprintf(buf, FORMAT_MAX, "%.0f", count);
	return buf;
}

char *format_usec(char buf[static FORMAT_MAX], uint64_t usec) {
	if (usec < USEC_PER_MSEC)
		snprintf(buf, FORMAT_MAX, "%" PRIu64 "us", usec);
	else if (usec < USEC_PER_SEC)
		snprintf(buf, FORMAT_MAX, "%.3g" "ms", usec / 1e3);
	else if (usec < 60 * USEC_PER_SEC)
		snprintf(buf, FORMAT_MAX, "%.3gs", usec / 1e6);
	else if (usec % (60 * USEC_PER_SEC) == 0)
		snprintf(buf, FORMAT_MAX, "%" PRIu64 "min", usec / (60 * USEC_PER_SEC));
	else
		snprintf(buf, FORMAT_MAX, "%" PRIu64 "min %.3gs", usec / (60 * USEC_PER_SEC),
			 (usec % (60 * USEC_PER_SEC)) / 1e6);
	return buf;
}

/* Columns and bytes of the character at s (one column per invalid byte). */
static size_t char_width(const char *s, size_t *columns) {
	mbstate_t state = {};
	wchar_t wc;
	size_t n;
	int w;

	n = mbrtowc(&wc, s, strlen(s), &state);
	if (n == (size_t) -1 || n == (size_t) -2 || n == 0) {
		*columns = 1;
		return 1;
	}
	w = wcwidth(wc);
	*columns = w < 0 ? 1 : (size_t) w;
	return n;
}

size_t text_width(const char *s) {
	size_t width = 0, w;

	while (*s) {
		s += char_width(s, &w);
		width += w;
	}
	return width;
}

char *text_ellipsize(char *buf, size_t size, const char *s, size_t width) {
	const char *ellipsis = glyph_ellipsis();
	size_t ellipsis_width = text_width(ellipsis), used = 0, w, n;
	const char *p = s, *cut = s;

	if (size == 0)
		return buf;
	if (text_width(s) <= width) {
		snprintf(buf, size, "%s", s);
		return buf;
	}
	if (width < ellipsis_width) {
		/* No room for the ellipsis: as many plain bytes as fit. */
		snprintf(buf, size, "%.*s", (int) width, s);
		return buf;
	}
	/* The longest prefix that leaves room for the ellipsis. */
	while (*p) {
		n = char_width(p, &w);
		if (used + w > width - ellipsis_width)
			break;
		used += w;
		p += n;
		cut = p;
	}
	snprintf(buf, size, "%.*s%s", (int) (cut - s), s, ellipsis);
	return buf;
}
