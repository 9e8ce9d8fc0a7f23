// SPDX-License-Identifier: GPL-2.0-only
/*
 * test-writewatch [--backend NAME]... [--unavailable NAME]...: writewatch.h
 * against what Windows documents for GetWriteWatch()/ResetWriteWatch() and
 * what Wine's conformance test (dlls/kernel32/tests/virtual.c,
 * test_write_watch) checks, the same cases for every backend named
 * (default: mprotect). A backend named that cannot work here fails; one
 * named --unavailable must be refused with ENOTTY or EOPNOTSUPP (a kernel
 * without the soft-dirty ioctls). TAP on stdout.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "writewatch.h"

static size_t ps;
static int test_no;
static bool failed_any;
static bool case_failed;

static void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

#define CHECK(cond, ...) do { \
	if (!(cond)) { \
		case_failed = true; \
		diag("line %d: %s", __LINE__, #cond); \
		diag(__VA_ARGS__); \
	} \
} while (0)

/* GetWriteWatch() that must succeed; returns the count. */
static uintptr_t get(unsigned int flags, char *base, size_t size, void **out, uintptr_t cap)
{
	unsigned long gran = 0;
	uintptr_t count = cap;
	int err = ww_get_write_watch(flags, base, size, out, &count, &gran);

	CHECK(!err, "ww_get_write_watch: %s", strerror(err));
	CHECK(gran == ps, "granularity %lu, page size %zu", gran, ps);
	return err ? 0 : count;
}

/*
 * The pages of base written, as indices, must be exactly want[0..n) (-1
 * ends), in this order.
 */
static void expect_pages(char *region, unsigned int flags, char *base, size_t size,
			 uintptr_t cap, const long *want, int line)
{
	void *out[64];
	uintptr_t n = get(flags, base, size, out, cap);
	uintptr_t nwant = 0;

	while (want[nwant] >= 0)
		nwant++;
	if (n != nwant) {
		case_failed = true;
		diag("line %d: %ju pages reported, want %ju", line, (uintmax_t)n, (uintmax_t)nwant);
	}
	for (uintptr_t i = 0; i < n && i < nwant; i++)
		if (out[i] != region + want[i] * (long)ps) {
			case_failed = true;
			diag("line %d: entry %ju is %p, want page %ld (%p)", line, (uintmax_t)i,
			     out[i], want[i], (void *)(region + want[i] * (long)ps));
		}
}

/* Pages as indices into region (the query may start elsewhere in it). */
#define EXPECT_IN(region, flags, base, size, cap, ...) \
	expect_pages(region, flags, base, size, cap, (const long[]){ __VA_ARGS__, -1 }, __LINE__)
#define EXPECT(flags, base, size, cap, ...) EXPECT_IN(base, flags, base, size, cap, __VA_ARGS__)
#define NONE	-1

static char *alloc_pages(size_t n)
{
	char *p = ww_alloc(n * ps);

	if (!p) {
		printf("Bail out! ww_alloc(%zu pages): %s\n", n, strerror(errno));
		exit(1);
	}
	return p;
}

static void case_fresh_region_is_clean(void)
{
	char *b = alloc_pages(16);
	void *out[4];

	EXPECT(0, b, 16 * ps, 64, NONE);
	/* Reading (zeroes) is not writing. */
	for (size_t i = 0; i < 16; i++)
		CHECK(((volatile char *)b)[i * ps] == 0, "page %zu not zero", i);
	EXPECT(0, b, 16 * ps, 64, NONE);
	CHECK(get(WW_RESET, b, 16 * ps, out, 4) == 0, "reset of a clean region");
	ww_free(b);
}

static void case_written_until_reset(void)
{
	char *b = alloc_pages(16);

	b[ps + 1] = 0x44;
	EXPECT(0, b, 16 * ps, 64, 1);
	EXPECT(0, b, 16 * ps, 64, 1);		/* without WW_RESET it stays */
	EXPECT(WW_RESET, b, 16 * ps, 64, 1);
	EXPECT(0, b, 16 * ps, 64, NONE);
	b[ps + 2] = 0x45;			/* and is watched again */
	EXPECT(0, b, 16 * ps, 64, 1);
	ww_free(b);
}

