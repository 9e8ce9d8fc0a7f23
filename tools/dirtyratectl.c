/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dirtyratectl: a small client of org.dirtyrate1 for people at a terminal.
 * Everything it does is also possible with busctl; this just reads better.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dirtyrate/bus.h>
#include <systemd/sd-bus.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static void freep(void *p) {
	free(*(void **) p);
}

static const char *arg_address;
static unsigned arg_count;		/* watch: 0 = until interrupted */
static double arg_interval = 1.0;	/* watch: seconds */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig) {
	(void) sig;
	interrupted = 1;
}

/* What `watch` shows of one org.dirtyrate1.Process object. */
struct process_view {
	uint32_t pid;
	char comm[64];
	char backend[32];
	double dirty_per_sec, dirty_avg10, faults_per_sec;
	double dirty_stderr, avg10_stderr;	/* standard errors: 0 exact, NaN none */
	uint64_t dirtied_total, resident;
	bool disturbed;
};

static int fail(int r, const char *what, const sd_bus_error *error) {
	if (error && sd_bus_error_is_set(error))
		fprintf(stderr, "dirtyratectl: %s: %s\n", what, error->message ?: error->name);
	else
		fprintf(stderr, "dirtyratectl: %s: %s\n", what, strerror(-r));
	return r;
}

static int bus_open(sd_bus **ret) {
	int r;

	if (arg_address) {
		_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;

		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, arg_address);
		if (r >= 0)
			r = sd_bus_set_bus_client(bus, true);
		if (r >= 0)
			r = sd_bus_start(bus);
		if (r < 0)
			return fail(r, "connecting to the bus", NULL);
		*ret = bus;
		bus = NULL;
		return 0;
	}
	r = sd_bus_open_system(ret);
	return r < 0 ? fail(r, "connecting to the system bus", NULL) : 0;
}

/* "1.5 MiB/s"; NaN (not measured) as "-". */
static const char *format_rate(char *buf, size_t size, double v, const char *unit) {
	static const char *const prefixes[] = { "", "Ki", "Mi", "Gi", "Ti" };
	unsigned i = 0;

	if (isnan(v)) {
		snprintf(buf, size, "-");
		return buf;
	}
	while (v >= 1024 && i + 1 < sizeof(prefixes) / sizeof(prefixes[0])) {
		v /= 1024;
		i++;
	}
	snprintf(buf, size, "%.1f %s%s", v, prefixes[i], unit);
	return buf;
}

/* "9.9 MiB ±0.2" for an estimate with a standard error, else as format_rate(). */
static const char *format_rate_err(char *buf, size_t size, double v, double se, const char *unit) {
	static const char *const prefixes[] = { "", "Ki", "Mi", "Gi", "Ti" };
	unsigned i = 0;

	if (isnan(v) || !(se > 0))
		return format_rate(buf, size, v, unit);
	while (v >= 1024 && i + 1 < sizeof(prefixes) / sizeof(prefixes[0])) {
		v /= 1024;
		se /= 1024;
		i++;
	}
	snprintf(buf, size, "%.1f %s%s ±%.1f", v, prefixes[i], unit, se);
	return buf;
}

static int read_process_property(sd_bus_message *m, const char *name, struct process_view *p) {
	const char *s;
	int r, b;

#define DOUBLE(prop, field) if (strcmp(name, prop) == 0) return sd_bus_message_read(m, "v", "d", &p->field)
#define U64(prop, field)    if (strcmp(name, prop) == 0) return sd_bus_message_read(m, "v", "t", &p->field)
	DOUBLE("DirtyBytesPerSec", dirty_per_sec);
	DOUBLE("DirtyBytesPerSecAvg10", dirty_avg10);
	DOUBLE("DirtyBytesPerSecStdError", dirty_stderr);
	DOUBLE("DirtyBytesPerSecAvg10StdError", avg10_stderr);
	DOUBLE("WriteFaultsPerSec", faults_per_sec);
	U64("DirtiedBytesTotal", dirtied_total);
	U64("ResidentBytes", resident);
#undef DOUBLE
#undef U64
	if (strcmp(name, "PID") == 0)
		return sd_bus_message_read(m, "v", "u", &p->pid);
	if (strcmp(name, "LastSampleDisturbed") == 0) {
		r = sd_bus_message_read(m, "v", "b", &b);
		p->disturbed = b;
		return r;
	}
	if (strcmp(name, "Comm") == 0 || strcmp(name, "Backend") == 0) {
		r = sd_bus_message_read(m, "v", "s", &s);
		if (r >= 0)
			snprintf(name[0] == 'C' ? p->comm : p->backend,
				 name[0] == 'C' ? sizeof(p->comm) : sizeof(p->backend), "%s", s);
		return r;
	}
	return sd_bus_message_skip(m, "v");
}

