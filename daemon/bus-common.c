/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdbool.h>
#include <stdint.h>

#include "bus-common.h"
#include "utf8.h"
#include "util.h"

int bus_property_get_u64(sd_bus *bus, const char *path, const char *interface, const char *property,
			 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "t", *(const uint64_t *) userdata);
}

int bus_property_get_u32(sd_bus *bus, const char *path, const char *interface, const char *property,
			 sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "u", *(const uint32_t *) userdata);
}

int bus_property_get_double(sd_bus *bus, const char *path, const char *interface, const char *property,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "d", *(const double *) userdata);
}

int bus_property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	return sd_bus_message_append(reply, "b", (int) *(const bool *) userdata);
}

int bus_property_get_string_ptr(sd_bus *bus, const char *path, const char *interface, const char *property,
				sd_bus_message *reply, void *userdata, sd_bus_error *error) {
	_cleanup_free_ char *escaped = NULL;
	const char *s;
	int r;

	r = bus_string_utf8(*(char *const *) userdata ?: "", &s, &escaped);
	if (r < 0)
		return r;
	return sd_bus_message_append(reply, "s", s);
}

size_t bus_string_size_max(const char *s) {
	bool ascii = true;
	size_t n = 0;

	for (; s && s[n]; n++)
		ascii = ascii && (unsigned char) s[n] < 0x80;
	/* An invalid byte becomes a 3-byte U+FFFD at most; ASCII is valid. */
	if (!ascii && !utf8_is_valid(s))
		n *= 3;
	return 3 + 4 + n + 1;
}

int bus_string_utf8(const char *s, const char **ret, char **ret_free) {
	*ret_free = NULL;
	if (utf8_is_valid(s)) {
		*ret = s;
		return 0;
	}
	*ret = *ret_free = utf8_escape_invalid(s);
	return *ret ? 0 : -ENOMEM;
}
