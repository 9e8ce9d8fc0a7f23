/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <limits.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "bus-test-lib.h"
#include "proc-pid.h"
#include "tests.h"
#include "util.h"

const char *const sampled_properties[] = {
	"DirtyBytesPerSec", "DirtyBytesPerSecAvg10", "DirtyBytesPerSecAvg60", "DirtyBytesPerSecAvg300",
	"DirtyBytesPerSecStdError", "DirtyBytesPerSecAvg10StdError", "DirtyBytesPerSecAvg60StdError",
	"DirtyBytesPerSecAvg300StdError", "DirtiedBytesTotal", "WriteFaultsPerSec", "WriteFaultsTotal",
	"ForeignClears", "LastSampleDisturbed", "ResidentBytes", "ScannedBytes", "SampledPages",
};
const size_t n_sampled_properties = ELEMENTSOF(sampled_properties);

void prctl_set_pdeathsig(void) {
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		_exit(EXIT_FAILURE);
}

void kill_and_reap(pid_t pid) {
	kill(pid, SIGKILL);
	ASSERT_EQ(waitpid(pid, NULL, 0), pid);
}

pid_t spawn_sleeper(void) {
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		prctl_set_pdeathsig();
		for (;;)
			pause();
	}
	return pid;
}

pid_t find_kernel_thread(void) {
	for (pid_t pid = 2; pid < 200; pid++) {
		char path[32];
		_cleanup_close_ int fd = -EBADF;
		struct proc_stat st;

		snprintf(path, sizeof(path), "/proc/%d", (int) pid);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && proc_read_stat(fd, &st) == 0 && (st.flags & PF_KTHREAD_FLAG))
			return pid;
	}
	return 0;
}

sd_bus *bus_open(void) {
	sd_bus *bus;
	int r = sd_bus_open_system(&bus);

	if (r < 0)
		FAIL("cannot connect to the system bus: %s", strerror(-r));
	return bus;
}

char *manager_call(sd_bus *bus, const char *method, sd_bus_message **reply, const char *types, ...) {
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *name = NULL;
	va_list ap;
	int r;

	va_start(ap, types);
	r = sd_bus_call_methodv(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, method, &e, reply, types, ap);
	va_end(ap);
	if (r < 0) {
		if (asprintf(&name, "%s: %s", e.name ?: "?", e.message ?: "") < 0)
			abort();
	}
	sd_bus_error_free(&e);
	return name;
}

void expect_ok(char *err, const char *what) {
	if (err)
		FAIL("%s failed: %s", what, err);
}

void expect_error(char *err, const char *name, const char *what) {
	if (!err)
		FAIL("%s succeeded, expected %s", what, name);
	if (strncmp(err, name, strlen(name)) != 0 || err[strlen(name)] != ':')
		FAIL("%s failed with %s, expected %s", what, err, name);
	printf("  %s -> %s\n", what, err);
	free(err);
}

const char *track(sd_bus *bus, pid_t pid, char *path_buf) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *path;
	char expected[PROCESS_PATH_MAX];

	expect_ok(manager_call(bus, "TrackProcess", &reply, "u", (uint32_t) pid), "TrackProcess");
	ASSERT_TRUE(sd_bus_message_read(reply, "o", &path) > 0);
	ASSERT_EQ(process_path_from_pid(pid, expected, sizeof(expected)), 0);
	ASSERT_STREQ(path, expected);
	strcpy(path_buf, path);
	return path_buf;
}

static void get_trivial(sd_bus *bus, const char *path, const char *iface, const char *prop, char type, void *ret) {
	sd_bus_error e = SD_BUS_ERROR_NULL;

	if (sd_bus_get_property_trivial(bus, DIRTYRATE_BUS_NAME, path, iface, prop, &e, type, ret) < 0)
		FAIL("Get %s.%s: %s", iface, prop, e.message);
}

uint64_t get_u64(sd_bus *bus, const char *path, const char *iface, const char *prop) {
	uint64_t v;

	get_trivial(bus, path, iface, prop, 't', &v);
	return v;
}

uint32_t get_u32(sd_bus *bus, const char *path, const char *iface, const char *prop) {
	uint32_t v;

	get_trivial(bus, path, iface, prop, 'u', &v);
	return v;
}

