/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "utf8.h"

static bool is_continuation(unsigned char c) {
	return (c & 0xc0) == 0x80;
}

/* The code point a well-formed sequence of n bytes encodes, rejecting the
 * forms RFC 3629 forbids: overlong, surrogates, beyond U+10FFFF. */
static bool decode(const unsigned char *s, size_t n, uint32_t *ret) {
	static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
	uint32_t c = s[0] & (0x7f >> n);

	for (size_t i = 1; i < n; i++) {
		if (!is_continuation(s[i]))
			return false;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return false;
	*ret = c;
	return true;
}

static bool is_noncharacter(uint32_t c) {
	return (c >= 0xfdd0 && c <= 0xfdef) || (c & 0xfffe) == 0xfffe;
}

/* Length of the sequence the lead byte announces, 0 for a byte that cannot lead. */
static size_t lead_length(unsigned char c) {
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return 2;
	if (c >= 0xe0 && c <= 0xef)
		return 3;
	if (c >= 0xf0 && c <= 0xf4)
		return 4;
	return 0;
}

/* Bytes of a well-formed sequence at s (0 if none), and whether its code
 * point is one sd-bus accepts. */
static size_t well_formed_length(const unsigned char *s, bool *ret_allowed) {
	size_t n = lead_length(s[0]);
	uint32_t c;

	if (n == 0 || s[0] == 0)
		return 0;
	/* decode() stops at the NUL: it is no continuation byte. */
	if (!decode(s, n, &c))
		return 0;
	*ret_allowed = !is_noncharacter(c);
	return n;
}

size_t utf8_valid_length(const char *s) {
	bool allowed;
	size_t n = well_formed_length((const unsigned char *) s, &allowed);

	return n > 0 && allowed ? n : 0;
}

bool utf8_is_valid(const char *s) {
	while (*s) {
		size_t n = utf8_valid_length(s);

		if (n == 0)
			return false;
		s += n;
	}
	return true;
}

char *utf8_escape_invalid(const char *s) {
	const size_t rlen = strlen(UTF8_REPLACEMENT_CHARACTER);
	char *out, *p;

	/* At most every byte becomes a 3-byte replacement. */
	out = malloc(strlen(s) * rlen + 1);
	if (!out)
		return NULL;
	p = out;
	while (*s) {
		bool allowed = false;
		size_t n = well_formed_length((const unsigned char *) s, &allowed);

		if (n > 0 && allowed) {
			memcpy(p, s, n);
			p += n;
		} else {
			/* A noncharacter is one replacement; a malformed byte one each. */
			memcpy(p, UTF8_REPLACEMENT_CHARACTER, rlen);
			p += rlen;
		}
		s += n > 0 ? n : 1;
	}
	*p = 0;
	return out;
}
