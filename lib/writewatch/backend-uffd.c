// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write watches with userfaultfd write-protection in its synchronous mode,
 * the other way user space had before the soft-dirty ioctl (the 2022 cover
 * letter's "userfaultfd syscall with the handler for bookkeeping"): a page
 * not written since its reset is write-protected; a write to it blocks the
 * writer and queues a message; a handler thread reads it, notes the page and
 * lifts the protection, which wakes the writer. Writes by the kernel on the
 * program's behalf (read(2) into the region) wait for the handler the same
 * way and count, as on Windows.
 *
 * The invariant, as in the mprotect backend: a page whose bit is clear is
 * write-protected, kept under one mutex shared by the handler thread (set
 * the bit, lift the protection) and the resets (protect, clear the bit).
 * The handler is a thread, not a signal handler: a plain mutex will do, and
 * the writers it serves hold nothing of ours while they wait.
 *
 * Needs userfaultfd with write-protection of anonymous memory
 * (UFFD_FEATURE_PAGEFAULT_FLAG_WP), and the privilege to handle kernel-mode
 * faults (root, CAP_SYS_PTRACE or vm.unprivileged_userfaultfd=1). Regions
 * are populated when watched: write-protection applies to pages that exist.
 * The handler thread and the userfaultfd live as long as the process. After
 * fork() the child has neither, and its regions are not registered: the
 * child re-creates both and protects its pages not written (fork_child).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "backend.h"
#include "page-bits.h"

struct uffd_state {
	unsigned long *bits;	/* 1: written since the last reset */
	size_t *scratch;	/* pages being reset by one get */
};

static pthread_mutex_t mark_lock = PTHREAD_MUTEX_INITIALIZER;
static int uffd = -1;		/* under writewatch.c's lock */
static int broken;		/* why the handler or a forked child failed; atomic */

static int wp_range(uintptr_t start, size_t len, bool protect)
{
	struct uffdio_writeprotect wp = {
		.range = { .start = start, .len = len },
		.mode = protect ? UFFDIO_WRITEPROTECT_MODE_WP : 0,
	};

	return ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) ? errno : 0;
}

static void fail(int err)
{
	int zero = 0;

	__atomic_compare_exchange_n(&broken, &zero, err, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

static void *handler_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	struct uffd_msg msg[64];

	for (;;) {
		ssize_t got = read(fd, msg, sizeof(msg));

		if (got < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fail(errno);
			return NULL;
		}
		for (size_t k = 0; k < (size_t)got / sizeof(msg[0]); k++) {
			uintptr_t a = msg[k].arg.pagefault.address & ~(uintptr_t)(ww_page_size - 1);
			struct ww_region *r;

			if (msg[k].event != UFFD_EVENT_PAGEFAULT ||
			    !(msg[k].arg.pagefault.flags & UFFD_PAGEFAULT_FLAG_WP))
				continue;
			pthread_mutex_lock(&mark_lock);
			r = ww_region_of(a);
			if (r)
				page_bit_set(((struct uffd_state *)r->priv)->bits,
					     (a - r->base) / ww_page_size);
			/* Also outside any region (one being freed): never leave a writer blocked. */
			int err = wp_range(a, ww_page_size, false);
			pthread_mutex_unlock(&mark_lock);
			if (err && err != ENOENT)
				fail(err);
		}
	}
}

/* A userfaultfd with write-protection and its handler thread. */
static int open_uffd(void)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	pthread_attr_t attr;
	pthread_t t;
	int fd, err;

	fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0)
		return errno == ENOSYS ? EOPNOTSUPP : errno;
	if (ioctl(fd, UFFDIO_API, &api)) {
		err = errno == EINVAL ? EOPNOTSUPP : errno;
		close(fd);
		return err;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	err = pthread_create(&t, &attr, handler_thread, (void *)(intptr_t)fd);
	pthread_attr_destroy(&attr);
	if (err) {
		close(fd);
		return err;
	}
	uffd = fd;
	return 0;
}

static int uffd_probe(void)
{
	return uffd >= 0 ? 0 : open_uffd();
}

static int register_region(uintptr_t base, size_t npages)
{
	struct uffdio_register reg = {
		.range = { .start = base, .len = npages * ww_page_size },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};

	return ioctl(uffd, UFFDIO_REGISTER, &reg) ? errno : 0;
}

static int uffd_watch(struct ww_region *r, uintptr_t base)
{
	struct uffd_state *s = calloc(1, sizeof(*s));
	size_t len = r->npages * ww_page_size;
	int err = ENOMEM;

	if (!s)
		return ENOMEM;
	s->bits = calloc(page_bits_words(r->npages), sizeof(*s->bits));
	s->scratch = calloc(r->npages, sizeof(*s->scratch));
	if (!s->bits || !s->scratch)
		goto fail;
	err = uffd_probe();
	if (err)
		goto fail;
	if (madvise((void *)base, len, MADV_POPULATE_WRITE)) {
		for (size_t off = 0; off < len; off += ww_page_size)
			((volatile char *)base)[off] = 0;
	}
	err = register_region(base, r->npages);
	if (!err)
		err = wp_range(base, len, true);
	if (err)
		goto fail;
	r->priv = s;
	return 0;
fail:
	free(s->bits);
	free(s->scratch);
	free(s);
	return err;
}

