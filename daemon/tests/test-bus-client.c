/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * sd-bus client tests against a running dirtyrated (started by
 * bus-harness.py on a private bus; DBUS_SYSTEM_BUS_ADDRESS points at it).
 *
 *   test-bus-client track-child | object-manager | coalescing | pid-reuse |
 *                   errors | unprivileged | slow-pass | slow-rescan | fake-polkit
 *
 * Waits are for signals or replies, bounded by a generous timeout that only
 * turns a hang into a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <math.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <systemd/sd-bus.h>

#include "bus-test-lib.h"
#include "object-path.h"
#include "proc-pid.h"
#include "tests.h"
#include "util.h"

#define NOT_A_PID 4194305 /* PID_MAX_LIMIT + 1: cannot exist */

/* A child that keeps dirtying memory: a fixed buffer, plus fresh pages. */
static pid_t spawn_dirtier(void) {
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		const size_t page = (size_t) sysconf(_SC_PAGESIZE);
		volatile char *buf = mmap(NULL, 64 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		prctl_set_pdeathsig();
		for (unsigned long n = 0;; n++) {
			volatile char *fresh = mmap(NULL, 16 * page, PROT_READ | PROT_WRITE,
						    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			for (size_t i = 0; i < 64; i++)
				buf[i * page] = (char) n;
			for (size_t i = 0; i < 16; i++)
				fresh[i * page] = 1;
			munmap((void *) fresh, 16 * page);
			usleep(1000);
		}
	}
	return pid;
}

static uint64_t start_usec_of(pid_t pid) {
	char path[32];
	_cleanup_close_ int fd = -EBADF;
	struct proc_stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int) pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(proc_read_stat(fd, &st), 0);
	return proc_start_ticks_to_usec(st.start_ticks, sysconf(_SC_CLK_TCK));
}

/* Whether ListProcesses lists pid now. */
static bool listed_now(sd_bus *bus, pid_t pid) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	bool found = false;
	uint32_t p;

	expect_ok(manager_call(bus, "ListProcesses", &reply, ""), "ListProcesses");
	ASSERT_TRUE(sd_bus_message_enter_container(reply, 'a', "(uosddt)") > 0);
	while (sd_bus_message_enter_container(reply, 'r', "uosddt") > 0) {
		ASSERT_TRUE(sd_bus_message_read(reply, "u", &p) > 0);
		ASSERT_TRUE(sd_bus_message_skip(reply, "osddt") >= 0);
		found = found || p == (uint32_t) pid;
		ASSERT_TRUE(sd_bus_message_exit_container(reply) >= 0);
	}
	return found;
}

/* ---- tests ---- */

static int test_track_child(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	char path[PROCESS_PATH_MAX], comm[64], procpath[64];
	struct changes c = { .path = path };
	_cleanup_free_ char *backend = NULL, *pcomm = NULL, *default_backend = NULL;
	pid_t child = spawn_dirtier();
	bool bpf = has_feature(bus, "bpf-faults");
	uint32_t pid;
	const char *opath, *lcomm;
	bool listed = false;
	FILE *f;

	process_path_from_pid(child, path, sizeof(path));
	watch_changes(bus, &c);
	track(bus, child, path);

	ASSERT_EQ(get_u32(bus, path, DIRTYRATE_PROCESS_INTERFACE, "PID"), child);
	ASSERT_EQ_U64(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "StartTimestampBoottime"), start_usec_of(child));
	ASSERT_EQ(get_u32(bus, path, DIRTYRATE_PROCESS_INTERFACE, "UID"), geteuid());
	snprintf(procpath, sizeof(procpath), "/proc/%d/comm", (int) child);
	f = fopen(procpath, "re");
	ASSERT_TRUE(f && fgets(comm, sizeof(comm), f));
	fclose(f);
	comm[strcspn(comm, "\n")] = 0;
	pcomm = get_string(bus, path, DIRTYRATE_PROCESS_INTERFACE, "Comm");
	ASSERT_STREQ(pcomm, comm);
	free(get_string(bus, path, DIRTYRATE_PROCESS_INTERFACE, "Unit"));
	free(get_string(bus, path, DIRTYRATE_PROCESS_INTERFACE, "CGroup"));
	backend = get_string(bus, path, DIRTYRATE_PROCESS_INTERFACE, "Backend");
	default_backend = get_string(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Backend");
	ASSERT_STREQ(backend, default_backend);
	ASSERT_EQ(get_u32(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "TrackedProcesses"), 1);

	/* The baseline pass came with TrackProcess; wait for two real intervals. */
	wait_for_changes(bus, &c, 2, "two PropertiesChanged of the tracked child");

	ASSERT_TRUE(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "LastSampleTimestamp") > 0);
	ASSERT_TRUE(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "LastSampleTimestamp") <= now_usec(CLOCK_REALTIME));
	ASSERT_TRUE(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "ScannedBytes") >= 64 * 4096);
	ASSERT_TRUE(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "ResidentBytes") > 0);
	ASSERT_EQ_U64(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "ForeignClears"), 0);

	if (streq(backend, "faults-only") && !bpf) {
		/* No soft-dirty and no fault counters: no rate, and it says so. */
		ASSERT_TRUE(isnan(get_double(bus, path, "DirtyBytesPerSec")));
		ASSERT_TRUE(isnan(get_double(bus, path, "DirtyBytesPerSecAvg10")));
		ASSERT_TRUE(isnan(get_double(bus, path, "WriteFaultsPerSec")));
		ASSERT_EQ_U64(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "DirtiedBytesTotal"), 0);
	} else {
		/* The child writes 80 pages a millisecond: any interval sees some. */
		ASSERT_TRUE(get_double(bus, path, "DirtyBytesPerSec") > 0);
		ASSERT_TRUE(get_double(bus, path, "DirtyBytesPerSecAvg10") > 0);
		ASSERT_TRUE(get_double(bus, path, "DirtyBytesPerSecAvg300") > 0);
		ASSERT_TRUE(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "DirtiedBytesTotal") > 0);
	}
	if (bpf) {
		ASSERT_TRUE(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "WriteFaultsTotal") > 0);
		ASSERT_TRUE(get_double(bus, path, "WriteFaultsPerSec") > 0);
	}
	printf("  child %d: backend %s, DirtyBytesPerSec %g, ScannedBytes %" PRIu64 "\n", (int) child, backend,
	       get_double(bus, path, "DirtyBytesPerSec"), get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "ScannedBytes"));

	expect_ok(manager_call(bus, "ListProcesses", &reply, ""), "ListProcesses");
	ASSERT_TRUE(sd_bus_message_enter_container(reply, 'a', "(uosddt)") > 0);
	while (sd_bus_message_enter_container(reply, 'r', "uosddt") > 0) {
		double avg10, wfps;
		uint64_t rss;

		ASSERT_TRUE(sd_bus_message_read(reply, "uosddt", &pid, &opath, &lcomm, &avg10, &wfps, &rss) > 0);
		if (pid == (uint32_t) child) {
			listed = true;
			ASSERT_STREQ(opath, path);
			ASSERT_STREQ(lcomm, comm);
			ASSERT_TRUE(rss > 0);
		}
		ASSERT_TRUE(sd_bus_message_exit_container(reply) >= 0);
	}
	ASSERT_TRUE(listed);

	/* TrackProcess is idempotent. */
	track(bus, child, path);
	ASSERT_EQ(get_u32(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "TrackedProcesses"), 1);

	expect_ok(manager_call(bus, "UntrackProcess", NULL, "u", (uint32_t) child), "UntrackProcess");
	expect_error(manager_call(bus, "GetProcess", NULL, "u", (uint32_t) child), "org.dirtyrate1.Error.NotTracked",
		     "GetProcess(untracked child)");
	ASSERT_EQ(get_u32(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "TrackedProcesses"), 0);
	/* ListProcesses' rows are kept between passes, but not past a removal
	 * or an addition. */
	ASSERT_TRUE(!listed_now(bus, child));
	track(bus, child, path);
	ASSERT_TRUE(listed_now(bus, child));
	expect_ok(manager_call(bus, "UntrackProcess", NULL, "u", (uint32_t) child), "UntrackProcess");
	ASSERT_TRUE(!listed_now(bus, child));
	kill_and_reap(child);
	return 0;
}

