/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The page-sampling estimator against a simulated address space (a fake
 * reader): its arithmetic, its error bar's honesty over many passes, pages
 * that leave (non-resident, unmapped mid-read), a process gone mid-read,
 * the resident map kept between walks,
 * the budget's share, and the standard errors in the published numbers.
 */
#include <errno.h>

#include "backend-page-sampling.h"
#include "process-stats.h"
#include "tests.h"
#include "util.h"

#define PAGE 4096
#define BASE UINT64_C(0x10000000)
#define NPAGES 20000

/* The fake process: one writable range of NPAGES; a version per page is its content. */
struct fake {
	uint64_t version[NPAGES];
	bool resident[NPAGES];
	bool unmapped_at_read[NPAGES];	/* EFAULT when read */
	bool gone;			/* ESRCH at the next read */
	uint64_t reads, walks, present_asked;
	bool rss_unknown;		/* pass rss_pages 0, as if /proc/PID/stat had none */
	uint64_t reclaimed;		/* the system's reclaim count: bumped when a page leaves */
	uint64_t faults;		/* the process's page faults: bumped when it touches a dropped page */
};

static int fake_resident(void *userdata, const struct mem_range *ranges, size_t n, uint64_t page_size,
			 struct resident_regions *ret) {
	struct fake *f = userdata;

	f->walks++;
	for (size_t i = 0; i < NPAGES; i++)
		if (f->resident[i]) {
			int r = resident_regions_add(ret, BASE + i * page_size, BASE + (i + 1) * page_size, page_size);

			if (r < 0)
				return r;
		}
	return 0;
}

static int fake_read(void *userdata, const uint64_t *addrs, size_t n, uint64_t page_size, uint64_t *hashes,
		     bool *ok) {
	struct fake *f = userdata;

	if (f->gone)
		return -ESRCH;
	for (size_t i = 0; i < n; i++) {
		uint64_t p = (addrs[i] - BASE) / page_size;

		ASSERT_TRUE(addrs[i] >= BASE && p < NPAGES && addrs[i] % page_size == 0);
		/* Reading a page that is not resident would fault it in. */
		ASSERT_TRUE(f->resident[p]);
		ok[i] = !f->unmapped_at_read[p];
		hashes[i] = f->version[p] * UINT64_C(0x9e3779b97f4a7c15) + p;
		f->reads++;
	}
	return 0;
}

static int fake_present(void *userdata, const uint64_t *addrs, size_t n, uint64_t page_size, bool *present) {
	struct fake *f = userdata;

	if (f->gone)
		return -ESRCH;
	for (size_t i = 0; i < n; i++) {
		uint64_t p = (addrs[i] - BASE) / page_size;

		ASSERT_TRUE(addrs[i] >= BASE && p < NPAGES);
		present[i] = f->resident[p];
		f->present_asked++;
	}
	return 0;
}

static const struct mem_range range = { BASE, BASE + (uint64_t) NPAGES * PAGE };

/* One pass over the fake, its RSS as /proc/PID/stat would give it. */
static int pass(struct page_sampler *s, struct fake *f, uint64_t k, struct page_sample_result *res) {
	const struct page_reader reader = { fake_resident, fake_read, fake_present, f };
	struct page_sampler_args a = { .ranges = &range, .n_ranges = 1, .page_size = PAGE, .k_target = k,
				       .reclaimed = f->reclaimed, .page_faults = f->faults };

	for (size_t i = 0; i < NPAGES && !f->rss_unknown; i++)
		a.rss_pages += f->resident[i];
	return page_sampler_pass(s, &reader, &a, res);
}

static struct fake *fake_new(void) {
	struct fake *f = calloc(1, sizeof(*f));

	ASSERT_TRUE(f);
	for (size_t i = 0; i < NPAGES; i++)
		f->resident[i] = true;
	return f;
}

/* Dirties w distinct pages, round-robin from *cursor (like dirtyrate-workload). */
static void dirty(struct fake *f, uint64_t *cursor, uint64_t w) {
	for (uint64_t i = 0; i < w; i++) {
		f->version[*cursor % NPAGES]++;
		(*cursor)++;
	}
}

