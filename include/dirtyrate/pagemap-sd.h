/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * User-space copy of the soft-dirty pagemap ioctl uapi added by
 * kernel/patches (include/uapi/linux/fs.h there). It lets dirtyrate build
 * on systems whose <linux/fs.h> predates the series; where the installed
 * headers already carry it, theirs win.
 *
 * The layout deliberately keeps the 2022 v2 series' field types (int lengths,
 * loff_t offsets) so that code written against that series, which does
 *	arg.vec = (loff_t *)buf;
 * compiles unchanged and warning-free.
 */
#ifndef DIRTYRATE_PAGEMAP_SD_H
#define DIRTYRATE_PAGEMAP_SD_H

#include <sys/types.h>		/* loff_t */
#include <linux/fs.h>
#include <linux/ioctl.h>

#ifndef PAGEMAP_SD_GET

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
	loff_t *vec;
	int vec_len;
	int flags;
};

#define PAGEMAP_SD_GET			_IOWR('f', 16, struct pagemap_sd_args)
#define PAGEMAP_SD_CLEAR		_IOWR('f', 17, struct pagemap_sd_args)
#define PAGEMAP_SD_GET_AND_CLEAR	_IOWR('f', 18, struct pagemap_sd_args)

/* Only the per-page soft-dirty bit counts, not VM_SOFTDIRTY of new mappings. */
#define PAGEMAP_SD_NO_REUSED_REGIONS	0x1

#endif /* PAGEMAP_SD_GET */

#endif /* DIRTYRATE_PAGEMAP_SD_H */
