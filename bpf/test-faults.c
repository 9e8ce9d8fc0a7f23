// SPDX-License-Identifier: GPL-2.0-only
/*
 * The `bpf` suite: libdrbpf's counters against ground truth. Prints TAP.
 *
 *   test-faults               run every case (the VM runs the static build)
 *   test-faults --only CASE   run one case; exit 0 pass, 1 fail, 77 skip
 *   test-faults --list        the case names
 *
 * Needs root and a kernel with BPF and BTF; otherwise every case is skipped
 * (exit 77) with the reason. Cases that need the dirtyrate kernel series
 * (softdirty_clear) skip where it is absent.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirtyrate/pagemap-sd.h>

#include "faults-priv.h"
#include "slots.h"
#include "test-worker.h"

#define PASS 0
#define FAIL 1
#define SKIP 77

/* Pages per measured operation. */
#define N 1000
/*
 * Faults a worker may take inside a measured window besides the N it was
 * asked for: its own code around the operation (read(), the reply, libc
 * and stack pages fork() left write-protected; it pre-faults most), and the
 * stacks of fresh threads. Measured on the 6.18 host: np_write_faults and
 * wp_faults exactly N single-threaded, N + 4..5 with two new threads;
 * user_faults N + 1..2, equal to getrusage()'s count.
 */
#define SLACK 8
/* ... and when the operation starts two fresh threads (their stacks, TLS). */
#define THREAD_SLACK 16

static char skip_reason[256];
static int case_failures;
static int libbpf_messages;	/* at WARN or INFO, what libbpf prints by default */

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];

	if (level == LIBBPF_DEBUG)
		return 0;
	libbpf_messages++;
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	diag("libbpf %s: %s", level == LIBBPF_WARN ? "warning" : "info", line);
	return 0;
}

#define expect(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			diag("FAILED %s (line %d)", #cond, __LINE__);	\
			diag(__VA_ARGS__);				\
			case_failures++;				\
		}							\
	} while (0)

static void expect_range(const char *what, long long v, long long lo, long long hi)
{
	if (v >= lo && v <= hi) {
		diag("%s = %lld (expected %lld..%lld)", what, v, lo, hi);
		return;
	}
	diag("FAILED %s = %lld, expected %lld..%lld", what, v, lo, hi);
	case_failures++;
}

static int skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(skip_reason, sizeof(skip_reason), fmt, ap);
	va_end(ap);
	return SKIP;
}

/* Open with the given modes; NULL (and a failure recorded) if that fails. */
static struct dr_faults *open_faults(const struct dr_faults_opts *opts,
				     const struct dr_faults_test_opts *topts)
{
	struct dr_faults *f;
	char why[512];
	int err = dr_faults_open_ext(opts, topts, &f, why, sizeof(why));

	if (err) {
		diag("FAILED dr_faults_open: %s (%s)", why, strerror(-err));
		case_failures++;
		return NULL;
	}
	if (why[0])
		diag("note: %s", why);
	return f;
}

static void counts_or_zero(struct dr_faults *f, pid_t tgid, struct dr_fault_counts *c)
{
	if (dr_faults_lookup(f, tgid, c))
		memset(c, 0, sizeof(*c));
}

/* The growth of @w's counters over one operation. */
static int measure(struct dr_faults *f, struct worker *w, enum worker_op op, int n,
		   struct dr_fault_counts *d, struct worker_reply *r)
{
	struct dr_fault_counts a, b;
	int err;

	counts_or_zero(f, w->pid, &a);
	err = worker_do(w, op, n, r);
	counts_or_zero(f, w->pid, &b);
	if (!err && r->result < 0)
		err = r->result;
	if (err) {
		diag("FAILED worker operation %d: %s", op, strerror(-err));
		case_failures++;
		return err;
	}
	d->wp_faults = b.wp_faults - a.wp_faults;
	d->np_write_faults = b.np_write_faults - a.np_write_faults;
	d->user_faults = b.user_faults - a.user_faults;
	d->clears_self = b.clears_self - a.clears_self;
	d->cleared_pages_self = b.cleared_pages_self - a.cleared_pages_self;
	d->clears_foreign = b.clears_foreign - a.clears_foreign;
	d->cleared_pages_foreign = b.cleared_pages_foreign - a.cleared_pages_foreign;
	d->last_foreign_clear_ns = b.last_foreign_clear_ns;
	return 0;
}

static int start_worker(struct worker *w)
{
	int err = worker_start(w);

	if (err) {
		diag("FAILED starting a worker: %s", strerror(-err));
		case_failures++;
	}
	return err;
}

static int start_tracked_worker(struct dr_faults *f, struct worker *w)
{
	int err = start_worker(w);

	if (!err && (err = dr_faults_track(f, w->pid))) {
		diag("FAILED dr_faults_track(%d): %s", w->pid, strerror(-err));
		case_failures++;
		worker_stop(w);
	}
	return err;
}

static bool kernel_btf_has(const char *name, int kind)
{
	struct btf *btf = btf__load_vmlinux_btf();
	bool found = btf && btf__find_by_name_kind(btf, name, kind) > 0;

	btf__free(btf);
	return found;
}

/* ---- the cases ---- */

/* Every hook loads and attaches, in both modes, without a libbpf message. */
static int case_load(void)
{
	static const char *const hooks[] = {
		NULL, "tp_btf/page_fault_user", "fexit/handle_mm_fault", "perf-event",
	};
	bool x86_tp = kernel_btf_has("btf_trace_page_fault_user", BTF_KIND_TYPEDEF);
	bool clear_tp = kernel_btf_has("btf_trace_softdirty_clear", BTF_KIND_TYPEDEF);

	for (size_t i = 0; i < sizeof(hooks) / sizeof(hooks[0]); i++) {
		for (int all = 0; all <= 1; all++) {
			struct dr_faults_opts o = { .all_processes = all, .hook = hooks[i] };
			struct dr_faults_test_opts t = { .load_test_clear_prog = true };
			int before = libbpf_messages;
			struct dr_faults *f;
			char why[512];
			int err;

			err = dr_faults_open_ext(&o, &t, &f, why, sizeof(why));
			if (err == -EOPNOTSUPP && hooks[i]) {
				diag("%s: not available here (%s)", hooks[i], why);
				continue;
			}
			expect(!err, "open hook=%s all=%d: %s", hooks[i] ? hooks[i] : "(probe)",
			       all, why);
			if (err)
				continue;
			diag("hook=%s all=%d: loaded %s, caps %#x, clear tracepoint %s%s%s",
			     hooks[i] ? hooks[i] : "(probe)", all, dr_faults_hook(f),
			     dr_faults_caps(f), dr_faults_has_clear_tracepoint(f) ? "yes" : "no",
			     why[0] ? "; " : "", why);
			expect(libbpf_messages == before, "libbpf printed %d message(s)",
			       libbpf_messages - before);
			expect(dr_faults_has_clear_tracepoint(f) == clear_tp,
			       "clear tracepoint reported %d, BTF says %d",
			       dr_faults_has_clear_tracepoint(f), clear_tp);
			if (!hooks[i] && x86_tp)
				expect(!strcmp(dr_faults_hook(f), "tp_btf/page_fault_user") && !why[0],
				       "the probe chose %s (%s)", dr_faults_hook(f), why);
			dr_faults_close(f);
		}
	}
	return PASS;
}