/* Reads one a{sa{sv}} of GetManagedObjects; *found tells if it was a Process. */
static int read_object(sd_bus_message *m, struct process_view *p, bool *found) {
	const char *iface, *name;
	int r;

	*found = false;
	r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
		r = sd_bus_message_read(m, "s", &iface);
		if (r < 0)
			return r;
		if (strcmp(iface, DIRTYRATE_PROCESS_INTERFACE) != 0) {
			r = sd_bus_message_skip(m, "a{sv}");
		} else {
			*found = true;
			r = sd_bus_message_enter_container(m, 'a', "{sv}");
			while (r >= 0 && (r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
				r = sd_bus_message_read(m, "s", &name);
				if (r >= 0)
					r = read_process_property(m, name, p);
				if (r >= 0)
					r = sd_bus_message_exit_container(m);
			}
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int print_processes(sd_bus *bus, bool with_time, bool header) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	char t[32] = "", rate[48], avg[48], faults[32];
	const char *path;
	unsigned n = 0;
	int r;

	r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
			       "GetManagedObjects", &error, &reply, NULL);
	if (r < 0)
		return fail(r, "GetManagedObjects", &error);

	if (with_time) {
		time_t now = time(NULL);
		strftime(t, sizeof(t), "%H:%M:%S ", localtime(&now));
	}
	if (header)
		printf("%s%-8s %-16s %-14s %20s %20s %16s\n", with_time ? "TIME     " : "",
		       "PID", "COMM", "BACKEND", "DIRTY/S", "AVG10", "WRITE FAULTS/S");

	r = sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}");
	while (r >= 0 && (r = sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}")) > 0) {
		struct process_view p = { .dirty_per_sec = NAN, .dirty_avg10 = NAN, .faults_per_sec = NAN,
					  .dirty_stderr = NAN, .avg10_stderr = NAN };
		bool found;

		r = sd_bus_message_read(reply, "o", &path);
		if (r >= 0)
			r = read_object(reply, &p, &found);
		if (r >= 0)
			r = sd_bus_message_exit_container(reply);
		if (r < 0 || !found)
			continue;
		n++;
		format_rate_err(rate, sizeof(rate), p.dirty_per_sec, p.dirty_stderr, "B");
		format_rate_err(avg, sizeof(avg), p.dirty_avg10, p.avg10_stderr, "B");
		if (isnan(p.faults_per_sec))
			snprintf(faults, sizeof(faults), "-");
		else
			snprintf(faults, sizeof(faults), "%.0f", p.faults_per_sec);
		printf("%s%-8" PRIu32 " %-16s %-14s %20s %20s %16s%s\n", t, p.pid, p.comm, p.backend,
		       rate, avg, faults, p.disturbed ? "  (disturbed: a foreign clear)" : "");
	}
	if (r < 0)
		return fail(r, "parsing GetManagedObjects", NULL);
	if (n == 0)
		printf("%s(no tracked processes)\n", t);
	fflush(stdout);
	return 0;
}