struct om_event {
	bool added;
	char path[PROCESS_PATH_MAX];
	uint32_t pid;		/* from InterfacesAdded's properties */
	uint64_t start_usec;
};

struct om_events {
	struct om_event ev[16];
	unsigned n;
};

static int on_interfaces_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct om_events *o = userdata;
	struct om_event *e = &o->ev[o->n];
	const char *path, *iface, *name;

	ASSERT_TRUE(o->n < ELEMENTSOF(o->ev));
	*e = (struct om_event) { .added = true };
	ASSERT_TRUE(sd_bus_message_read(m, "o", &path) > 0);
	snprintf(e->path, sizeof(e->path), "%s", path);
	ASSERT_TRUE(sd_bus_message_enter_container(m, 'a', "{sa{sv}}") > 0);
	while (sd_bus_message_enter_container(m, 'e', "sa{sv}") > 0) {
		ASSERT_TRUE(sd_bus_message_read(m, "s", &iface) > 0);
		ASSERT_TRUE(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
		while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
			ASSERT_TRUE(sd_bus_message_read(m, "s", &name) > 0);
			if (streq(iface, DIRTYRATE_PROCESS_INTERFACE) && streq(name, "PID"))
				ASSERT_TRUE(sd_bus_message_read(m, "v", "u", &e->pid) > 0);
			else if (streq(iface, DIRTYRATE_PROCESS_INTERFACE) && streq(name, "StartTimestampBoottime"))
				ASSERT_TRUE(sd_bus_message_read(m, "v", "t", &e->start_usec) > 0);
			else
				ASSERT_TRUE(sd_bus_message_skip(m, "v") >= 0);
			ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
		}
		ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
		ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
	}
	o->n++;
	return 0;
}

static int on_interfaces_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct om_events *o = userdata;
	struct om_event *e = &o->ev[o->n];
	const char *path, *iface;
	bool process_iface = false;

	ASSERT_TRUE(o->n < ELEMENTSOF(o->ev));
	*e = (struct om_event) { .added = false };
	ASSERT_TRUE(sd_bus_message_read(m, "o", &path) > 0);
	snprintf(e->path, sizeof(e->path), "%s", path);
	ASSERT_TRUE(sd_bus_message_enter_container(m, 'a', "s") > 0);
	while (sd_bus_message_read(m, "s", &iface) > 0)
		process_iface = process_iface || streq(iface, DIRTYRATE_PROCESS_INTERFACE);
	ASSERT_TRUE(process_iface);
	o->n++;
	return 0;
}

static void watch_object_manager(sd_bus *bus, struct om_events *o) {
	ASSERT_TRUE(sd_bus_match_signal(bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
					"InterfacesAdded", on_interfaces_added, o) >= 0);
	ASSERT_TRUE(sd_bus_match_signal(bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
					"InterfacesRemoved", on_interfaces_removed, o) >= 0);
}

