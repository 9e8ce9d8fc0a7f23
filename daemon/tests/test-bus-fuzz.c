/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * test-bus-fuzz: bad callers against a running dirtyrated (bus-harness.py,
 * with a [Track] rule for the workload below).
 *
 *   test-bus-fuzz [--seed N] [--calls N] [--as-uid UID]
 *
 * Sends --calls calls (a fixed seed: the same calls every run), pipelined
 * over several connections: every method and property with wrong
 * signatures, missing and extra arguments; PIDs 0, 1, the daemon's own, a
 * kernel thread, a zombie, beyond pid_max, and PIDs that exit between the
 * call and the reply; Set on read-only properties; huge and empty strings;
 * object paths that do not exist or belong to exited processes; Track and
 * Untrack of the same PID from many connections at once. With --as-uid the
 * calls come from that user (the set-up and the checks stay root's).
 *
 * Every call must get a reply or a named error; the daemon must survive,
 * end with the processes it had and the fds it had, and keep measuring a
 * workload tracked throughout: its rate (faults-only: write faults) within
 * 5 % of what it wrote. Prints the count, the errors by name, and the
 * daemon's fds and RSS before and after.
 */
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "bus-test-lib.h"
#include "proc-pid.h"
#include "tests.h"
#include "util.h"

#define N_CONNECTIONS 8
#define MAX_IN_FLIGHT 32		/* per connection */
#define N_POOL 16			/* sleeping children that fuzz calls may track */
#define WORKLOAD_COMM "dr-fuzz-wl"	/* the harness's [Track] rule */
#define WORKLOAD_PAGES_PER_TICK 16	/* fresh pages every 10 ms */
#define HUGE_STRING (1024 * 1024)

static uint64_t rng_state;

static unsigned pick(unsigned n) {
	return test_random(&rng_state, n);
}

/* ---- the processes the calls name ---- */

struct targets {
	pid_t daemon, kthread, zombie, exited, workload;
	pid_t pool[N_POOL];
	uint32_t pid_max;
	char *huge;			/* HUGE_STRING bytes of 'x' */
	volatile uint64_t *written;	/* the workload's page count (shared) */
};

/* Writes WORKLOAD_PAGES_PER_TICK fresh pages every 10 ms: each write is a
 * first-touch fault, which faults-only counts, and publishes its count. */
static pid_t spawn_workload(volatile uint64_t *written) {
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		const size_t page = (size_t) sysconf(_SC_PAGESIZE), len = WORKLOAD_PAGES_PER_TICK * page;
		volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		prctl_set_pdeathsig();
		prctl(PR_SET_NAME, WORKLOAD_COMM);
		if (p == MAP_FAILED)
			_exit(EXIT_FAILURE);
		(void) madvise((void *) p, len, MADV_NOHUGEPAGE);
		for (;;) {
			(void) madvise((void *) p, len, MADV_DONTNEED);
			for (size_t i = 0; i < WORKLOAD_PAGES_PER_TICK; i++)
				p[i * page] = 1;
			*written += WORKLOAD_PAGES_PER_TICK;
			usleep(10000);
		}
	}
	return pid;
}

static uint32_t read_pid_max(void) {
	_cleanup_fclose_ FILE *f = fopen("/proc/sys/kernel/pid_max", "re");
	unsigned v = 32768;

	if (f && fscanf(f, "%u", &v) != 1)
		v = 32768;
	return v;
}

/* A PID to name in a call: mostly ones that mean something. */
static uint32_t some_pid(const struct targets *t) {
	switch (pick(12)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return (uint32_t) t->daemon;
	case 3: return (uint32_t) t->kthread;
	case 4: return (uint32_t) t->zombie;
	case 5: return (uint32_t) t->exited;
	case 6: return t->pid_max + pick(3);			/* at and beyond pid_max */
	case 7: return (uint32_t[]) { 4194305, INT32_MAX, UINT32_MAX, 0x80000000u }[pick(4)];
	case 8: return (uint32_t) t->workload;		/* only read, never untracked */
	default: return (uint32_t) t->pool[pick(N_POOL)];
	}
}