static int cmd_status(sd_bus *bus) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *features = NULL;
	_cleanup_(freep) char *version = NULL, *backend = NULL;
	uint64_t interval = 0, page = 0;
	uint32_t tracked = 0;
	const char *f;
	int r;

	r = sd_bus_get_property_string(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Version", &error, &version);
	if (r >= 0)
		r = sd_bus_get_property_string(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Backend", &error, &backend);
	if (r >= 0)
		r = sd_bus_get_property_trivial(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE,
						"SampleIntervalUSec", &error, 't', &interval);
	if (r >= 0)
		r = sd_bus_get_property_trivial(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE,
						"PageSize", &error, 't', &page);
	if (r >= 0)
		r = sd_bus_get_property_trivial(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE,
						"TrackedProcesses", &error, 'u', &tracked);
	if (r >= 0)
		r = sd_bus_get_property(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Features",
					&error, &features, "as");
	if (r < 0)
		return fail(r, "reading " DIRTYRATE_MANAGER_INTERFACE, &error);

	printf("Version:  %s\nBackend:  %s\nFeatures:", version, backend);
	r = sd_bus_message_enter_container(features, 'a', "s");
	while (r >= 0 && (r = sd_bus_message_read(features, "s", &f)) > 0)
		printf(" %s", f);
	printf("\nInterval: %.3f s\nPageSize: %" PRIu64 "\nTracked:  %" PRIu32 "\n",
	       interval / 1e6, page, tracked);
	return 0;
}

/* One variant value as text, for `show`: numbers plain, NaN as "nan". */
static int print_variant(sd_bus_message *m) {
	const char *contents, *s;
	char type;
	union { uint32_t u; uint64_t t; double d; int b; } v;
	int r;

	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(m, 'v', contents);
	if (r < 0)
		return r;
	switch (contents[0]) {
	case 's':
		r = sd_bus_message_read(m, "s", &s);
		if (r >= 0)
			printf("%s", s);
		break;
	case 'u':
		r = sd_bus_message_read(m, "u", &v.u);
		if (r >= 0)
			printf("%" PRIu32, v.u);
		break;
	case 't':
		r = sd_bus_message_read(m, "t", &v.t);
		if (r >= 0)
			printf("%" PRIu64, v.t);
		break;
	case 'd':
		r = sd_bus_message_read(m, "d", &v.d);
		if (r >= 0)
			printf("%.17g", v.d);
		break;
	case 'b':
		r = sd_bus_message_read(m, "b", &v.b);
		if (r >= 0)
			printf("%s", v.b ? "yes" : "no");
		break;
	default:
		r = sd_bus_message_skip(m, contents);
		if (r >= 0)
			printf("(%s)", contents);
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int cmd_show(sd_bus *bus, uint32_t pid) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL, *all = NULL;
	const char *path, *name;
	int r;

	r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "GetProcess",
			       &error, &reply, "u", pid);
	if (r < 0)
		return fail(r, "GetProcess", &error);
	r = sd_bus_message_read(reply, "o", &path);
	if (r < 0)
		return fail(r, "GetProcess reply", NULL);
	r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, path, "org.freedesktop.DBus.Properties", "GetAll",
			       &error, &all, "s", DIRTYRATE_PROCESS_INTERFACE);
	if (r < 0)
		return fail(r, "GetAll", &error);

	r = sd_bus_message_enter_container(all, 'a', "{sv}");
	while (r >= 0 && (r = sd_bus_message_enter_container(all, 'e', "sv")) > 0) {
		r = sd_bus_message_read(all, "s", &name);
		if (r < 0)
			break;
		printf("%s=", name);
		r = print_variant(all);
		printf("\n");
		if (r >= 0)
			r = sd_bus_message_exit_container(all);
	}
	return r < 0 ? fail(r, "parsing GetAll", NULL) : 0;
}

static int parse_pid(const char *s, uint32_t *ret) {
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v == 0 || v > UINT32_MAX) {
		fprintf(stderr, "dirtyratectl: not a process ID: %s\n", s);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int cmd_track(sd_bus *bus, const char *method, const char *pid_arg) {
	_cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	const char *path;
	uint32_t pid;
	int r;

	r = parse_pid(pid_arg, &pid);
	if (r < 0)
		return r;
	r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, method, &error, &reply, "u", pid);
	if (r < 0)
		return fail(r, method, &error);
	if (strcmp(method, "TrackProcess") == 0 && sd_bus_message_read(reply, "o", &path) > 0)
		printf("%s\n", path);
	return 0;
}