TEST(test_estimate_arithmetic) {
	double d, v, p = 11.0 / 102;

	page_sample_estimate(10, 100, 1000, 5, &d, &v);
	ASSERT_NEAR(d, 105, 1e-9);
	ASSERT_NEAR(v, 1000.0 * 1000 * p * (1 - p) / 100, 1e-6);

	/* None changed: no certainty claimed, the error is not 0. */
	page_sample_estimate(0, 100, 1000, 0, &d, &v);
	ASSERT_NEAR(d, 0, 1e-9);
	ASSERT_TRUE(v > 0);

	/* Nothing compared: the old pages are unknown. */
	page_sample_estimate(0, 0, 1000, 7, &d, &v);
	ASSERT_NEAR(d, 7, 1e-9);
	ASSERT_NEAR(v, 1000.0 * 1000 / 4, 1e-6);
}

TEST(test_share) {
	/* 16384 pages/s at 1 s, half of the resident memory: half of it. */
	ASSERT_EQ_U64(page_sampling_share(16384, USEC_PER_SEC, 500, 1000), 8192 > 500 ? 500 : 8192);
	ASSERT_EQ_U64(page_sampling_share(16384, USEC_PER_SEC, 50000, 100000), 8192);
	/* 500 ms intervals halve it. */
	ASSERT_EQ_U64(page_sampling_share(16384, USEC_PER_SEC / 2, 50000, 100000), 4096);
	/* A small share of a big total: the floor. */
	ASSERT_EQ_U64(page_sampling_share(16384, USEC_PER_SEC, 100, 10000000), PAGE_SAMPLING_MIN_PAGES);
	/* Nothing known yet: the floor. */
	ASSERT_EQ_U64(page_sampling_share(16384, USEC_PER_SEC, 0, 0), PAGE_SAMPLING_MIN_PAGES);
}

TEST(test_regions) {
	struct resident_regions rr = {};

	ASSERT_EQ(resident_regions_add(&rr, 0x1000, 0x3000, PAGE), 0);
	ASSERT_EQ(resident_regions_add(&rr, 0x3000, 0x4000, PAGE), 0); /* merged */
	ASSERT_EQ(resident_regions_add(&rr, 0x10000, 0x12000, PAGE), 0);
	ASSERT_EQ(rr.n, 2);
	ASSERT_EQ_U64(rr.pages, 5);
	ASSERT_EQ_U64(resident_regions_page(&rr, 0, PAGE), 0x1000);
	ASSERT_EQ_U64(resident_regions_page(&rr, 2, PAGE), 0x3000);
	ASSERT_EQ_U64(resident_regions_page(&rr, 3, PAGE), 0x10000);
	ASSERT_EQ_U64(resident_regions_page(&rr, 4, PAGE), 0x11000);
	ASSERT_TRUE(resident_regions_contain(&rr, 0x3000));
	ASSERT_TRUE(!resident_regions_contain(&rr, 0x4000));
	ASSERT_TRUE(resident_regions_contain(&rr, 0x11000));
	ASSERT_TRUE(!resident_regions_contain(&rr, 0x12000));
	resident_regions_done(&rr);
}

/*
 * W pages of NPAGES dirtied per interval, K sampled: over 400 intervals the
 * mean estimate is within 3 % of W, and W lies within ±2 standard errors
 * of the estimate in at least 90 % of them.
 */
