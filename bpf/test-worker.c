// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <dirtyrate/pagemap-sd.h>

#include "test-worker.h"

struct cmd {
	int op, n;
};

/* The worker's state: one region of pages at a time. */
static char *region;
static size_t region_len, page_size;
static pid_t holder;		/* OP_FORK_HOLD's child */

static void drop_holder(void)
{
	if (holder > 0) {
		kill(holder, SIGKILL);
		waitpid(holder, NULL, 0);
		holder = 0;
	}
}

/* A fresh region of @n pages that THP cannot fill in one fault. */
static int new_region(int n)
{
	if (region)
		munmap(region, region_len);
	region_len = (size_t)n * page_size;
	region = mmap(NULL, region_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED) {
		region = NULL;
		return -errno;
	}
	madvise(region, region_len, MADV_NOHUGEPAGE);
	return 0;
}

static void write_pages(char *p, size_t len)
{
	for (size_t off = 0; off < len; off += page_size)
		((volatile char *)p)[off] = 1;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	char *page = (char *)((uintptr_t)si->si_addr & ~(page_size - 1));

	if (page < region || page >= region + region_len) {
		signal(SIGSEGV, SIG_DFL);	/* a real crash: let it happen */
		return;
	}
	mprotect(page, page_size, PROT_READ | PROT_WRITE);
}

static int protect_trap(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };

	if (sigaction(SIGSEGV, &sa, NULL) || mprotect(region, region_len, PROT_READ))
		return -errno;
	write_pages(region, region_len);
	return 0;
}

struct toucher {
	int cpu;
	char *p;
	size_t len;
};

static void *touch_thread(void *arg)
{
	struct toucher *t = arg;
	cpu_set_t set;

	if (t->cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		sched_setaffinity(0, sizeof(set), &set);	/* best effort */
	}
	write_pages(t->p, t->len);
	return NULL;
}

static int touch_in_threads(int n, int nthreads)
{
	struct toucher t[2];
	pthread_t tid[2];
	int err = new_region(n);

	for (int i = 0; !err && i < nthreads; i++) {
		size_t half = region_len / nthreads / page_size * page_size;

		t[i] = (struct toucher){
			.cpu = nthreads > 1 ? i % (int)sysconf(_SC_NPROCESSORS_ONLN) : -1,
			.p = region + i * half,
			.len = i == nthreads - 1 ? region_len - i * half : half,
		};
		err = -pthread_create(&tid[i], NULL, touch_thread, &t[i]);
		if (err)
			nthreads = i;
	}
	for (int i = 0; i < nthreads; i++)
		pthread_join(tid[i], NULL);
	return err;
}

static int open_proc(pid_t pid, const char *file, int flags)
{
	char path[64];

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	else
		snprintf(path, sizeof(path), "/proc/self/%s", file);
	return open(path, flags | O_CLOEXEC);
}

long proc_pagemap_sd(pid_t pid, unsigned long cmd, void *addr, size_t len)
{
	struct pagemap_sd_args args = {
		.start = addr, .len = len,
		.vec_len = len / sysconf(_SC_PAGESIZE),
	};
	long ret = -ENOMEM;
	int fd;

	if (cmd != PAGEMAP_SD_CLEAR)
		args.vec = calloc(args.vec_len, sizeof(*args.vec));
	fd = open_proc(pid, "pagemap", O_RDONLY);
	if (fd < 0)
		ret = -errno;
	else if ((args.vec || cmd == PAGEMAP_SD_CLEAR) && (ret = ioctl(fd, cmd, &args)) < 0)
		ret = -errno;
	free(args.vec);
	if (fd >= 0)
		close(fd);
	return ret;
}

