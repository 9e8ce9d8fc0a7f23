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
/* The field is a char *; NULL reads as "". */
int bus_property_get_string_ptr(sd_bus *bus, const char *path, const char *interface, const char *property,
				sd_bus_message *reply, void *userdata, sd_bus_error *error);
