// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf-faults-overhead: what libdrbpf's fault hook costs a process that
 * write-faults as fast as it can. Each round runs every mode once, starting
 * from a different mode each round, so drift and position hit them alike;
 * the report is the median CPU time per fault, the median of the per-round
 * ratios to the no-program time of the same round, and their quartiles,
 * and the median of the per-round differences to the empty program (the
 * floor), which is what the counting itself costs.
 *
 *   bpf-faults-overhead [-w fresh|wp] [-n PAGES] [-r ROUNDS] [-t THREADS] [-H HOOK] [-S]
 *
 * -S also reports each program's own run time per run (BPF_ENABLE_STATS,
 * for the whole system while this runs): the code's cost without what the
 * tracepoint costs anyway, and much steadier on a shared machine than the
 * CPU time per fault. The statistics' own clock reads slow every mode's
 * faults alike; the CPU times of a run with -S are not the plain ones.
 *
 * Workloads (-w):
 *   fresh  first-touch writes to fresh anonymous pages (a not-present
 *          write fault each: allocate, zero, map);
 *   wp     writes to populated pages that were write-protected with
 *          userfaultfd in async mode (PAGEMAP_SCAN + PM_SCAN_WP_MATCHING):
 *          a write-protect fault each that the kernel resolves itself by
 *          making the PTE writable again, the same path shape as a write
 *          after a soft-dirty clear, which this host kernel does not have.
 * With -t N the threads fault on all CPUs, counted as one process.
 *
 * Modes: no program; an empty program on the same tracepoint (the floor any
 * hook there costs; tp_btf only); tracked mode with this process not
 * tracked (the cost every other process pays); tracked mode with it
 * tracked; tracked mode with its fault counters in one stripe, shared by
 * all CPUs (as before they were striped); all processes; both counted
 * modes with per-CPU counters instead of atomics; tracked mode with the PID-namespace translation a caller
 * outside the initial namespace gets (forced here); and tracked mode finding
 * the counters by tgid in a hash, as where the slot index cannot be used.
 * Run as root.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "faults-priv.h"
#include "tracking/uapi.h"	/* PAGEMAP_SCAN and uffd WP_ASYNC for 6.1 headers */

enum mode {
	NONE, EMPTY, TRACKED_OTHER, TRACKED, TRACKED_ONE_STRIPE, ALL, TRACKED_PERCPU, ALL_PERCPU,
	TRACKED_PIDNS, TRACKED_HASH, NR_MODES
};

static const char *const mode_names[NR_MODES] = {
	[NONE] = "no program",
	[EMPTY] = "empty program (floor)",
	[TRACKED_OTHER] = "tracked mode, not tracked",
	[TRACKED] = "tracked mode, tracked",
	[TRACKED_ONE_STRIPE] = "tracked, one stripe",
	[ALL] = "all processes",
	[TRACKED_PERCPU] = "tracked, per-CPU counters",
	[ALL_PERCPU] = "all, per-CPU counters",
	[TRACKED_PIDNS] = "tracked, pidns translation",
	[TRACKED_HASH] = "tracked, hash (no index)",
};

enum workload { FRESH, WP };

struct run {
	char *p;
	size_t len;
	int cpu;
	pthread_barrier_t *go;
	double cpu_ns;		/* out: the thread's CPU time for its faults */
};

static size_t page_size;
static enum workload workload = FRESH;

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

static void *write_pages(void *arg)
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

/*
 * Populates [p, p+len) and write-protects it with userfaultfd in async
 * mode, so that the next write to each page is a write-protect fault the
 * kernel resolves by itself. Returns the uffd (closing it unregisters).
 */
static int write_protect(char *p, size_t len)
{
	struct uffdio_api api = { .api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC };
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)p, .len = len },
		.mode = UFFDIO_REGISTER_MODE_WP,
	};
	struct pm_scan_arg scan = {
		.size = sizeof(scan),
		.flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		.start = (uintptr_t)p,
		.end = (uintptr_t)p + len,
		.category_mask = PAGE_IS_WRITTEN,
		.return_mask = PAGE_IS_WRITTEN,
	};
	static int pagemap = -1;
	int uffd;

	memset(p, 1, len);
	if (pagemap < 0)
		pagemap = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (pagemap < 0 || uffd < 0 || ioctl(uffd, UFFDIO_API, &api) ||
	    ioctl(uffd, UFFDIO_REGISTER, &reg) || ioctl(pagemap, PAGEMAP_SCAN, &scan) < 0) {
		perror("bpf-faults-overhead: userfaultfd WP_ASYNC write-protection");
		exit(1);
	}
	return uffd;
}