long proc_clear_refs(pid_t pid)
{
	int fd = open_proc(pid, "clear_refs", O_WRONLY);
	long ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, "4", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

static long run(int op, int n)
{
	switch (op) {
	case OP_NOP:
		return 0;
	case OP_TOUCH: {
		int err = new_region(n);

		if (!err)
			write_pages(region, region_len);
		return err;
	}
	case OP_READ: {
		int err = new_region(n);

		for (size_t off = 0; !err && off < region_len; off += page_size)
			(void)((volatile char *)region)[off];
		return err;
	}
	case OP_WRITE:
		write_pages(region, region_len);
		return 0;
	case OP_FORK_HOLD:
		drop_holder();
		holder = fork();
		if (holder == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
		return holder < 0 ? -errno : 0;
	case OP_PROTECT_TRAP:
		return protect_trap();
	case OP_THREADS:
		return touch_in_threads(n, 2);
	case OP_THREAD_EXIT:
		return touch_in_threads(n, 1);
	case OP_SD_CLEAR:
		return proc_pagemap_sd(0, PAGEMAP_SD_CLEAR, region, region_len);
	case OP_SD_GET_CLEAR:
		return proc_pagemap_sd(0, PAGEMAP_SD_GET_AND_CLEAR, region, region_len);
	case OP_CLEAR_REFS:
		return proc_clear_refs(0);
	case OP_PROC_SELF: {
		char link[32];
		ssize_t len = readlink("/proc/self", link, sizeof(link) - 1);

		if (len < 0)
			return -errno;
		link[len] = '\0';
		return atol(link);
	}
	case OP_EXIT:
		drop_holder();
		return 0;
	default:
		return -EINVAL;
	}
}

static void __attribute__((noreturn)) worker_main(int cmd_fd, int reply_fd)
{
	struct worker_reply rep = { 0 };
	char stack[64 << 10];
	struct cmd c;

	/*
	 * Take now, not inside a measured operation, the faults every
	 * operation would take first: COW of the stack and of libc's data
	 * (malloc, getrusage) that fork() left write-protected.
	 */
	memset(stack, 0, sizeof(stack));
	__asm__ volatile("" : : "r"(stack) : "memory");
	free(malloc(64));
	getrusage(RUSAGE_SELF, &(struct rusage){ 0 });
	page_size = sysconf(_SC_PAGESIZE);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (write(reply_fd, &rep, sizeof(rep)) != sizeof(rep))
		_exit(1);

	while (read(cmd_fd, &c, sizeof(c)) == sizeof(c)) {
		struct rusage before, after;

		getrusage(RUSAGE_SELF, &before);
		rep.result = run(c.op, c.n);
		getrusage(RUSAGE_SELF, &after);
		rep.minflt = after.ru_minflt - before.ru_minflt;
		rep.addr = (unsigned long)region;
		rep.len = region_len;
		if (write(reply_fd, &rep, sizeof(rep)) != sizeof(rep) || c.op == OP_EXIT)
			_exit(c.op == OP_EXIT ? 0 : 1);
	}
	_exit(1);
}

int worker_start(struct worker *w)
{
	struct worker_reply ready;
	int to_worker[2], from_worker[2];

	if (pipe2(to_worker, O_CLOEXEC))
		return -errno;
	if (pipe2(from_worker, O_CLOEXEC)) {
		close(to_worker[0]);
		close(to_worker[1]);
		return -errno;
	}
	w->pid = fork();
	if (w->pid == 0) {
		close(to_worker[1]);
		close(from_worker[0]);
		worker_main(to_worker[0], from_worker[1]);
	}
	close(to_worker[0]);
	close(from_worker[1]);
	w->cmd_fd = to_worker[1];
	w->reply_fd = from_worker[0];
	if (w->pid < 0 || read(w->reply_fd, &ready, sizeof(ready)) != sizeof(ready)) {
		int err = w->pid < 0 ? -errno : -ECHILD;

		worker_stop(w);
		return err;
	}
	return 0;
}

int worker_do(struct worker *w, enum worker_op op, int n, struct worker_reply *r)
{
	struct cmd c = { .op = op, .n = n };

	if (write(w->cmd_fd, &c, sizeof(c)) != sizeof(c) ||
	    read(w->reply_fd, r, sizeof(*r)) != sizeof(*r))
		return -EPIPE;
	return 0;
}

int worker_stop(struct worker *w)
{
	struct worker_reply r;
	int status = -1;

	if (w->pid > 0) {
		worker_do(w, OP_EXIT, 0, &r);
		waitpid(w->pid, &status, 0);
	}
	close(w->cmd_fd);
	close(w->reply_fd);
	w->pid = 0;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}
