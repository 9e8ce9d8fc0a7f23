// SPDX-License-Identifier: GPL-2.0-only
/*
 * The API of writewatch.h: argument checks with Windows' errors, the region
 * table, the choice of backend, and one lock that serialises the calls.
 * What is written and how it is reset is the backends' business
 * (backend-pagemap.c, backend-mprotect.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "backend.h"
#include "writewatch.h"

/*
 * Best first: the first whose probe succeeds is the default. mprotect
 * always works, so userfaultfd (as dear per written page, and needing
 * privileges) is only ever used by name.
 */
static const struct ww_backend *const backends[] = {
	&ww_backend_pagemap,
	&ww_backend_mprotect,
	&ww_backend_uffd,
};

size_t ww_page_size;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static const struct ww_backend *backend;	/* under lock */
static struct ww_region regions[WW_MAX_REGIONS];
static unsigned int nslots;	/* slots ever used: lookups stop there */
static unsigned int nlive;	/* under lock */

struct ww_region *ww_region_of(uintptr_t addr)
{
	unsigned int n = __atomic_load_n(&nslots, __ATOMIC_ACQUIRE);

	for (unsigned int i = 0; i < n; i++) {
		struct ww_region *r = &regions[i];
		uintptr_t base = __atomic_load_n(&r->base, __ATOMIC_ACQUIRE);

		if (base && addr >= base && addr - base < r->npages * ww_page_size)
			return r;
	}
	return NULL;
}

static const struct ww_backend *backend_by_name(const char *name)
{
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (!strcmp(backends[i]->name, name))
			return backends[i];
	return NULL;
}

/*
 * Around fork(): no call in progress, and the backend's own locks free
 * (backend.h); the child's backend then watches the child's copies.
 */
static void fork_prepare(void)
{
	pthread_mutex_lock(&lock);
	if (backend && backend->fork_prepare)
		backend->fork_prepare();
}

static void fork_parent(void)
{
	if (backend && backend->fork_parent)
		backend->fork_parent();
	pthread_mutex_unlock(&lock);
}

static void fork_child(void)
{
	if (backend && backend->fork_child) {
		backend->fork_child(NULL);
		for (unsigned int i = 0; i < nslots; i++)
			if (regions[i].base)
				backend->fork_child(&regions[i]);
	}
	pthread_mutex_unlock(&lock);
}

static void init_once(void)
{
	ww_page_size = (size_t)sysconf(_SC_PAGESIZE);
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Under lock. */
static int select_backend(const char *name)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	const struct ww_backend *b;
	int err = ENOTSUP;

	pthread_once(&once, init_once);
	if (name) {
		b = backend_by_name(name);
		if (!b)
			return EINVAL;
		err = b->probe();
		if (!err)
			backend = b;
		return err;
	}
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		err = backends[i]->probe();
		if (!err) {
			backend = backends[i];
			return 0;
		}
	}
	return err;
}

/* Under lock: the backend, chosen now if need be. */
static int current_backend(void)
{
	const char *env;

	if (backend)
		return 0;
	env = getenv("DIRTYRATE_WW_BACKEND");
	return select_backend(env && *env ? env : NULL);
}

int ww_set_backend(const char *name)
{
	int err;

	if (!name)
		return EINVAL;
	pthread_mutex_lock(&lock);
	if (nlive)
		err = backend && !strcmp(backend->name, name) ? 0 : EBUSY;
	else
		err = select_backend(name);
	pthread_mutex_unlock(&lock);
	return err;
}

const char *ww_backend(void)
{
	const char *name;

	pthread_mutex_lock(&lock);
	name = current_backend() ? NULL : backend->name;
	pthread_mutex_unlock(&lock);
	return name;
}

/*
 * A region sits between two PROT_NONE guard pages, so that it never merges
 * with a neighbouring mapping: a merge with a fresh mapping would make the
 * kernel report all of it as written once, and mprotect() of a page at its
 * edge would change a neighbour's VMA.
 */
