/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dirtyrate-exporter: serves dirtyrated's per-process dirty rates at
 * /metrics for Prometheus. A D-Bus client of org.dirtyrate1 on the system
 * bus; exporter/README.md describes the metrics and the choices behind them.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "exporter.h"
#include "http-server.h"
#include "listen.h"
#include "parse-util.h"
#include "snapshot.h"
#include "util.h"

#define DEFAULT_PORT "9777"
#define MAX_LISTEN 16
/* --cache=auto: where reading every process per scrape stops being quick
 * (exporter/README.md, bench/RESULTS.md). */
#define CACHE_AUTO_MIN_PROCESSES 1000

struct options {
	const char *listen[MAX_LISTEN];
	size_t n_listen;
	struct exporter_options exporter;
	struct http_server_options http;
	bool debug;
};

static void help(void) {
	printf("Usage: %s [OPTIONS]\n\n"
	       "Serves the memory dirty rates dirtyrated (org.dirtyrate1 on the system bus)\n"
	       "publishes, at /metrics, for Prometheus (OpenMetrics or text format 0.0.4).\n\n"
	       "  --listen ADDRESS:PORT       listen there (repeatable; IPv6 as [::1]:PORT);\n"
	       "                              default 127.0.0.1:" DEFAULT_PORT " and [::1]:" DEFAULT_PORT ".\n"
	       "                              Sockets passed by systemd (socket activation)\n"
	       "                              are used instead.\n"
	       "  --max-processes N           export the N processes with the highest 60 s\n"
	       "                              average and sum the rest into dirtyrate_other_*\n"
	       "                              (default: every process)\n"
	       "  --scrape-timeout TIME       how long a scrape waits for dirtyrated; longer\n"
	       "                              is a 503 (default 5s; e.g. 500ms, 2s)\n"
	       "  --cache auto|yes|no         read the processes from a copy kept up to date\n"
	       "                              by dirtyrated's signals, not all of them per\n"
	       "                              scrape: auto from %d tracked processes on\n"
	       "                              (default auto)\n"
	       "  --cache-resync TIME         how often the cache reads every process again,\n"
	       "                              the most a Comm, Unit or UID in it can lag\n"
	       "                              (default 60s)\n"
	       "  --connection-timeout TIME   close a connection idle this long, or whose\n"
	       "                              request has not arrived in full by then\n"
	       "                              (whole seconds, default 10s)\n"
	       "  --max-connections N         connections per listening socket (default 32)\n"
	       "  --debug                     log debug messages\n"
	       "  -h --help                   show this help\n"
	       "  --version                   show the version\n\n"
	       "See dirtyrate-exporter(8).\n",
	       program_invocation_short_name, CACHE_AUTO_MIN_PROCESSES);
}