static int cmd_watch(sd_bus *bus) {
	struct timespec ts = {
		.tv_sec = (time_t) arg_interval,
		.tv_nsec = (long) ((arg_interval - (time_t) arg_interval) * 1e9),
	};
	unsigned i;
	int r;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	for (i = 0; !interrupted && (arg_count == 0 || i < arg_count); i++) {
		if (i > 0)
			nanosleep(&ts, NULL);
		if (interrupted)
			break;
		r = print_processes(bus, true, i == 0);
		if (r < 0)
			return r;
	}
	return 0;
}

static void help(void) {
	printf("dirtyratectl [OPTIONS...] COMMAND\n\n"
	       "Query and control dirtyrated (org.dirtyrate1).\n\n"
	       "Commands:\n"
	       "  status               Version, backend, features, interval\n"
	       "  list                 Tracked processes and their rates\n"
	       "  watch                The same, every --interval seconds\n"
	       "  track PID            Start tracking a process (root or polkit)\n"
	       "  untrack PID          Stop tracking it\n"
	       "  show PID             Every property of its Process object, NAME=VALUE\n\n"
	       "Options:\n"
	       "  -h --help            Show this help\n"
	       "     --address=ADDR    Bus address instead of the system bus\n"
	       "  -n --count=N         watch: stop after N updates\n"
	       "  -i --interval=SEC    watch: seconds between updates (default 1)\n");
}

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "help",     no_argument,       NULL, 'h' },
		{ "address",  required_argument, NULL, 'a' },
		{ "count",    required_argument, NULL, 'n' },
		{ "interval", required_argument, NULL, 'i' },
		{}
	};
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	const char *cmd;
	char *end;
	int c, r;

	while ((c = getopt_long(argc, argv, "hn:i:", options, NULL)) >= 0) {
		switch (c) {
		case 'h':
			help();
			return 0;
		case 'a':
			arg_address = optarg;
			break;
		case 'n':
			errno = 0;
			arg_count = strtoul(optarg, &end, 10);
			if (errno || end == optarg || *end || *optarg == '-') {
				fprintf(stderr, "dirtyratectl: invalid --count: %s\n", optarg);
				return 1;
			}
			break;
		case 'i':
			errno = 0;
			arg_interval = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(arg_interval > 0) || arg_interval > 3600) {
				fprintf(stderr, "dirtyratectl: invalid --interval (0 < SEC <= 3600): %s\n", optarg);
				return 1;
			}
			break;
		default:
			return 1;
		}
	}
	if (optind >= argc) {
		help();
		return 1;
	}
	cmd = argv[optind];

	if (strcmp(cmd, "track") == 0 || strcmp(cmd, "untrack") == 0 || strcmp(cmd, "show") == 0) {
		if (argc - optind != 2) {
			fprintf(stderr, "dirtyratectl: %s takes exactly one PID\n", cmd);
			return 1;
		}
	} else if (argc - optind != 1) {
		fprintf(stderr, "dirtyratectl: %s takes no arguments\n", cmd);
		return 1;
	}

	if (strcmp(cmd, "status") && strcmp(cmd, "list") && strcmp(cmd, "watch") &&
	    strcmp(cmd, "track") && strcmp(cmd, "untrack") && strcmp(cmd, "show")) {
		fprintf(stderr, "dirtyratectl: unknown command: %s (see --help)\n", cmd);
		return 1;
	}

	r = bus_open(&bus);
	if (r < 0)
		return 1;

	if (strcmp(cmd, "status") == 0)
		r = cmd_status(bus);
	else if (strcmp(cmd, "list") == 0)
		r = print_processes(bus, false, true);
	else if (strcmp(cmd, "watch") == 0)
		r = cmd_watch(bus);
	else if (strcmp(cmd, "show") == 0) {
		uint32_t pid;

		r = parse_pid(argv[optind + 1], &pid);
		if (r >= 0)
			r = cmd_show(bus, pid);
	} else
		r = cmd_track(bus, strcmp(cmd, "track") == 0 ? "TrackProcess" : "UntrackProcess",
			      argv[optind + 1]);
	return r < 0 ? 1 : 0;
}
