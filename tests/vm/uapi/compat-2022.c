// SPDX-License-Identifier: GPL-2.0-only
/*
 * User space of the 2022 soft-dirty series fills the ioctl's argument like
 * this. It must keep compiling, without a warning, against the uapi headers
 * of our kernel series (<linux/fs.h> from `make headers_install`).
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <linux/fs.h>

long sd_get_and_clear(int fd, void *start, int len, loff_t *buf, int n);

long sd_get_and_clear(int fd, void *start, int len, loff_t *buf, int n)
{
	struct pagemap_sd_args arg;

	arg.start = start;
	arg.len = len;
	arg.vec = (loff_t *)buf;
	arg.vec_len = n;
	arg.flags = PAGEMAP_SD_NO_REUSED_REGIONS;
	return ioctl(fd, PAGEMAP_SD_GET_AND_CLEAR, &arg);
}
