/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * accuracy: DirtyBytesPerSec against what a workload really wrote, with the
 * daemon's backend of this session. Run inside tools/dirtyrate-session (in
 * the VM: soft-dirty backends need our kernel).
 *
 *   accuracy --bindir DIR [--rates 100,10000,100000] [--passes N]
 *
 * For each rate W, dirtyrate-workload writes W distinct pages/s (no page
 * twice within 2 s, longer than an interval) and publishes its own count
 * of pages written (--count-file). On every pass's PropertiesChanged this
 * program reads that count at once; the truth of an interval is the count's
 * growth between two signals over the time between them. A slow guest may
 * not sustain W: the truth is what was written, and "achieved" says how
 * much that was. Errors are DirtyBytesPerSec / truth - 1 per interval
 * (median, 90th percentile and worst |error| over N intervals), and over
 * the whole window (DirtiedBytesTotal's growth / pages written).
 *
 * The workload also dirties a page or two of its own per interval (its
 * stack, the count file's page): first a run with W = 0 measures those
 * "background" pages per interval, and the truth of every interval below
 * includes them. At W = 100 they are about 1.5 % of the truth.
 *
 * Also the moving averages' start: the first interval runs from the
 * baseline pass in TrackProcess to the next timer tick, so it is often
 * short; its length and error, and Avg10's error 3 s and N s after it, are
 * printed (see rate.h: a short first interval weighs its length).
 */
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bench-lib.h"
#include "bus-test-lib.h"
#include "tests.h"
#include "util.h"

#define MAX_INTERVALS 120

struct reading {
	uint64_t count;		/* pages the workload wrote, when the signal arrived */
	uint64_t recv_nsec;	/* CLOCK_MONOTONIC when it arrived */
	double avg10;
};

static const volatile uint64_t *map_count(const char *file) {
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	void *p;

	ASSERT_TRUE(fd >= 0);
	p = mmap(NULL, sizeof(uint64_t), PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_TRUE(p != MAP_FAILED);
	close(fd);
	return p;
}

/*
 * One connection per rate: watch_changes()'s match lives as long as it.
 * @background: pages per interval the workload dirties besides its writes.
 * Returns the dirty pages per interval seen (the background, when rate is 0).
 */
static double measure(const char *bindir, uint64_t rate, unsigned passes, double background, const char *backend_label) {
	sd_bus *bus = bus_open();
	char pps[64], count_arg[128], file[64], path[PROCESS_PATH_MAX];
	struct changes c = { .path = path };
	struct reading r[MAX_INTERVALS + 1], at_track;
	double err[MAX_INTERVALS], abs_err[MAX_INTERVALS], page = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "PageSize");
	double first_err, first_ms, avg10_3s = NAN, window_err, achieved, truth, worst = 0, per_interval;
	const volatile uint64_t *count;
	uint64_t t_track;
	unsigned n = 0;
	pid_t pid;

	snprintf(file, sizeof(file), "/tmp/accuracy-count.%d", (int) getpid());
	snprintf(pps, sizeof(pps), "--pages-per-sec=%" PRIu64, rate);
	snprintf(count_arg, sizeof(count_arg), "--count-file=%s", file);
	/* --region only for W = 0, where the size cannot follow from the rate. */
	pid = workload_start(bindir, pps, "--unique-window=2", count_arg, rate ? NULL : "--region=1M", NULL);
	count = map_count(file);

	watch_changes(bus, &c);
	t_track = now_nsec();
	track(bus, pid, path);
	/* The baseline pass ran inside TrackProcess: from here the count is the interval's. */
	at_track = (struct reading) { .count = *count, .recv_nsec = now_nsec() };
	for (unsigned i = 0; i <= passes && i <= MAX_INTERVALS; i++) {
		wait_for_changes(bus, &c, i + 1, "a pass");
		r[i] = (struct reading) { .count = *count, .recv_nsec = now_nsec() };
		r[i].avg10 = get_double(bus, path, "DirtyBytesPerSecAvg10");
	}

	per_interval = (double) (c.pass[passes].dirtied_bytes_total - c.pass[0].dirtied_bytes_total) / page / passes;
	if (rate == 0) {
		printf("ACCURACY-BACKGROUND %-14s %.2f pages per interval dirtied besides the writes\n", backend_label,
		       per_interval);
		goto done;
	}

	/* The first interval: from TrackProcess's baseline to the first signal. */
	truth = (r[0].count - at_track.count + background) * page * 1e9 / (r[0].recv_nsec - at_track.recv_nsec);
	first_err = c.pass[0].dirty_bytes_per_sec / truth - 1;
	first_ms = (r[0].recv_nsec - (t_track + at_track.recv_nsec) / 2) / 1e6;

	for (unsigned i = 1; i <= passes && i <= MAX_INTERVALS; i++) {
		truth = (r[i].count - r[i - 1].count + background) * page * 1e9 / (r[i].recv_nsec - r[i - 1].recv_nsec);
		err[n] = c.pass[i].dirty_bytes_per_sec / truth - 1;
		abs_err[n] = fabs(err[n]);
		worst = fabs(err[n]) > fabs(worst) ? err[n] : worst;
		n++;
		if (isnan(avg10_3s) && r[i].recv_nsec - r[0].recv_nsec >= 3 * UINT64_C(1000000000))
			avg10_3s = r[i].avg10 / truth - 1;
	}
	window_err = (double) (c.pass[n].dirtied_bytes_total - c.pass[0].dirtied_bytes_total) /
		((r[n].count - r[0].count + background * n) * page) - 1;
	achieved = (r[n].count - r[0].count) * 1e9 / (r[n].recv_nsec - r[0].recv_nsec);
	truth = (r[n].count - r[0].count + background * n) * page * 1e9 / (r[n].recv_nsec - r[0].recv_nsec);

	printf("ACCURACY %-14s %7" PRIu64 " %9.0f %6.1f%% %4u %+8.2f%% %8.2f%% %8.2f%% %+8.2f%% %+8.2f%% %8.0f %+8.2f%% %+8.2f%% %+8.2f%%\n",
	       backend_label, rate, achieved, 100 * achieved / rate, n, 100 * percentile(err, n, 0.5),
	       100 * percentile(abs_err, n, 0.5), 100 * percentile(abs_err, n, 0.9), 100 * worst, 100 * window_err,
	       first_ms, 100 * first_err, 100 * avg10_3s, 100 * (r[n].avg10 / truth - 1));
done:
	fflush(stdout);

	expect_ok(manager_call(bus, "UntrackProcess", NULL, "u", (uint32_t) pid), "UntrackProcess");
	kill_and_reap(pid);
	munmap((void *) count, sizeof(uint64_t));
	unlink(file);
	sd_bus_flush_close_unref(bus);
	return per_interval;
}

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "bindir", required_argument, NULL, 'b' },
		{ "rates",  required_argument, NULL, 'r' },
		{ "passes", required_argument, NULL, 'p' },
		{}
	};
	char rates_buf[256] = "100,10000,100000", load[64];
	unsigned passes = 10;
	double background;
	const char *bindir = NULL;
	char *backend;
	sd_bus *bus;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		switch (opt) {
		case 'b':
			bindir = optarg;
			break;
		case 'r':
			snprintf(rates_buf, sizeof(rates_buf), "%s", optarg);
			break;
		case 'p':
			passes = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (!bindir || passes < 4 || passes > MAX_INTERVALS)
		FAIL("usage: accuracy --bindir DIR [--rates W,...] [--passes 4-%d]", MAX_INTERVALS);

	bus = bus_open();
	backend = get_string(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Backend");
	printf("accuracy of DirtyBytesPerSec, %u intervals of %.1f s per rate; load %s\n", passes,
	       get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec") / 1e6, loadavg(load, sizeof(load)));
	background = measure(bindir, 0, passes, 0, backend);
	printf("%-23s %7s %9s %7s %4s %9s %9s %9s %9s %9s %8s %9s %9s %9s\n", "", "W pg/s", "achieved", "of W",
	       "n", "median", "med |e|", "p90 |e|", "worst", "window", "1st ms", "1st err", "avg10@3s", "avg10@end");
	fflush(stdout);
	for (char *s = strtok(rates_buf, ","); s; s = strtok(NULL, ","))
		measure(bindir, strtoull(s, NULL, 10), passes, background, backend);
	free(backend);
	sd_bus_flush_close_unref(bus);
	return 0;
}
