/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dbus-latency: how fast dirtyrated answers readers while it tracks many
 * processes. Run inside tools/dirtyrate-session (it needs
 * DBUS_SYSTEM_BUS_ADDRESS and DIRTYRATED_PID).
 *
 *   dbus-latency [--processes N] [--clients C,C,...] [--seconds S]
 *
 * Forks N sleeping children (default 1000), tracks them all, then for each
 * number of concurrent clients (default 1,8,32: threads, one connection
 * each, calling back to back for S seconds) times three calls:
 *   Peer.Ping        the floor: a round trip through dbus-daemon to the
 *                    daemon's event loop and back, answered by sd-bus;
 *   GetAll           org.dirtyrate1.Process of a random tracked process;
 *   ListProcesses    all N processes in one reply.
 * Prints p50/p99/max per call and concurrency, the ratio of p50 to Ping's
 * at the same concurrency, the CPU time each call costs dirtyrated,
 * dbus-daemon and the clients (where a call's time goes once the CPUs are
 * saturated), and dirtyrated's RSS with 0 and N tracked.
 * Sample passes keep running (SampleIntervalSec of the session's config):
 * a call that arrives during one waits for it, as it would in production.
 */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "bench-lib.h"
#include "bus-test-lib.h"
#include "tests.h"
#include "util.h"

enum call { PING, GETALL, LIST, NR_CALLS };
static const char *const call_names[NR_CALLS] = { "Peer.Ping", "GetAll(Process)", "ListProcesses" };

static char (*paths)[PROCESS_PATH_MAX];
static unsigned n_paths;

struct client {
	pthread_t thread;
	enum call call;
	uint64_t deadline_usec;		/* CLOCK_MONOTONIC */
	pthread_barrier_t *go;
	unsigned seed;
	double *lat_usec;		/* out: one per call */
	size_t n, cap;
};

static void call_once(sd_bus *bus, struct client *c) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	int r;

	switch (c->call) {
	case PING:
		r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.Peer", "Ping", &e, &reply, NULL);
		break;
	case GETALL:
		r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, paths[rand_r(&c->seed) % n_paths], "org.freedesktop.DBus.Properties",
				       "GetAll", &e, &reply, "s", DIRTYRATE_PROCESS_INTERFACE);
		break;
	default:
		r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "ListProcesses", &e, &reply, NULL);
		break;
	}
	if (r < 0)
		FAIL("%s: %s", call_names[c->call], e.message ?: strerror(-r));
	sd_bus_error_free(&e);
}

static void *client_run(void *arg) {
	struct client *c = arg;
	sd_bus *bus = bus_open();

	call_once(bus, c);	/* connected and warm before the clock starts */
	pthread_barrier_wait(c->go);
	while (now_usec(CLOCK_MONOTONIC) < c->deadline_usec) {
		uint64_t t0 = now_nsec();

		call_once(bus, c);
		if (c->n == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 4096;
			c->lat_usec = realloc(c->lat_usec, c->cap * sizeof(double));
			ASSERT_TRUE(c->lat_usec);
		}
		c->lat_usec[c->n++] = (now_nsec() - t0) / 1000.0;
	}
	sd_bus_flush_close_unref(bus);
	return NULL;
}

struct result {
	double p50, p99, max, per_sec;
	size_t n;
	/* CPU time per call, microseconds: dirtyrated, dbus-daemon, the clients */
	double daemon_cpu, bus_cpu, clients_cpu;
};

/* The daemon and the bus, whose CPU time measure() reads */
static pid_t dirtyrated_pid, bus_pid;

static struct result measure(enum call call, unsigned clients, double seconds) {
	struct client *c = calloc(clients, sizeof(*c));
	pthread_barrier_t go;
	struct result res = {};
	uint64_t daemon_cpu, bus_cpu, self_cpu;
	double *all;
	size_t n = 0;

	ASSERT_TRUE(c);
	pthread_barrier_init(&go, NULL, clients + 1);
	for (unsigned i = 0; i < clients; i++) {
		c[i] = (struct client) { .call = call, .go = &go, .seed = i + 1, .deadline_usec = UINT64_MAX };
		ASSERT_EQ(pthread_create(&c[i].thread, NULL, client_run, &c[i]), 0);
	}
	/* The deadline is set once every client is connected; they read it after the barrier. */
	for (unsigned i = 0; i < clients; i++)
		c[i].deadline_usec = now_usec(CLOCK_MONOTONIC) + (uint64_t) (seconds * USEC_PER_SEC);
	daemon_cpu = proc_cpu_usec(dirtyrated_pid);
	bus_cpu = proc_cpu_usec(bus_pid);
	self_cpu = proc_cpu_usec(getpid());
	pthread_barrier_wait(&go);
	for (unsigned i = 0; i < clients; i++) {
		pthread_join(c[i].thread, NULL);
		n += c[i].n;
	}
	/* The clients' warm-up calls and their connections' close count too: a few of thousands. */
	res.daemon_cpu = (double) (proc_cpu_usec(dirtyrated_pid) - daemon_cpu) / n;
	res.bus_cpu = (double) (proc_cpu_usec(bus_pid) - bus_cpu) / n;
	res.clients_cpu = (double) (proc_cpu_usec(getpid()) - self_cpu) / n;
	all = malloc(n * sizeof(double));
	ASSERT_TRUE(all);
	n = 0;
	for (unsigned i = 0; i < clients; i++) {
		memcpy(all + n, c[i].lat_usec, c[i].n * sizeof(double));
		n += c[i].n;
		free(c[i].lat_usec);
	}
	res.n = n;
	res.p50 = percentile(all, n, 0.50);
	res.p99 = percentile(all, n, 0.99);
	res.max = percentile(all, n, 1);
	res.per_sec = n / seconds;
	free(all);
	free(c);
	pthread_barrier_destroy(&go);
	return res;
}

