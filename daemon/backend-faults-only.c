/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The faults-only backend, for kernels without soft-dirty: it reads and
 * clears nothing. The process's write faults (the fault counters) times
 * the page size stand in for its dirty bytes: an estimate, since a page
 * that is already writable takes no fault when written again.
 */
#include "backend.h"

static bool faults_only_probe(void) {
	return true; /* whether it has data depends on the fault counters */
}

static int faults_only_open(int procfd, void **ret_state) {
	*ret_state = NULL;
	return 0;
}

static int faults_only_pass(void *state, const struct backend_pass_args *args, uint64_t *ret_dirty_pages) {
	return 0; /* no dirty count: the fault counters give the estimate */
}

static void faults_only_close(void *state) {
}

const struct backend_ops backend_faults_only = {
	.name = "faults-only",
	.counts_only_faults = true,
	.probe = faults_only_probe,
	.open = faults_only_open,
	.pass = faults_only_pass,
	.close = faults_only_close,
};