/* CPU nanoseconds per write fault over @pages pages, @threads writing. */
static double one_round(size_t pages, int threads)
{
	size_t len = pages * page_size, share = pages / threads * page_size;
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN), uffd = -1;
	pthread_barrier_t go;
	struct run r[8];
	pthread_t tid[8];
	double cpu_ns = 0;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	madvise(p, len, MADV_NOHUGEPAGE);
	if (workload == WP)
		uffd = write_protect(p, len);
	pthread_barrier_init(&go, NULL, threads + 1);
	for (int i = 0; i < threads; i++) {
		r[i] = (struct run){ .p = p + i * share, .len = share, .cpu = i % ncpus, .go = &go };
		pthread_create(&tid[i], NULL, write_pages, &r[i]);
	}
	pthread_barrier_wait(&go);
	for (int i = 0; i < threads; i++) {
		pthread_join(tid[i], NULL);
		cpu_ns += r[i].cpu_ns;
	}
	pthread_barrier_destroy(&go);
	if (uffd >= 0)
		close(uffd);
	munmap(p, len);
	return cpu_ns / (share / page_size * threads);
}

/*
 * A tp_btf program that returns at once, on the tracepoint libdrbpf's
 * preferred hook uses: what any program there costs before it does
 * anything. Returns the attachment's fd (closing it detaches) or -errno.
 */
static int attach_empty_program(void)
{
	static const struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	struct btf *vmlinux = btf__load_vmlinux_btf();
	LIBBPF_OPTS(bpf_prog_load_opts, o, .expected_attach_type = BPF_TRACE_RAW_TP);
	int id, prog, link;

	if (!vmlinux)
		return -errno;
	id = btf__find_by_name_kind(vmlinux, "btf_trace_page_fault_user", BTF_KIND_TYPEDEF);
	btf__free(vmlinux);
	if (id < 0)
		return id;
	o.attach_btf_id = id;
	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "empty", "GPL", ret0, 2, &o);
	if (prog < 0)
		return prog;
	link = bpf_raw_tracepoint_open(NULL, prog);
	close(prog);	/* the link holds it */
	return link;
}

/*
 * Mean run time of a program since it was loaded: @prog_fd's, or if that is
 * negative, the one attached by @link_fd. 0 if the kernel kept no statistics.
 */
static double prog_run_ns(int prog_fd, int link_fd)
{
	struct bpf_prog_info info = { 0 };
	struct bpf_link_info link = { 0 };
	__u32 len = sizeof(link);
	int fd = prog_fd;

	if (fd < 0) {
		if (bpf_obj_get_info_by_fd(link_fd, &link, &len))
			return 0;
		fd = bpf_prog_get_fd_by_id(link.prog_id);
		if (fd < 0)
			return 0;
	}
	len = sizeof(info);
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		info.run_cnt = 0;
	if (fd != prog_fd)
		close(fd);
	return info.run_cnt ? (double)info.run_time_ns / info.run_cnt : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sorts v and returns its quartile q (0..4) by nearest rank. */
static double quartile(double *v, int n, int q)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(n - 1) * q / 4];
}