static void check_accuracy(uint64_t w, uint64_t k, uint64_t seed) {
	struct fake *f = fake_new();
	struct page_sampler s;
	struct page_sample_result res;
	uint64_t cursor = 0, covered = 0, n = 0;
	double sum = 0;

	page_sampler_init(&s, seed);
	ASSERT_EQ(pass(&s, f, k, &res), 0);
	ASSERT_EQ_U64(res.compared, 0); /* the first pass only draws */
	ASSERT_EQ_U64(res.resident_pages, NPAGES);
	for (int i = 0; i < 400; i++) {
		dirty(f, &cursor, w);
		ASSERT_EQ(pass(&s, f, k, &res), 0);
		/* 1/8 of the set is drawn anew each pass: compared next time. */
		ASSERT_TRUE(res.compared >= k - k / PAGE_SAMPLING_REDRAW_DIVISOR - 1 && res.compared <= k);
		ASSERT_TRUE(res.changed <= res.compared);
		ASSERT_EQ_U64(res.new_pages, 0);
		sum += res.dirty_pages;
		covered += fabs(res.dirty_pages - (double) w) <= 2 * sqrt(res.variance);
		n++;
	}
	printf("  W=%" PRIu64 " K=%" PRIu64 ": mean %.1f (%.2f %%), ±2 SE covers %" PRIu64 "/%" PRIu64 "\n", w, k,
	       sum / n, 100 * (sum / n - w) / w, covered, n);
	ASSERT_NEAR(sum / n, (double) w, 0.03 * w);
	ASSERT_TRUE(covered >= n * 9 / 10);
	page_sampler_done(&s);
	free(f);
}

TEST(test_accuracy_and_honest_error) {
	check_accuracy(200, 1000, 1);	/* 1 % */
	check_accuracy(1000, 1000, 2);	/* 5 % */
	check_accuracy(4000, 256, 3);	/* 20 %, a small sample */
	check_accuracy(NPAGES, 500, 4);	/* all of it */
}

/* The same seed draws the same pages: repeatable benchmarks. */
TEST(test_seed_is_repeatable) {
	struct fake *f = fake_new();
	struct page_sampler a, b;
	struct page_sample_result ra, rb;

	page_sampler_init(&a, 42);
	page_sampler_init(&b, 42);
	ASSERT_EQ(pass(&a, f, 300, &ra), 0);
	ASSERT_EQ(pass(&b, f, 300, &rb), 0);
	for (size_t i = 0; i < 300; i++)
		ASSERT_EQ_U64(a.slots[i].addr, b.slots[i].addr);
	page_sampler_done(&a);
	page_sampler_done(&b);
	free(f);
}

/* Pages that stop being resident are dropped, not counted, and re-drawn;
 * growth is counted as new pages. */
TEST(test_non_resident_and_growth) {
	struct fake *f = fake_new();
	struct page_sampler s;
	struct page_sample_result res;

	for (size_t i = NPAGES / 2; i < NPAGES; i++)
		f->resident[i] = false;
	page_sampler_init(&s, 7);
	ASSERT_EQ(pass(&s, f, 400, &res), 0);
	ASSERT_EQ_U64(res.resident_pages, NPAGES / 2);
	for (size_t i = 0; i < s.n; i++)
		ASSERT_TRUE(s.slots[i].addr < BASE + (uint64_t) NPAGES / 2 * PAGE);

	/* Half of the sampled half swapped out (and its contents changed):
	 * those samples are dropped, not "changed". */
	for (size_t i = 0; i < NPAGES / 4; i++) {
		f->resident[i] = false;
		f->version[i]++;
	}
	ASSERT_EQ(pass(&s, f, 400, &res), 0);
	ASSERT_EQ_U64(res.changed, 0);
	ASSERT_TRUE(res.compared > 100 && res.compared < 300);
	ASSERT_EQ_U64(res.resident_pages, NPAGES / 4);
	ASSERT_EQ_U64(res.new_pages, 0);
	ASSERT_NEAR(res.dirty_pages, 0, 1e-9);
	for (size_t i = 0; i < s.n; i++)
		ASSERT_TRUE(s.slots[i].addr >= BASE + (uint64_t) NPAGES / 4 * PAGE);

	/* The second half becomes resident (written): new pages. */
	for (size_t i = NPAGES / 2; i < NPAGES; i++) {
		f->resident[i] = true;
		f->version[i]++;
	}
	ASSERT_EQ(pass(&s, f, 400, &res), 0);
	ASSERT_EQ_U64(res.old_pages, NPAGES / 4);
	ASSERT_EQ_U64(res.new_pages, NPAGES / 2);
	ASSERT_NEAR(res.dirty_pages, NPAGES / 2, 1e-9);
	page_sampler_done(&s);
	free(f);
}

/* A page unmapped between the scan and the read (EFAULT): dropped; the
 * process gone mid-read (ESRCH): the pass fails with -ESRCH. */
