/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * scrape-scale: what one scrape of dirtyrate-exporter costs when dirtyrated
 * tracks many processes, and where its time goes. Run inside
 * tools/dirtyrate-session (it needs DBUS_SYSTEM_BUS_ADDRESS and
 * DIRTYRATED_PID); bench/exporter/run does.
 *
 *   scrape-scale --exporter PATH [--processes N,N,...] [--scrapes K] [--port P]
 *                [--exporter-arg ARG]... [--exporter-log FILE]
 *
 * For each N (default 1000 and 10000), grows the tracked set to N sleeping
 * children, waits for two whole sample passes (every process has its
 * rates), starts a fresh exporter on 127.0.0.1:P (default: a free port;
 * --exporter-arg passes it more options, --max-processes is never given)
 * with --debug, its log in FILE (default: a temporary file), and:
 *
 *  1. scrapes /metrics K times (default 20) in each format, 100 ms apart,
 *     while the daemon samples at its interval: with the Accept header
 *     Prometheus 2.42 sends (it prefers OpenMetrics) and with none (text
 *     0.0.4). One scrape is the time from connect() to the body's last byte
 *     (by Content-Length, where Prometheus stops reading; how long the
 *     exporter then took to close the connection is printed apart). A 200
 *     must list every tracked process, or the run fails; other answers (a
 *     503 when the daemon does not answer within the exporter's budget)
 *     are counted as failed scrapes, at the time they took, and a row with
 *     any is not met. Per format: the median, p99 and max of the scrape
 *     time (with K <= 50 the p99 is the slowest), the response's
 *     size and series, what the exporter says its D-Bus and rendering took
 *     (the median of dirtyrate_exporter_scrape_duration_seconds), its CPU
 *     time per scrape, and the verdict against the target (p99 <= 100 ms at
 *     1000 processes, <= 1 s at 10 000); then the exporter's own phases
 *     from its debug log (the wait for dirtyrated's two replies, the parse,
 *     the render), medians;
 *  2. with sampling paused (SetSampleInterval 1 h, restored after), so that
 *     every CPU second is the scrape's: K GetManagedObjects called by the
 *     benchmark itself (the floor under any scrape: the daemon builds the
 *     reply, dbus-daemon relays it, this process reads it without parsing),
 *     and K OpenMetrics scrapes, each with the CPU time per call of
 *     dirtyrated, dbus-daemon, the exporter and this client (from
 *     /proc/PID/stat: 10 ms ticks, averaged over K) and the reply's size
 *     (the peak of what dbus-daemon queued for this client, its
 *     Debug.Stats);
 *  3. the exporter's RSS and peak RSS, and the daemon's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench-lib.h"
#include "bus-test-lib.h"
#include "tests.h"
#include "util.h"

/* What Prometheus 2.42's scraper sends (scrape/scrape.go, acceptHeader). */
#define PROMETHEUS_ACCEPT \
	"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75," \
	"text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

struct response {
	int status;
	char *body;		/* NUL-terminated */
	size_t body_len;
	double usec;		/* connect() to the last byte of the body */
	double close_usec;	/* from there to the server's close */
};

static void response_done(struct response *r) {
	free(r->body);
	*r = (struct response) {};
}

/* The body's length from the headers (HEADERS_LEN bytes at BUF), or -1. */
static ssize_t content_length(const char *buf, size_t headers_len) {
	for (const char *p = buf; p && p < buf + headers_len; p = strstr(p, "\r\n"), p = p ? p + 2 : NULL)
		if (strncasecmp(p, "Content-Length:", 15) == 0)
			return strtoll(p + 15, NULL, 10);
	return -1;
}

/*
 * GET PATH over HTTP/1.0 (so the body is not chunked). The benchmark's
 * client, not a general one: it needs the status and the body, and when
 * the body was complete: at Content-Length, as Prometheus's client stops
 * there, else at the server's close. It reads on to the close, and says
 * how long that took apart.
 */
static int http_get(uint16_t port, const char *path, const char *accept, struct response *ret) {
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	_cleanup_close_ int fd = -EBADF;
	char req[1024], *buf = NULL, *sep;
	size_t len = 0, cap = 0, headers_len = 0;
	ssize_t body_len = -1;
	uint64_t t0 = now_nsec(), t_body = 0;
	int n;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		return -errno;
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%u\r\n%s%s%s\r\n", path, port,
		     accept ? "Accept: " : "", accept ?: "", accept ? "\r\n" : "");
	if (write(fd, req, n) != n)
		return -EIO;
	for (;;) {
		ssize_t k;

		if (cap - len < 65536) {
			cap = cap ? 2 * cap : 1 << 20;
			buf = realloc(buf, cap + 1);
			ASSERT_TRUE(buf);
		}
		k = read(fd, buf + len, cap - len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			free(buf);
			return -errno;
		}
		if (k == 0)
			break;
		len += k;
		buf[len] = '\0';
		/* Offsets, not pointers: buf moves as it grows. */
		if (!headers_len && (sep = strstr(buf, "\r\n\r\n"))) {
			headers_len = sep + 4 - buf;
			body_len = content_length(buf, headers_len);
		}
		if (headers_len && body_len >= 0 && !t_body && len >= headers_len + (size_t) body_len)
			t_body = now_nsec();
	}
	if (!t_body)
		t_body = now_nsec();
	ret->usec = (t_body - t0) / 1000.0;
	ret->close_usec = (now_nsec() - t_body) / 1000.0;
	if (!buf || !headers_len || sscanf(buf, "HTTP/1.%*d %d", &ret->status) != 1) {
		free(buf);
		return -EBADMSG;
	}
	ret->body_len = len - headers_len;
	ret->body = memmove(buf, buf + headers_len, ret->body_len + 1);
	return 0;
}

