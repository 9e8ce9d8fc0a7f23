/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * --json output, with json-c. One JSON value per command, on stdout:
 * D-Bus properties become members under their D-Bus names, with the
 * D-Bus types mapped as tools/README.md documents ("JSON output").
 */
#pragma once

#include <json-c/json.h>
#include <systemd/sd-bus.h>

typedef enum JsonMode {
	JSON_OFF,
	JSON_SHORT,	/* one line */
	JSON_PRETTY,	/* indented */
} JsonMode;

/* Parses --json's argument as systemd's tools do: "short", "pretty",
 * "off"; NULL (a bare --json) is pretty on a terminal and short
 * otherwise. "help" lists the modes and returns 0 with *ret unchanged. */
int json_mode_parse(const char *s, JsonMode *ret);

/* A D-Bus value (the next one in m, of any type) as JSON:
 * strings, object paths and signatures as strings, integers as integers,
 * booleans as booleans, doubles as numbers (NaN and infinities as null: not
 * measured), a{sv} and other dictionaries with string keys as objects,
 * other arrays and structs as arrays, variants as their content. */
int json_from_bus_value(sd_bus_message *m, json_object **ret);

/* Prints v and a newline to stdout in mode; consumes nothing. */
int json_print(json_object *v, JsonMode mode);

static inline void json_object_putp(json_object **v) {
	if (*v)
		json_object_put(*v);
}
#define _cleanup_json_ __attribute__((cleanup(json_object_putp)))
