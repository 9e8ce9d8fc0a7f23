/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * idle-scale: what dirtyrated costs per tracked process when the processes
 * do nothing, at the scale of a big host. Run inside tools/dirtyrate-session
 * (it needs DBUS_SYSTEM_BUS_ADDRESS and DIRTYRATED_PID) with the daemon's
 * default backend set to the one to measure (faults-only on hosts without
 * soft-dirty), and an fd limit above twice N.
 *
 *   idle-scale [--processes N] [--seconds S]
 *
 * Forks N sleeping children (default 10 000) and tracks them, waits for two
 * passes over all of them, then for S seconds (default 20) at the daemon's
 * interval counts dirtyrated's CPU time (DaemonCPUUSec), the bus daemon's,
 * the passes that ended (the Manager's PropertiesChanged) and the Process
 * PropertiesChanged signals the bus delivers to a listener. Prints the
 * daemon's share of one core against the target of 5 % (10 000 processes
 * at 1 s: 5 µs per idle process per pass), the same per process and pass
 * that ended (a pass longer than the interval makes fewer), and the
 * daemon's RSS per tracked process (VmRSS with N tracked less VmRSS with
 * none, the same session), against 2 KiB.
 */
#include <getopt.h>
#include <signal.h>
#include <sys/wait.h>

#include "bench-lib.h"
#include "bus-test-lib.h"
#include "tests.h"
#include "util.h"

struct counts {
	uint64_t process_signals;	/* PropertiesChanged of Process objects */
	uint64_t passes;		/* the Manager's, each at the end of a pass */
};

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
	struct counts *c = userdata;
	const char *iface = NULL;

	if (sd_bus_message_read(m, "s", &iface) < 0)
		return 0;
	if (streq(iface, DIRTYRATE_PROCESS_INTERFACE))
		c->process_signals++;
	else if (streq(iface, DIRTYRATE_MANAGER_INTERFACE) && streq(sd_bus_message_get_path(m), DIRTYRATE_MANAGER_PATH))
		c->passes++; /* LastSampleTimestamp; other changes do not happen here */
	return 0;
}

/* The bus daemon's own PID, as it says itself. */
static pid_t bus_daemon_pid(sd_bus *bus) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint32_t pid = 0;

	if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionUnixProcessID", &e, &reply, "s", "org.freedesktop.DBus") < 0 ||
	    sd_bus_message_read(reply, "u", &pid) < 0)
		pid = 0;
	sd_bus_error_free(&e);
	return (pid_t) pid;
}

static uint64_t daemon_cpu_usec(sd_bus *bus) {
	return get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "DaemonCPUUSec");
}

static uint64_t last_pass(sd_bus *bus) {
	return get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleTimestamp");
}

/* Serves the bus (the signal counter) until the Manager says a pass ended. */
static void wait_pass(sd_bus *bus) {
	uint64_t t = last_pass(bus);

	while (last_pass(bus) == t) {
		while (sd_bus_process(bus, NULL) > 0)
			;
		usleep(20000);
	}
}

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "processes", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{}
	};
	unsigned n = 10000;
	double seconds = 20;
	struct counts counts = {};
	uint64_t interval, cpu0, cpu1, bus_cpu0 = 0, bus_cpu1 = 0, t0, t1, pass_usec;
	unsigned long rss_empty, rss_full;
	char (*paths)[PROCESS_PATH_MAX];
	pid_t *kids, bus_pid;
	char load[128];
	sd_bus *bus;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
		switch (opt) {
		case 'n':
			n = (unsigned) atoi(optarg);
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: idle-scale [--processes N] [--seconds S]\n");
			return 2;
		}
	if (n == 0 || seconds <= 0)
		FAIL("--processes and --seconds must be positive");
	setvbuf(stdout, NULL, _IOLBF, 0);
	bus = bus_open();
	bus_pid = bus_daemon_pid(bus);
	interval = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec");
	printf("%u idle tracked processes (backend %s), interval %.3f s, %.0f s; load average %s\n", n,
	       get_string(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Backend"), interval / 1e6, seconds,
	       loadavg(load, sizeof(load)));

	paths = calloc(n, sizeof(*paths));
	kids = calloc(n, sizeof(*kids));
	ASSERT_TRUE(paths && kids);
	rss_empty = daemon_rss_kib();
	for (unsigned i = 0; i < n; i++)
		kids[i] = spawn_sleeper();
	for (unsigned i = 0; i < n; i++)
		track(bus, kids[i], paths[i]);
	ASSERT_TRUE(sd_bus_match_signal(bus, NULL, DIRTYRATE_BUS_NAME, NULL, "org.freedesktop.DBus.Properties",
					"PropertiesChanged", on_properties_changed, &counts) >= 0);
	/* Two whole passes: every process past its first interval. */
	wait_pass(bus);
	wait_pass(bus);
	wait_pass(bus);

	counts = (struct counts) {};
	cpu0 = daemon_cpu_usec(bus);
	if (bus_pid > 0)
		bus_cpu0 = proc_cpu_usec(bus_pid);
	t0 = now_usec(CLOCK_MONOTONIC);
	while (now_usec(CLOCK_MONOTONIC) - t0 < (uint64_t) (seconds * USEC_PER_SEC)) {
		while (sd_bus_process(bus, NULL) > 0)
			;
		(void) sd_bus_wait(bus, 100000);
	}
	cpu1 = daemon_cpu_usec(bus);
	if (bus_pid > 0)
		bus_cpu1 = proc_cpu_usec(bus_pid);
	t1 = now_usec(CLOCK_MONOTONIC);
	pass_usec = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleDurationUSec");
	rss_full = daemon_rss_kib();

	{
		double wall = (double) (t1 - t0), passes = counts.passes ? (double) counts.passes : 1;
		double share = (double) (cpu1 - cpu0) / wall, per = (double) (cpu1 - cpu0) / passes / n;

		printf("  passes              %7" PRIu64 " in %.1f s (%.2f per interval)\n", counts.passes, wall / 1e6,
		       passes * (double) interval / wall);
		printf("  dirtyrated CPU      %7.2f %% of one core (target <= 5 %%: %s), %.2f us per process per pass\n",
		       100 * share, share <= 0.05 ? "met" : "NOT met", per);
		printf("  last pass           %7.1f ms sampling (%.2f us per process)\n", pass_usec / 1000.0,
		       (double) pass_usec / n);
		if (bus_pid > 0)
			printf("  dbus-daemon CPU     %7.2f %% of one core\n", 100.0 * (double) (bus_cpu1 - bus_cpu0) / wall);
		printf("  Process PropertiesChanged received: %" PRIu64 " (%.3f per process per pass)\n",
		       counts.process_signals, (double) counts.process_signals / passes / n);
		printf("  dirtyrated RSS      %lu KiB with none tracked, %lu KiB with %u: %.2f KiB per process "
		       "(target <= 2 KiB: %s)\n",
		       rss_empty, rss_full, n, (double) (rss_full - rss_empty) / n,
		       (double) (rss_full - rss_empty) / n <= 2 ? "met" : "NOT met");
	}
	printf("load average at the end: %s\n", loadavg(load, sizeof(load)));

	for (unsigned i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (unsigned i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	free(paths);
	free(kids);
	sd_bus_flush_close_unref(bus);
	return 0;
}
