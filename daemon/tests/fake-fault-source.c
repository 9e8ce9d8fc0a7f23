/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "fake-fault-source.h"
#include "tests.h"

#define MAX_ENTRIES 64

struct entry {
	pid_t tgid;
	bool tracked;
	struct fault_counts live, snap;
};

struct fault_source {
	bool counts_writes, sees_clears;
	struct entry e[MAX_ENTRIES];
	size_t n;
};

static struct entry *find(struct fault_source *s, pid_t tgid, bool create) {
	for (size_t i = 0; i < s->n; i++)
		if (s->e[i].tgid == tgid)
			return &s->e[i];
	if (!create)
		return NULL;
	ASSERT_TRUE(s->n < MAX_ENTRIES);
	s->e[s->n] = (struct entry) { .tgid = tgid };
	return &s->e[s->n++];
}

struct fault_source *fake_fault_source_new(bool counts_writes, bool sees_clears) {
	struct fault_source *s = calloc(1, sizeof(*s));

	ASSERT_TRUE(s);
	s->counts_writes = counts_writes;
	s->sees_clears = sees_clears;
	return s;
}

struct fault_counts *fake_fault_counts(struct fault_source *s, pid_t tgid) {
	return &find(s, tgid, true)->live;
}

bool fake_fault_tracked(struct fault_source *s, pid_t tgid) {
	struct entry *e = find(s, tgid, false);

	return e && e->tracked;
}

int fault_source_open(struct fault_source **ret, char *why, size_t why_len) {
	snprintf(why, why_len, "the sampler test sets its fake fault source itself");
	*ret = NULL;
	return -EOPNOTSUPP;
}

struct fault_source *fault_source_free(struct fault_source *s) {
	free(s);
	return NULL;
}

const char *fault_source_hook(const struct fault_source *s) {
	return "fake";
}

bool fault_source_counts_writes(const struct fault_source *s) {
	return s && s->counts_writes;
}

bool fault_source_sees_clears(const struct fault_source *s) {
	return s && s->sees_clears;
}

int fault_source_track(struct fault_source *s, pid_t tgid) {
	struct entry *e = find(s, tgid, true);

	/* As libdrbpf: tracking starts from zero counters. */
	*e = (struct entry) { .tgid = tgid, .tracked = true };
	return 0;
}

int fault_source_untrack(struct fault_source *s, pid_t tgid) {
	struct entry *e = find(s, tgid, false);

	if (e)
		e->tracked = false;
	return 0;
}

int fault_source_snapshot(struct fault_source *s) {
	for (size_t i = 0; i < s->n; i++)
		s->e[i].snap = s->e[i].live;
	return 0;
}

int fault_source_read(struct fault_source *s, pid_t tgid, struct fault_counts *ret) {
	struct entry *e = find(s, tgid, false);

	*ret = e ? e->snap : (struct fault_counts) {};
	return 0;
}

int fault_source_read_now(struct fault_source *s, pid_t tgid, struct fault_counts *ret) {
	struct entry *e = find(s, tgid, false);

	*ret = e ? e->live : (struct fault_counts) {};
	return 0;
}
