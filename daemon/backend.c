/* SPDX-License-Identifier: GPL-2.0-only */
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <dirtyrate/pagemap-sd.h>

#include "backend.h"
#include "pagemap.h"
#include "util.h"

static const char *const backend_names[_BACKEND_MAX] = {
	[BACKEND_PAGEMAP_IOCTL] = "pagemap-ioctl",
	[BACKEND_CLEAR_REFS] = "clear-refs",
	[BACKEND_FAULTS_ONLY] = "faults-only",
};

static const char *const backend_descriptions[_BACKEND_MAX] = {
	[BACKEND_PAGEMAP_IOCTL] =
		"PAGEMAP_SD_GET_AND_CLEAR over each writable mapping: exact, atomic per page, clears only the tracked process's ranges",
	[BACKEND_CLEAR_REFS] =
		"pagemap bit 55 then clear_refs 4: exact page count, but clears the soft-dirty bits of the WHOLE process and misses writes between read and clear",
	[BACKEND_FAULTS_ONLY] =
		"no soft-dirty in this kernel: write faults x page size, an ESTIMATE (needs the BPF fault counters)",
};

const char *backend_to_string(enum backend b) {
	if (b < 0 || b >= _BACKEND_MAX)
		return "auto";
	return backend_names[b];
}

int backend_from_string(const char *s, enum backend *ret) {
	if (streq(s, "auto")) {
		*ret = BACKEND_AUTO;
		return 0;
	}
	for (int b = 0; b < _BACKEND_MAX; b++)
		if (streq(s, backend_names[b])) {
			*ret = (enum backend) b;
			return 0;
		}
	return -EINVAL;
}

const char *backend_description(enum backend b) {
	if (b < 0 || b >= _BACKEND_MAX)
		return NULL;
	return backend_descriptions[b];
}

struct probe_page {
	volatile char *page;
	size_t size;
};

static void probe_page_done(struct probe_page *p) {
	if (p->page)
		munmap((void *) p->page, p->size);
}

static int probe_page_map(struct probe_page *p) {
	void *a;

	p->size = (size_t) sysconf(_SC_PAGESIZE);
	a = mmap(NULL, p->size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (a == MAP_FAILED)
		return -errno;
	p->page = a;
	p->page[0] = 1; /* populate: a written, present page */
	return 0;
}

/* A valid GET on a small mapping of our own: anything but "unknown ioctl" counts. */
static bool probe_pagemap_ioctl(void) {
	_cleanup_(probe_page_done) struct probe_page p = {};
	_cleanup_close_ int fd = -EBADF;
	loff_t vec[1];
	struct pagemap_sd_args args;
	int r;

	if (probe_page_map(&p) < 0)
		return false;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		log_warning_errno(errno, "pagemap-ioctl probe: cannot open /proc/self/pagemap: %m");
		return false;
	}

	args = (struct pagemap_sd_args) {
		.start = (void *) p.page,
		.len = (int) p.size,
		.vec = vec,
		.vec_len = 1,
	};
	r = ioctl(fd, PAGEMAP_SD_GET, &args);
	if (r < 0) {
		if (IN_SET_ERRNO(errno, EINVAL, ENOTTY, EOPNOTSUPP))
			log_info_errno(errno, "pagemap-ioctl: PAGEMAP_SD_GET not supported by this kernel: %m");
		else
			log_warning_errno(errno, "pagemap-ioctl probe: PAGEMAP_SD_GET failed unexpectedly: %m");
		return false;
	}
	return true;
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
static bool probe_clear_refs(void) {
	_cleanup_(probe_page_done) struct probe_page p = {};
	_cleanup_close_ int fd = -EBADF;
	uint64_t e;
	int r;

	if (probe_page_map(&p) < 0)
		return false;
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;

	r = clear_own_refs();
	if (r < 0) {
		log_info_errno(r, "clear-refs: cannot write /proc/self/clear_refs: %m");
		return false;
	}
	if (read_own_entry(fd, p.page, p.size, &e) < 0 || (e & PM_SOFT_DIRTY)) {
		log_info("clear-refs: bit 55 stays set after clear_refs 4: no soft-dirty in this kernel.");
		return false;
	}
	p.page[0] = 2;
	if (read_own_entry(fd, p.page, p.size, &e) < 0 || !(e & PM_SOFT_DIRTY)) {
		log_info("clear-refs: a write does not set bit 55: no soft-dirty in this kernel.");
		return false;
	}
	return true;
}

void backend_probe(struct backend_support *ret) {
	*ret = (struct backend_support) {
		.available = {
			[BACKEND_PAGEMAP_IOCTL] = probe_pagemap_ioctl(),
			[BACKEND_CLEAR_REFS] = probe_clear_refs(),
			/* Always possible; whether it has data depends on the fault source. */
			[BACKEND_FAULTS_ONLY] = true,
		},
	};
}

enum backend backend_next_available(const struct backend_support *s, enum backend from) {
	for (int b = from < 0 ? 0 : from; b < _BACKEND_MAX; b++)
		if (s->available[b])
			return (enum backend) b;
	return BACKEND_FAULTS_ONLY;
}
