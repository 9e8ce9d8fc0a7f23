/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json-output.h"
#include "util.h"

int json_mode_parse(const char *s, JsonMode *ret) {
	if (!s) {
		*ret = isatty(STDOUT_FILENO) ? JSON_PRETTY : JSON_SHORT;
		return 1;
	}
	if (streq(s, "help")) {
		printf("short\npretty\noff\n");
		return 0;
	}
	if (streq(s, "short"))
		*ret = JSON_SHORT;
	else if (streq(s, "pretty"))
		*ret = JSON_PRETTY;
	else if (streq(s, "off"))
		*ret = JSON_OFF;
	else
		return log_error_errno(EINVAL, "Unknown argument to --json= switch: %s (use short, pretty or off)", s);
	return 1;
}

/* The shortest text that reads back as the same double, always with a
 * fraction or an exponent so that a reader keeps it a float. */
static json_object *json_double(double d) {
	char buf[64];

	if (!isfinite(d))
		return NULL;	/* json-c's null */
	/* Whole numbers (rates often are) in plain digits, not 1.048576e+07. */
	if (d == trunc(d) && fabs(d) < 1e17) {
		snprintf(buf, sizeof(buf), "%.1f", d);
		return json_object_new_double_s(d, buf);
	}
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(buf, sizeof(buf), "%.*g", precision, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (!strpbrk(buf, ".e"))
		strcat(buf, ".0");
	return json_object_new_double_s(d, buf);
}

static int json_from_basic(sd_bus_message *m, char type, json_object **ret) {
	union {
		uint8_t y; int16_t n; uint16_t q; int32_t i; uint32_t u; int64_t x; uint64_t t;
		double d; int b; const char *s;
	} v;
	json_object *j;
	int r;

	r = sd_bus_message_read_basic(m, type, &v);
	if (r < 0)
		return r;
	switch (type) {
	case 'y': j = json_object_new_int64(v.y); break;
	case 'n': j = json_object_new_int64(v.n); break;
	case 'q': j = json_object_new_int64(v.q); break;
	case 'i': j = json_object_new_int64(v.i); break;
	case 'u': j = json_object_new_int64(v.u); break;
	case 'x': j = json_object_new_int64(v.x); break;
	case 't': j = json_object_new_uint64(v.t); break;
	case 'h': j = json_object_new_int64(v.i); break;
	case 'b': j = json_object_new_boolean(v.b); break;
	case 'd':
		*ret = json_double(v.d);
		return *ret || !isfinite(v.d) ? 0 : -ENOMEM;
	case 's':
	case 'o':
	case 'g': j = json_object_new_string(v.s); break;
	default:
		return -EINVAL;
	}
	if (!j)
		return -ENOMEM;
	*ret = j;
	return 0;
}

/* The entries of an a{..}: keys as strings (a basic type's JSON text when
 * they are not strings). */
static int json_from_dict(sd_bus_message *m, const char *contents, json_object **ret) {
	_cleanup_json_ json_object *o = json_object_new_object();
	/* contents is "{KV}": the entry's own signature is what is inside. */
	_cleanup_free_ char *entry = strndup(contents + 1, strlen(contents) - 2);
	int r;

	if (!o || !entry)
		return -ENOMEM;
	r = sd_bus_message_enter_container(m, 'a', contents);
	if (r < 0)
		return r;
	while (true) {
		_cleanup_json_ json_object *key = NULL, *value = NULL;
		const char *k;

		r = sd_bus_message_enter_container(m, 'e', entry);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		r = json_from_basic(m, entry[0], &key);
		if (r < 0)
			return r;
		r = json_from_bus_value(m, &value);
		if (r < 0)
			return r;
		k = json_object_get_type(key) == json_type_string ? json_object_get_string(key)
								     : json_object_to_json_string(key);
		if (json_object_object_add(o, k, TAKE_PTR(value)) < 0)
			return -ENOMEM;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}

static int json_from_sequence(sd_bus_message *m, char type, const char *contents, json_object **ret) {
	_cleanup_json_ json_object *a = json_object_new_array();
	int r;

	if (!a)
		return -ENOMEM;
	r = sd_bus_message_enter_container(m, type, contents);
	if (r < 0)
		return r;
	while ((r = sd_bus_message_at_end(m, false)) == 0) {
		_cleanup_json_ json_object *v = NULL;

		r = json_from_bus_value(m, &v);
		if (r < 0)
			return r;
		if (json_object_array_add(a, TAKE_PTR(v)) < 0)
			return -ENOMEM;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(m);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(a);
	return 0;
}

int json_from_bus_value(sd_bus_message *m, json_object **ret) {
	const char *contents;
	char type;
	int r;

	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	if (r == 0)
		return -ENXIO;
	switch (type) {
	case 'a':
		if (contents[0] == '{')
			return json_from_dict(m, contents, ret);
		return json_from_sequence(m, 'a', contents, ret);
	case 'r':
		return json_from_sequence(m, 'r', contents, ret);
	case 'v':
		r = sd_bus_message_enter_container(m, 'v', contents);
		if (r < 0)
			return r;
		r = json_from_bus_value(m, ret);
		if (r < 0)
			return r;
		return sd_bus_message_exit_container(m);
	default:
		return json_from_basic(m, type, ret);
	}
}

int json_print(json_object *v, JsonMode mode) {
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	/* systemd's pretty mode: indented, a space after each colon. */
	flags |= mode == JSON_PRETTY ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
	if (puts(json_object_to_json_string_ext(v, flags)) < 0 || fflush(stdout) != 0)
		return log_error_errno(errno, "Failed to write the JSON output: %m");
	return 0;
}
