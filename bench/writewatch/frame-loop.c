// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-writewatch: a game's frame loop over lib/writewatch, per backend.
 *
 * A frame writes one byte into each of k pages of a write-watched region
 * (k = the dirty share of its pages, spread evenly over it and moving from
 * frame to frame), then asks GetWriteWatch(WW_RESET) for the pages written,
 * as a game that re-uploads only the changed parts of a buffer does. The
 * frame is timed whole: the writes are where mprotect+SIGSEGV pays (a signal
 * and an mprotect() per written page), the call is where the ioctl pays (a
 * walk of the range). Each frame's report is checked, untimed: exactly
 * the pages written, ascending; a wrong one fails the run.
 *
 * Backends take turns in blocks of frames, round after round, so that load
 * that changes during the run (TCG on a shared host) hits them alike. The
 * same writes to unwatched memory are timed too ("writes only"). Ratios are
 * each fallback's median frame (mprotect+SIGSEGV as Wine does it, and
 * userfaultfd with a handler thread: the 2022 cover letter's two) over
 * ours (pagemap-ioctl).
 *
 * Needs our kernel for the pagemap backend: run it in the VM (bench/run
 * --only writewatch). Options: --pages N, --shares P,... (percent),
 * --frames N (per block at 1 %; fewer at larger shares), --rounds N, --quick.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "writewatch.h"

/* The fallbacks first, ours last: ratios are theirs over ours. */
static const char *const backends[] = { "mprotect", "userfaultfd", "pagemap-ioctl" };
#define NBACKENDS	3
#define OURS		NBACKENDS	/* its column */
#define NCOLS		(NBACKENDS + 1)		/* + writes only */

static size_t ps;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Page j of k written in frame f: evenly spread, shifted each frame. */
static size_t page_of(size_t j, size_t k, size_t npages, unsigned int f)
{
	return (j * npages / k + f) % npages;
}

static void write_frame(char *base, size_t npages, size_t k, unsigned int f)
{
	for (size_t j = 0; j < k; j++)
		((volatile char *)base)[page_of(j, k, npages, f) * ps + j % ps] = (char)f;
}

/* Untimed: exactly the pages frame f wrote, ascending. */
static bool report_is_right(char *base, size_t npages, size_t k, unsigned int f,
			    void **addrs, uintptr_t count)
{
	static unsigned char *written;
	static size_t cap;
	bool right = count == k;

	if (cap < npages) {
		free(written);
		written = calloc(npages, 1);
		cap = written ? npages : 0;
		if (!written)
			return false;
	}
	memset(written, 0, npages);
	for (size_t j = 0; j < k; j++)
		written[page_of(j, k, npages, f)] = 1;
	for (uintptr_t i = 0; i < count && right; i++) {
		size_t p = (size_t)((char *)addrs[i] - base) / ps;

		right = (char *)addrs[i] >= base && p < npages && written[p] &&
			(!i || addrs[i] > addrs[i - 1]);
	}
	return right;
}

/*
 * One block of frames with a backend (NULL: unwatched memory, writes only).
 * Frame times go to out[]; the GetWriteWatch() call's alone to call_out[].
 * Returns 0, or 1 after saying what was wrong.
 */
static int run_block(const char *backend, size_t npages, size_t k, unsigned int frames,
		     unsigned int *frame_no, double *out, double *call_out)
{
	void **addrs = calloc(npages, sizeof(*addrs));
	unsigned long gran;
	char *base;
	int err;

	if (!addrs)
		return fprintf(stderr, "bench-writewatch: out of memory\n"), 1;
	if (backend) {
		err = ww_set_backend(backend);
		if (err) {
			fprintf(stderr, "bench-writewatch: backend %s: %s\n", backend, strerror(err));
			free(addrs);
			return 1;
		}
		base = ww_alloc(npages * ps);
	} else {
		base = mmap(NULL, npages * ps, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		base = base == MAP_FAILED ? NULL : base;
	}
	if (!base) {
		fprintf(stderr, "bench-writewatch: allocating %zu pages: %s\n", npages, strerror(errno));
		free(addrs);
		return 1;
	}
	/* Populated and reset: frames time writes to memory in use. */
	memset(base, 1, npages * ps);
	if (backend)
		ww_reset_write_watch(base, npages * ps);
	/* One frame untimed: the first one after the reset warms caches. */
	for (unsigned int i = 0; i <= frames; i++) {
		unsigned int f = (*frame_no)++;
		uintptr_t count = npages;
		double t0, t1, t2;

		t0 = now_ns();
		write_frame(base, npages, k, f);
		t1 = now_ns();
		if (backend) {
			err = ww_get_write_watch(WW_RESET, base, npages * ps, addrs, &count, &gran);
			t2 = now_ns();
			if (err || !report_is_right(base, npages, k, f, addrs, count)) {
				fprintf(stderr, "bench-writewatch: %s, %zu of %zu pages: wrong report "
					"(err %d, count %ju)\n", backend, k, npages, err, (uintmax_t)count);
				free(addrs);
				ww_free(base);
				return 1;
			}
		} else {
			t2 = t1;
		}
		if (i) {
			out[i - 1] = t2 - t0;
			call_out[i - 1] = t2 - t1;
		}
	}
	if (backend)
		ww_free(base);
	else
		munmap(base, npages * ps);
	free(addrs);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-writewatch [--pages N] [--shares P,...] [--frames N] "
		"[--rounds N] [--quick]\n");
	exit(2);
}

