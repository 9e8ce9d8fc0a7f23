/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test-bus-churn: 10 000 short-lived processes, each matched by the
 * harness's [Track] rule, over 60 s, in a PID namespace whose pid_max this
 * test lowers (per-namespace pid_max, Linux 6.14+) so that PIDs are reused
 * dozens of times. Run as
 *
 *   unshare --pid --fork --mount-proc bus-harness.py ... -- test-bus-churn
 *
 * Half the processes write fresh pages all their short lives
 * ("dr-churn-busy"), half write nothing once started ("dr-churn-idle"),
 * in random order, so a PID passes from busy owners to idle ones and back.
 * From the ObjectManager and PropertiesChanged signals it follows every
 * object generation (a PID with a start time) and checks that no idle
 * generation ever shows a busy one's counts: no rate mixed between a PID's
 * old and new owner. Afterwards no process object may be left, and the
 * daemon's fds and RSS must be within 5 % of what they were at the start.
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "bus-test-lib.h"
#include "tests.h"
#include "util.h"

#define PID_MAX 600			/* PIDs 300..599 once the namespace wrapped */
#define BUSY_PAGES 8			/* fresh pages a busy process writes every 20 ms */
#define IDLE_SLACK 16			/* faults an idle one may take after tracking began (its start-up) */
#define MAX_GENERATIONS 20000

static uint64_t rng_state = 42;

static unsigned pick(unsigned n) {
	return test_random(&rng_state, n);
}

/* One object generation: a PID's object from InterfacesAdded to InterfacesRemoved. */
struct generation {
	pid_t pid;
	bool idle, open;
	uint64_t start;			/* StartTimestampBoottime */
	uint64_t max_faults, max_dirtied;
};

static struct generation gens[MAX_GENERATIONS];
static unsigned n_gens, n_removed;

static struct generation *open_generation(pid_t pid) {
	for (unsigned i = n_gens; i > 0; i--)
		if (gens[i - 1].pid == pid && gens[i - 1].open)
			return &gens[i - 1];
	return NULL;
}

static pid_t path_pid(const char *path) {
	const char *slash = strrchr(path, '/');

	return slash ? (pid_t) atoi(slash + 1) : 0;
}

static void read_counters(sd_bus_message *m, struct generation *g) {
	const char *name;

	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		uint64_t v;
		const char *s;

		ASSERT_TRUE(sd_bus_message_read(m, "s", &name) > 0);
		if (streq(name, "WriteFaultsTotal") || streq(name, "DirtiedBytesTotal")) {
			ASSERT_TRUE(sd_bus_message_read(m, "v", "t", &v) > 0);
			if (name[0] == 'W')
				g->max_faults = MAX(g->max_faults, v);
			else
				g->max_dirtied = MAX(g->max_dirtied, v);
		} else if (streq(name, "Comm")) {
			ASSERT_TRUE(sd_bus_message_read(m, "v", "s", &s) > 0);
			g->idle = streq(s, "dr-churn-idle");
		} else if (streq(name, "StartTimestampBoottime"))
			ASSERT_TRUE(sd_bus_message_read(m, "v", "t", &g->start) > 0);
		else
			ASSERT_TRUE(sd_bus_message_skip(m, "v") >= 0);
		ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
	}
}

static int on_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	const char *path, *iface;
	struct generation *g;

	ASSERT_TRUE(sd_bus_message_read(m, "o", &path) > 0);
	if (open_generation(path_pid(path)))
		FAIL("%s added twice without InterfacesRemoved in between", path);
	ASSERT_TRUE(n_gens < MAX_GENERATIONS);
	g = &gens[n_gens++];
	*g = (struct generation) { .pid = path_pid(path), .open = true };
	ASSERT_TRUE(sd_bus_message_enter_container(m, 'a', "{sa{sv}}") > 0);
	while (sd_bus_message_enter_container(m, 'e', "sa{sv}") > 0) {
		ASSERT_TRUE(sd_bus_message_read(m, "s", &iface) > 0);
		ASSERT_TRUE(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
		if (streq(iface, DIRTYRATE_PROCESS_INTERFACE))
			read_counters(m, g);
		else
			while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
				ASSERT_TRUE(sd_bus_message_skip(m, "sv") >= 0);
				ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
			}
		ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
		ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
	}
	return 0;
}