static const char *some_string(const struct targets *t) {
	static const char *const strings[] = {
		"", "org.dirtyrate1.Process", "org.dirtyrate1.Manager", "PID", "SampleIntervalUSec",
		"DirtyBytesPerSec", "No Such Thing", "\xc3\xa9\xe2\x82\xac", "org.freedesktop.DBus.Properties",
	};

	if (pick(500) == 0)
		return t->huge;
	return strings[pick(ELEMENTSOF(strings))];
}

static void some_path(const struct targets *t, char *buf, size_t size) {
	switch (pick(8)) {
	case 0: snprintf(buf, size, "%s", DIRTYRATE_MANAGER_PATH); break;
	case 1: snprintf(buf, size, "%s", DIRTYRATE_PROCESS_PATH_PREFIX); break;
	case 2: snprintf(buf, size, "%s/0", DIRTYRATE_PROCESS_PATH_PREFIX); break;
	case 3: snprintf(buf, size, "%s/%d", DIRTYRATE_PROCESS_PATH_PREFIX, (int) t->exited); break;
	case 4: snprintf(buf, size, "%s/999999999", DIRTYRATE_PROCESS_PATH_PREFIX); break;
	case 5: snprintf(buf, size, "/org/dirtyrate1/nope"); break;
	case 6: snprintf(buf, size, "%s/%d", DIRTYRATE_PROCESS_PATH_PREFIX, (int) t->workload); break;
	default: snprintf(buf, size, "%s/%u", DIRTYRATE_PROCESS_PATH_PREFIX, (unsigned) some_pid(t)); break;
	}
}

/* ---- building one call ---- */

struct member {
	const char *interface, *name, *signature;	/* the right signature */
	bool on_process;				/* else on the manager's path */
};

static const struct member members[] = {
	{ DIRTYRATE_MANAGER_INTERFACE, "TrackProcess", "u" },
	{ DIRTYRATE_MANAGER_INTERFACE, "UntrackProcess", "u" },
	{ DIRTYRATE_MANAGER_INTERFACE, "GetProcess", "u" },
	{ DIRTYRATE_MANAGER_INTERFACE, "ListProcesses", "" },
	{ DIRTYRATE_MANAGER_INTERFACE, "SetSampleInterval", "tb" },
	{ DIRTYRATE_MANAGER_INTERFACE, "Reload", "" },
	{ DIRTYRATE_MANAGER_INTERFACE, "NoSuchMethod", "" },
	{ "org.freedesktop.DBus.Properties", "Get", "ss" },
	{ "org.freedesktop.DBus.Properties", "GetAll", "s" },
	{ "org.freedesktop.DBus.Properties", "Set", "ssv" },
	{ "org.freedesktop.DBus.Properties", "Get", "ss", true },
	{ "org.freedesktop.DBus.Properties", "GetAll", "s", true },
	{ "org.freedesktop.DBus.Properties", "Set", "ssv", true },
	{ "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", "" },
	{ "org.freedesktop.DBus.Introspectable", "Introspect", "" },
	{ "org.freedesktop.DBus.Introspectable", "Introspect", "", true },
	{ "org.freedesktop.DBus.Peer", "Ping", "" },
	{ DIRTYRATE_PROCESS_INTERFACE, "NoSuchMethod", "", true },
};

/* Appends one argument of type c (a basic type or one of "v", "a"). */
static int append_arg(sd_bus_message *m, char c, const struct targets *t) {
	switch (c) {
	case 'u': return sd_bus_message_append(m, "u", some_pid(t));
	case 't': return sd_bus_message_append(m, "t", (uint64_t[]) { 0, 9999, 10000, 100000, 3600000000, 3600000001,
								      UINT64_MAX }[pick(7)]);
	case 'b': return sd_bus_message_append(m, "b", (int) pick(2));
	case 's': return sd_bus_message_append(m, "s", some_string(t));
	case 'i': return sd_bus_message_append(m, "i", (int32_t) pick(1u << 20) - (1 << 19));
	case 'd': return sd_bus_message_append(m, "d", (double[]) { NAN, -1.0, 1e308 }[pick(3)]);
	case 'o': return sd_bus_message_append(m, "o", DIRTYRATE_MANAGER_PATH);
	case 'v':
		switch (pick(4)) {
		case 0: return sd_bus_message_append(m, "v", "t", UINT64_C(250000));
		case 1: return sd_bus_message_append(m, "v", "s", some_string(t));
		case 2: return sd_bus_message_append(m, "v", "u", some_pid(t));
		default: return sd_bus_message_append(m, "v", "as", 2, "a", "");
		}
	default: return sd_bus_message_append(m, "as", 1, some_string(t));
	}
}

