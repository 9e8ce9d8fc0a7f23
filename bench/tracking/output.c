// SPDX-License-Identifier: GPL-2.0-only
/*
 * The tables. Everything is derived from the medians of struct cell:
 *
 *   report+re-arm   the timed collect call(s)
 *   writes          the timed writes; the baseline's are bare stores
 *   fault/page      (writes - baseline writes) / pages written: what the
 *                   method makes the tracked program pay per written page
 *   cost            report+re-arm + (writes - baseline writes): everything
 *                   tracking cost in a round
 *
 * Ratios are a method's cost over ours (gac) in the same cell of the same
 * run; methods run with 4 GiB elsewhere are compared with ours run that way.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

#include "bench.h"

#ifndef BENCH_VERSION
#define BENCH_VERSION "(unversioned)"
#endif

static int method_index(const struct results *res, const char *name)
{
	for (int i = 0; i < res->nmethods; i++)
		if (!strcmp(res->methods[i]->name, name))
			return i;
	return -1;
}

/* The ours-run-the-same-way a method's ratios are taken against, or -1. */
static int reference_of(const struct results *res, int mi)
{
	const struct method *m = res->methods[mi];
	int ref = -1;

	if ((m->flags & M_BALLAST) && !(m->flags & M_OURS))
		ref = method_index(res, method_sd_gac_ballast.name);
	if (ref < 0)
		ref = method_index(res, method_sd_gac.name);
	return ref;
}

static const struct cell *cell_at(const struct results *res, int si, int mi,
				  int di)
{
	if (si < 0 || mi < 0 || di < 0)
		return NULL;
	return &res->cell[si][mi][di];
}

static bool cell_ok(const struct cell *c)
{
	return c && c->state == CELL_OK && c->rounds > 0;
}

static double baseline_write_ns(const struct results *res, int si, int di)
{
	const struct cell *b = cell_at(res, si,
				       method_index(res, method_baseline.name), di);

	return cell_ok(b) ? b->write_ns : 0;
}

/* Writes over the baseline: what the method's faults cost in the round. */
static double fault_part_ns(const struct results *res, int si, int mi, int di)
{
	const struct cell *c = cell_at(res, si, mi, di);
	double d = c->write_ns - baseline_write_ns(res, si, di);

	return d > 0 ? d : 0;
}

static double cost_ns(const struct results *res, int si, int mi, int di)
{
	return res->cell[si][mi][di].report_ns + fault_part_ns(res, si, mi, di);
}

