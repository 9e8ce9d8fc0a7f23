// SPDX-License-Identifier: GPL-2.0-only
/*
 * Rounds and their statistics. A round writes the round's pages (timed),
 * collects (timed), then checks the report against the pages written
 * (untimed); a warm-up round is checked but not recorded. A cell runs
 * rounds until it has at least min_rounds and has spent its time budget, or
 * has max_rounds: cheap cells get many rounds for a stable median. A cell
 * whose rounds take a second or more (1 GiB written, under TCG) stops at 3
 * once it has spent cap_ns, to keep the run bounded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile (0..1) of v[0..n), nearest rank; sorts v. */
static double quantile(double *v, int n, double q)
{
	int i;

	if (n <= 0)
		return 0;
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	i = (int)(q * (n - 1) + 0.5);
	return v[i];
}

uint64_t clock_overhead_ns(void)
{
	static uint64_t ovh = UINT64_MAX;
	double d[201];

	if (ovh != UINT64_MAX)
		return ovh;
	for (int i = 0; i < 201; i++) {
		uint64_t a = now_ns(), b = now_ns();

		d[i] = (double)(b - a);
	}
	ovh = (uint64_t)quantile(d, 201, 0.5);
	return ovh;
}

double speed_probe_ns(void)
{
	volatile uint64_t x = 1;
	double d[5];

	for (int k = 0; k < 5; k++) {
		uint64_t a = now_ns();

		for (int i = 0; i < 200000; i++)
			x = x * 6364136223846793005u + 1442695040888963407u;
		d[k] = (double)(now_ns() - a);
	}
	return quantile(d, 5, 0.5);
}

int cell_run_init(struct cell_run *c, struct tracker *t, struct cell *out,
		  size_t written, unsigned long *seq, double *last_round_ns,
		  const struct limits *lim)
{
	size_t n = (size_t)lim->max_rounds;

	memset(c, 0, sizeof(*c));
	c->t = t;
	c->out = out;
	c->written = written;
	c->seq = seq;
	c->last_round_ns = last_round_ns;
	c->report = calloc(n, sizeof(double));
	c->write = calloc(n, sizeof(double));
	c->total = calloc(n, sizeof(double));
	c->idx = calloc(t->r.npages, sizeof(uint32_t));
	c->got = calloc(t->r.npages, sizeof(uint32_t));
	if (!c->report || !c->write || !c->total || !c->idx || !c->got)
		return -ENOMEM;
	out->written = written;
	if (out->state == CELL_NOT_RUN)
		out->state = CELL_OK;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* 0 if got[0..n) is exactly want[0..written) (ascending), else describe. */
static int check_report(struct cell_run *c, long n)
{
	bool sorted = true;

	for (long i = 1; i < n && sorted; i++)
		sorted = c->got[i - 1] < c->got[i];
	if (!sorted)
		qsort(c->got, (size_t)n, sizeof(*c->got), cmp_u32);
	for (long i = 0; i < n && (size_t)i < c->written; i++) {
		if (c->got[i] != c->idx[i]) {
			snprintf(c->out->why, sizeof(c->out->why),
				 "round %d: reported %ld pages, %zu written; "
				 "#%ld is page %u, page %u was written",
				 c->rounds, n, c->written, i, c->got[i], c->idx[i]);
			return -1;
		}
	}
	if ((size_t)n != c->written) {
		snprintf(c->out->why, sizeof(c->out->why),
			 "round %d: reported %ld pages, %zu written", c->rounds,
			 n, c->written);
		return -1;
	}
	return 0;
}

static __attribute__((noinline)) void write_pages(char *base, size_t ps,
						  const uint32_t *idx, size_t n,
						  uint64_t val)
{
	for (size_t i = 0; i < n; i++)
		*(volatile uint64_t *)(base + (size_t)idx[i] * ps) = val;
}

void cell_round(struct cell_run *c, const struct limits *lim, bool record)
{
	struct tracker *t = c->t;
	uint64_t ovh = clock_overhead_ns(), t0, t1, t2, t3;
	double w, r;
	long n;

	if (c->done)
		return;
	pattern_pages(t->r.npages, c->written, (*c->seq)++, c->idx);

	t0 = now_ns();
	write_pages(t->r.base, t->r.page_size, c->idx, c->written, *c->seq);
	t1 = now_ns();
	n = t->m->collect(t);
	t2 = now_ns();

	if (n < 0) {
		c->out->state = CELL_ERROR;
		snprintf(c->out->why, sizeof(c->out->why), "%s", t->err);
		c->done = true;
		return;
	}
	if (!(t->m->flags & M_BASELINE)) {
		n = t->m->pages(t, c->got);
		if (c->out->state == CELL_OK && check_report(c, n))
			c->out->state = CELL_WRONG;
	}
	t3 = now_ns();

	c->spent_ns += (double)(t3 - t0);
	*c->last_round_ns = (double)(t3 - t0);
	if (!record)
		return;
	w = (double)(t1 - t0) - (double)ovh;
	r = (double)(t2 - t1) - (double)ovh;
	c->write[c->rounds] = w > 0 ? w : 0;
	c->report[c->rounds] = r > 0 ? r : 0;
	c->total[c->rounds] = c->write[c->rounds] + c->report[c->rounds];
	c->rounds++;

	if (c->rounds >= lim->max_rounds ||
	    (c->rounds >= lim->min_rounds && c->spent_ns >= lim->budget_ns) ||
	    (c->rounds >= 3 && c->spent_ns >= lim->cap_ns))
		c->done = true;
}

void cell_quiet_check(struct cell_run *c)
{
	struct tracker *t = c->t;
	long n;

	if (!c->out || c->out->state != CELL_OK || (t->m->flags & M_BASELINE))
		return;
	n = t->m->collect(t);
	if (n < 0) {
		c->out->state = CELL_ERROR;
		snprintf(c->out->why, sizeof(c->out->why), "%s", t->err);
		return;
	}
	n = t->m->pages(t, c->got);
	if (n) {
		c->out->state = CELL_WRONG;
		snprintf(c->out->why, sizeof(c->out->why),
			 "with nothing written after the last round, it reported "
			 "%ld pages: it did not re-arm", n);
	}
}

void cell_run_finish(struct cell_run *c)
{
	struct cell *o = c->out;

	o->rounds = c->rounds;
	o->report_ns = quantile(c->report, c->rounds, 0.5);
	o->write_ns = quantile(c->write, c->rounds, 0.5);
	o->total_p25_ns = quantile(c->total, c->rounds, 0.25);
	o->total_p75_ns = quantile(c->total, c->rounds, 0.75);
	o->total_ns = quantile(c->total, c->rounds, 0.5);
	free(c->report);
	free(c->write);
	free(c->total);
	free(c->idx);
	free(c->got);
	memset(c, 0, sizeof(*c));
}
