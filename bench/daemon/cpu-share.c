/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cpu-share: dirtyrated's CPU time while it tracks many processes, next to
 * the CPU time of those processes themselves, with the daemon's backend of
 * this session. Run inside tools/dirtyrate-session (it needs
 * DIRTYRATED_PID; in the VM for the soft-dirty backends).
 *
 *   cpu-share --bindir DIR [--processes 50] [--region 256M] [--rate 256]
 *             [--seconds 20]
 *
 * Starts the workloads (each a populated region, writing RATE distinct
 * pages/s), tracks them all, lets two passes go by, then measures CPU time
 * (utime + stime, which the kernel scales to the exact runtime) of the
 * daemon, of the bus daemon and of all workloads over SECONDS. Under TCG
 * every number is inflated; the ratio of the daemon's CPU to the
 * workloads' is the figure to compare.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench-lib.h"
#include "bus-test-lib.h"
#include "tests.h"
#include "util.h"

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "bindir",    required_argument, NULL, 'b' },
		{ "processes", required_argument, NULL, 'n' },
		{ "region",    required_argument, NULL, 'R' },
		{ "rate",      required_argument, NULL, 'r' },
		{ "seconds",   required_argument, NULL, 's' },
		{}
	};
	const char *bindir = NULL, *region = "256M", *rate = "256", *daemon_pid_s = getenv("DIRTYRATED_PID");
	/* The session's bus, not any dbus-daemon: a host runs several */
	const char *bus_pid_s = getenv("DIRTYRATE_BUS_PID");
	unsigned n = 50, seconds = 20;
	char region_arg[64], rate_arg[64], path[PROCESS_PATH_MAX], load[64], *backend;
	uint64_t daemon0, daemon1, bus0, bus1, wl0 = 0, wl1 = 0, t0, t1, tracked_bytes = 0, page;
	double pass_ms[64];
	pid_t *pids, daemon_pid, bus_pid;
	unsigned n_pass = 0;
	sd_bus *bus;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		switch (opt) {
		case 'b':
			bindir = optarg;
			break;
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'R':
			region = optarg;
			break;
		case 'r':
			rate = optarg;
			break;
		case 's':
			seconds = strtoul(optarg, NULL, 10);
			break;
		default:
			return 2;
		}
	}
	if (!bindir || !daemon_pid_s || !bus_pid_s || n == 0 || seconds == 0 || seconds > 64)
		FAIL("usage (inside dirtyrate-session): cpu-share --bindir DIR [--processes N] [--region SIZE] "
		     "[--rate PAGES] [--seconds 1-64]");
	daemon_pid = atoi(daemon_pid_s);
	bus_pid = atoi(bus_pid_s);
	snprintf(region_arg, sizeof(region_arg), "--region=%s", region);
	snprintf(rate_arg, sizeof(rate_arg), "--pages-per-sec=%s", rate);

	pids = calloc(n, sizeof(*pids));
	ASSERT_TRUE(pids);
	for (unsigned i = 0; i < n; i++)
		pids[i] = workload_start(bindir, region_arg, rate_arg, "--unique-window=2", NULL);
	bus = bus_open();
	page = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "PageSize");
	for (unsigned i = 0; i < n; i++)
		track(bus, pids[i], path);
	/* Two intervals: every process has had its first periodic pass. */
	usleep(2 * get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec"));

	t0 = now_nsec();
	daemon0 = proc_cpu_usec(daemon_pid);
	bus0 = proc_cpu_usec(bus_pid);
	for (unsigned i = 0; i < n; i++)
		wl0 += proc_cpu_usec(pids[i]);
	/* One look a second at the last pass's duration (each pass, at a 1 s interval). */
	for (unsigned s = 0; s < seconds; s++) {
		sleep(1);
		pass_ms[n_pass++] = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleDurationUSec") / 1000.0;
	}
	t1 = now_nsec();
	daemon1 = proc_cpu_usec(daemon_pid);
	bus1 = proc_cpu_usec(bus_pid);
	for (unsigned i = 0; i < n; i++)
		wl1 += proc_cpu_usec(pids[i]);
	for (unsigned i = 0; i < n; i++) {
		process_path_from_pid(pids[i], path, sizeof(path));
		tracked_bytes += get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "ScannedBytes");
	}
	backend = get_string(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Backend");

	{
		double wall = (t1 - t0) / 1e3, d = daemon1 - daemon0, w = wl1 - wl0, b = bus1 - bus0;
		double pass = percentile(pass_ms, n_pass, 0.5);

		printf("%-24s %9s %6s %7s %9s %9s %9s %7s %9s %10s\n", "", "processes", "pg/s", "wall s", "daemon",
		       "workloads", "dbus", "d/wl", "pass ms", "ns/pg");
		printf("CPU-SHARE %-14s %3u x %-5s %6s %7.1f %8.2f%% %8.2f%% %8.2f%% %7.3f %9.1f %10.1f\n", backend, n, region,
		       rate, wall / 1e6, 100 * d / wall, 100 * w / wall, 100 * b / wall, d / w, pass,
		       pass * 1e6 / (tracked_bytes / page));
		printf("  (load %s)\n", loadavg(load, sizeof(load)));
	}
	free(backend);
	for (unsigned i = 0; i < n; i++)
		kill_and_reap(pids[i]);
	sd_bus_flush_close_unref(bus);
	return 0;
}