static const char *fmt_ns(char *buf, size_t len, double ns)
{
	if (isnan(ns))
		snprintf(buf, len, "-");
	else if (ns < 1e3)
		snprintf(buf, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(buf, len, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(buf, len, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.2f s", ns / 1e9);
	return buf;
}

static const char *fmt_ratio(char *buf, size_t len, double num, double den)
{
	if (den <= 0 && num <= 0)
		snprintf(buf, len, "=");
	else if (den <= 0)
		snprintf(buf, len, "inf");
	else if (num / den >= 100)
		snprintf(buf, len, "%.0fx", num / den);
	else
		snprintf(buf, len, "%.2fx", num / den);
	return buf;
}

static const char *fmt_size(char *buf, size_t len, size_t pages)
{
	double mib = (double)pages * 4096 / (1 << 20);

	if (mib >= 1024)
		snprintf(buf, len, "%.0f GiB", mib / 1024);
	else if (mib >= 1)
		snprintf(buf, len, "%.1f MiB", mib);
	else
		snprintf(buf, len, "%.0f KiB", mib * 1024);
	return buf;
}

static void read_line(const char *path, const char *key, char *out, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512];

	snprintf(out, len, "?");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *v = line;

		if (key) {
			if (strncmp(line, key, strlen(key)))
				continue;
			v = strchr(line, ':');
			if (!v)
				continue;
			v += 2;
		}
		v[strcspn(v, "\n")] = 0;
		if (strlen(v) >= len)
			v[len - 1] = 0;	/* truncation is fine, a warning is not */
		memcpy(out, v, strlen(v) + 1);
		break;
	}
	fclose(f);
}

void print_header(const struct results *res)
{
	struct utsname u;
	char cpu[128], cs[64], buf[32], date[32];
	time_t now;

	uname(&u);
	read_line("/proc/cpuinfo", "model name", cpu, sizeof(cpu));
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  NULL, cs, sizeof(cs));
	now = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%d %H:%M UTC", gmtime(&now));
	printf("dirtyrate kernel tracking benchmark %s: report the written pages of a region + re-arm\n",
	       BENCH_VERSION);
	printf("%s; kernel %s %s, %s, cpu \"%s\", clocksource %s, clock read %s (subtracted)\n",
	       date, u.release, u.version, u.machine, cpu, cs,
	       fmt_ns(buf, sizeof(buf), (double)res->clock_ovh_ns));
	printf("\n"
"CAVEAT: %s. Absolute times under TCG\n"
"are not those of hardware, and TCG distorts kinds of work differently (page\n"
"faults, TLB flushes, signals and context switches are dearer relative to plain\n"
"loads and stores than on a real CPU). Only compare ratios between methods\n"
"measured in this same run; never hold the absolute numbers against a target.\n\n",
	       strstr(cpu, "TCG") ? "this run is under qemu TCG (software-emulated CPU)" :
				    "made for qemu TCG; this cpu does not say TCG");
	printf("Rounds per cell: adaptive, %d..%d, until %.2f s spent (3 suffice past %.0f s);\n"
	       "times are medians per round.\n",
	       res->lim.min_rounds, res->lim.max_rounds, res->lim.budget_ns / 1e9,
	       res->lim.cap_ns / 1e9);
	printf("Pattern: every (pages/written)-th page, shifted by one page each round; each round's\n"
	       "report is checked against the pages written (a wrong method shows \xe2\x9c\x97, no times).\n");
	printf("Regions: private anonymous, 4 KiB pages, populated, between guard pages.\n\n");
	printf("Methods:\n");
	for (int i = 0; i < res->nmethods; i++)
		printf("  %-16s %s\n", res->methods[i]->name, res->methods[i]->what);
	printf("\nColumns: report+re-arm = the timed collect; writes = the timed writes (faults included);\n"
	       "fault/page = (writes - baseline writes) / pages written; cost = report+re-arm +\n"
	       "writes - baseline writes; /ours = cost over ours (gac; methods @4G over gac@4G) in the\n"
	       "same cell: >1x means ours is that many times faster. iqr = spread of the per-round\n"
	       "cost (p75-p25)/median.\n\n");
	fflush(stdout);
}

void print_progress(const struct results *res, int si, int mi, int di)
{
	const struct cell *c = &res->cell[si][mi][di];
	char a[32], b[32];

	fprintf(stderr, "# %7zu pages %3u%% %-16s %-5s %3d rounds  report+re-arm %10s  writes %10s%s%s\n",
		res->sizes[si], res->dirty[di], res->methods[mi]->name,
		c->state == CELL_OK ? "ok" : c->state == CELL_WRONG ? "WRONG" : "ERROR",
		c->rounds, fmt_ns(a, sizeof(a), c->report_ns),
		fmt_ns(b, sizeof(b), c->write_ns),
		c->state == CELL_OK ? "" : "  ", c->state == CELL_OK ? "" : c->why);
}

