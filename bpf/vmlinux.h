/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hand-written, minimal stand-in for a bpftool-generated vmlinux.h: only the
 * kernel-internal types and constants faults.bpf.c reads. Every struct is
 * marked preserve_access_index, so clang emits CO-RE relocations and libbpf
 * resolves the real field offsets against the running kernel's BTF at load
 * time; the layouts below need only name the fields, not match the kernel.
 * UAPI types (__u64, enum bpf_map_type, BPF_ANY, ...) come from the kernel's
 * uapi headers (linux-libc-dev), which are stable by definition.
 * See bpf/README.md for why this instead of a generated header.
 */
#ifndef __VMLINUX_H__
#define __VMLINUX_H__

#include <linux/types.h>
#include <linux/bpf.h>

/* C types a generated vmlinux.h would carry. */
typedef _Bool bool;
enum { false = 0, true = 1 };
typedef int pid_t;

#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)

typedef struct {
	int counter;
} atomic_t;

/* The PID namespace's inode number: what stat() of /proc/PID/ns/pid says. */
struct ns_common {
	unsigned int inum;
};

struct pid_namespace {
	struct ns_common ns;
};

/* A process's number in one PID namespace. */
struct upid {
	int nr;
	struct pid_namespace *ns;
};

/* numbers[0..level]: the process's number in each namespace, initial one first. */
struct pid {
	unsigned int level;
	struct upid numbers[1];
};

/* include/linux/pid_types.h; unchanged since it was introduced (4.19). */
enum pid_type {
	PIDTYPE_PID,
	PIDTYPE_TGID,
	PIDTYPE_PGID,
	PIDTYPE_SID,
	PIDTYPE_MAX,
};

/*
 * signal->live: threads of the group that have not yet passed do_exit().
 * signal->pids[PIDTYPE_TGID]: the thread group's struct pid (task_tgid()).
 */
struct signal_struct {
	atomic_t live;
	struct pid *pids[PIDTYPE_MAX];
};

struct task_struct {
	int tgid;
	struct signal_struct *signal;
};

struct vm_area_struct;
struct pt_regs;

/* What an iter/task program is handed. */
struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	__u64 session_id;
	__u64 seq_num;
};

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

#pragma clang attribute pop

/*
 * mm/internal flags, as in include/linux/mm_types.h. Read them with
 * bpf_core_enum_value(): the numbers here are only a fallback for clang,
 * the values used are the running kernel's.
 */
enum fault_flag {
	FAULT_FLAG_WRITE = 1 << 0,
	FAULT_FLAG_USER = 1 << 6,
};

enum vm_fault_reason {
	VM_FAULT_RETRY = 0x000400,
};

/* x86 page fault error code: hardware-defined, so plain constants. */
#define X86_PF_PROT	(1UL << 0)	/* page was present (protection fault) */
#define X86_PF_WRITE	(1UL << 1)	/* write access */
#define X86_PF_USER	(1UL << 2)	/* from user mode */

#endif /* __VMLINUX_H__ */