static unsigned want_events;
static bool enough_events(void *userdata) {
	return ((struct om_events *) userdata)->n >= want_events;
}

/* Whether GetManagedObjects lists path with the Process interface. */
static bool managed(sd_bus *bus, const char *path) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *p, *iface;
	bool found = false;

	if (sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", &e,
			       &reply, "") < 0)
		FAIL("GetManagedObjects: %s", e.message);
	ASSERT_TRUE(sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}") > 0);
	while (sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}") > 0) {
		ASSERT_TRUE(sd_bus_message_read(reply, "o", &p) > 0);
		ASSERT_TRUE(sd_bus_message_enter_container(reply, 'a', "{sa{sv}}") > 0);
		while (sd_bus_message_enter_container(reply, 'e', "sa{sv}") > 0) {
			ASSERT_TRUE(sd_bus_message_read(reply, "s", &iface) > 0);
			found = found || (streq(p, path) && streq(iface, DIRTYRATE_PROCESS_INTERFACE));
			ASSERT_TRUE(sd_bus_message_skip(reply, "a{sv}") >= 0);
			ASSERT_TRUE(sd_bus_message_exit_container(reply) >= 0);
		}
		ASSERT_TRUE(sd_bus_message_exit_container(reply) >= 0);
		ASSERT_TRUE(sd_bus_message_exit_container(reply) >= 0);
	}
	return found;
}

static int test_object_manager(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	struct om_events o = {};
	char path[PROCESS_PATH_MAX];
	pid_t child = spawn_dirtier();

	watch_object_manager(bus, &o);
	ASSERT_TRUE(!managed(bus, "/org/dirtyrate1/process/1"));
	track(bus, child, path);

	want_events = 1;
	wait_until(bus, enough_events, &o, "InterfacesAdded");
	ASSERT_TRUE(o.ev[0].added);
	ASSERT_STREQ(o.ev[0].path, path);
	ASSERT_EQ(o.ev[0].pid, child);
	ASSERT_EQ_U64(o.ev[0].start_usec, start_usec_of(child));
	ASSERT_TRUE(managed(bus, path));

	/* The child exits: the daemon notices through its pidfd. */
	kill_and_reap(child);
	want_events = 2;
	wait_until(bus, enough_events, &o, "InterfacesRemoved after the child exited");
	ASSERT_TRUE(!o.ev[1].added);
	ASSERT_STREQ(o.ev[1].path, path);
	ASSERT_TRUE(!managed(bus, path));
	ASSERT_EQ(get_u32(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "TrackedProcesses"), 0);
	expect_error(manager_call(bus, "GetProcess", NULL, "u", (uint32_t) child),
		     "org.dirtyrate1.Error.NoSuchProcess", "GetProcess(exited child)");
	ASSERT_EQ(o.n, 2);
	return 0;
}

static bool carried(const struct pass_values *v, const char *property) {
	for (size_t i = 0; i < n_sampled_properties; i++)
		if (streq(sampled_properties[i], property))
			return v->carried & (1u << i);
	FAIL("%s is not a sampled property", property);
}

static int test_coalescing(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	char path[PROCESS_PATH_MAX];
	struct changes c = { .path = path };
	pid_t child = spawn_dirtier();

	process_path_from_pid(child, path, sizeof(path));
	watch_changes(bus, &c);
	track(bus, child, path);

	wait_for_changes(bus, &c, 6, "six passes");
	kill_and_reap(child);

	/* Each pass: at most one signal, with sampled properties only (the
	 * timestamps of the sample have none: every pass moves them), each
	 * carried only when its value changed. A busy writer changes its
	 * total at every pass. */
	if (c.foreign)
		FAIL("%u PropertiesChanged carried a property that is not a sampled one", c.foreign);
	for (unsigned i = 1; i < c.count && i < MAX_PASSES; i++) {
		const struct pass_values *v = &c.pass[i], *was = &c.pass[i - 1];

		if (v->signals > 1)
			FAIL("pass %u: %u PropertiesChanged", i, v->signals);
		if (carried(v, "DirtiedBytesTotal") && v->dirtied_bytes_total == was->dirtied_bytes_total)
			FAIL("pass %u: DirtiedBytesTotal %" PRIu64 " again", i, v->dirtied_bytes_total);
		if (carried(v, "ForeignClears") && v->foreign_clears == was->foreign_clears)
			FAIL("pass %u: ForeignClears %" PRIu64 " again", i, v->foreign_clears);
		if (carried(v, "WriteFaultsTotal") && v->write_faults_total == was->write_faults_total)
			FAIL("pass %u: WriteFaultsTotal %" PRIu64 " again", i, v->write_faults_total);
		if (carried(v, "DirtyBytesPerSec") && v->dirty_bytes_per_sec == was->dirty_bytes_per_sec)
			FAIL("pass %u: DirtyBytesPerSec %g again", i, v->dirty_bytes_per_sec);
		if (!carried(v, "DirtiedBytesTotal"))
			FAIL("pass %u: the writer's DirtiedBytesTotal did not change", i);
	}
	printf("  %u passes, %u PropertiesChanged, at most one a pass, each with what changed\n", c.count,
	       c.signals);
	return 0;
}

struct racing_call {
	bool replied;
	char *error;	/* "Name: message", or NULL for success */
};

static int on_racing_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct racing_call *c = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	if (e && asprintf(&c->error, "%s: %s", e->name, e->message ?: "") < 0)
		abort();
	c->replied = true;
	return 0;
}