TEST(test_unmapped_mid_read_and_gone) {
	struct fake *f = fake_new();
	struct page_sampler s;
	struct page_sample_result res;
	uint64_t cursor = 0;

	page_sampler_init(&s, 9);
	ASSERT_EQ(pass(&s, f, 1000, &res), 0);
	for (size_t i = 0; i < NPAGES; i += 2)
		f->unmapped_at_read[i] = true;
	dirty(f, &cursor, NPAGES); /* every page changed */
	ASSERT_EQ(pass(&s, f, 1000, &res), 0);
	/* Only the odd pages were compared; all of those changed. */
	ASSERT_TRUE(res.compared > 300 && res.compared < 600);
	ASSERT_EQ_U64(res.changed, res.compared);
	for (size_t i = 0; i < s.n; i++)
		ASSERT_TRUE(s.slots[i].addr == 0 || ((s.slots[i].addr - BASE) / PAGE) % 2 == 1);

	f->gone = true;
	ASSERT_EQ(pass(&s, f, 1000, &res), -ESRCH);
	page_sampler_done(&s);
	free(f);
}

/* The budget moves: the set grows and shrinks with it. */
TEST(test_set_follows_budget) {
	struct fake *f = fake_new();
	struct page_sampler s;
	struct page_sample_result res;

	page_sampler_init(&s, 11);
	ASSERT_EQ(pass(&s, f, 100, &res), 0);
	ASSERT_EQ_U64(res.pages_read, 100);
	ASSERT_EQ(pass(&s, f, 300, &res), 0);
	ASSERT_EQ_U64(res.compared, 100);
	ASSERT_EQ_U64(s.n, 300);
	ASSERT_EQ(pass(&s, f, 50, &res), 0);
	ASSERT_EQ_U64(res.compared, 300);
	ASSERT_EQ_U64(s.n, 50);
	page_sampler_done(&s);
	free(f);
}

/* The published numbers: a standard error from the variance, 0 for exact
 * counts, NaN for faults-only; first-touch faults replace resident growth. */
TEST(test_stats_standard_error) {
	const uint64_t t0 = 1000 * USEC_PER_SEC;
	struct process_stats s;
	struct sample in = { .now_usec = t0, .have_dirty = true, .estimated = true };

	process_stats_init(&s);
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 0);
	ASSERT_TRUE(isnan(s.dirty_bytes_per_sec_stderr));
	in = (struct sample) { .now_usec = t0 + 2 * USEC_PER_SEC, .have_dirty = true, .estimated = true,
			       .dirty_pages = 100, .variance_pages = 400 };
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 100.0 * PAGE / 2, 1e-9);
	ASSERT_NEAR(s.dirty_bytes_per_sec_stderr, 20.0 * PAGE / 2, 1e-9);
	ASSERT_NEAR(sqrt(s.dirty_avgs.var10), 20.0 * PAGE / 2, 1e-9); /* the first interval alone */

	/* 100 more intervals of the same: the averages' errors shrink. */
	for (int i = 2; i < 102; i++) {
		in.now_usec = t0 + 2 * (uint64_t) i * USEC_PER_SEC;
		ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	}
	ASSERT_NEAR(s.dirty_avgs.avg60, 100.0 * PAGE / 2, 1e-6);
	/* EMA of n independent estimates: var × (1 − e)/(1 + e), e = exp(−dt/window). */
	{
		double e = exp(-2.0 / 10), sd = 20.0 * PAGE / 2;

		ASSERT_NEAR(sqrt(s.dirty_avgs.var10), sd * sqrt((1 - e) / (1 + e)), sd * 0.01);
	}
	ASSERT_TRUE(sqrt(s.dirty_avgs.var60) < sqrt(s.dirty_avgs.var10));
	ASSERT_TRUE(sqrt(s.dirty_avgs.var300) < s.dirty_bytes_per_sec_stderr);

	/* Exact counts: 0. */
	process_stats_init(&s);
	in = (struct sample) { .now_usec = t0, .have_dirty = true };
	process_stats_account(&s, &in, PAGE);
	in.now_usec += USEC_PER_SEC;
	in.dirty_pages = 10;
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_NEAR(s.dirty_bytes_per_sec_stderr, 0, 0);
	ASSERT_NEAR(sqrt(s.dirty_avgs.var60), 0, 0);

	/* With write-fault counters, 30 first-touch faults replace 50 pages of growth. */
	process_stats_init(&s);
	in = (struct sample) { .now_usec = t0, .have_dirty = true, .estimated = true, .have_faults = true,
			       .have_write_faults = true };
	process_stats_account(&s, &in, PAGE);
	in.now_usec += USEC_PER_SEC;
	in.dirty_pages = 150;
	in.new_pages = 50;
	in.faults.np_write_faults = 30;
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 130.0 * PAGE, 1e-9);

	/* faults-only (no dirty count): NaN. */
	process_stats_init(&s);
	in = (struct sample) { .now_usec = t0, .have_faults = true, .have_write_faults = true };
	process_stats_account(&s, &in, PAGE);
	in.now_usec += USEC_PER_SEC;
	in.faults.wp_faults = 10;
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 10.0 * PAGE, 1e-9);
	ASSERT_TRUE(isnan(s.dirty_bytes_per_sec_stderr));
	ASSERT_TRUE(isnan(s.dirty_avgs.var10));
}

