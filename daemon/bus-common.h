/* SPDX-License-Identifier: GPL-2.0-only */
/* Names and property getters shared by the two D-Bus interfaces. */
#pragma once

#include <systemd/sd-bus.h>

#define BUS_NAME "org.dirtyrate1"
#define MANAGER_INTERFACE "org.dirtyrate1.Manager"
#define PROCESS_INTERFACE "org.dirtyrate1.Process"

#define BUS_ERROR_NO_SUCH_PROCESS "org.dirtyrate1.Error.NoSuchProcess"
#define BUS_ERROR_NOT_TRACKED "org.dirtyrate1.Error.NotTracked"
#define BUS_ERROR_NOT_SUPPORTED "org.dirtyrate1.Error.NotSupported"
#define BUS_ERROR_INVALID_ARGUMENT "org.dirtyrate1.Error.InvalidArgument"
#define BUS_ERROR_BAD_CONFIG "org.dirtyrate1.Error.BadConfig"

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
