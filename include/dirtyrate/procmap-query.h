/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * PROCMAP_QUERY, the ioctl on /proc/PID/maps that returns one VMA as a
 * struct instead of text (Linux 6.11). Debian 12's <linux/fs.h> (6.1)
 * predates it, so this copies the part of the uapi dirtyrated uses; where
 * the installed headers carry it, theirs win. A kernel without it answers
 * ENOTTY, and the daemon falls back to reading the text.
 */
#ifndef DIRTYRATE_PROCMAP_QUERY_H
#define DIRTYRATE_PROCMAP_QUERY_H

#include <linux/fs.h>
#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef PROCMAP_QUERY

#define PROCFS_IOCTL_MAGIC 'f'

enum procmap_query_flags {
	PROCMAP_QUERY_VMA_READABLE		= 0x01,
	PROCMAP_QUERY_VMA_WRITABLE		= 0x02,
	PROCMAP_QUERY_VMA_EXECUTABLE		= 0x04,
	PROCMAP_QUERY_VMA_SHARED		= 0x08,
	PROCMAP_QUERY_COVERING_OR_NEXT_VMA	= 0x10,
	PROCMAP_QUERY_FILE_BACKED_VMA		= 0x20,
};

struct procmap_query {
	__u64 size;		/* sizeof(struct procmap_query), in */
	__u64 query_flags;	/* enum procmap_query_flags, in */
	__u64 query_addr;	/* in */
	__u64 vma_start;	/* out */
	__u64 vma_end;		/* out */
	__u64 vma_flags;	/* out: PROCMAP_QUERY_VMA_* */
	__u64 vma_page_size;	/* out */
	__u64 vma_offset;	/* out */
	__u64 inode;		/* out */
	__u32 dev_major;	/* out */
	__u32 dev_minor;	/* out */
	__u32 vma_name_size;	/* in/out: 0 = no name wanted */
	__u32 build_id_size;	/* in/out: 0 = no build ID wanted */
	__u64 vma_name_addr;	/* in */
	__u64 build_id_addr;	/* in */
};

#define PROCMAP_QUERY _IOWR(PROCFS_IOCTL_MAGIC, 17, struct procmap_query)

#endif /* PROCMAP_QUERY */
#endif /* DIRTYRATE_PROCMAP_QUERY_H */
