/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Strict parsers for what people type: numbers, durations and sizes, in the
 * config file and on command lines. Whole string, no sign, no junk; -EINVAL
 * for malformed input, -ERANGE for overflow.
 */
#pragma once

#include <stdint.h>

int safe_atou64(const char *s, uint64_t *ret);
int safe_atou32(const char *s, uint32_t *ret);

/* Time values: "1", "1s", "500ms", "250000us", "2min", "1h". */
int parse_time_usec(const char *s, uint64_t *ret);
/* Sizes: "4096", "64K", "1M", "2G" (powers of 1024), optional trailing "B". */
int parse_size_bytes(const char *s, uint64_t *ret);
