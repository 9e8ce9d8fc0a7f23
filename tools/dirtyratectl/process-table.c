/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dirtyrate/bus.h>

#include "object-path.h"
#include "process-table.h"
#include "util.h"

void process_table_done(ProcessTable *t) {
	for (size_t i = 0; i < t->n; i++)
		process_info_free(t->items[i]);
	free(t->items);
	*t = (ProcessTable) {};
}

/* The index of pid, or where it would go. */
static size_t table_index(const ProcessTable *t, uint32_t pid) {
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->items[mid]->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

ProcessInfo *process_table_get(const ProcessTable *t, uint32_t pid) {
	size_t i = table_index(t, pid);

	return i < t->n && t->items[i]->pid == pid ? t->items[i] : NULL;
}

int process_table_ensure(ProcessTable *t, uint32_t pid, ProcessInfo **ret) {
	size_t i = table_index(t, pid);
	ProcessInfo *p;

	if (i < t->n && t->items[i]->pid == pid) {
		*ret = t->items[i];
		return 0;
	}
	if (t->n == t->allocated) {
		size_t allocated = MAX(t->allocated * 2, (size_t) 64);
		ProcessInfo **items = reallocarray(t->items, allocated, sizeof(*items));

		if (!items)
			return -ENOMEM;
		t->items = items;
		t->allocated = allocated;
	}
	p = process_info_new(pid);
	if (!p)
		return -ENOMEM;
	memmove(t->items + i + 1, t->items + i, (t->n - i) * sizeof(*t->items));
	t->items[i] = p;
	t->n++;
	*ret = p;
	return 1;
}

void process_table_remove(ProcessTable *t, uint32_t pid) {
	size_t i = table_index(t, pid);

	if (i >= t->n || t->items[i]->pid != pid)
		return;
	process_info_free(t->items[i]);
	memmove(t->items + i, t->items + i + 1, (t->n - i - 1) * sizeof(*t->items));
	t->n--;
}

int process_table_copy(const ProcessTable *src, ProcessTable *dst) {
	ProcessTable copy = { .generation = src->generation };

	copy.items = calloc(MAX(src->n, (size_t) 1), sizeof(*copy.items));
	if (!copy.items)
		return -ENOMEM;
	copy.allocated = MAX(src->n, (size_t) 1);
	for (; copy.n < src->n; copy.n++) {
		copy.items[copy.n] = process_info_copy(src->items[copy.n]);
		if (!copy.items[copy.n]) {
			process_table_done(&copy);
			return -ENOMEM;
		}
	}
	*dst = copy;
	return 0;
}

/* Calls object() for the Process interface's a{sv} of the "oa{sa{sv}}" at
 * m (InterfacesAdded's body, a GetManagedObjects entry), if it has one. */
static int read_interfaces(sd_bus_message *m, ProcessObjectFunc object, void *userdata) {
	const char *path, *interface;
	pid_t pid;
	int r;

	r = sd_bus_message_read_basic(m, 'o', &path);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		r = sd_bus_message_read_basic(m, 's', &interface);
		if (r < 0)
			return r;
		if (streq(interface, DIRTYRATE_PROCESS_INTERFACE) && process_path_to_pid(path, &pid) >= 0)
			r = object(pid, m, userdata);
		else
			r = sd_bus_message_skip(m, "a{sv}");
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

int managed_objects_foreach_process(sd_bus_message *reply, ProcessObjectFunc object, void *userdata) {
	int r;

	r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
		r = read_interfaces(reply, object, userdata);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(reply);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(reply);
}

static int table_read_object(pid_t pid, sd_bus_message *props, void *userdata) {
	ProcessTable *t = userdata;
	ProcessInfo *p;
	int r;

	r = process_table_ensure(t, (uint32_t) pid, &p);
	if (r < 0)
		return r;
	p->generation = t->generation;
	return prop_map_read_dict(props, process_info_map, process_info_map_size, p);
}

int process_table_read_interfaces(ProcessTable *t, sd_bus_message *m) {
	return read_interfaces(m, table_read_object, t);
}

int process_table_load(ProcessTable *t, sd_bus_message *reply) {
	size_t kept = 0;
	int r;

	/* Mark and sweep: what this reply names carries the new generation. */
	t->generation++;
	r = managed_objects_foreach_process(reply, table_read_object, t);
	if (r < 0)
		return r;

	for (size_t i = 0; i < t->n; i++)
		if (t->items[i]->generation == t->generation)
			t->items[kept++] = t->items[i];
		else
			process_info_free(t->items[i]);
	t->n = kept;
	return 0;
}
