/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The driver's shared pieces: regions and write patterns (region.c), rounds
 * and their statistics (rounds.c), and the results the tables are printed
 * from (output.c).
 */
#ifndef BENCH_TRACKING_BENCH_H
#define BENCH_TRACKING_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tracker.h"

#define MAX_SIZES	16
#define MAX_DIRTY	8
#define MAX_METHODS	16

/* region.c */
int region_map(struct region *r, size_t npages);
void region_unmap(struct region *r);
/* Populated anonymous memory the benchmark never touches again. */
void *ballast_map(size_t bytes);
void ballast_unmap(void *p, size_t bytes);
/* Pages written per round for pct % of npages: spread evenly, at least 1. */
size_t pattern_count(size_t npages, unsigned int pct);
/* The ascending page indices written in round seq; shifts every round. */
void pattern_pages(size_t npages, size_t count, unsigned long seq,
		   uint32_t *out);

/* rounds.c */
uint64_t now_ns(void);
/* Cost of one clock read, measured once; subtracted from every sample. */
uint64_t clock_overhead_ns(void);
/* A fixed piece of pure CPU work, timed: shows how steady the host was. */
double speed_probe_ns(void);

struct limits {
	int min_rounds, max_rounds;
	double budget_ns;	/* of one cell: keep going until spent */
	double cap_ns;		/* past this, 3 rounds are enough */
};

enum cell_state {
	CELL_NOT_RUN = 0,
	CELL_OK,		/* every round reported exactly the written pages */
	CELL_WRONG,		/* some round did not: its times mean nothing */
	CELL_ERROR,		/* setup or a call failed */
};

/* One method at one size and one share of written pages. */
struct cell {
	enum cell_state state;
	char why[240];
	size_t written;		/* pages written per round */
	int rounds;
	/* medians per round, ns, clock overhead subtracted */
	double report_ns;	/* report + re-arm */
	double write_ns;	/* the writes, faults included */
	double total_ns;	/* both */
	double total_p25_ns, total_p75_ns;
};

/* The rounds of one cell in progress; several can be interleaved. */
struct cell_run {
	struct tracker *t;
	struct cell *out;
	size_t written;
	unsigned long *seq;	/* the tracker's round counter: patterns shift */
	double *last_round_ns;	/* the tracker's last round, warm-up or not */
	double *report, *write, *total;
	uint32_t *idx, *got;
	int rounds;
	double spent_ns;
	bool done;
};

int cell_run_init(struct cell_run *c, struct tracker *t, struct cell *out,
		  size_t written, unsigned long *seq, double *last_round_ns,
		  const struct limits *lim);
/*
 * One round: write, collect, check; its times count if record. Sets c->done
 * when the cell has its rounds.
 */
void cell_round(struct cell_run *c, const struct limits *lim, bool record);
/*
 * Untimed: a collect with nothing written must report nothing. The rounds
 * cannot tell a method that never re-arms where every round writes the same
 * pages (100%, or a region of one page); this can.
 */
void cell_quiet_check(struct cell_run *c);
/* Medians into c->out; frees the run. */
void cell_run_finish(struct cell_run *c);

/* breakdown.c: fixed, per page walked and per dirty page costs of the calls */
#define BD_ROWS	9
#define BD_DIRTY_MAX_PAGES	10000	/* sizes timed with every page written */
extern const char *const breakdown_rows[BD_ROWS];
struct results;
void run_breakdown(struct results *res);

/* output.c */
struct results {
	int nsizes, ndirty, nmethods;
	size_t sizes[MAX_SIZES];
	unsigned int dirty[MAX_DIRTY];
	const struct method *methods[MAX_METHODS];
	struct cell cell[MAX_SIZES][MAX_METHODS][MAX_DIRTY];
	struct limits lim;
	size_t ballast_bytes;
	uint64_t clock_ovh_ns;
	double speed_min_ns, speed_max_ns, speed_first_ns;
	double run_s;
	bool quick;
	bool bd_run;
	double bd[BD_ROWS][MAX_SIZES];	/* ns per call, clean; -1: not run */
	double bd_dirty[BD_ROWS][MAX_SIZES];	/* ... every page written */
};

void print_header(const struct results *res);
void print_progress(const struct results *res, int si, int mi, int di);
void print_tables(const struct results *res);
void print_csv(const struct results *res);
void print_targets(const struct results *res);

#endif /* BENCH_TRACKING_BENCH_H */