static bool racing_replied(void *userdata) {
	return ((struct racing_call *) userdata)->replied;
}

static uint64_t want_start;
static bool added_with_start(void *userdata) {
	struct om_events *o = userdata;

	return o->n > 0 && o->ev[o->n - 1].added && o->ev[o->n - 1].start_usec == want_start;
}

/* fork() with a chosen PID (needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE). */
static pid_t fork_with_pid(pid_t pid) {
	struct clone_args args = {
		.exit_signal = SIGCHLD,
		.set_tid = (uintptr_t) &pid,
		.set_tid_size = 1,
	};
	long r = syscall(SYS_clone3, &args, sizeof(args));

	if (r == 0) {
		prctl_set_pdeathsig();
		for (;;)
			pause();
	}
	return r < 0 ? -errno : (pid_t) r;
}

static int test_pid_reuse(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	char path[PROCESS_PATH_MAX];
	struct changes c = { .path = path };
	struct om_events o = {};
	pid_t a = -1, b = -1, daemon = (pid_t) atoi(getenv("DIRTYRATED_PID") ?: "0");
	uint64_t start_a = 0, start_b;
	struct racing_call racing = {};

	ASSERT_TRUE(daemon > 0);

	watch_object_manager(bus, &o);
	watch_changes(bus, &c);
	for (int attempt = 0; attempt < 5 && b < 0; attempt++) {
		a = spawn_dirtier();
		process_path_from_pid(a, path, sizeof(path));
		c = (struct changes) { .path = path };
		track(bus, a, path);
		start_a = get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "StartTimestampBoottime");
		/* Let A be sampled (and B start >= one interval later, so the
		 * start times differ at clock-tick resolution). */
		wait_for_changes(bus, &c, 1, "a sample of A");

		/*
		 * A dies and B takes its PID while the daemon is stopped, so
		 * that it wakes to A's exit, B's existence and our call at once.
		 */
		ASSERT_EQ(kill(daemon, SIGSTOP), 0);
		kill_and_reap(a);
		b = fork_with_pid(a);
		if (b > 0) {
			ASSERT_TRUE(sd_bus_call_method_async(bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "GetProcess",
							     on_racing_reply, &racing, "u", (uint32_t) b) >= 0);
			ASSERT_TRUE(sd_bus_flush(bus) >= 0);
		}
		ASSERT_EQ(kill(daemon, SIGCONT), 0);
		if (b == -EPERM || b == -ENOSYS || b == -EINVAL) {
			printf("clone3(set_tid) unavailable (%s): cannot force PID reuse; skipping\n", strerror(-b));
			return 77;
		}
		if (b < 0)
			printf("  PID %d was taken before we could reuse it (%s); again\n", (int) a, strerror(-b));
	}
	ASSERT_TRUE(b == a);
	start_b = start_usec_of(b);
	ASSERT_TRUE(start_b != start_a);

	/* The call that raced with A's exit: B is not A's object. */
	wait_until(bus, racing_replied, &racing, "the racing GetProcess reply");
	expect_error(racing.error, "org.dirtyrate1.Error.NotTracked", "GetProcess(reused PID, racing A's exit)");
	expect_error(manager_call(bus, "GetProcess", NULL, "u", (uint32_t) b), "org.dirtyrate1.Error.NotTracked",
		     "GetProcess(reused PID)");

	track(bus, b, path);
	ASSERT_EQ_U64(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "StartTimestampBoottime"), start_b);
	ASSERT_EQ_U64(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "WriteFaultsTotal"), 0);

	/* Object signals in order: A added, A removed, B added with B's identity. */
	want_start = start_b;
	wait_until(bus, added_with_start, &o, "InterfacesAdded for B");
	ASSERT_TRUE(o.n >= 3);
	ASSERT_TRUE(o.ev[o.n - 3].added && o.ev[o.n - 3].start_usec == start_a);
	ASSERT_TRUE(!o.ev[o.n - 2].added);
	ASSERT_TRUE(o.ev[o.n - 1].added && o.ev[o.n - 1].start_usec == start_b);
	ASSERT_STREQ(o.ev[o.n - 1].path, path);

	kill_and_reap(b);
	printf("  PID %d reused: A started at %" PRIu64 ", B at %" PRIu64 "; B got a fresh object\n", (int) a, start_a,
	       start_b);
	return 0;
}

