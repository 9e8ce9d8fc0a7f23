/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The page-sampling backend, for kernels without soft-dirty (and arm64): a
 * per-process version of QEMU's calc-dirty-rate page sampling. Each pass
 * reads a stable random set of the process's resident writable pages with
 * process_vm_readv, hashes each with XXH3 and compares it with the hash the
 * same page had at the last pass. changed/k × resident pages estimates the
 * distinct pages dirtied in the interval, with a binomial standard error.
 *
 * Only 64-bit hashes are kept: page contents live in one reused buffer for
 * the length of a hash and are never logged or exported.
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/fs.h>
#include <linux/types.h>
#include <xxhash.h>

#include <dirtyrate/pagemap-sd.h>	/* PAGEMAP_SCAN: Debian 12's headers are 6.1's */

#include "backend.h"
#include "backend-page-sampling.h"
#include "proc-pid.h"
#include "util.h"

#define PM_PRESENT (UINT64_C(1) << 63)

/* ---- resident regions ---- */

void resident_regions_done(struct resident_regions *rr) {
	free(rr->r);
	free(rr->cum);
	*rr = (struct resident_regions) {};
}

int resident_regions_add(struct resident_regions *rr, uint64_t start, uint64_t end, uint64_t page_size) {
	if (end <= start)
		return 0;
	/* Adjacent to the last one (a scan split at a chunk): extend it. */
	if (rr->n > 0 && rr->r[rr->n - 1].end == start) {
		rr->r[rr->n - 1].end = end;
		rr->pages += (end - start) / page_size;
		return 0;
	}
	if (rr->n == rr->allocated) {
		size_t a = rr->allocated ? rr->allocated * 2 : 64;
		struct mem_range *r = reallocarray(rr->r, a, sizeof(*r));
		uint64_t *cum;

		if (!r)
			return -ENOMEM;
		rr->r = r;
		cum = reallocarray(rr->cum, a, sizeof(*cum));
		if (!cum)
			return -ENOMEM;
		rr->cum = cum;
		rr->allocated = a;
	}
	rr->r[rr->n] = (struct mem_range) { start, end };
	rr->cum[rr->n] = rr->pages;
	rr->n++;
	rr->pages += (end - start) / page_size;
	return 0;
}

bool resident_regions_contain(const struct resident_regions *rr, uint64_t addr) {
	size_t lo = 0, hi = rr->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < rr->r[mid].start)
			hi = mid;
		else if (addr >= rr->r[mid].end)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