/* A port no one listens on now (the machine is shared): the kernel's pick. */
static uint16_t free_port(void) {
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof(sa)), 0);
	ASSERT_EQ(getsockname(fd, (struct sockaddr *) &sa, &len), 0);
	return ntohs(sa.sin_port);
}

#define MAX_EXPORTER_ARGS 16

static const char *exporter_args[MAX_EXPORTER_ARGS];
static unsigned n_exporter_args;

/* The exporter with --debug, its stdout and stderr appended to log_path. */
static pid_t exporter_start(const char *exporter, uint16_t port, const char *log_path) {
	char listen[64];
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%u", port);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		const char *argv[MAX_EXPORTER_ARGS + 8];
		unsigned argc = 0;
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(127);
		prctl_set_pdeathsig();
		argv[argc++] = exporter;
		argv[argc++] = "--listen";
		argv[argc++] = listen;
		argv[argc++] = "--debug";
		for (unsigned i = 0; i < n_exporter_args; i++)
			argv[argc++] = exporter_args[i];
		argv[argc] = NULL;
		execv(exporter, (char **) argv);
		_exit(127);
	}
	/* Up when it answers /metrics with a 200 (the daemon is there). */
	for (int i = 0;; i++) {
		struct response r = {};

		if (http_get(port, "/metrics", NULL, &r) == 0 && r.status == 200) {
			response_done(&r);
			return pid;
		}
		response_done(&r);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			FAIL("%s exited before it served /metrics (its log: %s)", exporter, log_path);
		if (i > 300)
			FAIL("%s does not serve /metrics after 30 s", exporter);
		usleep(100000);
	}
}

static off_t file_size(const char *path) {
	struct stat st;

	return stat(path, &st) == 0 ? st.st_size : 0;
}

/* With --cache=yes, or auto above its threshold, the first scrape starts a
 * cache, which the next ones use once built: wait for that. */