static int test_errors(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	const char *daemon_pid = getenv("DIRTYRATED_PID");
	sd_bus_error e = SD_BUS_ERROR_NULL;
	pid_t kthread = find_kernel_thread();
	char *err;
	int r;

	ASSERT_TRUE(daemon_pid);
	expect_error(manager_call(bus, "GetProcess", NULL, "u", 0u), "org.dirtyrate1.Error.InvalidArgument", "GetProcess(0)");
	expect_error(manager_call(bus, "GetProcess", NULL, "u", 0x80000000u), "org.dirtyrate1.Error.InvalidArgument",
		     "GetProcess(2^31)");
	expect_error(manager_call(bus, "GetProcess", NULL, "u", (uint32_t) NOT_A_PID), "org.dirtyrate1.Error.NoSuchProcess",
		     "GetProcess(no such PID)");
	expect_error(manager_call(bus, "GetProcess", NULL, "u", (uint32_t) getpid()), "org.dirtyrate1.Error.NotTracked",
		     "GetProcess(untracked)");
	expect_error(manager_call(bus, "TrackProcess", NULL, "u", 0u), "org.dirtyrate1.Error.InvalidArgument",
		     "TrackProcess(0)");
	expect_error(manager_call(bus, "TrackProcess", NULL, "u", (uint32_t) NOT_A_PID),
		     "org.dirtyrate1.Error.NoSuchProcess", "TrackProcess(no such PID)");
	expect_error(manager_call(bus, "TrackProcess", NULL, "u", (uint32_t) atoi(daemon_pid)),
		     "org.dirtyrate1.Error.NotSupported", "TrackProcess(dirtyrated)");
	if (kthread > 0)
		expect_error(manager_call(bus, "TrackProcess", NULL, "u", (uint32_t) kthread),
			     "org.dirtyrate1.Error.NotSupported", "TrackProcess(kernel thread)");
	else
		printf("  (no kernel thread visible: that NotSupported case not exercised)\n");
	expect_error(manager_call(bus, "UntrackProcess", NULL, "u", 0u), "org.dirtyrate1.Error.InvalidArgument",
		     "UntrackProcess(0)");
	expect_error(manager_call(bus, "UntrackProcess", NULL, "u", (uint32_t) NOT_A_PID),
		     "org.dirtyrate1.Error.NoSuchProcess", "UntrackProcess(no such PID)");
	expect_error(manager_call(bus, "UntrackProcess", NULL, "u", (uint32_t) getpid()),
		     "org.dirtyrate1.Error.NotTracked", "UntrackProcess(untracked)");

	/* SetSampleInterval validates its range and applies good values; the property is read-only. */
	expect_error(manager_call(bus, "SetSampleInterval", NULL, "tb", UINT64_C(9999), 0),
		     DIRTYRATE_ERROR_INVALID_ARGUMENT, "SetSampleInterval(9999)");
	expect_error(manager_call(bus, "SetSampleInterval", NULL, "tb", UINT64_C(3600000001), 0),
		     DIRTYRATE_ERROR_INVALID_ARGUMENT, "SetSampleInterval(3600000001)");
	expect_ok(manager_call(bus, "SetSampleInterval", NULL, "tb", UINT64_C(200000), 0), "SetSampleInterval(200000)");
	ASSERT_EQ_U64(get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec"), 200000);
	r = sd_bus_set_property(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE,
				"SampleIntervalUSec", &e, "t", UINT64_C(300000));
	ASSERT_TRUE(r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_PROPERTY_READ_ONLY));
	sd_bus_error_free(&e);
	r = sd_bus_set_property(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE,
				"PageSize", &e, "t", UINT64_C(1));
	ASSERT_TRUE(r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_PROPERTY_READ_ONLY));
	sd_bus_error_free(&e);

	/* An unknown method is the bus library's error, not a crash. */
	err = manager_call(bus, "Explode", NULL, "");
	expect_error(err, SD_BUS_ERROR_UNKNOWN_METHOD, "Explode()");
	return 0;
}

static int test_unprivileged(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	_cleanup_free_ char *version = NULL;
	char *err;
	int r;

	ASSERT_TRUE(geteuid() != 0);

	/* Reads are open. */
	version = get_string(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Version");
	ASSERT_TRUE(!isempty(version));
	ASSERT_TRUE(get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "PageSize") > 0);
	ASSERT_TRUE(!managed(bus, "/org/dirtyrate1/process/1"));
	expect_ok(manager_call(bus, "ListProcesses", &reply, ""), "ListProcesses as nobody");
	expect_error(manager_call(bus, "GetProcess", NULL, "u", 1u), "org.dirtyrate1.Error.NotTracked",
		     "GetProcess(1) as nobody");

	/* Mutations reach the daemon and are refused by it (no polkit here). */
	err = manager_call(bus, "TrackProcess", NULL, "u", (uint32_t) getpid());
	ASSERT_TRUE(err && strstr(err, "Only root may do this")); /* the daemon's words, not the bus policy's */
	expect_error(err, SD_BUS_ERROR_ACCESS_DENIED, "TrackProcess as nobody");
	expect_error(manager_call(bus, "UntrackProcess", NULL, "u", 1u), SD_BUS_ERROR_ACCESS_DENIED,
		     "UntrackProcess as nobody");
	expect_error(manager_call(bus, "Reload", NULL, ""), SD_BUS_ERROR_ACCESS_DENIED, "Reload as nobody");
	err = manager_call(bus, "SetSampleInterval", NULL, "tb", UINT64_C(500000), 0);
	ASSERT_TRUE(err && strstr(err, "Only root")); /* the daemon's answer, not the bus policy's */
	expect_error(err, SD_BUS_ERROR_ACCESS_DENIED, "SetSampleInterval as nobody");
	ASSERT_EQ_U64(get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec"), 100000);

	/* The bus policy: only root may own the name. */
	r = sd_bus_request_name(bus, DIRTYRATE_BUS_NAME, 0);
	ASSERT_TRUE(r == -EACCES || r == -EPERM);
	printf("  RequestName(%s) as nobody -> %s\n", DIRTYRATE_BUS_NAME, strerror(-r));
	return 0;
}

/* ---- slow-pass: against tests/dirtyrated-slow.c, whose pass takes 20 ms per process ---- */

#define SLOW_PROCESSES 50

struct slow_pass {
	unsigned pass_ends;		/* Manager LastSampleTimestamp signals seen */
	unsigned ends_before_reply;	/* of them, after the call was sent and before its reply */
	bool sent, replied;
	uint64_t sent_usec, reply_usec;
};

static int on_manager_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct slow_pass *s = userdata;
	const char *iface, *name;

	ASSERT_TRUE(sd_bus_message_read(m, "s", &iface) > 0);
	ASSERT_TRUE(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		ASSERT_TRUE(sd_bus_message_read(m, "s", &name) > 0);
		if (streq(name, "LastSampleTimestamp")) {
			s->pass_ends++;
			if (s->sent && !s->replied)
				s->ends_before_reply++;
		}
		ASSERT_TRUE(sd_bus_message_skip(m, "v") >= 0);
		ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
	}
	return 0;
}