/* munmap() of the region, which follows, unregisters it. */
static void uffd_unwatch(struct ww_region *r)
{
	struct uffd_state *s = r->priv;

	free(s->bits);
	free(s->scratch);
	free(s);
}

/*
 * Protect pages[0..n) (ascending, every written page between the first and
 * the last) and clear their bits: one UFFDIO_WRITEPROTECT of the span, as
 * the pages in between are protected already. Under mark_lock.
 */
static int protect_and_clear(struct ww_region *r, const size_t *pages, size_t n)
{
	struct uffd_state *s = r->priv;
	int err;

	if (!n)
		return 0;
	err = wp_range(r->base + pages[0] * ww_page_size,
		       (pages[n - 1] - pages[0] + 1) * ww_page_size, true);
	if (err)
		return err;
	for (size_t k = 0; k < n; k++)
		page_bit_clear(s->bits, pages[k]);
	return 0;
}

static int uffd_get(struct ww_region *r, size_t first, size_t npages,
		    void **addresses, size_t *count, bool reset)
{
	struct uffd_state *s = r->priv;
	size_t end = first + npages, n = 0;
	int err = __atomic_load_n(&broken, __ATOMIC_RELAXED);

	if (err)
		return err;
	if (!reset) {
		for (size_t i = page_bit_next(s->bits, first, end); i < end && n < *count;
		     i = page_bit_next(s->bits, i + 1, end))
			addresses[n++] = (void *)(r->base + i * ww_page_size);
		*count = n;
		return 0;
	}
	/* addresses[] may be watched memory: its writes need the handler, so after the lock. */
	pthread_mutex_lock(&mark_lock);
	for (size_t i = page_bit_next(s->bits, first, end); i < end && n < *count;
	     i = page_bit_next(s->bits, i + 1, end))
		s->scratch[n++] = i;
	err = protect_and_clear(r, s->scratch, n);
	pthread_mutex_unlock(&mark_lock);
	if (err)
		return err;
	for (size_t k = 0; k < n; k++)
		addresses[k] = (void *)(r->base + s->scratch[k] * ww_page_size);
	*count = n;
	return 0;
}

static int uffd_reset(struct ww_region *r, size_t first, size_t npages)
{
	struct uffd_state *s = r->priv;
	size_t end = first + npages, n = 0;
	int err = __atomic_load_n(&broken, __ATOMIC_RELAXED);

	if (err)
		return err;
	pthread_mutex_lock(&mark_lock);
	for (size_t i = page_bit_next(s->bits, first, end); i < end; i = page_bit_next(s->bits, i + 1, end))
		s->scratch[n++] = i;
	err = protect_and_clear(r, s->scratch, n);
	pthread_mutex_unlock(&mark_lock);
	return err;
}

/* The handler thread may hold mark_lock: fork with it free. */
static void uffd_fork_prepare(void)
{
	pthread_mutex_lock(&mark_lock);
}

static void uffd_fork_parent(void)
{
	pthread_mutex_unlock(&mark_lock);
}

/*
 * In the child, one region at a time (the first call opens the child's own
 * userfaultfd and handler): register it and protect its pages not written.
 */
static void uffd_fork_child(struct ww_region *r)
{
	int err = 0;

	if (!r) {
		pthread_mutex_init(&mark_lock, NULL);
		if (uffd >= 0)
			close(uffd);	/* the parent's */
		uffd = -1;
		err = open_uffd();
	} else if (!__atomic_load_n(&broken, __ATOMIC_RELAXED)) {
		struct uffd_state *s = r->priv;

		err = register_region(r->base, r->npages);
		/* Each run of pages not written, protected in one call. */
		for (size_t i = 0, j; !err && i < r->npages; i = j) {
			for (j = i + 1; j < r->npages && page_bit_test(s->bits, j) == page_bit_test(s->bits, i); j++)
				;
			if (!page_bit_test(s->bits, i))
				err = wp_range(r->base + i * ww_page_size, (j - i) * ww_page_size, true);
		}
	}
	if (err) {
		fprintf(stderr, "writewatch: cannot watch a forked child's regions: %s\n", strerror(err));
		fail(err);
	}
}

const struct ww_backend ww_backend_uffd = {
	.name = "userfaultfd",
	.probe = uffd_probe,
	.watch = uffd_watch,
	.unwatch = uffd_unwatch,
	.get = uffd_get,
	.reset = uffd_reset,
	.fork_prepare = uffd_fork_prepare,
	.fork_parent = uffd_fork_parent,
	.fork_child = uffd_fork_child,
};