static void case_ascending_subrange_and_reset(void)
{
	char *b = alloc_pages(16);

	b[4 * ps + 8] = 0x11;
	b[2 * ps + 3] = 0x11;
	EXPECT(0, b, 16 * ps, 64, 2, 4);
	EXPECT_IN(b, 0, b + 3 * ps, 2 * ps, 64, 4);
	CHECK(ww_reset_write_watch(b, 3 * ps) == 0, "ResetWriteWatch");
	EXPECT(0, b, 16 * ps, 64, 4);
	/* A write across a page boundary writes both pages. */
	memcpy(b + 2 * ps - 2, "\xef\xbe\xad\xde", 4);
	EXPECT(0, b, 16 * ps, 64, 1, 2, 4);
	ww_free(b);
}

/* Wine: count = 1 with WRITE_WATCH_FLAG_RESET resets the one page reported. */
static void case_count_limit(void)
{
	char *b = alloc_pages(16);

	b[ps] = b[2 * ps] = b[4 * ps] = 1;
	EXPECT(0, b, 16 * ps, 2, 1, 2);
	EXPECT(0, b, 16 * ps, 64, 1, 2, 4);
	EXPECT(WW_RESET, b, 16 * ps, 1, 1);
	EXPECT(0, b, 16 * ps, 64, 2, 4);
	EXPECT(WW_RESET, b, 16 * ps, 1, 2);
	EXPECT(WW_RESET, b, 16 * ps, 1, 4);
	EXPECT(WW_RESET, b, 16 * ps, 1, NONE);
	ww_free(b);
}

/* The range is widened to whole pages: [base rounded down, base + size rounded up). */
static void case_unaligned_base(void)
{
	char *b = alloc_pages(16);

	b[ps] = b[2 * ps] = b[3 * ps] = 1;
	EXPECT_IN(b, 0, b + ps + 1, ps, 64, 1, 2);
	EXPECT_IN(b, 0, b + 2 * ps - 1, 1, 64, 1);
	CHECK(ww_reset_write_watch(b + ps + 5, 1) == 0, "ResetWriteWatch of one byte");
	EXPECT(0, b, 16 * ps, 64, 2, 3);
	EXPECT_IN(b, WW_RESET, b + 3 * ps - 1, 2, 64, 2, 3);
	EXPECT(0, b, 16 * ps, 64, NONE);
	ww_free(b);
}

static int get_err(unsigned int flags, void *base, size_t size, void **out,
		   uintptr_t *count, unsigned long *gran)
{
	return ww_get_write_watch(flags, base, size, out, count, gran);
}

/* Wine's "some invalid parameter tests", with ERROR_* as errno values. */
static void case_invalid_parameters(void)
{
	size_t size = 16 * ps;
	char *b = alloc_pages(16);
	unsigned long gran;
	void *out[64];
	uintptr_t count;
	int err;

	b[0] = 1;
	count = 0;
	err = get_err(0, b, size, out, &count, &gran);
	CHECK(err == EINVAL, "count 0: %d", err);
	err = get_err(0, b, size, out, NULL, &gran);
	CHECK(err == EFAULT, "NULL count: %d", err);
	count = 64;
	err = get_err(0, b, size, out, &count, NULL);
	CHECK(err == EFAULT, "NULL granularity: %d", err);
	err = get_err(0, b, size, NULL, &count, &gran);
	CHECK(err == EFAULT, "NULL addresses: %d", err);
	count = 0;
	err = get_err(0, b, size, NULL, &count, &gran);
	CHECK(err == EINVAL, "NULL addresses, count 0: %d", err);
	count = 64;
	err = get_err(0xdeadbeef, b, size, out, &count, &gran);
	CHECK(err == EINVAL, "flags 0xdeadbeef: %d", err);
	err = get_err(0, b, 0, out, &count, &gran);
	CHECK(err == EINVAL, "size 0: %d", err);
	err = get_err(0, b, size * 2, out, &count, &gran);
	CHECK(err == EINVAL, "size twice the region: %d", err);
	err = get_err(0, b + size - ps, ps + 1, out, &count, &gran);
	CHECK(err == EINVAL, "one byte past the region: %d", err);
	err = get_err(0, b - 1, 2, out, &count, &gran);
	CHECK(err == EINVAL, "one byte before the region: %d", err);
	err = get_err(0, b, SIZE_MAX, out, &count, &gran);
	CHECK(err == EINVAL, "size SIZE_MAX: %d", err);
	CHECK(count == 64, "count changed by a failed call: %ju", (uintmax_t)count);
	err = ww_reset_write_watch(b, 0);
	CHECK(err == EINVAL, "ResetWriteWatch size 0: %d", err);
	err = ww_reset_write_watch(b + ps, size);
	CHECK(err == EINVAL, "ResetWriteWatch past the region: %d", err);
	/* None of that reset anything. */
	EXPECT(0, b, size, 64, 0);
	errno = 0;
	CHECK(!ww_alloc(0) && errno == EINVAL, "ww_alloc(0): errno %d", errno);
	err = ww_free(b + ps);
	CHECK(err == EINVAL, "ww_free inside a region: %d", err);
	err = ww_free(NULL);
	CHECK(err == EINVAL, "ww_free(NULL): %d", err);
	err = ww_set_backend("no-such-backend");
	CHECK(err == EINVAL || err == EBUSY, "ww_set_backend(unknown): %d", err);
	ww_free(b);
}