int main(int argc, char **argv)
{
	size_t pages = 32768;
	int rounds = 11, threads = 1, opt, empty_ok;
	const char *hook = NULL;
	double *ns[NR_MODES], *ratio[NR_MODES], *extra[NR_MODES], *over_floor[NR_MODES];
	double *run_ns[NR_MODES];
	int stats_fd = -1;
	bool stats = false;
	__u64 counted = 0;

	while ((opt = getopt(argc, argv, "w:n:r:t:H:S")) != -1) {
		switch (opt) {
		case 'w':
			workload = !strcmp(optarg, "wp") ? WP : FRESH;
			if (workload == FRESH && strcmp(optarg, "fresh"))
				goto usage;
			break;
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
		case 'S':
			stats = true;
			break;
		default:
		usage:
			fprintf(stderr, "usage: %s [-w fresh|wp] [-n PAGES] [-r ROUNDS] [-t THREADS (1-8)] [-H HOOK] [-S]\n",
				argv[0]);
			return 2;
		}
	}
	if (threads < 1 || threads > 8 || rounds < 1 || pages < (size_t)threads) {
		fprintf(stderr, "bad arguments\n");
		return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	for (int m = 0; m < NR_MODES; m++) {
		ns[m] = calloc(rounds, sizeof(double));
		ratio[m] = calloc(rounds, sizeof(double));
		extra[m] = calloc(rounds, sizeof(double));
		over_floor[m] = calloc(rounds, sizeof(double));
		run_ns[m] = calloc(rounds, sizeof(double));
	}
	/* The floor belongs to tp_btf/page_fault_user, the hook the probe picks on x86. */
	empty_ok = !hook || !strcmp(hook, "tp_btf/page_fault_user");
	if (empty_ok) {
		int link = attach_empty_program();

		if (link < 0) {
			fprintf(stderr, "empty program: %s (row skipped)\n", strerror(-link));
			empty_ok = 0;
		} else
			close(link);
	}

	if (stats && (stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME)) < 0) {
		fprintf(stderr, "BPF_ENABLE_STATS: %s\n", strerror(errno));
		return 1;
	}
	one_round(pages, threads);	/* warm up */
	for (int i = 0; i < rounds; i++) {
		for (int k = 0; k < NR_MODES; k++) {
			int m = (i + k) % NR_MODES;
			struct dr_faults_opts o = {
				.all_processes = m == ALL || m == ALL_PERCPU,
				.hook = hook,
			};
			struct dr_faults_test_opts t = {
				.percpu_counters = m == TRACKED_PERCPU || m == ALL_PERCPU,
				.force_pidns_walk = m == TRACKED_PIDNS,
				.no_slot_index = m == TRACKED_HASH,
				.stripes = m == TRACKED_ONE_STRIPE ? 1 : 0,
			};
			struct dr_fault_counts c;
			struct dr_faults *f = NULL;
			int link = -1;
			char why[512];
			int err;

			if (m == EMPTY) {
				if (!empty_ok)
					continue;
				link = attach_empty_program();
				if (link < 0) {
					fprintf(stderr, "empty program: %s\n", strerror(-link));
					return 1;
				}
			} else if (m != NONE) {
				err = dr_faults_open_ext(&o, &t, &f, why, sizeof(why));
				if (err) {
					fprintf(stderr, "%s: %s\n", mode_names[m], why);
					return 1;
				}
				if (m == TRACKED || m == TRACKED_ONE_STRIPE || m == TRACKED_PERCPU ||
				    m == TRACKED_PIDNS || m == TRACKED_HASH)
					dr_faults_track(f, getpid());
			}
			ns[m][i] = one_round(pages, threads);
			if (stats && m != NONE)
				run_ns[m][i] = prog_run_ns(m == EMPTY ? -1 : dr_faults_fault_prog_fd(f), link);
			if (f && !dr_faults_lookup(f, getpid(), &c))
				counted += workload == WP ? c.wp_faults : c.np_write_faults;
			dr_faults_close(f);
			if (link >= 0)
				close(link);
		}
		for (int m = 0; m < NR_MODES; m++) {
			ratio[m][i] = ns[m][i] / ns[NONE][i];
			extra[m][i] = ns[m][i] - ns[NONE][i];
			over_floor[m][i] = ns[m][i] - ns[EMPTY][i];
		}
	}

	printf("%zu %s write faults per round, %d thread(s), %d rounds, hook %s\n", pages,
	       workload == WP ? "write-protect (uffd async)" : "first-touch", threads, rounds,
	       hook ? hook : "(probed)");
	/* Over the floor: the difference to the empty program in the same
	 * round, which is what the counting itself costs. */
	printf("  %-28s %10s %19s %8s %17s   %s\n", "mode", "CPU ns/flt", "(p25..p75)", "+ns/flt",
	       "ratio (p25..p75)", empty_ok ? "+ns over floor (p25..p75)" : "");
	for (int m = 0; m < NR_MODES; m++) {
		if (m == EMPTY && !empty_ok)
			continue;
		printf("  %-28s %10.1f (%7.1f..%7.1f) %+8.1f  x%.3f (%.3f..%.3f)", mode_names[m],
		       quartile(ns[m], rounds, 2), quartile(ns[m], rounds, 1), quartile(ns[m], rounds, 3),
		       quartile(extra[m], rounds, 2), quartile(ratio[m], rounds, 2),
		       quartile(ratio[m], rounds, 1), quartile(ratio[m], rounds, 3));
		if (empty_ok && m != NONE && m != EMPTY)
			printf("   %+6.1f (%+6.1f..%+6.1f)", quartile(over_floor[m], rounds, 2),
			       quartile(over_floor[m], rounds, 1), quartile(over_floor[m], rounds, 3));
		printf("\n");
	}
	if (stats) {
		printf("  program's own run time per run (BPF stats), median (p25..p75):\n");
		for (int m = EMPTY; m < NR_MODES; m++)
			if (m != EMPTY || empty_ok)
				printf("  %-28s %6.1f ns (%6.1f..%6.1f)\n", mode_names[m],
				       quartile(run_ns[m], rounds, 2), quartile(run_ns[m], rounds, 1),
				       quartile(run_ns[m], rounds, 3));
		close(stats_fd);
	}
	/* Every mode counts this process's faults but no program, empty and not tracked. */
	const int counting_modes = NR_MODES - 3;

	printf("(write faults of this kind counted for this process over the tracked rounds: %llu,"
	       " expected %zu)\n", (unsigned long long)counted,
	       (size_t)counting_modes * rounds * (pages / threads * threads));
	return 0;
}