/*
 * A process whose memory stays put is walked once every
 * PAGE_SAMPLING_WALK_EVERY passes; its RSS moving by more than the slack,
 * or its writable ranges changing, brings the walk forward.
 */
TEST(test_walk_kept_between_passes) {
	struct fake *f = fake_new();
	const struct page_reader reader = { fake_resident, fake_read, fake_present, f };
	const struct mem_range halves[2] = {
		{ BASE, BASE + (uint64_t) NPAGES / 2 * PAGE },
		{ BASE + (uint64_t) NPAGES / 2 * PAGE, BASE + (uint64_t) NPAGES * PAGE },
	};
	struct page_sampler_args a = { .ranges = halves, .n_ranges = 2, .page_size = PAGE, .k_target = 200 };
	struct page_sampler s;
	struct page_sample_result res;

	page_sampler_init(&s, 13);
	for (int i = 0; i <= 2 * PAGE_SAMPLING_WALK_EVERY; i++) {
		ASSERT_EQ(pass(&s, f, 200, &res), 0);
		ASSERT_TRUE(res.walked == (i % PAGE_SAMPLING_WALK_EVERY == 0));
		ASSERT_EQ_U64(res.resident_pages, NPAGES);
	}
	ASSERT_EQ_U64(f->walks, 3);

	/* One page leaves: within the slack, no walk; N stays the walk's. */
	f->resident[0] = false;
	f->reclaimed++;
	ASSERT_EQ(pass(&s, f, 200, &res), 0);
	ASSERT_TRUE(!res.walked);
	ASSERT_EQ_U64(res.resident_pages, NPAGES);

	/* A thousand leave: the RSS moved, walk now. */
	for (size_t i = 0; i < 1000; i++)
		f->resident[i] = false;
	f->reclaimed += 1000;
	ASSERT_EQ(pass(&s, f, 200, &res), 0);
	ASSERT_TRUE(res.walked);
	ASSERT_EQ_U64(res.resident_pages, NPAGES - 1000);

	/* The same pages as two ranges (an mprotect split the mapping): walk. */
	ASSERT_EQ(pass(&s, f, 200, &res), 0);
	ASSERT_TRUE(!res.walked);
	a.rss_pages = NPAGES - 1000;
	a.reclaimed = f->reclaimed;
	ASSERT_EQ(page_sampler_pass(&s, &reader, &a, &res), 0);
	ASSERT_TRUE(res.walked);
	ASSERT_EQ(page_sampler_pass(&s, &reader, &a, &res), 0);
	ASSERT_TRUE(!res.walked);
	page_sampler_done(&s);
	free(f);
}

/*
 * Between walks, a sampled page that left (swapped out while the RSS is not
 * known, or moved less than the slack) is dropped by its present bit and
 * never read; draws from the kept map skip such pages too.
 */