static int on_slow_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct slow_pass *s = userdata;

	ASSERT_TRUE(!sd_bus_message_is_method_error(m, NULL));
	s->replied = true;
	s->reply_usec = now_usec(CLOCK_MONOTONIC);
	return 0;
}

static unsigned want_ends;
static bool enough_ends(void *userdata) {
	return ((struct slow_pass *) userdata)->pass_ends >= want_ends;
}

static bool slow_replied(void *userdata) {
	return ((struct slow_pass *) userdata)->replied;
}

/*
 * A GetAll sent while a pass of a second runs is answered before that pass
 * ends: passes are sliced into steps, with the bus served in between.
 * With the interval (100 ms) shorter than a pass, passes run back to back.
 */
static int test_slow_pass(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	char paths[SLOW_PROCESSES][PROCESS_PATH_MAX];
	pid_t kids[SLOW_PROCESSES];
	struct slow_pass s = {};
	uint64_t pass_usec;

	for (unsigned i = 0; i < SLOW_PROCESSES; i++) {
		kids[i] = spawn_sleeper();
		track(bus, kids[i], paths[i]);
	}
	ASSERT_TRUE(sd_bus_match_signal(bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					"org.freedesktop.DBus.Properties", "PropertiesChanged", on_manager_changed,
					&s) >= 0);
	want_ends = 1;
	wait_until(bus, enough_ends, &s, "the end of a pass");
	pass_usec = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleDurationUSec");
	ASSERT_TRUE(pass_usec >= SLOW_PROCESSES * 20000 * 9 / 10);

	/* Well inside the next pass, which began when that one ended. */
	usleep(100000);
	ASSERT_TRUE(sd_bus_call_method_async(bus, NULL, DIRTYRATE_BUS_NAME, paths[SLOW_PROCESSES / 2],
					     "org.freedesktop.DBus.Properties", "GetAll", on_slow_reply, &s, "s",
					     DIRTYRATE_PROCESS_INTERFACE) >= 0);
	s.sent = true;
	s.sent_usec = now_usec(CLOCK_MONOTONIC);
	wait_until(bus, slow_replied, &s, "the GetAll reply");
	printf("  a pass takes %.0f ms; GetAll sent 100 ms into one answered after %.1f ms, %u pass end(s) before it\n",
	       pass_usec / 1000.0, (s.reply_usec - s.sent_usec) / 1000.0, s.ends_before_reply);
	if (s.ends_before_reply > 0)
		FAIL("the GetAll waited for the pass to end");

	for (unsigned i = 0; i < SLOW_PROCESSES; i++)
		kill_and_reap(kids[i]);
	return 0;
}

/*
 * ---- slow-rescan: against tests/dirtyrated-slow.c, whose pass takes 20 ms
 * per process; tracking a process takes its baseline pass, so a rescan
 * that tracks RESCAN_PROCESSES lasts seconds ----
 */

#define RESCAN_PROCESSES 100
#define RESCAN_COMM "dr-slow-rescan"

struct slow_rescan {
	unsigned added, removed;	/* InterfacesAdded, InterfacesRemoved seen */
	bool get_sent, get_replied, reload_replied;
	bool reload2_sent, reload2_replied;	/* a second Reload() during the rescan */
	unsigned added_at_reload2;
	uint32_t tracked_in_get;	/* TrackedProcesses as the Get answered it */
	unsigned added_at_get, added_at_reload;	/* InterfacesAdded seen when each reply came */
	uint64_t first_added_usec, get_reply_usec, reload_reply_usec;
	char *reload_error, *reload2_error;
};

static int on_rescan_get_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct slow_rescan *s = userdata;

	ASSERT_TRUE(!sd_bus_message_is_method_error(m, NULL));
	ASSERT_TRUE(sd_bus_message_read(m, "v", "u", &s->tracked_in_get) > 0);
	s->get_replied = true;
	s->added_at_get = s->added;
	s->get_reply_usec = now_usec(CLOCK_MONOTONIC);
	return 0;
}

static int on_rescan_reload2_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct slow_rescan *s = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	if (e && asprintf(&s->reload2_error, "%s: %s", e->name, e->message ?: "") < 0)
		abort();
	s->reload2_replied = true;
	s->added_at_reload2 = s->added;
	return 0;
}

static int on_rescan_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	((struct slow_rescan *) userdata)->removed++;
	return 0;
}

static int on_rescan_added(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct slow_rescan *s = userdata;

	if (++s->added == RESCAN_PROCESSES / 2) {
		/* Halfway: Reload() again, same rules. The rescan starts over and must not track anything twice. */
		ASSERT_TRUE(sd_bus_call_method_async(sd_bus_message_get_bus(m), NULL, DIRTYRATE_BUS_NAME,
						     DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Reload",
						     on_rescan_reload2_reply, s, NULL) >= 0);
		s->reload2_sent = true;
	}
	if (s->added > 1)
		return 0;
	/* The rescan has begun: ask how far it got. */
	s->first_added_usec = now_usec(CLOCK_MONOTONIC);
	ASSERT_TRUE(sd_bus_call_method_async(sd_bus_message_get_bus(m), NULL, DIRTYRATE_BUS_NAME,
					     DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.Properties", "Get",
					     on_rescan_get_reply, s, "ss", DIRTYRATE_MANAGER_INTERFACE,
					     "TrackedProcesses") >= 0);
	s->get_sent = true;
	return 0;
}

