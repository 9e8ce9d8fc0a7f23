/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scrape-cost: what one GetManagedObjects per scrape costs the exporter,
 * against what a cache fed by signals would cost it. Run inside
 * tools/dirtyrate-session (it needs DBUS_SYSTEM_BUS_ADDRESS), as root:
 *
 *   scrape-cost [--processes N] [--scrapes K] [--cache-seconds S]
 *
 * Forks N sleeping children (default 1000) and has the daemon track them;
 * then, with the exporter's own code (scrape.c, render.c):
 *   per scrape   K scrapes back to back (default 50), each GetAll of the
 *                Manager and GetManagedObjects, parsed into a snapshot, then
 *                rendered as text: wall time p50/p99 of the D-Bus part and
 *                of the render, this process's CPU time per scrape; then the
 *                same snapshots rendered as OpenMetrics; the response sizes;
 *   cache        for S seconds (default 10) every PropertiesChanged of every
 *                process is received and its values stored, as a cache would
 *                (the daemon sends one per process per pass): signals per
 *                second and this process's CPU time per second to keep up;
 *                a scrape from the cache would cost only the render.
 * It prints the CPU per second of both at 15 s and 60 s scrape intervals.
 * The session's config sets the daemon's interval (1 s in bench/run's).
 */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bench-lib.h"
#include "bus-test-lib.h"
#include "render.h"
#include "scrape.h"
#include "tests.h"
#include "util.h"

static uint64_t cpu_usec_self(void) {
	struct rusage ru;

	ASSERT_EQ(getrusage(RUSAGE_SELF, &ru), 0);
	return (uint64_t) ru.ru_utime.tv_sec * USEC_PER_SEC + (uint64_t) ru.ru_utime.tv_usec +
	       (uint64_t) ru.ru_stime.tv_sec * USEC_PER_SEC + (uint64_t) ru.ru_stime.tv_usec;
}

struct scrape_result {
	bool done;
	struct snapshot *snapshot;
	char reason[256];
};

static void on_done(struct snapshot *s, int error, const char *reason, void *userdata) {
	struct scrape_result *r = userdata;

	r->done = true;
	r->snapshot = s;
	if (error < 0)
		snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

/* ---- the cache's side: store what each PropertiesChanged carries ---- */

struct cached {
	double values[32];
	unsigned n;
};

static struct {
	struct cached *by_pid;
	size_t n_pids;
	uint64_t signals;
} cache;

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *error) {
	const char *path = sd_bus_message_get_path(m), *iface, *name;
	struct cached *c;
	unsigned long pid;
	int r;

	if (!path || strncmp(path, DIRTYRATE_PROCESS_PATH_PREFIX "/", strlen(DIRTYRATE_PROCESS_PATH_PREFIX) + 1))
		return 0;
	pid = strtoul(path + strlen(DIRTYRATE_PROCESS_PATH_PREFIX) + 1, NULL, 10);
	if (pid >= cache.n_pids)
		return 0;
	c = &cache.by_pid[pid];
	c->n = 0;
	cache.signals++;
	r = sd_bus_message_read(m, "s", &iface);
	if (r >= 0)
		r = sd_bus_message_enter_container(m, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *contents;
		char type;

		r = sd_bus_message_read(m, "s", &name);
		if (r >= 0)
			r = sd_bus_message_peek_type(m, &type, &contents);
		if (r >= 0)
			r = sd_bus_message_enter_container(m, 'v', contents);
		if (r >= 0) {
			union {
				double d;
				uint64_t t;
				int b;
				const char *s;
			} v = {};

			r = sd_bus_message_read_basic(m, contents[0], &v);
			if (r >= 0 && c->n < ELEMENTSOF(c->values))
				c->values[c->n++] = contents[0] == 'd' ? v.d : contents[0] == 't' ? (double) v.t : v.b;
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	}
	return 0;
}

static double ms(uint64_t usec) {
	return usec / 1000.0;
}

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "processes", required_argument, NULL, 'n' },
		{ "scrapes", required_argument, NULL, 'k' },
		{ "cache-seconds", required_argument, NULL, 's' },
		{}
	};
	unsigned n = 1000, k = 50, cache_seconds = 10;
	_cleanup_(sd_event_unrefp) sd_event *event = NULL;
	_cleanup_(scrape_client_freep) struct scrape_client *client = NULL;
	double *dbus_ms, *text_ms, *om_ms, *total_ms;
	struct snapshot **snapshots;
	size_t text_size = 0, om_size = 0, seen = 0;
	uint64_t cpu0, cpu_scrapes, cpu_cache, t0, interval;
	sd_bus *bus, *signal_bus;
	char load[128];
	pid_t *kids;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'k':
			k = strtoul(optarg, NULL, 10);
			break;
		case 's':
			cache_seconds = strtoul(optarg, NULL, 10);
			break;
		default:
			fprintf(stderr, "usage: scrape-cost [--processes N] [--scrapes K] [--cache-seconds S]\n");
			return 2;
		}
	}
	if (n == 0 || k == 0 || cache_seconds == 0)
		FAIL("N, K and S must be > 0");

	bus = bus_open();
	kids = calloc(n, sizeof(*kids));
	dbus_ms = calloc(k, sizeof(double));
	text_ms = calloc(k, sizeof(double));
	om_ms = calloc(k, sizeof(double));
	total_ms = calloc(k, sizeof(double));
	snapshots = calloc(k, sizeof(*snapshots));
	ASSERT_TRUE(kids && dbus_ms && text_ms && om_ms && total_ms && snapshots);
	for (unsigned i = 0; i < n; i++) {
		char path[PROCESS_PATH_MAX];

		kids[i] = spawn_sleeper();
		track(bus, kids[i], path);
	}
	interval = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec");
	usleep(2 * interval); /* a pass over all of them: every rate measured */

	ASSERT_EQ(sd_event_new(&event), 0);
	/* Every scrape a GetManagedObjects: the cache is what the second half stands in for. */
	ASSERT_EQ(scrape_client_new(event, &(struct scrape_options) { .cache = CACHE_NO }, &client), 0);

	/* Per scrape: the exporter's path, without HTTP; the text format, which Prometheus does not ask for,
	 * is the one timed with the CPU; OpenMetrics is rendered afterwards from the same snapshots. */
	cpu0 = cpu_usec_self();
	for (unsigned i = 0; i < k; i++) {
		const struct exporter_stats self = { .last_scrape_duration_sec = NAN };
		struct scrape_result res = {};
		struct render_input in = { .self = &self };
		uint64_t t1, t2;
		char *text;

		t0 = now_nsec();
		ASSERT_EQ(scrape_client_start(client, 30 * USEC_PER_SEC, on_done, &res), 0);
		while (!res.done)
			ASSERT_TRUE(sd_event_run(event, UINT64_MAX) >= 0);
		if (!res.snapshot)
			FAIL("scrape failed: %s", res.reason);
		t1 = now_nsec();
		in.snapshot = res.snapshot;
		ASSERT_EQ(render_exposition(&in, FORMAT_TEXT, &text, &text_size), 0);
		t2 = now_nsec();
		seen = res.snapshot->n_processes;
		dbus_ms[i] = (t1 - t0) / 1e6;
		text_ms[i] = (t2 - t1) / 1e6;
		total_ms[i] = (t2 - t0) / 1e6;
		free(text);
		snapshots[i] = res.snapshot;
	}
	cpu_scrapes = cpu_usec_self() - cpu0;
	if (seen != n)
		FAIL("a scrape saw %zu processes, %u are tracked", seen, n);
	for (unsigned i = 0; i < k; i++) {
		const struct exporter_stats self = { .last_scrape_duration_sec = NAN };
		struct render_input in = { .self = &self, .snapshot = snapshots[i] };
		char *om;

		t0 = now_nsec();
		ASSERT_EQ(render_exposition(&in, FORMAT_OPENMETRICS, &om, &om_size), 0);
		om_ms[i] = (now_nsec() - t0) / 1e6;
		free(om);
		snapshot_free(snapshots[i]);
	}

	/* Cache: keep up with the signals, scrape nothing. */
	cache.n_pids = 4 * 1024 * 1024;
	cache.by_pid = calloc(cache.n_pids, sizeof(struct cached));
	ASSERT_TRUE(cache.by_pid);
	ASSERT_EQ(sd_bus_open_system(&signal_bus), 0);
	ASSERT_TRUE(sd_bus_match_signal(signal_bus, NULL, DIRTYRATE_BUS_NAME, NULL, "org.freedesktop.DBus.Properties",
					"PropertiesChanged", on_properties_changed, NULL) >= 0);
	ASSERT_EQ(sd_bus_attach_event(signal_bus, event, 0), 0);
	/* Settle (the match is in place, the first signals flow), then measure. */
	t0 = now_usec(CLOCK_MONOTONIC);
	while (now_usec(CLOCK_MONOTONIC) < t0 + interval)
		ASSERT_TRUE(sd_event_run(event, 100 * USEC_PER_MSEC) >= 0);
	cache.signals = 0;
	cpu0 = cpu_usec_self();
	t0 = now_usec(CLOCK_MONOTONIC);
	while (now_usec(CLOCK_MONOTONIC) < t0 + cache_seconds * USEC_PER_SEC)
		ASSERT_TRUE(sd_event_run(event, 100 * USEC_PER_MSEC) >= 0);
	cpu_cache = cpu_usec_self() - cpu0;

	{
		double cpu_per_scrape = ms(cpu_scrapes) / k, render_ms = percentile(text_ms, k, 0.5),
		       cache_cpu_per_sec = ms(cpu_cache) / cache_seconds;

		printf("dirtyrated tracking %u sleeping processes (backend %s), SampleIntervalUSec %.1f s; load average: %s\n",
		       n, get_string(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Backend"),
		       interval / 1e6, loadavg(load, sizeof(load)));
		printf("  per scrape (%u): GetAll + GetManagedObjects + parse p50 %.1f ms p99 %.1f ms; render text p50 %.1f ms, "
		       "OpenMetrics p50 %.1f ms; scrape (D-Bus + text) p50 %.1f ms p99 %.1f ms\n",
		       k, percentile(dbus_ms, k, 0.5), percentile(dbus_ms, k, 0.99), render_ms,
		       percentile(om_ms, k, 0.5), percentile(total_ms, k, 0.5), percentile(total_ms, k, 0.99));
		printf("  responses: text %zu KiB, OpenMetrics %zu KiB (%.0f / %.0f bytes per process)\n", text_size / 1024,
		       om_size / 1024, (double) text_size / n, (double) om_size / n);
		printf("  exporter CPU per scrape: %.1f ms\n", cpu_per_scrape);
		printf("  signal-fed cache: %.0f PropertiesChanged/s, exporter CPU %.1f ms per second to keep up; "
		       "a scrape from it is the render alone, p50 %.1f ms\n",
		       cache.signals / (double) cache_seconds, cache_cpu_per_sec, render_ms);
		for (unsigned every = 15; every <= 60; every *= 4) {
			double per_scrape = cpu_per_scrape / every, cached = cache_cpu_per_sec + render_ms / every;

			printf("  scraped every %u s: per scrape %.2f ms CPU/s, cache %.2f ms CPU/s (%.0fx)\n", every,
			       per_scrape, cached, cached / per_scrape);
		}
	}

	sd_bus_flush_close_unref(signal_bus);
	for (unsigned i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (unsigned i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	sd_bus_flush_close_unref(bus);
	return 0;
}
