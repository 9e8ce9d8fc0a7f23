/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pagemap-ioctl pass against a simulated kernel that follows
 * kernel/README.md, in both forms: PAGEMAP_SCAN with PM_SCAN_CLEAR_SOFT_DIRTY
 * reports the dirty pages of [start, end) as ranges until vec is full, clears
 * exactly those and says in walk_end where it stopped; GET_AND_CLEAR reports
 * the first vec_len dirty pages of [start, start+len) as ascending offsets and
 * clears exactly those. Errors and misbehaviour are injected per call.
 */
#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "backend-pagemap-ioctl.h"
#include "tests.h"
#include "util.h"

extern const struct backend_ops backend_pagemap_ioctl;

#define PAGE 4096
#define NPAGES 4096
#define BASE UINT64_C(0x7f0000000000)

struct fake_kernel {
	bool dirty[NPAGES];
	bool pinned[NPAGES];		/* stay dirty after a clear */
	unsigned calls;
	int fail_at_call;		/* 1-based; 0 = never */
	int fail_errno;
	int partial_then_fail;		/* report this many pages, then fail the next call */
	bool return_too_many, return_descending, bad_walk_end;
	struct pagemap_sd_args seen[64];
	struct pm_scan_arg seen_scan[64];
};

/* PAGEMAP_SCAN with PM_SCAN_CLEAR_SOFT_DIRTY, as the series does it */
static int fake_scan(struct fake_kernel *k, struct pm_scan_arg *a) {
	struct page_region *v = (struct page_region *) (uintptr_t) a->vec;
	int n = 0, reported = 0;

	if (k->calls < ELEMENTSOF(k->seen_scan))
		k->seen_scan[k->calls] = *a;
	k->calls++;
	ASSERT_EQ_U64(a->size, sizeof(*a));
	ASSERT_EQ_U64(a->flags, PM_SCAN_CLEAR_SOFT_DIRTY);
	ASSERT_EQ_U64(a->category_mask, PAGE_IS_SOFT_DIRTY);
	ASSERT_EQ_U64(a->category_anyof_mask, PAGE_IS_PRESENT | PAGE_IS_SWAPPED);
	ASSERT_EQ_U64(a->category_inverted, 0);
	ASSERT_EQ_U64(a->return_mask, PAGE_IS_SOFT_DIRTY);
	ASSERT_TRUE(v && a->vec_len > 0 && a->start % PAGE == 0 && a->start < a->end);

	if (k->fail_at_call && (int) k->calls == k->fail_at_call)
		return -k->fail_errno;

	a->walk_end = a->end;
	for (uint64_t addr = a->start; addr < a->end; addr += PAGE) {
		uint64_t page = (addr - BASE) / PAGE;

		if (page >= NPAGES || !k->dirty[page])
			continue;
		if (k->partial_then_fail && reported == k->partial_then_fail) {
			k->fail_at_call = (int) k->calls + 1;
			a->walk_end = addr;
			break;
		}
		if (n > 0 && v[n - 1].end == addr) {
			v[n - 1].end += PAGE;
		} else if ((uint64_t) n == a->vec_len) {
			a->walk_end = addr; /* vec full: the next call starts here */
			break;
		} else {
			v[n++] = (struct page_region) { addr, addr + PAGE, PAGE_IS_SOFT_DIRTY };
		}
		reported++;
		if (!k->pinned[page])
			k->dirty[page] = false;
	}
	if (k->bad_walk_end)
		a->walk_end = a->start;
	if (k->return_descending && n >= 2) {
		struct page_region t = v[0];
		v[0] = v[1];
		v[1] = t;
	}
	return k->return_too_many ? (int) a->vec_len + 1 : n;
}