static bool has_write_split(struct dr_faults *f)
{
	return dr_faults_caps(f) & DR_FAULTS_CAP_WRITE_SPLIT;
}

/* Writes to N fresh pages: N not-present write faults. */
static void check_first_touch(struct dr_faults *f, struct worker *w)
{
	struct dr_fault_counts d;
	struct worker_reply r;
	unsigned int caps = dr_faults_caps(f);

	if (measure(f, w, OP_TOUCH, N, &d, &r))
		return;
	diag("ground truth: %d pages written, getrusage minflt %ld", N, r.minflt);
	expect_range("getrusage minflt", r.minflt, N, N + SLACK);
	expect_range("user_faults", d.user_faults, N, N + SLACK);
	if (caps & DR_FAULTS_CAP_WRITES) {
		expect_range("np_write_faults", d.np_write_faults, N, N + SLACK);
		expect_range("wp_faults", d.wp_faults, 0, SLACK);
	} else {
		expect_range("np_write_faults (not counted)", d.np_write_faults, 0, 0);
		expect_range("wp_faults (not counted)", d.wp_faults, 0, 0);
	}
}

/* Writes to N pages shared with a forked child: N write-protect faults. */
static void check_cow(struct dr_faults *f, struct worker *w)
{
	struct dr_fault_counts d;
	struct worker_reply r;

	if (measure(f, w, OP_TOUCH, N, &d, &r) || measure(f, w, OP_FORK_HOLD, 0, &d, &r) ||
	    measure(f, w, OP_WRITE, N, &d, &r))
		return;
	diag("ground truth: %d COW writes, getrusage minflt %ld", N, r.minflt);
	if (has_write_split(f)) {
		expect_range("wp_faults", d.wp_faults, N, N + SLACK);
		expect_range("np_write_faults", d.np_write_faults, 0, SLACK);
	} else {
		expect_range("np_write_faults (all writes)", d.np_write_faults, N, N + SLACK);
	}
}

static int with_tracked_worker(const struct dr_faults_opts *o,
			       const struct dr_faults_test_opts *t,
			       void (*check)(struct dr_faults *, struct worker *))
{
	struct dr_faults *f = open_faults(o, t);
	struct worker w;

	if (!f)
		return FAIL;
	if (!start_tracked_worker(f, &w)) {
		check(f, &w);
		expect(!worker_stop(&w), "worker failed");
	}
	dr_faults_close(f);
	return PASS;
}

static int case_first_touch(void)
{
	return with_tracked_worker(NULL, NULL, check_first_touch);
}

static int case_cow_wp(void)
{
	return with_tracked_worker(NULL, NULL, check_cow);
}

/* Reads of N fresh pages map the zero page; the writes after are wp faults. */
static void check_zero_page(struct dr_faults *f, struct worker *w)
{
	struct dr_fault_counts d;
	struct worker_reply r;

	if (measure(f, w, OP_READ, N, &d, &r))
		return;
	expect_range("read: user_faults", d.user_faults, N, N + SLACK);
	expect_range("read: np_write_faults", d.np_write_faults, 0, SLACK);
	expect_range("read: wp_faults", d.wp_faults, 0, SLACK);
	if (measure(f, w, OP_WRITE, N, &d, &r))
		return;
	diag("ground truth: %d writes over the zero page, getrusage minflt %ld", N, r.minflt);
	expect_range("write: wp_faults", d.wp_faults, N, N + SLACK);
	expect_range("write: np_write_faults", d.np_write_faults, 0, SLACK);
}

/*
 * Whether read faults on fresh anonymous memory map the shared zero page:
 * some kernels map a page of their own instead (this project's 6.18 hosts
 * do), and a later write then takes no fault at all. The zero page shows up
 * in pagemap as the same frame behind two pages; reading frame numbers needs
 * CAP_SYS_ADMIN, which the bpf suite has. Returns 1, 0, or -errno.
 */
static int reads_map_zero_page(void)
{
	long ps = sysconf(_SC_PAGESIZE);
	uint64_t ent[2];
	volatile char *p;
	int fd, ret;

	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	madvise((void *)p, 2 * ps, MADV_NOHUGEPAGE);
	(void)p[0];
	(void)p[ps];
	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0) {
		ret = -errno;
	} else {
		if (pread(fd, ent, sizeof(ent), (uintptr_t)p / ps * sizeof(ent[0])) != sizeof(ent))
			ret = -EIO;
		else	/* bit 63: present; bits 0-54: the frame */
			ret = (ent[0] >> 63) && (ent[1] >> 63) &&
			      (ent[0] & ((1ULL << 55) - 1)) &&
			      (ent[0] & ((1ULL << 55) - 1)) == (ent[1] & ((1ULL << 55) - 1));
		close(fd);
	}
	munmap((void *)p, 2 * ps);
	return ret;
}

static int case_zero_page_wp(void)
{
	int zero = reads_map_zero_page();

	expect(zero >= 0, "cannot tell whether reads map the zero page: %s", strerror(-zero));
	if (zero < 0)
		return FAIL;
	if (!zero)
		return skip("this kernel maps a page of its own on a read fault, not the "
			    "shared zero page: a later write takes no fault to count");
	return with_tracked_worker(NULL, NULL, check_zero_page);
}

/*
 * A write to a present read-only page (mprotect) is a protection fault; the
 * handler makes it writable, the write is retried. Whether the retry faults
 * again depends on whether mprotect() could make the PTE writable at once
 * (recent kernels can for exclusive anonymous pages): N..2N.
 */
