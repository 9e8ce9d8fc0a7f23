// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write watches kept by the kernel: the soft-dirty bits of the region's
 * pages, read with PAGEMAP_SD_GET and read-and-reset with
 * PAGEMAP_SD_GET_AND_CLEAR on /proc/self/pagemap (kernel/README.md).
 *
 * The ioctl has exactly GetWriteWatch()'s shape: it reports the first
 * vec_len dirty pages in ascending order and, with GET_AND_CLEAR, clears
 * exactly those, atomically per page. Writes by the kernel on the program's
 * behalf (read(2) into the region) set the bit like any other write, and the
 * program takes no signal: the only cost of a written page is the
 * write-protect fault, handled in the kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <dirtyrate/pagemap-sd.h>

#include "backend.h"

/*
 * /proc/self/pagemap, and the process it was opened in: after fork() the
 * inherited file still reads the parent's pages, so a child opens its own.
 * Only used under writewatch.c's lock.
 */
static int pagemap = -1;
static pid_t pagemap_pid;

static int pagemap_fd(void)
{
	pid_t pid = getpid();

	if (pagemap >= 0 && pagemap_pid == pid)
		return pagemap;
	if (pagemap >= 0)
		close(pagemap);
	pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	pagemap_pid = pid;
	return pagemap;
}

/*
 * The ioctl's len is an int: ranges are walked in pieces of at most this
 * many pages (1 GiB of 4 KiB pages).
 */
static size_t max_chunk_pages(void)
{
	return ((size_t)INT_MAX + 1) / 2 / ww_page_size;
}

static long sd_ioctl(unsigned long cmd, uintptr_t start, size_t npages,
		     void **vec, size_t vec_len)
{
	struct pagemap_sd_args a = {
		.start = (void *)start,
		.len = (int)(npages * ww_page_size),
		.vec = (__pagemap_sd_loff_t *)vec,
		.vec_len = (int)(vec_len < INT_MAX ? vec_len : INT_MAX),
	};
	int fd = pagemap_fd();
	long n;

	if (fd < 0)
		return -errno;
	n = ioctl(fd, cmd, &a);
	return n < 0 ? -errno : n;
}

/*
 * Offsets to addresses, in place: addresses[] doubles as the ioctl's vec,
 * whose loff_t entries have a pointer's size where the ioctl exists at all
 * (64-bit processes; see probe).
 */
static void offsets_to_addresses(void **v, long n, uintptr_t start)
{
	for (long i = 0; i < n; i++) {
		__pagemap_sd_loff_t off;

		memcpy(&off, &v[i], sizeof(off));
		v[i] = (void *)(start + (uintptr_t)off);
	}
}

static int pagemap_get(struct ww_region *r, size_t first, size_t npages,
		       void **addresses, size_t *count, bool reset)
{
	unsigned long cmd = reset ? PAGEMAP_SD_GET_AND_CLEAR : PAGEMAP_SD_GET;
	size_t chunk = max_chunk_pages(), done = 0;

	for (size_t p = first; p < first + npages && done < *count; p += chunk) {
		size_t n = first + npages - p < chunk ? first + npages - p : chunk;
		uintptr_t start = r->base + p * ww_page_size;
		long got = sd_ioctl(cmd, start, n, addresses + done, *count - done);

		if (got < 0)
			return (int)-got;
		offsets_to_addresses(addresses + done, got, start);
		done += (size_t)got;
	}
	*count = done;
	return 0;
}

static int clear_pages(uintptr_t base, size_t first, size_t npages)
{
	size_t chunk = max_chunk_pages();

	for (size_t p = first; p < first + npages; p += chunk) {
		size_t n = first + npages - p < chunk ? first + npages - p : chunk;
		long err = sd_ioctl(PAGEMAP_SD_CLEAR, base + p * ww_page_size, n, NULL, 0);

		if (err < 0)
			return (int)-err;
	}
	return 0;
}

static int pagemap_reset(struct ww_region *r, size_t first, size_t npages)
{
	return clear_pages(r->base, first, npages);
}

/*
 * A fresh mapping is VM_SOFTDIRTY: the kernel reports every page of it as
 * written until its first clear. One clear of the whole region makes it
 * page-exact with nothing written, as a fresh Windows allocation is.
 */
static int pagemap_watch(struct ww_region *r, uintptr_t base)
{
	return clear_pages(base, 0, r->npages);
}

static void pagemap_unwatch(struct ww_region *r)
{
}

/*
 * The ioctl where PAGEMAP_SD_GET on a page of our own answers. A kernel
 * without the series says ENOTTY, or EINVAL (before 6.12.118 and in
 * mainline, pagemap's ioctl answered unknown commands so); valid arguments
 * cannot be EINVAL, so both mean the command is unknown: ENOTTY.
 * EOPNOTSUPP: a kernel with the series but without soft-dirty.
 */
static int pagemap_probe(void)
{
	size_t ps = ww_page_size;
	void *vec[1];
	long n;
	char *p;

	if (sizeof(__pagemap_sd_loff_t) != sizeof(void *))
		return EOPNOTSUPP;	/* 32-bit: the ioctls are 64-bit only */
	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return errno;
	n = sd_ioctl(PAGEMAP_SD_GET, (uintptr_t)p, 1, vec, 1);
	munmap(p, ps);
	if (n == -EINVAL)
		return ENOTTY;
	return n < 0 ? (int)-n : 0;
}

const struct ww_backend ww_backend_pagemap = {
	.name = "pagemap-ioctl",
	.probe = pagemap_probe,
	.watch = pagemap_watch,
	.unwatch = pagemap_unwatch,
	.get = pagemap_get,
	.reset = pagemap_reset,
};
