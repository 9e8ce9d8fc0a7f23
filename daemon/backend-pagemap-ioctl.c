/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pagemap-ioctl backend: PAGEMAP_SCAN with PM_SCAN_CLEAR_SOFT_DIRTY (our
 * kernel series, kernel/README.md) over each writable mapping, or
 * PAGEMAP_SD_GET_AND_CLEAR on a kernel of the series without that flag.
 * Exact and atomic per page, and it clears only the pages it reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "backend.h"
#include "backend-pagemap-ioctl.h"
#include "util.h"

#define VEC_LEN 4096 /* 32 KiB of offsets per call */
#define REGIONS_LEN 1024 /* 24 KiB of page ranges per call */

/*
 * The form the probe found: PAGEMAP_SCAN's flag, or the commands. The
 * environment's DIRTYRATED_PAGEMAP_IOCTL=commands makes the probe skip the
 * flag (tests run both forms on one kernel).
 */
static bool use_scan;

int pagemap_sd_ioctl(int fd, unsigned long request, void *arg, void *userdata) {
	int r = ioctl(fd, request, arg);

	return r < 0 ? -errno : r;
}

pagemap_sd_ioctl_t pagemap_sd_ioctl_fn = pagemap_sd_ioctl;
void *pagemap_sd_ioctl_userdata;

/* Checks the kernel's answer: ascending, page aligned, inside the range. */
static int check_offsets(const loff_t *vec, int n, uint64_t len, uint64_t page_size) {
	for (int i = 0; i < n; i++) {
		if (vec[i] < 0 || (uint64_t) vec[i] >= len || (uint64_t) vec[i] % page_size)
			return -EBADMSG;
		if (i > 0 && vec[i] <= vec[i - 1])
			return -EBADMSG;
	}
	return 0;
}

/*
 * Checks the kernel's answer to PAGEMAP_SCAN over [start, end): n ranges,
 * ascending, disjoint, page aligned, soft-dirty, before walk_end, which is
 * past start and inside the range. Returns their pages, or -EBADMSG.
 */
static int64_t check_regions(const struct page_region *r, int n, uint64_t start, uint64_t end,
			     uint64_t walk_end, uint64_t page_size) {
	uint64_t prev_end = start, pages = 0;

	if (walk_end <= start || walk_end > end)
		return -EBADMSG;
	for (int i = 0; i < n; i++) {
		if (r[i].start < prev_end || r[i].end <= r[i].start || r[i].end > walk_end ||
		    r[i].start % page_size || r[i].end % page_size || r[i].categories != PAGE_IS_SOFT_DIRTY)
			return -EBADMSG;
		pages += (r[i].end - r[i].start) / page_size;
		prev_end = r[i].end;
	}
	return (int64_t) pages;
}

/* PAGEMAP_SCAN with PM_SCAN_CLEAR_SOFT_DIRTY over [start, end), resuming at walk_end. */
static int pass_scan(const struct ioctl_pass *p, uint64_t start, uint64_t end, uint64_t *pages) {
	while (start < end) {
		struct pm_scan_arg arg = {
			.size = sizeof(arg),
			.flags = PM_SCAN_CLEAR_SOFT_DIRTY,
			.start = start,
			.end = end,
			.vec = (uintptr_t) p->regions,
			.vec_len = (uint64_t) p->regions_len,
			.category_mask = PAGE_IS_SOFT_DIRTY,
			/* Pages that may have been written: PAGEMAP_SD_NO_REUSED_REGIONS */
			.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED,
			.return_mask = PAGE_IS_SOFT_DIRTY,
		};
		int64_t n;
		int r;

		r = p->ioctl_fn(p->fd, PAGEMAP_SCAN, &arg, p->userdata);
		if (r < 0)
			return r;
		if (r > p->regions_len)
			return -EBADMSG;
		n = check_regions(p->regions, r, start, end, arg.walk_end, p->page_size);
		if (n < 0)
			return (int) n;

		/*
		 * Cleared are exactly the pages reported, before walk_end; the
		 * pages from walk_end on are as they were. A call that stopped
		 * at an error after some ranges returns them and the error comes
		 * back on the next call, which ends the pass.
		 */
		*pages += (uint64_t) n;
		start = arg.walk_end;
	}
	return 0;
}