static void wait_for_cache(const char *log_path, off_t offset) {
	for (int i = 0; i < 600; i++) {
		_cleanup_free_ char *text = NULL;

		ASSERT_EQ(read_full_file_at(AT_FDCWD, log_path, &text, NULL), 0);
		if (!strstr(text + offset, "building a cache") || strstr(text + offset, "Cache: built"))
			return;
		usleep(100000);
	}
	FAIL("the exporter's cache was not built within 60 s (its log: %s)", log_path);
}

/*
 * The exporter's phases from its debug log, from offset on: for each
 * scrape, when GetManagedObjects answered (from the scrape's start), how
 * long the parse took, and the render of the format asked for. Prints the
 * medians.
 */
static void print_phases(const char *log_path, off_t offset, const char *format_name) {
	_cleanup_fclose_ FILE *f = fopen(log_path, "re");
	double wait[256], parse[256], render[256];
	size_t n_wait = 0, n_render = 0;
	char line[512];

	ASSERT_TRUE(f);
	ASSERT_EQ(fseeko(f, offset, SEEK_SET), 0);
	while (fgets(line, sizeof(line), f)) {
		const char *p;
		double a, b, c;
		char name[32];
		unsigned long n;

		if ((p = strstr(line, "Scrape: GetAll answered after ")) &&
		    sscanf(p, "Scrape: GetAll answered after %lf ms, GetManagedObjects after %lf ms; %lu processes "
			      "parsed in %lf ms.", &a, &b, &n, &c) == 4 && n_wait < ELEMENTSOF(wait)) {
			wait[n_wait] = MAX(a, b);
			parse[n_wait++] = c;
		} else if (p && sscanf(p, "Scrape: GetAll answered after %lf ms; %lu processes copied from the cache in "
					  "%lf ms", &a, &n, &c) == 3 && n_wait < ELEMENTSOF(wait)) {
			wait[n_wait] = a;
			parse[n_wait++] = c; /* the copy out of the cache */
		} else if ((p = strstr(line, "Scrape: ")) && sscanf(p, "Scrape: %31s rendered in %lf ms", name, &a) == 2 &&
			   n_render < ELEMENTSOF(render))
			render[n_render++] = a;
	}
	printf("  %-11s exporter's phases, medians of %zu: D-Bus replies after %.1f ms, parse (or copy from the "
	       "cache) %.1f ms, render %.1f ms\n",
	       format_name, n_wait, percentile(wait, n_wait, 0.5), percentile(parse, n_wait, 0.5),
	       percentile(render, n_render, 0.5));
}

/* A line's count: what each series costs in the response. */
static size_t count_lines(const char *body, const char *prefix) {
	size_t n = 0, plen = strlen(prefix);

	for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, prefix, plen) == 0)
			n++;
	return n;
}

static double metric_value(const char *body, const char *name) {
	size_t nlen = strlen(name);

	for (const char *p = body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, name, nlen) == 0 && (p[nlen] == ' ' || p[nlen] == '{')) {
			const char *v = strchr(p + nlen, ' ');
			return v ? strtod(v + 1, NULL) : NAN;
		}
	return NAN;
}

static unsigned long status_kib(pid_t pid, const char *field) {
	char path[64], line[256];
	size_t flen = strlen(field);
	unsigned long v = 0;
	_cleanup_fclose_ FILE *f = NULL;

	snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
	f = fopen(path, "re");
	ASSERT_TRUE(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, field, flen) == 0 && line[flen] == ':')
			v = strtoul(line + flen + 1, NULL, 10);
	return v;
}

static void wait_passes(sd_bus *bus, unsigned passes) {
	for (unsigned i = 0; i < passes; i++) {
		uint64_t last = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleTimestamp");
		while (get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleTimestamp") == last)
			usleep(20000);
	}
}

/* dbus-daemon's PID, as it says itself (SO_PEERCRED would name the parent
 * that created its socket before --fork). */
static pid_t bus_daemon_pid(sd_bus *bus) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	uint32_t pid;
	int r;

	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionUnixProcessID", &e, &reply, "s", "org.freedesktop.DBus");
	if (r < 0)
		FAIL("GetConnectionUnixProcessID: %s", e.message ?: strerror(-r));
	ASSERT_TRUE(sd_bus_message_read(reply, "u", &pid) >= 0);
	return (pid_t) pid;
}