static int on_rescan_reload_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct slow_rescan *s = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(m);

	if (e && asprintf(&s->reload_error, "%s: %s", e->name, e->message ?: "") < 0)
		abort();
	s->reload_replied = true;
	s->added_at_reload = s->added;
	s->reload_reply_usec = now_usec(CLOCK_MONOTONIC);
	return 0;
}

static bool rescan_replied(void *userdata) {
	struct slow_rescan *s = userdata;

	return s->reload_replied && (!s->get_sent || s->get_replied) && (!s->reload2_sent || s->reload2_replied);
}

/* A child named RESCAN_COMM, returned once it has that name (a Comm= rule must see it). */
static pid_t spawn_named_sleeper(void) {
	pid_t pid = fork();
	char path[64];

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		prctl_set_pdeathsig();
		prctl(PR_SET_NAME, RESCAN_COMM);
		for (;;)
			pause();
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
	for (int i = 0; i < 5000; i++) {
		char name[32] = "";
		_cleanup_fclose_ FILE *f = fopen(path, "re");

		if (f && fgets(name, sizeof(name), f) && strncmp(name, RESCAN_COMM "\n", sizeof(RESCAN_COMM)) == 0)
			return pid;
		usleep(1000);
	}
	FAIL("child %d never took the name " RESCAN_COMM, (int) pid);
}

/*
 * In the daemon's sd_notify messages ($DIRTYRATED_NOTIFY_LOG, in order):
 * the WATCHDOG=1 between the last RELOADING=1 and the READY=1 after it, or
 * -1 while that READY=1 has not arrived.
 */
static int watchdogs_during_reload(void) {
	const char *path = getenv("DIRTYRATED_NOTIFY_LOG");
	_cleanup_fclose_ FILE *f = NULL;
	char line[256];
	int n = -1;

	ASSERT_TRUE(path);
	f = fopen(path, "re");
	ASSERT_TRUE(f);
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = 0;
		if (streq(line, "RELOADING=1"))
			n = 0;
		else if (n >= 0 && streq(line, "WATCHDOG=1"))
			n++;
		else if (n >= 0 && streq(line, "READY=1"))
			return n;
	}
	return -1;
}

/*
 * A Reload() whose rescan tracks RESCAN_PROCESSES at 20 ms each. A Get sent
 * as soon as the first of them shows up (InterfacesAdded) must be answered
 * while the rescan still runs: TrackedProcesses below RESCAN_PROCESSES, and
 * before the Reload's reply, which comes once the rescan has tracked them
 * all. A second Reload() sent halfway starts the rescan over: both are
 * answered once it has tracked them all, and no process is added twice or
 * removed. The daemon runs with WATCHDOG_USEC set (200 ms in the meson test)
 * and must keep sending WATCHDOG=1 between the reload's RELOADING=1 and
 * READY=1.
 * Orders of events only: no bound on how long anything takes.
 */
static int test_slow_rescan(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	const char *config = getenv("DIRTYRATED_CONFIG");
	pid_t kids[RESCAN_PROCESSES];
	struct slow_rescan s = {};
	uint64_t sent_usec, deadline;
	_cleanup_fclose_ FILE *f = NULL;
	int pings;
	const char *failure = NULL;

	ASSERT_TRUE(config);
	for (unsigned i = 0; i < RESCAN_PROCESSES; i++)
		kids[i] = spawn_named_sleeper();
	ASSERT_EQ(get_u32(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "TrackedProcesses"), 0);

	f = fopen(config, "we");
	ASSERT_TRUE(f);
	fputs("[Daemon]\nSampleIntervalSec=1h\nRescanIntervalSec=1h\n[Track]\nComm=" RESCAN_COMM "\n", f);
	ASSERT_EQ(fclose(TAKE_PTR(f)), 0);

	ASSERT_TRUE(sd_bus_match_signal(bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesAdded", on_rescan_added,
					&s) >= 0);
	ASSERT_TRUE(sd_bus_match_signal(bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					"org.freedesktop.DBus.ObjectManager", "InterfacesRemoved", on_rescan_removed,
					&s) >= 0);
	ASSERT_TRUE(sd_bus_call_method_async(bus, NULL, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH,
					     DIRTYRATE_MANAGER_INTERFACE, "Reload", on_rescan_reload_reply, &s,
					     NULL) >= 0);
	sent_usec = now_usec(CLOCK_MONOTONIC);
	wait_until(bus, rescan_replied, &s, "the replies to Reload and to the Get");
	if (s.reload_error)
		FAIL("Reload failed: %s", s.reload_error);
	if (s.reload2_error)
		FAIL("the second Reload failed: %s", s.reload2_error);
	ASSERT_TRUE(s.get_sent);
	ASSERT_TRUE(s.reload2_sent);

	printf("  Reload answered after %.0f ms, with %u of %u InterfacesAdded seen;\n"
	       "  a Get sent at the first (%.0f ms) answered %.1f ms later: TrackedProcesses %u, %u InterfacesAdded seen\n",
	       (s.reload_reply_usec - sent_usec) / 1000.0, s.added_at_reload, RESCAN_PROCESSES,
	       (s.first_added_usec - sent_usec) / 1000.0, (s.get_reply_usec - s.first_added_usec) / 1000.0,
	       s.tracked_in_get, s.added_at_get);
	/* READY=1 goes out before the reply; the harness logs it in its own time. */
	deadline = now_usec(CLOCK_MONOTONIC) + WAIT_TIMEOUT_USEC;
	while ((pings = watchdogs_during_reload()) < 0 && now_usec(CLOCK_MONOTONIC) < deadline)
		usleep(10000);
	printf("  WATCHDOG=1 between the reload's RELOADING=1 and READY=1: %d\n", pings);

	if (s.tracked_in_get >= RESCAN_PROCESSES || s.get_reply_usec > s.reload_reply_usec)
		failure = "the Get waited for the rescan to end";
	else if (pings <= 0)
		failure = pings < 0 ? "no READY=1 after the reload's RELOADING=1" : "no WATCHDOG=1 during the rescan";
	if (failure)
		FAIL("%s", failure);

	/* Every matching process tracked, by the time each Reload answered; none twice, none dropped. */
	printf("  a second Reload sent at %u InterfacesAdded answered at %u; InterfacesRemoved %u\n",
	       RESCAN_PROCESSES / 2, s.added_at_reload2, s.removed);
	ASSERT_EQ(s.added_at_reload, RESCAN_PROCESSES);
	ASSERT_EQ(s.added_at_reload2, RESCAN_PROCESSES);
	ASSERT_EQ(get_u32(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "TrackedProcesses"),
		  RESCAN_PROCESSES);
	for (unsigned i = 0; i < RESCAN_PROCESSES; i++)
		expect_ok(manager_call(bus, "GetProcess", NULL, "u", (uint32_t) kids[i]), "GetProcess");
	ASSERT_EQ(s.added, RESCAN_PROCESSES);
	ASSERT_EQ(s.removed, 0);
	free(s.reload_error);
	free(s.reload2_error);

	for (unsigned i = 0; i < RESCAN_PROCESSES; i++)
		kill_and_reap(kids[i]);
	return 0;
}

