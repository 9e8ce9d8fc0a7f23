/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pagemap-ioctl backend: PAGEMAP_SD_GET_AND_CLEAR (our kernel series,
 * kernel/README.md) over each writable mapping. Exact and atomic per page,
 * and it clears only the ranges it reports.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "backend.h"
#include "backend-pagemap-ioctl.h"
#include "util.h"

#define VEC_LEN 4096 /* 32 KiB of offsets per call */

int pagemap_sd_ioctl(int fd, unsigned long request, struct pagemap_sd_args *args, void *userdata) {
	int r = ioctl(fd, request, args);

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

	if (p->vec_len <= 0)
		return -EINVAL;

	for (size_t i = 0; i < n; i++)
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

	*ret = res;
	return 0;
}

/* A valid GET on a page of our own: anything but "unknown ioctl" counts. */
static bool pagemap_ioctl_probe(void) {
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
	static loff_t vec[VEC_LEN];
	const struct ioctl_pass pass = {
		.fd = (int) (intptr_t) state,
		.page_size = a->page_size,
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
			log_warning_errno(r, "Process %d: PAGEMAP_SD_GET_AND_CLEAR failed (%m); this pass stops here: "
					  "the %" PRIu64 " dirty pages reported before it are counted, the pages it did "
					  "not reach stay dirty and the next pass reports them.",
					  (int) a->pid, res.dirty_pages);
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
