/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A region's written pages, for the backends that note them in user space
 * (mprotect, userfaultfd): a bit per page set by the backend's fault
 * handler, and the get and reset that read the bits and re-arm the pages.
 * What differs between those backends -- the lock their handler shares and
 * how a span of pages is protected again -- comes in struct page_log_ops.
 */
#ifndef DIRTYRATE_WRITEWATCH_PAGE_LOG_H
#define DIRTYRATE_WRITEWATCH_PAGE_LOG_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "page-bits.h"

struct page_log {
	unsigned long *bits;	/* 1: written since the last reset */
	size_t *scratch;	/* pages being reset by one call (calls are serialised) */
};

struct page_log_ops {
	/* The lock the fault handler takes to set a bit and unprotect its page. */
	void (*lock)(sigset_t *saved);
	void (*unlock)(const sigset_t *saved);
	/* Make [start, start + len) fault on the next write again: 0 or an errno. */
	int (*protect)(uintptr_t start, size_t len);
};

/* A log of npages pages, none written; NULL when out of memory. */
struct page_log *page_log_new(size_t npages);
void page_log_free(struct page_log *log);

/*
 * GetWriteWatch() of pages [first, first + npages) of the region at base:
 * at most *count addresses, ascending, into addresses[]; with reset, the
 * pages reported are re-armed. 0 or an errno (nothing reset then).
 */
int page_log_get(struct page_log *log, const struct page_log_ops *ops, uintptr_t base, size_t first,
		 size_t npages, void **addresses, size_t *count, bool reset);

/* ResetWriteWatch() of pages [first, first + npages): 0 or an errno. */
int page_log_reset(struct page_log *log, const struct page_log_ops *ops, uintptr_t base, size_t first,
		   size_t npages);

#endif /* DIRTYRATE_WRITEWATCH_PAGE_LOG_H */
