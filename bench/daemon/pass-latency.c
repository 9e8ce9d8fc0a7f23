/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * pass-latency: how long a reader waits while dirtyrated is in the middle
 * of a sample pass. Run inside tools/dirtyrate-session (it needs
 * DBUS_SYSTEM_BUS_ADDRESS).
 *
 *   pass-latency [--processes N,N,...] [--seconds S]
 *
 * For each N (default 1000 and 10000): forks N sleeping children and tracks
 * them, sets the shortest sample interval (10 ms) so that passes run back to
 * back and every call lands in one, then for S seconds (default 10) one
 * client calls Peer.Ping and GetAll(org.dirtyrate1.Process) of a random
 * tracked process in turn. Ping is answered by sd-bus in the daemon's event
 * loop without any of our code: it is the floor, measured in the same
 * moments. Prints p50/p99/max of both, p99(GetAll) / p99(Ping) against the
 * target of 2, and how long a pass took and how many ended meanwhile.
 */
#include <getopt.h>
#include <signal.h>
#include <sys/wait.h>

#include "bench-lib.h"
#include "bus-test-lib.h"
#include "tests.h"
#include "util.h"

struct samples {
	double *v;
	size_t n, cap;
};

static void add(struct samples *s, double usec) {
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 4096;
		s->v = realloc(s->v, s->cap * sizeof(double));
		ASSERT_TRUE(s->v);
	}
	s->v[s->n++] = usec;
}

static double timed_call(sd_bus *bus, const char *path, const char *iface, const char *member, const char *types,
			 const char *arg) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint64_t t0 = now_nsec();
	int r;

	r = arg ? sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, path, iface, member, &e, &reply, types, arg)
		: sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, path, iface, member, &e, &reply, NULL);
	if (r < 0)
		FAIL("%s: %s", member, e.message ?: strerror(-r));
	return (now_nsec() - t0) / 1000.0;
}

static void run(sd_bus *bus, unsigned n, double seconds) {
	char (*paths)[PROCESS_PATH_MAX] = calloc(n, sizeof(*paths));
	pid_t *kids = calloc(n, sizeof(*kids));
	struct samples ping = {}, getall = {};
	uint64_t end, last0, last1, pass_usec, t0;
	unsigned seed = 1;
	double track_s;

	ASSERT_TRUE(paths && kids);
	for (unsigned i = 0; i < n; i++)
		kids[i] = spawn_sleeper();
	t0 = now_usec(CLOCK_MONOTONIC);
	for (unsigned i = 0; i < n; i++)
		track(bus, kids[i], paths[i]);
	track_s = (now_usec(CLOCK_MONOTONIC) - t0) / 1e6;
	expect_ok(manager_call(bus, "SetSampleInterval", NULL, "tb", UINT64_C(10000), 0), "SetSampleInterval");
	/* A whole pass first, so that the figures are those of passes over all n. */
	last0 = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleTimestamp");
	while (get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleTimestamp") == last0)
		usleep(10000);
	last0 = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleTimestamp");
	while (get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleTimestamp") == last0)
		usleep(10000);

	last0 = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleTimestamp");
	end = now_usec(CLOCK_MONOTONIC) + (uint64_t) (seconds * USEC_PER_SEC);
	while (now_usec(CLOCK_MONOTONIC) < end) {
		add(&ping, timed_call(bus, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping", NULL, NULL));
		add(&getall, timed_call(bus, paths[rand_r(&seed) % n], "org.freedesktop.DBus.Properties", "GetAll", "s",
					DIRTYRATE_PROCESS_INTERFACE));
	}
	last1 = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleTimestamp");
	pass_usec = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleDurationUSec");

	{
		double p99_ping = percentile(ping.v, ping.n, 0.99), p99_getall = percentile(getall.v, getall.n, 0.99);
		double ratio = p99_getall / p99_ping;

		printf("%u tracked: a pass spends %.1f ms sampling (passes back to back, the last ended %.1f s after "
		       "the first; TrackProcess x %u took %.1f s)\n",
		       n, pass_usec / 1000.0, (last1 - last0) / 1e6, n, track_s);
		printf("  %-16s %8s %9s %9s %9s\n", "call", "calls", "p50 ms", "p99 ms", "max ms");
		printf("  %-16s %8zu %9.3f %9.3f %9.2f\n", "Peer.Ping", ping.n, percentile(ping.v, ping.n, 0.5) / 1000,
		       p99_ping / 1000, percentile(ping.v, ping.n, 1) / 1000);
		printf("  %-16s %8zu %9.3f %9.3f %9.2f\n", "GetAll(Process)", getall.n,
		       percentile(getall.v, getall.n, 0.5) / 1000, p99_getall / 1000,
		       percentile(getall.v, getall.n, 1) / 1000);
		printf("  p99 GetAll / p99 Ping = %.2fx (target <= 2x): %s\n", ratio, ratio <= 2 ? "met" : "NOT met");
	}

	expect_ok(manager_call(bus, "SetSampleInterval", NULL, "tb", UINT64_C(1000000), 0), "SetSampleInterval");
	for (unsigned i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (unsigned i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	free(ping.v);
	free(getall.v);
	free(paths);
	free(kids);
}

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "processes", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{}
	};
	unsigned counts[8] = { 1000, 10000 }, n_counts = 2;
	double seconds = 10;
	char load[128];
	sd_bus *bus;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
		switch (opt) {
		case 'n':
			n_counts = parse_count_list("--processes", optarg, counts, ELEMENTSOF(counts));
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: pass-latency [--processes N,...] [--seconds S]\n");
			return 2;
		}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bus = bus_open();
	printf("GetAll while dirtyrated is in a sample pass (backend %s), one client, %.0f s per row\n",
	       get_string(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Backend"), seconds);
	for (unsigned i = 0; i < n_counts; i++)
		run(bus, counts[i], seconds);
	printf("load average at the end: %s\n", loadavg(load, sizeof(load)));
	sd_bus_flush_close_unref(bus);
	return 0;
}
