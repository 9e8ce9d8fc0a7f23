/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a write-watch backend implements, and the region table they share.
 *
 * writewatch.c checks every argument, rounds ranges to pages, finds the
 * region and serialises calls; a backend only ever sees a page-aligned,
 * non-empty range inside one live region, and a count > 0.
 */
#ifndef DIRTYRATE_WRITEWATCH_BACKEND_H
#define DIRTYRATE_WRITEWATCH_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ww_region {
	/*
	 * The first byte of the region, or 0 for a free slot. Set last when a
	 * region is created and cleared first when it is freed (release), so
	 * that the SIGSEGV handler, which reads the table without a lock
	 * (acquire), only ever sees complete regions.
	 */
	uintptr_t base;
	size_t npages;
	const struct ww_backend *backend;	/* that watches it */
	void *priv;		/* the backend's state */
};

struct ww_backend {
	const char *name;
	/* 0 if it works in this process, else a positive errno saying why not. */
	int (*probe)(void);
	/*
	 * Start watching the npages pages at base, readable and writable, for
	 * r (npages set; base is published only once this returns 0): no page
	 * written. 0 or a positive errno.
	 */
	int (*watch)(struct ww_region *r, uintptr_t base);
	/* Stop watching r (already unpublished, still mapped). */
	void (*unwatch)(struct ww_region *r);
	/*
	 * Report up to *count written pages of npages pages from page first of
	 * r, ascending, into addresses; with reset, reset exactly those. Sets
	 * *count. 0 or a positive errno (nothing reset then).
	 */
	int (*get)(struct ww_region *r, size_t first, size_t npages,
		   void **addresses, size_t *count, bool reset);
	/* Reset npages pages from page first of r. 0 or a positive errno. */
	int (*reset)(struct ww_region *r, size_t first, size_t npages);
	/*
	 * Optional, around fork() (pthread_atfork, with writewatch.c's lock
	 * held throughout): prepare takes what another thread may hold,
	 * parent releases it; in the child, fork_child(NULL) first, then once
	 * per live region, to watch the child's copies as the parent's were.
	 */
	void (*fork_prepare)(void);
	void (*fork_parent)(void);
	void (*fork_child)(struct ww_region *r);
};

extern const struct ww_backend ww_backend_pagemap;
extern const struct ww_backend ww_backend_mprotect;
extern const struct ww_backend ww_backend_uffd;

/* The page size, cached. */
extern size_t ww_page_size;

/*
 * The live region containing addr, or NULL. Async-signal-safe: atomic
 * loads only.
 */
struct ww_region *ww_region_of(uintptr_t addr);

#endif /* DIRTYRATE_WRITEWATCH_BACKEND_H */
