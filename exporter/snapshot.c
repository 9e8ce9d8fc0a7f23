/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "util.h"

const char *const rate_window_label[_WINDOW_MAX] = {
	[WINDOW_SAMPLE] = "sample",
	[WINDOW_10S] = "10s",
	[WINDOW_60S] = "60s",
	[WINDOW_300S] = "300s",
};

struct snapshot *snapshot_new(void) {
	return calloc(1, sizeof(struct snapshot));
}

static void process_sample_done(struct process_sample *p) {
	free(p->comm);
	free(p->unit);
	free(p->backend);
	p->comm = p->unit = p->backend = NULL;
}

void snapshot_free(struct snapshot *s) {
	if (!s)
		return;
	for (size_t i = 0; i < s->n_processes; i++)
		process_sample_done(&s->processes[i]);
	free(s->processes);
	free(s->daemon.version);
	free(s->daemon.backend);
	free(s->daemon.read_access);
	free(s->daemon.features);
	free(s);
}

struct process_sample *snapshot_add_process(struct snapshot *s) {
	struct process_sample *p;

	/* Doubling: GetManagedObjects does not say how many are coming. */
	if (s->n_processes == s->n_allocated) {
		size_t n = s->n_allocated ? 2 * s->n_allocated : 16;

		p = reallocarray(s->processes, n, sizeof(*p));
		if (!p)
			return NULL;
		s->processes = p;
		s->n_allocated = n;
	}
	p = &s->processes[s->n_processes++];
	*p = (struct process_sample) {};
	for (size_t w = 0; w < _WINDOW_MAX; w++)
		p->rate[w] = p->rate_stderr[w] = NAN;
	return p;
}

void snapshot_drop_last(struct snapshot *s) {
	if (s->n_processes > 0)
		process_sample_done(&s->processes[--s->n_processes]);
}

void process_sample_free(struct process_sample *p) {
	if (p) {
		process_sample_done(p);
		free(p);
	}
}

int process_sample_copy(struct process_sample *dst, const struct process_sample *src) {
	*dst = *src;
	dst->comm = src->comm ? strdup(src->comm) : NULL;
	dst->unit = src->unit ? strdup(src->unit) : NULL;
	dst->backend = src->backend ? strdup(src->backend) : NULL;
	if ((src->comm && !dst->comm) || (src->unit && !dst->unit) || (src->backend && !dst->backend)) {
		process_sample_done(dst);
		return -ENOMEM;
	}
	return 0;
}

static int compare_by_rate(const void *a, const void *b) {
	const struct process_sample *x = a, *y = b;
	double rx = x->rate[WINDOW_60S], ry = y->rate[WINDOW_60S];

	if (isnan(rx) != isnan(ry))
		return isnan(rx) ? 1 : -1;
	if (!isnan(rx) && rx != ry)
		return rx > ry ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int compare_by_pid(const void *a, const void *b) {
	const struct process_sample *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

void snapshot_select_top(struct snapshot *s, size_t max, struct others_aggregate *others) {
	*others = (struct others_aggregate) {};
	if (max < s->n_processes) {
		qsort(s->processes, s->n_processes, sizeof(*s->processes), compare_by_rate);
		for (size_t i = max; i < s->n_processes; i++) {
			struct process_sample *p = &s->processes[i];

			for (size_t w = 0; w < _WINDOW_MAX; w++)
				if (!isnan(p->rate[w]))
					others->rate[w] += p->rate[w];
			others->count++;
			process_sample_done(p);
		}
		s->n_processes = max;
	}
	if (s->n_processes > 0)
		qsort(s->processes, s->n_processes, sizeof(*s->processes), compare_by_pid);
}

bool backend_has_standard_error(const char *backend) {
	return backend && streq(backend, "page-sampling");
}
