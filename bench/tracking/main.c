// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench-tracking: every way of tracking the writes to a region, timed side by
 * side in one process on one kernel, with each method's report checked.
 *
 * Scheduling. Methods that only touch their own region ("isolated") are set
 * up together, each on its own region, and their rounds interleave: host load
 * that changes during the run (TCG runs on a shared host) then hits all of
 * them alike and their ratios stay fair. Methods built on clear_refs clear
 * the soft-dirty state of the whole process, so they would disturb the
 * others and their cost grows with whatever else is mapped: they run alone,
 * after the isolated ones are gone. So do the regions of 1 GiB (memory), and
 * last, the methods that want 4 GiB populated elsewhere.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bench.h"

static const struct method *const all_methods[] = {
	&method_baseline,
	&method_sd_gac,
	&method_scan_uffd_async,	/* next to gac: in one group at 1 GiB too */
	&method_scan_clear_sd,
	&method_sd_gac_noreuse,
	&method_sd_get_clear,
	&method_mprotect,
	&method_uffd_sync,
	&method_clear_refs,
	&method_scan_softdirty,
	&method_sd_gac_ballast,
	&method_clear_refs_ballast,
};
#define NR_ALL (int)(sizeof(all_methods) / sizeof(all_methods[0]))

/* Runs only when named: not a way of tracking, a test of the check. */
static const struct method *const named_only_methods[] = {
	&method_sd_get_only,
};
#define NR_NAMED (int)(sizeof(named_only_methods) / sizeof(named_only_methods[0]))

/* Rounds a method runs in a row before the next one's turn. */
#define ROUNDS_PER_BLOCK	4

/* Above this, a cell run alone starts without a warm-up round. */
#define WARMUP_MAX_PAGES	10000
/* A method whose rounds take longer needs no warm-up: a neighbour's leftovers
 * cost microseconds to a millisecond. */
#define WARMUP_MAX_ROUND_NS	50e6

/*
 * Interleave isolated methods while their regions together stay this small:
 * the 6 GiB guest then runs 1 GiB regions three at a time (gac with
 * scan+uffd-async and the baseline), everything smaller all together.
 */
#define INTERLEAVE_MAX_BYTES	(3UL << 30)

static bool process_wide(const struct method *m)
{
	return m == &method_clear_refs || m == &method_scan_softdirty ||
	       m == &method_clear_refs_ballast;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: bench-tracking [options]\n"
"  --sizes N,...        region sizes in pages (default 1,10,100,1000,10000,262144)\n"
"  --dirty P,...        percent of pages written per round (default 0,1,10,100)\n"
"  --methods M,...      methods to run, by name (default all; see --list);\n"
"                       gac and the no-tracking baseline always run\n"
"  --rounds N|MIN:MAX   rounds per cell: exactly N, or adaptive (default 5:200)\n"
"  --budget S           seconds a cell keeps adding rounds for (default 0.2)\n"
"  --ballast-mib N      memory populated elsewhere for the @4G methods (default 4096)\n"
"  --quick              < 1 min: sizes 1,100,10000, no @4G methods, rounds 3:50,\n"
"                       budget 0.03 s\n"
"  --csv                CSV instead of the text tables\n"
"  --list               list the methods\n");
}

static int parse_list(const char *s, unsigned long *out, int max)
{
	int n = 0;
	char *end;

	while (*s) {
		if (n == max)
			return -1;
		errno = 0;
		out[n++] = strtoul(s, &end, 10);
		if (errno || end == s || (*end && *end != ','))
			return -1;
		s = *end ? end + 1 : end;
	}
	return n;
}

static int add_method(struct results *res, const struct method *m)
{
	for (int i = 0; i < res->nmethods; i++)
		if (res->methods[i] == m)
			return 0;
	if (res->nmethods == MAX_METHODS)
		return -1;
	res->methods[res->nmethods++] = m;
	return 0;
}

static int parse_methods(struct results *res, const char *s)
{
	char buf[512], *tok, *save;
	const struct method *want[NR_ALL + NR_NAMED] = { 0 };

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int i;

		for (i = 0; i < NR_ALL + NR_NAMED; i++)
			if (!strcmp(tok, i < NR_ALL ? all_methods[i]->name :
						      named_only_methods[i - NR_ALL]->name))
				break;
		if (i == NR_ALL + NR_NAMED) {
			fprintf(stderr, "bench-tracking: no method '%s' (--list)\n", tok);
			return -1;
		}
		want[i] = i < NR_ALL ? all_methods[i] : named_only_methods[i - NR_ALL];
	}
	/* The ratios need ours and the write costs need the baseline. */
	want[0] = &method_baseline;
	want[1] = &method_sd_gac;
	for (int i = 0; i < NR_ALL + NR_NAMED; i++) {
		if (!want[i])
			continue;
		/* clear_refs@4G is compared with ours run the same way */
		if (want[i] == &method_clear_refs_ballast)
			add_method(res, &method_sd_gac_ballast);
		add_method(res, want[i]);
	}
	return 0;
}