static void print_cell_table(const struct results *res, int si, int di)
{
	char sz[32], a[32], b[32], f[32], t[32], r1[32], r2[32];
	size_t written = 0;

	for (int mi = 0; mi < res->nmethods; mi++)
		if (res->cell[si][mi][di].state != CELL_NOT_RUN)
			written = res->cell[si][mi][di].written;
	printf("-- %zu pages (%s), %u%% written: %zu pages per round --\n",
	       res->sizes[si], fmt_size(sz, sizeof(sz), res->sizes[si]),
	       res->dirty[di], written);
	printf("%-16s %2s %6s %13s %11s %11s %11s %6s %9s %9s\n", "method", "ok",
	       "rounds", "report+re-arm", "writes", "fault/page", "cost", "iqr",
	       "/ours", "/ours");
	printf("%-16s %2s %6s %13s %11s %11s %11s %6s %9s %9s\n", "", "", "", "",
	       "", "", "", "", "(cost)", "(report)");
	for (int mi = 0; mi < res->nmethods; mi++) {
		const struct method *m = res->methods[mi];
		const struct cell *c = &res->cell[si][mi][di];
		int ref = reference_of(res, mi);
		const struct cell *rc = cell_at(res, si, ref, di);

		if (c->state == CELL_NOT_RUN)
			continue;
		if (m->flags & M_BASELINE) {
			printf("%-16s %2s %6d %13s %11s\n", m->name, "-", c->rounds,
			       "-", fmt_ns(b, sizeof(b), c->write_ns));
			continue;
		}
		if (!cell_ok(c)) {
			printf("%-16s \xe2\x9c\x97  %6d  %s\n", m->name, c->rounds,
			       c->why);
			continue;
		}
		printf("%-16s \xe2\x9c\x93  %6d %13s %11s %11s %11s %5.0f%% %9s %9s\n",
		       m->name, c->rounds,
		       fmt_ns(a, sizeof(a), c->report_ns),
		       fmt_ns(b, sizeof(b), c->write_ns),
		       c->written ? fmt_ns(f, sizeof(f),
					   fault_part_ns(res, si, mi, di) / (double)c->written)
				  : "-",
		       fmt_ns(t, sizeof(t), cost_ns(res, si, mi, di)),
		       c->total_ns > 0 ? 100.0 * (c->total_p75_ns - c->total_p25_ns) / c->total_ns : 0.0,
		       cell_ok(rc) ? fmt_ratio(r1, sizeof(r1), cost_ns(res, si, mi, di),
					      cost_ns(res, si, ref, di)) : "-",
		       cell_ok(rc) ? fmt_ratio(r2, sizeof(r2), c->report_ns, rc->report_ns) : "-");
	}
	printf("\n");
}

static void print_summary(const struct results *res)
{
	char r[32];

	printf("== Summary: cost per round (report+re-arm + fault cost of the writes) / ours; >1x: ours is faster ==\n");
	for (int di = 0; di < res->ndirty; di++) {
		printf("-- %u%% written --\n%-8s", res->dirty[di], "pages");
		for (int mi = 0; mi < res->nmethods; mi++)
			if (!(res->methods[mi]->flags & M_BASELINE) &&
			    strcmp(res->methods[mi]->name, method_sd_gac.name))
				printf(" %15s", res->methods[mi]->name);
		printf("\n");
		for (int si = 0; si < res->nsizes; si++) {
			printf("%-8zu", res->sizes[si]);
			for (int mi = 0; mi < res->nmethods; mi++) {
				int ref = reference_of(res, mi);

				if ((res->methods[mi]->flags & M_BASELINE) ||
				    !strcmp(res->methods[mi]->name, method_sd_gac.name))
					continue;
				if (!cell_ok(cell_at(res, si, mi, di)))
					snprintf(r, sizeof(r), "%s",
						 res->cell[si][mi][di].state == CELL_NOT_RUN ? "-" : "\xe2\x9c\x97");
				else if (!cell_ok(cell_at(res, si, ref, di)))
					snprintf(r, sizeof(r), "-");
				else
					fmt_ratio(r, sizeof(r), cost_ns(res, si, mi, di),
						  cost_ns(res, si, ref, di));
				/* the check marks are 3 bytes wide in 1 column */
				printf(" %*s", strcmp(r, "\xe2\x9c\x97") ? 15 : 17, r);
			}
			printf("\n");
		}
	}
	printf("\n== Fault cost per written page (writes - baseline) / written, at the largest share written ==\n");
	printf("%-8s", "pages");
	for (int mi = 0; mi < res->nmethods; mi++)
		if (!(res->methods[mi]->flags & M_BASELINE))
			printf(" %15s", res->methods[mi]->name);
	printf("\n");
	for (int si = 0; si < res->nsizes; si++) {
		int di = res->ndirty - 1;

		printf("%-8zu", res->sizes[si]);
		for (int mi = 0; mi < res->nmethods; mi++) {
			const struct cell *c = cell_at(res, si, mi, di);

			if (res->methods[mi]->flags & M_BASELINE)
				continue;
			if (!cell_ok(c) || !c->written)
				snprintf(r, sizeof(r), "-");
			else
				fmt_ns(r, sizeof(r), fault_part_ns(res, si, mi, di) / (double)c->written);
			printf(" %15s", r);
		}
		printf("\n");
	}
	printf("\n");
}

