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
#include "page-log.h"

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
				page_bit_set(((struct page_log *)r->priv)->bits,
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

static void lock_marks(sigset_t *saved)
{
	(void)saved;
	pthread_mutex_lock(&mark_lock);
}

static void unlock_marks(const sigset_t *saved)
{
	(void)saved;
	pthread_mutex_unlock(&mark_lock);
}

static int write_protect(uintptr_t start, size_t len)
{
	return wp_range(start, len, true);
}

static const struct page_log_ops uffd_log_ops = {
	.lock = lock_marks,
	.unlock = unlock_marks,
	.protect = write_protect,
};

static int uffd_watch(struct ww_region *r, uintptr_t base)
{
	struct page_log *log = page_log_new(r->npages);
	size_t len = r->npages * ww_page_size;
	int err;

	if (!log)
		return ENOMEM;
	err = uffd_probe();
	if (!err && madvise((void *)base, len, MADV_POPULATE_WRITE)) {
		for (size_t off = 0; off < len; off += ww_page_size)
			((volatile char *)base)[off] = 0;
	}
	if (!err)
		err = register_region(base, r->npages);
	if (!err)
		err = wp_range(base, len, true);
	if (err) {
		page_log_free(log);
		return err;
	}
	r->priv = log;
	return 0;
}

/* munmap() of the region, which follows, unregisters it. */
static void uffd_unwatch(struct ww_region *r)
{
	page_log_free(r->priv);
}

static int uffd_get(struct ww_region *r, size_t first, size_t npages,
		    void **addresses, size_t *count, bool reset)
{
	int err = __atomic_load_n(&broken, __ATOMIC_RELAXED);

	return err ?: page_log_get(r->priv, &uffd_log_ops, r->base, first, npages, addresses, count, reset);
}

static int uffd_reset(struct ww_region *r, size_t first, size_t npages)
{
	int err = __atomic_load_n(&broken, __ATOMIC_RELAXED);

	return err ?: page_log_reset(r->priv, &uffd_log_ops, r->base, first, npages);
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
		const struct page_log *log = r->priv;

		err = register_region(r->base, r->npages);
		/* Each run of pages not written, protected in one call. */
		for (size_t i = 0, j; !err && i < r->npages; i = j) {
			for (j = i + 1; j < r->npages && page_bit_test(log->bits, j) == page_bit_test(log->bits, i); j++)
				;
			if (!page_bit_test(log->bits, i))
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