/* A signature for a call of member: right, wrong, short or long. */
static void some_signature(const struct member *mb, char *buf, size_t size) {
	static const char types[] = "utbsidova";
	size_t len = strlen(mb->signature);

	switch (pick(4)) {
	case 0: /* right */
		snprintf(buf, size, "%s", mb->signature);
		break;
	case 1: /* one argument missing */
		snprintf(buf, size, "%.*s", (int) (len ? len - 1 : 0), mb->signature);
		break;
	case 2: /* one too many */
		snprintf(buf, size, "%s%c", mb->signature, types[pick(sizeof(types) - 1)]);
		break;
	default: /* anything, up to three */
		for (unsigned i = 0, n = pick(4); i < n && i + 1 < size; i++, buf[i] = 0)
			buf[i] = types[pick(sizeof(types) - 1)];
		buf[pick(4) == 0 ? 0 : strlen(buf)] = 0;
		break;
	}
}

static int new_fuzz_call(sd_bus *bus, const struct targets *t, bool privileged, sd_bus_message **ret) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	const struct member *mb = &members[pick(ELEMENTSOF(members))];
	char path[128], sig[16] = "";
	int r;

	/* Root's mutations change what is tracked; keep the workload tracked throughout. */
	if (privileged && streq(mb->name, "UntrackProcess"))
		mb = &members[2];
	if (mb->on_process)
		some_path(t, path, sizeof(path));
	else
		snprintf(path, sizeof(path), "%s", pick(16) ? DIRTYRATE_MANAGER_PATH : "/org/dirtyrate1/process");
	r = sd_bus_message_new_method_call(bus, &m, DIRTYRATE_BUS_NAME, path, mb->interface, mb->name);
	if (r < 0)
		return r;
	some_signature(mb, sig, sizeof(sig));
	for (const char *c = sig; *c; c++) {
		r = append_arg(m, *c, t);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

/* ---- sending them, and counting the answers ---- */

#define MAX_NAMES 64

struct tally {
	unsigned sent, replies, errors;
	struct {
		char name[128];
		unsigned n;
	} names[MAX_NAMES];
	unsigned n_names;
	unsigned fatal;			/* answers that mean the daemon is gone or hung */
	char first_fatal[256];
};

static void count_error(struct tally *tl, const sd_bus_error *e) {
	static const char *const fatal[] = {
		SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
		SD_BUS_ERROR_DISCONNECTED, SD_BUS_ERROR_TIMEOUT,
	};
	const char *name = e->name ?: "(no name)";
	size_t i;

	tl->errors++;
	for (i = 0; i < ELEMENTSOF(fatal); i++)
		if (streq(name, fatal[i]) || isempty(e->name)) {
			if (tl->fatal++ == 0)
				snprintf(tl->first_fatal, sizeof(tl->first_fatal), "%s: %s", name, e->message ?: "");
			break;
		}
	for (i = 0; i < tl->n_names; i++)
		if (streq(tl->names[i].name, name))
			break;
	if (i == tl->n_names) {
		ASSERT_TRUE(tl->n_names < MAX_NAMES);
		snprintf(tl->names[tl->n_names++].name, sizeof(tl->names[0].name), "%s", name);
	}
	tl->names[i].n++;
}

struct conn {
	sd_bus *bus;
	unsigned in_flight;
	struct tally *tally;
};

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct conn *c = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	c->in_flight--;
	if (e)
		count_error(c->tally, e);
	else
		c->tally->replies++;
	return 0;
}

static void send_call(struct conn *c, sd_bus_message *m) {
	int r = sd_bus_call_async(c->bus, NULL, m, on_reply, c, 30 * USEC_PER_SEC);

	if (r < 0)
		FAIL("cannot send a call: %s", strerror(-r));
	c->in_flight++;
	c->tally->sent++;
}