static int fake_ioctl(int fd, unsigned long request, void *arg, void *userdata) {
	struct fake_kernel *k = userdata;
	struct pagemap_sd_args *a = arg;
	uint64_t start = (uint64_t) (uintptr_t) a->start;
	int n = 0;

	ASSERT_EQ(fd, 42);
	if (request == PAGEMAP_SCAN)
		return fake_scan(k, arg);
	if (k->calls < ELEMENTSOF(k->seen))
		k->seen[k->calls] = *a;
	k->calls++;
	ASSERT_EQ(request, PAGEMAP_SD_GET_AND_CLEAR);
	ASSERT_EQ(a->flags, PAGEMAP_SD_NO_REUSED_REGIONS);
	ASSERT_TRUE(a->len > 0 && a->vec && a->vec_len > 0 && start % PAGE == 0);

	if (k->fail_at_call && (int) k->calls == k->fail_at_call)
		return -k->fail_errno;
	if (k->return_too_many)
		return a->vec_len + 1;

	for (uint64_t off = 0; off < (uint64_t) a->len && n < a->vec_len; off += PAGE) {
		uint64_t page = (start - BASE + off) / PAGE;

		if (page >= NPAGES || !k->dirty[page])
			continue;
		if (k->partial_then_fail && n == k->partial_then_fail) {
			k->fail_at_call = (int) k->calls + 1;
			break;
		}
		a->vec[n++] = (loff_t) off;
		if (!k->pinned[page])
			k->dirty[page] = false;
	}
	if (k->return_descending && n >= 2) {
		loff_t t = a->vec[0];
		a->vec[0] = a->vec[1];
		a->vec[1] = t;
	}
	return n;
}

static loff_t vec[8];
static struct page_region regions[8];

static struct ioctl_pass pass_for(struct fake_kernel *k, int vec_len) {
	return (struct ioctl_pass) {
		.fd = 42, .page_size = PAGE, .vec = vec, .vec_len = vec_len, .ioctl_fn = fake_ioctl, .userdata = k,
	};
}

/* The PAGEMAP_SCAN form, with room for @regions_len ranges */
static struct ioctl_pass scan_pass_for(struct fake_kernel *k, int regions_len) {
	return (struct ioctl_pass) {
		.fd = 42, .page_size = PAGE, .regions = regions, .regions_len = regions_len,
		.ioctl_fn = fake_ioctl, .userdata = k,
	};
}

static unsigned count_dirty(const struct fake_kernel *k) {
	unsigned c = 0;

	for (unsigned i = 0; i < NPAGES; i++)
		c += k->dirty[i];
	return c;
}

TEST(test_few_dirty_pages_one_call) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 100 * PAGE } };
	struct ioctl_pass p = pass_for(&k, 8);
	struct ioctl_pass_result res;

	k.dirty[3] = k.dirty[50] = k.dirty[99] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 3);
	ASSERT_EQ(k.calls, 1);
	ASSERT_EQ(count_dirty(&k), 0);
	ASSERT_EQ((uintptr_t) k.seen[0].start, BASE);
	ASSERT_EQ(k.seen[0].len, 100 * PAGE);
}

TEST(test_full_vec_continues_after_last_page) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 200 * PAGE } };
	struct ioctl_pass p = pass_for(&k, 4);
	struct ioctl_pass_result res;

	for (unsigned i = 10; i < 20; i++)
		k.dirty[i] = true; /* 10 dirty pages, vec takes 4 */
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 10);
	ASSERT_EQ(k.calls, 3); /* 4 + 4 + 2 */
	ASSERT_EQ((uintptr_t) k.seen[1].start, BASE + 14 * PAGE);
	ASSERT_EQ(k.seen[1].len, (200 - 14) * PAGE);
	ASSERT_EQ((uintptr_t) k.seen[2].start, BASE + 18 * PAGE);
	ASSERT_EQ(count_dirty(&k), 0);
}

TEST(test_exactly_full_vec_then_empty) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 8 * PAGE } };
	struct ioctl_pass p = pass_for(&k, 4);
	struct ioctl_pass_result res;

	k.dirty[0] = k.dirty[1] = k.dirty[2] = k.dirty[3] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 4);
	ASSERT_EQ(k.calls, 2); /* a full vec always asks again */
}

TEST(test_full_vec_at_range_end_stops) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 4 * PAGE } };
	struct ioctl_pass p = pass_for(&k, 4);
	struct ioctl_pass_result res;

	for (unsigned i = 0; i < 4; i++)
		k.dirty[i] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 4);
	ASSERT_EQ(k.calls, 1); /* the last page reported was the range's last */
}

TEST(test_pinned_pages_do_not_loop) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 64 * PAGE } };
	struct ioctl_pass p = pass_for(&k, 2);
	struct ioctl_pass_result res;

	/* Pinned pages stay dirty: re-asking for the same range would never end. */
	for (unsigned i = 0; i < 6; i++)
		k.dirty[i] = k.pinned[i] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 6);
	ASSERT_EQ(k.calls, 4);
}

