/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A forked process that makes page faults on command, one operation at a
 * time, so a test can read its BPF counters right before and right after.
 */
#ifndef DIRTYRATE_BPF_TEST_WORKER_H
#define DIRTYRATE_BPF_TEST_WORKER_H

#include <stddef.h>
#include <sys/types.h>

enum worker_op {
	OP_NOP,			/* round trip only */
	OP_TOUCH,		/* map n fresh pages (the region), write each once */
	OP_READ,		/* map n fresh pages, read each once: zero page */
	OP_WRITE,		/* write each page of the region again */
	OP_FORK_HOLD,		/* fork a child that holds the region (for COW) */
	OP_PROTECT_TRAP,	/* PROT_READ the region, then write each page; the
				 * SIGSEGV handler makes the page writable again */
	OP_THREADS,		/* two threads, on CPUs 0 and 1, each touch n/2 fresh pages */
	OP_THREAD_EXIT,		/* a thread touches n fresh pages and exits */
	OP_SD_CLEAR,		/* PAGEMAP_SD_CLEAR of the region on /proc/self/pagemap */
	OP_SD_GET_CLEAR,	/* PAGEMAP_SD_GET_AND_CLEAR of it: result = pages reported */
	OP_CLEAR_REFS,		/* echo 4 > /proc/self/clear_refs */
	OP_PROC_SELF,		/* result = the pid /proc/self names: ours in the
				 * namespace of the mounted /proc, which may not be
				 * the one we run in */
	OP_EXIT,
};

struct worker_reply {
	long minflt;		/* getrusage() minor faults during the operation */
	long result;		/* 0 or an op's result; -errno on failure */
	unsigned long addr;	/* the region, in the worker's address space */
	unsigned long len;
};

struct worker {
	pid_t pid;
	int cmd_fd, reply_fd;
};

/* Fork a worker and wait until it is ready (its startup faults are over). */
int worker_start(struct worker *w);
/* Run one operation; 0 and *r filled, or -errno if the worker is gone. */
int worker_do(struct worker *w, enum worker_op op, int n, struct worker_reply *r);
/* OP_EXIT and reap; 0 if it exited cleanly. */
int worker_stop(struct worker *w);

/* A PAGEMAP_SD_* ioctl on /proc/PID/pagemap (0: self) over [addr, +len):
 * its result or -errno. */
long proc_pagemap_sd(pid_t pid, unsigned long cmd, void *addr, size_t len);
/* echo 4 > /proc/PID/clear_refs (0: self): 0 or -errno. */
long proc_clear_refs(pid_t pid);

#endif /* DIRTYRATE_BPF_TEST_WORKER_H */