/* Runs every connection until it has fewer than max calls in flight. */
static void drain(struct conn *conns, unsigned max) {
	for (;;) {
		bool busy = false;

		for (unsigned i = 0; i < N_CONNECTIONS; i++) {
			while (sd_bus_process(conns[i].bus, NULL) > 0)
				;
			busy = busy || conns[i].in_flight >= max;
		}
		if (!busy)
			return;
		for (unsigned i = 0; i < N_CONNECTIONS; i++)
			if (conns[i].in_flight >= max) {
				ASSERT_TRUE(sd_bus_wait(conns[i].bus, 100 * USEC_PER_MSEC) >= 0);
				break;
			}
	}
}

/* Track and Untrack of one PID from every connection at once. */
static void track_untrack_storm(struct conn *conns, pid_t pid) {
	for (unsigned i = 0; i < N_CONNECTIONS; i++)
		for (unsigned k = 0; k < 2; k++) {
			_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

			ASSERT_TRUE(sd_bus_message_new_method_call(conns[i].bus, &m, DIRTYRATE_BUS_NAME,
								   DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE,
								   (i + k) % 2 ? "UntrackProcess" : "TrackProcess") >= 0);
			ASSERT_TRUE(sd_bus_message_append(m, "u", (uint32_t) pid) >= 0);
			send_call(&conns[i], m);
		}
}

/* A child that exits right away: calls about it race its exit. */
static void exiting_child_call(struct conn *c) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0)
		_exit(0);
	ASSERT_TRUE(sd_bus_message_new_method_call(c->bus, &m, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
						   DIRTYRATE_MANAGER_INTERFACE,
						   pick(2) ? "TrackProcess" : "GetProcess") >= 0);
	ASSERT_TRUE(sd_bus_message_append(m, "u", (uint32_t) pid) >= 0);
	send_call(c, m);
	(void) waitpid(pid, NULL, 0);
}

static void fuzz(const struct targets *t, unsigned calls, bool privileged, struct tally *tl) {
	struct conn conns[N_CONNECTIONS];

	for (unsigned i = 0; i < N_CONNECTIONS; i++)
		conns[i] = (struct conn) { .bus = bus_open(), .tally = tl };

	while (tl->sent < calls) {
		struct conn *c = &conns[pick(N_CONNECTIONS)];
		unsigned what = pick(1000);

		if (what == 0)
			track_untrack_storm(conns, t->pool[pick(N_POOL)]);
		else if (what < 20)
			exiting_child_call(c);
		else {
			_cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;

			ASSERT_EQ(new_fuzz_call(c->bus, t, privileged, &m), 0);
			send_call(c, m);
		}
		drain(conns, MAX_IN_FLIGHT);
	}
	drain(conns, 1);
	for (unsigned i = 0; i < N_CONNECTIONS; i++)
		sd_bus_flush_close_unref(conns[i].bus);
}

/* As --as-uid: a child drops to uid and fuzzes; the tally comes back through shared memory. */
static void fuzz_as(const struct targets *t, unsigned calls, uid_t uid, struct tally *tl) {
	struct tally *shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pid;
	int status;

	ASSERT_TRUE(shared != MAP_FAILED);
	*shared = (struct tally) {};
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		prctl_set_pdeathsig();
		if (setgroups(0, NULL) < 0 || setresgid(uid, uid, uid) < 0 || setresuid(uid, uid, uid) < 0)
			FAIL("cannot become uid %u: %s", (unsigned) uid, strerror(errno));
		fuzz(t, calls, false, shared);
		_exit(EXIT_SUCCESS);
	}
	ASSERT_EQ(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		FAIL("the fuzzer as uid %u failed", (unsigned) uid);
	*tl = *shared;
	munmap(shared, sizeof(*shared));
}

/* ---- the workload's rate, and the daemon's state ---- */

/*
 * What the daemon counted at one pass, and what the workload had written by
 * then. The workload's count at the pass is only known to lie between two
 * reads: one made before asking about the pass before it (the daemon
 * answered that call before this pass, so the pass came later) and one made
 * once the new pass showed. Comparing counts within those bounds, rather
 * than rates over clocks read at different moments, holds however late a
 * loaded machine lets the test read.
 */
