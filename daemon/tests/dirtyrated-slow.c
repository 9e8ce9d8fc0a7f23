/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dirtyrated with one fake backend whose pass takes 20 ms per process, for
 * the dbus suite's slow-pass test: with 50 tracked processes a pass lasts
 * a second, and bus calls must still be answered while it runs.
 */
#include <unistd.h>

#include "backend.h"
#include "main.h"

#define SLOW_PASS_USEC 20000

static bool slow_probe(void) {
	return true;
}

static int slow_open(int procfd, void **ret_state) {
	*ret_state = NULL;
	return 0;
}

static int slow_pass(void *state, const struct backend_pass_args *args, uint64_t *ret_dirty_pages) {
	usleep(SLOW_PASS_USEC); /* a real stall of the event loop, as a big pass would be */
	*ret_dirty_pages = 0;
	return 1;
}

static void slow_close(void *state) {
}

static const struct backend_ops slow_backend = {
	.name = "slow-fake",
	.probe = slow_probe,
	.open = slow_open,
	.pass = slow_pass,
	.close = slow_close,
};

static const struct backend_ops *const slow_table[] = { &slow_backend };

int main(int argc, char *argv[]) {
	return dirtyrated_main(argc, argv, slow_table, 1);
}