static int method_index_of(const struct results *res, const struct method *m)
{
	for (int i = 0; i < res->nmethods; i++)
		if (res->methods[i] == m)
			return i;
	return -1;
}

struct run {
	struct results *res;
	char *ballast;
	size_t ballast_trimmed;	/* bytes at its end not populated now */
};

/* A method on a region of res->sizes[si] pages, ready for rounds. */
struct live {
	int mi;
	struct tracker t;
	unsigned long seq;
	double last_round_ns;	/* of this method's last round, any cell */
	bool failed;
};

static void live_start(struct run *run, struct live *l, int si, int mi)
{
	struct results *res = run->res;
	int ret;

	memset(l, 0, sizeof(*l));
	l->mi = mi;
	l->t.m = res->methods[mi];
	ret = region_map(&l->t.r, res->sizes[si]);
	if (ret)
		tracker_fail(&l->t, -ret, "mmap of %zu pages", res->sizes[si]);
	else
		ret = l->t.m->setup(&l->t);
	if (ret) {
		l->failed = true;
		for (int di = 0; di < res->ndirty; di++) {
			struct cell *c = &res->cell[si][mi][di];

			c->state = CELL_ERROR;
			snprintf(c->why, sizeof(c->why), "setup: %s", l->t.err);
			c->written = pattern_count(res->sizes[si], res->dirty[di]);
			print_progress(res, si, mi, di);
		}
	}
}

static void live_stop(struct live *l)
{
	if (l->t.m && l->t.priv)
		l->t.m->teardown(&l->t);
	region_unmap(&l->t.r);
}

static void speed_note(struct results *res)
{
	double s = speed_probe_ns();

	if (!res->speed_first_ns)
		res->speed_first_ns = res->speed_min_ns = res->speed_max_ns = s;
	if (s < res->speed_min_ns)
		res->speed_min_ns = s;
	if (s > res->speed_max_ns)
		res->speed_max_ns = s;
}

/* The cells of the given live methods at one size, rounds interleaved. */
static void run_group(struct run *run, int si, struct live *lv, int n)
{
	struct results *res = run->res;
	struct cell_run cr[MAX_METHODS];

	speed_note(res);
	for (int di = 0; di < res->ndirty; di++) {
		size_t written = pattern_count(res->sizes[si], res->dirty[di]);
		bool busy = true;

		for (int k = 0; k < n; k++) {
			struct cell *c = &res->cell[si][lv[k].mi][di];

			memset(&cr[k], 0, sizeof(cr[k]));
			if (lv[k].failed) {
				cr[k].done = true;
				continue;
			}
			if (cell_run_init(&cr[k], &lv[k].t, c, written,
					  &lv[k].seq, &lv[k].last_round_ns, &res->lim)) {
				c->state = CELL_ERROR;
				snprintf(c->why, sizeof(c->why), "out of memory");
				cr[k].done = true;
			}
		}
		/*
		 * A block of rounds of each in turn. What one method's round leaves
		 * behind (under TCG a TLB flush also empties the translated-code
		 * jump cache) slows whatever runs next; a method must pay its own
		 * aftermath, not its neighbour's, so a block starts with a warm-up
		 * round that is checked but not timed (so does a cell: the first
		 * round after a change of pattern or method is not typical either,
		 * though not enough to matter where a round takes seconds).
		 */
		while (busy) {
			busy = false;
			for (int k = 0; k < n; k++) {
				if (cr[k].done)
					continue;
				if ((n > 1 && lv[k].last_round_ns < WARMUP_MAX_ROUND_NS) ||
				    (!cr[k].rounds && res->sizes[si] <= WARMUP_MAX_PAGES))
					cell_round(&cr[k], &res->lim, false);
				for (int b = 0; b < ROUNDS_PER_BLOCK && !cr[k].done; b++)
					cell_round(&cr[k], &res->lim, true);
				busy |= !cr[k].done;
			}
		}
		for (int k = 0; k < n; k++) {
			if (lv[k].failed)
				continue;
			if (cr[k].out) {
				cell_quiet_check(&cr[k]);
				cell_run_finish(&cr[k]);
			}
			print_progress(res, si, lv[k].mi, di);
		}
	}
}

/*
 * Keep "4 GiB elsewhere" exact for clear_refs@4G while other regions of the
 * group are mapped next to its own: the ballast gives up as much as they take.
 */
