/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Windows' write watches for Linux programs: GetWriteWatch() and
 * ResetWriteWatch() over memory allocated with ww_alloc(), the equivalent of
 * VirtualAlloc(NULL, size, MEM_RESERVE | MEM_COMMIT | MEM_WRITE_WATCH,
 * PAGE_READWRITE).
 *
 * Semantics (Windows' as documented, and as Wine's conformance tests in
 * dlls/kernel32/tests/virtual.c check them):
 *
 *  - A page is "written" from the first write to it after it was reset, by
 *    the program or by the kernel on its behalf (read(2) into the region:
 *    see the mprotect backend's limit in README.md), until it is reset
 *    again. A fresh region has no written page.
 *  - Addresses are reported page aligned, in ascending order. The range
 *    asked about is widened to whole pages: [base rounded down, base + size
 *    rounded up).
 *  - *count is in/out: the capacity of addresses[] on entry, the number
 *    reported on return. With more written pages than that, the first
 *    *count of them (lowest addresses) are reported; with WW_RESET exactly
 *    those are reset and the others stay written for the next call.
 *  - WW_RESET reports and resets atomically per page: a write that races
 *    with the call is reported by this call or by a later one, never lost.
 *  - The whole range must lie inside one region from ww_alloc().
 *
 * Errors are returned, not set in errno (as pthread functions do), and map
 * onto Windows' error codes:
 *
 *   0       success (Windows: 0)
 *   EINVAL  ERROR_INVALID_PARAMETER: size 0, *count 0, unknown flags, a range
 *           not inside one write-watched region (NULL, memory not from
 *           ww_alloc(), a freed region, a range that runs past the region)
 *   EFAULT  ERROR_NOACCESS: count, granularity or addresses is NULL
 *   other   the backend's failure (an errno of mprotect(2) or the pagemap
 *           ioctl, e.g. ENOMEM); nothing has been reset
 *
 * Thread safety: every function may be called from any thread; writes to
 * watched memory may happen in any thread at any time. Calls on one process
 * are serialised internally.
 *
 * Backends: the kernel's PAGEMAP_SD_GET_AND_CLEAR ioctl ("pagemap-ioctl")
 * where it exists, else read-only pages and a SIGSEGV handler ("mprotect"),
 * as Wine does; userfaultfd write-protection with a handler thread
 * ("userfaultfd") only when named. The first ww_alloc() picks the best one,
 * or the one named by the environment variable DIRTYRATE_WW_BACKEND, or by
 * ww_set_backend().
 */
#ifndef DIRTYRATE_WRITEWATCH_H
#define DIRTYRATE_WRITEWATCH_H

#include <stddef.h>
#include <stdint.h>

/* GetWriteWatch()'s WRITE_WATCH_FLAG_RESET: reset the pages reported. */
#define WW_RESET	0x1u

/*
 * Allocate size bytes (rounded up to whole pages) of zeroed, readable and
 * writable, write-watched memory. Returns NULL with errno set: EINVAL for
 * size 0, ENOMEM, ENOSPC when WW_MAX_REGIONS regions exist, or why the
 * backend chosen by DIRTYRATE_WW_BACKEND cannot be used (see
 * ww_set_backend()).
 *
 * Do not mprotect(2), mremap(2) or munmap(2) the region yourself: the
 * mprotect backend owns its protections. The userfaultfd backend populates
 * the region (write-protection needs the pages to exist).
 */
void *ww_alloc(size_t size);

/* Free a region; base must be what ww_alloc() returned. 0 or EINVAL. */
int ww_free(void *base);

/*
 * GetWriteWatch(flags, base, size, addresses, count, granularity).
 * flags: 0 or WW_RESET. *granularity is set to the page size.
 */
int ww_get_write_watch(unsigned int flags, void *base, size_t size,
		       void **addresses, uintptr_t *count,
		       unsigned long *granularity);

/* ResetWriteWatch(base, size): every page of the range is not written. */
int ww_reset_write_watch(void *base, size_t size);

/*
 * Use the backend called name ("pagemap-ioctl", "mprotect" or
 * "userfaultfd") from now on. Only while no region exists. Returns 0,
 * EINVAL for an unknown name, EBUSY while regions exist, or why that
 * backend cannot work here (pagemap-ioctl: ENOTTY, the kernel has no
 * soft-dirty pagemap ioctls, EOPNOTSUPP, no soft-dirty; userfaultfd:
 * EOPNOTSUPP, no write-protection, EPERM, not privileged).
 */
int ww_set_backend(const char *name);

/* The backend in use (choosing it now if none was yet), or NULL if none works. */
const char *ww_backend(void);

/* How many regions may exist at a time. */
#define WW_MAX_REGIONS	256

#endif /* DIRTYRATE_WRITEWATCH_H */