double get_double(sd_bus *bus, const char *path, const char *prop) {
	double v;

	get_trivial(bus, path, DIRTYRATE_PROCESS_INTERFACE, prop, 'd', &v);
	return v;
}

char *get_string(sd_bus *bus, const char *path, const char *iface, const char *prop) {
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char *v;

	if (sd_bus_get_property_string(bus, DIRTYRATE_BUS_NAME, path, iface, prop, &e, &v) < 0)
		FAIL("Get %s.%s: %s", iface, prop, e.message);
	return v;
}

bool has_feature(sd_bus *bus, const char *feature) {
	sd_bus_error e = SD_BUS_ERROR_NULL;
	char **l = NULL;
	bool found = false;

	if (sd_bus_get_property_strv(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Features", &e, &l) < 0)
		FAIL("Get Features: %s", e.message);
	for (char **s = l; s && *s; s++) {
		found = found || streq(*s, feature);
		free(*s);
	}
	free(l);
	return found;
}

unsigned test_random(uint64_t *state, unsigned n) {
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	return (unsigned) (z % n);
}

pid_t daemon_pid(void) {
	const char *s = getenv("DIRTYRATED_PID");

	if (!s || atoi(s) <= 0)
		FAIL("DIRTYRATED_PID is not set: run under bus-harness.py");
	return (pid_t) atoi(s);
}

/* The daemon's fds, less the /proc a rescan keeps open from one step to the next; their targets in list. */
static unsigned daemon_fd_count_now(char *list, size_t size) {
	char path[64];
	_cleanup_(closedirp) DIR *d = NULL;
	struct dirent *de;
	unsigned n = 0;
	size_t used = 0;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int) daemon_pid());
	d = opendir(path);
	if (!d)
		FAIL("cannot open %s: %s", path, strerror(errno));
	list[0] = 0;
	while ((de = readdir(d))) {
		char link[64 + sizeof(de->d_name)], target[128];
		ssize_t len;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", path, de->d_name);
		len = readlink(link, target, sizeof(target) - 1);
		target[MAX(len, 0)] = 0;
		if (streq(target, "/proc"))
			continue;
		if (used < size)
			used += (size_t) snprintf(list + used, size - used, " %s=%s", de->d_name, target);
		n++;
	}
	return n;
}

/*
 * A pass or a rescan holds a few fds (a /proc/PID directory, its maps, a
 * pidfd) for a millisecond or so at a time, longer on a loaded machine: the
 * fewest over 25 readings 20 ms apart, several passes' worth, is the count
 * the daemon keeps, which is what a leak raises. That reading's fds go to
 * stdout, for the failure that compares two counts.
 */
unsigned daemon_fd_count(void) {
	char list[4096], fewest[4096] = "";
	unsigned n = UINT_MAX;

	for (int i = 0; i < 25; i++) {
		unsigned now = daemon_fd_count_now(list, sizeof(list));

		if (now < n) {
			n = now;
			snprintf(fewest, sizeof(fewest), "%s", list);
		}
		usleep(20 * 1000);
	}
	printf("daemon: %u fds:%s\n", n, fewest);
	return n;
}