/*
 * The largest message dbus-daemon has queued for this connection so far
 * (org.freedesktop.DBus.Debug.Stats, which the system bus's policy allows
 * root): after GetManagedObjects calls, their reply's size. NaN where the
 * bus has no statistics.
 */
static double peak_outgoing_bytes(sd_bus *bus) {
	_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
	sd_bus_error e = SD_BUS_ERROR_NULL;
	const char *me, *name;
	double peak = NAN;

	ASSERT_TRUE(sd_bus_get_unique_name(bus, &me) >= 0);
	if (sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.Debug.Stats",
			       "GetConnectionStats", &e, &reply, "s", me) < 0) {
		sd_bus_error_free(&e);
		return NAN;
	}
	ASSERT_TRUE(sd_bus_message_enter_container(reply, 'a', "{sv}") >= 0);
	while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
		uint32_t v;

		ASSERT_TRUE(sd_bus_message_read(reply, "s", &name) >= 0);
		if (streq(name, "PeakOutgoingBytes") && sd_bus_message_read(reply, "v", "u", &v) >= 0)
			peak = v;
		else
			ASSERT_TRUE(sd_bus_message_skip(reply, "v") >= 0);
		ASSERT_TRUE(sd_bus_message_exit_container(reply) >= 0);
	}
	return peak;
}

/* The processes whose CPU time a scrape is shared out to. */
enum party { PARTY_DAEMON, PARTY_BUS, PARTY_EXPORTER, PARTY_CLIENT, _PARTY_MAX };
static const char *const party_name[_PARTY_MAX] = { "dirtyrated", "dbus-daemon", "exporter", "client" };

struct cpu_meter {
	pid_t pid[_PARTY_MAX];
	uint64_t start[_PARTY_MAX];
};

static void cpu_meter_start(struct cpu_meter *m) {
	for (size_t i = 0; i < _PARTY_MAX; i++)
		m->start[i] = m->pid[i] > 0 ? proc_cpu_usec(m->pid[i]) : 0;
}

/* CPU ms per call of each party since cpu_meter_start(). */
static void cpu_meter_print(const struct cpu_meter *m, unsigned calls) {
	printf("; CPU ms per call:");
	for (size_t i = 0; i < _PARTY_MAX; i++)
		if (m->pid[i] > 0)
			printf(" %s %.1f", party_name[i], (proc_cpu_usec(m->pid[i]) - m->start[i]) / 1000.0 / calls);
	printf("\n");
}

/*
 * The floor under a scrape: the GetManagedObjects the exporter makes, called
 * here with the reply read off the bus but not parsed or rendered: wall
 * time, CPU per call (the exporter's column shows it idle) and the
 * reply's size.
 */
static void managed_objects_floor(sd_bus *bus, unsigned n, unsigned calls, struct cpu_meter *meter) {
	double *ms = calloc(calls, sizeof(double)), bytes;

	ASSERT_TRUE(ms);
	cpu_meter_start(meter);
	for (unsigned i = 0; i < calls; i++) {
		_cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
		sd_bus_error e = SD_BUS_ERROR_NULL;
		uint64_t t0 = now_nsec();
		int r;

		r = sd_bus_call_method(bus, DIRTYRATE_BUS_NAME, DIRTYRATE_MANAGER_PATH, "org.freedesktop.DBus.ObjectManager",
				       "GetManagedObjects", &e, &reply, NULL);
		if (r < 0)
			FAIL("GetManagedObjects: %s", e.message ?: strerror(-r));
		ms[i] = (now_nsec() - t0) / 1e6;
		usleep(100000);
	}
	bytes = peak_outgoing_bytes(bus);
	printf("  %-11s %7.1f %7.1f %7.1f   reply %.2f MiB, %.0f B per process", "GMO floor", percentile(ms, calls, 0.5),
	       percentile(ms, calls, 0.99), percentile(ms, calls, 1), bytes / 1048576.0, bytes / n);
	cpu_meter_print(meter, calls);
	free(ms);
}

