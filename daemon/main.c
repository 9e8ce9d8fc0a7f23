/* SPDX-License-Identifier: GPL-2.0-only */
/* dirtyrated's command line and life cycle, over any backend table (main.h). */
#include <getopt.h>
#include <sys/resource.h>

#include <systemd/sd-daemon.h>

#include "backend.h"
#include "bus-manager.h"
#include "main.h"
#include "manager.h"
#include "util.h"

static const char *arg_config = CONFIG_DEFAULT_PATH;
static const char *arg_bus_address = NULL;

static void help(void) {
	printf("%s [OPTIONS...]\n\n"
	       "Publishes how fast processes dirty their memory as org.dirtyrate1 on the system bus.\n\n"
	       "  -h --help               Show this help\n"
	       "     --version            Show the version\n"
	       "     --config=PATH        Configuration file (default: %s)\n"
	       "     --bus-address=ADDR   Connect to this bus instead of the system bus\n"
	       "                          (DBUS_SYSTEM_BUS_ADDRESS is honoured too)\n"
	       "     --debug              Log debug messages\n"
	       "     --probe              Print the backends this kernel supports, best\n"
	       "                          first, and exit: 0 if a soft-dirty one is there\n"
	       "                          (pagemap-ioctl, clear-refs), 2 if not\n",
	       program_invocation_short_name, CONFIG_DEFAULT_PATH);
}

/*
 * For scripts and operators: what this kernel offers, without a bus. Exits 2
 * when no soft-dirty backend is there, so that `dirtyrated --probe` can
 * decide where a demo or test runs: page-sampling works on any kernel, but
 * only estimates.
 */
static int probe(const struct backend_ops *const *backends, size_t n_backends) {
	bool soft_dirty = false;

	for (size_t b = 0; b < n_backends; b++) {
		bool available = backends[b]->probe();

		printf("%-14s %s\n", backends[b]->name, available ? "yes" : "no");
		soft_dirty = soft_dirty || (available && backends[b]->soft_dirty);
	}
	exit(soft_dirty ? EXIT_SUCCESS : 2);
}

static int parse_argv(int argc, char *argv[], const struct backend_ops *const *backends, size_t n_backends) {
	enum { ARG_VERSION = 0x100, ARG_CONFIG, ARG_BUS_ADDRESS, ARG_DEBUG, ARG_PROBE };
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ "config", required_argument, NULL, ARG_CONFIG },
		{ "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
		{ "debug", no_argument, NULL, ARG_DEBUG },
		{ "probe", no_argument, NULL, ARG_PROBE },
		{}
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
		switch (c) {
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			puts(PROJECT_VERSION);
			return 0;
		case ARG_CONFIG:
			if (isempty(optarg))
				return log_error_errno(EINVAL, "--config= needs a path.");
			arg_config = optarg;
			break;
		case ARG_BUS_ADDRESS:
			if (isempty(optarg))
				return log_error_errno(EINVAL, "--bus-address= needs an address.");
			arg_bus_address = optarg;
			break;
		case ARG_DEBUG:
			log_set_max_level(LOG_DEBUG);
			break;
		case ARG_PROBE:
			return probe(backends, n_backends);
		default:
			return -EINVAL;
		}

	if (optind < argc)
		return log_error_errno(EINVAL, "%s takes no positional arguments.", program_invocation_short_name);
	return 1;
}

/*
 * Every tracked process holds a pidfd and a /proc/PID directory fd (and its
 * backend's files): the default soft limit of 1024 fds would stop tracking
 * at a few hundred. Raise it to the hard limit, as systemd's daemons do.
 * The unit sets LimitNOFILE= itself (its filter forbids setrlimit()).
 */
static void raise_fd_limit(void) {
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_debug_errno(errno, "Cannot raise the fd limit to %llu: %m", (unsigned long long) rl.rlim_max);
}

int dirtyrated_main(int argc, char *argv[], const struct backend_ops *const *backends, size_t n_backends) {
	_cleanup_(manager_freep) struct manager *m = NULL;
	struct manager_bus *bus = NULL;
	int r;

	r = parse_argv(argc, argv, backends, n_backends);
	if (r <= 0)
		return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	raise_fd_limit();

	r = manager_new(arg_config, backends, n_backends, &m);
	if (r < 0)
		goto finish;
	r = manager_start(m);
	if (r < 0)
		goto finish;
	r = bus_manager_new(m, arg_bus_address, &bus);
	if (r < 0)
		goto finish;

	r = manager_run(m);
	if (r < 0)
		log_error_errno(r, "Event loop failed: %m");
	else
		log_info("Exiting.");

finish:
	(void) sd_notify(false, r < 0 ? "STATUS=Failed." : "STOPPING=1\nSTATUS=Shutting down.");
	bus_manager_free(bus);
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
