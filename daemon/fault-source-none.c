/* SPDX-License-Identifier: GPL-2.0-only */
/* The fault source of a build without bpf/: never available, says why. */
#include <errno.h>
#include <stdio.h>

#include "fault-source.h"

int fault_source_open(struct fault_source **ret, char *why, size_t why_len) {
	snprintf(why, why_len, "dirtyrated was built without BPF support (no bpf/ library in this build)");
	*ret = NULL;
	return -EOPNOTSUPP;
}

struct fault_source *fault_source_free(struct fault_source *s) {
	return NULL;
}

const char *fault_source_hook(const struct fault_source *s) {
	return NULL;
}

bool fault_source_counts_writes(const struct fault_source *s) {
	return false;
}

bool fault_source_sees_clears(const struct fault_source *s) {
	return false;
}

int fault_source_track(struct fault_source *s, pid_t tgid) {
	return -EOPNOTSUPP;
}

int fault_source_untrack(struct fault_source *s, pid_t tgid) {
	return -EOPNOTSUPP;
}

int fault_source_snapshot(struct fault_source *s) {
	return -EOPNOTSUPP;
}

int fault_source_read(struct fault_source *s, pid_t tgid, struct fault_counts *ret) {
	return -EOPNOTSUPP;
}

int fault_source_read_now(struct fault_source *s, pid_t tgid, struct fault_counts *ret) {
	return -EOPNOTSUPP;
}
