/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reading D-Bus properties into a C struct by a table of (name, signature,
 * offset), as systemd's bus_map_all_properties() does: one reader for
 * GetAll replies, GetManagedObjects entries and PropertiesChanged signals
 * alike. Properties the table does not name, or whose type differs from the
 * table's, are skipped: a newer daemon may add some.
 */
#pragma once

#include <stddef.h>
#include <systemd/sd-bus.h>

typedef struct PropMap {
	const char *name;
	/* "s" (char *, owned), "u" (uint32_t), "t" (uint64_t), "d" (double),
	 * "b" (bool), "as" (char **, NULL-terminated, owned). */
	const char *signature;
	size_t offset;
} PropMap;

/* Reads an a{sv} into userdata; map must be sorted by name (bsearch). */
int prop_map_read_dict(sd_bus_message *m, const PropMap *map, size_t n_map, void *userdata);

/* Frees what the "s" and "as" fields of userdata own. */
void prop_map_free(const PropMap *map, size_t n_map, void *userdata);

/* Deep copy of the fields the map names, from src to dst (a copy of the
 * whole struct made by the caller first); -ENOMEM leaves dst's strings NULL. */
int prop_map_dup_strings(const PropMap *map, size_t n_map, void *dst);

void strv_free(char **l);
static inline void strv_freep(char ***l) {
	strv_free(*l);
}