static unsigned long number(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || !v)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	size_t npages = 10000;
	double shares[8] = { 1, 10, 100 };
	int nshares = 3;
	unsigned int frames = 40, rounds = 3;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			frames = 8;
			rounds = 2;
		} else if (i + 1 >= argc) {
			usage();
		} else if (!strcmp(argv[i], "--pages")) {
			npages = number(argv[++i]);
		} else if (!strcmp(argv[i], "--frames")) {
			frames = (unsigned int)number(argv[++i]);
		} else if (!strcmp(argv[i], "--rounds")) {
			rounds = (unsigned int)number(argv[++i]);
		} else if (!strcmp(argv[i], "--shares")) {
			char *s = argv[++i], *end;

			for (nshares = 0; *s && nshares < 8; nshares++) {
				shares[nshares] = strtod(s, &end);
				if (end == s || shares[nshares] <= 0 || shares[nshares] > 100 ||
				    (*end && *end != ','))
					usage();
				s = *end ? end + 1 : end;
			}
		} else {
			usage();
		}
	}
	ps = (size_t)sysconf(_SC_PAGESIZE);

	printf("bench-writewatch: frame loop over %zu pages: write k pages, then "
	       "GetWriteWatch(WW_RESET); %u rounds, median ns per frame\n", npages, rounds);
	printf("%-7s %6s %12s %12s %12s %12s %9s %9s %12s %12s %12s\n", "written", "pages",
	       "writes only", "mprotect", "userfaultfd", "ours", "mprot/ours", "uffd/ours",
	       "mprot call", "uffd call", "ours call");
	for (int s = 0; s < nshares; s++) {
		size_t k = (size_t)(shares[s] * (double)npages / 100 + 0.5);
		/* Fewer frames where each is long: the 100 % ones take 0.5 s under TCG. */
		unsigned int f = shares[s] >= 50 ? (frames + 7) / 8 : shares[s] >= 5 ? (frames + 1) / 2 : frames;
		double *t[NCOLS], *call[NCOLS], med[NCOLS], call_med[NCOLS];
		unsigned int frame_no = 1;

		if (!k)
			k = 1;
		for (int c = 0; c < NCOLS; c++) {
			t[c] = calloc((size_t)f * rounds, sizeof(double));
			call[c] = calloc((size_t)f * rounds, sizeof(double));
			if (!t[c] || !call[c])
				return fprintf(stderr, "bench-writewatch: out of memory\n"), 1;
		}
		for (unsigned int r = 0; r < rounds && !status; r++)
			for (int c = 0; c < NCOLS && !status; c++)
				status = run_block(c ? backends[c - 1] : NULL, npages, k, f, &frame_no,
						   t[c] + (size_t)r * f, call[c] + (size_t)r * f);
		if (status)
			return status;
		for (int c = 0; c < NCOLS; c++) {
			med[c] = median(t[c], (size_t)f * rounds);
			call_med[c] = median(call[c], (size_t)f * rounds);
			free(t[c]);
			free(call[c]);
		}
		printf("%6g%% %6zu %12.0f %12.0f %12.0f %12.0f %9.1fx %8.1fx %12.0f %12.0f %12.0f\n",
		       shares[s], k, med[0], med[1], med[2], med[OURS], med[1] / med[OURS],
		       med[2] / med[OURS], call_med[1], call_med[2], call_med[OURS]);
		fflush(stdout);
	}
	printf("ours = pagemap-ioctl; ratios: a fallback's frame over ours (>1: ours is faster); "
	       "call = the GetWriteWatch() call alone, the rest of a frame is its writes\n");
	return 0;
}
