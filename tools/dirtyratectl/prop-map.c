/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prop-map.h"
#include "util.h"

void strv_free(char **l) {
	if (!l)
		return;
	for (char **s = l; *s; s++)
		free(*s);
	free(l);
}

static char **strv_copy(char *const *l) {
	size_t n = 0;
	char **copy;

	while (l[n])
		n++;
	copy = calloc(n + 1, sizeof(char *));
	if (!copy)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		copy[i] = strdup(l[i]);
		if (!copy[i]) {
			strv_free(copy);
			return NULL;
		}
	}
	return copy;
}

static int compare_name(const void *key, const void *entry) {
	return strcmp(key, ((const PropMap *) entry)->name);
}

/* The variant at m into the field, which already holds the old value. */
static int read_value(sd_bus_message *m, const PropMap *p, void *field) {
	int r;

	switch (p->signature[0]) {
	case 's': {
		const char *s;
		char *copy;

		r = sd_bus_message_read_basic(m, 's', &s);
		if (r < 0)
			return r;
		copy = strdup(s);
		if (!copy)
			return -ENOMEM;
		free(*(char **) field);
		*(char **) field = copy;
		return 0;
	}
	case 'u':
		return sd_bus_message_read_basic(m, 'u', field);
	case 't':
		return sd_bus_message_read_basic(m, 't', field);
	case 'd':
		return sd_bus_message_read_basic(m, 'd', field);
	case 'b': {
		int b;

		r = sd_bus_message_read_basic(m, 'b', &b);
		if (r >= 0)
			*(bool *) field = b;
		return r;
	}
	case 'a': {
		char **l = NULL;

		r = sd_bus_message_read_strv(m, &l);
		if (r < 0)
			return r;
		strv_free(*(char ***) field);
		*(char ***) field = l;
		return 0;
	}
	}
	return -EINVAL;
}

int prop_map_read_dict(sd_bus_message *m, const PropMap *map, size_t n_map, void *userdata) {
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *name, *contents;
		const PropMap *p;

		r = sd_bus_message_read_basic(m, 's', &name);
		if (r < 0)
			return r;
		p = bsearch(name, map, n_map, sizeof(*map), compare_name);
		r = sd_bus_message_peek_type(m, NULL, &contents);
		if (r < 0)
			return r;
		if (!p || !streq(contents, p->signature))
			r = sd_bus_message_skip(m, "v");
		else {
			r = sd_bus_message_enter_container(m, 'v', contents);
			if (r >= 0)
				r = read_value(m, p, (uint8_t *) userdata + p->offset);
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

void prop_map_free(const PropMap *map, size_t n_map, void *userdata) {
	for (size_t i = 0; i < n_map; i++) {
		void *field = (uint8_t *) userdata + map[i].offset;

		if (streq(map[i].signature, "s"))
			free(TAKE_PTR(*(char **) field));
		else if (streq(map[i].signature, "as")) {
			strv_free(*(char ***) field);
			*(char ***) field = NULL;
		}
	}
}

int prop_map_dup_strings(const PropMap *map, size_t n_map, void *dst) {
	int r = 0;

	for (size_t i = 0; i < n_map; i++) {
		void *field = (uint8_t *) dst + map[i].offset;

		if (streq(map[i].signature, "s") && *(char **) field) {
			*(char **) field = strdup(*(char **) field);
			if (!*(char **) field)
				r = -ENOMEM;
		} else if (streq(map[i].signature, "as") && *(char ***) field) {
			*(char ***) field = strv_copy(*(char ***) field);
			if (!*(char ***) field)
				r = -ENOMEM;
		}
	}
	return r;
}