static int pass_chunk(const struct ioctl_pass *p, uint64_t start, uint64_t len, uint64_t *pages) {
	uint64_t pos = start, end = start + len;

	while (pos < end) {
		struct pagemap_sd_args args = {
			.start = (void *) (uintptr_t) pos,
			.len = (int) (end - pos),
			.vec = p->vec,
			.vec_len = p->vec_len,
			.flags = PAGEMAP_SD_NO_REUSED_REGIONS,
		};
		int r;

		r = p->ioctl_fn(p->fd, PAGEMAP_SD_GET_AND_CLEAR, &args, p->userdata);
		if (r < 0)
			return r;
		if (r > p->vec_len)
			return -EBADMSG;
		if (check_offsets(p->vec, r, end - pos, p->page_size) < 0)
			return -EBADMSG;

		*pages += (uint64_t) r;
		/*
		 * Short: the rest is clean, or the kernel hit an error after
		 * these pages and returns it on the next call. Either way what
		 * is left stays dirty and is counted by a later pass.
		 */
		if (r < p->vec_len)
			break;

		/* vec was full: go on after the last page it reported. */
		pos += (uint64_t) p->vec[r - 1] + p->page_size;
	}

	return 0;
}

int ioctl_pass_run(const struct ioctl_pass *p, const struct mem_range *ranges, size_t n,
		   struct ioctl_pass_result *ret) {
	struct ioctl_pass_result res = {};

	if (p->regions ? p->regions_len <= 0 : p->vec_len <= 0)
		return -EINVAL;

	for (size_t i = 0; i < n; i++) {
		if (p->regions) {
			uint64_t pages = 0;
			int r;

			/* No chunks: pm_scan_arg's lengths are 64-bit */
			r = pass_scan(p, ranges[i].start, ranges[i].end, &pages);
			res.dirty_pages += pages;
			if (r < 0) {
				*ret = res;
				return r;
			}
			continue;
		}
		for (uint64_t start = ranges[i].start; start < ranges[i].end; start += PAGEMAP_SD_MAX_LEN) {
			uint64_t len = MIN(ranges[i].end - start, PAGEMAP_SD_MAX_LEN);
			uint64_t pages = 0;
			int r;

			r = pass_chunk(p, start, len, &pages);
			/*
			 * Pages reported before an error were cleared: count
			 * them, or they would be lost for good. The failed call
			 * and everything after it cleared nothing.
			 */
			res.dirty_pages += pages;
			if (r < 0) {
				*ret = res;
				return r;
			}
		}
	}

	*ret = res;
	return 0;
}

/*
 * PM_SCAN_CLEAR_SOFT_DIRTY over an empty range of our own: it checks the
 * argument and the right to clear, and changes nothing. A kernel without
 * the flag fails it with EINVAL (an unknown PAGEMAP_SCAN flag), one without
 * PAGEMAP_SCAN with ENOTTY.
 */
static bool probe_scan(void) {
	_cleanup_close_ int fd = -EBADF;
	struct pm_scan_arg arg = {
		.size = sizeof(arg),
		.flags = PM_SCAN_CLEAR_SOFT_DIRTY,
		.category_mask = PAGE_IS_SOFT_DIRTY,
		.return_mask = PAGE_IS_SOFT_DIRTY,
	};
	const char *e = getenv("DIRTYRATED_PAGEMAP_IOCTL");
	int r;

	if (e && streq(e, "commands")) {
		log_info("pagemap-ioctl: DIRTYRATED_PAGEMAP_IOCTL=commands: not trying PM_SCAN_CLEAR_SOFT_DIRTY");
		return false;
	}
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	r = pagemap_sd_ioctl_fn(fd, PAGEMAP_SCAN, &arg, pagemap_sd_ioctl_userdata);
	if (r == 0)
		return true;
	if (r == -EINVAL || r == -ENOTTY || r == -EOPNOTSUPP)
		log_info_errno(r, "pagemap-ioctl: no PAGEMAP_SCAN with PM_SCAN_CLEAR_SOFT_DIRTY here (%m)");
	else
		log_warning_errno(r, "pagemap-ioctl probe: PM_SCAN_CLEAR_SOFT_DIRTY failed unexpectedly: %m");
	return false;
}