static char static_page[1 << 16];

static void case_not_write_watched(void)
{
	char *b = alloc_pages(4);
	char *heap = malloc(4 * ps);
	char stack[64];
	unsigned long gran;
	void *out[64];
	uintptr_t count = 64;
	void *bases[] = { NULL, heap, stack, static_page, (void *)"read-only data" };

	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		int err = get_err(0, bases[i], ps, out, &count, &gran);

		CHECK(err == EINVAL, "GetWriteWatch(%p): %d", bases[i], err);
		err = ww_reset_write_watch(bases[i], ps);
		CHECK(err == EINVAL, "ResetWriteWatch(%p): %d", bases[i], err);
	}
	CHECK(ww_free(b) == 0, "ww_free");
	CHECK(get_err(0, b, ps, out, &count, &gran) == EINVAL, "GetWriteWatch of a freed region");
	CHECK(ww_reset_write_watch(b, ps) == EINVAL, "ResetWriteWatch of a freed region");
	CHECK(ww_free(b) == EINVAL, "ww_free twice");
	free(heap);
}

/* Sizes round up to pages; every page of a region can be reported. */
static void case_every_page(void)
{
	size_t n = 100;
	char *b = ww_alloc(n * ps - 10);
	void **out = calloc(n + 1, sizeof(*out));
	uintptr_t got;

	CHECK(b != NULL, "ww_alloc: %s", strerror(errno));
	if (!b)
		return;
	memset(b, 0x5a, n * ps);
	got = get(WW_RESET, b, n * ps, out, n + 1);
	CHECK(got == n, "%ju pages of %zu", (uintmax_t)got, n);
	for (size_t i = 0; i < got; i++)
		CHECK(out[i] == b + i * ps, "entry %zu is %p", i, out[i]);
	EXPECT(0, b, n * ps, 64, NONE);
	/* The data survived the resets. */
	CHECK(b[0] == 0x5a && b[n * ps - 1] == 0x5a, "data lost");
	free(out);
	ww_free(b);
}

/* addresses[] in watched memory: the report's own writes are watched too. */
static void case_report_into_watched_memory(void)
{
	char *b = alloc_pages(16);
	void **out = (void **)(b + 8 * ps);
	uintptr_t count = 8;
	unsigned long gran;
	int err;

	b[0] = b[ps] = b[3 * ps] = 1;
	err = ww_get_write_watch(WW_RESET, b, 8 * ps, out, &count, &gran);
	CHECK(!err && count == 3, "err %d count %ju", err, (uintmax_t)count);
	CHECK(out[0] == b && out[1] == b + ps && out[2] == b + 3 * ps, "wrong report");
	EXPECT(0, b, 16 * ps, 64, 8);
	ww_free(b);
}

struct writer {
	char *base;
	size_t first, npages, rounds;
	bool done;		/* atomic */
};

static void *write_pages(void *arg)
{
	struct writer *w = arg;

	for (size_t r = 0; r < w->rounds; r++)
		for (size_t i = w->first; i < w->first + w->npages; i++)
			((volatile char *)w->base)[i * ps + r % ps] = (char)r;
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

static void case_other_threads(void)
{
	char *b = alloc_pages(16);
	struct writer w[3] = {
		{ b, 1, 2, 1, false }, { b, 5, 1, 1, false }, { b, 9, 3, 1, false },
	};
	pthread_t t[3];

	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, write_pages, &w[i]);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	EXPECT(WW_RESET, b, 16 * ps, 64, 1, 2, 5, 9, 10, 11);
	ww_free(b);
}

/*
 * Reports with WW_RESET while another thread keeps writing every page: a
 * page reset while its write races must stay watched. After the writer
 * stops and one last reset, each page is written once more and must be
 * reported; a page left writable but not marked would be missing.
 */