uint64_t resident_regions_page(const struct resident_regions *rr, uint64_t idx, uint64_t page_size) {
	size_t lo = 0, hi = rr->n;

	/* The last region whose cum <= idx. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (rr->cum[mid] <= idx)
			lo = mid;
		else
			hi = mid;
	}
	return rr->r[lo].start + (idx - rr->cum[lo]) * page_size;
}

/* ---- the estimator ---- */

static uint64_t splitmix64(uint64_t *state) {
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (Lemire's multiply-shift; the bias is < n/2^64). */
static uint64_t random_below(uint64_t *state, uint64_t n) {
	return (uint64_t) (((unsigned __int128) splitmix64(state) * n) >> 64);
}

void page_sampler_init(struct page_sampler *s, uint64_t seed) {
	*s = (struct page_sampler) { .rng = seed };
}

void page_sampler_done(struct page_sampler *s) {
	free(s->slots);
	resident_regions_done(&s->map);
	free(s->map_ranges);
	*s = (struct page_sampler) {};
}

void page_sample_estimate(uint64_t changed, uint64_t compared, uint64_t old_pages, uint64_t new_pages,
			  double *ret_dirty, double *ret_variance) {
	double old = (double) old_pages;

	if (compared == 0) {
		*ret_dirty = (double) new_pages;
		*ret_variance = old * old / 4;
		return;
	}
	double p = (double) changed / (double) compared;
	double pv = ((double) changed + 1) / ((double) compared + 2);

	*ret_dirty = p * old + (double) new_pages;
	*ret_variance = old * old * pv * (1 - pv) / (double) compared;
}

uint64_t page_sampling_share(uint64_t budget_pages_per_sec, uint64_t interval_usec, uint64_t resident_pages,
			     uint64_t total_resident_pages) {
	double k = 0;

	if (total_resident_pages > 0)
		k = (double) budget_pages_per_sec * ((double) interval_usec / 1e6) *
			((double) resident_pages / (double) total_resident_pages);
	if (k < PAGE_SAMPLING_MIN_PAGES)
		k = PAGE_SAMPLING_MIN_PAGES;
	if (resident_pages > 0 && k > (double) resident_pages)
		k = MAX((double) resident_pages, (double) PAGE_SAMPLING_MIN_PAGES);
	return (uint64_t) k;
}

/* Reads slots[idx[0..n)] through the reader in batches. */
static int read_slots(const struct page_reader *reader, const struct sample_slot *slots, const size_t *idx, size_t n,
		      uint64_t page_size, uint64_t *hashes, bool *ok) {
	uint64_t addrs[PAGE_SAMPLING_BATCH];

	for (size_t i = 0; i < n; i += PAGE_SAMPLING_BATCH) {
		size_t b = MIN(n - i, (size_t) PAGE_SAMPLING_BATCH);
		int r;

		for (size_t j = 0; j < b; j++)
			addrs[j] = slots[idx[i + j]].addr;
		r = reader->read(reader->userdata, addrs, b, page_size, hashes + i, ok + i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Keeps those of idx[0..*n) whose slot's page is resident now (in order);
 * empties the others' slots. */
static int keep_present(const struct page_reader *reader, struct sample_slot *slots, size_t *idx, size_t *n,
			uint64_t page_size, bool *present) {
	uint64_t addrs[PAGE_SAMPLING_BATCH];
	size_t kept = 0;

	for (size_t i = 0; i < *n; i += PAGE_SAMPLING_BATCH) {
		size_t b = MIN(*n - i, (size_t) PAGE_SAMPLING_BATCH);
		int r;

		for (size_t j = 0; j < b; j++)
			addrs[j] = slots[idx[i + j]].addr;
		r = reader->present(reader->userdata, addrs, b, page_size, present + i);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < *n; i++)
		if (present[i])
			idx[kept++] = idx[i];
		else
			slots[idx[i]].addr = 0;
	*n = kept;
	return 0;
}

/* Reads the slots idx[0..*n) that are still resident (asked only if the
 * walk's map may be out of date, see page_sampler_args.reclaimed) and
 * hashes them. */
static int read_resident_slots(const struct page_reader *reader, struct sample_slot *slots, size_t *idx, size_t *n,
			       uint64_t page_size, bool map_current, uint64_t *hashes, bool *ok) {
	if (!map_current) {
		int r = keep_present(reader, slots, idx, n, page_size, ok);

		if (r < 0)
			return r;
	}
	return read_slots(reader, slots, idx, *n, page_size, hashes, ok);
}

static bool same_ranges(const struct page_sampler *s, const struct page_sampler_args *a) {
	return s->map_n_ranges == a->n_ranges &&
		(a->n_ranges == 0 || memcmp(s->map_ranges, a->ranges, a->n_ranges * sizeof(*a->ranges)) == 0);
}

static bool walk_due(const struct page_sampler *s, const struct page_sampler_args *a) {
	uint64_t moved;

	if (!s->have_map || s->passes_since_walk + 1 >= PAGE_SAMPLING_WALK_EVERY || !same_ranges(s, a))
		return true;
	moved = a->rss_pages > s->map_rss_pages ? a->rss_pages - s->map_rss_pages : s->map_rss_pages - a->rss_pages;
	return moved > s->map_rss_pages / PAGE_SAMPLING_RSS_SLACK_DIVISOR + PAGE_SAMPLING_MIN_PAGES;
}

/* Asks the reader for the resident pages and keeps them as the map. */
static int walk(struct page_sampler *s, const struct page_reader *reader, const struct page_sampler_args *a) {
	struct resident_regions rr = {};
	struct mem_range *ranges = NULL;
	int r;

	r = reader->resident(reader->userdata, a->ranges, a->n_ranges, a->page_size, &rr);
	if (r < 0) {
		resident_regions_done(&rr);
		return r;
	}
	if (a->n_ranges > 0) {
		ranges = reallocarray(NULL, a->n_ranges, sizeof(*ranges));
		if (!ranges) {
			resident_regions_done(&rr);
			return -ENOMEM;
		}
		memcpy(ranges, a->ranges, a->n_ranges * sizeof(*ranges));
	}
	resident_regions_done(&s->map);
	free(s->map_ranges);
	s->map = rr;
	s->map_ranges = ranges;
	s->map_n_ranges = a->n_ranges;
	s->map_rss_pages = a->rss_pages;
	s->map_reclaimed = a->reclaimed;
	s->map_page_faults = a->page_faults;
	s->passes_since_walk = 0;
	s->have_map = true;
	return 0;
}

int page_sampler_pass(struct page_sampler *s, const struct page_reader *reader, const struct page_sampler_args *a,
		      struct page_sample_result *ret) {
	_cleanup_free_ size_t *idx = NULL;
	_cleanup_free_ uint64_t *hashes = NULL;
	_cleanup_free_ bool *ok = NULL;
	struct page_sample_result res = {};
	uint64_t k_target = a->k_target, page_size = a->page_size;
	size_t n_idx = 0, redraw;
	bool map_current;
	int r;

	if (walk_due(s, a)) {
		r = walk(s, reader, a);
		if (r < 0)
			return r;
		res.walked = true;
	} else
		s->passes_since_walk++;
	res.resident_pages = s->map.pages;
	map_current = res.walked ||
		(a->reclaimed != PAGE_SAMPLING_RECLAIM_UNKNOWN && a->reclaimed == s->map_reclaimed &&
		 a->rss_pages == s->map_rss_pages && a->page_faults == s->map_page_faults);
	res.present_checked = !map_current;

	if (k_target > s->allocated) {
		struct sample_slot *sl = reallocarray(s->slots, k_target, sizeof(*sl));

		if (!sl)
			return -ENOMEM;
		s->slots = sl;
		s->allocated = k_target;
	}
	idx = calloc(MAX(k_target, s->n) + 1, sizeof(*idx));
	hashes = calloc(MAX(k_target, s->n) + 1, sizeof(*hashes));
	ok = calloc(MAX(k_target, s->n) + 1, sizeof(*ok));
	if (!idx || !hashes || !ok)
		return -ENOMEM;

	/* 1. Compare every slot that is still resident; drop the others
	 * (unmapped, swapped or reclaimed: re-drawn below). */
	for (size_t i = 0; i < s->n; i++) {
		if (s->slots[i].addr == 0)
			continue;
		if (!res.walked || resident_regions_contain(&s->map, s->slots[i].addr))
			idx[n_idx++] = i;
		else
			s->slots[i].addr = 0;
	}
	r = read_resident_slots(reader, s->slots, idx, &n_idx, page_size, map_current, hashes, ok);
	if (r < 0)
		return r;
	for (size_t j = 0; j < n_idx; j++) {
		struct sample_slot *slot = &s->slots[idx[j]];

		if (!ok[j]) {
			slot->addr = 0; /* unmapped between the check and the read */
			continue;
		}
		res.compared++;
		res.changed += slot->hash != hashes[j];
		slot->hash = hashes[j];
	}
	res.pages_read = res.compared;

	/* 2. Resize to k_target (the budget moves), re-draw a share in turn. */
	for (size_t i = s->n; i < k_target; i++)
		s->slots[i].addr = 0;
	s->n = k_target;
	if (s->redraw_cursor >= s->n)
		s->redraw_cursor = 0;
	redraw = s->n / PAGE_SAMPLING_REDRAW_DIVISOR;
	for (size_t j = 0; j < redraw; j++) {
		s->slots[s->redraw_cursor].addr = 0;
		s->redraw_cursor = (s->redraw_cursor + 1) % s->n;
	}
	/* A page of the map that is no longer resident (only between walks)
	 * is not drawn: draw again, a few times. */
	for (int tries = 0; tries < (map_current ? 1 : PAGE_SAMPLING_DRAW_TRIES) && s->map.pages > 0; tries++) {
		n_idx = 0;
		for (size_t i = 0; i < s->n; i++)
			if (s->slots[i].addr == 0) {
				s->slots[i].addr = resident_regions_page(&s->map, random_below(&s->rng, s->map.pages),
									 page_size);
				idx[n_idx++] = i;
			}
		if (n_idx == 0)
			break;
		r = read_resident_slots(reader, s->slots, idx, &n_idx, page_size, map_current, hashes, ok);
		if (r < 0)
			return r;
		for (size_t j = 0; j < n_idx; j++) {
			struct sample_slot *slot = &s->slots[idx[j]];

			if (ok[j]) {
				slot->hash = hashes[j];
				res.pages_read++;
			} else
				slot->addr = 0;
		}
	}

	/* 3. The estimate: the sample speaks for the pages resident at both
	 * walks; growth is new memory, written to become resident. */
	if (s->have_last) {
		res.old_pages = MIN(s->last_resident_pages, s->map.pages);
		res.new_pages = s->map.pages > s->last_resident_pages ? s->map.pages - s->last_resident_pages : 0;
	}
	page_sample_estimate(res.changed, res.compared, res.old_pages, res.new_pages, &res.dirty_pages, &res.variance);
	s->last_resident_pages = s->map.pages;
	s->have_last = true;
	*ret = res;
	return 0;
}

/* ---- the real reader: PAGEMAP_SCAN or pagemap, and process_vm_readv ---- */

struct page_sampling_state {
	int pagemap_fd;
	pid_t pid;
	int pidfd;
	bool no_scan;		/* PAGEMAP_SCAN absent: read pagemap entries */
	struct page_sampler sampler;
	struct backend_estimate last;
};

#define SCAN_VEC 512

static int resident_scan(int fd, const struct mem_range *ranges, size_t n, uint64_t page_size,
			 struct resident_regions *ret) {
	struct page_region vec[SCAN_VEC];

	for (size_t i = 0; i < n; i++) {
		uint64_t start = ranges[i].start;

		while (start < ranges[i].end) {
			struct pm_scan_arg arg = {
				.size = sizeof(arg),
				.start = start,
				.end = ranges[i].end,
				.vec = (uintptr_t) vec,
				.vec_len = SCAN_VEC,
				/* present, and not the shared zero page (read, never written) */
				.category_inverted = PAGE_IS_PFNZERO,
				.category_mask = PAGE_IS_PRESENT | PAGE_IS_PFNZERO,
				.return_mask = PAGE_IS_PRESENT,
			};
			int k = ioctl(fd, PAGEMAP_SCAN, &arg);

			if (k < 0)
				return -errno;
			for (int j = 0; j < k; j++) {
				int r = resident_regions_add(ret, vec[j].start, vec[j].end, page_size);

				if (r < 0)
					return r;
			}
			if (arg.walk_end <= start)
				return -EPROTO;
			start = arg.walk_end;
		}
	}
	return 0;
}

#define CHUNK_ENTRIES 8192

static int resident_pagemap(int fd, const struct mem_range *ranges, size_t n, uint64_t page_size,
			    struct resident_regions *ret) {
	static uint64_t buf[CHUNK_ENTRIES];

	for (size_t i = 0; i < n; i++) {
		uint64_t first = ranges[i].start / page_size, last = ranges[i].end / page_size;

		while (first < last) {
			size_t want = MIN(last - first, (uint64_t) CHUNK_ENTRIES);
			ssize_t got = pread(fd, buf, want * sizeof(uint64_t), (off_t) (first * sizeof(uint64_t)));

			if (got < 0) {
				if (errno == EINTR)
					continue;
				return -errno;
			}
			if ((size_t) got != want * sizeof(uint64_t))
				return -ESRCH;
			for (size_t j = 0; j < want; j++)
				if (buf[j] & PM_PRESENT) {
					int r = resident_regions_add(ret, (first + j) * page_size,
								     (first + j + 1) * page_size, page_size);
					if (r < 0)
						return r;
				}
			first += want;
		}
	}
	return 0;
}

static int real_resident(void *userdata, const struct mem_range *ranges, size_t n, uint64_t page_size,
			 struct resident_regions *ret) {
	struct page_sampling_state *s = userdata;
	int r;

	if (!s->no_scan) {
		r = resident_scan(s->pagemap_fd, ranges, n, page_size, ret);
		if (r != -ENOTTY && r != -EINVAL)
			return r;
		log_debug("page-sampling: no PAGEMAP_SCAN (%s); reading pagemap entries.", strerror(-r));
		s->no_scan = true;
		resident_regions_done(ret);
	}
	return resident_pagemap(s->pagemap_fd, ranges, n, page_size, ret);
}

static int real_present(void *userdata, const uint64_t *addrs, size_t n, uint64_t page_size, bool *present) {
	struct page_sampling_state *s = userdata;
	size_t i = 0;

	while (i < n) {
		uint64_t e;
		ssize_t got = pread(s->pagemap_fd, &e, sizeof(e), (off_t) (addrs[i] / page_size * sizeof(e)));

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return -errno;
		if (got != sizeof(e))
			return -ESRCH; /* the address space is gone */
		present[i++] = e & PM_PRESENT;
	}
	return 0;
}

/*
 * Pages reclaimed system-wide so far: /proc/vmstat's pswpout and pgsteal_*
 * (every page that reclaim took from a process, anon or file, by kswapd,
 * direct or proactive reclaim), summed. A reading serves the passes of the
 * next millisecond: one sampler step. Any failure: unknown.
 */
#define RECLAIM_READING_USEC 1000

static uint64_t reclaimed_pages(void) {
	static int fd = -EBADF;
	static uint64_t value = PAGE_SAMPLING_RECLAIM_UNKNOWN, read_at;
	static bool unreadable;
	char buf[16384];
	uint64_t now = now_usec(CLOCK_MONOTONIC), sum = 0;
	ssize_t got;

	if (unreadable)
		return PAGE_SAMPLING_RECLAIM_UNKNOWN;
	if (read_at && now - read_at < RECLAIM_READING_USEC)
		return value;
	if (fd < 0)
		fd = open("/proc/vmstat", O_RDONLY | O_CLOEXEC);
	got = fd < 0 ? -1 : pread(fd, buf, sizeof(buf) - 1, 0);
	if (got <= 0) {
		log_debug_errno(got < 0 ? errno : EIO, "page-sampling: /proc/vmstat unreadable (%m); present bits "
				"are read before every sampled page.");
		unreadable = true;
		return PAGE_SAMPLING_RECLAIM_UNKNOWN;
	}
	buf[got] = '\0';
	for (char *line = buf, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "pswpout ", 8) == 0 || strncmp(line, "pgsteal_", 8) == 0)
			sum += strtoull(strchr(line, ' ') ?: line, NULL, 10);
	}
	value = sum;
	read_at = now;
	return value;
}

static int real_read(void *userdata, const uint64_t *addrs, size_t n, uint64_t page_size, uint64_t *hashes,
		     bool *ok) {
	static uint8_t *buf;	/* one batch; overwritten by the next, never kept */
	struct page_sampling_state *s = userdata;
	struct iovec local, remote[PAGE_SAMPLING_BATCH];
	size_t done = 0;

	if (!buf) {
		buf = malloc(PAGE_SAMPLING_BATCH * page_size);
		if (!buf)
			return -ENOMEM;
	}
	assert(n <= PAGE_SAMPLING_BATCH);

	while (done < n) {
		ssize_t got;
		size_t pages;

		for (size_t i = done; i < n; i++)
			remote[i - done] = (struct iovec) { (void *) (uintptr_t) addrs[i], page_size };
		local = (struct iovec) { buf, (n - done) * page_size };
		got = process_vm_readv(s->pid, &local, 1, remote, n - done, 0);
		if (got < 0) {
			if (errno == EFAULT) {
				/* The first page is gone (unmapped since the scan). */
				ok[done++] = false;
				continue;
			}
			return errno == ESRCH ? -ESRCH : -errno;
		}
		pages = (size_t) got / page_size;
		for (size_t i = 0; i < pages; i++) {
			hashes[done + i] = XXH3_64bits(buf + i * page_size, page_size);
			ok[done + i] = true;
		}
		done += pages;
		/* It stops at the first page it cannot read (or reads in part:
		 * never hash a torn page); go on after it. */
		if (done < n)
			ok[done++] = false;
	}
	explicit_bzero(buf, PAGE_SAMPLING_BATCH * page_size);
	return 0;
}

static uint64_t initial_seed(pid_t pid) {
	const char *e = getenv("DIRTYRATED_SAMPLE_SEED");
	uint64_t seed;

	if (e)
		return strtoull(e, NULL, 0); /* repeatable runs (benchmarks, tests) */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != sizeof(seed))
		seed = now_usec(CLOCK_MONOTONIC) ^ (uint64_t) pid;
	return seed;
}

/* process_vm_readv and PAGEMAP_SCAN (or pagemap) on a page of our own. */
static bool page_sampling_probe(void) {
	size_t page_size = (size_t) sysconf(_SC_PAGESIZE);
	_cleanup_close_ int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	char *page, copy[64];
	struct iovec local = { copy, sizeof(copy) }, remote;
	uint64_t e = 0;
	bool ok;

	if (fd < 0) {
		log_info_errno(errno, "page-sampling: cannot open /proc/self/pagemap: %m");
		return false;
	}
	page = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (page == MAP_FAILED)
		return false;
	memset(page, 0x5a, page_size);
	remote = (struct iovec) { page, sizeof(copy) };
	ok = process_vm_readv(getpid(), &local, 1, &remote, 1, 0) == (ssize_t) sizeof(copy) && copy[0] == 0x5a;
	if (!ok)
		log_info_errno(errno, "page-sampling: process_vm_readv does not work here: %m");
	else if (pread(fd, &e, sizeof(e), (off_t) ((uintptr_t) page / page_size * sizeof(e))) != sizeof(e) ||
		 !(e & PM_PRESENT)) {
		log_info("page-sampling: the pagemap present bit is not readable.");
		ok = false;
	}
	munmap(page, page_size);
	/* /proc/vmstat's fd is the daemon's for good: open it now, not at the first tracked process. */
	if (ok)
		(void) reclaimed_pages();
	return ok;
}

static void page_sampling_close(void *state) {
	struct page_sampling_state *s = state;

	if (!s)
		return;
	safe_close(s->pagemap_fd);
	page_sampler_done(&s->sampler);
	free(s);
}

static int page_sampling_open(int procfd, void **ret_state) {
	struct page_sampling_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->pidfd = -EBADF;
	s->pagemap_fd = openat(procfd, "pagemap", O_RDONLY | O_CLOEXEC);
	if (s->pagemap_fd < 0) {
		int r = errno == ENOENT ? -ESRCH : -errno;

		page_sampling_close(s);
		return r;
	}
	page_sampler_init(&s->sampler, 0); /* seeded at the first pass, which knows the PID */
	*ret_state = s;
	return 0;
}

static int page_sampling_pass(void *state, const struct backend_pass_args *a, uint64_t *ret_dirty_pages) {
	struct page_sampling_state *s = state;
	const struct page_reader reader = { real_resident, real_read, real_present, s };
	const struct page_sampler_args args = {
		.ranges = a->ranges,
		.n_ranges = a->n_ranges,
		.page_size = a->page_size,
		.k_target = a->sample_pages ?: PAGE_SAMPLING_MIN_PAGES,
		.rss_pages = a->rss_pages,
		.reclaimed = reclaimed_pages(),
		.page_faults = a->page_faults,
	};
	struct page_sample_result res;
	int r;

	if (!s->sampler.have_last)
		s->sampler.rng = initial_seed(a->pid);
	s->pid = a->pid;
	s->pidfd = a->pidfd;
	r = page_sampler_pass(&s->sampler, &reader, &args, &res);
	if (r < 0)
		return r;
	/* Read while pinned: had it exited (and the PID been reused) during the
	 * pass, its hashes could be another process's. Drop the pass: one poll
	 * a pass, not one a batch. */
	if (pidfd_exited(s->pidfd))
		return -ESRCH;
	s->last = (struct backend_estimate) {
		.variance_pages = res.variance,
		.new_pages = res.new_pages,
		.resident_pages = res.resident_pages,
		.pages_read = res.pages_read,
	};
	*ret_dirty_pages = (uint64_t) (res.dirty_pages + 0.5);
	return 1;
}

static void page_sampling_last_estimate(void *state, struct backend_estimate *ret) {
	struct page_sampling_state *s = state;

	*ret = s->last;
}

const struct backend_ops backend_page_sampling = {
	.name = "page-sampling",
	.kernel_feature = true,
	.last_estimate = page_sampling_last_estimate,
	.probe = page_sampling_probe,
	.open = page_sampling_open,
	.pass = page_sampling_pass,
	.close = page_sampling_close,
};
