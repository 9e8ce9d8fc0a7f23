// SPDX-License-Identifier: GPL-2.0-only
/*
 * random-page-cost: what reading a random 4 KiB page costs on this machine,
 * the unit of page-sampling's work. A child shares 256 MiB, written once;
 * each round reads 1100 random pages of it with process_vm_readv() (as the
 * daemon does) and copies 1100 others with memcpy() in-process, then sleeps
 * a second, as the daemon's interval does. Output: random-page-cost.txt.
 *
 *   gcc -O2 -o random-page-cost random-page-cost.c && ./random-page-cost
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1e9 + t.tv_nsec; }
int main(void)
{
	size_t sz = 256UL << 20, np = sz / 4096, n = 1100;
	char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(p, 1, sz);
	pid_t c = fork();
	if (!c) { for (;;) pause(); }
	static char buf[4096];
	for (int round = 0; round < 5; round++) {
		double t0 = now();
		for (size_t i = 0; i < n; i++) {
			struct iovec l = { buf, 4096 }, r = { p + (random() % np) * 4096, 4096 };
			if (process_vm_readv(c, &l, 1, &r, 1, 0) != 4096) { perror("pvr"); return 1; }
		}
		double t1 = now();
		for (size_t i = 0; i < n; i++)
			memcpy(buf, p + (random() % np) * 4096, 4096);
		double t2 = now();
		printf("process_vm_readv %.2f us/page, memcpy %.2f us/page\n", (t1 - t0) / n / 1000, (t2 - t1) / n / 1000);
		sleep(1);
	}
	kill(c, SIGKILL);
	return 0;
}