struct format {
	const char *name;
	const char *accept;
};

struct series_result {
	double p50, p99, close_p50;
	unsigned failed, cached;
};

/* Prints one row (a header-less one with meter: the CPU of every party instead). */
static struct series_result scrape_series(uint16_t port, const struct format *fmt, unsigned n, unsigned scrapes,
					  pid_t exporter, double target_ms, struct cpu_meter *meter) {
	double *ms = calloc(scrapes, sizeof(double)), *self_ms = calloc(scrapes, sizeof(double));
	double *close_ms = calloc(scrapes, sizeof(double));
	struct series_result res = {};
	size_t size = 0, series = 0;
	unsigned n_self = 0;
	uint64_t cpu0 = proc_cpu_usec(exporter);
	char first_error[256] = "";

	ASSERT_TRUE(ms && self_ms && close_ms);
	if (meter)
		cpu_meter_start(meter);
	for (unsigned i = 0; i < scrapes; i++) {
		struct response r = {};
		size_t listed;
		double self;
		int e = http_get(port, "/metrics", fmt->accept, &r);

		if (e < 0)
			FAIL("scrape %u (%s): %s", i, fmt->name, strerror(-e));
		ms[i] = r.usec / 1000;
		close_ms[i] = r.close_usec / 1000;
		if (r.status != 200) {
			/* A failed scrape (503: the daemon too slow) is a figure too: it counts at its time. */
			if (res.failed++ == 0)
				snprintf(first_error, sizeof(first_error), "HTTP %d: %.200s", r.status, r.body);
			response_done(&r);
			usleep(100000);
			continue;
		}
		/* Every process, whatever its backend, has its four windows here. */
		listed = count_lines(r.body, "dirtyrate_process_dirty_rate_bytes_per_second{");
		if (listed != 4 * (size_t) n)
			FAIL("scrape %u (%s): %zu rate series, expected 4 x %u processes", i, fmt->name, listed, n);
		size = r.body_len;
		series = 0;
		for (const char *p = r.body; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
			if (*p != '#' && *p != '\n')
				series++;
		if (metric_value(r.body, "dirtyrate_exporter_cache_active") == 1)
			res.cached++;
		/* The previous scrape's D-Bus and render time, as the exporter measured it. */
		self = metric_value(r.body, "dirtyrate_exporter_scrape_duration_seconds");
		if (isfinite(self))
			self_ms[n_self++] = self * 1000;
		response_done(&r);
		usleep(100000);
	}
	res.p50 = percentile(ms, scrapes, 0.5);
	res.p99 = percentile(ms, scrapes, 0.99);
	res.close_p50 = percentile(close_ms, scrapes, 0.5);
	if (meter) {
		printf("  %-11s %7.1f %7.1f %7.1f   paused, %u from the cache", fmt->name, res.p50, res.p99,
		       percentile(ms, scrapes, 1), res.cached);
		cpu_meter_print(meter, scrapes);
	} else {
		double cpu_ms = (proc_cpu_usec(exporter) - cpu0) / 1000.0 / scrapes;
		bool met = res.p99 <= target_ms && res.failed == 0;

		printf("  %-11s %7.1f %7.1f %7.1f %9.1f %9.2f %8zu %9.1f %6.1f %5u %6u  %s\n", fmt->name, res.p50,
		       res.p99, percentile(ms, scrapes, 1), percentile(self_ms, n_self, 0.5), size / 1048576.0, series,
		       (double) size / n, cpu_ms, res.failed, res.cached, met ? "met" : "NOT met");
	}
	if (res.failed)
		printf("  (%u of %u scrapes failed; the first: %s)\n", res.failed, scrapes, first_error);
	free(ms);
	free(self_ms);
	free(close_ms);
	return res;
}

static void set_interval(sd_bus *bus, uint64_t usec) {
	expect_ok(manager_call(bus, "SetSampleInterval", NULL, "tb", usec, 0), "SetSampleInterval");
}

/* SIGKILL in batches: ten thousand exits at once make a load spike for everyone on the machine. */
static void kill_children(const pid_t *kids, unsigned n) {
	for (unsigned i = 0; i < n; i += 200) {
		unsigned end = i + 200 < n ? i + 200 : n;

		for (unsigned j = i; j < end; j++)
			kill(kids[j], SIGKILL);
		for (unsigned j = i; j < end; j++)
			waitpid(kids[j], NULL, 0);
	}
}

static void run(sd_bus *bus, const char *exporter_bin, uint16_t port, unsigned n, unsigned scrapes,
		const char *log_path, pid_t **kids, unsigned *n_kids) {
	static const struct format formats[] = {
		{ "openmetrics", PROMETHEUS_ACCEPT },
		{ "text-0.0.4", NULL },
	};
	double target_ms = n <= 1000 ? 100 : 1000, close_ms[ELEMENTSOF(formats)];
	char path[PROCESS_PATH_MAX];
	uint64_t t0 = now_usec(CLOCK_MONOTONIC), interval, pass_usec, idle0;
	off_t log_offset;
	struct cpu_meter meter = { .pid = { daemon_pid(), bus_daemon_pid(bus), 0, getpid() } };
	pid_t exporter;

	*kids = realloc(*kids, n * sizeof(pid_t));
	ASSERT_TRUE(*kids);
	for (; *n_kids < n; (*n_kids)++) {
		(*kids)[*n_kids] = spawn_sleeper();
		track(bus, (*kids)[*n_kids], path);
	}
	ASSERT_EQ(get_u32(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "TrackedProcesses"), n);
	wait_passes(bus, 2);
	log_offset = file_size(log_path);
	exporter = exporter_start(exporter_bin, port, log_path);
	meter.pid[PARTY_EXPORTER] = exporter;
	wait_for_cache(log_path, log_offset);
	pass_usec = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "LastSampleDurationUSec");

	printf("%u tracked (tracking and two passes took %.1f s; a pass %.0f ms; dirtyrated RSS %.1f MiB), "
	       "%u scrapes per format, 100 ms apart; target p99 <= %.0f ms\n",
	       n, (now_usec(CLOCK_MONOTONIC) - t0) / 1e6, pass_usec / 1000.0, daemon_rss_kib() / 1024.0, scrapes,
	       target_ms);
	/* What the exporter costs between scrapes: nothing per scrape, a cache its signals. */
	cpu_meter_start(&meter);
	usleep(10 * USEC_PER_SEC);
	printf("  10 s without scrapes, sampling every %.1f s: CPU ms per second:",
	       get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec") / 1e6);
	for (size_t i = 0; i < PARTY_CLIENT; i++)
		printf(" %s %.1f", party_name[i], (proc_cpu_usec(meter.pid[i]) - meter.start[i]) / 1000.0 / 10);
	printf("\n");
	printf("  %-11s %7s %7s %7s %9s %9s %8s %9s %6s %5s %6s\n", "format", "p50 ms", "p99 ms", "max ms", "self ms",
	       "size MiB", "series", "B/proc", "cpu ms", "fail", "cached");
	for (size_t i = 0; i < ELEMENTSOF(formats); i++) {
		off_t offset = file_size(log_path);

		close_ms[i] = scrape_series(port, &formats[i], n, scrapes, exporter, target_ms, NULL).close_p50;
		print_phases(log_path, offset, formats[i].name);
	}
	/* Not in the scrape time: Prometheus stops at Content-Length and keeps the connection. */
	printf("  after the last byte the exporter closed the connection in %.1f / %.1f ms (median; %s / %s)\n",
	       close_ms[0], close_ms[1], formats[0].name, formats[1].name);

	/* Where a scrape's CPU goes, with no pass to share it with. */
	interval = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "SampleIntervalUSec");
	set_interval(bus, 3600 * USEC_PER_SEC);
	usleep(2 * pass_usec + 500000); /* a pass under way ends */
	idle0 = proc_cpu_usec(meter.pid[PARTY_DAEMON]);
	usleep(1000000);
	printf("  sampling paused (dirtyrated idle at %.1f ms of CPU per s):\n",
	       (proc_cpu_usec(meter.pid[PARTY_DAEMON]) - idle0) / 1000.0);
	managed_objects_floor(bus, n, scrapes, &meter);
	scrape_series(port, &formats[0], n, scrapes, exporter, target_ms, &meter);
	set_interval(bus, interval);

	printf("  exporter RSS %.1f MiB after the scrapes, peak %.1f MiB; dirtyrated RSS %.1f MiB\n",
	       status_kib(exporter, "VmRSS") / 1024.0, status_kib(exporter, "VmHWM") / 1024.0, daemon_rss_kib() / 1024.0);
	kill_and_reap(exporter);
}

