/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dirtyratectl: a client of org.dirtyrate1 for people at a terminal and for
 * scripts. Everything it does is also possible with busctl; this reads
 * better (tables, `top`) or parses better (`--json`). This file: the
 * command line; each command is a file of its own (verbs.h).
 */
#include <getopt.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "args.h"
#include "bus-connect.h"
#include "bus-util.h"
#include "format.h"
#include "pager.h"
#include "parse-util.h"
#include "table-print.h"
#include "util.h"
#include "verbs.h"

const char *arg_address;
JsonMode arg_json = JSON_OFF;
bool arg_legend = true;
bool arg_pager = true;
unsigned arg_iterations;
uint64_t arg_interval_usec = USEC_PER_SEC;
uint64_t arg_delay_usec = USEC_PER_SEC;
bool arg_batch;
Column arg_order = _COLUMN_INVALID;

typedef struct Verb {
	const char *name;
	int n_args;		/* after the name */
	bool json;		/* takes --json */
	bool pager;		/* its output may be long and is written once */
	int (*run)(sd_bus *bus, int argc, char **argv);
} Verb;

static const Verb verbs[] = {
	{ "status",  0, true,  true,  verb_status },
	{ "list",    0, true,  true,  verb_list },
	{ "top",     0, false, false, verb_top },
	{ "watch",   0, false, false, verb_watch },
	{ "show",    1, true,  true,  verb_show },
	{ "track",   1, false, false, verb_track },
	{ "untrack", 1, false, false, verb_track },
};

int parse_pid_arg(const char *s, uint32_t *ret) {
	uint32_t pid;

	if (safe_atou32(s, &pid) < 0 || pid == 0 || pid > INT32_MAX)
		return log_error_errno(EINVAL, "Not a process ID: %s", s);
	*ret = pid;
	return 0;
}

static void help(void) {
	printf("%s [OPTIONS...] COMMAND ...\n\n"
	       "Query and control dirtyrated (org.dirtyrate1).\n\n"
	       "Commands:\n"
	       "  status               Version, backend, features, interval\n"
	       "  list                 Tracked processes and their rates\n"
	       "  top                  Live view of the tracked processes, by dirty rate\n"
	       "  watch                The list again every --interval\n"
	       "  show PID             Every property of a tracked process, NAME=VALUE\n"
	       "  track PID            Start tracking a process (root or polkit)\n"
	       "  untrack PID          Stop tracking it\n\n"
	       "Options:\n"
	       "  -h --help            Show this help\n"
	       "     --version         Show the version\n"
	       "     --address=ADDR    Connect to the bus at ADDR, not the system bus\n"
	       "     --json[=MODE]     status, list, show: print JSON; MODE is short (one\n"
	       "                       line), pretty (indented) or off; without MODE:\n"
	       "                       pretty on a terminal, short otherwise\n"
	       "  -j                   Same as --json without MODE\n"
	       "     --no-legend       Leave out headings and summaries\n"
	       "     --no-pager        Do not pipe status, list and show into a pager\n"
	       "     --order=COLUMN    list, watch, top: sort by pid, comm, rate, avg10,\n"
	       "                       avg60, avg300, faults, resident, backend or unit\n"
	       "  -b --batch           top: plain repeated output, not the full-screen\n"
	       "                       view (the default when not on a terminal)\n"
	       "  -d --delay=SEC       top: at most one update every SEC (default 1)\n"
	       "  -n --iterations=N    top, watch: stop after N updates (or --count=N)\n"
	       "  -i --interval=SEC    watch: time between updates (default 1)\n\n"
	       "SEC: seconds, with a fraction (0.5) or a unit (500ms, 2s, 1min).\n"
	       "In top, h shows the keys.\n",
	       program_invocation_short_name);
}

/* "1.5" seconds, or with a unit as the config file takes ("500ms"). */
static int parse_seconds(const char *s, uint64_t *ret) {
	char *end;
	double v;

	if (parse_time_usec(s, ret) >= 0)
		return 0;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e9)
		return -EINVAL;
	*ret = (uint64_t) (v * USEC_PER_SEC);
	return 0;
}

