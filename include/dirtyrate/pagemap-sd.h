/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User-space copy of the pagemap ioctl uapi dirtyrate uses: upstream's
 * PAGEMAP_SCAN (Linux 6.7), the PM_SCAN_CLEAR_SOFT_DIRTY flag and the
 * PAGEMAP_SD_* commands added by kernel/patches (include/uapi/linux/fs.h
 * there). It lets dirtyrate build on systems whose <linux/fs.h> predates
 * them (Debian 12's is 6.1's); where the installed headers carry a part,
 * theirs win.
 *
 * The offsets are loff_t, as in the 2022 v2 series, so that code written
 * against it, which does
 *	arg.vec = (loff_t *)buf;
 * compiles unchanged and warning-free. User space's loff_t is long on 64-bit
 * and long long on 32-bit; like the kernel's header, this spells it without
 * needing <sys/types.h> (and so also compiles in strict ISO C modes).
 */
#ifndef DIRTYRATE_PAGEMAP_SD_H
#define DIRTYRATE_PAGEMAP_SD_H

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef PAGEMAP_SCAN
#define PAGEMAP_SCAN		_IOWR('f', 16, struct pm_scan_arg)

#define PAGE_IS_WPALLOWED	(1 << 0)
#define PAGE_IS_WRITTEN		(1 << 1)
#define PAGE_IS_FILE		(1 << 2)
#define PAGE_IS_PRESENT		(1 << 3)
#define PAGE_IS_SWAPPED		(1 << 4)
#define PAGE_IS_PFNZERO		(1 << 5)
#define PAGE_IS_HUGE		(1 << 6)
#define PAGE_IS_SOFT_DIRTY	(1 << 7)

struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

#define PM_SCAN_WP_MATCHING	(1 << 0)
#define PM_SCAN_CHECK_WPASYNC	(1 << 1)

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};
#endif /* PAGEMAP_SCAN */

/*
 * PAGEMAP_SCAN clears the soft-dirty state of the pages it reports; the masks
 * must select soft-dirty pages only (kernel/README.md). A kernel without it
 * fails the call with EINVAL.
 */
#ifndef PM_SCAN_CLEAR_SOFT_DIRTY
#define PM_SCAN_CLEAR_SOFT_DIRTY	(1 << 2)
#endif

#ifndef PAGEMAP_SD_GET

#if __BITS_PER_LONG == 64
typedef __kernel_long_t __pagemap_sd_loff_t;
#else
typedef __kernel_loff_t __pagemap_sd_loff_t;
#endif

/**
 * struct pagemap_sd_args - argument of the PAGEMAP_SD_* ioctls
 * @start:	first byte of the range, page aligned
 * @len:	length of the range in bytes (> 0, rounded up to a page)
 * @vec:	output: byte offsets from @start of soft-dirty pages, ascending
 * @vec_len:	capacity of @vec in entries (GET and GET_AND_CLEAR)
 * @flags:	PAGEMAP_SD_* flags
 */
struct pagemap_sd_args {
	void *start;
	int len;
	__pagemap_sd_loff_t *vec;
	int vec_len;
	int flags;
};

#define PAGEMAP_SD_GET			_IOWR('f', 16, struct pagemap_sd_args)
#define PAGEMAP_SD_CLEAR		_IOWR('f', 17, struct pagemap_sd_args)
#define PAGEMAP_SD_GET_AND_CLEAR	_IOWR('f', 18, struct pagemap_sd_args)

/*
 * Pages of a new or reused mapping that were never touched do not count as
 * soft-dirty (pages with a page table entry there still do, and in a shared
 * mapping the pages the page cache holds)
 */
#define PAGEMAP_SD_NO_REUSED_REGIONS	(1 << 0)

#endif /* PAGEMAP_SD_GET */

#endif /* DIRTYRATE_PAGEMAP_SD_H */
