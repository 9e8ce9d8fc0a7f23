/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User-space copy of the soft-dirty pagemap ioctl uapi added by
 * kernel/patches (include/uapi/linux/fs.h there). It lets dirtyrate build
 * on systems whose <linux/fs.h> predates the series; where the installed
 * headers already carry it, theirs win.
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
 * soft-dirty (pages with a page table entry there still do)
 */
#define PAGEMAP_SD_NO_REUSED_REGIONS	(1 << 0)

#endif /* PAGEMAP_SD_GET */

#endif /* DIRTYRATE_PAGEMAP_SD_H */