TEST(test_many_ranges_and_huge_range_chunks) {
	static struct fake_kernel k;
	const struct mem_range r[] = {
		{ BASE, BASE + 10 * PAGE },
		{ BASE + 100 * PAGE, BASE + 110 * PAGE },
		{ BASE + 3 * PAGEMAP_SD_MAX_LEN, BASE + 5 * PAGEMAP_SD_MAX_LEN + PAGE }, /* > 2 GiB */
	};
	struct ioctl_pass p = pass_for(&k, 8);
	struct ioctl_pass_result res;

	k.dirty[1] = k.dirty[105] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, ELEMENTSOF(r), &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 2);
	ASSERT_EQ(k.calls, 5); /* 1 + 1 + three chunks of at most 1 GiB */
	ASSERT_EQ(k.seen[2].len, (int) PAGEMAP_SD_MAX_LEN);
	ASSERT_EQ(k.seen[3].len, (int) PAGEMAP_SD_MAX_LEN);
	ASSERT_EQ(k.seen[4].len, PAGE);
	ASSERT_EQ((uintptr_t) k.seen[4].start, BASE + 5 * PAGEMAP_SD_MAX_LEN);
}

/*
 * v3: ENOMEM is a failed kernel allocation, not a chunk to skip. It ends
 * the pass like any error: no call after it, the pages reported before it
 * (cleared) in the result, and the failed chunk and those after it not
 * cleared.
 */
TEST(test_enomem_ends_the_pass) {
	static struct fake_kernel k;
	const struct mem_range r[] = {
		{ BASE, BASE + 10 * PAGE }, { BASE + 20 * PAGE, BASE + 30 * PAGE }, { BASE + 40 * PAGE, BASE + 50 * PAGE },
	};
	struct ioctl_pass p = pass_for(&k, 8);
	struct ioctl_pass_result res;

	k.dirty[1] = k.dirty[21] = k.dirty[41] = true;
	k.fail_at_call = 2;
	k.fail_errno = ENOMEM;
	ASSERT_EQ(ioctl_pass_run(&p, r, 3, &res), -ENOMEM);
	ASSERT_EQ_U64(res.dirty_pages, 1);
	ASSERT_EQ(k.calls, 2);
	ASSERT_TRUE(!k.dirty[1]);
	ASSERT_TRUE(k.dirty[21] && k.dirty[41]); /* not cleared: the next pass reports them */
}

/* ---- the PAGEMAP_SCAN form ---- */

TEST(test_scan_one_call_counts_pages_of_ranges) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 100 * PAGE } };
	struct ioctl_pass p = scan_pass_for(&k, 8);
	struct ioctl_pass_result res;

	k.dirty[3] = k.dirty[4] = k.dirty[5] = k.dirty[50] = k.dirty[99] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 5);
	ASSERT_EQ(k.calls, 1);
	ASSERT_EQ(count_dirty(&k), 0);
	ASSERT_EQ_U64(k.seen_scan[0].start, BASE);
	ASSERT_EQ_U64(k.seen_scan[0].end, BASE + 100 * PAGE);
}

/* A full vec: the next call starts at walk_end, not after the last range */
TEST(test_scan_full_vec_resumes_at_walk_end) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 200 * PAGE } };
	struct ioctl_pass p = scan_pass_for(&k, 2);
	struct ioctl_pass_result res;

	for (unsigned i = 10; i < 20; i += 2)
		k.dirty[i] = true; /* 5 separate pages, 2 ranges per call */
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 5);
	ASSERT_EQ(k.calls, 3);
	ASSERT_EQ_U64(k.seen_scan[1].start, BASE + 14 * PAGE);
	ASSERT_EQ_U64(k.seen_scan[2].start, BASE + 18 * PAGE);
	ASSERT_EQ_U64(k.seen_scan[2].end, BASE + 200 * PAGE);
	ASSERT_EQ(count_dirty(&k), 0);
}

TEST(test_scan_pinned_pages_do_not_loop) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 64 * PAGE } };
	struct ioctl_pass p = scan_pass_for(&k, 1);
	struct ioctl_pass_result res;

	for (unsigned i = 0; i < 6; i += 2)
		k.dirty[i] = k.pinned[i] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 3);
	ASSERT_EQ(k.calls, 3);
}