static void case_reset_racing_writes(void)
{
	enum { N = 32 };
	char *b = alloc_pages(N);
	struct writer w = { b, 0, N, 200, false };
	bool seen[N] = { false };
	void *out[N];
	pthread_t t;
	uintptr_t n;

	pthread_create(&t, NULL, write_pages, &w);
	for (int round = 0; !__atomic_load_n(&w.done, __ATOMIC_ACQUIRE); round++) {
		n = get(WW_RESET, b, N * ps, out, round % 2 ? N : 5);
		for (uintptr_t i = 0; i < n; i++)
			seen[((char *)out[i] - b) / (long)ps] = true;
	}
	pthread_join(t, NULL);
	n = get(WW_RESET, b, N * ps, out, N);
	for (uintptr_t i = 0; i < n; i++)
		seen[((char *)out[i] - b) / (long)ps] = true;
	for (int i = 0; i < N; i++)
		CHECK(seen[i], "page %d written but never reported", i);
	for (int i = 0; i < N; i++)
		b[i * ps] = 7;
	n = get(0, b, N * ps, out, N);
	CHECK(n == N, "after the race, %ju of %d written pages reported", (uintmax_t)n, N);
	ww_free(b);
}

/* After fork() the child watches its own copy (not the parent's pages). */
static void case_fork(void)
{
	char *b = alloc_pages(8);
	pid_t pid;
	int status;

	b[0] = 1;
	pid = fork();
	if (pid == 0) {
		void *out[8];
		uintptr_t count = 8;
		unsigned long gran;

		b[3 * ps] = 1;
		if (ww_get_write_watch(0, b, 8 * ps, out, &count, &gran))
			_exit(2);
		_exit(count == 2 && out[0] == b && out[1] == b + 3 * ps ? 0 : 3);
	}
	CHECK(pid > 0, "fork: %s", strerror(errno));
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "child: status %#x (2: GetWriteWatch failed, 3: wrong pages)", status);
	EXPECT(0, b, 8 * ps, 8, 0);
	ww_free(b);
}

/*
 * The kernel writing on the program's behalf: read(2) into the region. The
 * pagemap and userfaultfd backends count it as Windows does; the mprotect
 * backend cannot let the kernel write a read-only page: read(2) fails with
 * EFAULT and nothing is written (README.md, the mprotect backend's limits).
 */
static void case_kernel_writes(const char *backend)
{
	char *b = alloc_pages(8);
	int fds[2];
	ssize_t got;

	if (pipe(fds)) {
		CHECK(false, "pipe: %s", strerror(errno));
		ww_free(b);
		return;
	}
	CHECK(write(fds[1], "hello", 5) == 5, "write to the pipe");
	got = read(fds[0], b + 5 * ps + 10, 5);
	if (!strcmp(backend, "mprotect")) {
		CHECK(got == -1 && errno == EFAULT, "read(2) into a clean page: %zd (%s)", got,
		      strerror(errno));
		EXPECT(0, b, 8 * ps, 8, NONE);
	} else {
		CHECK(got == 5 && !memcmp(b + 5 * ps + 10, "hello", 5), "read(2): %zd", got);
		EXPECT(0, b, 8 * ps, 8, 5);
	}
	close(fds[0]);
	close(fds[1]);
	ww_free(b);
}

/*
 * Under AddressSanitizer (the asan suite): its SIGSEGV handler would be the
 * "previous handler" and report the faults this test makes on purpose.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "handle_segv=0";
}

static sigjmp_buf caught_jmp;

static void catch_segv(int sig)
{
	siglongjmp(caught_jmp, 1);
}

/*
 * A fresh process (this program again, "--fault-child BACKEND HANDLER
 * KIND"): a fault outside the watched regions with the library's handler
 * installed after the program's own (HANDLER 1) or with none before it
 * (0). Fresh, because the library installs its handler once per process
 * and a child of this one would inherit it. Exits 0 if the program's own
 * handler got the fault; dies of SIGSEGV by the default action.
 */