struct reading {
	uint64_t dirtied, at_usec;		/* DirtiedBytesTotal, LastSampleTimestampMonotonic */
	uint64_t written_min, written_max;	/* the workload's page count at that pass lies in here */
};

static struct reading read_workload(sd_bus *bus, const char *path, const struct targets *t) {
	uint64_t before = *t->written, at;
	struct reading r;

	at = get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "LastSampleTimestampMonotonic");
	r.written_min = before;
	for (;;) {
		before = *t->written;
		r.at_usec = get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "LastSampleTimestampMonotonic");
		if (r.at_usec != at)
			break;
		r.written_min = before;
		usleep(2000);
	}
	/* A page's fault comes before the workload counts it: a tick's worth may be counted already. */
	r.written_max = *t->written + WORKLOAD_PAGES_PER_TICK;
	r.dirtied = get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "DirtiedBytesTotal");
	if (get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "LastSampleTimestampMonotonic") != r.at_usec)
		return read_workload(bus, path, t); /* another pass came in between: read again */
	return r;
}

static uint32_t tracked_count(sd_bus *bus) {
	return get_u32(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "TrackedProcesses");
}

static bool only_workload_tracked(void *userdata) {
	return tracked_count(userdata) == 1;
}

static void wait_for_workload(sd_bus *bus, const char *path) {
	for (int i = 0; i < 3000; i++) {
		sd_bus_error e = SD_BUS_ERROR_NULL;
		uint32_t pid;

		if (sd_bus_get_property_trivial(bus, DIRTYRATE_BUS_NAME, path, DIRTYRATE_PROCESS_INTERFACE, "PID", &e, 'u',
						&pid) >= 0)
			return;
		sd_bus_error_free(&e);
		usleep(10000);
	}
	FAIL("the [Track] rule did not track the workload (%s)", path);
}