/* pm_scan_arg is 64-bit: one call for a range of several GiB */
TEST(test_scan_huge_range_in_one_call) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 5 * PAGEMAP_SD_MAX_LEN + PAGE } };
	struct ioctl_pass p = scan_pass_for(&k, 8);
	struct ioctl_pass_result res;

	k.dirty[7] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), 0);
	ASSERT_EQ_U64(res.dirty_pages, 1);
	ASSERT_EQ(k.calls, 1);
	ASSERT_EQ_U64(k.seen_scan[0].end, BASE + 5 * PAGEMAP_SD_MAX_LEN + PAGE);
}

TEST(test_scan_impossible_answers_are_rejected) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 100 * PAGE } };
	struct ioctl_pass p = scan_pass_for(&k, 8);
	struct ioctl_pass_result res;

	k.return_too_many = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), -EBADMSG);

	/* walk_end that does not move on would loop for ever */
	k = (struct fake_kernel) { .bad_walk_end = true };
	k.dirty[1] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), -EBADMSG);

	k = (struct fake_kernel) { .return_descending = true };
	k.dirty[1] = k.dirty[3] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), -EBADMSG);

	p.regions_len = 0;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), -EINVAL);
}

/* ---- the backend's pass (backend_pagemap_ioctl.pass) over the simulated kernel ---- */

static int backend_pass(struct fake_kernel *k, const struct mem_range *r, size_t n, uint64_t *ret_pages) {
	const struct backend_pass_args args = { .ranges = r, .n_ranges = n, .page_size = PAGE, .pid = 4242 };

	pagemap_sd_ioctl_fn = fake_ioctl;
	pagemap_sd_ioctl_userdata = k;
	*ret_pages = UINT64_MAX;
	return backend_pagemap_ioctl.pass((void *) (intptr_t) 42, &args, ret_pages);
}

/*
 * ENOMEM in the middle of a pass: the sample stands with the pages reported
 * before it (they were cleared: dropping the sample would lose them), and
 * the next pass reports the pages the failed pass did not reach. Over the
 * two passes every dirty page is counted exactly once.
 */
TEST(test_backend_enomem_loses_nothing) {
	static struct fake_kernel k;
	const struct mem_range r[] = {
		{ BASE, BASE + 10 * PAGE }, { BASE + 20 * PAGE, BASE + 30 * PAGE }, { BASE + 40 * PAGE, BASE + 50 * PAGE },
	};
	uint64_t first, second;

	k.dirty[1] = k.dirty[2] = k.dirty[21] = k.dirty[41] = true;
	k.fail_at_call = 2;
	k.fail_errno = ENOMEM;
	ASSERT_EQ(backend_pass(&k, r, 3, &first), 1); /* a sample, not an error */
	ASSERT_EQ_U64(first, 2);
	ASSERT_EQ(k.calls, 2);
	ASSERT_EQ(count_dirty(&k), 2);
	ASSERT_EQ(backend_pass(&k, r, 3, &second), 1);
	ASSERT_EQ_U64(second, 2);
	ASSERT_EQ(count_dirty(&k), 0);
	ASSERT_EQ_U64(first + second, 4);
	printf("  ENOMEM at the 2nd call: %" PRIu64 " pages in that pass, %" PRIu64 " in the next, 4 written\n",
	       first, second);
}

/*
 * Refusals from the ioctl itself, at the first call or after some pages:
 * v3 checks ptrace-attach rights at each CLEAR/GET_AND_CLEAR (EPERM; EACCES
 * likewise), and a kernel without the series answers ENOTTY (EOPNOTSUPP: no
 * soft-dirty). The pass returns them, and they are refusals: the process
 * falls back to the next backend (test-sampler shows that part).
 */
TEST(test_backend_refusals_at_ioctl_time) {
	static const int refusals[] = { EPERM, EACCES, ENOTTY, EOPNOTSUPP };

	for (size_t i = 0; i < ELEMENTSOF(refusals); i++)
		for (int at = 1; at <= 2; at++) {
			static struct fake_kernel k;
			const struct mem_range r[] = { { BASE, BASE + 10 * PAGE }, { BASE + 20 * PAGE, BASE + 30 * PAGE } };
			uint64_t pages;
			int rr;

			k = (struct fake_kernel) { .fail_at_call = at, .fail_errno = refusals[i] };
			k.dirty[1] = k.dirty[21] = true;
			rr = backend_pass(&k, r, 2, &pages);
			ASSERT_EQ(rr, -refusals[i]);
			ASSERT_TRUE(backend_error_is_refusal(rr));
			ASSERT_EQ(k.calls, at);
		}
	ASSERT_TRUE(!backend_error_is_refusal(-ENOMEM));
}