static void print_breakdown_row(const struct results *res, const double *v)
{
	char b[32];

	for (int si = 0; si < res->nsizes; si++)
		printf(" %9s", v[si] < 0 ? "-" : fmt_ns(b, sizeof(b), v[si]));
}

static void print_breakdown(const struct results *res)
{
	int first = 0, last, dl = -1;
	char b[32];

	if (!res->bd_run)
		return;
	/*
	 * The largest size timed with every page written. The slopes come from
	 * it too: its calls take about a millisecond and get a hundred
	 * repetitions, the 1 GiB ones five, and the host's noise shows.
	 */
	for (int si = 0; si < res->nsizes; si++)
		if (res->bd_dirty[BD_ROWS - 1][si] >= 0)
			dl = si;
	last = dl >= 0 ? dl : res->nsizes - 1;
	printf("== Where report+re-arm time goes: each call alone, median ==\n");
	printf("(per page walked: slope of the clean row from %zu to %zu pages; per dirty page:\n"
	       "(all written - clean) / pages, at %zu pages)\n", res->sizes[first],
	       res->sizes[last], res->sizes[last]);
	printf("%-46s", "clean range \\ pages");
	for (int si = 0; si < res->nsizes; si++)
		printf(" %9zu", res->sizes[si]);
	printf(" %9s %9s\n", "per page", "per dirty");
	printf("%-46s", "");
	for (int si = 0; si < res->nsizes; si++)
		printf(" %9s", "");
	printf(" %9s %9s\n", "walked", "page");
	for (int row = 0; row < BD_ROWS; row++) {
		const double *c = res->bd[row], *d = res->bd_dirty[row];

		printf("%-46s", breakdown_rows[row]);
		print_breakdown_row(res, c);
		if (last > first && c[first] >= 0 && c[last] >= 0)
			printf(" %9s", fmt_ns(b, sizeof(b), (c[last] - c[first]) /
					      (double)(res->sizes[last] - res->sizes[first])));
		else
			printf(" %9s", "-");
		if (dl >= 0 && d[dl] >= 0 && c[dl] >= 0)
			printf(" %9s", fmt_ns(b, sizeof(b), (d[dl] - c[dl]) / (double)res->sizes[dl]));
		printf("\n");
	}
	printf("%-46s\n", "every page written \\ pages");
	for (int row = 1; row < BD_ROWS; row++) {
		printf("%-46s", breakdown_rows[row]);
		print_breakdown_row(res, res->bd_dirty[row]);
		printf("\n");
	}
	printf("\n");
}

void print_tables(const struct results *res)
{
	for (int si = 0; si < res->nsizes; si++)
		for (int di = 0; di < res->ndirty; di++)
			print_cell_table(res, si, di);
	print_summary(res);
	print_breakdown(res);
}

