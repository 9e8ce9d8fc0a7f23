/* SPDX-License-Identifier: GPL-2.0-only */
/* The fault source backed by the BPF CO-RE library in bpf/ (drbpf_dep). */
#include <errno.h>
#include <stdlib.h>

#include "faults.h"	/* bpf/: libdrbpf */

#include "fault-source.h"

struct fault_source {
	struct dr_faults *faults;
};

int fault_source_open(struct fault_source **ret, char *why, size_t why_len) {
	/* Only tracked tgids are counted: the daemon keeps the filter in sync. */
	const struct dr_faults_opts opts = { .all_processes = false };
	struct fault_source *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;

	r = dr_faults_open(&opts, &s->faults, why, why_len);
	if (r < 0) {
		free(s);
		*ret = NULL;
		return r;
	}

	*ret = s;
	return 0;
}

struct fault_source *fault_source_free(struct fault_source *s) {
	if (!s)
		return NULL;
	dr_faults_close(s->faults);
	free(s);
	return NULL;
}

const char *fault_source_hook(const struct fault_source *s) {
	return s ? dr_faults_hook(s->faults) : NULL;
}

bool fault_source_sees_clears(const struct fault_source *s) {
	return s && dr_faults_has_clear_tracepoint(s->faults);
}

int fault_source_track(struct fault_source *s, pid_t tgid) {
	return s ? dr_faults_track(s->faults, tgid) : -EOPNOTSUPP;
}

int fault_source_untrack(struct fault_source *s, pid_t tgid) {
	return s ? dr_faults_untrack(s->faults, tgid) : -EOPNOTSUPP;
}

int fault_source_read(struct fault_source *s, pid_t tgid, struct fault_counts *ret) {
	struct dr_fault_counts c = {};
	int r;

	if (!s)
		return -EOPNOTSUPP;

	r = dr_faults_lookup(s->faults, tgid, &c);
	if (r == -ENOENT)
		c = (struct dr_fault_counts) {}; /* no fault yet */
	else if (r < 0)
		return r;

	*ret = (struct fault_counts) {
		.wp_faults = c.wp_faults,
		.np_write_faults = c.np_write_faults,
		.clears_foreign = c.clears_foreign,
		.cleared_pages_foreign = c.cleared_pages_foreign,
	};
	return 0;
}
