/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dirtyrate-workload: dirty a known number of distinct pages per second, so a
 * reported dirty rate can be compared with the truth.
 *
 * Pages are written round-robin through a region large enough that no page
 * is written twice within --unique-window seconds: any sampler whose interval
 * is shorter than that sees exactly rate × interval dirty pages.
 *
 * For the benchmarks: --region sets the region's size instead (a tracked
 * process of a given size; --pages-per-sec=0 then only populates it), and
 * --count-file publishes the number of pages written so far, so that a
 * workload that cannot keep up (a slow guest) is judged by what it did.
 * --progress-log writes when each tick's writes were done, so that a
 * benchmark knows the pages written between any two moments (a sampler's
 * passes), whatever the scheduler did to the workload.
 *
 * --fresh gives each page back to the kernel (MADV_DONTNEED) before writing
 * it again, so every write is a first-touch fault: the dirtying that write
 * fault counts (the faults-only backend, on kernels without soft-dirty) see
 * exactly. Without it, rewriting a page that is already writable does not
 * fault, and only soft-dirty sees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "parse-util.h"	/* parse_size_bytes(), as for MinResidentBytes= */

#define TICKS_PER_SEC 100

static volatile sig_atomic_t stop;

static void on_signal(int sig) {
	(void) sig;
	stop = 1;
}

static int parse_u64(const char *s, uint64_t *ret) {
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return -EINVAL;
	*ret = v;
	return 0;
}

static void help(void) {
	printf("dirtyrate-workload [OPTIONS...]\n\n"
	       "Dirty a known number of distinct pages per second.\n\n"
	       "  -h --help                Show this help\n"
	       "     --pages-per-sec=N     Distinct pages to dirty per second (default 2560)\n"
	       "     --unique-window=SEC   No page is dirtied twice within SEC seconds (default 4)\n"
	       "     --seconds=SEC         Stop after SEC seconds (default: run until SIGTERM)\n"
	       "     --region=BYTES        Size of the region (K/M/G suffixes; default: twice the\n"
	       "                           window's pages); with 0 pages/s it is only populated\n"
	       "     --count-file=PATH     Keep the pages written so far in PATH, a native-endian\n"
	       "                           64-bit integer updated every 10 ms tick\n"
	       "     --progress-log=PATH   Write \"<CLOCK_MONOTONIC usec> <pages written>\" lines to PATH\n"
	       "                           after each tick's writes\n"
	       "     --fresh               Drop each page before writing it again, so every\n"
	       "                           write is a first-touch fault (what faults-only sees)\n"
	       "     --quiet               Do not print the truth line\n");
}

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "help",          no_argument,       NULL, 'h' },
		{ "pages-per-sec", required_argument, NULL, 'r' },
		{ "unique-window", required_argument, NULL, 'w' },
		{ "seconds",       required_argument, NULL, 's' },
		{ "quiet",         no_argument,       NULL, 'q' },
		{ "region",        required_argument, NULL, 'R' },
		{ "count-file",    required_argument, NULL, 'c' },
		{ "fresh",         no_argument,       NULL, 'f' },
		{ "progress-log",  required_argument, NULL, 'p' },
		{}
	};
	uint64_t rate = 2560, window = 4, seconds = 0, region_bytes = 0, region_pages, written = 0, ticks;
	volatile uint64_t *count = &written;
	long page_size = sysconf(_SC_PAGESIZE);
	const char *count_file = NULL;
	FILE *progress = NULL;
	struct timespec next;
	int c, quiet = 0, fresh = 0;
	char *region;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		uint64_t *target = c == 'r' ? &rate : c == 'w' ? &window : c == 's' ? &seconds : NULL;

		switch (c) {
		case 'h':
			help();
			return 0;
		case 'q':
			quiet = 1;
			break;
		case 'f':
			fresh = 1;
			break;
		case 'R':
			if (parse_size_bytes(optarg, &region_bytes) < 0 || region_bytes < (uint64_t) page_size) {
				fprintf(stderr, "dirtyrate-workload: invalid size for --region: %s\n", optarg);
				return 1;
			}
			break;
		case 'c':
			count_file = optarg;
			break;
		case 'p':
			progress = fopen(optarg, "we");
			if (!progress) {
				fprintf(stderr, "dirtyrate-workload: %s: %s\n", optarg, strerror(errno));
				return 1;
			}
			/* Readable while it runs (a line per tick). */
			setvbuf(progress, NULL, _IOLBF, 0);
			break;
		case 'r': case 'w': case 's':
			if (parse_u64(optarg, target) < 0) {
				fprintf(stderr, "dirtyrate-workload: invalid number for --%s: %s\n",
					options[c == 'r' ? 1 : c == 'w' ? 2 : 3].name, optarg);
				return 1;
			}
			break;
		default:
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dirtyrate-workload: unexpected argument: %s\n", argv[optind]);
		return 1;
	}
	if ((rate == 0 && !region_bytes) || window == 0 || rate > UINT64_MAX / window / 2) {
		fprintf(stderr, "dirtyrate-workload: --pages-per-sec (without --region) and --unique-window must be > 0\n");
		return 1;
	}

	/* Twice the window's worth, so a page comes round only after 2 windows. */
	region_pages = region_bytes ? region_bytes / page_size : rate * window * 2;
	if (count_file) {
		int fd = open(count_file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0 || ftruncate(fd, sizeof(uint64_t)) < 0 ||
		    (count = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) == MAP_FAILED) {
			fprintf(stderr, "dirtyrate-workload: %s: %s\n", count_file, strerror(errno));
			return 1;
		}
		close(fd);
	}
	region = mmap(NULL, region_pages * page_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (region == MAP_FAILED) {
		fprintf(stderr, "dirtyrate-workload: mmap of %" PRIu64 " pages: %s\n",
			region_pages, strerror(errno));
		return 1;
	}

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if (!quiet) {
		printf("dirtyrate-workload: pid %d dirties %" PRIu64 " distinct pages/s = %" PRIu64
		       " bytes/s (truth)\n", (int) getpid(), rate, rate * page_size);
		fflush(stdout);
	}

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (ticks = 1; !stop && (!seconds || ticks <= seconds * TICKS_PER_SEC); ticks++) {
		/* Pages due by the end of this tick: no drift from rounding. */
		uint64_t due = rate * ticks / TICKS_PER_SEC;

		for (; written < due; written++) {
			char *page = region + (written % region_pages) * page_size;

			if (fresh && madvise(page, page_size, MADV_DONTNEED) < 0) {
				fprintf(stderr, "dirtyrate-workload: madvise(MADV_DONTNEED): %s\n", strerror(errno));
				return 1;
			}
			/* A value no earlier write left there: a page rewritten with
			 * the same bytes is not dirtied for page-sampling, which
			 * compares contents (a byte would repeat every 256 rounds,
			 * and (char) written repeats whenever the region's size is
			 * a multiple of 256 pages). */
			*(volatile uint64_t *) page = written + 1;
		}
		*count = written;
		if (progress) {
			struct timespec now;

			clock_gettime(CLOCK_MONOTONIC, &now);
			fprintf(progress, "%" PRIu64 " %" PRIu64 "\n",
				(uint64_t) now.tv_sec * 1000000 + (uint64_t) now.tv_nsec / 1000, written);
		}

		next.tv_nsec += 1000000000L / TICKS_PER_SEC;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) == EINTR && !stop)
			;
	}
	if (progress && fclose(progress) != 0) {
		fprintf(stderr, "dirtyrate-workload: --progress-log: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}
