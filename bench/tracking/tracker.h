/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every way of tracking writes to a region implements, so that the
 * driver can time them all the same way.
 *
 * A round is: the program writes some pages of the region (timed, because a
 * write-protect fault is what every method makes the tracked program pay),
 * then the tracker reports the pages written since the previous round and
 * re-arms ("collect", timed). The report is then decoded into page indices
 * and compared with the pages actually written (untimed): a method that
 * reports anything else has no meaningful time.
 */
#ifndef BENCH_TRACKING_TRACKER_H
#define BENCH_TRACKING_TRACKER_H

#include <stddef.h>
#include <stdint.h>

/* The tracked pages: populated, private anonymous, writable, between guards. */
struct region {
	char *base;
	size_t npages;
	size_t page_size;
	size_t map_len;		/* of the whole mapping, guards included */
};

struct tracker {
	const struct method *m;
	struct region r;
	void *priv;		/* the method's state */
	char err[200];		/* why setup or collect failed */
};

enum method_flags {
	M_OURS		= 1 << 0,	/* one of the soft-dirty ioctls under test */
	M_BALLAST	= 1 << 1,	/* runs with 4 GiB populated elsewhere */
	M_BASELINE	= 1 << 2,	/* no tracking: the cost of bare writes */
};

struct method {
	const char *name;	/* id for --methods and the tables */
	const char *what;	/* one line for the legend */
	unsigned int flags;
	/* Start tracking t->r and arm it. Returns 0 or -errno (t->err says why). */
	int (*setup)(struct tracker *t);
	/*
	 * Timed. Report, in the method's own form, the pages written since the
	 * previous call, and re-arm. Returns the number of items reported
	 * (offsets, ranges or indices) or -errno.
	 */
	long (*collect)(struct tracker *t);
	/* Untimed. The last report as page indices (capacity r.npages). */
	long (*pages)(struct tracker *t, uint32_t *out);
	void (*teardown)(struct tracker *t);
};

/* The methods, each in its own file. */
extern const struct method method_baseline;
extern const struct method method_sd_gac;
extern const struct method method_sd_gac_noreuse;
extern const struct method method_sd_get_clear;
extern const struct method method_sd_gac_ballast;
extern const struct method method_scan_clear_sd;
extern const struct method method_clear_refs;
extern const struct method method_clear_refs_ballast;
extern const struct method method_scan_softdirty;
extern const struct method method_scan_uffd_async;
extern const struct method method_mprotect;
extern const struct method method_uffd_sync;
extern const struct method method_sd_get_only;	/* wrong on purpose */

/* procfs.c: /proc/self/pagemap and /proc/self/clear_refs, opened once. */
int pagemap_fd(void);
int clear_refs_soft_dirty(void);	/* "4": the whole process; 0 or -errno */

/* scan_softdirty.c: PAGEMAP_SCAN's ranges as page indices of r. */
struct page_region;
long regions_to_pages(const struct region *r, const struct page_region *vec,
		      long n, uint32_t *out);
/* scan_softdirty.c: one PAGEMAP_SCAN over all of r; ranges or -1, errno. */
long pagemap_scan_region(const struct region *r, uint64_t flags, uint64_t cat,
			 struct page_region *vec);

/* scan_softdirty.c: the state of a method that reads PAGEMAP_SCAN's ranges */
struct scan_ranges {
	struct page_region *vec;	/* room for every page apart, plus one */
	long n;				/* ranges the last collect wrote */
};
int scan_ranges_setup(struct tracker *t);	/* t->priv; does not arm */
long scan_ranges_pages(struct tracker *t, uint32_t *out);
void scan_ranges_teardown(struct tracker *t);

/* Fill t->err and return -err (err is a positive errno). */
int tracker_fail(struct tracker *t, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* BENCH_TRACKING_TRACKER_H */
