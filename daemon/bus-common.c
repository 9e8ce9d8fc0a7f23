/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdbool.h>
#include <stdint.h>

#include "bus-common.h"

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
	const char *s = *(char *const *) userdata;

	return sd_bus_message_append(reply, "s", s ?: "");
}
