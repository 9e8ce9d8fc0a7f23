/* SPDX-License-Identifier: GPL-2.0-only */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "negotiate.h"
#include "util.h"

#define OPENMETRICS_TYPE "application/openmetrics-text"
#define TEXT_TYPE "text/plain"

static const char *skip_space(const char *s, const char *end) {
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	return s;
}

static const char *trim_end(const char *start, const char *end) {
	while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	return end;
}

static bool token_is(const char *s, const char *end, const char *word) {
	size_t n = strlen(word);

	return (size_t) (end - s) == n && strncasecmp(s, word, n) == 0;
}

/* RFC 9110 qvalue: "0" ["." 0-3 digits] or "1" ["." 0-3 zeros], in thousandths; -1 if malformed. */
static int parse_qvalue(const char *s, const char *end) {
	int q, scale = 100;

	if (s == end || (*s != '0' && *s != '1'))
		return -1;
	q = (*s++ - '0') * 1000;
	if (s == end)
		return q;
	if (*s++ != '.')
		return -1;
	for (int digits = 0; s < end; s++, digits++) {
		if (digits == 3 || !isdigit((unsigned char) *s))
			return -1;
		q += (*s - '0') * scale;
		scale /= 10;
	}
	return q <= 1000 ? q : -1;
}

/* A parameter value, token or quoted string (without escapes, which no version needs). */
static void param_value(const char *s, const char *end, const char **ret, const char **ret_end) {
	if (end - s >= 2 && *s == '"' && end[-1] == '"') {
		s++;
		end--;
	}
	*ret = s;
	*ret_end = end;
}

struct media_range {
	int format;	/* an enum exposition_format, or -1: names none */
	int q;		/* thousandths */
};

/* One media range, "type/subtype *(; name=value)". */
static struct media_range parse_range(const char *s, const char *end) {
	const char *type_end = memchr(s, ';', end - s) ?: end;
	const char *version = NULL, *version_end = NULL;
	struct media_range m = { .format = -1, .q = 1000 };

	s = skip_space(s, end);
	for (const char *p = type_end; p < end;) {
		const char *param = skip_space(p + 1, end), *param_end = memchr(param, ';', end - param) ?: end;
		const char *eq = memchr(param, '=', param_end - param);

		p = param_end;
		if (!eq)
			continue;
		const char *name_end = trim_end(param, eq), *value = skip_space(eq + 1, param_end),
			   *value_end = trim_end(value, param_end);

		if (token_is(param, name_end, "q"))
			m.q = parse_qvalue(value, value_end);
		else if (token_is(param, name_end, "version"))
			param_value(value, value_end, &version, &version_end);
	}
	if (m.q <= 0)
		return (struct media_range) { .format = -1, .q = 0 };

	type_end = trim_end(s, type_end);
	if (token_is(s, type_end, OPENMETRICS_TYPE) &&
	    (!version || token_is(version, version_end, "1.0.0") || token_is(version, version_end, "0.0.1")))
		m.format = FORMAT_OPENMETRICS;
	else if (token_is(s, type_end, TEXT_TYPE) && (!version || token_is(version, version_end, "0.0.4")))
		m.format = FORMAT_TEXT;
	return m;
}

enum exposition_format negotiate_format(const char *accept) {
	struct media_range best = { .format = -1, .q = 0 };

	if (!accept)
		return FORMAT_TEXT;
	for (const char *s = accept, *end; *s; s = *end ? end + 1 : end) {
		struct media_range m;

		end = strchrnul(s, ',');
		m = parse_range(s, end);
		/* Strictly greater: of equal q-values the first one given wins. */
		if (m.format >= 0 && m.q > best.q)
			best = m;
	}
	return best.format >= 0 ? (enum exposition_format) best.format : FORMAT_TEXT;
}
