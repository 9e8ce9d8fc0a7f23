/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The page-sampling backend's estimator, exposed for its unit test: a stable
 * set of sampled page addresses with the XXH3 hash each had when last read,
 * and one pass over it through a "reader" (the real one asks the kernel
 * which pages are resident and reads them with process_vm_readv; the test's
 * is a simulated address space).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proc-maps.h"

/* Each pass re-draws this share of the set (1/8), so it follows new memory. */
#define PAGE_SAMPLING_REDRAW_DIVISOR 8
/* No process is sampled with fewer pages a pass than this (the budget's floor). */
#define PAGE_SAMPLING_MIN_PAGES 16
/* process_vm_readv batch: pages per call. */
#define PAGE_SAMPLING_BATCH 64
/*
 * The walk of every writable PTE that finds the resident pages (PAGEMAP_SCAN)
 * is kept for this many passes while the writable ranges stay the same and
 * the RSS moves by less than 1/PAGE_SAMPLING_RSS_SLACK_DIVISOR: done every
 * pass it was most of the backend's CPU. Between walks, the present bit of
 * each sampled page is read instead, once pages were reclaimed (see
 * page_sampler_args.reclaimed).
 */
#define PAGE_SAMPLING_WALK_EVERY 32
#define PAGE_SAMPLING_RSS_SLACK_DIVISOR 64
/* Draws from the kept map that find a page gone are retried this often a pass. */
#define PAGE_SAMPLING_DRAW_TRIES 4

/* Resident pages of the writable ranges, as address ranges sorted by address. */
struct resident_regions {
	struct mem_range *r;
	uint64_t *cum;		/* cum[i]: resident pages in r[0..i) */
	size_t n, allocated;
	uint64_t pages;		/* all of them */
};

void resident_regions_done(struct resident_regions *rr);
int resident_regions_add(struct resident_regions *rr, uint64_t start, uint64_t end, uint64_t page_size);
bool resident_regions_contain(const struct resident_regions *rr, uint64_t addr);
/* The address of the idx-th resident page (idx < pages). */
uint64_t resident_regions_page(const struct resident_regions *rr, uint64_t idx, uint64_t page_size);

struct page_reader {
	/* Fills *ret (empty on entry) with the resident pages of the ranges. */
	int (*resident)(void *userdata, const struct mem_range *ranges, size_t n, uint64_t page_size,
			struct resident_regions *ret);
	/*
	 * Hashes the n pages at addrs (ascending or not) into hashes[];
	 * ok[i] false for a page that could not be read (unmapped since:
	 * EFAULT). -ESRCH: the process is gone; -EPERM/-EACCES: refused.
	 */
	int (*read)(void *userdata, const uint64_t *addrs, size_t n, uint64_t page_size, uint64_t *hashes, bool *ok);
	/*
	 * present[i]: whether the page at addrs[i] is resident now (the
	 * pagemap present bit). Asked between walks, so that no read faults a
	 * page in (a swapped-out page would be swapped in). -ESRCH: gone.
	 */
	int (*present)(void *userdata, const uint64_t *addrs, size_t n, uint64_t page_size, bool *present);
	void *userdata;
};

struct sample_slot {
	uint64_t addr;		/* 0: empty, to be drawn */
	uint64_t hash;
};

struct page_sampler {
	struct sample_slot *slots;
	size_t n, allocated;
	size_t redraw_cursor;
	uint64_t rng;
	uint64_t last_resident_pages;	/* N at the previous pass */
	bool have_last;
	/* The last walk: its resident pages, and what it was made for. */
	struct resident_regions map;
	struct mem_range *map_ranges;
	size_t map_n_ranges;
	uint64_t map_rss_pages;
	uint64_t map_reclaimed;		/* args.reclaimed, .page_faults when it was made */
	uint64_t map_page_faults;
	unsigned passes_since_walk;
	bool have_map;
};

/* What a pass is asked to do. */
struct page_sampler_args {
	const struct mem_range *ranges;	/* the writable ranges, sorted */
	size_t n_ranges;
	uint64_t page_size;
	uint64_t k_target;		/* pages in the set */
	/* Resident pages of every kind (/proc/PID/stat): a walk is due when
	 * they move. 0: not known (the walk then follows the period alone). */
	uint64_t rss_pages;
	/*
	 * Between walks, a sampled page's present bit is read before the page,
	 * so that a page that left is never faulted back in by our read (a
	 * swap-in; a zero page mapped where the process dropped one). Unless
	 * nothing can have left since the walk: no page reclaimed system-wide
	 * (@reclaimed: swapped out or evicted, a count that only grows;
	 * PAGE_SAMPLING_RECLAIM_UNKNOWN if not known), and the process's RSS
	 * and page-fault count as they were (a page it dropped and touched
	 * again took a fault; one it dropped for good lowered the RSS). Then
	 * every page of the walk's map is resident, and those reads are
	 * skipped. Our own reads fault on the reader's account, not its.
	 */
	uint64_t reclaimed;
	uint64_t page_faults;		/* minor + major, /proc/PID/stat */
};
#define PAGE_SAMPLING_RECLAIM_UNKNOWN UINT64_MAX

/* What one pass found. */
struct page_sample_result {
	uint64_t compared;		/* k: slots read now that had a hash from the last pass */
	uint64_t changed;		/* c: of those, hash differs */
	uint64_t resident_pages;	/* N now: resident pages of the writable ranges */
	uint64_t old_pages;		/* min(N before, N now): the population the sample speaks for */
	uint64_t new_pages;		/* max(0, N now − N before): resident growth, taken as written */
	uint64_t pages_read;		/* process_vm_readv'd this pass (compared + drawn) */
	bool walked;			/* the resident pages were walked this pass */
	bool present_checked;		/* present bits read before the pages (a page may have left) */
	double dirty_pages;		/* c/k × old_pages + new_pages */
	double variance;		/* of dirty_pages, in pages² (binomial, with replacement) */
};

void page_sampler_init(struct page_sampler *s, uint64_t seed);
void page_sampler_done(struct page_sampler *s);

/*
 * One pass with a set of k_target pages: walks the resident pages if a walk
 * is due (see PAGE_SAMPLING_WALK_EVERY), reads every slot that is still
 * resident and compares its hash (slots no longer resident or unreadable
 * are dropped), then re-draws the dropped slots, 1/REDRAW_DIVISOR of the
 * rest (in turn) and any new slots up to k_target uniformly from the
 * resident pages of the last walk that are still resident, and reads those
 * for their first hash. N is the last walk's count.
 */
int page_sampler_pass(struct page_sampler *s, const struct page_reader *reader, const struct page_sampler_args *a,
		      struct page_sample_result *ret);

/*
 * The estimate from one pass's counts: c/k × old + new, with its binomial
 * variance old² × p(1−p)/k, p = (c+1)/(k+2) so that c = 0 or c = k do not
 * claim certainty. k = 0 (nothing to compare) claims nothing about the old
 * pages: variance old²/4.
 */
void page_sample_estimate(uint64_t changed, uint64_t compared, uint64_t old_pages, uint64_t new_pages,
			  double *ret_dirty, double *ret_variance);

/*
 * The share of budget_pages_per_sec one process gets a pass:
 * budget × interval × resident / total_resident, at least
 * PAGE_SAMPLING_MIN_PAGES, at most its resident pages (or the floor).
 */
uint64_t page_sampling_share(uint64_t budget_pages_per_sec, uint64_t interval_usec, uint64_t resident_pages,
			     uint64_t total_resident_pages);
