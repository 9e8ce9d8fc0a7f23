/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>

#include "parse-util.h"
#include "util.h"

int safe_atou64(const char *s, uint64_t *ret) {
	unsigned long long v;
	char *end;

	if (isempty(s) || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int safe_atou32(const char *s, uint32_t *ret) {
	uint64_t v;
	int r;

	r = safe_atou64(s, &v);
	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t) v;
	return 0;
}

static int parse_number_with_suffix(const char *s, uint64_t *ret_value, const char **ret_suffix) {
	uint64_t v = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t) (*p - '0');
	}
	*ret_value = v;
	*ret_suffix = p;
	return 0;
}

struct unit_factor {
	const char *suffix;
	uint64_t factor;
};

/* "<digits><suffix>" with a suffix from the table; overflow is -ERANGE. */
static int parse_with_units(const char *s, const struct unit_factor *units, size_t n_units, uint64_t *ret) {
	const char *suffix;
	uint64_t v;
	int r;

	r = parse_number_with_suffix(s, &v, &suffix);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_units; i++)
		if (streq(suffix, units[i].suffix)) {
			if (v > UINT64_MAX / units[i].factor)
				return -ERANGE;
			*ret = v * units[i].factor;
			return 0;
		}
	return -EINVAL;
}

int parse_time_usec(const char *s, uint64_t *ret) {
	static const struct unit_factor units[] = {
		{ "", USEC_PER_SEC }, { "s", USEC_PER_SEC }, { "ms", USEC_PER_MSEC }, { "us", 1 },
		{ "min", 60 * USEC_PER_SEC }, { "h", 3600 * USEC_PER_SEC },
	};

	return parse_with_units(s, units, ELEMENTSOF(units), ret);
}

int parse_size_bytes(const char *s, uint64_t *ret) {
	static const struct unit_factor units[] = {
		{ "", 1 }, { "B", 1 }, { "K", 1024 }, { "KB", 1024 },
		{ "M", 1024 * 1024 }, { "MB", 1024 * 1024 },
		{ "G", 1024 * 1024 * 1024 }, { "GB", 1024 * 1024 * 1024 },
	};

	return parse_with_units(s, units, ELEMENTSOF(units), ret);
}