/*
 * The probe: PM_SCAN_CLEAR_SOFT_DIRTY over an empty range first, then a valid
 * PAGEMAP_SD_GET on a page of our own; unknown flag or command means absent.
 */
static int probe_scan_errno, probe_errno;
static unsigned probe_scan_calls, probe_calls;

static int fake_probe_ioctl(int fd, unsigned long request, void *arg, void *userdata) {
	ASSERT_TRUE(fd >= 0);
	if (request == PAGEMAP_SCAN) {
		struct pm_scan_arg *s = arg;

		probe_scan_calls++;
		ASSERT_EQ_U64(s->size, sizeof(*s));
		ASSERT_EQ_U64(s->flags, PM_SCAN_CLEAR_SOFT_DIRTY);
		ASSERT_EQ_U64(s->category_mask, PAGE_IS_SOFT_DIRTY);
		ASSERT_EQ_U64(s->start, s->end); /* clears nothing */
		return probe_scan_errno ? -probe_scan_errno : 0;
	}
	struct pagemap_sd_args *a = arg;

	probe_calls++;
	ASSERT_EQ(request, PAGEMAP_SD_GET);
	ASSERT_TRUE(a->len > 0 && a->vec && a->vec_len > 0);
	if (probe_errno)
		return -probe_errno;
	a->vec[0] = 0;
	return 1;
}

TEST(test_probe) {
	static const struct {
		int scan_error, error;
		bool available;
		unsigned commands_calls;
		unsigned long pass_request;
	} cases[] = {
		{ 0, 0, true, 0, PAGEMAP_SCAN },	/* the flag: the commands are not tried */
		/* a kernel of the series without the flag (EINVAL: unknown PAGEMAP_SCAN flag) */
		{ EINVAL, 0, true, 1, PAGEMAP_SD_GET_AND_CLEAR },
		{ EINVAL, ENOTTY, false, 1, 0 },	/* upstream: PAGEMAP_SCAN only */
		{ ENOTTY, ENOTTY, false, 1, 0 },	/* before 6.7: no PAGEMAP_SCAN either */
		{ EOPNOTSUPP, EOPNOTSUPP, false, 1, 0 }, /* no CONFIG_MEM_SOFT_DIRTY */
		{ EFAULT, EFAULT, false, 1, 0 },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		static struct fake_kernel k;
		const struct mem_range r[] = { { BASE, BASE + 10 * PAGE } };
		uint64_t pages;

		pagemap_sd_ioctl_fn = fake_probe_ioctl;
		pagemap_sd_ioctl_userdata = NULL;
		probe_scan_errno = cases[i].scan_error;
		probe_errno = cases[i].error;
		probe_scan_calls = probe_calls = 0;
		ASSERT_EQ(backend_pagemap_ioctl.probe(), cases[i].available);
		ASSERT_EQ(probe_scan_calls, 1);
		ASSERT_EQ(probe_calls, cases[i].commands_calls);
		if (!cases[i].available)
			continue;

		/* The passes use the form the probe found */
		k = (struct fake_kernel) {};
		k.dirty[2] = true;
		ASSERT_EQ(backend_pass(&k, r, 1, &pages), 1);
		ASSERT_EQ_U64(pages, 1);
		ASSERT_EQ(k.calls, 1);
		if (cases[i].pass_request == PAGEMAP_SCAN)
			ASSERT_EQ_U64(k.seen_scan[0].start, BASE);
		else
			ASSERT_EQ(k.seen[0].len, 10 * PAGE);
	}
	pagemap_sd_ioctl_fn = pagemap_sd_ioctl;
}

/* DIRTYRATED_PAGEMAP_IOCTL=commands: the commands although the flag is there */
TEST(test_probe_commands_forced) {
	pagemap_sd_ioctl_fn = fake_probe_ioctl;
	pagemap_sd_ioctl_userdata = NULL;
	probe_scan_errno = probe_errno = 0;
	probe_scan_calls = probe_calls = 0;
	ASSERT_EQ(setenv("DIRTYRATED_PAGEMAP_IOCTL", "commands", 1), 0);
	ASSERT_TRUE(backend_pagemap_ioctl.probe());
	ASSERT_EQ(unsetenv("DIRTYRATED_PAGEMAP_IOCTL"), 0);
	ASSERT_EQ(probe_scan_calls, 0);
	ASSERT_EQ(probe_calls, 1);
	pagemap_sd_ioctl_fn = pagemap_sd_ioctl;
}

