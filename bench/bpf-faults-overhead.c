// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf-faults-overhead: what libdrbpf's fault hook costs a process that
 * write-faults as fast as it can. Each round runs every mode in turn, so
 * drift hits them alike; the report is the median time per fault and its
 * ratio to the no-program median of the same run.
 *
 *   bpf-faults-overhead [-n PAGES] [-r ROUNDS] [-t THREADS] [-H HOOK]
 *
 * Modes: no program; tracked mode with this process not tracked (the cost
 * every other process pays); tracked mode with it tracked; all processes;
 * both counted modes again with per-CPU counters instead of atomics; and
 * tracked mode with the PID-namespace translation a caller outside the
 * initial namespace gets (forced here).
 * With -t 2 the threads fault on two CPUs into the same counters.
 * Run as root on an otherwise idle machine.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include "faults-priv.h"

enum mode { NONE, TRACKED_OTHER, TRACKED, ALL, TRACKED_PERCPU, ALL_PERCPU, TRACKED_PIDNS, NR_MODES };

static const char *const mode_names[NR_MODES] = {
	[NONE] = "no program",
	[TRACKED_OTHER] = "tracked mode, not tracked",
	[TRACKED] = "tracked mode, tracked",
	[ALL] = "all processes",
	[TRACKED_PERCPU] = "tracked, per-CPU counters",
	[ALL_PERCPU] = "all, per-CPU counters",
	[TRACKED_PIDNS] = "tracked, pidns translation",
};

struct run {
	char *p;
	size_t len;
	int cpu;
	pthread_barrier_t *go;
	double cpu_ns;		/* out: the thread's CPU time for its faults */
};

static size_t page_size;

/*
 * CPU time rather than wall-clock time: this machine is a VM whose vCPUs
 * get preempted, and wall-clock time then swings by a factor of two.
 */
static double thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void *fault_pages(void *arg)
{
	struct run *r = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(r->cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
	pthread_barrier_wait(r->go);
	r->cpu_ns = -thread_cpu_ns();
	for (size_t off = 0; off < r->len; off += page_size)
		((volatile char *)r->p)[off] = 1;
	r->cpu_ns += thread_cpu_ns();
	return NULL;
}

/* CPU nanoseconds per first-touch write fault over @pages fresh pages. */
static double one_round(size_t pages, int threads)
{
	size_t len = pages * page_size, share = pages / threads * page_size;
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	pthread_barrier_t go;
	struct run r[8];
	pthread_t tid[8];
	double cpu_ns = 0;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	madvise(p, len, MADV_NOHUGEPAGE);
	pthread_barrier_init(&go, NULL, threads + 1);
	for (int i = 0; i < threads; i++) {
		r[i] = (struct run){ .p = p + i * share, .len = share, .cpu = i % ncpus, .go = &go };
		pthread_create(&tid[i], NULL, fault_pages, &r[i]);
	}
	pthread_barrier_wait(&go);
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		cpu_ns += r[i].cpu_ns;
	}
	pthread_barrier_destroy(&go);
	munmap(p, len);
	return cpu_ns / (share / page_size * threads);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	size_t pages = 32768;
	int rounds = 11, threads = 1, opt;
	const char *hook = NULL;
	double *ns[NR_MODES];
	__u64 counted = 0;

	while ((opt = getopt(argc, argv, "n:r:t:H:")) != -1) {
		switch (opt) {
		case 'n':
			pages = strtoul(optarg, NULL, 0);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 't':
			threads = atoi(optarg);
			break;
		case 'H':
			hook = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-n PAGES] [-r ROUNDS] [-t THREADS (1-8)] [-H HOOK]\n",
				argv[0]);
			return 2;
		}
	}
	if (threads < 1 || threads > 8 || rounds < 1 || pages < (size_t)threads) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	for (int m = 0; m < NR_MODES; m++)
		ns[m] = calloc(rounds, sizeof(double));

	one_round(pages, threads);	/* warm up */
	for (int i = 0; i < rounds; i++) {
		for (int m = 0; m < NR_MODES; m++) {
			struct dr_faults_opts o = {
				.all_processes = m == ALL || m == ALL_PERCPU,
				.hook = hook,
			};
			struct dr_faults_test_opts t = {
				.percpu_counters = m == TRACKED_PERCPU || m == ALL_PERCPU,
				.force_pidns_walk = m == TRACKED_PIDNS,
			};
			struct dr_fault_counts c;
			struct dr_faults *f = NULL;
			char why[512];
			int err;

			if (m != NONE) {
				err = dr_faults_open_ext(&o, &t, &f, why, sizeof(why));
				if (err) {
					fprintf(stderr, "%s: %s\n", mode_names[m], why);
					return 1;
				}
				if (m == TRACKED || m == TRACKED_PERCPU || m == TRACKED_PIDNS)
					dr_faults_track(f, getpid());
			}
			ns[m][i] = one_round(pages, threads);
			if (f && !dr_faults_lookup(f, getpid(), &c))
				counted += c.np_write_faults;
			dr_faults_close(f);
		}
	}

	printf("%zu first-touch write faults per round, %d thread(s), %d rounds, hook %s\n",
	       pages, threads, rounds, hook ? hook : "(probed)");
	for (int m = 0; m < NR_MODES; m++)
		qsort(ns[m], rounds, sizeof(double), cmp_double);
	for (int m = 0; m < NR_MODES; m++) {
		double med = ns[m][rounds / 2], base = ns[NONE][rounds / 2];

		printf("  %-28s %7.1f CPU ns/fault (min %7.1f, max %7.1f)  x%.3f\n", mode_names[m],
		       med, ns[m][0], ns[m][rounds - 1], med / base);
	}
	printf("(write faults counted for this process over all rounds: %llu)\n",
	       (unsigned long long)counted);
	return 0;
}
