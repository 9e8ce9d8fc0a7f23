/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the kernel hands us as text (a comm, a cgroup name) may be any bytes,
 * but a D-Bus string must be UTF-8 (sd-bus refuses to send anything else)
 * and so must a Prometheus label value. These check and repair it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Valid means what sd-bus accepts: well-formed UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF) and no noncharacter (U+FDD0..FDEF,
 * U+xxFFFE, U+xxFFFF).
 */
bool utf8_is_valid(const char *s);

/*
 * A copy of s in which every byte that does not start a valid sequence,
 * and every noncharacter, is replaced by U+FFFD (what systemd's
 * utf8_escape_invalid() does). NULL when out of memory.
 */
char *utf8_escape_invalid(const char *s);

/* Bytes of the valid sequence at s, or 0 where none starts (also at the NUL). */
size_t utf8_valid_length(const char *s);

#define UTF8_REPLACEMENT_CHARACTER "\xef\xbf\xbd"