/* Both forms of the pass, GET_AND_CLEAR's and PAGEMAP_SCAN's, over @k */
static struct ioctl_pass form_pass_for(bool scan, struct fake_kernel *k) {
	return scan ? scan_pass_for(k, 8) : pass_for(k, 8);
}

TEST(test_error_after_partial_keeps_partial_count) {
	for (int scan = 0; scan < 2; scan++) {
		static struct fake_kernel k;
		const struct mem_range r[] = { { BASE, BASE + 100 * PAGE }, { BASE + 200 * PAGE, BASE + 210 * PAGE } };
		struct ioctl_pass p = form_pass_for(scan, &k);
		struct ioctl_pass_result res;

		/*
		 * The kernel returns the 3 pages it cleared, then the error
		 * (EINTR) on the next call. The short count ends the range (the
		 * rest stays dirty for the next pass); the error ends the pass;
		 * the 3 are kept.
		 */
		k = (struct fake_kernel) { .partial_then_fail = 3, .fail_errno = EINTR };
		for (unsigned i = 0; i < 10; i++)
			k.dirty[i] = true;
		ASSERT_EQ(ioctl_pass_run(&p, r, 2, &res), -EINTR);
		ASSERT_EQ_U64(res.dirty_pages, 3);
		ASSERT_EQ(k.calls, 2);
		ASSERT_EQ(count_dirty(&k), 7);
		if (scan) /* resumed at walk_end */
			ASSERT_EQ_U64(k.seen_scan[1].start, BASE + 3 * PAGE);
	}
}

TEST(test_fatal_errors_end_the_pass) {
	const int errs[] = { ESRCH, EOPNOTSUPP, EFAULT, EINVAL };

	for (int scan = 0; scan < 2; scan++)
		for (size_t i = 0; i < ELEMENTSOF(errs); i++) {
			static struct fake_kernel k;
			const struct mem_range r[] = { { BASE, BASE + PAGE }, { BASE + 10 * PAGE, BASE + 11 * PAGE } };
			struct ioctl_pass p = form_pass_for(scan, &k);
			struct ioctl_pass_result res;

			k = (struct fake_kernel) { .fail_at_call = 1, .fail_errno = errs[i] };
			ASSERT_EQ(ioctl_pass_run(&p, r, 2, &res), -errs[i]);
			ASSERT_EQ(k.calls, 1);
		}
}

TEST(test_impossible_answers_are_rejected) {
	static struct fake_kernel k;
	const struct mem_range r[] = { { BASE, BASE + 100 * PAGE } };
	struct ioctl_pass p = pass_for(&k, 8);
	struct ioctl_pass_result res;

	k.return_too_many = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), -EBADMSG);

	k = (struct fake_kernel) { .return_descending = true };
	k.dirty[1] = k.dirty[2] = true;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), -EBADMSG);

	p.vec_len = 0;
	ASSERT_EQ(ioctl_pass_run(&p, r, 1, &res), -EINVAL);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	RUN(test_few_dirty_pages_one_call);
	RUN(test_full_vec_continues_after_last_page);
	RUN(test_exactly_full_vec_then_empty);
	RUN(test_full_vec_at_range_end_stops);
	RUN(test_pinned_pages_do_not_loop);
	RUN(test_many_ranges_and_huge_range_chunks);
	RUN(test_enomem_ends_the_pass);
	RUN(test_scan_one_call_counts_pages_of_ranges);
	RUN(test_scan_full_vec_resumes_at_walk_end);
	RUN(test_scan_pinned_pages_do_not_loop);
	RUN(test_scan_huge_range_in_one_call);
	RUN(test_scan_impossible_answers_are_rejected);
	RUN(test_backend_enomem_loses_nothing);
	RUN(test_backend_refusals_at_ioctl_time);
	RUN(test_probe);
	RUN(test_probe_commands_forced);
	RUN(test_error_after_partial_keeps_partial_count);
	RUN(test_fatal_errors_end_the_pass);
	RUN(test_impossible_answers_are_rejected);
	return 0;
}
