/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The ways of measuring a process's dirty rate. Each backend is one file
 * (backend-*.c) exporting one struct backend_ops, and one entry of
 * backend_table[] in backend.c, best first. Nothing outside those files
 * knows which backends exist: the daemon picks the first one this kernel
 * has and this process allows, and falls back along the table.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc-maps.h"

/* What one pass of a backend over one process gets to work with. */
struct backend_pass_args {
	const struct mem_range *ranges;	/* the process's writable mappings */
	size_t n_ranges;
	uint64_t page_size;
	pid_t pid;			/* for logs; pinned by pidfd (for process_vm_readv) */
	int pidfd;
	uint64_t sample_pages;		/* an estimating backend's share of the budget this pass */
	uint64_t rss_pages;		/* resident pages of every kind (/proc/PID/stat), just read */
	uint64_t page_faults;		/* the process's minor + major faults so far (/proc/PID/stat) */
};

/* What an estimating backend says of its last pass (last_estimate below). */
struct backend_estimate {
	double variance_pages;		/* of the dirty count it returned, in pages² */
	/* The part of that count which is growth of resident memory, taken as
	 * written; first-touch write faults, where counted, replace it. */
	uint64_t new_pages;
	uint64_t resident_pages;	/* resident writable pages: its weight in the budget */
	uint64_t pages_read;		/* pages it read */
};

struct backend_ops {
	const char *name;		/* for Backend=, the Backend properties and logs */
	/* A way of counting dirty pages that this kernel may lack (listed in
	 * Features when present); false for faults-only, which counts none. */
	bool kernel_feature;
	/* It works on soft-dirty bits (CONFIG_MEM_SOFT_DIRTY): what
	 * `dirtyrated --probe` looks for. */
	bool soft_dirty;
	/* A pass reads, then clears the whole process: writes in between are
	 * cleared unread. The clear tracepoint's count of what the clear
	 * itself cleared is then the exact dirty count. */
	bool clears_whole_process;
	/* Its pass reads and clears nothing: the write-fault counters are its
	 * whole count (faults-only). The sampler visits such a process after
	 * the counters' snapshot, and reads nothing of it from /proc when they
	 * did not move (sampler.h). */
	bool counts_only_faults;
	/* The dirty count is a statistical estimate: last_estimate() gives its
	 * variance after each pass that returned 1. NULL: the count is exact. */
	void (*last_estimate)(void *state, struct backend_estimate *ret);
	/* Whether this kernel has it, tried on our own memory at start-up. */
	bool (*probe)(void);
	/*
	 * Opens what the backend needs of the process whose /proc/PID
	 * directory is procfd; *ret_state is the backend's (may be NULL).
	 * -ESRCH: the process is gone; -EACCES/-EPERM: refused (fall back).
	 */
	int (*open)(int procfd, void **ret_state);
	/*
	 * One get+clear pass. Returns 1 and *ret_dirty_pages when it counted
	 * dirty pages, 0 when it counts none (faults-only), or -errno:
	 * -ESRCH the address space is gone (exit, or exec if the process
	 * lives on); -EACCES/-EPERM/-EOPNOTSUPP/-ENOTTY this backend cannot
	 * measure this process (fall back); anything else fails this interval.
	 */
	int (*pass)(void *state, const struct backend_pass_args *args, uint64_t *ret_dirty_pages);
	void (*close)(void *state);
};

/* The backends, best first. */
extern const struct backend_ops *const backend_table[];
extern const size_t backend_table_len;

/* Index in backend_table of the backend called name; -EINVAL if none. */
int backend_from_name(const char *name);

/* Whether a pass error means "this backend cannot measure this process". */
bool backend_error_is_refusal(int error);