void print_csv(const struct results *res)
{
	printf("pages,dirty_pct,written,method,state,rounds,report_ns,write_ns,"
	       "total_ns,total_p25_ns,total_p75_ns,baseline_write_ns,"
	       "fault_ns_per_page,cost_ns,reference,cost_over_reference,"
	       "report_over_reference\n");
	for (int si = 0; si < res->nsizes; si++)
		for (int mi = 0; mi < res->nmethods; mi++)
			for (int di = 0; di < res->ndirty; di++) {
				const struct cell *c = &res->cell[si][mi][di];
				int ref = reference_of(res, mi);
				const struct cell *rc = cell_at(res, si, ref, di);
				bool ok = cell_ok(c), rok = ok && cell_ok(rc);
				double cost = ok ? cost_ns(res, si, mi, di) : NAN;
				double rcost = rok ? cost_ns(res, si, ref, di) : NAN;

				if (c->state == CELL_NOT_RUN)
					continue;
				printf("%zu,%u,%zu,%s,%s,%d,%.0f,%.0f,%.0f,%.0f,%.0f,%.0f,%.1f,%.0f,%s,%.4g,%.4g\n",
				       res->sizes[si], res->dirty[di], c->written,
				       res->methods[mi]->name,
				       ok ? "ok" : c->state == CELL_WRONG ? "wrong" : "error",
				       c->rounds, c->report_ns, c->write_ns, c->total_ns,
				       c->total_p25_ns, c->total_p75_ns,
				       baseline_write_ns(res, si, di),
				       ok && c->written ? fault_part_ns(res, si, mi, di) / (double)c->written : NAN,
				       cost, ref >= 0 ? res->methods[ref]->name : "",
				       rok && rcost > 0 ? cost / rcost : NAN,
				       rok && rc->report_ns > 0 ? c->report_ns / rc->report_ns : NAN);
			}
}

enum basis {
	BY_COST,	/* report+re-arm + fault part */
	BY_REPORT,	/* report+re-arm alone */
};

/*
 * "ours is >= need times faster than alt at pages": one verdict per share
 * written, on the given basis, and overall.
 *
 * By cost, the shares with nothing written are printed but do not decide:
 * a fault-driven method has nothing to do then by design. By report+re-arm
 * (for an alternative that takes the same soft-dirty fault as ours, so that
 * the fault part is common to both and only dilutes the ratio) every share
 * decides.
 */
static void target_ratio(const struct results *res, const char *label,
			 const char *alt, const char *ours, size_t pages,
			 double need, enum basis basis, const char *anchor)
{
	int ai = method_index(res, alt), oi = method_index(res, ours), si = -1;
	int met = 0, judged = 0;
	char b[8][32];

	for (int i = 0; i < res->nsizes; i++)
		if (res->sizes[i] == pages)
			si = i;
	printf("%s\n", label);
	if (anchor)
		printf("    2022 cover letter anchor: %s\n", anchor);
	printf("    verdict on %s\n", basis == BY_COST ?
	       "cost (report+re-arm + fault part), at the shares with pages written" :
	       "report+re-arm: both take the same soft-dirty write fault");
	if (si < 0 || ai < 0 || oi < 0) {
		printf("    NOT MEASURED: needs %zu in --sizes and methods %s and %s\n\n",
		       pages, alt, ours);
		return;
	}
	for (int di = 0; di < res->ndirty; di++) {
		const struct cell *ac = cell_at(res, si, ai, di), *oc = cell_at(res, si, oi, di);
		double ca, co, ra, ro, fa, fo;
		bool ok, decides;

		if (!cell_ok(ac) || !cell_ok(oc)) {
			printf("    %3u%% written: not measured (%s)\n", res->dirty[di],
			       !cell_ok(oc) ? ours : alt);
			continue;
		}
		ca = cost_ns(res, si, ai, di);
		co = cost_ns(res, si, oi, di);
		ra = ac->report_ns;
		ro = oc->report_ns;
		if (basis == BY_COST)
			ok = co > 0 ? ca / co >= need : ca > 0;
		else
			ok = ro > 0 ? ra / ro >= need : ra > 0;
		decides = basis == BY_REPORT || oc->written;
		judged += decides;
		met += decides && ok;
		printf("    %3u%% written: %-7s %-7s | cost %s vs ours %s (%s); report+re-arm %s vs %s (%s)",
		       res->dirty[di],
		       basis == BY_COST ? fmt_ratio(b[0], sizeof(b[0]), ca, co) :
					  fmt_ratio(b[0], sizeof(b[0]), ra, ro),
		       ok ? "met" : "NOT MET",
		       fmt_ns(b[1], sizeof(b[1]), ca), fmt_ns(b[2], sizeof(b[2]), co),
		       fmt_ratio(b[3], sizeof(b[3]), ca, co),
		       fmt_ns(b[4], sizeof(b[4]), ra), fmt_ns(b[5], sizeof(b[5]), ro),
		       fmt_ratio(b[6], sizeof(b[6]), ra, ro));
		if (oc->written) {
			fa = fault_part_ns(res, si, ai, di) / (double)oc->written;
			fo = fault_part_ns(res, si, oi, di) / (double)oc->written;
			printf("; fault/page %s vs %s (%s)", fmt_ns(b[1], sizeof(b[1]), fa),
			       fmt_ns(b[2], sizeof(b[2]), fo), fmt_ratio(b[3], sizeof(b[3]), fa, fo));
		}
		printf("%s\n", decides ? "" : "  [does not decide: nothing written]");
	}
	if (!judged)
		printf("    => NOT MEASURED\n");
	else
		printf("    => %s (met at %d of %d shares that decide)\n",
		       met == judged ? "MET" : "NOT MET", met, judged);
	if (basis == BY_COST)
		printf("    (ours takes a fault per written page too: with many pages written the\n"
		       "    ratio tends to fault/page of %s over ours, whatever the report costs)\n", alt);
	printf("\n");
}

