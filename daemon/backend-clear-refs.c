/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The clear-refs backend, for kernels with soft-dirty but without our
 * series: read bit 55 of /proc/PID/pagemap over the writable mappings,
 * then write "4" to /proc/PID/clear_refs. Clears the WHOLE process, and a
 * write between the read and the clear is lost unless the clear tracepoint
 * counts what the clear cleared (clears_whole_process).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "backend-clear-refs.h"
#include "util.h"

#define CHUNK_ENTRIES 8192 /* 64 KiB of entries per read, 32 MiB of address space */

size_t pagemap_count_written(const uint64_t *entries, size_t n) {
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += pagemap_entry_written(entries[i]);
	return c;
}

int pagemap_count_ranges(int pagemap_fd, const struct mem_range *ranges, size_t n, uint64_t page_size,
			 uint64_t *ret_pages) {
	static uint64_t buf[CHUNK_ENTRIES];
	uint64_t pages = 0;

	for (size_t i = 0; i < n; i++) {
		uint64_t first = ranges[i].start / page_size, last = ranges[i].end / page_size;

		while (first < last) {
			size_t want = MIN(last - first, (uint64_t) CHUNK_ENTRIES);
			ssize_t got;

			got = pread(pagemap_fd, buf, want * sizeof(uint64_t), (off_t) (first * sizeof(uint64_t)));
			if (got < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if ((size_t) got != want * sizeof(uint64_t))
				return -ESRCH; /* the mm is gone (exit or exec) */

			pages += pagemap_count_written(buf, want);
			first += want;
		}
	}

	*ret_pages = pages;
	return 0;
}

static int read_own_entry(int pagemap_fd, const volatile char *addr, size_t page_size, uint64_t *ret) {
	ssize_t n = pread(pagemap_fd, ret, sizeof(*ret), (off_t) ((uintptr_t) addr / page_size * sizeof(*ret)));

	if (n < 0)
		return -errno;
	return n == sizeof(*ret) ? 0 : -EIO;
}

static int clear_own_refs(void) {
	_cleanup_close_ int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		return -errno;
	return 0;
}

/* Write, clear, expect bit 55 clear; write again, expect it set. */
static bool probe_page(int fd, volatile char *page, size_t page_size) {
	uint64_t e;
	int r;

	page[0] = 1;
	r = clear_own_refs();
	if (r < 0) {
		log_info_errno(r, "clear-refs: cannot write /proc/self/clear_refs: %m");
		return false;
	}
	if (read_own_entry(fd, page, page_size, &e) < 0 || (e & PM_SOFT_DIRTY)) {
		log_info("clear-refs: bit 55 stays set after clear_refs 4: no soft-dirty in this kernel.");
		return false;
	}
	page[0] = 2;
	if (read_own_entry(fd, page, page_size, &e) < 0 || !(e & PM_SOFT_DIRTY)) {
		log_info("clear-refs: a write does not set bit 55: no soft-dirty in this kernel.");
		return false;
	}
	return true;
}

static bool clear_refs_probe(void) {
	_cleanup_close_ int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	size_t page_size = (size_t) sysconf(_SC_PAGESIZE);
	volatile char *page;
	bool ok;

	if (fd < 0)
		return false;
	page = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return false;
	ok = probe_page(fd, page, page_size);
	munmap((void *) page, page_size);
	return ok;
}

struct clear_refs_state {
	int pagemap_fd, clear_refs_fd;
};

static void clear_refs_close(void *state) {
	struct clear_refs_state *s = state;

	if (!s)
		return;
	safe_close(s->pagemap_fd);
	safe_close(s->clear_refs_fd);
	free(s);
}

static int clear_refs_open(int procfd, void **ret_state) {
	struct clear_refs_state *s = malloc(sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->pagemap_fd = openat(procfd, "pagemap", O_RDONLY | O_CLOEXEC);
	s->clear_refs_fd = s->pagemap_fd < 0 ? -EBADF : openat(procfd, "clear_refs", O_WRONLY | O_CLOEXEC);
	if (s->pagemap_fd < 0 || s->clear_refs_fd < 0) {
		int r = errno == ENOENT ? -ESRCH : -errno;

		clear_refs_close(s);
		return r;
	}
	*ret_state = s;
	return 0;
}

static int clear_refs_pass(void *state, const struct backend_pass_args *a, uint64_t *ret_dirty_pages) {
	struct clear_refs_state *s = state;
	int r;

	/* Count, then clear the whole process. Writes landing in between are
	 * cleared uncounted: this backend undercounts a little. */
	r = pagemap_count_ranges(s->pagemap_fd, a->ranges, a->n_ranges, a->page_size, ret_dirty_pages);
	if (r < 0)
		return r;
	if (pwrite(s->clear_refs_fd, "4", 1, 0) != 1)
		return errno == ENOENT ? -ESRCH : -errno;
	return 1;
}

const struct backend_ops backend_clear_refs = {
	.name = "clear-refs",
	.kernel_feature = true,
	.soft_dirty = true,
	.clears_whole_process = true,
	.probe = clear_refs_probe,
	.open = clear_refs_open,
	.pass = clear_refs_pass,
	.close = clear_refs_close,
};
