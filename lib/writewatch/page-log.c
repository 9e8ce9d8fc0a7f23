// SPDX-License-Identifier: GPL-2.0-only
/*
 * The get and reset of the backends that note written pages in user space
 * (page-log.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "backend.h"
#include "page-log.h"

struct page_log *page_log_new(size_t npages)
{
	struct page_log *log = calloc(1, sizeof(*log));

	if (!log)
		return NULL;
	log->bits = calloc(page_bits_words(npages), sizeof(*log->bits));
	log->scratch = calloc(npages, sizeof(*log->scratch));
	if (!log->bits || !log->scratch) {
		page_log_free(log);
		return NULL;
	}
	return log;
}

void page_log_free(struct page_log *log)
{
	if (!log)
		return;
	free(log->bits);
	free(log->scratch);
	free(log);
}

/* The written pages of [first, end), at most max, into the scratch list. Under the lock. */
static size_t take_written(struct page_log *log, size_t first, size_t end, size_t max)
{
	size_t n = 0;

	for (size_t i = page_bit_next(log->bits, first, end); i < end && n < max;
	     i = page_bit_next(log->bits, i + 1, end))
		log->scratch[n++] = i;
	return n;
}

/*
 * Re-arm the first n pages of the scratch list (ascending, every written page
 * between the first and the last of them) and clear their bits. Under the
 * lock. One protect() of the span from the first to the last does it: the
 * pages in between that are not in the list are not written, so armed
 * already. On failure nothing is reset (some pages may be armed with their
 * bit still set, which is harmless: the next write faults and is noted
 * again).
 */
static int rearm(struct page_log *log, const struct page_log_ops *ops, uintptr_t base, size_t n)
{
	int err;

	if (!n)
		return 0;
	err = ops->protect(base + log->scratch[0] * ww_page_size,
			   (log->scratch[n - 1] - log->scratch[0] + 1) * ww_page_size);
	if (err)
		return err;
	for (size_t k = 0; k < n; k++)
		page_bit_clear(log->bits, log->scratch[k]);
	return 0;
}

int page_log_get(struct page_log *log, const struct page_log_ops *ops, uintptr_t base, size_t first,
		 size_t npages, void **addresses, size_t *count, bool reset)
{
	size_t end = first + npages, n = 0;
	sigset_t saved;
	int err;

	if (!reset) {
		/* Nothing changes: the bits are read as they are, without the lock. */
		for (size_t i = page_bit_next(log->bits, first, end); i < end && n < *count;
		     i = page_bit_next(log->bits, i + 1, end))
			addresses[n++] = (void *)(base + i * ww_page_size);
		*count = n;
		return 0;
	}
	/*
	 * addresses[] may itself be watched memory, whose first write needs the
	 * handler and so the lock: it is filled after the lock is dropped, from
	 * the scratch list, which no other call can touch meanwhile (writewatch.c
	 * serialises the calls; only the handler runs beside them).
	 */
	ops->lock(&saved);
	n = take_written(log, first, end, *count);
	err = rearm(log, ops, base, n);
	ops->unlock(&saved);
	if (err)
		return err;
	for (size_t k = 0; k < n; k++)
		addresses[k] = (void *)(base + log->scratch[k] * ww_page_size);
	*count = n;
	return 0;
}

int page_log_reset(struct page_log *log, const struct page_log_ops *ops, uintptr_t base, size_t first,
		   size_t npages)
{
	sigset_t saved;
	int err;

	ops->lock(&saved);
	err = rearm(log, ops, base, take_written(log, first, first + npages, npages));
	ops->unlock(&saved);
	return err;
}