int main(int argc, char **argv) {
	static const struct option options[] = {
		{ "exporter", required_argument, NULL, 'e' },
		{ "processes", required_argument, NULL, 'n' },
		{ "scrapes", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "exporter-arg", required_argument, NULL, 'a' },
		{ "exporter-log", required_argument, NULL, 'l' },
		{}
	};
	unsigned counts[8] = { 1000, 10000 }, n_counts = 2, scrapes = 20, n_kids = 0;
	const char *exporter = NULL, *log_path = NULL;
	char tmp_log[] = "/tmp/scrape-scale-exporter.XXXXXX";
	uint16_t port = 0;
	pid_t *kids = NULL;
	char load[128];
	sd_bus *bus;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) >= 0)
		switch (opt) {
		case 'e':
			exporter = optarg;
			break;
		case 'n':
			n_counts = parse_count_list("--processes", optarg, counts, ELEMENTSOF(counts));
			break;
		case 's':
			parse_count_list("--scrapes", optarg, &scrapes, 1);
			break;
		case 'p': {
			unsigned p;

			parse_count_list("--port", optarg, &p, 1);
			if (p > UINT16_MAX)
				FAIL("--port: %u is not a port", p);
			port = p;
			break;
		}
		case 'a':
			if (n_exporter_args == MAX_EXPORTER_ARGS)
				FAIL("at most %d --exporter-arg", MAX_EXPORTER_ARGS);
			exporter_args[n_exporter_args++] = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		default:
			goto usage;
		}
	if (!exporter || scrapes == 0 || n_counts == 0)
		goto usage;
	for (unsigned i = 1; i < n_counts; i++)
		if (counts[i] < counts[i - 1])
			FAIL("--processes must grow (each row adds to the tracked set)");
	if (port == 0)
		port = free_port();
	if (!log_path) {
		int fd = mkstemp(tmp_log);

		ASSERT_TRUE(fd >= 0);
		close(fd);
		log_path = tmp_log;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	bus = bus_open();
	printf("dirtyrate-exporter scrapes, backend %s, load average %s\n",
	       get_string(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "Backend"), loadavg(load, sizeof(load)));
	for (unsigned i = 0; i < n_counts; i++)
		run(bus, exporter, port, counts[i], scrapes, log_path, &kids, &n_kids);
	printf("load average at the end: %s\n", loadavg(load, sizeof(load)));
	kill_children(kids, n_kids);
	free(kids);
	sd_bus_flush_close_unref(bus);
	if (log_path == tmp_log)
		unlink(tmp_log);
	return 0;

usage:
	fprintf(stderr, "usage: scrape-scale --exporter PATH [--processes N,N,...] [--scrapes K] [--port P]\n"
			"                    [--exporter-arg ARG]... [--exporter-log FILE]\n");
	return 2;
}