static int parse_options(int argc, char **argv, struct options *o) {
	enum { ARG_LISTEN = 0x100, ARG_MAX_PROCESSES, ARG_SCRAPE_TIMEOUT, ARG_CACHE, ARG_CACHE_RESYNC,
	       ARG_CONNECTION_TIMEOUT, ARG_MAX_CONNECTIONS, ARG_DEBUG, ARG_VERSION };
	static const struct option options[] = {
		{ "listen", required_argument, NULL, ARG_LISTEN },
		{ "max-processes", required_argument, NULL, ARG_MAX_PROCESSES },
		{ "scrape-timeout", required_argument, NULL, ARG_SCRAPE_TIMEOUT },
		{ "cache", required_argument, NULL, ARG_CACHE },
		{ "cache-resync", required_argument, NULL, ARG_CACHE_RESYNC },
		{ "connection-timeout", required_argument, NULL, ARG_CONNECTION_TIMEOUT },
		{ "max-connections", required_argument, NULL, ARG_MAX_CONNECTIONS },
		{ "debug", no_argument, NULL, ARG_DEBUG },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{}
	};
	struct sockaddr_storage sa;
	socklen_t len;
	uint64_t u64, usec;
	uint32_t u32;
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case ARG_LISTEN:
			if (listen_address_parse(optarg, &sa, &len) < 0)
				return log_error_errno(EINVAL, "--listen=%s: expected ADDRESS:PORT, an IPv4 address or an "
							       "IPv6 one in brackets, e.g. 127.0.0.1:" DEFAULT_PORT
							       " or [::1]:" DEFAULT_PORT ".",
						       optarg);
			if (o->n_listen == MAX_LISTEN)
				return log_error_errno(E2BIG, "At most %d --listen options.", MAX_LISTEN);
			o->listen[o->n_listen++] = optarg;
			break;
		case ARG_MAX_PROCESSES:
			if (safe_atou64(optarg, &u64) < 0 || u64 >= MAX_PROCESSES_ALL)
				return log_error_errno(EINVAL, "--max-processes=%s: expected a number of processes.", optarg);
			o->exporter.max_processes = (size_t) u64;
			break;
		case ARG_SCRAPE_TIMEOUT:
			if (parse_time_usec(optarg, &usec) < 0 || usec == 0 || usec > 3600 * USEC_PER_SEC)
				return log_error_errno(EINVAL, "--scrape-timeout=%s: expected a time between 1us and 1h, "
							       "e.g. 5s or 500ms.", optarg);
			o->exporter.scrape_timeout_usec = usec;
			break;
		case ARG_CACHE: {
			size_t i;

			for (i = 0; i < _CACHE_MODE_MAX && !streq(optarg, cache_mode_name[i]); i++)
				;
			if (i == _CACHE_MODE_MAX)
				return log_error_errno(EINVAL, "--cache=%s: expected auto, yes or no.", optarg);
			o->exporter.scrape.cache = (enum cache_mode) i;
			break;
		}
		case ARG_CACHE_RESYNC:
			if (parse_time_usec(optarg, &usec) < 0 || usec < USEC_PER_SEC || usec > 24 * 3600 * USEC_PER_SEC)
				return log_error_errno(EINVAL, "--cache-resync=%s: expected a time between 1s and 24h, "
							       "e.g. 60s or 10min.", optarg);
			o->exporter.scrape.cache_resync_usec = usec;
			break;
		case ARG_CONNECTION_TIMEOUT:
			/* libmicrohttpd counts this one in whole seconds. */
			if (parse_time_usec(optarg, &usec) < 0 || usec == 0 || usec % USEC_PER_SEC != 0 ||
			    usec > 3600 * USEC_PER_SEC)
				return log_error_errno(EINVAL, "--connection-timeout=%s: expected whole seconds, 1s to 1h.",
						       optarg);
			o->http.connection_timeout_sec = (unsigned) (usec / USEC_PER_SEC);
			break;
		case ARG_MAX_CONNECTIONS:
			if (safe_atou32(optarg, &u32) < 0 || u32 == 0 || u32 > 65536)
				return log_error_errno(EINVAL, "--max-connections=%s: expected 1 to 65536.", optarg);
			o->http.max_connections = u32;
			break;
		case ARG_DEBUG:
			o->debug = true;
			break;
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			puts(PROJECT_VERSION);
			return 0;
		default:
			return -EINVAL;
		}
	}
	if (optind < argc)
		return log_error_errno(EINVAL, "Unexpected argument '%s'; see --help.", argv[optind]);
	return 1;
}

/* Sockets from systemd, checked: listening stream sockets only. */
static int activated_sockets(int **ret, size_t *ret_n) {
	int n = sd_listen_fds(true), *fds;

	if (n < 0)
		return log_error_errno(n, "Cannot read the sockets passed by systemd: %m");
	*ret = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	fds = calloc((size_t) n, sizeof(int));
	if (!fds)
		return log_oom();
	for (int i = 0; i < n; i++) {
		int fd = SD_LISTEN_FDS_START + i, flags;

		if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
			free(fds);
			return log_error_errno(EINVAL, "File descriptor %d passed by systemd is not a listening stream "
						       "socket (ListenStream= in the .socket unit).", fd);
		}
		/* libmicrohttpd accepts on readiness; a blocking socket could still block it. */
		flags = fcntl(fd, F_GETFL);
		if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
			free(fds);
			return log_error_errno(errno, "Cannot make socket %d non-blocking: %m", fd);
		}
		fds[i] = fd;
	}
	*ret = fds;
	*ret_n = (size_t) n;
	return 0;
}

/* The --listen sockets, or the default ones. The default [::1] may be missing
 * (a host without IPv6); an address asked for may not. */