/* Ours against the upstream design, everywhere: the goal is not slower. */
static void target_not_slower(const struct results *res, const char *alt)
{
	int ai = method_index(res, alt), oi = method_index(res, method_sd_gac.name);
	int cells = 0, slower = 0, noise = 0;
	char r[32];

	printf("T4  ours (gac) not slower than %s: cost %s / ours, every cell\n", alt, alt);
	if (ai < 0 || oi < 0) {
		printf("    NOT MEASURED: needs methods %s and gac\n\n", alt);
		return;
	}
	printf("    %-8s", "pages");
	for (int di = 0; di < res->ndirty; di++)
		printf(" %9u%%", res->dirty[di]);
	printf("\n");
	for (int si = 0; si < res->nsizes; si++) {
		printf("    %-8zu", res->sizes[si]);
		for (int di = 0; di < res->ndirty; di++) {
			const struct cell *ac = cell_at(res, si, ai, di), *oc = cell_at(res, si, oi, di);
			double ca, co;
			char mark = ' ';

			if (!cell_ok(ac) || !cell_ok(oc)) {
				printf(" %10s", "-");
				continue;
			}
			ca = cost_ns(res, si, ai, di);
			co = cost_ns(res, si, oi, di);
			cells++;
			if (ca < co) {
				slower++;
				/* overlapping quartiles: within this run's noise */
				if (oc->total_p25_ns <= ac->total_p75_ns) {
					noise++;
					mark = '~';
				} else {
					mark = '!';
				}
			}
			printf(" %9s%c", fmt_ratio(r, sizeof(r), ca, co), mark);
		}
		printf("\n");
	}
	printf("    (! ours slower beyond the quartiles of both; ~ ours slower within them)\n");
	printf("    report+re-arm alone, %s / ours:\n", alt);
	for (int si = 0; si < res->nsizes; si++) {
		printf("    %-8zu", res->sizes[si]);
		for (int di = 0; di < res->ndirty; di++) {
			const struct cell *ac = cell_at(res, si, ai, di), *oc = cell_at(res, si, oi, di);

			if (!cell_ok(ac) || !cell_ok(oc))
				printf(" %10s", "-");
			else
				printf(" %9s ", fmt_ratio(r, sizeof(r), ac->report_ns, oc->report_ns));
		}
		printf("\n");
	}
	if (!cells)
		printf("    => NOT MEASURED\n\n");
	else
		printf("    => %s: ours slower in %d of %d cells (%d of them within noise)\n\n",
		       slower == 0 ? "MET" : slower == noise ? "MET within noise" : "NOT MET",
		       slower, cells, noise);
}