static void ballast_trim(struct run *run, size_t bytes)
{
	size_t len = run->res->ballast_bytes, ps = 4096;

	bytes = bytes < len ? (bytes + ps - 1) / ps * ps : len;
	/* unmapped, not just dropped: clear_refs must not walk its page tables */
	if (bytes > run->ballast_trimmed) {
		munmap(run->ballast + len - bytes, bytes - run->ballast_trimmed);
	} else if (bytes < run->ballast_trimmed) {
		char *p = run->ballast + len - run->ballast_trimmed;
		size_t n = run->ballast_trimmed - bytes;

		if (mmap(p, n, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			return;
		madvise(p, n, MADV_NOHUGEPAGE);
		madvise(p, n, MADV_POPULATE_WRITE);
	}
	run->ballast_trimmed = bytes;
}

static void run_size(struct run *run, int si, bool ballast_phase)
{
	struct results *res = run->res;
	size_t bytes = res->sizes[si] * 4096;
	struct live lv[MAX_METHODS];
	int n = 0;

	if (ballast_phase) {
		/*
		 * gac@4G and clear_refs@4G interleave like the isolated methods,
		 * because T3 compares them and sequential cells of 1 GiB drift
		 * apart with the host's load. Correct all the same: clear_refs
		 * clears gac's region too, but only after gac's own collect left
		 * it clean; so nothing gac reports changes. clear_refs walks that
		 * region as well, which is why the ballast shrinks by it.
		 */
		for (int mi = 0; mi < res->nmethods; mi++)
			if (res->methods[mi]->flags & M_BALLAST)
				n++;
		ballast_trim(run, (size_t)(n - 1) * bytes);
		n = 0;
		for (int mi = 0; mi < res->nmethods; mi++)
			if (res->methods[mi]->flags & M_BALLAST)
				live_start(run, &lv[n++], si, mi);
		run_group(run, si, lv, n);
		while (n)
			live_stop(&lv[--n]);
		return;
	}

	/* Isolated methods: together while the memory allows. */
	for (int mi = 0; mi < res->nmethods; mi++) {
		const struct method *m = res->methods[mi];

		if ((m->flags & M_BALLAST) || process_wide(m))
			continue;
		if (n && (size_t)(n + 1) * bytes > INTERLEAVE_MAX_BYTES) {
			run_group(run, si, lv, n);
			while (n)
				live_stop(&lv[--n]);
		}
		live_start(run, &lv[n++], si, mi);
	}
	if (n) {
		run_group(run, si, lv, n);
		while (n)
			live_stop(&lv[--n]);
	}
	/* clear_refs-based methods: alone in the process. */
	for (int mi = 0; mi < res->nmethods; mi++) {
		const struct method *m = res->methods[mi];

		if ((m->flags & M_BALLAST) || !process_wide(m))
			continue;
		live_start(run, &lv[0], si, mi);
		run_group(run, si, lv, 1);
		live_stop(&lv[0]);
	}
}

static int run_all(struct run *run)
{
	struct results *res = run->res;
	bool want_ballast = false;
	int bad = 0;

	for (int si = 0; si < res->nsizes; si++)
		run_size(run, si, false);
	if (method_index_of(res, &method_sd_gac) >= 0 &&
	    method_index_of(res, &method_scan_uffd_async) >= 0) {
		fprintf(stderr, "# breakdown of the calls\n");
		run_breakdown(res);
	}

	for (int mi = 0; mi < res->nmethods; mi++)
		want_ballast |= !!(res->methods[mi]->flags & M_BALLAST);
	if (want_ballast) {
		uint64_t t = now_ns();

		fprintf(stderr, "# populating %zu MiB elsewhere for the @4G methods\n",
			res->ballast_bytes >> 20);
		run->ballast = ballast_map(res->ballast_bytes);
		run->ballast_trimmed = 0;
		if (!run->ballast) {
			fprintf(stderr, "bench-tracking: cannot populate %zu MiB: the @4G methods do not run\n",
				res->ballast_bytes >> 20);
		} else {
			fprintf(stderr, "# populated in %.1f s\n", (double)(now_ns() - t) / 1e9);
			for (int si = 0; si < res->nsizes; si++)
				run_size(run, si, true);
			ballast_unmap(run->ballast, res->ballast_bytes - run->ballast_trimmed);
			run->ballast = NULL;
		}
	}

	for (int si = 0; si < res->nsizes; si++)
		for (int mi = 0; mi < res->nmethods; mi++)
			for (int di = 0; di < res->ndirty; di++)
				bad += res->cell[si][mi][di].state == CELL_WRONG ||
				       res->cell[si][mi][di].state == CELL_ERROR;
	return bad;
}

int main(int argc, char **argv)
{
	static struct results res;
	static const struct option opts[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "dirty", required_argument, NULL, 'd' },
		{ "methods", required_argument, NULL, 'm' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "budget", required_argument, NULL, 'b' },
		{ "ballast-mib", required_argument, NULL, 'B' },
		{ "quick", no_argument, NULL, 'q' },
		{ "csv", no_argument, NULL, 'c' },
		{ "list", no_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long sizes[MAX_SIZES] = { 1, 10, 100, 1000, 10000, 262144 };
	unsigned long dirty[MAX_DIRTY] = { 0, 1, 10, 100 };
	const char *methods = NULL, *rounds = NULL;
	int nsizes = 6, ndirty = 4, opt, bad;
	bool csv = false, sizes_set = false;
	double budget = -1;
	struct run run = { .res = &res };
	uint64_t t0 = now_ns();

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			nsizes = parse_list(optarg, sizes, MAX_SIZES);
			sizes_set = true;
			break;
		case 'd':
			ndirty = parse_list(optarg, dirty, MAX_DIRTY);
			break;
		case 'm':
			methods = optarg;
			break;
		case 'r':
			rounds = optarg;
			break;
		case 'b':
			budget = strtod(optarg, NULL);
			break;
		case 'B':
			res.ballast_bytes = strtoul(optarg, NULL, 10) << 20;
			break;
		case 'q':
			res.quick = true;
			break;
		case 'c':
			csv = true;
			break;
		case 'l':
			for (int i = 0; i < NR_ALL; i++)
				printf("%-16s %s\n", all_methods[i]->name, all_methods[i]->what);
			for (int i = 0; i < NR_NAMED; i++)
				printf("%-16s %s [only when named]\n", named_only_methods[i]->name,
				       named_only_methods[i]->what);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || nsizes <= 0 || ndirty <= 0) {
		usage(stderr);
		return 2;
	}
	for (int i = 0; i < nsizes; i++) {
		/* the uapi's len is an int */
		if (!sizes[i] || sizes[i] > 0x7fffffffUL / 4096) {
			fprintf(stderr, "bench-tracking: size %lu pages out of range\n", sizes[i]);
			return 2;
		}
		res.sizes[i] = sizes[i];
	}
	for (int i = 0; i < ndirty; i++) {
		if (dirty[i] > 100) {
			fprintf(stderr, "bench-tracking: --dirty %lu is over 100\n", dirty[i]);
			return 2;
		}
		res.dirty[i] = (unsigned int)dirty[i];
	}
	res.nsizes = nsizes;
	res.ndirty = ndirty;
	if (!res.ballast_bytes)
		res.ballast_bytes = 4096UL << 20;

	if (res.quick) {
		res.lim = (struct limits){ .min_rounds = 3, .max_rounds = 50,
					   .budget_ns = 0.03e9, .cap_ns = 2e9 };
		if (!sizes_set) {
			res.nsizes = 3;
			res.sizes[0] = 1, res.sizes[1] = 100, res.sizes[2] = 10000;
		}
	} else {
		res.lim = (struct limits){ .min_rounds = 5, .max_rounds = 200,
					   .budget_ns = 0.2e9, .cap_ns = 5e9 };
	}
	if (budget >= 0)
		res.lim.budget_ns = budget * 1e9;
	if (rounds) {
		int a, b;

		if (sscanf(rounds, "%d:%d", &a, &b) == 2 && a > 0 && b >= a) {
			res.lim.min_rounds = a;
			res.lim.max_rounds = b;
		} else if (sscanf(rounds, "%d", &a) == 1 && a > 0 && !strchr(rounds, ':')) {
			res.lim.min_rounds = res.lim.max_rounds = a;
			res.lim.cap_ns = HUGE_VAL;	/* exactly N it is */
		} else {
			usage(stderr);
			return 2;
		}
	}

	if (methods) {
		if (parse_methods(&res, methods))
			return 2;
	} else {
		for (int i = 0; i < NR_ALL; i++)
			if (!res.quick || !(all_methods[i]->flags & M_BALLAST))
				add_method(&res, all_methods[i]);
	}

	res.clock_ovh_ns = clock_overhead_ns();
	if (!csv)
		print_header(&res);
	bad = run_all(&run);
	res.run_s = (double)(now_ns() - t0) / 1e9;
	if (csv) {
		print_csv(&res);
	} else {
		print_tables(&res);
		print_targets(&res);
	}
	if (bad)
		fprintf(stderr, "bench-tracking: %d cells wrong or failed\n", bad);
	return bad ? 1 : 0;
}