static int parse_argv(int argc, char **argv) {
	enum { ARG_VERSION = 0x100, ARG_ADDRESS, ARG_JSON, ARG_NO_LEGEND, ARG_NO_PAGER, ARG_ORDER };
	static const struct option options[] = {
		{ "help",       no_argument,       NULL, 'h' },
		{ "version",    no_argument,       NULL, ARG_VERSION },
		{ "address",    required_argument, NULL, ARG_ADDRESS },
		{ "json",       optional_argument, NULL, ARG_JSON },
		{ "no-legend",  no_argument,       NULL, ARG_NO_LEGEND },
		{ "no-pager",   no_argument,       NULL, ARG_NO_PAGER },
		{ "order",      required_argument, NULL, ARG_ORDER },
		{ "batch",      no_argument,       NULL, 'b' },
		{ "delay",      required_argument, NULL, 'd' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "count",      required_argument, NULL, 'n' },
		{ "interval",   required_argument, NULL, 'i' },
		{}
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "hjbd:n:i:", options, NULL)) >= 0)
		switch (c) {
		case 'h':
			help();
			return 0;
		case ARG_VERSION:
			printf("dirtyratectl %s\n", PROJECT_VERSION);
			return 0;
		case ARG_ADDRESS:
			arg_address = optarg;
			break;
		case ARG_JSON:
		case 'j':
			r = json_mode_parse(optarg, &arg_json);
			if (r <= 0)
				return r;
			break;
		case ARG_NO_LEGEND:
			arg_legend = false;
			break;
		case ARG_NO_PAGER:
			arg_pager = false;
			break;
		case ARG_ORDER:
			arg_order = column_from_name(optarg);
			if (arg_order == _COLUMN_INVALID)
				return log_error_errno(EINVAL, "Unknown column for --order=: %s (one of pid, comm, rate, "
						       "avg10, avg60, avg300, faults, resident, backend, unit)", optarg);
			break;
		case 'b':
			arg_batch = true;
			break;
		case 'd':
			if (parse_seconds(optarg, &arg_delay_usec) < 0 || arg_delay_usec > 3600 * USEC_PER_SEC)
				return log_error_errno(EINVAL, "Invalid --delay= (0 … 1h): %s", optarg);
			break;
		case 'n':
			if (safe_atou32(optarg, &arg_iterations) < 0)
				return log_error_errno(EINVAL, "Invalid --iterations= (a count, 0 for no limit): %s", optarg);
			break;
		case 'i':
			if (parse_seconds(optarg, &arg_interval_usec) < 0 || arg_interval_usec == 0 ||
			    arg_interval_usec > 3600 * USEC_PER_SEC)
				return log_error_errno(EINVAL, "Invalid --interval= (0 < SEC <= 1h): %s", optarg);
			break;
		case '?':
			return -EINVAL;	/* getopt said what */
		default:
			abort();
		}
	return 1;
}

int main(int argc, char **argv) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
	const Verb *verb = NULL;
	int r;

	/* The terminal's character set (for ±, … and names in UTF-8), but
	 * numbers always with a dot: JSON and scripts read them. */
	setlocale(LC_CTYPE, "");
	glyphs_init();

	r = parse_argv(argc, argv);
	if (r <= 0)
		return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;

	if (optind >= argc) {
		log_error("A command is needed: status, list, top, watch, show, track or untrack (see --help).");
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
		if (streq(argv[optind], verbs[i].name))
			verb = &verbs[i];
	if (!verb) {
		log_error("Unknown command: %s (see --help).", argv[optind]);
		return EXIT_FAILURE;
	}
	if (argc - optind - 1 != verb->n_args) {
		if (verb->n_args == 0)
			log_error("%s takes no arguments.", verb->name);
		else
			log_error("%s takes exactly one PID.", verb->name);
		return EXIT_FAILURE;
	}
	if (arg_json != JSON_OFF && !verb->json) {
		log_error("--json is for status, list and show, not %s.", verb->name);
		return EXIT_FAILURE;
	}

	if (bus_connect(arg_address, &bus) < 0)
		return EXIT_FAILURE;
	/* The terminal's width and colours are known before a pager hides it. */
	terminal_init();
	if (verb->pager && arg_pager && pager_open() < 0)
		return EXIT_FAILURE;
	r = verb->run(bus, argc - optind, argv + optind);
	pager_close();
	return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
}