static void check_mprotect(struct dr_faults *f, struct worker *w)
{
	struct dr_fault_counts d;
	struct worker_reply r;

	if (measure(f, w, OP_TOUCH, N, &d, &r) || measure(f, w, OP_PROTECT_TRAP, N, &d, &r))
		return;
	diag("ground truth: %d writes to read-only pages, getrusage minflt %ld", N, r.minflt);
	expect_range("wp_faults", d.wp_faults, N, 2 * N + SLACK);
	expect_range("np_write_faults", d.np_write_faults, 0, SLACK);
}

static int case_mprotect_wp(void)
{
	struct dr_faults *f = open_faults(NULL, NULL);
	int ret;

	if (!f)
		return FAIL;
	/* Only the error code tells a protection fault; handle_mm_fault never
	 * sees these (the access check fails before). */
	ret = has_write_split(f) ? PASS :
		skip("hook %s cannot see protection faults", dr_faults_hook(f));
	dr_faults_close(f);
	return ret == PASS ? with_tracked_worker(NULL, NULL, check_mprotect) : ret;
}

/* Tracked mode counts tracked processes only; untrack stops and forgets. */
static int tracked_filter(const struct dr_faults_test_opts *t)
{
	struct dr_faults *f = open_faults(NULL, t);
	struct dr_fault_entry e[16];
	struct dr_fault_counts c, d;
	struct worker a, b;
	struct worker_reply r;
	int n, seen_a = 0, seen_b = 0;
	pid_t dead;

	if (!f)
		return FAIL;
	if (start_tracked_worker(f, &a))
		goto out;
	if (start_worker(&b))
		goto out_a;
	expect(dr_faults_is_tracked(f, a.pid), "a not tracked");
	measure(f, &a, OP_TOUCH, N, &d, &r);
	measure(f, &b, OP_TOUCH, N, &d, &r);
	expect(!dr_faults_lookup(f, a.pid, &c) && c.user_faults >= N,
	       "tracked process: user_faults %llu", (unsigned long long)c.user_faults);
	expect(dr_faults_lookup(f, b.pid, &c) == -ENOENT, "untracked process has counters");
	n = dr_faults_read_all(f, e, 16);
	for (int i = 0; i < n && i < 16; i++) {
		seen_a += e[i].tgid == a.pid;
		seen_b += e[i].tgid == b.pid;
	}
	expect(seen_a == 1 && seen_b == 0, "read_all: tracked seen %d, untracked seen %d",
	       seen_a, seen_b);

	expect(!dr_faults_untrack(f, a.pid), "untrack");
	expect(!dr_faults_is_tracked(f, a.pid), "still tracked after untrack");
	expect(dr_faults_lookup(f, a.pid, &c) == -ENOENT, "counters kept after untrack");
	measure(f, &a, OP_TOUCH, N, &d, &r);
	expect(dr_faults_lookup(f, a.pid, &c) == -ENOENT, "counted after untrack");
	expect(!dr_faults_untrack(f, a.pid), "untrack twice");

	expect(!dr_faults_track(f, a.pid), "re-track");
	expect(!dr_faults_lookup(f, a.pid, &c) && c.user_faults == 0,
	       "re-tracked counters start at %llu", (unsigned long long)c.user_faults);
	measure(f, &a, OP_TOUCH, N, &d, &r);
	expect_range("re-tracked np_write_faults", d.np_write_faults, N, N + SLACK);
	dead = b.pid;
	worker_stop(&b);
	expect(dr_faults_track(f, dead) == -ESRCH, "tracking a dead process");
	expect(!dr_faults_is_tracked(f, dead), "dead process stays tracked");
out_a:
	worker_stop(&a);
out:
	dr_faults_close(f);
	return PASS;
}

static int case_tracked_filter(void)
{
	return tracked_filter(NULL);
}

/* All mode counts a process nobody tracked. */
static int case_all_processes(void)
{
	struct dr_faults_opts o = { .all_processes = true };
	struct dr_faults *f = open_faults(&o, NULL);
	struct worker w;

	if (!f)
		return FAIL;
	if (!start_worker(&w)) {
		check_first_touch(f, &w);
		worker_stop(&w);
	}
	dr_faults_close(f);
	return PASS;
}

/* A thread's exit keeps the counters, the process's exit drops them. */
static void check_exit_cleanup(struct dr_faults *f, bool all)
{
	struct dr_fault_counts c, d;
	struct worker_reply r;
	struct worker w;
	pid_t pid;

	if (start_worker(&w))
		return;
	pid = w.pid;
	if (!all)
		dr_faults_track(f, pid);
	measure(f, &w, OP_THREAD_EXIT, N, &d, &r);
	expect(!dr_faults_lookup(f, pid, &c) && c.user_faults >= N,
	       "all=%d: counters lost when a thread exited", all);
	expect(!worker_stop(&w), "worker failed");
	expect(dr_faults_lookup(f, pid, &c) == -ENOENT,
	       "all=%d: counters of an exited process remain", all);
	if (!all)
		expect(!dr_faults_is_tracked(f, pid), "exited process still tracked");
}

static int case_exit_cleanup(void)
{
	for (int all = 0; all <= 1; all++) {
		struct dr_faults_opts o = { .all_processes = all };
		struct dr_faults *f = open_faults(&o, NULL);

		if (!f)
			return FAIL;
		check_exit_cleanup(f, all);
		dr_faults_close(f);
	}
	return PASS;
}

/* Pin the calling thread to @cpu (modulo the CPUs online); -1: unpin. */
static void run_on_cpu(int cpu)
{
	int ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int i = 0; i < ncpus; i++)
		if (cpu < 0 || i == cpu % ncpus)
			CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* The map never holds more than max_entries; tracked ones are never evicted. */