void *ww_alloc(size_t size)
{
	struct ww_region *r = NULL;
	size_t npages, len;
	char *g, *p;
	int err;

	if (!size) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&lock);
	err = current_backend();
	if (err)
		goto fail;
	npages = size / ww_page_size + !!(size % ww_page_size);
	if (npages > SIZE_MAX / ww_page_size - 2) {
		err = ENOMEM;
		goto fail;
	}
	for (unsigned int i = 0; i < WW_MAX_REGIONS && !r; i++)
		if (!regions[i].base && !regions[i].npages)
			r = &regions[i];
	if (!r) {
		err = ENOSPC;
		goto fail;
	}
	len = (npages + 2) * ww_page_size;
	g = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g == MAP_FAILED) {
		err = errno;
		goto fail;
	}
	p = mmap(g + ww_page_size, npages * ww_page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (p == MAP_FAILED) {
		err = errno;
		munmap(g, len);
		goto fail;
	}
	r->npages = npages;
	r->backend = backend;
	r->priv = NULL;
	err = backend->watch(r, (uintptr_t)p);
	if (err) {
		r->npages = 0;
		munmap(g, len);
		goto fail;
	}
	if (r - regions >= (long)nslots)
		__atomic_store_n(&nslots, (unsigned int)(r - regions) + 1, __ATOMIC_RELEASE);
	__atomic_store_n(&r->base, (uintptr_t)p, __ATOMIC_RELEASE);
	nlive++;
	pthread_mutex_unlock(&lock);
	return p;
fail:
	pthread_mutex_unlock(&lock);
	errno = err;
	return NULL;
}

/* Under lock: the live region that starts exactly at base. */
static struct ww_region *region_at(uintptr_t base)
{
	for (unsigned int i = 0; i < nslots; i++)
		if (base && regions[i].base == base)
			return &regions[i];
	return NULL;
}

int ww_free(void *base)
{
	struct ww_region *r;

	pthread_mutex_lock(&lock);
	r = region_at((uintptr_t)base);
	if (!r) {
		pthread_mutex_unlock(&lock);
		return EINVAL;
	}
	__atomic_store_n(&r->base, 0, __ATOMIC_RELEASE);
	backend->unwatch(r);
	munmap((char *)base - ww_page_size, (r->npages + 2) * ww_page_size);
	/* The slot is free once npages is 0 too: ww_alloc() looks at both. */
	r->npages = 0;
	r->priv = NULL;
	nlive--;
	pthread_mutex_unlock(&lock);
	return 0;
}

/*
 * Under lock: the region holding the pages of [addr, addr + size), widened
 * to whole pages as Windows does, and the first page and the number of
 * pages in it; NULL if that is not inside one region.
 */
static struct ww_region *range_to_pages(void *addr, size_t size,
					size_t *first, size_t *npages)
{
	uintptr_t a = (uintptr_t)addr, start, end;
	struct ww_region *r;

	if (!size || size > UINTPTR_MAX - a || !ww_page_size)
		return NULL;
	start = a & ~(uintptr_t)(ww_page_size - 1);
	end = a + size;
	r = ww_region_of(start);
	if (!r || end - r->base > r->npages * ww_page_size)
		return NULL;
	*first = (start - r->base) / ww_page_size;
	*npages = (end - start + ww_page_size - 1) / ww_page_size;
	return r;
}

int ww_get_write_watch(unsigned int flags, void *base, size_t size,
		       void **addresses, uintptr_t *count,
		       unsigned long *granularity)
{
	struct ww_region *r;
	size_t first, npages, n;
	int err;

	/* In Windows' (and Wine's) order: NULL pointers, then values. */
	if (!count || !granularity)
		return EFAULT;
	if (!*count || !size || (flags & ~WW_RESET))
		return EINVAL;
	if (!addresses)
		return EFAULT;
	pthread_mutex_lock(&lock);
	r = range_to_pages(base, size, &first, &npages);
	if (!r) {
		pthread_mutex_unlock(&lock);
		return EINVAL;
	}
	n = *count < npages ? (size_t)*count : npages;
	err = backend->get(r, first, npages, addresses, &n, flags & WW_RESET);
	pthread_mutex_unlock(&lock);
	if (err)
		return err;
	*count = n;
	*granularity = ww_page_size;
	return 0;
}

int ww_reset_write_watch(void *base, size_t size)
{
	struct ww_region *r;
	size_t first, npages;
	int err;

	pthread_mutex_lock(&lock);
	r = range_to_pages(base, size, &first, &npages);
	err = r ? backend->reset(r, first, npages) : EINVAL;
	pthread_mutex_unlock(&lock);
	return err;
}