int main(int argc, char *argv[]) {
	static const struct option options[] = {
		{ "seed", required_argument, NULL, 's' },
		{ "calls", required_argument, NULL, 'n' },
		{ "as-uid", required_argument, NULL, 'u' },
		{}
	};
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	unsigned calls = 20000, fds0, fds1;
	unsigned long rss0, rss1;
	uint64_t seed = 12, start0;
	long as_uid = -1;
	struct targets t = {};
	struct tally tl = {};
	struct reading r0, r1;
	char wl_path[PROCESS_PATH_MAX];
	double measured, least, most, err;
	_cleanup_free_ char *backend = NULL;
	bool bpf;
	int opt;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 10); break;
		case 'n': calls = (unsigned) strtoul(optarg, NULL, 10); break;
		case 'u': as_uid = strtol(optarg, NULL, 10); break;
		default: return 2;
		}
	rng_state = seed;
	bus = bus_open();
	bpf = has_feature(bus, "bpf-faults");

	t.daemon = daemon_pid();
	t.kthread = find_kernel_thread() ?: 2;
	t.pid_max = read_pid_max();
	t.huge = malloc(HUGE_STRING + 1);
	ASSERT_TRUE(t.huge);
	memset(t.huge, 'x', HUGE_STRING);
	t.huge[HUGE_STRING] = 0;
	t.written = mmap(NULL, sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(t.written != MAP_FAILED);
	t.workload = spawn_workload(t.written);
	for (unsigned i = 0; i < N_POOL; i++)
		t.pool[i] = spawn_sleeper();
	t.zombie = fork();
	ASSERT_TRUE(t.zombie >= 0);
	if (t.zombie == 0)
		_exit(0);
	ASSERT_EQ(waitid(P_PID, (id_t) t.zombie, NULL, WEXITED | WNOWAIT), 0); /* stays a zombie */
	t.exited = fork();
	ASSERT_TRUE(t.exited >= 0);
	if (t.exited == 0)
		_exit(0);
	ASSERT_EQ(waitpid(t.exited, NULL, 0), t.exited);

	ASSERT_EQ(process_path_from_pid(t.workload, wl_path, sizeof(wl_path)), 0);
	wait_for_workload(bus, wl_path);
	/*
	 * The count is checked against the pages the workload wrote, which
	 * holds for faults-only alone: page-sampling's estimate also counts
	 * the workload's other writes (its page counter, its stack, the
	 * sanitizer's own memory), scaled up by its sample's share of the
	 * resident pages. (faults-only is there with or without BPF.)
	 */
	backend = get_string(bus, wl_path, DIRTYRATE_PROCESS_INTERFACE, "Backend");
	if (!streq(backend, "faults-only"))
		FAIL("the workload is measured by %s, not faults-only: the [Track] rule must say Backend=faults-only",
		     backend);
	start0 = get_u64(bus, wl_path, DIRTYRATE_PROCESS_INTERFACE, "StartTimestampBoottime");
	ASSERT_EQ(tracked_count(bus), 1);
	r0 = read_workload(bus, wl_path, &t);
	fds0 = daemon_fd_count();
	rss0 = daemon_rss_kib();

	if (as_uid >= 0)
		fuzz_as(&t, calls, (uid_t) as_uid, &tl);
	else
		fuzz(&t, calls, true, &tl);

	/*
	 * Root untracks what the calls tracked (PID 1 too: in the PID
	 * namespace the test runs in, that is the harness); the exits do the
	 * rest.
	 */
	for (unsigned i = 0; i < N_POOL; i++)
		free(manager_call(bus, "UntrackProcess", NULL, "u", (uint32_t) t.pool[i]));
	free(manager_call(bus, "UntrackProcess", NULL, "u", (uint32_t) 1));
	wait_until(bus, only_workload_tracked, bus, "TrackedProcesses back to the workload alone");
	r1 = read_workload(bus, wl_path, &t);
	fds1 = daemon_fd_count();
	rss1 = daemon_rss_kib();

	printf("fuzz: seed %" PRIu64 ", %u calls%s over %u connections: %u replies, %u errors\n", seed, tl.sent,
	       as_uid >= 0 ? " as an unprivileged uid" : " as root", N_CONNECTIONS, tl.replies, tl.errors);
	for (unsigned i = 0; i < tl.n_names; i++)
		printf("  %6u %s\n", tl.names[i].n, tl.names[i].name);
	printf("daemon: %u fds before, %u after; VmRSS %lu KiB before, %lu KiB after\n", fds0, fds1, rss0, rss1);

	if (tl.sent < calls || tl.replies + tl.errors != tl.sent)
		FAIL("%u calls sent, %u answered", tl.sent, tl.replies + tl.errors);
	if (tl.fatal)
		FAIL("%u calls got no real answer, the first: %s", tl.fatal, tl.first_fatal);
	if (fds1 != fds0)
		FAIL("the daemon's fds went from %u to %u", fds0, fds1);
	ASSERT_EQ(get_u64(bus, wl_path, DIRTYRATE_PROCESS_INTERFACE, "StartTimestampBoottime"), start0);

	if (!bpf) {
		printf("workload: no bpf-faults here, so faults-only has no rate to check\n");
		goto done;
	}
	/* The pages the daemon counted between two passes against what the workload wrote between them. */
	measured = (double) (r1.dirtied - r0.dirtied) / (double) sysconf(_SC_PAGESIZE);
	least = (double) r1.written_min - (double) r0.written_max;
	most = (double) r1.written_max - (double) r0.written_min;
	err = measured < least ? 100.0 * (measured - least) / least :
	      measured > most  ? 100.0 * (measured - most) / most : 0;
	printf("workload %d, tracked throughout: %.0f pages counted by the daemon in %.2f s, %.0f to %.0f written, "
	       "%+.2f %% outside that\n", (int) t.workload, measured, (double) (r1.at_usec - r0.at_usec) / 1e6,
	       least, most, err);
	if (fabs(err) > 5)
		FAIL("the daemon's count of the workload's pages is off by %+.2f %%", err);
done:
	kill(t.workload, SIGKILL);
	for (unsigned i = 0; i < N_POOL; i++)
		kill(t.pool[i], SIGKILL);
	while (wait(NULL) > 0)
		;
	free(t.huge);
	return 0;
}