static int case_bounded(void)
{
	enum { MAX = 64, WORKERS = 100 };
	struct dr_faults_opts all = { .all_processes = true, .max_entries = MAX };
	struct dr_faults_opts tracked = { .max_entries = MAX };
	struct dr_fault_entry *e = calloc(4 * MAX, sizeof(*e));
	struct worker w[WORKERS];
	struct dr_fault_counts c, d;
	struct worker_reply r;
	struct dr_faults *f;
	int started = 0, n;

	if (!e)
		return FAIL;
	for (; started < WORKERS; started++)
		if (start_worker(&w[started]))
			break;

	f = open_faults(&all, NULL);
	if (f) {
		int present = 0;

		for (int i = 0; i < started; i++)
			measure(f, &w[i], OP_TOUCH, 16, &d, &r);
		/* Asked one by one: read_all() could hide extra entries. */
		for (int i = 0; i < started; i++)
			present += !dr_faults_lookup(f, w[i].pid, &c);
		n = dr_faults_read_all(f, e, 4 * MAX);
		diag("all mode, max_entries %d: %d processes faulted, %d have entries, "
		     "%d entries in all", MAX, started, present, n);
		expect(present <= MAX && n > 0 && n <= MAX, "%d/%d entries in a map of %d",
		       present, n, MAX);
		dr_faults_close(f);
	}

	f = open_faults(&tracked, NULL);
	if (f) {
		int lost = 0;

		/*
		 * Track half from each CPU: an LRU map's per-CPU free lists
		 * then hold slots another CPU cannot get without evicting.
		 */
		for (int i = 0; i < MAX && i < started; i++) {
			run_on_cpu(i < MAX / 2 - 1 ? 0 : 1);
			expect(!dr_faults_track(f, w[i].pid), "track #%d", i);
		}
		run_on_cpu(-1);
		expect(started <= MAX || dr_faults_track(f, w[MAX].pid) == -E2BIG,
		       "tracking more than max_entries");
		for (int i = 0; i < started; i++)
			measure(f, &w[i], OP_THREADS, 16, &d, &r);
		for (int i = 0; i < MAX && i < started; i++)
			lost += dr_faults_lookup(f, w[i].pid, &c) || c.np_write_faults < 16;
		diag("tracked mode: %d tracked, %d lost their counters", MAX, lost);
		expect(!lost, "%d tracked processes were evicted", lost);
		dr_faults_close(f);
	}
	for (int i = 0; i < started; i++)
		worker_stop(&w[i]);
	free(e);
	return PASS;
}

/*
 * 10 000 short-lived processes in all mode: none of them keeps an entry.
 * Every 1000th waits until its entry was seen, so the counting is checked
 * too (a broken exit hook and broken counting could otherwise pass).
 */
static volatile char churn_page[4096];

static int case_churn(void)
{
	enum { PROCS = 10000, SAMPLE = 1000 };
	struct dr_faults_opts o = { .all_processes = true };
	struct dr_faults *f = open_faults(&o, NULL);
	pid_t *pids = calloc(PROCS, sizeof(*pids));
	struct dr_fault_entry *e = NULL;
	struct dr_fault_counts c;
	int seen = 0, leaked = 0, n = 0, forked = 0;

	if (!f || !pids)
		goto out;
	for (; forked < PROCS; forked++) {
		int gate[2] = { -1, -1 };
		bool sampled = forked % SAMPLE == 0;

		if (sampled && pipe2(gate, O_CLOEXEC))
			break;
		pids[forked] = fork();
		if (pids[forked] == 0) {
			char c1 = 0;

			churn_page[0] = 1;	/* a write fault on a page of .bss */
			if (sampled && read(gate[0], &c1, 1) != 1)
				_exit(1);
			_exit(0);
		}
		if (pids[forked] < 0)
			break;
		if (sampled) {
			/* It runs concurrently: wait (up to 10 s on a busy
			 * machine) for its first counted fault. */
			for (int tries = 0; tries < 10000; tries++) {
				if (!dr_faults_lookup(f, pids[forked], &c) && c.user_faults)
					break;
				usleep(1000);
			}
			seen += !dr_faults_lookup(f, pids[forked], &c) && c.user_faults;
			if (write(gate[1], "x", 1) != 1)
				break;
			close(gate[0]);
			close(gate[1]);
		}
		waitpid(pids[forked], NULL, 0);
	}
	expect(forked == PROCS, "only %d processes forked: %s", forked, strerror(errno));
	expect(seen == PROCS / SAMPLE, "%d of %d sampled processes were counted", seen,
	       PROCS / SAMPLE);

	e = calloc(dr_faults_max_entries(f), sizeof(*e));
	n = e ? dr_faults_read_all(f, e, dr_faults_max_entries(f)) : -ENOMEM;
	expect(n >= 0 && n <= (int)dr_faults_max_entries(f), "read_all: %d", n);
	for (int i = 0; i < n; i++) {
		char proc[32];

		snprintf(proc, sizeof(proc), "/proc/%d", e[i].tgid);
		leaked += access(proc, F_OK) != 0;	/* gone, yet still in the map */
	}
	diag("%d processes forked and reaped, %d sampled ones seen counted; "
	     "%d entries left, %d of exited processes", forked, seen, n, leaked);
	expect(!leaked, "%d entries of exited processes", leaked);
out:
	free(e);
	free(pids);
	dr_faults_close(f);
	return f ? PASS : FAIL;
}

/* read_all (batched and key by key) agrees with lookups; cap is honoured. */
static void check_read_all(struct dr_faults *f, struct worker *w, int nw)
{
	struct dr_fault_entry e[8], one;
	int n, matched = 0;

	n = dr_faults_read_all(f, e, 8);
	expect(n == nw, "read_all found %d entries, %d processes tracked", n, nw);
	for (int i = 0; i < n && i < 8; i++) {
		struct dr_fault_counts c;

		if (!dr_faults_lookup(f, e[i].tgid, &c) && !memcmp(&c, &e[i].counts, sizeof(c)))
			matched++;
	}
	expect(matched == nw, "%d of %d entries match their lookup", matched, nw);
	expect(dr_faults_read_all(f, &one, 1) == nw, "read_all with cap 1");
}

static int case_batch_read(void)
{
	for (int no_batch = 0; no_batch <= 1; no_batch++) {
		struct dr_faults_test_opts t = { .no_batch = no_batch };
		struct dr_faults *f = open_faults(NULL, &t);
		struct dr_fault_counts d;
		struct worker_reply r;
		struct worker w[3];
		int started = 0;

		if (!f)
			return FAIL;
		for (; started < 3; started++) {
			if (start_tracked_worker(f, &w[started]))
				break;
			measure(f, &w[started], OP_TOUCH, 100 * (started + 1), &d, &r);
		}
		diag("%s", no_batch ? "key by key" : "batched");
		check_read_all(f, w, started);
		for (int i = 0; i < started; i++)
			worker_stop(&w[i]);
		dr_faults_close(f);
	}
	return PASS;
}

static void check_first_touch_and_cow(struct dr_faults *f, struct worker *w)
{
	check_first_touch(f, w);
	if (dr_faults_caps(f) & DR_FAULTS_CAP_WRITES)
		check_cow(f, w);
}