/* Every cell where some alternative costs less than ours, and why. */
static void print_losses(const struct results *res)
{
	int n = 0;
	char b[8][32];

	printf("== Where an alternative costs less than ours, and where the time goes ==\n");
	printf("(cost = report+re-arm + fault part; fault part = writes - baseline writes)\n");
	for (int si = 0; si < res->nsizes; si++)
		for (int di = 0; di < res->ndirty; di++)
			for (int mi = 0; mi < res->nmethods; mi++) {
				const struct method *m = res->methods[mi];
				int ref = reference_of(res, mi);
				const struct cell *c = cell_at(res, si, mi, di);
				const struct cell *rc = cell_at(res, si, ref, di);
				double ca, co, fa, fo;

				if ((m->flags & (M_OURS | M_BASELINE)) || !cell_ok(c) ||
				    !cell_ok(rc))
					continue;
				ca = cost_ns(res, si, mi, di);
				co = cost_ns(res, si, ref, di);
				if (ca >= co)
					continue;
				n++;
				fa = fault_part_ns(res, si, mi, di);
				fo = fault_part_ns(res, si, ref, di);
				printf("  %6zu pages %3u%%: %-15s cost %9s vs %s %9s = report+re-arm %9s vs %9s + faults %9s vs %9s",
				       res->sizes[si], res->dirty[di], m->name,
				       fmt_ns(b[0], sizeof(b[0]), ca), res->methods[ref]->name,
				       fmt_ns(b[1], sizeof(b[1]), co),
				       fmt_ns(b[2], sizeof(b[2]), c->report_ns),
				       fmt_ns(b[3], sizeof(b[3]), rc->report_ns),
				       fmt_ns(b[4], sizeof(b[4]), fa),
				       fmt_ns(b[5], sizeof(b[5]), fo));
				if (c->written)
					printf(" (%s vs %s per page)",
					       fmt_ns(b[6], sizeof(b[6]), fa / (double)c->written),
					       fmt_ns(b[7], sizeof(b[7]), fo / (double)c->written));
				printf("\n");
			}
	if (!n)
		printf("  none\n");
	printf("\n");
}

void print_targets(const struct results *res)
{
	print_losses(res);
	printf("== Targets (ratios from this run; cost = report+re-arm + fault part of the writes) ==\n");
	target_ratio(res, "T1  ours (gac) >= 10x faster than mprotect+SIGSEGV at 10000 pages",
		     method_mprotect.name, method_sd_gac.name, 10000, 10, BY_COST,
		     "ioctl ~6.7x faster than mprotect+SIGSEGV at 10000 pages");
	target_ratio(res, "T2  ours (gac) >= 100x faster than userfaultfd sync at 10000 pages",
		     method_uffd_sync.name, method_sd_gac.name, 10000, 100, BY_COST,
		     "ioctl ~70x faster than userfaultfd at 10000 pages");
	target_ratio(res, "T3  ours >= 3x faster than clear_refs+pagemap, 1 GiB range, 4 GiB elsewhere (both @4G)",
		     method_clear_refs_ballast.name, method_sd_gac_ballast.name,
		     262144, 3, BY_REPORT, NULL);
	target_not_slower(res, method_scan_uffd_async.name);
	printf("Host steadiness: a fixed CPU loop took %.2f..%.2f ms over the run (first %.2f ms);\n"
	       "a wide range means the host's load changed and sequentially timed cells drifted.\n",
	       res->speed_min_ns / 1e6, res->speed_max_ns / 1e6, res->speed_first_ns / 1e6);
	printf("Total run time: %.1f s\n", res->run_s);
}