static int fault_child(const char *backend, bool handler, int kind)
{
	char *ro = mmap(NULL, ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct rlimit no_core = { 0, 0 };
	char *b;

	setrlimit(RLIMIT_CORE, &no_core);
	if (handler) {
		struct sigaction sa = { .sa_handler = catch_segv };

		sigaction(SIGSEGV, &sa, NULL);
	}
	if (ww_set_backend(backend))
		return 10;
	b = ww_alloc(4 * ps);
	if (!b || ro == MAP_FAILED)
		return 11;
	b[0] = 1;	/* the library's handler (if any) is in place and works */
	if (sigsetjmp(caught_jmp, 1))
		return 0;
	switch (kind) {
	case 0: *(volatile char *)ro = 1; break;		/* read-only, not ours */
	case 1: *(volatile char *)(b - 1) = 1; break;		/* our guard page */
	case 2: *(volatile char *)(b + 4 * ps) = 1; break;	/* the other guard */
	}
	return 12;
}

/* The wait status of a fault_child() run, or -1. */
static int fault_outside(const char *backend, bool handler, int kind)
{
	char kind_arg[2] = { (char)('0' + kind), 0 };
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		execl("/proc/self/exe", "test-writewatch", "--fault-child", backend,
		      handler ? "1" : "0", kind_arg, (char *)NULL);
		_exit(13);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void case_faults_outside_reach_previous_handler(const char *backend)
{
	for (int kind = 0; kind < 3; kind++) {
		int st = fault_outside(backend, true, kind);

		CHECK(st == 0, "kind %d, with a handler: status %#x, want exit 0 (10: backend refused, "
		      "11: ww_alloc failed, 12: no fault, 13: exec failed)", kind, st);
		st = fault_outside(backend, false, kind);
		CHECK(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
		      "kind %d, no handler: status %#x, want death by SIGSEGV", kind, st);
	}
}

struct test_case {
	const char *name;
	void (*run)(void);
	void (*run_backend)(const char *backend);
};

static const struct test_case cases[] = {
	{ "faults outside watched memory reach the previous handler or kill", NULL,
	  case_faults_outside_reach_previous_handler },
	{ "a fresh region has no written page", case_fresh_region_is_clean, NULL },
	{ "a written page is reported until reset", case_written_until_reset, NULL },
	{ "ascending order, sub-ranges, ResetWriteWatch, writes across pages",
	  case_ascending_subrange_and_reset, NULL },
	{ "a count below the written pages reports (and resets) the first ones",
	  case_count_limit, NULL },
	{ "unaligned bases and sizes widen to whole pages", case_unaligned_base, NULL },
	{ "invalid parameters: EINVAL (ERROR_INVALID_PARAMETER), EFAULT (ERROR_NOACCESS)",
	  case_invalid_parameters, NULL },
	{ "memory that is not write-watched: EINVAL", case_not_write_watched, NULL },
	{ "every page of a region, size not a page multiple", case_every_page, NULL },
	{ "the report written into watched memory", case_report_into_watched_memory, NULL },
	{ "writes by other threads", case_other_threads, NULL },
	{ "resets racing with writes lose no write", case_reset_racing_writes, NULL },
	{ "a forked child watches its own pages", case_fork, NULL },
	{ "read(2) into the region", NULL, case_kernel_writes },
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

int main(int argc, char **argv)
{
	const char *backends[8], *unavailable[8];
	int nbackends = 0, nunavailable = 0;

	ps = (size_t)sysconf(_SC_PAGESIZE);
	if (argc == 5 && !strcmp(argv[1], "--fault-child"))
		return fault_child(argv[2], argv[3][0] == '1', argv[4][0] - '0');
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--backend") && i + 1 < argc && nbackends < 8) {
			backends[nbackends++] = argv[++i];
		} else if (!strcmp(argv[i], "--unavailable") && i + 1 < argc && nunavailable < 8) {
			unavailable[nunavailable++] = argv[++i];
		} else {
			fprintf(stderr, "usage: %s [--backend NAME]... [--unavailable NAME]...\n"
				"NAME: pagemap-ioctl, mprotect or userfaultfd\n", argv[0]);
			return 2;
		}
	}
	if (!nbackends)
		backends[nbackends++] = "mprotect";
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", NCASES * (size_t)nbackends + (size_t)nunavailable);
	for (int u = 0; u < nunavailable; u++) {
		int err = ww_set_backend(unavailable[u]);

		printf("%s %d - %s is refused as unavailable: %s\n",
		       err == ENOTTY || err == EOPNOTSUPP ? "ok" : "not ok", ++test_no,
		       unavailable[u], err ? strerror(err) : "accepted");
		failed_any |= !(err == ENOTTY || err == EOPNOTSUPP);
	}
	for (int b = 0; b < nbackends; b++) {
		int err = ww_set_backend(backends[b]);

		if (err) {
			printf("Bail out! backend %s cannot work here: %s\n", backends[b], strerror(err));
			return 1;
		}
		for (size_t c = 0; c < NCASES; c++) {
			case_failed = false;
			if (cases[c].run)
				cases[c].run();
			else
				cases[c].run_backend(backends[b]);
			printf("%s %d - %s: %s\n", case_failed ? "not ok" : "ok", ++test_no,
			       backends[b], cases[c].name);
			failed_any |= case_failed;
		}
	}
	return failed_any;
}