static int case_forced_hook(const char *hook, unsigned int caps)
{
	struct dr_faults_opts o = { .hook = hook };
	struct dr_faults *f;
	char why[512];
	int err = dr_faults_open(&o, &f, why, sizeof(why));

	if (err == -EOPNOTSUPP)
		return skip("%s", why);
	expect(!err, "open: %s", why);
	if (err)
		return FAIL;
	expect((dr_faults_caps(f) & ~DR_FAULTS_CAP_CLEARS) == caps, "caps %#x", dr_faults_caps(f));
	dr_faults_close(f);
	return with_tracked_worker(&o, NULL, check_first_touch_and_cow);
}

static int case_hook_fexit(void)
{
	return case_forced_hook("fexit/handle_mm_fault", DR_FAULTS_CAP_WRITES);
}

static int case_hook_perf_event(void)
{
	return case_forced_hook("perf-event", 0);
}

static int case_hook_tp_btf(void)
{
	return case_forced_hook("tp_btf/page_fault_user",
				DR_FAULTS_CAP_WRITES | DR_FAULTS_CAP_WRITE_SPLIT);
}

static void check_threads(struct dr_faults *f, struct worker *w)
{
	struct dr_fault_counts d;
	struct worker_reply r;

	check_first_touch(f, w);
	if (measure(f, w, OP_THREADS, N, &d, &r))
		return;
	diag("two threads on two CPUs: %d pages, getrusage minflt %ld", N, r.minflt);
	expect_range("np_write_faults", d.np_write_faults, N, N + THREAD_SLACK);
	check_cow(f, w);
}

/* A variant of tracked mode (@t) cleans up at exit and counts threads alike. */
static int check_tracked_variant(const struct dr_faults_test_opts *t)
{
	struct dr_faults *f = open_faults(NULL, t);

	if (!f)
		return FAIL;
	check_exit_cleanup(f, false);
	dr_faults_close(f);
	return with_tracked_worker(NULL, t, check_threads);
}

/* Per-CPU counters (the alternative measured in the README) add up. */
static int case_percpu_counters(void)
{
	struct dr_faults_test_opts t = { .percpu_counters = true };

	return check_tracked_variant(&t);
}

/*
 * Tracked mode's fault counters, striped by CPU: two threads on two CPUs
 * add up with the stripes chosen for this machine, with one stripe, and
 * with more stripes than CPUs.
 */
static int case_stripes(void)
{
	static const unsigned int stripes[] = { 0, 1, DR_STRIPES_MAX };

	for (size_t i = 0; i < sizeof(stripes) / sizeof(stripes[0]); i++) {
		struct dr_faults_test_opts t = { .stripes = stripes[i] };

		diag("%u stripes%s", stripes[i], stripes[i] ? "" : " (this machine's)");
		if (check_tracked_variant(&t) != PASS)
			return FAIL;
	}
	return PASS;
}

/*
 * Tracked mode as where slot_index cannot be used (a caller in a PID
 * namespace on a kernel before 6.1): faults find their slot by tgid in the
 * tracked hash, with the same results.
 */
static int case_tracked_hash(void)
{
	struct dr_faults_test_opts t = { .no_slot_index = true };

	if (tracked_filter(&t) != PASS)
		return FAIL;
	return check_tracked_variant(&t);
}

/*
 * A tracked process that exits leaves its slot to the next one tracked when
 * all are taken: that one starts from zero and counts only its own faults,
 * and the others keep theirs.
 */
static int case_slot_reuse(void)
{
	struct dr_faults_opts o = { .max_entries = 2 };
	struct dr_faults *f = open_faults(&o, NULL);
	struct dr_fault_counts c, d;
	struct worker a, b, x;
	struct worker_reply r;
	pid_t gone = 0;

	if (!f)
		return FAIL;
	if (start_tracked_worker(f, &a))
		goto out;
	if (start_tracked_worker(f, &b))
		goto out_a;
	if (start_worker(&x))
		goto out_b;
	expect(dr_faults_track(f, x.pid) == -E2BIG, "a third process tracked in 2 slots");
	/* On two CPUs: counts in more than one stripe, all to be cleared. */
	measure(f, &a, OP_THREADS, N, &d, &r);
	gone = a.pid;
	expect(!worker_stop(&a), "worker failed");
	expect(!dr_faults_is_tracked(f, gone), "exited process still tracked");
	expect(!dr_faults_track(f, x.pid), "tracking in the exited process's slot");
	expect(!dr_faults_lookup(f, x.pid, &c) && c.np_write_faults == 0 && c.user_faults == 0,
	       "the reused slot starts at np_write_faults %llu, user_faults %llu",
	       (unsigned long long)c.np_write_faults, (unsigned long long)c.user_faults);
	measure(f, &x, OP_TOUCH, N, &d, &r);
	expect_range("reused slot: np_write_faults", d.np_write_faults, N, N + SLACK);
	measure(f, &b, OP_TOUCH, N, &d, &r);
	expect_range("other slot: np_write_faults", d.np_write_faults, N, N + SLACK);
	expect(!dr_faults_lookup(f, x.pid, &c) && c.np_write_faults <= N + SLACK,
	       "the reused slot counted another process's faults: %llu",
	       (unsigned long long)c.np_write_faults);
	worker_stop(&x);
out_b:
	worker_stop(&b);
out_a:
	if (a.pid != gone)
		worker_stop(&a);
out:
	dr_faults_close(f);
	return PASS;
}

/*
 * Tracked processes sharing slot_index entries (an index of 4 entries for
 * 6 processes): the one owning an entry goes by the index, the others by
 * the tracked hash, and each counts exactly its own faults, before and
 * after some exit and others take their slots (which rebuilds the index).
 */
static int case_index_shared(void)
{
	enum { SLOTS = 6 };
	struct dr_faults_opts o = { .max_entries = SLOTS };
	struct dr_faults_test_opts t = { .index_entries = 4 };
	struct dr_faults *f = open_faults(&o, &t);
	struct dr_fault_counts d;
	struct worker w[SLOTS + 3];
	struct worker_reply r;
	int started = 0, stopped = 0;

	if (!f)
		return FAIL;
	while (started < SLOTS && !start_tracked_worker(f, &w[started]))
		started++;
	for (int i = 0; i < started; i++) {
		measure(f, &w[i], OP_TOUCH, N, &d, &r);
		expect_range("np_write_faults", d.np_write_faults, N, N + SLACK);
	}
	/* Three exit; three more take their slots. */
	for (; stopped < 3 && stopped < started; stopped++)
		expect(!worker_stop(&w[stopped]), "worker failed");
	if (started == SLOTS)
		while (started < SLOTS + 3 && !start_tracked_worker(f, &w[started]))
			started++;
	expect(started == SLOTS + 3, "%d of %d workers tracked", started, SLOTS + 3);
	for (int i = stopped; i < started; i++) {
		measure(f, &w[i], OP_TOUCH, N, &d, &r);
		expect_range("after the exits: np_write_faults", d.np_write_faults, N, N + SLACK);
	}
	for (int i = stopped; i < started; i++)
		worker_stop(&w[i]);
	dr_faults_close(f);
	return PASS;
}

