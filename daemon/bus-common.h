/* SPDX-License-Identifier: GPL-2.0-only */
/* Property getters shared by the two D-Bus interfaces. */
#pragma once

#include <dirtyrate/bus.h>
#include <systemd/sd-bus.h>

/* Getters for a field at the vtable entry's offset of the object. */
int bus_property_get_u64(sd_bus *bus, const char *path, const char *interface, const char *property,
			 sd_bus_message *reply, void *userdata, sd_bus_error *error);
int bus_property_get_u32(sd_bus *bus, const char *path, const char *interface, const char *property,
			 sd_bus_message *reply, void *userdata, sd_bus_error *error);
int bus_property_get_double(sd_bus *bus, const char *path, const char *interface, const char *property,
			    sd_bus_message *reply, void *userdata, sd_bus_error *error);
int bus_property_get_bool(sd_bus *bus, const char *path, const char *interface, const char *property,
			  sd_bus_message *reply, void *userdata, sd_bus_error *error);
/* The field is a char *; NULL reads as "", invalid UTF-8 as bus_string_utf8() makes it. */
int bus_property_get_string_ptr(sd_bus *bus, const char *path, const char *interface, const char *property,
				sd_bus_message *reply, void *userdata, sd_bus_error *error);

/*
 * s as D-Bus can carry it: itself when it is valid UTF-8, else a copy with
 * U+FFFD for each invalid byte (*ret_free, to free). A comm or cgroup name
 * may hold any bytes, and sd-bus refuses to send a message with one that is
 * not UTF-8: a single such process would fail every GetManagedObjects.
 */
int bus_string_utf8(const char *s, const char **ret, char **ret_free);

/*
 * At most how many bytes s takes in a message body at any alignment, as
 * bus_string_utf8() sends it: padding, length, the bytes and the NUL.
 * sd-bus does not tell a message's size; replies that grow with the
 * processes are bounded with this before they are built (MaxReplyBytes=).
 */
size_t bus_string_size_max(const char *s);
