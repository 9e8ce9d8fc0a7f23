/* SPDX-License-Identifier: GPL-2.0-only */
/* The fault source backed by the BPF CO-RE library in bpf/ (drbpf_dep). */
#include <errno.h>
#include <stdlib.h>

#include "drbpf.h"	/* bpf/: libdrbpf */

#include "fault-source.h"
#include "util.h"

struct fault_source {
	struct dr_faults *faults;
	/* The last snapshot, sorted by tgid; cap entries allocated. */
	struct dr_fault_entry *snap;
	size_t n_snap, cap_snap;
};

/* libbpf's details go to the debug log: our one-line summary says what matters. */
static void log_libbpf(int level, const char *line) {
	log_debug("BPF: %s", line);
}

int fault_source_open(struct fault_source **ret, char *why, size_t why_len) {
	/*
	 * Only tracked tgids are counted: the daemon keeps the filter in sync.
	 * Our clears are our own; getpid() is right in any PID namespace, since
	 * libdrbpf compares tgids in ours.
	 */
	struct dr_faults_opts opts = { .all_processes = false, .self_tgid = getpid() };
	struct fault_source *s;
	int r;

	/* For debugging: force one hook (no fallback), as dirtyrate-faults --hook. */
	opts.hook = getenv("DIRTYRATED_FAULT_HOOK");

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;

	dr_faults_set_print(log_libbpf);
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
	free(s->snap);
	free(s);
	return NULL;
}

const char *fault_source_hook(const struct fault_source *s) {
	return s ? dr_faults_hook(s->faults) : NULL;
}

bool fault_source_counts_writes(const struct fault_source *s) {
	return s && (dr_faults_caps(s->faults) & DR_FAULTS_CAP_WRITES);
}

bool fault_source_sees_clears(const struct fault_source *s) {
	return s && (dr_faults_caps(s->faults) & DR_FAULTS_CAP_CLEARS);
}

int fault_source_track(struct fault_source *s, pid_t tgid) {
	return s ? dr_faults_track(s->faults, tgid) : -EOPNOTSUPP;
}

int fault_source_untrack(struct fault_source *s, pid_t tgid) {
	return s ? dr_faults_untrack(s->faults, tgid) : -EOPNOTSUPP;
}

static int entry_cmp(const void *a, const void *b) {
	pid_t x = ((const struct dr_fault_entry *) a)->tgid, y = ((const struct dr_fault_entry *) b)->tgid;

	return (x > y) - (x < y);
}

int fault_source_snapshot(struct fault_source *s) {
	int n;

	if (!s)
		return -EOPNOTSUPP;

	/* read_all() says how many there were, like snprintf: grow and retry. */
	for (;;) {
		n = dr_faults_read_all(s->faults, s->snap, s->cap_snap);
		if (n < 0) {
			s->n_snap = 0;
			return n;
		}
		if ((size_t) n <= s->cap_snap)
			break;
		size_t cap = (size_t) n + 16; /* room for a few more next time */
		struct dr_fault_entry *a = reallocarray(s->snap, cap, sizeof(*a));

		if (!a) {
			s->n_snap = 0;
			return -ENOMEM;
		}
		s->snap = a;
		s->cap_snap = cap;
	}

	/* No entries yet (nothing tracked has faulted): snap may still be NULL. */
	if (n > 0)
		qsort(s->snap, n, sizeof(*s->snap), entry_cmp);
	s->n_snap = n;
	return 0;
}

static struct fault_counts from_dr(const struct dr_fault_counts *c) {
	return (struct fault_counts) {
		.wp_faults = c->wp_faults,
		.np_write_faults = c->np_write_faults,
		.cleared_pages_self = c->cleared_pages_self,
		.clears_foreign = c->clears_foreign,
		.last_foreign_clear_nsec = c->last_foreign_clear_ns,
	};
}

int fault_source_read(struct fault_source *s, pid_t tgid, struct fault_counts *ret) {
	const struct dr_fault_entry key = { .tgid = tgid }, *e;

	if (!s)
		return -EOPNOTSUPP;

	e = s->n_snap ? bsearch(&key, s->snap, s->n_snap, sizeof(*s->snap), entry_cmp) : NULL;
	/* None: no fault yet, or gone. */
	*ret = e ? from_dr(&e->counts) : (struct fault_counts) {};
	return 0;
}

int fault_source_read_now(struct fault_source *s, pid_t tgid, struct fault_counts *ret) {
	struct dr_fault_counts c = {};
	int r;

	if (!s)
		return -EOPNOTSUPP;

	r = dr_faults_lookup(s->faults, tgid, &c);
	if (r < 0 && r != -ENOENT)
		return r;
	*ret = from_dr(&c);
	return 0;
}