/*
 * The clear accounting, run through BPF_PROG_TEST_RUN (any kernel): split by
 * clearer, pages summed, the time of the last foreign clear.
 */
static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static int case_clear_accounting(void)
{
	struct dr_faults_test_opts t = { .load_test_clear_prog = true };
	struct dr_faults *as_self = NULL, *as_other = NULL;
	struct dr_fault_counts c;
	struct worker w, untracked;
	__u64 t0, t1;

	if (start_worker(&w))
		return FAIL;
	if (start_worker(&untracked))
		goto out_w;
	/* In one instance we are the daemon, in the other someone else is. */
	as_self = open_faults(NULL, &t);
	as_other = open_faults(&(struct dr_faults_opts){ .self_tgid = w.pid }, &t);
	if (!as_self || !as_other)
		goto out;
	dr_faults_track(as_self, w.pid);
	dr_faults_track(as_other, w.pid);

	expect(!dr_faults_run_test_clear(as_self, w.pid, 5), "test run");
	expect(!dr_faults_run_test_clear(as_self, w.pid, 6), "test run");
	expect(!dr_faults_lookup(as_self, w.pid, &c), "lookup");
	expect(c.clears_self == 2 && c.cleared_pages_self == 11 && c.clears_foreign == 0 &&
	       c.cleared_pages_foreign == 0 && c.last_foreign_clear_ns == 0,
	       "self: clears %llu pages %llu, foreign: clears %llu pages %llu last %llu",
	       (unsigned long long)c.clears_self, (unsigned long long)c.cleared_pages_self,
	       (unsigned long long)c.clears_foreign, (unsigned long long)c.cleared_pages_foreign,
	       (unsigned long long)c.last_foreign_clear_ns);

	t0 = monotonic_ns();
	expect(!dr_faults_run_test_clear(as_other, w.pid, 7), "test run");
	t1 = monotonic_ns();
	expect(!dr_faults_lookup(as_other, w.pid, &c), "lookup");
	expect(c.clears_foreign == 1 && c.cleared_pages_foreign == 7 && c.clears_self == 0,
	       "foreign: clears %llu pages %llu, self: clears %llu",
	       (unsigned long long)c.clears_foreign, (unsigned long long)c.cleared_pages_foreign,
	       (unsigned long long)c.clears_self);
	expect(c.last_foreign_clear_ns >= t0 && c.last_foreign_clear_ns <= t1,
	       "last foreign clear at %llu, not in [%llu, %llu]",
	       (unsigned long long)c.last_foreign_clear_ns, (unsigned long long)t0,
	       (unsigned long long)t1);

	expect(!dr_faults_run_test_clear(as_self, untracked.pid, 3), "test run");
	expect(dr_faults_lookup(as_self, untracked.pid, &c) == -ENOENT,
	       "a clear of an untracked process was counted");
out:
	dr_faults_close(as_self);
	dr_faults_close(as_other);
	worker_stop(&untracked);
out_w:
	worker_stop(&w);
	return PASS;
}

/* ---- PID namespaces: counters keyed by the caller's tgids ---- */

/* @w's pid in the initial namespace, as the mounted /proc names it. */
static pid_t initial_pid(struct worker *w)
{
	struct worker_reply r;

	if (worker_do(w, OP_PROC_SELF, 0, &r) || r.result <= 0) {
		diag("FAILED reading the worker's /proc/self: %s", strerror((int)-r.result));
		case_failures++;
		return 0;
	}
	return r.result;
}

/* Whether every entry of read_all() is a process the caller can see. */
static void expect_only_visible(struct dr_faults *f, const char *what)
{
	struct dr_fault_entry e[64];
	int n = dr_faults_read_all(f, e, 64);

	expect(n > 0 && n <= 64, "%s: read_all: %d", what, n);
	for (int i = 0; i < n && i < 64; i++)
		expect(!kill(e[i].tgid, 0), "%s: an entry for %d, not a process here", what,
		       e[i].tgid);
}

/*
 * What a caller whose tgids may not be the kernel's relies on: counters
 * under its worker's pid, clears named by the tracepoint's initial-namespace
 * tgid counted there (self and foreign), cleanup at exit; and, given a
 * worker it cannot see (@outside, commanded through inherited pipes), that
 * its faults and clears are never counted, not even in all mode.
 */