static int on_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	const char *path;
	struct generation *g;

	ASSERT_TRUE(sd_bus_message_read(m, "o", &path) > 0);
	g = open_generation(path_pid(path));
	if (!g)
		FAIL("%s removed but never added", path);
	g->open = false;
	n_removed++;
	return 0;
}

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	const char *path = sd_bus_message_get_path(m), *iface;
	struct generation *g;

	ASSERT_TRUE(sd_bus_message_read(m, "s", &iface) > 0);
	if (!streq(iface, DIRTYRATE_PROCESS_INTERFACE))
		return 0;
	g = open_generation(path_pid(path));
	if (!g)
		FAIL("PropertiesChanged of %s outside its object's life", path);
	ASSERT_TRUE(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
	read_counters(m, g);
	return 0;
}

static void run_child(bool idle, unsigned life_ms) {
	const size_t page = (size_t) sysconf(_SC_PAGESIZE), len = BUSY_PAGES * page;
	uint64_t end = now_usec(CLOCK_MONOTONIC) + life_ms * USEC_PER_MSEC;
	volatile char *p;

	prctl(PR_SET_NAME, idle ? "dr-churn-idle" : "dr-churn-busy");
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (idle) {
		usleep(life_ms * 1000);
		_exit(0);
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		_exit(1);
	(void) madvise((void *) p, len, MADV_NOHUGEPAGE);
	while (now_usec(CLOCK_MONOTONIC) < end) {
		(void) madvise((void *) p, len, MADV_DONTNEED);
		for (size_t i = 0; i < BUSY_PAGES; i++)
			p[i * page] = 1;
		usleep(20000);
	}
	_exit(0);
}

static void set_pid_max(unsigned v) {
	FILE *f = fopen("/proc/sys/kernel/pid_max", "we");

	if (!f || fprintf(f, "%u\n", v) < 0 || fclose(f) != 0) {
		printf("cannot set this PID namespace's pid_max (%s): needs Linux 6.14+ and a PID namespace; skipping\n",
		       strerror(errno));
		exit(77);
	}
}

static bool nothing_tracked(void *userdata) {
	return get_u32(userdata, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "TrackedProcesses") == 0;
}

static bool all_removed(void *userdata) {
	return n_removed == n_gens;
}

struct spawn_result {
	unsigned spawned, failed_forks, wraps;
	double seconds;
};

/*
 * Forks the short-lived processes, evenly over the run, and reaps them. A
 * process of its own that never touches the bus (the monitor's connection
 * is opened after it forked off).
 */
static void run_spawner(unsigned processes, unsigned seconds, int ready_fd, struct spawn_result *res) {
	uint64_t begin;
	pid_t last_pid = 0;
	char c;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (read(ready_fd, &c, 1) != 1) /* the monitor is listening */
		_exit(EXIT_FAILURE);
	begin = now_usec(CLOCK_MONOTONIC);
	while (res->spawned < processes) {
		uint64_t due = begin + (uint64_t) res->spawned * seconds * USEC_PER_SEC / processes, now;
		unsigned life_ms;
		bool idle;
		pid_t pid;

		if ((now = now_usec(CLOCK_MONOTONIC)) < due)
			usleep((useconds_t) (due - now));
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		/* Drawn here: a draw in the child would not move this state. */
		idle = pick(2);
		life_ms = 150 + pick(250);
		pid = fork();
		if (pid < 0) {
			res->failed_forks++; /* every PID in use: try again next slot */
			if (res->failed_forks > 1000)
				_exit(EXIT_FAILURE);
			continue;
		}
		if (pid == 0)
			run_child(idle, life_ms);
		res->wraps += pid < last_pid;
		last_pid = pid;
		res->spawned++;
	}
	while (waitpid(-1, NULL, 0) > 0)
		;
	res->seconds = (now_usec(CLOCK_MONOTONIC) - begin) / 1e6;
	_exit(EXIT_SUCCESS);
}

/*
 * One run: forks the spawner, follows the signals until it is done, then
 * waits for every object to be gone. The monitor's connection is opened
 * only after the fork: children that share its socket made it miss signals.
 */
static void churn(sd_bus **bus, struct spawn_result *res, unsigned processes, unsigned seconds) {
	int ready[2], status;
	pid_t spawner;

	*res = (struct spawn_result) {};
	ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
	*bus = sd_bus_flush_close_unref(*bus);
	spawner = fork();
	ASSERT_TRUE(spawner >= 0);
	if (spawner == 0)
		run_spawner(processes, seconds, ready[0], res);
	close(ready[0]);

	*bus = bus_open();
	ASSERT_TRUE(sd_bus_match_signal(*bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesAdded", on_added, NULL) >= 0);
	ASSERT_TRUE(sd_bus_match_signal(*bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", on_removed, NULL) >= 0);
	ASSERT_TRUE(sd_bus_match_signal(*bus, NULL, DIRTYRATE_BUS_NAME, NULL, "org.freedesktop.DBus.Properties",
					"PropertiesChanged", on_changed, NULL) >= 0);
	ASSERT_TRUE(nothing_tracked(*bus));
	ASSERT_EQ(write(ready[1], "g", 1), 1);
	close(ready[1]);

	while (waitpid(spawner, &status, WNOHANG) == 0) {
		int k = sd_bus_process(*bus, NULL);

		if (k < 0)
			FAIL("sd_bus_process: %s", strerror(-k));
		if (k == 0)
			ASSERT_TRUE(sd_bus_wait(*bus, 50 * USEC_PER_MSEC) >= 0);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("the spawner failed (%u forks refused)", res->failed_forks);
	wait_until(*bus, nothing_tracked, *bus, "TrackedProcesses back to 0");
	wait_until(*bus, all_removed, NULL, "an InterfacesRemoved for every InterfacesAdded");
}

int main(int argc, char *argv[]) {
	static const struct option options[] = {
		{ "processes", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{}
	};
	unsigned processes = 10000, seconds = 60, fds0, fds1, idle_gens = 0, pids_reused = 0;
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	struct spawn_result *res;
	uint64_t max_idle_faults = 0;
	unsigned long rss0, rss1;
	bool bpf;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
		switch (opt) {
		case 'n': processes = (unsigned) atoi(optarg); break;
		case 's': seconds = (unsigned) atoi(optarg); break;
		default: return 2;
		}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getpid() > 1000) {
		printf("not in a PID namespace of our own (pid %d); skipping\n", (int) getpid());
		return 77;
	}
	set_pid_max(PID_MAX);

	res = mmap(NULL, sizeof(*res), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(res != MAP_FAILED);

	/* A short warm-up first: the start figures are then those of a daemon
	 * that has run every code path once (its text is paged in). */
	churn(&bus, res, 200, 2);
	bpf = has_feature(bus, "bpf-faults");
	fds0 = daemon_fd_count();
	rss0 = daemon_rss_kib();
	n_gens = n_removed = 0;
	churn(&bus, res, processes, seconds);
	fds1 = daemon_fd_count();
	rss1 = daemon_rss_kib();

	for (unsigned i = 0; i < n_gens; i++) {
		if (gens[i].idle) {
			idle_gens++;
			max_idle_faults = MAX(max_idle_faults, gens[i].max_faults);
		}
		for (unsigned k = 0; k < i; k++)
			if (gens[k].pid == gens[i].pid) {
				pids_reused++;
				break;
			}
	}
	printf("churn: %u processes in %.1f s with pid_max %d (PIDs wrapped %u times, %u forks refused), "
	       "%u tracked by the rule (%u idle)\n",
	       res->spawned, res->seconds, PID_MAX, res->wraps, res->failed_forks, n_gens, idle_gens);
	printf("  %u of those objects had a PID an earlier object had had\n", pids_reused);
	printf("  the most write faults an idle process's object showed: %" PRIu64 " (busy ones write %d pages / 20 ms)\n",
	       max_idle_faults, BUSY_PAGES);
	printf("daemon: %u fds before, %u after; VmRSS %lu KiB before, %lu KiB after\n", fds0, fds1, rss0, rss1);

	if (n_gens < processes / 4)
		FAIL("only %u of %u processes were tracked: the rule did not keep up", n_gens, processes);
	if (pids_reused == 0)
		FAIL("no PID was reused");
	if (bpf && max_idle_faults > IDLE_SLACK)
		FAIL("an idle process's object showed %" PRIu64 " write faults: counts of a PID's earlier owner",
		     max_idle_faults);
	if (!bpf)
		printf("  (no bpf-faults here: the counts of idle and busy processes cannot be told apart)\n");
	if (fds1 > fds0 + fds0 / 20 || fds1 + fds0 / 20 < fds0)
		FAIL("the daemon's fds went from %u to %u", fds0, fds1);
	if (rss1 > rss0 + rss0 / 20 || rss1 + rss0 / 20 < rss0)
		FAIL("the daemon's RSS went from %lu to %lu KiB", rss0, rss1);
	return 0;
}
