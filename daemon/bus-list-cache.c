/* SPDX-License-Identifier: GPL-2.0-only */
#include "bus-common.h"
#include "bus-list-cache.h"
#include "bus-read-access.h"
#include "manager.h"
#include "util.h"

static void rows_free(struct list_cache *c) {
	for (size_t i = 0; i < c->n; i++) {
		free(c->rows[i].path);
		free(c->rows[i].comm);
	}
	free(c->rows);
	c->rows = NULL;
	c->n = 0;
}

void list_cache_invalidate(struct list_cache *c) {
	c->valid = false;
}

void list_cache_done(struct list_cache *c) {
	rows_free(c);
	c->valid = false;
}

static int rows_build(struct list_cache *c, struct manager *m) {
	struct list_row *rows;

	rows_free(c);
	rows = calloc(m->n_processes ?: 1, sizeof(*rows));
	if (!rows)
		return -ENOMEM;
	c->rows = rows;
	for (size_t i = 0; i < m->n_processes; i++) {
		const struct process *p = m->processes[i];
		struct list_row *row = &rows[c->n];
		_cleanup_free_ char *escaped = NULL;
		const char *comm;
		int r;

		r = bus_string_utf8(p->comm ?: "", &comm, &escaped);
		if (r < 0)
			return r;
		*row = (struct list_row) {
			.pid = (uint32_t) p->pid,
			.uid = p->uid,
			.path = strdup(p->path),
			.comm = escaped ? TAKE_PTR(escaped) : strdup(comm),
			.dirty_avg10 = p->stats.dirty_avgs.avg10,
			.write_faults_per_sec = p->stats.write_faults_per_sec,
			.resident_bytes = p->resident_bytes,
		};
		c->n++;
		if (!row->path || !row->comm)
			return -ENOMEM;
	}
	c->valid = true;
	c->builds++;
	return 0;
}

static int append_row(sd_bus_message *reply, const struct list_row *row) {
	int r;

	r = sd_bus_message_open_container(reply, 'r', "uosddt");
	if (r >= 0)
		r = sd_bus_message_append_basic(reply, 'u', &row->pid);
	if (r >= 0)
		r = sd_bus_message_append_basic(reply, 'o', row->path);
	if (r >= 0)
		r = sd_bus_message_append_basic(reply, 's', row->comm);
	if (r >= 0)
		r = sd_bus_message_append_basic(reply, 'd', &row->dirty_avg10);
	if (r >= 0)
		r = sd_bus_message_append_basic(reply, 'd', &row->write_faults_per_sec);
	if (r >= 0)
		r = sd_bus_message_append_basic(reply, 't', &row->resident_bytes);
	if (r >= 0)
		r = sd_bus_message_close_container(reply);
	return r;
}

int list_cache_append(struct list_cache *c, struct manager *m, const struct read_grant *g, sd_bus_message *reply) {
	int r;

	if (!c->valid) {
		r = rows_build(c, m);
		if (r < 0) {
			list_cache_done(c);
			return r;
		}
	}
	r = sd_bus_message_open_container(reply, 'a', "(uosddt)");
	if (r < 0)
		return r;
	for (size_t i = 0; i < c->n; i++) {
		if (!read_grant_allows_uid(g, c->rows[i].uid))
			continue;
		r = append_row(reply, &c->rows[i]);
		if (r < 0)
			return r;
	}
	return sd_bus_message_close_container(reply);
}