static void check_pidns(const struct dr_faults_test_opts *topts, struct worker *outside)
{
	struct dr_faults_test_opts t = *topts;
	struct dr_faults *f, *other = NULL, *all = NULL;
	struct dr_fault_counts c, d;
	struct worker_reply r;
	struct worker w;
	pid_t w_initial;

	t.load_test_clear_prog = true;
	f = open_faults(NULL, &t);
	if (!f || start_tracked_worker(f, &w))
		goto out;
	w_initial = initial_pid(&w);
	diag("worker: pid %d here, %d in the initial namespace", w.pid, w_initial);
	expect(outside ? w_initial != w.pid : w_initial == w.pid, "pids %d and %d", w.pid,
	       w_initial);
	check_first_touch(f, &w);
	if (w_initial != w.pid)
		expect(dr_faults_lookup(f, w_initial, &c) == -ENOENT,
		       "counters under the initial-namespace pid %d", w_initial);

	other = open_faults(&(struct dr_faults_opts){ .self_tgid = w.pid }, &t);
	if (other && !dr_faults_track(other, w.pid)) {
		expect(!dr_faults_run_test_clear(f, w_initial, 5), "test run");
		expect(!dr_faults_run_test_clear(other, w_initial, 7), "test run");
		expect(!dr_faults_lookup(f, w.pid, &c) && c.clears_self == 1 &&
		       c.cleared_pages_self == 5 && c.clears_foreign == 0,
		       "our clear: self %llu (%llu pages), foreign %llu",
		       (unsigned long long)c.clears_self, (unsigned long long)c.cleared_pages_self,
		       (unsigned long long)c.clears_foreign);
		expect(!dr_faults_lookup(other, w.pid, &c) && c.clears_foreign == 1 &&
		       c.cleared_pages_foreign == 7 && c.clears_self == 0,
		       "someone else's clear: foreign %llu (%llu pages), self %llu",
		       (unsigned long long)c.clears_foreign,
		       (unsigned long long)c.cleared_pages_foreign,
		       (unsigned long long)c.clears_self);
	}

	/* The real tracepoint, where the kernel has it: the worker clears its own
	 * bits (self for `other`), then we clear them through /proc (foreign). */
	if (other && dr_faults_has_clear_tracepoint(other) &&
	    !measure(other, &w, OP_CLEAR_REFS, 0, &d, &r)) {
		struct dr_fault_counts a, b;
		long err;

		expect_range("tracepoint: the worker's clear_refs, clears_self", d.clears_self, 1, 1);
		counts_or_zero(other, w.pid, &a);
		err = proc_clear_refs(w_initial);
		counts_or_zero(other, w.pid, &b);
		expect(!err, "clear_refs of %d: %s", w_initial, strerror((int)-err));
		expect_range("tracepoint: our clear_refs of it, clears_foreign",
			     b.clears_foreign - a.clears_foreign, 1, 1);
	}

	all = open_faults(&(struct dr_faults_opts){ .all_processes = true }, &t);
	if (all && !measure(all, &w, OP_TOUCH, N, &d, &r)) {
		expect_range("all mode: np_write_faults", d.np_write_faults, N, N + SLACK);
		if (outside) {
			pid_t o = initial_pid(outside);

			expect(!worker_do(outside, OP_TOUCH, N, &r) && !r.result,
			       "the outside worker");
			expect(!dr_faults_run_test_clear(all, o, 3), "test run");
			diag("outside worker (pid %d in the initial namespace) wrote %d pages", o, N);
		}
		expect_only_visible(all, "all mode");
	}

	expect(!worker_stop(&w), "worker failed");
	expect(dr_faults_lookup(f, w.pid, &c) == -ENOENT, "counters of an exited process remain");
	expect(!dr_faults_is_tracked(f, w.pid), "exited process still tracked");
out:
	dr_faults_close(all);
	dr_faults_close(other);
	dr_faults_close(f);
}

/* In the initial namespace, through the translation other namespaces use. */
static int case_pidns_walk(void)
{
	check_pidns(&(struct dr_faults_test_opts){ .force_pidns_walk = true }, NULL);
	return PASS;
}

/*
 * As PID 1 of a new PID namespace, with /proc still the initial one's (so
 * workers can tell their initial-namespace pids), next to a worker outside.
 */
static int case_pidns(void)
{
	struct worker outside;
	int status = 0;
	pid_t child;

	if (start_worker(&outside))
		return FAIL;
	child = fork();
	if (child == 0) {
		pid_t init;

		if (unshare(CLONE_NEWPID)) {
			diag("unshare(CLONE_NEWPID): %s", strerror(errno));
			_exit(errno == EINVAL || errno == EPERM ? SKIP : FAIL);
		}
		init = fork();
		if (init == 0) {
			int before = libbpf_messages;

			check_pidns(&(struct dr_faults_test_opts){ 0 }, &outside);
			_exit(case_failures || libbpf_messages != before ? FAIL : PASS);
		}
		if (init < 0 || waitpid(init, &status, 0) != init)
			_exit(FAIL);
		_exit(WIFEXITED(status) ? WEXITSTATUS(status) : FAIL);
	}
	if (child < 0 || waitpid(child, &status, 0) != child)
		status = FAIL << 8;
	worker_stop(&outside);
	if (!WIFEXITED(status) || WEXITSTATUS(status) == FAIL) {
		diag("FAILED in the new PID namespace (status %#x)", status);
		case_failures++;
		return FAIL;
	}
	return WEXITSTATUS(status) == SKIP ? skip("cannot create a PID namespace here") : PASS;
}

/* ---- on the dirtyrate kernel only: the real softdirty_clear tracepoint ---- */

/*
 * A worker that is "the daemon" (self_tgid) for a fresh instance, tracked.
 * SKIP where the kernel has no softdirty_clear tracepoint.
 */
static int open_for_clears(struct dr_faults **f, struct worker *w)
{
	struct dr_faults_opts o;
	int err;

	*f = NULL;
	if (!kernel_btf_has("btf_trace_softdirty_clear", BTF_KIND_TYPEDEF))
		return skip("kernel has no softdirty_clear tracepoint (needs the dirtyrate "
			    "kernel series; the vm suite runs this)");
	if (start_worker(w))
		return FAIL;
	o = (struct dr_faults_opts){ .self_tgid = w->pid };
	*f = open_faults(&o, NULL);
	if (!*f || (err = dr_faults_track(*f, w->pid))) {
		dr_faults_close(*f);
		worker_stop(w);
		return FAIL;
	}
	expect(dr_faults_has_clear_tracepoint(*f), "clear tracepoint not reported");
	return PASS;
}

static int with_clear_worker(void (*check)(struct dr_faults *, struct worker *))
{
	struct dr_faults *f;
	struct worker w;
	int ret = open_for_clears(&f, &w);

	if (ret != PASS)
		return ret;
	check(f, &w);
	expect(!worker_stop(&w), "worker failed");
	dr_faults_close(f);
	return PASS;
}

/*
 * The process clears its own bits with the ioctl: one clear of N pages;
 * N writes after it are N write-protect faults, and the next get+clear
 * reports (and clears) N pages: the two mechanisms agree.
 */
static void check_clear_ioctl(struct dr_faults *f, struct worker *w)
{
	struct dr_fault_counts d;
	struct worker_reply r;

	if (measure(f, w, OP_TOUCH, N, &d, &r) || measure(f, w, OP_SD_CLEAR, N, &d, &r))
		return;
	expect_range("ioctl clear: clears_self", d.clears_self, 1, 1);
	expect_range("ioctl clear: cleared_pages_self", d.cleared_pages_self, N, N);
	expect_range("ioctl clear: clears_foreign", d.clears_foreign, 0, 0);
	if (measure(f, w, OP_WRITE, N, &d, &r))
		return;
	expect_range("writes after the clear: wp_faults", d.wp_faults, N, N + SLACK);
	if (measure(f, w, OP_SD_GET_CLEAR, N, &d, &r))
		return;
	expect_range("get+clear: pages reported", r.result, N, N);
	expect_range("get+clear: clears_self", d.clears_self, 1, 1);
	expect_range("get+clear: cleared_pages_self", d.cleared_pages_self, N, N);
}

static int case_clear_ioctl(void)
{
	return with_clear_worker(check_clear_ioctl);
}