static int listen_sockets(const struct options *o, int **ret, size_t *ret_n) {
	static const char *const defaults[] = { "127.0.0.1:" DEFAULT_PORT, "[::1]:" DEFAULT_PORT };
	const char *const *addresses = o->n_listen ? o->listen : defaults;
	size_t n = o->n_listen ? o->n_listen : ELEMENTSOF(defaults), n_fds = 0;
	int *fds;

	fds = calloc(n, sizeof(int));
	if (!fds)
		return log_oom();
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage sa;
		socklen_t len;
		int fd;

		(void) listen_address_parse(addresses[i], &sa, &len); /* checked when parsing options */
		fd = listen_socket_open(&sa, len);
		if (fd < 0 && !o->n_listen && sa.ss_family == AF_INET6 &&
		    IN_SET_ERRNO(-fd, EAFNOSUPPORT, EADDRNOTAVAIL, EPROTONOSUPPORT)) {
			log_info("Not listening on %s: %s (no IPv6 on this host).", addresses[i], strerror(-fd));
			continue;
		}
		if (fd < 0) {
			for (size_t k = 0; k < n_fds; k++)
				safe_close(fds[k]);
			free(fds);
			return log_error_errno(fd, "Cannot listen on %s: %m", addresses[i]);
		}
		fds[n_fds++] = fd;
	}
	*ret = fds;
	*ret_n = n_fds;
	return 0;
}

static int run(const struct options *o) {
	_cleanup_(sd_event_unrefp) sd_event *event = NULL;
	_cleanup_(exporter_freep) struct exporter *exporter = NULL;
	_cleanup_(http_server_freep) struct http_server *server = NULL;
	_cleanup_free_ int *fds = NULL;
	char status[512] = "", address[64];
	size_t n_fds = 0, len = 0;
	sigset_t mask;
	int r;

	r = activated_sockets(&fds, &n_fds);
	if (r < 0)
		return r;
	if (n_fds > 0 && o->n_listen > 0)
		log_notice("Using the %zu socket(s) systemd passed; --listen is ignored.", n_fds);
	if (n_fds == 0) {
		free(fds);
		r = listen_sockets(o, &fds, &n_fds);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; i < n_fds && len < sizeof(status) - 100; i++)
		if (socket_address_format(fds[i], address, sizeof(address)) >= 0)
			len += (size_t) snprintf(status + len, sizeof(status) - len, "%shttp://%s/metrics",
						 i ? ", " : "", address);

	r = sd_event_default(&event);
	if (r < 0)
		goto fail_fds;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_add_signal(event, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(event, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = exporter_new(event, &o->exporter, &exporter);
	if (r < 0)
		goto fail_fds;
	/* The server owns the sockets from here on, also when it fails. */
	r = http_server_new(event, fds, n_fds, &o->http, exporter_handle_metrics, exporter, &server);
	if (r < 0)
		return r;

	log_info("Serving %s (dirtyrated read on demand, %.1f s budget, --cache=%s%s).", status,
		 (double) o->exporter.scrape_timeout_usec / USEC_PER_SEC, cache_mode_name[o->exporter.scrape.cache],
		 o->exporter.max_processes == MAX_PROCESSES_ALL ? "" : ", --max-processes");
	(void) sd_notifyf(false, "READY=1\nSTATUS=Serving %s", status);

	r = sd_event_loop(event);
	(void) sd_notify(false, "STOPPING=1");
	/* Answer what waits (503) before the server stops: MHD cannot stop with a suspended connection. */
	exporter = exporter_free(exporter);
	return r < 0 ? log_error_errno(r, "Event loop failed: %m") : 0;

fail_fds:
	for (size_t i = 0; i < n_fds; i++)
		safe_close(fds[i]);
	return log_error_errno(r, "Cannot set up the event loop: %m");
}

int main(int argc, char **argv) {
	struct options o = {
		.exporter = {
			.max_processes = MAX_PROCESSES_ALL,
			.scrape_timeout_usec = 5 * USEC_PER_SEC,
			.scrape = {
				.cache = CACHE_AUTO,
				.cache_min_processes = CACHE_AUTO_MIN_PROCESSES,
				.cache_resync_usec = 60 * USEC_PER_SEC,
			},
		},
		.http = {
			.connection_timeout_sec = 10,
			.max_connections = 32,
			/* The request line and headers live in it: Prometheus sends under
			 * 1 KiB; anything near the limit is answered 431 (see README). */
			.connection_memory = 16 * 1024,
		},
	};
	int r;

	r = parse_options(argc, argv, &o);
	if (r <= 0)
		return r < 0 ? 2 : 0;
	if (o.debug)
		log_set_max_level(LOG_DEBUG);
	return run(&o) < 0 ? 1 : 0;
}
