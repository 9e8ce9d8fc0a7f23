// SPDX-License-Identifier: GPL-2.0-only
/*
 * userfaultfd write-protection in its original, synchronous mode: a write to
 * a protected page blocks the writer and queues a message; a handler thread
 * reads it, notes the page and un-protects it with UFFDIO_WRITEPROTECT, which
 * wakes the writer. Every written page costs two context switches on top of
 * the fault. Re-arming is one UFFDIO_WRITEPROTECT of the region (skipped when
 * nothing was written).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tracker.h"
#include "uapi.h"

struct uffd_sync_state {
	int uffd, stop_fd;
	pthread_t handler;
	int handler_running;
	uint32_t *log;		/* written by the handler */
	uint32_t *report;
	_Atomic size_t n;	/* entries in log */
	long report_n;
	_Atomic int handler_err;
};

static int wp_range(int uffd, uintptr_t start, size_t len, int protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = start, .len = len },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

static void *uffd_handler(void *arg)
{
	struct tracker *t = arg;
	struct uffd_sync_state *s = t->priv;
	struct pollfd pfd[2] = {
		{ .fd = s->uffd, .events = POLLIN },
		{ .fd = s->stop_fd, .events = POLLIN },
	};
	struct uffd_msg msg[64];

	for (;;) {
		ssize_t got;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			s->handler_err = errno;
			return NULL;
		}
		if (pfd[1].revents)
			return NULL;
		got = read(s->uffd, msg, sizeof(msg));
		if (got < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			s->handler_err = errno;
			return NULL;
		}
		for (size_t k = 0; k < (size_t)got / sizeof(msg[0]); k++) {
			uintptr_t a = msg[k].arg.pagefault.address & ~(uintptr_t)(t->r.page_size - 1);
			size_t i = (a - (uintptr_t)t->r.base) / t->r.page_size;
			size_t at;
			int ret;

			if (msg[k].event != UFFD_EVENT_PAGEFAULT ||
			    !(msg[k].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP) ||
			    i >= t->r.npages) {
				s->handler_err = EPROTO;
				continue;
			}
			/* Log before waking the writer: it may collect right after. */
			at = atomic_fetch_add(&s->n, 1);
			s->log[at] = (uint32_t)i;
			ret = wp_range(s->uffd, a, t->r.page_size, 0);
			if (ret)
				s->handler_err = -ret;
		}
	}
}

static long uffd_sync_collect(struct tracker *t)
{
	struct uffd_sync_state *s = t->priv;
	uint32_t *tmp = s->report;
	int ret;

	if (s->handler_err)
		return tracker_fail(t, s->handler_err, "handler thread");
	s->report = s->log;
	s->report_n = (long)atomic_exchange(&s->n, 0);
	s->log = tmp;
	if (!s->report_n)
		return 0;
	ret = wp_range(s->uffd, (uintptr_t)t->r.base,
		       t->r.npages * t->r.page_size, 1);
	if (ret)
		return tracker_fail(t, -ret, "UFFDIO_WRITEPROTECT");
	return s->report_n;
}

static int uffd_sync_setup(struct tracker *t)
{
	struct uffd_sync_state *s = calloc(1, sizeof(*s));
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = {
		.range = {
			.start = (uintptr_t)t->r.base,
			.len = t->r.npages * t->r.page_size,
		},
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	int ret;

	if (!s)
		return tracker_fail(t, ENOMEM, "state");
	t->priv = s;
	s->uffd = s->stop_fd = -1;
	s->log = calloc(t->r.npages, sizeof(*s->log));
	s->report = calloc(t->r.npages, sizeof(*s->report));
	if (!s->log || !s->report)
		return tracker_fail(t, ENOMEM, "logs");
	s->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (s->uffd < 0)
		return tracker_fail(t, errno, "userfaultfd");
	if (ioctl(s->uffd, UFFDIO_API, &api))
		return tracker_fail(t, errno, "UFFDIO_API");
	if (!(api.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP))
		return tracker_fail(t, EOPNOTSUPP, "no UFFD_FEATURE_PAGEFAULT_FLAG_WP");
	if (ioctl(s->uffd, UFFDIO_REGISTER, &reg))
		return tracker_fail(t, errno, "UFFDIO_REGISTER MODE_WP");
	s->stop_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0)
		return tracker_fail(t, errno, "eventfd");
	ret = pthread_create(&s->handler, NULL, uffd_handler, t);
	if (ret)
		return tracker_fail(t, ret, "pthread_create");
	s->handler_running = 1;
	ret = wp_range(s->uffd, (uintptr_t)t->r.base,
		       t->r.npages * t->r.page_size, 1);
	if (ret)
		return tracker_fail(t, -ret, "UFFDIO_WRITEPROTECT");
	return 0;
}

static long uffd_sync_pages(struct tracker *t, uint32_t *out)
{
	struct uffd_sync_state *s = t->priv;

	memcpy(out, s->report, (size_t)s->report_n * sizeof(*out));
	return s->report_n;
}

static void uffd_sync_teardown(struct tracker *t)
{
	struct uffd_sync_state *s = t->priv;

	if (!s)
		return;
	if (s->handler_running) {
		uint64_t one = 1;

		/* Un-protect first: nothing may block on a handler that is gone. */
		wp_range(s->uffd, (uintptr_t)t->r.base,
			 t->r.npages * t->r.page_size, 0);
		if (write(s->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(s->handler, NULL);
	}
	if (s->uffd >= 0)
		close(s->uffd);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	free(s->log);
	free(s->report);
	free(s);
	t->priv = NULL;
}

const struct method method_uffd_sync = {
	.name = "uffd-sync",
	.what = "userfaultfd sync write-protect, handler thread logs and un-protects",
	.setup = uffd_sync_setup,
	.collect = uffd_sync_collect,
	.pages = uffd_sync_pages,
	.teardown = uffd_sync_teardown,
};