unsigned long daemon_rss_kib(void) {
	char path[64], line[256];
	unsigned long v = 0;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/status", (int) daemon_pid());
	f = fopen(path, "re");
	ASSERT_TRUE(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			v = strtoul(line + 6, NULL, 10);
	return v;
}

void wait_until(sd_bus *bus, bool (*done)(void *), void *userdata, const char *what) {
	uint64_t deadline = now_usec(CLOCK_MONOTONIC) + WAIT_TIMEOUT_USEC;

	while (!done(userdata)) {
		uint64_t now;
		int r = sd_bus_process(bus, NULL);

		if (r < 0)
			FAIL("sd_bus_process: %s", strerror(-r));
		if (r > 0)
			continue;
		now = now_usec(CLOCK_MONOTONIC);
		if (now >= deadline)
			FAIL("timed out waiting for %s", what);
		r = sd_bus_wait(bus, deadline - now);
		if (r < 0)
			FAIL("sd_bus_wait: %s", strerror(-r));
	}
}

/* Reads one variant into the field of @v that @name names, if any; its bit in sampled_properties. */
static unsigned read_sampled(sd_bus_message *m, const char *name, struct pass_values *v) {
	int r;

	if (streq(name, "WriteFaultsTotal"))
		r = sd_bus_message_read(m, "v", "t", &v->write_faults_total);
	else if (streq(name, "DirtiedBytesTotal"))
		r = sd_bus_message_read(m, "v", "t", &v->dirtied_bytes_total);
	else if (streq(name, "ForeignClears"))
		r = sd_bus_message_read(m, "v", "t", &v->foreign_clears);
	else if (streq(name, "WriteFaultsPerSec"))
		r = sd_bus_message_read(m, "v", "d", &v->write_faults_per_sec);
	else if (streq(name, "DirtyBytesPerSec"))
		r = sd_bus_message_read(m, "v", "d", &v->dirty_bytes_per_sec);
	else if (streq(name, "LastSampleDisturbed")) {
		int b = 0;

		r = sd_bus_message_read(m, "v", "b", &b);
		v->disturbed = b;
	} else
		r = sd_bus_message_skip(m, "v");
	ASSERT_TRUE(r >= 0);

	for (size_t i = 0; i < n_sampled_properties; i++)
		if (streq(name, sampled_properties[i]))
			return 1u << i;
	return 0;
}

/* The Manager's signal at the end of a pass: the object's state then is one entry. */
static void end_of_pass(sd_bus_message *m, struct changes *c) {
	const char *name;
	uint64_t t = 0;

	ASSERT_TRUE(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		ASSERT_TRUE(sd_bus_message_read(m, "s", &name) > 0);
		if (streq(name, "LastSampleTimestamp"))
			ASSERT_TRUE(sd_bus_message_read(m, "v", "t", &t) > 0);
		else
			ASSERT_TRUE(sd_bus_message_skip(m, "v") >= 0);
		ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
	}
	if (t == 0 || c->signals == 0)
		return; /* not the end of a pass; or before the object's first sample */
	c->now.last_sample_usec = t;
	if (c->count < MAX_PASSES)
		c->pass[c->count] = c->now;
	c->count++;
	c->now.signals = 0;
	c->now.carried = 0;
}

static int on_properties_changed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
	struct changes *c = userdata;
	const char *iface, *name, *path = sd_bus_message_get_path(m);

	ASSERT_TRUE(sd_bus_message_read(m, "s", &iface) > 0);
	if (streq(path, DIRTYRATE_MANAGER_PATH) && streq(iface, DIRTYRATE_MANAGER_INTERFACE)) {
		end_of_pass(m, c);
		return 0;
	}
	if (!c->path || !streq(path, c->path) || !streq(iface, DIRTYRATE_PROCESS_INTERFACE))
		return 0;
	if (c->signals == 0)
		c->now = (struct pass_values) { .write_faults_per_sec = NAN, .dirty_bytes_per_sec = NAN };
	ASSERT_TRUE(sd_bus_message_enter_container(m, 'a', "{sv}") > 0);
	while (sd_bus_message_enter_container(m, 'e', "sv") > 0) {
		unsigned bit;

		ASSERT_TRUE(sd_bus_message_read(m, "s", &name) > 0);
		bit = read_sampled(m, name, &c->now);
		if (bit == 0 && !streq(name, "Backend"))
			c->foreign++;
		c->now.carried |= bit;
		ASSERT_TRUE(sd_bus_message_exit_container(m) >= 0);
	}
	c->now.signals++;
	c->signals++;
	return 0;
}

void watch_changes(sd_bus *bus, struct changes *c) {
	/* No path in the match: c->path may change; the callback filters. */
	ASSERT_TRUE(sd_bus_match_signal(bus, NULL, DIRTYRATE_BUS_NAME, NULL, "org.freedesktop.DBus.Properties",
					"PropertiesChanged", on_properties_changed, c) >= 0);
}

static struct {
	struct changes *c;
	unsigned n;
} want;

static bool enough_changes(void *userdata) {
	return want.c->count >= want.n;
}

void wait_for_changes(sd_bus *bus, struct changes *c, unsigned n, const char *what) {
	want.c = c;
	want.n = n;
	wait_until(bus, enough_changes, NULL, what);
}
