/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sample-cost: what one sample pass of dirtyrated costs per tracked page,
 * with the daemon's backend of this session. Run inside
 * tools/dirtyrate-session (in the VM: soft-dirty backends need our kernel).
 *
 *   sample-cost --bindir DIR [--sizes 1M,256M,4G] [--rates 0,2560] [--passes N]
 *
 * For each region size and write rate, one dirtyrate-workload with a
 * populated region of that size is the only tracked process; after the
 * first periodic pass, the Manager's LastSampleDurationUSec (wall time of
 * the whole pass: /proc reads, the backend's get+clear, the fault counter
 * snapshot, accounting and the PropertiesChanged signal) is read after each
 * of N passes. ns per tracked page = pass time / (ScannedBytes / page size);
 * ScannedBytes counts every writable mapping walked (region, heap, stack,
 * libraries' data). The 1 MiB process shows the fixed cost of a pass per
 * process (reading /proc, one call per mapping, the signal).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-lib.h"
#include "bus-test-lib.h"
#include "config.h"
#include "tests.h"
#include "util.h"

struct cell {
	double pass_ms, min_ms, max_ms;
	uint64_t tracked_pages, dirty_pages;
	char backend[32];
};

/* One connection per cell: watch_changes()'s match lives as long as it. */
static struct cell measure(const char *bindir, const char *size, const char *rate, unsigned passes) {
	sd_bus *bus = bus_open();
	char region[64], pps[64], path[PROCESS_PATH_MAX];
	struct changes c = { .path = path };
	double ms[64];
	uint64_t d0, page = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "PageSize");
	struct cell cell = {};
	char *backend;
	pid_t pid;

	snprintf(region, sizeof(region), "--region=%s", size);
	snprintf(pps, sizeof(pps), "--pages-per-sec=%s", rate);
	pid = workload_start(bindir, region, pps, NULL);
	track(bus, pid, path);
	watch_changes(bus, &c);
	/* The first periodic pass ends the interval begun at TrackProcess. */
	wait_for_changes(bus, &c, 1, "the first pass");
	d0 = c.pass[0].dirtied_bytes_total;
	for (unsigned i = 0; i < passes; i++) {
		wait_for_changes(bus, &c, i + 2, "a pass");
		ms[i] = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleDurationUSec") / 1000.0;
	}
	cell.tracked_pages = get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "ScannedBytes") / page;
	cell.dirty_pages = (c.pass[passes].dirtied_bytes_total - d0) / page / passes;
	backend = get_string(bus, path, DIRTYRATE_PROCESS_INTERFACE, "Backend");
	snprintf(cell.backend, sizeof(cell.backend), "%s", backend);
	free(backend);
	cell.pass_ms = percentile(ms, passes, 0.5);
	cell.min_ms = ms[0];
	cell.max_ms = ms[passes - 1];

	expect_ok(manager_call(bus, "UntrackProcess", NULL, "u", (uint32_t) pid), "UntrackProcess");
	kill_and_reap(pid);
	sd_bus_flush_close_unref(bus);
	return cell;
}

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "bindir", required_argument, NULL, 'b' },
		{ "sizes",  required_argument, NULL, 's' },
		{ "rates",  required_argument, NULL, 'r' },
		{ "passes", required_argument, NULL, 'p' },
		{}
	};
	char sizes_buf[256] = "1M,256M,4G", rates_buf[256] = "0,2560", *sizes[8], *rates[8], load[64];
	unsigned passes = 5, n_sizes = 0, n_rates = 0;
	const char *bindir = NULL;
	struct cell cells[8][8];
	sd_bus *bus;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		switch (opt) {
		case 'b':
			bindir = optarg;
			break;
		case 's':
			snprintf(sizes_buf, sizeof(sizes_buf), "%s", optarg);
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
	if (!bindir || passes < 1 || passes > 64)
		FAIL("usage: sample-cost --bindir DIR [--sizes S,...] [--rates R,...] [--passes 1-64]");
	for (char *s = strtok(sizes_buf, ","); s && n_sizes < 8; s = strtok(NULL, ","))
		sizes[n_sizes++] = s;
	for (char *s = strtok(rates_buf, ","); s && n_rates < 8; s = strtok(NULL, ","))
		rates[n_rates++] = s;

	for (unsigned i = 0; i < n_sizes; i++)
		for (unsigned k = 0; k < n_rates; k++)
			cells[i][k] = measure(bindir, sizes[i], rates[k], passes);
	/* Only now: a connection left unused that long is dropped by the bus. */
	bus = bus_open();

	printf("sample pass cost, one tracked process, median of %u passes at %.1f s intervals; load %s\n", passes,
	       get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec") / 1e6, loadavg(load, sizeof(load)));
	printf("%-26s %6s %8s %10s %12s %10s %8s %8s %13s\n", "", "region", "pages/s", "tracked pg",
	       "dirty pg/pass", "pass ms", "min", "max", "ns/tracked pg");
	for (unsigned i = 0; i < n_sizes; i++)
		for (unsigned k = 0; k < n_rates; k++) {
			struct cell *c = &cells[i][k];

			printf("SAMPLE-COST %-14s %6s %8s %10" PRIu64 " %12" PRIu64 " %10.2f %8.2f %8.2f %13.1f\n",
			       c->backend, sizes[i], rates[k], c->tracked_pages, c->dirty_pages, c->pass_ms, c->min_ms,
			       c->max_ms, c->pass_ms * 1e6 / c->tracked_pages);
		}
	sd_bus_flush_close_unref(bus);
	return 0;
}