/* A valid GET on a page of our own: anything but "unknown ioctl" counts. */
static bool probe_commands(void) {
	_cleanup_close_ int fd = -EBADF;
	size_t page_size = (size_t) sysconf(_SC_PAGESIZE);
	volatile char *page;
	loff_t vec[1];
	struct pagemap_sd_args args;
	int r, saved;

	page = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return false;
	page[0] = 1; /* a written, present page */

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warning_errno(errno, "pagemap-ioctl probe: cannot open /proc/self/pagemap: %m");
		munmap((void *) page, page_size);
		return false;
	}
	args = (struct pagemap_sd_args) {
		.start = (void *) page,
		.len = (int) page_size,
		.vec = vec,
		.vec_len = 1,
	};
	r = pagemap_sd_ioctl_fn(fd, PAGEMAP_SD_GET, &args, pagemap_sd_ioctl_userdata);
	saved = -r;
	munmap((void *) page, page_size);
	if (r >= 0)
		return true;
	/*
	 * A kernel without the series: ENOTTY (unknown ioctl; also what the
	 * series answers to an unknown command), or EINVAL (a kernel with
	 * only upstream's PAGEMAP_SCAN answers unknown commands so).
	 * EOPNOTSUPP: no CONFIG_MEM_SOFT_DIRTY.
	 */
	if (saved == ENOTTY || saved == EINVAL || saved == EOPNOTSUPP)
		log_info_errno(saved, "pagemap-ioctl: PAGEMAP_SD_GET not supported by this kernel: %m");
	else
		log_warning_errno(saved, "pagemap-ioctl probe: PAGEMAP_SD_GET failed unexpectedly: %m");
	return false;
}

/* The flag if the kernel has it, else the commands; the passes use what it found. */
static bool pagemap_ioctl_probe(void) {
	use_scan = probe_scan();
	if (use_scan) {
		log_info("pagemap-ioctl: using PAGEMAP_SCAN with PM_SCAN_CLEAR_SOFT_DIRTY");
		return true;
	}
	if (!probe_commands())
		return false;
	log_info("pagemap-ioctl: using PAGEMAP_SD_GET_AND_CLEAR");
	return true;
}

/* The state is the open /proc/PID/pagemap fd itself. */
static int pagemap_ioctl_open(int procfd, void **ret_state) {
	/* Opening pagemap is where the kernel checks PTRACE_MODE_READ_FSCREDS. */
	int fd = openat(procfd, "pagemap", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	*ret_state = (void *) (intptr_t) fd;
	return 0;
}

static int pagemap_ioctl_pass(void *state, const struct backend_pass_args *a, uint64_t *ret_dirty_pages) {
	/* One buffer for every process: passes run one at a time. */
	static struct page_region regions[REGIONS_LEN];
	static loff_t vec[VEC_LEN];
	const struct ioctl_pass pass = {
		.fd = (int) (intptr_t) state,
		.page_size = a->page_size,
		.regions = use_scan ? regions : NULL,
		.regions_len = REGIONS_LEN,
		.vec = vec,
		.vec_len = VEC_LEN,
		.ioctl_fn = pagemap_sd_ioctl_fn,
		.userdata = pagemap_sd_ioctl_userdata,
	};
	struct ioctl_pass_result res;
	int r;

	r = ioctl_pass_run(&pass, a->ranges, a->n_ranges, &res);
	*ret_dirty_pages = res.dirty_pages;
	if (r == -ENOMEM || r == -EINTR) {
		/*
		 * The pass ends at the failed call, but what it got stands:
		 * GET_AND_CLEAR clears exactly the pages it reports, so the
		 * res.dirty_pages pages reported before the error were cleared
		 * and are counted now (dropping this sample would lose them for
		 * good), while the failed call and the ranges after it cleared
		 * nothing: their pages stay soft-dirty and the next pass reports
		 * them, in the next interval. Nothing is lost; this interval
		 * reads low and the next high by as much.
		 *
		 * ENOMEM (the series' v3 returns it only when a kernel
		 * allocation failed; no longer for a VMA split, so no chunk is
		 * skipped over any more) is logged; EINTR means a fatal signal
		 * for us, which ends the daemon anyway.
		 */
		if (r == -ENOMEM)
			log_warning_errno(r, "Process %d: %s failed (%m); this pass stops here: "
					  "the %" PRIu64 " dirty pages reported before it are counted, the pages it did "
					  "not reach stay dirty and the next pass reports them.",
					  (int) a->pid, use_scan ? "PAGEMAP_SCAN" : "PAGEMAP_SD_GET_AND_CLEAR",
					  res.dirty_pages);
		return 1;
	}
	/*
	 * -EPERM/-EACCES (v3 checks ptrace-attach rights over the process at
	 * each CLEAR and GET_AND_CLEAR, not only read rights at open) and
	 * -ENOTTY/-EOPNOTSUPP are refusals: the process falls back to the
	 * next backend (process.c). -ESRCH: gone or exec'd.
	 */
	return r < 0 ? r : 1;
}

static void pagemap_ioctl_close(void *state) {
	safe_close((int) (intptr_t) state);
}

const struct backend_ops backend_pagemap_ioctl = {
	.name = "pagemap-ioctl",
	.kernel_feature = true,
	.soft_dirty = true,
	.probe = pagemap_ioctl_probe,
	.open = pagemap_ioctl_open,
	.pass = pagemap_ioctl_pass,
	.close = pagemap_ioctl_close,
};
