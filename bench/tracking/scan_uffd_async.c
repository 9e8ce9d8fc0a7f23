// SPDX-License-Identifier: GPL-2.0-only
/*
 * The design merged upstream (6.7): userfaultfd write-protection in async
 * mode, where the kernel resolves a write-protect fault itself by dropping
 * the uffd-wp bit (no message, no handler), and PAGEMAP_SCAN reporting the
 * pages without that bit (PAGE_IS_WRITTEN) and write-protecting them again
 * in the same walk (PM_SCAN_WP_MATCHING). PM_SCAN_CHECK_WPASYNC makes the
 * scan fail instead of silently skipping a range not registered that way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tracker.h"
#include "uapi.h"

struct scan_uffd_state {
	int uffd;
	struct page_region *vec;
	long n;
};

static long scan_uffd_collect(struct tracker *t)
{
	struct scan_uffd_state *s = t->priv;
	long n = pagemap_scan_region(&t->r, PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
				     PAGE_IS_WRITTEN, s->vec);

	if (n < 0)
		return tracker_fail(t, errno, "PAGEMAP_SCAN WP_MATCHING");
	s->n = n;
	return n;
}

static int scan_uffd_setup(struct tracker *t)
{
	struct scan_uffd_state *s = calloc(1, sizeof(*s));
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = {
			.start = (uintptr_t)t->r.base,
			.len = t->r.npages * t->r.page_size,
		},
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	if (!s)
		return tracker_fail(t, ENOMEM, "state");
	t->priv = s;
	s->uffd = -1;
	s->vec = calloc(t->r.npages + 1, sizeof(*s->vec));
	if (!s->vec)
		return tracker_fail(t, ENOMEM, "vec");
	if (pagemap_fd() < 0)
		return tracker_fail(t, errno, "open /proc/self/pagemap");

	s->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (s->uffd < 0)
		return tracker_fail(t, errno, "userfaultfd");
	/* Ask what the kernel has, then enable it: UFFDIO_API works once per fd */
	{
		struct uffdio_api probe = { .api = UFFD_API };
		int pfd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);

		if (pfd < 0 || ioctl(pfd, UFFDIO_API, &probe))
			return tracker_fail(t, errno, "UFFDIO_API probe");
		close(pfd);
		if (!(probe.features & UFFD_FEATURE_WP_ASYNC))
			return tracker_fail(t, EOPNOTSUPP, "no UFFD_FEATURE_WP_ASYNC");
		api.features = UFFD_FEATURE_WP_ASYNC;
		if (probe.features & UFFD_FEATURE_WP_UNPOPULATED)
			api.features |= UFFD_FEATURE_WP_UNPOPULATED;
	}
	if (ioctl(s->uffd, UFFDIO_API, &api))
		return tracker_fail(t, errno, "UFFDIO_API WP_ASYNC");
	if (ioctl(s->uffd, UFFDIO_REGISTER, &reg))
		return tracker_fail(t, errno, "UFFDIO_REGISTER MODE_WP");
	/* Arm: nothing is write-protected yet, so every page reads as written. */
	return scan_uffd_collect(t) < 0 ? -EIO : 0;
}

static long scan_uffd_pages(struct tracker *t, uint32_t *out)
{
	struct scan_uffd_state *s = t->priv;

	return regions_to_pages(&t->r, s->vec, s->n, out);
}

static void scan_uffd_teardown(struct tracker *t)
{
	struct scan_uffd_state *s = t->priv;

	if (s) {
		/* Closing the last reference unregisters the range. */
		if (s->uffd >= 0)
			close(s->uffd);
		free(s->vec);
	}
	free(s);
	t->priv = NULL;
}

const struct method method_scan_uffd_async = {
	.name = "scan+uffd-async",
	.what = "upstream: PAGEMAP_SCAN PAGE_IS_WRITTEN + WP_MATCHING, uffd WP_ASYNC",
	.setup = scan_uffd_setup,
	.collect = scan_uffd_collect,
	.pages = scan_uffd_pages,
	.teardown = scan_uffd_teardown,
};