/* A line of /proc/PID/status, in KiB. */
static unsigned long status_kib(pid_t pid, const char *key) {
	char path[64], line[256];
	unsigned long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	f = fopen(path, "r");
	ASSERT_TRUE(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':')
			v = strtoul(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "processes", required_argument, NULL, 'n' },
		{ "clients",   required_argument, NULL, 'c' },
		{ "seconds",   required_argument, NULL, 's' },
		{}
	};
	unsigned n = 1000, clients[8] = { 1, 8, 32 }, n_clients = 3;
	double seconds = 5, track_ms;
	char load[128];
	const char *daemon_pid_s = getenv("DIRTYRATED_PID"), *bus_pid_s = getenv("DIRTYRATE_BUS_PID");
	struct result res[NR_CALLS][8];
	unsigned long rss0, rss1, rss2, hwm;
	pid_t *kids;
	uint64_t t0, pass_usec;
	sd_bus *bus;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0) {
		switch (opt) {
		case 'n':
			n = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			n_clients = parse_count_list("--clients", optarg, clients, ELEMENTSOF(clients));
			break;
		case 's':
			seconds = strtod(optarg, NULL);
			break;
		default:
			fprintf(stderr, "usage: dbus-latency [--processes N] [--clients C,...] [--seconds S]\n");
			return 2;
		}
	}
	if (!daemon_pid_s || !bus_pid_s || n == 0 || n_clients == 0 || seconds <= 0)
		FAIL("run inside dirtyrate-session (DIRTYRATED_PID, DIRTYRATE_BUS_PID), with N, clients and seconds > 0");
	dirtyrated_pid = atoi(daemon_pid_s);
	bus_pid = atoi(bus_pid_s);
	bus = bus_open();
	rss0 = status_kib(dirtyrated_pid, "VmRSS");

	kids = calloc(n, sizeof(*kids));
	paths = calloc(n, sizeof(*paths));
	ASSERT_TRUE(kids && paths);
	for (unsigned i = 0; i < n; i++)
		kids[i] = spawn_sleeper();
	t0 = now_usec(CLOCK_MONOTONIC);
	for (unsigned i = 0; i < n; i++)
		track(bus, kids[i], paths[i]);
	track_ms = (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0;
	n_paths = n;
	/* Two intervals: at least one whole pass over all of them. */
	usleep(2 * get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec"));
	pass_usec = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleDurationUSec");
	rss1 = status_kib(dirtyrated_pid, "VmRSS");

	for (unsigned k = 0; k < n_clients; k++)
		for (int call = 0; call < NR_CALLS; call++)
			res[call][k] = measure(call, clients[k], seconds);
	rss2 = status_kib(dirtyrated_pid, "VmRSS");
	hwm = status_kib(dirtyrated_pid, "VmHWM");

	printf("dirtyrated tracking %u sleeping processes (backend %s), %.0f s per cell, load average at end: %s\n",
	       n, get_string(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Backend"), seconds, loadavg(load, sizeof(load)));
	printf("  TrackProcess x %u: %.0f ms (%.2f ms each); last sample pass over all: %.1f ms\n", n, track_ms,
	       track_ms / n, pass_usec / 1000.0);
	printf("  %-16s %7s %9s %9s %10s %9s %10s   %s\n", "call", "clients", "p50 ms", "p99 ms", "max ms", "calls/s",
	       "p50/Ping", "CPU us/call: dirtyrated, dbus-daemon, clients");
	for (int call = 0; call < NR_CALLS; call++)
		for (unsigned k = 0; k < n_clients; k++) {
			struct result *r = &res[call][k];

			printf("  %-16s %7u %9.3f %9.3f %10.1f %9.0f %9.1fx   %7.1f %7.1f %7.1f\n", call_names[call],
			       clients[k], r->p50 / 1000, r->p99 / 1000, r->max / 1000, r->per_sec,
			       r->p50 / res[PING][k].p50, r->daemon_cpu, r->bus_cpu, r->clients_cpu);
		}
	printf("  dirtyrated RSS: %lu KiB tracking nothing, %lu KiB tracking %u (%.1f KiB each),"
	       " %lu KiB after the calls (peak %lu KiB)\n",
	       rss0, rss1, n, (double) (rss1 - rss0) / n, rss2, hwm);

	for (unsigned i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (unsigned i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	sd_bus_flush_close_unref(bus);
	return 0;
}
