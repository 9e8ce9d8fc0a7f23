/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pagemap-ioctl backend's pass, exposed for its test: PAGEMAP_SCAN with
 * PM_SCAN_CLEAR_SOFT_DIRTY, or on kernels without that flag
 * PAGEMAP_SD_GET_AND_CLEAR, over every writable range (kernel/README.md has
 * the contract). The ioctl is called through a function pointer so tests feed
 * canned results.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>		/* loff_t */

#include <dirtyrate/pagemap-sd.h>

#include "proc-maps.h"

/*
 * Returns the ioctl's result: >= 0 entries written, or -errno. @arg is a
 * struct pm_scan_arg for PAGEMAP_SCAN, a struct pagemap_sd_args otherwise.
 */
typedef int (*pagemap_sd_ioctl_t)(int fd, unsigned long request, void *arg, void *userdata);

int pagemap_sd_ioctl(int fd, unsigned long request, void *arg, void *userdata);

/* What the backend (probe and passes) calls: pagemap_sd_ioctl, or a simulated kernel in tests. */
extern pagemap_sd_ioctl_t pagemap_sd_ioctl_fn;
extern void *pagemap_sd_ioctl_userdata;

/* One call covers at most this much address space: args.len is an int. */
#define PAGEMAP_SD_MAX_LEN (UINT64_C(1) << 30)

struct ioctl_pass {
	int fd;				/* /proc/PID/pagemap, read-only */
	uint64_t page_size;
	/* PAGEMAP_SCAN: its output buffer, reused for every call */
	struct page_region *regions;
	int regions_len;
	/* Without regions, PAGEMAP_SD_GET_AND_CLEAR: its output buffer */
	loff_t *vec;
	int vec_len;
	pagemap_sd_ioctl_t ioctl_fn;
	void *userdata;
};

struct ioctl_pass_result {
	uint64_t dirty_pages;		/* reported, hence cleared: also when an error ended the pass */
};

/*
 * Gets and clears the soft-dirty pages of all ranges, counting them. A call
 * that fills its buffer is followed by one starting where it stopped
 * (PAGEMAP_SCAN's walk_end; just past the last reported page for the
 * commands), so every page is visited once per pass even if the kernel keeps
 * some dirty (pinned pages). An error ends the pass and is returned, with ret->dirty_pages
 * the pages reported (and so cleared) before it; the failed call cleared
 * nothing, so what it and the rest of the ranges hold stays dirty for the next
 * pass: -ENOMEM (a failed kernel allocation), -EINTR, -ESRCH (address space
 * gone), -EPERM/-EACCES (no ptrace-attach rights at ioctl time), -ENOTTY (no
 * such ioctl), -EOPNOTSUPP (no soft-dirty), -EFAULT/-EINVAL (a bug, ours or
 * the kernel's), -EBADMSG (the kernel returned impossible offsets, ranges or
 * walk_end).
 */
int ioctl_pass_run(const struct ioctl_pass *p, const struct mem_range *ranges, size_t n,
		   struct ioctl_pass_result *ret);
