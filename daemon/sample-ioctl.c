/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <sys/ioctl.h>

#include "sample-ioctl.h"
#include "util.h"

int pagemap_sd_ioctl(int fd, unsigned long request, struct pagemap_sd_args *args, void *userdata) {
	int r = ioctl(fd, request, args);

	return r < 0 ? -errno : r;
}

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
			 * them, or they would be lost for good.
			 */
			res.dirty_pages += pages;
			if (r == -ENOMEM) {
				res.skipped_chunks++;
				continue;
			}
			if (r < 0) {
				*ret = res;
				return r;
			}
		}

	*ret = res;
	return 0;
}
