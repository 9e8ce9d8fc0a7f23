// SPDX-License-Identifier: GPL-2.0-only
/*
 * dirtyrate-faults: print the per-process fault table of libdrbpf on an
 * interval, in the manner of bcc's tools. Debugging aid, independent of
 * dirtyrated (it loads its own copy of the programs).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "drbpf.h"

#define MAX_PIDS 64

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void usage(FILE *to)
{
	fprintf(to,
		"Usage: dirtyrate-faults [-p PID]... [-i SECONDS] [-c COUNT] [-t ROWS]\n"
		"                        [-n MAX_ENTRIES] [-H HOOK]\n"
		"Print per-process user faults, write faults and soft-dirty clears\n"
		"of every process, or of the -p ones.\n"
		"  -p PID      only this process (repeatable, up to %d)\n"
		"  -i SECONDS  interval (default 1)\n"
		"  -c COUNT    stop after COUNT intervals\n"
		"  -t ROWS     print the ROWS busiest processes (default 20, 0: all)\n"
		"  -n ENTRIES  processes counted at once (tracked: at most 32767)\n"
		"  -H HOOK     force tp_btf/page_fault_user, fexit/handle_mm_fault or perf-event\n",
		MAX_PIDS);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void comm_of(pid_t pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f || !fgets(buf, len, f))
		snprintf(buf, len, "?");
	else
		buf[strcspn(buf, "\n")] = '\0';
	if (f)
		fclose(f);
}

/* A row: the counters now and their growth over the interval. */
struct row {
	struct dr_fault_entry now;
	__u64 d_wp, d_np, d_user;
};

static int by_tgid(const void *a, const void *b)
{
	const struct dr_fault_entry *x = a, *y = b;

	return (x->tgid > y->tgid) - (x->tgid < y->tgid);
}

static int by_activity(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	__u64 ax = x->d_wp + x->d_np, ay = y->d_wp + y->d_np;

	if (ax != ay)
		return ax < ay ? 1 : -1;
	return (x->d_user < y->d_user) - (x->d_user > y->d_user);
}

static void print_table(struct row *rows, int n, int top, double secs)
{
	char comm[32];
	double now = now_s();

	qsort(rows, n, sizeof(*rows), by_activity);
	if (top && n > top)
		n = top;
	printf("%-8s %-16s %9s %9s %9s %12s %12s %12s %7s %7s %10s\n",
	       "TGID", "COMM", "WP/s", "NPW/s", "FLT/s", "WP", "NPW", "FLT",
	       "CLR-OWN", "CLR-FGN", "LAST-FGN");
	for (int i = 0; i < n; i++) {
		const struct dr_fault_counts *c = &rows[i].now.counts;
		char last[16] = "-";

		if (c->last_foreign_clear_ns)
			snprintf(last, sizeof(last), "%.1fs ago",
				 now - c->last_foreign_clear_ns / 1e9);
		comm_of(rows[i].now.tgid, comm, sizeof(comm));
		printf("%-8d %-16s %9.0f %9.0f %9.0f %12llu %12llu %12llu %7llu %7llu %10s\n",
		       rows[i].now.tgid, comm, rows[i].d_wp / secs, rows[i].d_np / secs,
		       rows[i].d_user / secs, (unsigned long long)c->wp_faults,
		       (unsigned long long)c->np_write_faults,
		       (unsigned long long)c->user_faults, (unsigned long long)c->clears_self,
		       (unsigned long long)c->clears_foreign, last);
	}
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct dr_faults_opts opts = { .all_processes = true };
	struct dr_fault_entry *cur, *prev;
	pid_t pids[MAX_PIDS];
	int npids = 0, count = -1, top = 20, nprev = 0, opt, err;
	double interval = 1, t_prev;
	struct dr_faults *f;
	unsigned int cap;
	struct row *rows;
	char why[512];

	while ((opt = getopt(argc, argv, "p:i:c:t:n:H:h")) != -1) {
		switch (opt) {
		case 'p':
			if (npids == MAX_PIDS || (pids[npids] = atoi(optarg)) <= 0) {
				usage(stderr);
				return 2;
			}
			npids++;
			break;
		case 'i':
			interval = atof(optarg);
			break;
		case 'c':
			count = atoi(optarg);
			break;
		case 't':
			top = atoi(optarg);
			break;
		case 'n':
			opts.max_entries = strtoul(optarg, NULL, 0);
			break;
		case 'H':
			opts.hook = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (interval <= 0 || optind != argc) {
		usage(stderr);
		return 2;
	}
	opts.all_processes = npids == 0;

	err = dr_faults_open(&opts, &f, why, sizeof(why));
	if (err) {
		fprintf(stderr, "dirtyrate-faults: %s\n", why);
		return 1;
	}
	if (why[0])
		fprintf(stderr, "dirtyrate-faults: note: %s\n", why);
	for (int i = 0; i < npids; i++) {
		err = dr_faults_track(f, pids[i]);
		if (err) {
			fprintf(stderr, "dirtyrate-faults: cannot track %d: %s\n",
				pids[i], strerror(-err));
			dr_faults_close(f);
			return 1;
		}
	}
	printf("hook %s, write faults %s, soft-dirty clears %s; %s\n\n", dr_faults_hook(f),
	       !(dr_faults_caps(f) & DR_FAULTS_CAP_WRITES) ? "not counted" :
	       dr_faults_caps(f) & DR_FAULTS_CAP_WRITE_SPLIT ? "split present/not present" :
	       "counted, all in NPW",
	       dr_faults_has_clear_tracepoint(f) ? "counted" : "not counted (no tracepoint)",
	       opts.all_processes ? "all processes" : "tracked processes only");

	cap = dr_faults_max_entries(f);	/* read_all never returns more */
	cur = calloc(cap, sizeof(*cur));
	prev = calloc(cap, sizeof(*prev));
	rows = calloc(cap, sizeof(*rows));
	if (!cur || !prev || !rows) {
		fprintf(stderr, "dirtyrate-faults: out of memory\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t_prev = now_s();

	while (!stop && count != 0) {
		struct dr_fault_entry *swap;
		int n;

		usleep(interval * 1e6);
		n = dr_faults_read_all(f, cur, cap);
		if (n < 0) {
			fprintf(stderr, "dirtyrate-faults: reading counters: %s\n", strerror(-n));
			break;
		}
		if ((unsigned int)n > cap)
			n = cap;
		qsort(cur, n, sizeof(*cur), by_tgid);
		for (int i = 0; i < n; i++) {
			const struct dr_fault_entry *old = bsearch(&cur[i], prev, nprev,
								    sizeof(*prev), by_tgid);
			const struct dr_fault_counts *c = &cur[i].counts;

			rows[i].now = cur[i];
			rows[i].d_wp = c->wp_faults - (old ? old->counts.wp_faults : 0);
			rows[i].d_np = c->np_write_faults - (old ? old->counts.np_write_faults : 0);
			rows[i].d_user = c->user_faults - (old ? old->counts.user_faults : 0);
		}
		print_table(rows, n, top, now_s() - t_prev);
		t_prev = now_s();
		swap = prev;
		prev = cur;
		cur = swap;
		nprev = n;
		if (count > 0)
			count--;
	}
	free(cur);
	free(prev);
	free(rows);
	dr_faults_close(f);
	return 0;
}