/* The process clears its own bits with clear_refs (its whole address space). */
static void check_clear_refs(struct dr_faults *f, struct worker *w)
{
	struct dr_fault_counts d;
	struct worker_reply r;

	if (measure(f, w, OP_TOUCH, N, &d, &r) || measure(f, w, OP_CLEAR_REFS, 0, &d, &r))
		return;
	expect_range("clear_refs: clears_self", d.clears_self, 1, 1);
	/* Its stack, heap and libc data were dirty too. */
	expect_range("clear_refs: cleared_pages_self", d.cleared_pages_self, N, N + 4096);
	expect_range("clear_refs: clears_foreign", d.clears_foreign, 0, 0);
	if (measure(f, w, OP_WRITE, N, &d, &r))
		return;
	expect_range("writes after clear_refs: wp_faults", d.wp_faults, N, N + SLACK);
}

static int case_clear_refs(void)
{
	return with_clear_worker(check_clear_refs);
}

/* Someone other than "the daemon" clears: foreign, with its time. */
static void check_clear_foreign(struct dr_faults *f, struct worker *w)
{
	struct dr_fault_counts a, b;
	struct worker_reply r;
	__u64 t0, t1;
	long err;

	if (worker_do(w, OP_TOUCH, N, &r) || r.result)
		return;
	counts_or_zero(f, w->pid, &a);
	t0 = monotonic_ns();
	err = proc_pagemap_sd(w->pid, PAGEMAP_SD_CLEAR, (void *)r.addr, r.len);
	t1 = monotonic_ns();
	counts_or_zero(f, w->pid, &b);
	expect(!err, "ioctl on /proc/%d/pagemap: %s", w->pid, strerror(-err));
	expect_range("foreign ioctl: clears_foreign", b.clears_foreign - a.clears_foreign, 1, 1);
	expect_range("foreign ioctl: cleared_pages_foreign",
		     b.cleared_pages_foreign - a.cleared_pages_foreign, N, N);
	expect_range("foreign ioctl: clears_self", b.clears_self - a.clears_self, 0, 0);
	expect(b.last_foreign_clear_ns >= t0 && b.last_foreign_clear_ns <= t1,
	       "last foreign clear %llu not in [%llu, %llu]",
	       (unsigned long long)b.last_foreign_clear_ns, (unsigned long long)t0,
	       (unsigned long long)t1);

	if (worker_do(w, OP_WRITE, N, &r) || r.result)
		return;
	a = b;
	err = proc_clear_refs(w->pid);
	counts_or_zero(f, w->pid, &b);
	expect(!err, "clear_refs of %d: %s", w->pid, strerror(-err));
	expect_range("foreign clear_refs: clears_foreign", b.clears_foreign - a.clears_foreign, 1, 1);
	expect_range("foreign clear_refs: cleared_pages_foreign",
		     b.cleared_pages_foreign - a.cleared_pages_foreign, N, N + 4096);
}

static int case_clear_foreign(void)
{
	return with_clear_worker(check_clear_foreign);
}

/* ---- TAP driver ---- */

static const struct tcase {
	const char *name;
	int (*run)(void);
} cases[] = {
	{ "load", case_load },
	{ "first-touch", case_first_touch },
	{ "zero-page-wp", case_zero_page_wp },
	{ "cow-wp", case_cow_wp },
	{ "mprotect-wp", case_mprotect_wp },
	{ "tracked-filter", case_tracked_filter },
	{ "tracked-hash", case_tracked_hash },
	{ "slot-reuse", case_slot_reuse },
	{ "index-shared", case_index_shared },
	{ "all-processes", case_all_processes },
	{ "exit-cleanup", case_exit_cleanup },
	{ "bounded", case_bounded },
	{ "churn-10k", case_churn },
	{ "batch-read", case_batch_read },
	{ "hook-tp-btf", case_hook_tp_btf },
	{ "hook-fexit", case_hook_fexit },
	{ "hook-perf-event", case_hook_perf_event },
	{ "stripes", case_stripes },
	{ "percpu-counters", case_percpu_counters },
	{ "clear-accounting", case_clear_accounting },
	{ "pidns-walk", case_pidns_walk },
	{ "pidns", case_pidns },
	{ "clear-ioctl", case_clear_ioctl },
	{ "clear-refs", case_clear_refs },
	{ "clear-foreign", case_clear_foreign },
};

#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

/* Whether this machine can run the suite at all; a reason if not. */
static bool can_run(char *why, size_t len)
{
	struct dr_faults *f;
	int err;

	if (geteuid() != 0) {
		snprintf(why, len, "needs root (loads BPF programs)");
		return false;
	}
	err = dr_faults_open(NULL, &f, why, len);
	if (err == -EPERM || err == -ENOENT || err == -EOPNOTSUPP || err == -ENOSYS)
		return false;	/* why says what is missing */
	dr_faults_close(f);
	return true;		/* other errors: let the cases fail on them */
}

static int run_case(const struct tcase *c, int number)
{
	int before = libbpf_messages, ret;

	case_failures = 0;
	skip_reason[0] = '\0';
	ret = c->run();
	if (libbpf_messages != before) {
		diag("FAILED libbpf printed %d message(s) at its default level",
		     libbpf_messages - before);
		case_failures++;
	}
	if (ret == SKIP && !case_failures) {
		printf("ok %d - %s # SKIP %s\n", number, c->name, skip_reason);
	} else if (ret == PASS && !case_failures) {
		printf("ok %d - %s\n", number, c->name);
	} else {
		printf("not ok %d - %s\n", number, c->name);
		ret = FAIL;
	}
	fflush(stdout);
	return ret;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	char why[512] = "";
	int failed = 0;

	if (argc == 2 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < NR_CASES; i++)
			printf("%s\n", cases[i].name);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "--only"))
		only = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: %s [--list | --only CASE]\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
	signal(SIGPIPE, SIG_IGN);

	printf("TAP version 13\n");
	if (!can_run(why, sizeof(why))) {
		printf("1..0 # SKIP %s\n", why);
		return SKIP;
	}
	if (only) {
		for (size_t i = 0; i < NR_CASES; i++) {
			if (!strcmp(cases[i].name, only)) {
				printf("1..1\n");
				return run_case(&cases[i], 1);
			}
		}
		fprintf(stderr, "no case '%s' (--list)\n", only);
		return 2;
	}
	printf("1..%zu\n", NR_CASES);
	for (size_t i = 0; i < NR_CASES; i++)
		failed += run_case(&cases[i], i + 1) == FAIL;
	return failed ? FAIL : PASS;
}