TEST(test_present_bit_between_walks) {
	struct fake *f = fake_new();
	struct page_sampler s;
	struct page_sample_result res;
	uint64_t cursor = 0;
	size_t empty = 0;

	f->rss_unknown = true;
	page_sampler_init(&s, 17);
	ASSERT_EQ(pass(&s, f, 1000, &res), 0);
	ASSERT_TRUE(res.walked);
	for (size_t i = 0; i < NPAGES; i += 2)
		f->resident[i] = false;
	f->reclaimed += NPAGES / 2;
	dirty(f, &cursor, NPAGES);
	ASSERT_EQ(pass(&s, f, 1000, &res), 0); /* fake_read fails on a page not resident */
	ASSERT_TRUE(!res.walked);
	ASSERT_TRUE(res.compared > 350 && res.compared < 650);
	ASSERT_EQ_U64(res.changed, res.compared);
	for (size_t i = 0; i < s.n; i++)
		if (s.slots[i].addr == 0)
			empty++;
		else
			ASSERT_TRUE(f->resident[(s.slots[i].addr - BASE) / PAGE]);
	/* Four draws a pass: about 1/16 of the re-drawn slots stay empty. */
	ASSERT_TRUE(empty < 100);
	ASSERT_TRUE(f->present_asked > 1000);
	page_sampler_done(&s);
	free(f);
}

/*
 * Present bits cost a pagemap read per page: between walks they are read
 * only once the system has reclaimed pages since the walk (or when that is
 * not known), and then on every pass until the next walk.
 */
TEST(test_present_bits_only_after_reclaim) {
	struct fake *f = fake_new();
	struct page_sampler s;
	struct page_sample_result res;
	uint64_t cursor = 0;

	page_sampler_init(&s, 19);
	ASSERT_EQ(pass(&s, f, 300, &res), 0);
	ASSERT_TRUE(res.walked && !res.present_checked);
	for (int i = 1; i < PAGE_SAMPLING_WALK_EVERY / 2; i++) {
		dirty(f, &cursor, 100);
		ASSERT_EQ(pass(&s, f, 300, &res), 0);
		ASSERT_TRUE(!res.walked && !res.present_checked);
		ASSERT_EQ_U64(res.compared, 300);
	}
	ASSERT_EQ_U64(f->present_asked, 0);

	/* Reclaim somewhere in the system (not one of these pages): checked. */
	f->reclaimed += 5;
	ASSERT_EQ(pass(&s, f, 300, &res), 0);
	ASSERT_TRUE(!res.walked && res.present_checked);
	ASSERT_TRUE(f->present_asked >= 300);
	ASSERT_EQ_U64(res.compared, 300);
	ASSERT_EQ(pass(&s, f, 300, &res), 0);
	ASSERT_TRUE(res.present_checked);

	/* The process dropped pages itself and touched them again: its page
	 * faults moved, though nothing was reclaimed. A walk; then checked
	 * again only once its faults move again. */
	f->reclaimed = 5;
	for (int i = 0; i < PAGE_SAMPLING_WALK_EVERY; i++)
		ASSERT_EQ(pass(&s, f, 300, &res), 0);
	ASSERT_TRUE(!res.present_checked);
	f->faults += 3;
	ASSERT_EQ(pass(&s, f, 300, &res), 0);
	ASSERT_TRUE(res.present_checked);

	/* Not known (no /proc/vmstat): always checked. */
	f->reclaimed = PAGE_SAMPLING_RECLAIM_UNKNOWN;
	f->present_asked = 0;
	ASSERT_EQ(pass(&s, f, 300, &res), 0);
	ASSERT_TRUE(res.present_checked && f->present_asked >= 300);
	page_sampler_done(&s);
	free(f);
}

int main(void) {
	RUN(test_estimate_arithmetic);
	RUN(test_share);
	RUN(test_regions);
	RUN(test_accuracy_and_honest_error);
	RUN(test_seed_is_repeatable);
	RUN(test_non_resident_and_growth);
	RUN(test_unmapped_mid_read_and_gone);
	RUN(test_set_follows_budget);
	RUN(test_walk_kept_between_passes);
	RUN(test_present_bit_between_walks);
	RUN(test_present_bits_only_after_reclaim);
	RUN(test_stats_standard_error);
	return 0;
}