/*
 * A stand-in for polkitd on the private bus: answers CheckAuthorization with
 * what $DR_POLKIT_ANSWER_FILE says ("yes", "no" or "challenge") and logs
 * "ACTION SUBJECT-KIND FLAGS" per request to stdout.
 */
static int fake_check_authorization(sd_bus_message *m, void *userdata, sd_bus_error *error) {
	const char *kind, *action, *cancel;
	char answer[32] = "no";
	uint32_t flags;
	FILE *f;

	ASSERT_TRUE(sd_bus_message_enter_container(m, 'r', "sa{sv}") > 0);
	ASSERT_TRUE(sd_bus_message_read(m, "s", &kind) > 0);
	ASSERT_TRUE(sd_bus_message_skip(m, "a{sv}") >= 0);
	ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
	ASSERT_TRUE(sd_bus_message_read(m, "s", &action) > 0);
	ASSERT_TRUE(sd_bus_message_skip(m, "a{ss}") >= 0);
	ASSERT_TRUE(sd_bus_message_read(m, "us", &flags, &cancel) > 0);

	f = fopen(getenv("DR_POLKIT_ANSWER_FILE"), "re");
	if (f) {
		if (fgets(answer, sizeof(answer), f))
			answer[strcspn(answer, "\n")] = 0;
		fclose(f);
	}
	printf("%s %s %" PRIu32 " %s\n", action, kind, flags, answer);
	return sd_bus_reply_method_return(m, "(bba{ss})", streq(answer, "yes"), streq(answer, "challenge"), 0);
}

static int run_fake_polkit(void) {
	static const sd_bus_vtable vtable[] = {
		SD_BUS_VTABLE_START(0),
		SD_BUS_METHOD("CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})", fake_check_authorization, 0),
		SD_BUS_VTABLE_END,
	};
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();

	ASSERT_TRUE(getenv("DR_POLKIT_ANSWER_FILE"));
	ASSERT_TRUE(sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/PolicyKit1/Authority",
					     "org.freedesktop.PolicyKit1.Authority", vtable, NULL) >= 0);
	ASSERT_TRUE(sd_bus_request_name(bus, "org.freedesktop.PolicyKit1", 0) >= 0);
	printf("ready\n");
	for (;;) {
		int r = sd_bus_process(bus, NULL);

		if (r < 0)
			FAIL("fake polkit: %s", strerror(-r));
		if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
			FAIL("fake polkit: sd_bus_wait failed");
	}
}

int main(int argc, char *argv[]) {
	static const struct {
		const char *name;
		int (*run)(void);
	} tests[] = {
		{ "track-child", test_track_child },
		{ "object-manager", test_object_manager },
		{ "coalescing", test_coalescing },
		{ "pid-reuse", test_pid_reuse },
		{ "errors", test_errors },
		{ "unprivileged", test_unprivileged },
		{ "slow-pass", test_slow_pass },
		{ "slow-rescan", test_slow_rescan },
		{ "fake-polkit", run_fake_polkit },
	};

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; argc == 2 && i < ELEMENTSOF(tests); i++)
		if (streq(argv[1], tests[i].name)) {
			int r = tests[i].run();

			if (r == 0)
				printf("ok %s\n", tests[i].name);
			return r;
		}
	fprintf(stderr, "usage: %s track-child|object-manager|coalescing|pid-reuse|errors|unprivileged|slow-pass|slow-rescan|fake-polkit\n",
		argv[0]);
	return EXIT_FAILURE;
}
