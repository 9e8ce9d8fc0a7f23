// SPDX-License-Identifier: GPL-2.0-only
/*
 * Regions to track and the pages written to them.
 *
 * A region sits between two PROT_NONE guard pages so that it never merges
 * with a neighbouring mapping: a merge with a new (VM_SOFTDIRTY) mapping
 * would make all of it read as dirty to the soft-dirty methods, and a method
 * must be timed on its region alone. It is populated up front: the benchmark
 * times tracking writes to memory in use, not first-touch faults.
 */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench.h"

/*
 * 4 KiB pages, as the tracked memory of most programs is, and not a THP that
 * khugepaged could build behind the benchmark's back; then every page
 * present and written once.
 */
static void populate(char *p, size_t len, size_t ps)
{
	madvise(p, len, MADV_NOHUGEPAGE);
	if (!madvise(p, len, MADV_POPULATE_WRITE))
		return;
	for (size_t off = 0; off < len; off += ps)
		((volatile char *)p)[off] = 1;
}

int region_map(struct region *r, size_t npages)
{
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	size_t len = (npages + 2) * ps;
	char *g = mmap(NULL, len, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *p;

	if (g == MAP_FAILED)
		return -errno;
	p = mmap(g + ps, npages * ps, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED) {
		int err = errno;

		munmap(g, len);
		return -err;
	}
	populate(p, npages * ps, ps);
	r->base = p;
	r->npages = npages;
	r->page_size = ps;
	r->map_len = len;
	return 0;
}

void region_unmap(struct region *r)
{
	if (r->base)
		munmap(r->base - r->page_size, r->map_len);
	r->base = NULL;
}

void *ballast_map(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	populate(p, bytes, (size_t)sysconf(_SC_PAGESIZE));
	return p;
}

void ballast_unmap(void *p, size_t bytes)
{
	munmap(p, bytes);
}

size_t pattern_count(size_t npages, unsigned int pct)
{
	size_t n = npages * pct / 100;

	if (pct && !n)
		n = 1;
	return n;
}

void pattern_pages(size_t npages, size_t count, unsigned long seq,
		   uint32_t *out)
{
	size_t stride, shift;

	if (!count)
		return;
	/*
	 * Every stride-th page, shifted by one page each round: a method that
	 * fails to re-arm reports the previous round's pages as well, and the
	 * check catches it.
	 */
	stride = npages / count;
	shift = seq % stride;
	for (size_t i = 0; i < count; i++)
		out[i] = (uint32_t)(i * stride + shift);
}
