// SPDX-License-Identifier: GPL-2.0-only
/*
 * sd-fuzz: fuzzer and lost-write checker for the soft-dirty pagemap ioctls
 * (PAGEMAP_SD_GET, PAGEMAP_SD_CLEAR, PAGEMAP_SD_GET_AND_CLEAR), run inside
 * the test kernel. It checks the v3 contract (see tests/vm/README.md,
 * "sd-fuzz"): every errno must be one the contract allows for the arguments
 * given, reports must be well formed, and a page written after the last
 * clear that covered it must be reported, whatever the process does
 * meanwhile.
 *
 * Threads (in the target process: this one, or a forked child with
 * --target child):
 *   writer         stamps a global sequence number into random pages of the
 *                  checked region (THP-eligible, shared and private anonymous
 *                  parts) and records, per page, the stamps around the store;
 *   region churn   mprotect/madvise/fork/mremap/migration on the region, all
 *                  of it stamped (the kinds: --churn);
 *   churn N        mmap/munmap/mremap/mprotect/madvise/fork on mappings of
 *                  their own, which the fuzzer also uses as ranges.
 * In the observing process (this one in both modes):
 *   fuzzer         (main thread) random and hostile ioctls, a fixed sequence
 *                  of decisions per seed;
 *   tracker        GET_AND_CLEAR and GET over the region, recording per page
 *                  the stamps of the last call that reported it;
 *   clear_refs     "4" (and the harmless 1, 2, 3, 5) into clear_refs;
 *   vec killers    free a vec (munmap, mmap over it, or mremap it away) while
 *                  a call that writes to it runs.
 *
 * Every write, clear, report and churn operation takes stamps from one
 * atomic counter before and after. At the end the writer stops, the region
 * is drained with GET_AND_CLEAR until it reports nothing, and every page's
 * last write is classified: excused (a clear that forgets writes ended after
 * the write began), verified (a report began after the write ended), lost (no
 * report ended after the write began) or ambiguous (the write overlapped the
 * call that reported the page last). TAP 13 on stdout.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/auxv.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "../../../include/dirtyrate/pagemap-sd.h"

#ifndef MADV_FREE
#define MADV_FREE		8
#endif
#ifndef MADV_COLD
#define MADV_COLD		20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT		21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE		25
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE	0x100000
#endif
#define MREMAP_DONTUNMAP_	4
#define MPOL_DEFAULT_		0
#define MPOL_BIND_		2
#define MPOL_MF_MOVE_		(1 << 1)

#define CANARY			((loff_t)0x5d5d5d5dc0dec0deLL)
#define NR_CANARY		16
#define NSLOTS			48
#define MAX_FAIL_LINES		25
/* Low addresses that top-down mmap() never hands out: stay unmapped */
#define LOW_UNMAPPED		0x100000UL
#define KERNEL_ADDR		0xffff800000000000UL
#define THP_SIZE		(2UL << 20)

/* ---------------------------------------------------------------- options */

enum kind {
	K_EXEC, K_RO, K_PAGEOUT, K_THP, K_COLLAPSE, K_FORK, K_NEIGHBOUR,
	K_MREMAP, K_MIGRATE, K_KSM, K_DONTNEED, K_FREE, K_REMOVE, K_REMAP,
	K_CLEARREFS, K_VECFREE, K_FUZZREGION, K_ELSEWHERE,
	NR_KINDS,
	/* attribution bits only */
	B_NOREUSED = NR_KINDS, B_FUZZCALL, NR_BITS
};

static const char *const kind_name[NR_BITS] = {
	[K_EXEC] = "exec", [K_RO] = "ro", [K_PAGEOUT] = "pageout",
	[K_THP] = "thp", [K_COLLAPSE] = "collapse", [K_FORK] = "fork",
	[K_NEIGHBOUR] = "neighbour", [K_MREMAP] = "mremap",
	[K_MIGRATE] = "migrate", [K_KSM] = "ksm", [K_DONTNEED] = "dontneed",
	[K_FREE] = "free", [K_REMOVE] = "remove", [K_REMAP] = "remap",
	[K_CLEARREFS] = "clearrefs",
	[K_VECFREE] = "vecfree", [K_FUZZREGION] = "fuzzregion",
	[K_ELSEWHERE] = "elsewhere",
	[B_NOREUSED] = "tracker-noreused", [B_FUZZCALL] = "fuzz-call",
};

static const char *const kind_help[NR_KINDS] = {
	[K_EXEC] = "mprotect parts of the region RW <-> RWX (splits, merges)",
	[K_RO] = "mprotect parts RW -> R -> RW (the writer retries on SIGSEGV)",
	[K_PAGEOUT] = "MADV_PAGEOUT parts (swap: effect on anon; shmem is unmapped even without)",
	[K_THP] = "MADV_HUGEPAGE / MADV_NOHUGEPAGE toggles",
	[K_COLLAPSE] = "MADV_COLLAPSE 2 MiB pieces",
	[K_FORK] = "fork (COW); the child exits after a while",
	[K_NEIGHBOUR] = "mremap a mapping right after the region's end (merge), then map over it",
	[K_MREMAP] = "move a piece of the region away and back (mremap)",
	[K_MIGRATE] = "move_pages/mbind between NUMA nodes, else compact_memory",
	[K_KSM] = "MADV_MERGEABLE / UNMERGEABLE (if KSM exists)",
	[K_DONTNEED] = "MADV_DONTNEED parts (a clear: content may become zero)",
	[K_FREE] = "MADV_FREE private parts (a clear)",
	[K_REMOVE] = "MADV_REMOVE shared part (hole punch: a clear)",
	[K_REMAP] = "mmap MAP_FIXED a fresh mapping over a piece (new VM_SOFTDIRTY VMA; a clear)",
	[K_CLEARREFS] = "write 4 (a clear) and 1, 2, 3, 5 to clear_refs",
	[K_VECFREE] = "the tracker's vec freed (mremapped away) during some calls",
	[K_FUZZREGION] = "fuzzer ranges may cover the region (CLEAR there is a clear)",
	[K_ELSEWHERE] = "churn threads on mappings of their own",
};

static struct {
	uint64_t seed;
	long ioctls, min_ioctls;
	double max_seconds;
	int threads_churn;
	unsigned churn;		/* enabled kinds */
	bool target_child;
	long region_mib;
	int tracker_flags;	/* 0: none, 1: NO_REUSED, 2: mixed */
	int tracker_uapi;	/* 0: the commands, 1: PAGEMAP_SCAN, 2: mixed */
	int drain_flags;
	int inject;		/* 0, INJ_DRAIN, INJ_GET */
	bool no_perm;
	long churn_pause_us;
} opt = {
	.seed = 1,
	.ioctls = 100000,
	.min_ioctls = -1,
	.max_seconds = 900,
	.threads_churn = 2,
	.churn = (1u << NR_KINDS) - 1,
	.region_mib = 8,
	.tracker_flags = 2,
	.tracker_uapi = 2,
	.drain_flags = -1,
	.churn_pause_us = 4000,
};

enum { INJ_DRAIN = 1, INJ_GET };

static bool on(int k)
{
	return opt.churn & (1u << k);
}

/* ---------------------------------------------------------------- shared */

struct pagerec {
	uint64_t wb, we;	/* last write: stamps before and after the store */
	uint64_t rb, re;	/* max begin / max end of calls that reported it */
	uint64_t fe;		/* max end of clears that forget (not reports) */
	uint64_t ze;		/* max end of operations that may zero it */
	uint64_t me;		/* max end of operations that moved it away */
	uint64_t he[2];		/* max end of the fuzzer's, the tracker's calls that hid it */
	uint64_t rcall;		/* id of the last call that reported it */
	uint32_t churn;		/* kinds that touched it since its last report */
	uint32_t away;		/* moved away by the mremap churn */
};

/* An operation in flight over pages [p0, p1) of the region */
#define NR_FLIGHT	64
struct flight {
	uint64_t state;		/* 0 free, 1 being filled in, 2 in flight */
	long p0, p1;
};

struct kstat {
	uint64_t ops, fails, overlap_clear, skipped, usec;
	int last_err;
};

struct slot {
	uintptr_t addr;
	uint64_t len;
};

enum { CMD_NONE, CMD_START, CMD_STOP_CHURN, CMD_STOP_WRITER, CMD_WRITE, CMD_SNAPSHOT, CMD_EXIT };

struct shared {
	uint64_t clk;
	uint64_t global_fe;	/* clears of everything: clear_refs, park hits */
	struct flight fl[NR_FLIGHT];
	uint64_t cs, cf;	/* clearing calls over the region: started, finished */
	uint64_t chs, chf;	/* region churn operations: started, finished */
	uint64_t ws, wf;	/* writes: started, finished */
	uint64_t crs, crf;	/* clear_refs "4": started, finished */
	int stop_writer, stop_churn;
	uint32_t ready;
	pid_t target;
	/* command channel to the target */
	uint32_t cmd_seq, ack_seq;
	int cmd;
	long cmd_arg[2];
	/* the region, in the target */
	uintptr_t base, res_lo, res_hi, park, park_hi, nb;
	long npages, a_pages, b_pages, c_pages, nb_pages;
	long writer_cur;
	/* what the target saw */
	uint64_t writes, reads, write_faults, sweep_writes, forks;
	int numa_nodes;
	bool have_swap, have_compact, have_ksm, thp_madvise;
	uint64_t thp_pages_seen, shmem_pmd_seen, thp_max, shmem_pmd_max;
	struct kstat k[NR_KINDS];
	struct slot slots[NSLOTS];
	uint64_t slot_ops[8], slot_usec;
	/* What each thread is doing, for the watchdog's report of a hang */
	const char *where[16];
};

enum {
	W_FUZZ, W_TRACKER, W_CLEARREFS, W_KFZ, W_KTR, W_WRITER, W_RCHURN, W_CHILD, W_ELSE,
	NR_W = 16
};
static const char *const w_name[NR_W] = {
	"fuzzer", "tracker", "clear_refs", "fuzzer's vec killer", "tracker's vec killer",
	"writer", "region churn", "target main", "churn 0", "churn 1", "churn 2", "churn 3",
	"churn 4", "churn 5", "churn 6", "churn 7",
};

static struct shared *S;

#define WHERE(w, what) __atomic_store_n(&S->where[w], what, __ATOMIC_RELAXED)
static struct pagerec *P;
static uint64_t *content;
static long ps;
static uintptr_t user_top;

static inline uint64_t ld(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static inline uint32_t ld32(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_SEQ_CST);
}

static inline void st(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, v, __ATOMIC_SEQ_CST);
}

static inline uint64_t tick(void)
{
	return __atomic_add_fetch(&S->clk, 1, __ATOMIC_SEQ_CST);
}

static inline void inc(uint64_t *p)
{
	__atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}

static inline void amax(uint64_t *p, uint64_t v)
{
	uint64_t o = ld(p);

	while (o < v && !__atomic_compare_exchange_n(p, &o, v, false,
						     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		;
}

static void futex_wait(uint32_t *p, uint32_t v)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };

	syscall(SYS_futex, p, FUTEX_WAIT, v, &ts, NULL, 0);
}

static void futex_wake(uint32_t *p)
{
	syscall(SYS_futex, p, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void usleep_(long us)
{
	struct timespec t = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

/* splitmix64: one stream per thread, seeded from --seed */
struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rndn(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static struct rng rng_for(uint64_t stream)
{
	struct rng r = { opt.seed * 0x100000001b3ULL + stream * 0x9e3779b97f4a7c15ULL };

	rnd(&r);
	return r;
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("Bail out! sd-fuzz: %s\n", buf);
	fflush(stdout);
	if (S && S->target && S->target != getpid())
		kill(S->target, SIGKILL);
	_exit(2);
}

static void *map_or_die(void *hint, size_t len, int prot, int flags)
{
	void *p = mmap(hint, len, prot, flags, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu bytes: %s", len, strerror(errno));
	return p;
}

/*
 * Address ranges this program keeps for itself and maps over with
 * MAP_FIXED: the region's reservation and parking spot, the vec killers'
 * homes and parking spots. A mapping that lands there in an instant they
 * are free is never touched by its owner again (it will be mapped over).
 */
static struct {
	uintptr_t lo, hi;
} reserved[8];
static int nreserved;

static void reserve(void *p, size_t len)
{
	reserved[nreserved].lo = (uintptr_t)p;
	reserved[nreserved++].hi = (uintptr_t)p + len;
}

static bool in_reserved(uintptr_t a, size_t len)
{
	uintptr_t e = a + len;
	int i;

	for (i = 0; i < nreserved; i++)
		if (a < reserved[i].hi && e > reserved[i].lo)
			return true;
	return false;
}

/* ------------------------------------------------- stamped bookkeeping */

/* An operation over part of the region (or, global, over all of it) */
struct rop {
	uint64_t b;
	long p0, p1;
	int slot;
	bool global, clearing, active, inflight;
};

static void page_span(uintptr_t s, uintptr_t e, long *p0, long *p1)
{
	uintptr_t lo = S->base, hi = S->base + S->npages * ps;

	if (e <= lo || s >= hi || e <= s) {
		*p0 = *p1 = 0;
		return;
	}
	if (s < lo)
		s = lo;
	if (e > hi)
		e = hi;
	*p0 = (s - lo) / ps;
	*p1 = (e - lo + ps - 1) / ps;
}

/*
 * Begin an operation over [s, e) of the target's address space. Clearing
 * ones (calls that clear, which count for the race statistics) and those
 * that may hide a page's state for a while (forgetting ones, moves) are
 * "in flight": that excuses their pages from the mid-run check. A range that
 * touches the mremap parking area, where pieces of the region sit for a
 * while, counts for all of the region. @bits: churn kinds, for attribution.
 */
static void rop_begin(struct rop *o, uintptr_t s, uintptr_t e, bool clearing, bool inflight,
		      uint32_t bits)
{
	long p;

	memset(o, 0, sizeof(*o));
	o->clearing = clearing;
	o->inflight = inflight || clearing;
	if (e > s && s < S->park_hi && e > S->park)
		o->global = true;
	page_span(s, e, &o->p0, &o->p1);
	if (!o->global && o->p0 == o->p1) {
		o->b = tick();
		return;
	}
	o->active = true;
	if (o->inflight) {
		struct flight *f;
		uint64_t z;

		for (o->slot = 0;; o->slot = (o->slot + 1) % NR_FLIGHT) {
			f = &S->fl[o->slot];
			z = 0;
			if (__atomic_compare_exchange_n(&f->state, &z, 1, false, __ATOMIC_SEQ_CST,
							__ATOMIC_SEQ_CST))
				break;
			if (o->slot == NR_FLIGHT - 1)
				sched_yield();
		}
		f->p0 = o->global ? 0 : o->p0;
		f->p1 = o->global ? S->npages : o->p1;
		st(&f->state, 2);
	}
	/* Attribution only: a lost update does not matter */
	for (p = o->p0; p < o->p1 && bits; p++)
		__atomic_store_n(&P[p].churn, __atomic_load_n(&P[p].churn, __ATOMIC_RELAXED) | bits,
				 __ATOMIC_RELAXED);
	if (clearing)
		inc(&S->cs);
	o->b = tick();
}

/*
 * R_HIDE: a clearing call of the fuzzer (R_HIDE) or the tracker (R_HIDE |
 * R_HIDE_TRACKER) whose vec went bad while it ran: the kernel marks
 * soft-dirty again what it cleared but could not report, before the call
 * returns. Until then another call cannot see those pages; nothing is
 * forgotten (see check_call()).
 */
enum { R_NONE = 0, R_FORGET = 1, R_ZERO = 2, R_MOVED = 4, R_HIDE = 8, R_HIDE_TRACKER = 16 };

static uint64_t call_ids;
static long inject_dropped = -1;

/*
 * End it: @how says whether it forgot the soft-dirty state of its pages
 * (R_FORGET) and may have zeroed them (R_ZERO) or moved them away for a while
 * (R_MOVED) or hidden them while it ran (R_HIDE); @offs are the offsets from @start it reported (and so cleared).
 * Everything is recorded before the operation leaves the in-flight table, so
 * that a checker reading that table first and the records second sees
 * either.
 */
static uint64_t rop_end(struct rop *o, int how, uintptr_t start, const loff_t *offs,
			long n, long drop_idx)
{
	uint64_t e = tick(), id = __atomic_add_fetch(&call_ids, 1, __ATOMIC_RELAXED);
	uintptr_t lo = S->base, hi = S->base + S->npages * ps;
	long i, p;

	if (!o->active)
		return e;
	if (drop_idx == -2) {
		/* --inject-loss: forget the first report a written page needs */
		for (drop_idx = -1, i = 0; i < n && drop_idx < 0; i++) {
			uintptr_t a = start + offs[i];
			uint64_t fe;

			if (a < lo || a >= hi)
				continue;
			p = (a - lo) / ps;
			fe = P[p].fe > S->global_fe ? P[p].fe : S->global_fe;
			if (P[p].wb && P[p].rb <= P[p].we && fe < P[p].wb) {
				drop_idx = i;
				inject_dropped = p;
			}
		}
	}
	for (i = 0; i < n; i++) {
		uintptr_t a = start + offs[i];

		if (a < lo || a >= hi || i == drop_idx)
			continue;
		p = (a - lo) / ps;
		amax(&P[p].rb, o->b);
		amax(&P[p].re, e);
		st(&P[p].rcall, id);
		__atomic_store_n(&P[p].churn, 0, __ATOMIC_RELAXED);
	}
	/*
	 * A clearing call over the parking area may have cleared pieces of the
	 * region parked there, which its reports do not name: a global clear.
	 */
	if (o->global && ((how & R_FORGET) || o->clearing))
		amax(&S->global_fe, e);
	if (how & R_FORGET) {
		for (p = o->p0; p < o->p1; p++) {
			amax(&P[p].fe, e);
			if (how & R_ZERO)
				amax(&P[p].ze, e);
		}
	}
	if (how & R_MOVED)
		for (p = o->p0; p < o->p1; p++)
			amax(&P[p].me, e);
	if (how & R_HIDE)
		for (p = o->p0; p < o->p1; p++)
			amax(&P[p].he[!!(how & R_HIDE_TRACKER)], e);
	if (o->inflight)
		st(&S->fl[o->slot].state, 0);
	if (o->clearing)
		inc(&S->cf);
	return e;
}

/* Region churn: stamps, overlap with clears, attribution */
struct cop {
	struct rop r;
	uint64_t cf0;
	int kind;
};

/* Kinds that may hide a page's soft-dirty state while they run, legitimately */
static bool hides(int kind)
{
	return kind == K_MREMAP || kind == K_DONTNEED || kind == K_FREE ||
	       kind == K_REMOVE || kind == K_REMAP;
}

static void churn_begin(struct cop *c, int kind, uintptr_t s, uintptr_t e)
{
	c->kind = kind;
	inc(&S->chs);
	c->cf0 = ld(&S->cf);
	rop_begin(&c->r, s, e, false, hides(kind), 1u << kind);
}

static void churn_end(struct cop *c, int how, int err)
{
	struct kstat *k = &S->k[c->kind];

	rop_end(&c->r, how, 0, NULL, 0, -1);
	inc(&k->ops);
	if (err) {
		inc(&k->fails);
		k->last_err = err;
	}
	if (ld(&S->cs) > c->cf0)
		inc(&k->overlap_clear);
	inc(&S->chf);
}

/* ------------------------------------------------------------ the ioctl */

static long sd_call(int fd, unsigned long cmd, void *start, long len, loff_t *vec,
		    long vec_len, int flags)
{
	struct pagemap_sd_args a = {
		.start = start, .len = (int)len, .vec = vec,
		.vec_len = (int)vec_len, .flags = flags,
	};
	long r = ioctl(fd, cmd, &a);

	return r < 0 ? -errno : r;
}

static const char *cmd_name(unsigned long cmd)
{
	switch (cmd) {
	case PAGEMAP_SD_GET: return "GET";
	case PAGEMAP_SD_CLEAR: return "CLEAR";
	case PAGEMAP_SD_GET_AND_CLEAR: return "GET_AND_CLEAR";
	default: return "unknown";
	}
}

/*
 * Well-formed reports: ascending, unique, page aligned, inside the range,
 * no more than vec_len. Returns NULL or what is wrong.
 */
static const char *bad_reports(const loff_t *v, long n, uint64_t alen, long vec_len,
			       char *buf, size_t size)
{
	long i;

	if (n > vec_len) {
		snprintf(buf, size, "returned %ld > vec_len %ld", n, vec_len);
		return buf;
	}
	for (i = 0; i < n; i++) {
		if (v[i] < 0 || (uint64_t)v[i] >= alen) {
			snprintf(buf, size, "entry %ld: offset %#llx outside the range of %#llx bytes",
				 i, (unsigned long long)v[i], (unsigned long long)alen);
			return buf;
		}
		if (v[i] % ps) {
			snprintf(buf, size, "entry %ld: offset %#llx not page aligned",
				 i, (unsigned long long)v[i]);
			return buf;
		}
		if (i && v[i] <= v[i - 1]) {
			snprintf(buf, size, "entry %ld: offset %#llx %s %#llx before it",
				 i, (unsigned long long)v[i],
				 v[i] == v[i - 1] ? "duplicates" : "is below",
				 (unsigned long long)v[i - 1]);
			return buf;
		}
	}
	return NULL;
}

/* ------------------------------------------------------------- failures */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

struct failset {
	long count;
	char lines[MAX_FAIL_LINES][320];
};

__attribute__((format(printf, 2, 3)))
static void fail(struct failset *f, const char *fmt, ...)
{
	va_list ap;
	long i;

	pthread_mutex_lock(&out_lock);
	i = f->count++;
	if (i < MAX_FAIL_LINES) {
		va_start(ap, fmt);
		vsnprintf(f->lines[i], sizeof(f->lines[i]), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&out_lock);
}

static struct failset f_fuzz[5], f_argptr, f_reports, f_tracker, f_get, f_sweep,
	f_lost, f_content, f_perm, f_esrch;

/* TAP */
static int tap_no, tap_failed;

__attribute__((format(printf, 3, 4)))
static void tap(bool ok, const char *skip, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++tap_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (skip)
		printf(" # SKIP %s", skip);
	printf("\n");
	if (!ok)
		tap_failed = 1;
	fflush(stdout);
}

static void tap_fails(const struct failset *f)
{
	long i;

	for (i = 0; i < f->count && i < MAX_FAIL_LINES; i++)
		printf("#   %s\n", f->lines[i]);
	if (f->count > MAX_FAIL_LINES)
		printf("#   ... and %ld more\n", f->count - MAX_FAIL_LINES);
}

static void kinds_str(uint32_t mask, char *buf, size_t size)
{
	size_t o = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < NR_BITS && o < size; i++)
		if (mask & (1u << i))
			o += snprintf(buf + o, size - o, "%s%s", o ? "," : "", kind_name[i]);
	if (!o)
		snprintf(buf, size, "none");
}

static const char *part_of(long p)
{
	if (p < S->a_pages)
		return "thp";
	if (p < S->a_pages + S->b_pages)
		return "shared";
	return "private";
}

/*
 * The last clearing calls over the region, so that a miss's report can name
 * the calls that overlapped the one that missed.
 */
#define NR_RECENT	64
struct recent {
	uint64_t b, e, kb;	/* kb: when its vec was freed, 0: never */
	long p0, p1, ret;
	const char *who;
};
static struct recent recent[NR_RECENT];
static long recent_n;

static void recent_add(const char *who, uint64_t b, uint64_t e, long p0, long p1, long ret,
		       uint64_t kb)
{
	pthread_mutex_lock(&out_lock);
	recent[recent_n++ % NR_RECENT] = (struct recent){ b, e, kb, p0, p1, ret, who };
	pthread_mutex_unlock(&out_lock);
}

/* Those that ran at some time in [b, e] */
static void recent_str(uint64_t b, uint64_t e, char *buf, size_t size)
{
	size_t o = 0;
	long i;

	buf[0] = '\0';
	pthread_mutex_lock(&out_lock);
	for (i = recent_n > NR_RECENT ? recent_n - NR_RECENT : 0; i < recent_n && o < size; i++) {
		const struct recent *r = &recent[i % NR_RECENT];

		if (r->e < b || r->b > e)
			continue;
		o += snprintf(buf + o, size - o, "%s%s [%ld,%ld) [%" PRIu64 ",%" PRIu64 "] ret %ld",
			      o ? "; " : "", r->who, r->p0, r->p1, r->b, r->e, r->ret);
		if (r->kb && o < size)
			o += snprintf(buf + o, size - o, " vec freed at %" PRIu64, r->kb);
	}
	pthread_mutex_unlock(&out_lock);
	if (!o)
		snprintf(buf, size, "none");
}

/* ---------------------------------------------------- the mid-run check */

static long get_checks[2], get_pages_demanded, get_excused, get_hidden;
static bool get_injected;

/*
 * A GET or GET_AND_CLEAR over part of the region reported @v[0..n) for
 * [start, start+alen), and began at stamp @b. A page whose last write ended
 * before @b, began after every clear and report that could have consumed it,
 * and that no other operation was working on, must be among them: up to the
 * last entry if vec was full, or if vec may have gone bad during the call
 * (@risky: then the pages after the last one that reached user space may
 * have been cleared and marked dirty again). For GET_AND_CLEAR this runs
 * after its own reports were recorded.
 *
 * The caller (@tracker, or the fuzzer) is not excused by its own calls that
 * hid pages (R_HIDE), only by the other's, which may have ended before this
 * check (so the in-flight table no longer shows them) yet after @b.
 */
static void check_call(const char *who, bool tracker, unsigned long cmd, uintptr_t start,
		       uint64_t alen, const loff_t *v, long n, long vec_len, int flags, uint64_t b,
		       bool risky)
{
	uint64_t limit = alen;
	long p0, p1, p, j = 0;
	bool missed = false;

	if ((n > 0 && n >= vec_len) || risky)
		limit = n > 0 ? (uint64_t)v[n - 1] + 1 : 0;
	long fl0[NR_FLIGHT], fl1[NR_FLIGHT], nfl = 0, k;

	/* What was in flight: read before any record (see rop_end()) */
	for (k = 0; k < NR_FLIGHT; k++) {
		if (ld(&S->fl[k].state) != 2)
			continue;
		fl0[nfl] = S->fl[k].p0;
		fl1[nfl] = S->fl[k].p1;
		/* Still the same operation's range? Else it ended meanwhile */
		if (ld(&S->fl[k].state) == 2)
			nfl++;
	}
	page_span(start, start + alen, &p0, &p1);
	__atomic_add_fetch(&get_checks[cmd == PAGEMAP_SD_GET], 1, __ATOMIC_RELAXED);
	for (p = p0; p < p1; p++) {
		uint64_t off = S->base + p * ps - start, fe, re, wb, we;
		bool reported;

		if (off >= limit)
			break;
		while (j < n && (uint64_t)v[j] < off)
			j++;
		reported = j < n && (uint64_t)v[j] == off;
		for (k = 0; k < nfl && (p < fl0[k] || p >= fl1[k]); k++)
			;
		if (k < nfl || ld(&P[p].me) > b) {
			__atomic_add_fetch(&get_excused, 1, __ATOMIC_RELAXED);
			continue;
		}
		fe = ld(&S->global_fe);
		if (ld(&P[p].fe) > fe)
			fe = ld(&P[p].fe);
		re = ld(&P[p].re);
		we = ld(&P[p].we);
		wb = ld(&P[p].wb);
		if (!wb || wb > we || we > b || wb <= fe || wb <= re)
			continue;
		__atomic_add_fetch(&get_pages_demanded, 1, __ATOMIC_RELAXED);
		if (reported && opt.inject == INJ_GET &&
		    !__atomic_exchange_n(&get_injected, true, __ATOMIC_SEQ_CST)) {
			reported = false;
			printf("# inject: dropping page %ld from a %s %s result\n", p, who,
			       cmd_name(cmd));
		}
		/* Hidden by the other caller's call (see above): excused, counted */
		if (!reported && ld(&P[p].he[!tracker]) > b) {
			__atomic_add_fetch(&get_hidden, 1, __ATOMIC_RELAXED);
			continue;
		}
		if (!reported) {
			char kinds[200];

			kinds_str(ld32(&P[p].churn), kinds, sizeof(kinds));
			fail(&f_get, "%s %s%s missed page %ld (%s part): written [%" PRIu64 ",%" PRIu64
			     "], last report ended %" PRIu64 ", last clear %" PRIu64 ", call began %" PRIu64
			     "; since last report: %s; the call: pages [%ld, %ld), returned %ld of vec_len %ld, "
			     "last page reported %ld", who, cmd_name(cmd),
			     flags ? "(NO_REUSED)" : "", p, part_of(p), wb, we, re, fe, b, kinds, p0, p1, n,
			     vec_len, n > 0 ? ((long)(start + (uint64_t)v[n - 1]) - (long)S->base) / (long)ps : -1L);
			missed = true;
		}
	}
	if (missed) {
		char calls[300];

		recent_str(b, tick(), calls, sizeof(calls));
		fail(&f_get, "%s %s: clearing calls that overlapped it: %s", who, cmd_name(cmd), calls);
	}
}

/* -------------------------------------------------------- vec killers */

enum { KILL_MUNMAP, KILL_REPLACE, KILL_MREMAP, NR_KILL };

/*
 * A vec killer frees a caller's vec while the caller's ioctl may be writing
 * to it: munmap (then a PROT_NONE placeholder, so that no other mapping
 * lands there while the call may still write), a PROT_NONE mapping over it,
 * or mprotect PROT_NONE and mremap to a parking spot (where the caller can
 * still read what reached it; the address never goes free). Either at a random moment (on one vCPU: when the call blocks or is
 * preempted, or after it), or with userfaultfd exactly when the kernel first
 * touches the part of vec that is not populated yet: the copy then waits for
 * the killer, which frees the vec and wakes it.
 */
struct killer {
	uint32_t state;		/* 0 idle, 1 armed, 2 done, 3 quit */
	uint32_t call_done;
	int mode, uffd, w;
	char *addr, *park, *home;
	size_t len;
	long uffd_from;		/* bytes populated before the userfaultfd part; -1: none */
	unsigned delay;
	uint64_t kb, ke;
	int err;
	bool collision, faulted;
	uint64_t armed, midcall, late, collisions, uffd_armed, uffd_faults;
	pthread_t thread;
};

static void uffd_range(int uffd, unsigned long cmd, char *a, size_t len)
{
	struct uffdio_range r = { .start = (uintptr_t)a, .len = len };

	ioctl(uffd, cmd, &r);
}

static void *killer_fn(void *arg)
{
	struct killer *k = arg;
	uint32_t s;
	unsigned i;

	for (;;) {
		while ((s = ld32(&k->state)) != 1) {
			if (s == 3)
				return NULL;
			futex_wait(&k->state, s);
		}
		k->faulted = false;
		WHERE(k->w, "armed");
		if (k->uffd_from >= 0) {
			/* Wait for the kernel's first touch of the unpopulated part */
			while (!ld32(&k->call_done)) {
				struct pollfd pfd = { .fd = k->uffd, .events = POLLIN };
				struct uffd_msg m;

				if (poll(&pfd, 1, 5) > 0 &&
				    read(k->uffd, &m, sizeof(m)) == sizeof(m) &&
				    m.event == UFFD_EVENT_PAGEFAULT) {
					k->faulted = true;
					break;
				}
			}
		} else {
			for (i = 0; i < k->delay; i++)
				__asm__ __volatile__("" ::: "memory");
		}
		k->kb = tick();
		k->err = 0;
		WHERE(k->w, "freeing the vec");
		switch (k->mode) {
		case KILL_MUNMAP:
			if (munmap(k->addr, k->len))
				k->err = errno;
			else if (mmap(k->addr, k->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
				      MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED)
				k->collision = true;
			break;
		case KILL_REPLACE:
			if (mmap(k->addr, k->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
				 MAP_FIXED, -1, 0) == MAP_FAILED)
				k->err = errno;
			break;
		case KILL_MREMAP: {
			/*
			 * Never let the address go free: another thread's mmap()
			 * could take it, the kernel's remaining copies would land
			 * there, and the parked vec would read as a report that
			 * omits pages the call cleared (with no canaries left,
			 * a one-entry report of offset 0). So revoke access first
			 * (the copies fail from here on), then move the pages
			 * and leave the PROT_NONE mapping behind.
			 * Registering part of it split the mapping: one move per VMA.
			 */
			size_t cut = k->uffd_from > 0 ? (size_t)k->uffd_from : 0;
			int dontunmap = MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP_;

			if (mprotect(k->addr, k->len, PROT_NONE)) {
				k->err = errno;
				break;
			}
			if ((cut && mremap(k->addr, cut, cut, dontunmap, k->park) == MAP_FAILED) ||
			    mremap(k->addr + cut, k->len - cut, k->len - cut, dontunmap,
				   k->park + cut) == MAP_FAILED ||
			    mprotect(k->park, k->len, PROT_READ | PROT_WRITE))
				die("moving a doomed vec away: %s", strerror(errno));
			/* The caller reads the parked vec: no more missing faults there */
			if (k->uffd_from >= 0)
				uffd_range(k->uffd, UFFDIO_UNREGISTER, k->park + k->uffd_from,
					   k->len - k->uffd_from);
			break;
		}
		}
		/* The waiting copy retries and finds the vec gone */
		if (k->uffd_from >= 0) {
			if (k->err)	/* still there: let faults be ordinary */
				uffd_range(k->uffd, UFFDIO_UNREGISTER, k->addr + k->uffd_from,
					   k->len - k->uffd_from);
			uffd_range(k->uffd, UFFDIO_WAKE, k->addr + k->uffd_from,
				   k->len - k->uffd_from);
		}
		k->ke = tick();
		WHERE(k->w, "done");
		__atomic_store_n(&k->state, 2, __ATOMIC_SEQ_CST);
		futex_wake(&k->state);
	}
}

/*
 * A fresh vec of @entries entries, followed by a guard page, at the
 * killer's home: always the same reserved place, never one a churned
 * mapping had (a fuzzed vec may still point there).
 */
static char *doomed_alloc(struct killer *k, size_t entries, size_t *len)
{
	size_t l = (entries * sizeof(loff_t) + ps - 1) / ps * ps;

	map_or_die(k->home, l, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	*len = l;
	return k->home;
}

/*
 * Arm @k to free [addr, addr+len) during the next call (killer_go() lets it
 * go). @uffd_pages >= 0: only that many pages of it are meant to be
 * populated (the caller touches no more), the rest is registered with
 * userfaultfd and freed when the kernel faults there. Returns the bytes the
 * caller may touch.
 */
static size_t killer_arm(struct killer *k, int mode, char *addr, size_t len, long uffd_pages,
			 unsigned delay)
{
	k->mode = mode;
	k->addr = addr;
	k->len = len;
	k->delay = delay;
	k->collision = false;
	k->uffd_from = -1;
	k->armed++;
	if (uffd_pages >= 0 && k->uffd >= 0 && (size_t)uffd_pages * ps < len) {
		struct uffdio_register reg = {
			.range = { .start = (uintptr_t)addr + uffd_pages * ps,
				   .len = len - uffd_pages * ps },
			.mode = UFFDIO_REGISTER_MODE_MISSING,
		};
		struct uffd_msg m;

		while (read(k->uffd, &m, sizeof(m)) > 0)
			;	/* nothing stale */
		if (ioctl(k->uffd, UFFDIO_REGISTER, &reg) == 0) {
			k->uffd_from = uffd_pages * ps;
			k->uffd_armed++;
		}
	}
	return k->uffd_from >= 0 ? (size_t)k->uffd_from : len;
}

/* Let it go: right before the call */
static void killer_go(struct killer *k)
{
	__atomic_store_n(&k->call_done, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&k->state, 1, __ATOMIC_SEQ_CST);
	futex_wake(&k->state);
}

/* Wait for the killer; @b, @e: the call's stamps. Returns where vec is now. */
static char *killer_done(struct killer *k, uint64_t b, uint64_t e)
{
	__atomic_store_n(&k->call_done, 1, __ATOMIC_SEQ_CST);
	while (ld32(&k->state) != 2)
		futex_wait(&k->state, 1);
	__atomic_store_n(&k->state, 0, __ATOMIC_SEQ_CST);
	if (k->faulted)
		k->uffd_faults++;
	if (k->kb > b && k->ke < e)
		k->midcall++;
	else if (k->kb > e)
		k->late++;
	if (k->collision)
		k->collisions++;
	if (k->err)
		return k->addr;
	return k->mode == KILL_MREMAP ? k->park : NULL;
}

/*
 * After use: unmap the doomed vec wherever it is and restore the parking
 * spot. MAP_FIXED over the home also takes back the address if another
 * thread's mmap() took it in the instant KILL_MUNMAP left it free (counted
 * as a collision): a churner whose mapping lands in a reserved range
 * forgets it at once and never touches it (in_reserved()), so the home is
 * still ours to replace.
 */
static void doomed_free(struct killer *k, size_t len)
{
	if (k->mode == KILL_MREMAP && !k->err &&
	    mmap(k->park, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0) == MAP_FAILED)
		die("restore parking: %s", strerror(errno));
	map_or_die(k->home, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
}

/* Its home and parking spot: reserved before anything churns */
static void killer_setup(struct killer *k, size_t entries)
{
	size_t l = (entries * sizeof(loff_t) + ps - 1) / ps * ps;

	k->home = map_or_die(NULL, l + ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
	reserve(k->home, l + ps);
	k->park = map_or_die(NULL, l, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
	reserve(k->park, l);
}

static void killer_start(struct killer *k, int w)
{
	struct uffdio_api api = { .api = UFFD_API };

	k->w = w;
	k->uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (k->uffd >= 0 && ioctl(k->uffd, UFFDIO_API, &api)) {
		close(k->uffd);
		k->uffd = -1;
	}
	if (pthread_create(&k->thread, NULL, killer_fn, k))
		die("pthread_create");
}

static struct killer fz_killer, tr_killer;

/* ------------------------------------------------------------ the target */

static int self_fd = -1;

static void smaps_rollup(pid_t pid);

static void write_page(long p)
{
	uint64_t wb, we;

	wb = tick();
	st(&P[p].wb, wb);
	inc(&S->ws);
	__atomic_store_n((uint64_t *)(S->base + p * ps), wb, __ATOMIC_RELAXED);
	we = tick();
	st(&P[p].we, we);
	inc(&S->wf);
}

static void segv_handler(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	struct timespec t = { 0, 20000 };

	(void)uc;
	if (S && a >= S->base && a < S->base + S->npages * ps) {
		/* The RO dance: wait for RW to come back, then retry the store */
		__atomic_add_fetch(&S->write_faults, 1, __ATOMIC_RELAXED);
		nanosleep(&t, NULL);
		return;
	}
	signal(sig, SIG_DFL);
}

static void *writer_fn(void *unused)
{
	struct rng r = rng_for(1);
	long n = 0, p;

	(void)unused;
	while (!__atomic_load_n(&S->stop_writer, __ATOMIC_SEQ_CST)) {
		p = rndn(&r, S->npages);
		WHERE(W_WRITER, "writing");
		/* Dekker with the mremap churn: never write a page that is away */
		__atomic_store_n(&S->writer_cur, p, __ATOMIC_SEQ_CST);
		if (ld32(&P[p].away)) {
			__atomic_store_n(&S->writer_cur, -1, __ATOMIC_SEQ_CST);
			sched_yield();
			continue;
		}
		if (rndn(&r, 4) == 0) {
			/* A read first: maps shared pages clean (fault-around too) */
			(void)*(volatile uint64_t *)(S->base + p * ps + 8);
			inc(&S->reads);
		} else {
			write_page(p);
			inc(&S->writes);
		}
		__atomic_store_n(&S->writer_cur, -1, __ATOMIC_SEQ_CST);
		if (++n % 16 == 0) {
			WHERE(W_WRITER, "sleeping");
			usleep_(200 + rndn(&r, 400));
		}
		if (n % 512 == 0)
			smaps_rollup(getpid());
	}
	return NULL;
}

/*
 * A random page range inside one part of the region: [*p0, *p1); THP
 * aligned: a 2 MiB piece of the THP or the shared part.
 */
static int pick_part(struct rng *r, long *p0, long *p1, long max, bool thp_aligned)
{
	long lo[3] = { 0, S->a_pages, S->a_pages + S->b_pages };
	long hi[3] = { S->a_pages, S->a_pages + S->b_pages, S->npages };
	int part = rndn(r, thp_aligned ? 2 : 3);
	long n, hp = THP_SIZE / ps;

	if (thp_aligned) {
		long units = (hi[part] - lo[part]) / hp;

		if (units < 1)
			units = 1;
		*p0 = lo[part] + rndn(r, units) * hp;
		*p1 = *p0 + hp;
		if (*p1 > hi[part])
			*p1 = hi[part];
		return part;
	}
	n = 1 + rndn(r, max);
	if (n > hi[part] - lo[part])
		n = hi[part] - lo[part];
	*p0 = lo[part] + rndn(r, hi[part] - lo[part] - n + 1);
	*p1 = *p0 + n;
	return part;
}

static char *pg(long p)
{
	return (char *)(S->base + p * ps);
}

static int madv(long p0, long p1, int advice)
{
	return madvise(pg(p0), (p1 - p0) * ps, advice) ? errno : 0;
}

static int mprot(long p0, long p1, int prot)
{
	return mprotect(pg(p0), (p1 - p0) * ps, prot) ? errno : 0;
}

static pid_t churn_children[64];
static int nchurn_children;
static pthread_mutex_t children_lock = PTHREAD_MUTEX_INITIALIZER;

static void reap_children(bool all)
{
	int i, st_;

	for (i = 0; i < nchurn_children; i++) {
		if (waitpid(churn_children[i], &st_, all ? 0 : WNOHANG) == churn_children[i] ||
		    (all && errno == ECHILD)) {
			churn_children[i] = churn_children[--nchurn_children];
			i--;
		}
	}
}

static void fork_child(struct rng *r)
{
	pid_t pid;
	struct timespec t = { 0, (long)(rndn(r, 3000) + 100) * 1000 };

	pthread_mutex_lock(&children_lock);
	reap_children(false);
	if (nchurn_children >= 64)
		reap_children(true);
	pid = fork();
	if (pid == 0) {
		nanosleep(&t, NULL);
		_exit(0);
	}
	if (pid > 0) {
		churn_children[nchurn_children++] = pid;
		inc(&S->forks);
	}
	pthread_mutex_unlock(&children_lock);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return errno;
	if (write(fd, s, strlen(s)) < 0)
		ret = errno;
	close(fd);
	return ret;
}

static void region_churn_one(struct rng *r, int kind)
{
	struct cop c;
	long p0, p1, i, hp = THP_SIZE / ps;
	int err = 0, how = R_NONE, part;

	switch (kind) {
	case K_EXEC:
	case K_RO:
		pick_part(r, &p0, &p1, 96, false);
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		err = mprot(p0, p1, kind == K_EXEC ? PROT_READ | PROT_WRITE | PROT_EXEC : PROT_READ);
		usleep_(rndn(r, 1500));
		if (mprot(p0, p1, PROT_READ | PROT_WRITE))
			die("mprotect back to RW: %s", strerror(errno));
		break;
	case K_PAGEOUT:
		pick_part(r, &p0, &p1, 256, false);
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		err = madv(p0, p1, rndn(r, 4) ? MADV_PAGEOUT : MADV_COLD);
		break;
	case K_THP:
		part = pick_part(r, &p0, &p1, 2 * hp, false);
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		err = madv(p0, p1, part == 2 ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
		usleep_(rndn(r, 3000));
		madv(p0, p1, part == 2 ? MADV_NOHUGEPAGE : MADV_HUGEPAGE);
		break;
	case K_COLLAPSE:
		pick_part(r, &p0, &p1, 0, true);
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		err = madv(p0, p1, MADV_COLLAPSE);
		break;
	case K_FORK:
		churn_begin(&c, kind, S->base, S->base + S->npages * ps);
		fork_child(r);
		break;
	case K_NEIGHBOUR: {
		long n = 1 + rndn(r, S->nb_pages);
		char *tmp = mmap(NULL, n * ps, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		churn_begin(&c, kind, 0, 0);
		if (tmp == MAP_FAILED) {
			err = errno;
			break;
		}
		if (in_reserved((uintptr_t)tmp, n * ps)) {
			/* It landed where the region's pieces go: leave it alone */
			err = EEXIST;
			break;
		}
		madvise(tmp, n * ps, MADV_NOHUGEPAGE);
		if (rndn(r, 4) == 0)
			tmp[0] = 1;	/* with an anon_vma: no merge */
		if (mremap(tmp, n * ps, n * ps, MREMAP_MAYMOVE | MREMAP_FIXED,
			   (void *)S->nb) == MAP_FAILED) {
			err = errno;
			munmap(tmp, n * ps);
			break;
		}
		usleep_(rndn(r, 3000));
		if (mmap((void *)S->nb, S->nb_pages * ps, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			die("neighbour placeholder: %s", strerror(errno));
		break;
	}
	case K_MREMAP: {
		long n;
		bool moved = false;

		pick_part(r, &p0, &p1, S->park_hi > S->park ? (S->park_hi - S->park) / ps : 1, false);
		n = p1 - p0;
		for (i = p0; i < p1; i++)
			__atomic_store_n(&P[i].away, 1, __ATOMIC_SEQ_CST);
		for (;;) {
			long cur = __atomic_load_n(&S->writer_cur, __ATOMIC_SEQ_CST);

			if (cur < p0 || cur >= p1)
				break;
			sched_yield();
		}
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		if (mremap(pg(p0), n * ps, n * ps, MREMAP_MAYMOVE | MREMAP_FIXED,
			   (void *)S->park) == MAP_FAILED) {
			err = errno;
		} else {
			moved = true;
			/* Fill the hole: nothing else may map there meanwhile */
			mmap(pg(p0), n * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
			     MAP_FIXED_NOREPLACE, -1, 0);
			usleep_(rndn(r, 2000));
		}
		if (moved) {
			if (mremap((void *)S->park, n * ps, n * ps, MREMAP_MAYMOVE | MREMAP_FIXED,
				   pg(p0)) == MAP_FAILED)
				die("mremap back: %s", strerror(errno));
			if (mmap((void *)S->park, S->park_hi - S->park, PROT_NONE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
				die("parking placeholder: %s", strerror(errno));
		}
		churn_end(&c, R_MOVED, err);
		for (i = p0; i < p1; i++)
			__atomic_store_n(&P[i].away, 0, __ATOMIC_SEQ_CST);
		return;
	}
	case K_MIGRATE:
		if (S->numa_nodes >= 2) {
			void *pages[64];
			int nodes[64], status[64];
			long cnt = 1 + rndn(r, 64);

			pick_part(r, &p0, &p1, cnt, false);
			cnt = p1 - p0;
			for (i = 0; i < cnt; i++) {
				pages[i] = pg(p0 + i);
				nodes[i] = rndn(r, S->numa_nodes);
			}
			churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
			if (rndn(r, 3)) {
				if (syscall(SYS_move_pages, 0, cnt, pages, nodes, status,
					    MPOL_MF_MOVE_) < 0)
					err = errno;
			} else {
				unsigned long mask = 1UL << rndn(r, S->numa_nodes);

				if (syscall(SYS_mbind, pg(p0), cnt * ps, MPOL_BIND_, &mask,
					    sizeof(mask) * 8, MPOL_MF_MOVE_) < 0)
					err = errno;
				syscall(SYS_mbind, pg(p0), cnt * ps, MPOL_DEFAULT_, NULL, 0, 0);
			}
		} else if (S->have_compact) {
			static double last;

			/* Compacting all of memory is slow: now and then only */
			if (now() - last < 5) {
				inc(&S->k[kind].skipped);
				return;
			}
			last = now();
			churn_begin(&c, kind, S->base, S->base + S->npages * ps);
			err = write_str("/proc/sys/vm/compact_memory", "1");
		} else {
			inc(&S->k[kind].skipped);
			return;
		}
		break;
	case K_KSM:
		if (!S->have_ksm) {
			inc(&S->k[kind].skipped);
			return;
		}
		pick_part(r, &p0, &p1, 256, false);
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		err = madv(p0, p1, MADV_MERGEABLE);
		usleep_(rndn(r, 5000));
		madv(p0, p1, MADV_UNMERGEABLE);
		break;
	case K_DONTNEED:
		pick_part(r, &p0, &p1, 32, false);
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		err = madv(p0, p1, MADV_DONTNEED);
		how = R_FORGET | R_ZERO;
		break;
	case K_FREE:
		do
			part = pick_part(r, &p0, &p1, 32, false);
		while (part == 1);
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		err = madv(p0, p1, MADV_FREE);
		how = R_FORGET | R_ZERO;
		break;
	case K_REMAP: {
		/* A fresh mapping over a piece: VM_SOFTDIRTY again, content zero */
		static const int fl[3] = { MAP_PRIVATE, MAP_SHARED, MAP_PRIVATE };

		part = pick_part(r, &p0, &p1, 64, false);
		if (part == 1) {
			/* All of the shared part: a new object, still collapsible */
			p0 = S->a_pages;
			p1 = S->a_pages + S->b_pages;
		}
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		if (mmap(pg(p0), (p1 - p0) * ps, PROT_READ | PROT_WRITE,
			 fl[part] | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			die("mmap over the region: %s", strerror(errno));
		madv(p0, p1, part == 0 ? MADV_HUGEPAGE : part == 2 ? MADV_NOHUGEPAGE : MADV_NORMAL);
		how = R_FORGET | R_ZERO;
		break;
	}
	case K_REMOVE:
		p0 = S->a_pages + rndn(r, S->b_pages);
		p1 = p0 + 1 + rndn(r, 16);
		if (p1 > S->a_pages + S->b_pages)
			p1 = S->a_pages + S->b_pages;
		churn_begin(&c, kind, (uintptr_t)pg(p0), (uintptr_t)pg(p1));
		err = madv(p0, p1, MADV_REMOVE);
		how = R_FORGET | R_ZERO;
		break;
	default:
		return;
	}
	churn_end(&c, how, err);
}

static const int region_kinds[] = {
	K_EXEC, K_RO, K_PAGEOUT, K_THP, K_COLLAPSE, K_FORK, K_NEIGHBOUR, K_MREMAP,
	K_MIGRATE, K_KSM, K_DONTNEED, K_FREE, K_REMOVE, K_REMAP,
};

static void *region_churn_fn(void *unused)
{
	struct rng r = rng_for(2);
	int kinds[NR_KINDS], n = 0;
	unsigned i;

	(void)unused;
	for (i = 0; i < sizeof(region_kinds) / sizeof(region_kinds[0]); i++)
		if (on(region_kinds[i]))
			kinds[n++] = region_kinds[i];
	if (!n)
		return NULL;
	while (!__atomic_load_n(&S->stop_churn, __ATOMIC_SEQ_CST)) {
		int k = kinds[rndn(&r, n)];

		double t = now();

		WHERE(W_RCHURN, kind_name[k]);
		region_churn_one(&r, k);
		WHERE(W_RCHURN, "between operations");
		t = now() - t;
		S->k[k].usec += t * 1e6;
		pthread_mutex_lock(&children_lock);
		reap_children(false);
		pthread_mutex_unlock(&children_lock);
		/* A duty cycle: slow operations (slower kernels) get longer pauses */
		usleep_(opt.churn_pause_us / 2 + rndn(&r, opt.churn_pause_us) + (long)(3e6 * t));
	}
	return NULL;
}

/* Churn elsewhere: each thread owns the slots i with i % nthreads == id */
struct ew {
	int id, n;
	pthread_t t;
};

static void slot_set(int i, uintptr_t a, uint64_t len)
{
	__atomic_store_n(&S->slots[i].addr, a, __ATOMIC_SEQ_CST);
	__atomic_store_n(&S->slots[i].len, len, __ATOMIC_SEQ_CST);
}

static void *elsewhere_fn(void *arg)
{
	struct ew *w = arg;
	struct rng r = rng_for(100 + w->id);
	static const int advs[] = {
		MADV_DONTNEED, MADV_FREE, MADV_PAGEOUT, MADV_COLD, MADV_HUGEPAGE,
		MADV_NOHUGEPAGE, MADV_WILLNEED, MADV_REMOVE, MADV_DONTNEED, MADV_FREE,
		MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_COLLAPSE,
	};
	static const int prots[] = {
		PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE,
		PROT_READ | PROT_WRITE | PROT_EXEC,
	};

	while (!__atomic_load_n(&S->stop_churn, __ATOMIC_SEQ_CST)) {
		int i = w->id + w->n * rndn(&r, NSLOTS / w->n);

		double t0 = now();

		WHERE(W_ELSE + (w->id & 7), "working on its mappings");
		uintptr_t a = S->slots[i].addr;
		uint64_t len = S->slots[i].len, np = len / ps, op = rndn(&r, 100);
		void *q;

		if (i >= NSLOTS)
			continue;
		if (!a) {
			uint64_t n = 1 + rndn(&r, 512);
			int fl = rndn(&r, 3) ? MAP_PRIVATE : MAP_SHARED;

			q = mmap(NULL, n * ps, prots[rndn(&r, 4)], fl | MAP_ANONYMOUS, -1, 0);
			if (q == MAP_FAILED)
				continue;
			if (in_reserved((uintptr_t)q, n * ps))
				continue;	/* never touch it again */
			slot_set(i, (uintptr_t)q, n * ps);
			inc(&S->slot_ops[0]);
		} else if (op < 15) {
			slot_set(i, 0, 0);
			munmap((void *)a, len);
			inc(&S->slot_ops[1]);
		} else if (op < 30) {
			uint64_t n = 1 + rndn(&r, 768);
			int fl = rndn(&r, 2) ? MREMAP_MAYMOVE : 0;

			q = mremap((void *)a, len, n * ps, fl);
			if (q != MAP_FAILED) {
				if (in_reserved((uintptr_t)q, n * ps))
					slot_set(i, 0, 0);
				else
					slot_set(i, (uintptr_t)q, n * ps);
			}
			inc(&S->slot_ops[2]);
		} else if (op < 45) {
			uint64_t o = rndn(&r, np);

			mprotect((void *)(a + o * ps), (1 + rndn(&r, np - o)) * ps,
				 prots[rndn(&r, 4)]);
			inc(&S->slot_ops[3]);
		} else if (op < 70) {
			uint64_t o = rndn(&r, np);

			madvise((void *)(a + o * ps), (1 + rndn(&r, np - o)) * ps,
				advs[rndn(&r, sizeof(advs) / sizeof(advs[0]))]);
			inc(&S->slot_ops[4]);
		} else if (op < 99) {
			/* touch: MADV_POPULATE_WRITE faults in without risking SIGSEGV */
			uint64_t o = rndn(&r, np);

			madvise((void *)(a + o * ps), (1 + rndn(&r, 16 < np - o ? 16 : np - o)) * ps,
				23 /* MADV_POPULATE_WRITE */);
			inc(&S->slot_ops[5]);
		} else {
			fork_child(&r);
			inc(&S->slot_ops[6]);
		}
		t0 = now() - t0;
		__atomic_add_fetch(&S->slot_usec, (uint64_t)(t0 * 1e6), __ATOMIC_RELAXED);
		usleep_(opt.churn_pause_us / 2 + rndn(&r, opt.churn_pause_us) + (long)(6e6 * t0));
	}
	return NULL;
}

static pthread_t writer_t, region_churn_t;
static struct ew ews[16];
static int news;

static void target_start(void)
{
	int i;

	if (pthread_create(&writer_t, NULL, writer_fn, NULL))
		die("pthread_create");
	if (pthread_create(&region_churn_t, NULL, region_churn_fn, NULL))
		die("pthread_create");
	news = on(K_ELSEWHERE) ? opt.threads_churn : 0;
	if (news > 16)
		news = 16;
	for (i = 0; i < news; i++) {
		ews[i].id = i;
		ews[i].n = news;
		if (pthread_create(&ews[i].t, NULL, elsewhere_fn, &ews[i]))
			die("pthread_create");
	}
}

/*
 * Read a small file into @buf, NUL terminated. No stdio: malloc() in a
 * thread maps an arena, and a mapping made while the churn runs may land
 * where a fuzzed vec points.
 */
static ssize_t slurp(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n, got = 0;

	buf[0] = '\0';
	if (fd < 0)
		return -1;
	while (got < (ssize_t)size - 1 && (n = read(fd, buf + got, size - 1 - got)) > 0)
		got += n;
	close(fd);
	buf[got] = '\0';
	return got;
}

static unsigned long field_kb(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoul(p + strlen(key), NULL, 10) : 0;
}

static void smaps_rollup(pid_t pid)
{
	char path[64], buf[2048];

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	if (slurp(path, buf, sizeof(buf)) <= 0)
		return;
	S->thp_pages_seen = field_kb(buf, "AnonHugePages:") * 1024 / ps;
	amax(&S->thp_max, S->thp_pages_seen);
	S->shmem_pmd_seen = field_kb(buf, "ShmemPmdMapped:") * 1024 / ps;
	amax(&S->shmem_pmd_max, S->shmem_pmd_seen);
}

/* Churn first: the writer's last writes see no churn, only the tracker */
static void target_stop_churn(void)
{
	int i;

	smaps_rollup(getpid());
	__atomic_store_n(&S->stop_churn, 1, __ATOMIC_SEQ_CST);
	pthread_join(region_churn_t, NULL);
	for (i = 0; i < news; i++)
		pthread_join(ews[i].t, NULL);
	pthread_mutex_lock(&children_lock);
	reap_children(true);
	pthread_mutex_unlock(&children_lock);
	if (mprot(0, S->npages, PROT_READ | PROT_WRITE))
		die("final mprotect RW: %s", strerror(errno));
}

static void target_stop_writer(void)
{
	__atomic_store_n(&S->stop_writer, 1, __ATOMIC_SEQ_CST);
	pthread_join(writer_t, NULL);
}

static void target_do(int cmd, long a0, long a1)
{
	long p;

	switch (cmd) {
	case CMD_START:
		target_start();
		break;
	case CMD_STOP_CHURN:
		target_stop_churn();
		break;
	case CMD_STOP_WRITER:
		target_stop_writer();
		break;
	case CMD_WRITE:
		for (p = a0; p < a1; p++) {
			write_page(p);
			inc(&S->sweep_writes);
		}
		break;
	case CMD_SNAPSHOT:
		for (p = 0; p < S->npages; p++)
			content[p] = *(volatile uint64_t *)pg(p);
		break;
	}
}

/* Run a command in the target: directly, or through the child's channel */
static void target_cmd(int cmd, long a0, long a1)
{
	uint32_t seq;

	if (!opt.target_child) {
		target_do(cmd, a0, a1);
		return;
	}
	S->cmd = cmd;
	S->cmd_arg[0] = a0;
	S->cmd_arg[1] = a1;
	seq = __atomic_add_fetch(&S->cmd_seq, 1, __ATOMIC_SEQ_CST);
	futex_wake(&S->cmd_seq);
	while (ld32(&S->ack_seq) != seq) {
		int st_;

		if (waitpid(S->target, &st_, WNOHANG) == S->target)
			die("the target child died (status %#x)", st_);
		futex_wait(&S->ack_seq, ld32(&S->ack_seq));
	}
}

static void child_loop(void)
{
	uint32_t seen = 0;

	for (;;) {
		uint32_t seq = ld32(&S->cmd_seq);

		if (seq == seen) {
			futex_wait(&S->cmd_seq, seq);
			if (getppid() == 1)
				_exit(3);
			continue;
		}
		seen = seq;
		if (S->cmd == CMD_EXIT) {
			__atomic_store_n(&S->ack_seq, seq, __ATOMIC_SEQ_CST);
			futex_wake(&S->ack_seq);
			_exit(0);
		}
		target_do(S->cmd, S->cmd_arg[0], S->cmd_arg[1]);
		__atomic_store_n(&S->ack_seq, seq, __ATOMIC_SEQ_CST);
		futex_wake(&S->ack_seq);
	}
}

/*
 * The region: [guard][A: THP-eligible private][B: shared][C: private,
 * NOHUGEPAGE][neighbour placeholder], all in one reservation, and a parking
 * reservation elsewhere for the mremap churn.
 */
static void region_setup(void)
{
	long total = opt.region_mib * (1L << 20) / ps, hp = THP_SIZE / ps;
	long a = total / 2 / hp * hp, b, c, nb = 64, park = 512;
	size_t res;
	uintptr_t r, base;

	if (a < hp)
		a = hp;
	b = (total - a) / 2;
	c = total - a - b;
	if (b < 16 || c < 16)
		die("--region-mib too small");
	res = (a + b + c + nb + 2) * ps + THP_SIZE;
	r = (uintptr_t)map_or_die(NULL, res, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	base = (r + ps + THP_SIZE - 1) / THP_SIZE * THP_SIZE;
	map_or_die((void *)base, a * ps, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	map_or_die((void *)(base + a * ps), b * ps, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED);
	map_or_die((void *)(base + (a + b) * ps), c * ps, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	madvise((void *)base, a * ps, MADV_HUGEPAGE);
	madvise((void *)(base + (a + b) * ps), c * ps, MADV_NOHUGEPAGE);
	S->res_lo = r;
	S->res_hi = r + res;
	reserve((void *)r, res);
	S->nb = base + (a + b + c) * ps;
	S->nb_pages = nb;
	S->a_pages = a;
	S->b_pages = b;
	S->c_pages = c;
	S->park = (uintptr_t)map_or_die(NULL, park * ps, PROT_NONE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	S->park_hi = S->park + park * ps;
	reserve((void *)S->park, park * ps);
	S->npages = a + b + c;
	S->base = base;
}

/* ----------------------------------------------------------- environment */

static uintptr_t find_user_top(void)
{
	void *hint = (void *)((1UL << 47) + (1UL << 30));
	void *p = mmap(hint, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		       -1, 0);

	if (p == MAP_FAILED)
		return (1UL << 47) - ps;
	munmap(p, ps);
	return p == hint ? (1UL << 56) - ps : (1UL << 47) - ps;
}

static struct {
	uintptr_t lo, hi;
	const char *name;
} own[8];
static int nown;

static void find_own_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];

	if (!f)
		return;
	while (fgets(line, sizeof(line), f) && nown < 8) {
		unsigned long lo, hi;
		const char *n = NULL;

		if (sscanf(line, "%lx-%lx", &lo, &hi) != 2)
			continue;
		if (strstr(line, "[stack]"))
			n = "stack";
		else if (strstr(line, "[vdso]"))
			n = "vdso";
		else if (strstr(line, "[vvar]"))
			n = "vvar";
		else if (strstr(line, "[heap]"))
			n = "heap";
		else if ((uintptr_t)&find_own_mappings >= lo && (uintptr_t)&find_own_mappings < hi)
			n = "text";
		else if ((uintptr_t)&opt >= lo && (uintptr_t)&opt < hi)
			n = "data";
		if (n) {
			own[nown].lo = lo;
			own[nown].hi = hi;
			own[nown++].name = n;
		}
	}
	fclose(f);
}

/*
 * ksmd at full speed is for the run only: a run outside the guest (on a
 * host, by mistake) must not leave it burning a CPU. The process that saved
 * the settings puts them back when it exits.
 */
static char ksm_run_was[16], ksm_sleep_was[16];
static pid_t ksm_saved_by;

static void read_setting(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
}

static void ksm_restore(void)
{
	if (getpid() != ksm_saved_by)
		return;
	if (ksm_sleep_was[0])
		write_str("/sys/kernel/mm/ksm/sleep_millisecs", ksm_sleep_was);
	if (ksm_run_was[0])
		write_str("/sys/kernel/mm/ksm/run", ksm_run_was);
}

static void ksm_save(void)
{
	read_setting("/sys/kernel/mm/ksm/run", ksm_run_was, sizeof(ksm_run_was));
	read_setting("/sys/kernel/mm/ksm/sleep_millisecs", ksm_sleep_was, sizeof(ksm_sleep_was));
	ksm_saved_by = getpid();
	atexit(ksm_restore);
}

static bool file_has(const char *path, const char *what)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return what ? strstr(buf, what) != NULL : true;
}

static void detect_features(void)
{
	char buf[4096];
	int fd, i;
	ssize_t n;

	fd = open("/proc/swaps", O_RDONLY);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			S->have_swap = strchr(buf, '\n') && strchr(strchr(buf, '\n') + 1, '/');
		}
	}
	for (i = 0; i < 64; i++) {
		char p[64];

		snprintf(p, sizeof(p), "/sys/devices/system/node/node%d", i);
		if (access(p, F_OK))
			break;
	}
	S->numa_nodes = i;
	S->have_compact = access("/proc/sys/vm/compact_memory", W_OK) == 0;
	if (access("/sys/kernel/mm/ksm/run", W_OK) == 0) {
		S->have_ksm = true;
		ksm_save();
		write_str("/sys/kernel/mm/ksm/run", "1");
		write_str("/sys/kernel/mm/ksm/sleep_millisecs", "0");
	}
	S->thp_madvise = file_has("/sys/kernel/mm/transparent_hugepage/enabled", "[madvise]") ||
			 file_has("/sys/kernel/mm/transparent_hugepage/enabled", "[always]");
}

static const char *const vmstat_keys[] = {
	"thp_fault_alloc", "thp_collapse_alloc", "thp_split_pmd", "thp_split_page",
	"pswpin", "pswpout", "pgmigrate_success", "pgmigrate_fail", "compact_stall",
	"numa_pages_migrated", "pgsteal_direct", "pgsteal_khugepaged",
};
#define NVMSTAT (sizeof(vmstat_keys) / sizeof(vmstat_keys[0]))

static void vmstat(unsigned long long *v)
{
	static char buf[65536];
	char key[64];
	unsigned i;

	memset(v, 0, NVMSTAT * sizeof(*v));
	if (slurp("/proc/vmstat", buf, sizeof(buf)) <= 0)
		return;
	for (i = 0; i < NVMSTAT; i++) {
		const char *p;

		snprintf(key, sizeof(key), "\n%s ", vmstat_keys[i]);
		p = strstr(buf, key);
		if (p)
			v[i] = strtoull(p + strlen(key), NULL, 10);
	}
}

/* ------------------------------------------------------------- the fuzzer */

enum { CK_GET, CK_CLEAR, CK_GAC, CK_UNKNOWN, NR_CK };
static const char *const ck_name[NR_CK] = { "GET", "CLEAR", "GET_AND_CLEAR", "unknown" };

enum {
	ARG_GOOD, ARG_RO, ARG_NULL, ARG_UNMAPPED, ARG_KERNEL, ARG_STRADDLE, NR_ARG
};
static const char *const arg_name[NR_ARG] = {
	"good", "read-only", "NULL", "unmapped", "kernel", "straddles-PROT_NONE",
};

enum {
	V_GOOD, V_NULL, V_UNALIGNED, V_RO, V_NONE, V_UNMAPPED, V_KERNEL, V_TOP,
	V_PARTIAL, V_INSIDE, V_DOOMED, V_SLOT, NR_V
};
static const char *const v_name[NR_V] = {
	"good", "NULL", "unaligned", "read-only", "PROT_NONE", "unmapped", "kernel",
	"straddles-user-top", "partly-writable", "inside-range", "freed-mid-call", "churn-slot",
};

/* Bits for the errnos the contract names; everything else is bit 15 */
static unsigned eb(int e)
{
	switch (e) {
	case EPERM: return 1u << 0;
	case ESRCH: return 1u << 1;
	case EINTR: return 1u << 2;
	case EFAULT: return 1u << 3;
	case EINVAL: return 1u << 4;
	case ENOTTY: return 1u << 5;
	case ENOMEM: return 1u << 6;
	case EOPNOTSUPP: return 1u << 7;
	default: return 1u << 15;
	}
}

static void errs_str(unsigned m, char *buf, size_t size)
{
	static const int es[] = { EPERM, ESRCH, EINTR, EFAULT, EINVAL, ENOTTY, ENOMEM, EOPNOTSUPP };
	size_t o = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < sizeof(es) / sizeof(es[0]); i++)
		if (m & eb(es[i]))
			o += snprintf(buf + o, size - o, "%s%s", o ? "|" : "", strerrorname_np(es[i]));
	if (!o)
		snprintf(buf, size, "none");
}

struct call {
	unsigned long cmd;
	int ck, argk, rangek, veck;
	const char *range_name;
	struct pagemap_sd_args a;
	struct pagemap_sd_args *argp;
	long prefix;		/* entries of vec known writable; -1: unknown */
	char *vbase;		/* mapping vec lives in, for reading back */
	size_t vbase_len;
	bool hostile_len;
};

struct expect {
	unsigned errs;
	bool ok;
	long max_n;
	char why[160];
};

static void expect_for(const struct call *c, struct expect *x)
{
	const struct pagemap_sd_args *a = &c->a;
	uintptr_t s = (uintptr_t)a->start;
	unsigned v = 0;
	size_t o = 0;

	memset(x, 0, sizeof(*x));
#define WHY(...) (o += snprintf(x->why + o, sizeof(x->why) - o, __VA_ARGS__))
	if (c->ck == CK_UNKNOWN) {
		x->errs = eb(ENOTTY);
		WHY("unknown command");
		return;
	}
	if (c->argk != ARG_GOOD && c->argk != ARG_RO) {
		x->errs = eb(EFAULT);
		WHY("bad argument pointer");
		return;
	}
	if (a->flags & ~PAGEMAP_SD_NO_REUSED_REGIONS) {
		v |= eb(EINVAL);
		WHY("unknown flags; ");
	}
	if (a->len <= 0) {
		v |= eb(EINVAL);
		WHY("len <= 0; ");
	}
	if (a->vec_len < 0) {
		v |= eb(EINVAL);
		WHY("vec_len < 0; ");
	}
	if (s % ps) {
		v |= eb(EINVAL);
		WHY("start unaligned; ");
	}
	if (s >= user_top) {
		v |= eb(EFAULT);
		WHY("start outside user space; ");
	}
	if (a->len > 0) {
		uint64_t alen = ((uint64_t)a->len + ps - 1) / ps * ps;

		if (s + alen < s) {
			v |= eb(EINVAL) | eb(EFAULT);
			WHY("range wraps; ");
		} else if (s + alen > user_top) {
			v |= eb(EFAULT);
			WHY("range ends outside user space; ");
		}
	}
	if (c->ck != CK_CLEAR) {
		if (!a->vec || !a->vec_len) {
			v |= eb(EINVAL);
			WHY("no vec; ");
		} else if (a->vec_len > 0 && (uintptr_t)a->vec >= user_top) {
			v |= eb(EFAULT);
			WHY("vec outside user space; ");
		} else if (a->vec_len > 0 &&
			   (uintptr_t)a->vec + (uint64_t)a->vec_len * 8 > user_top) {
			/*
			 * The kernel may check vec's whole extent before the
			 * other arguments: among several errors the contract
			 * fixes no order.
			 */
			v |= eb(EFAULT);
			WHY("vec ends outside user space; ");
		}
	}
	if (v) {
		x->errs = v;
		return;
	}
	x->ok = true;
	x->errs = eb(EINTR);
	if (c->ck == CK_CLEAR) {
		x->max_n = 0;
		WHY("valid CLEAR");
		return;
	}
	x->max_n = a->vec_len;
	if (c->prefix < 0 || c->prefix < a->vec_len) {
		/* vec may fault before vec_len entries: EFAULT, or fewer entries */
		x->errs |= eb(EFAULT);
		if (c->prefix >= 0)
			x->max_n = c->prefix;
		WHY("valid, vec %s writable for %ld of %d entries", v_name[c->veck],
		    c->prefix, a->vec_len);
	} else {
		WHY("valid");
	}
	if ((uintptr_t)a->vec + (uint64_t)a->vec_len * 8 > user_top)
		x->errs |= eb(EFAULT);
#undef WHY
}

/* The fuzzer's fixed buffers (mapped before the target is forked) */
static struct {
	loff_t *vec;		/* T entries then a guard page */
	long T;
	char *ro, *none, *partial, *inside;
	long inside_pages;
	struct pagemap_sd_args *arg_good, *arg_ro;
	char *arg_straddle;
	loff_t *tmp;		/* the fuzzer's copy of what a call reported */
	loff_t *ttmp;		/* the tracker's */
	loff_t *tvec;		/* the tracker's vec */
	long tT;
} B;

static char *guarded(size_t bytes, size_t *len)
{
	size_t l = (bytes + ps - 1) / ps * ps;
	char *p = map_or_die(NULL, l + ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);

	if (mprotect(p, l, PROT_READ | PROT_WRITE))
		die("mprotect: %s", strerror(errno));
	if (len)
		*len = l;
	return p;
}

static void buffers_setup(void)
{
	size_t l;

	B.T = S->npages + 4096;
	B.vec = (loff_t *)guarded(B.T * sizeof(loff_t), &l);
	B.T = l / sizeof(loff_t);
	B.tT = S->npages + 512;
	B.tvec = (loff_t *)guarded(B.tT * sizeof(loff_t), &l);
	B.tT = l / sizeof(loff_t);
	B.tmp = (loff_t *)guarded(B.T * sizeof(loff_t), NULL);
	B.ttmp = (loff_t *)guarded(B.tT * sizeof(loff_t), NULL);
	B.ro = map_or_die(NULL, 2 * ps, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
	B.none = map_or_die(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS);
	B.partial = map_or_die(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (mprotect(B.partial + ps, ps, PROT_READ))
		die("mprotect");
	B.inside_pages = 64;
	B.inside = guarded(B.inside_pages * ps, NULL);
	B.arg_good = (struct pagemap_sd_args *)guarded(ps, NULL);
	B.arg_ro = (struct pagemap_sd_args *)guarded(ps, NULL);
	B.arg_straddle = guarded(ps, NULL);
	killer_setup(&fz_killer, B.T);
	killer_setup(&tr_killer, B.tT);
}

static unsigned long unknown_cmd(uint64_t r)
{
	const size_t sz = sizeof(struct pagemap_sd_args);
	unsigned nr = 16 + (r >> 8) % 3;
	static const size_t sizes[] = { 8, 32, 36, 44, 48, 64, 0x3fff };

	switch (r % 10) {
	case 0: return _IOWR('f', 19 + (r >> 8) % 40, struct pagemap_sd_args);
	case 1: return _IOWR('f', 3 + (r >> 8) % 8, struct pagemap_sd_args);
	case 2: return _IOR('f', nr, struct pagemap_sd_args);
	case 3: return _IOW('f', nr, struct pagemap_sd_args);
	case 4: return _IO('f', nr);
	case 5: return _IOC(_IOC_READ | _IOC_WRITE, 'f', nr, sizes[(r >> 16) % 7] == sz ?
			    sz + 8 : sizes[(r >> 16) % 7]);
	case 6: return _IOWR('g', nr, struct pagemap_sd_args);
	case 7: return _IOWR('f', 15, struct pagemap_sd_args);
	case 8: return _IOWR('f', 64 + (r >> 8) % 64, struct pagemap_sd_args);
	default: return _IOWR('F', nr, struct pagemap_sd_args);
	}
}

/* Pick the range: fills c->a.start, c->a.len, c->rangek, c->range_name */
static void pick_range(struct call *c, uint64_t r, uint64_t y)
{
	uint64_t x = r >> 8;
	uintptr_t s = LOW_UNMAPPED;
	int64_t len = ps;
	long np;

	c->rangek = r % 14;
	switch (c->rangek) {
	case 0:
		s = S->base;
		len = S->npages * ps;
		c->range_name = "region";
		break;
	case 1:
		np = 1 + y % (S->npages < 700 ? S->npages : 700);
		s = S->base + (x % (S->npages - np + 1)) * ps;
		len = np * ps;
		c->range_name = "region-part";
		break;
	case 2:
		s = S->base + (x % S->npages) * ps + 1 + y % (ps - 1);
		len = (1 + y % 64) * ps;
		c->range_name = "region-unaligned";
		break;
	case 3:
	case 4: {
		struct slot *sl = &S->slots[x % NSLOTS];
		uintptr_t a = __atomic_load_n(&sl->addr, __ATOMIC_SEQ_CST);
		uint64_t l = __atomic_load_n(&sl->len, __ATOMIC_SEQ_CST);

		c->range_name = "churn-slot";
		if (!a || !l) {
			s = LOW_UNMAPPED + (y % 64) * ps;
			len = (1 + y % 32) * ps;
			break;
		}
		s = a;
		len = l;
		if (c->rangek == 4) {
			s = a + (y % (l / ps)) * ps;
			len = (1 + (y >> 20) % 1024) * ps;
		}
		break;
	}
	case 5:
		s = 0;
		len = y % 4 ? (int64_t)(1 + y % 1024) * ps : INT_MAX;
		c->range_name = "zero";
		break;
	case 6:
		s = LOW_UNMAPPED + (x % 64) * ps;
		len = (1 + y % 256) * ps;
		c->range_name = "unmapped";
		break;
	case 7: {
		static const uintptr_t k[] = {
			KERNEL_ADDR, 0xffffffffff600000UL, 1UL << 63, 0xffffffff81000000UL,
			0xfffffffffffff000UL,
		};

		s = k[x % 5];
		if (s == KERNEL_ADDR)
			s += (y % 4096) * ps;
		len = (1 + y % 512) * ps;
		c->range_name = "kernel";
		break;
	}
	case 8:
		s = user_top - (x % 8) * ps;
		len = (1 + y % 16) * ps;
		c->range_name = "user-top";
		break;
	case 9:
		np = 1 + x % 16;
		s = -(uintptr_t)(np * ps);
		len = (np + 1 + y % 8) * ps;
		c->range_name = "wrapping";
		break;
	case 10:
		s = (1UL << 47) + (x % 1024) * ps;
		len = (1 + y % 64) * ps;
		c->range_name = "above-47-bits";
		break;
	case 11:
		if (!nown) {
			s = LOW_UNMAPPED;
			c->range_name = "unmapped";
			break;
		}
		np = x % nown;
		s = own[np].lo;
		len = own[np].hi - own[np].lo;
		if (y % 2)
			len += (y % 32) * ps;
		if (y % 3 == 0)
			len = ps * (1 + y % 2);
		c->range_name = own[np].name;
		break;
	case 12:
		s = (uintptr_t)B.inside;
		len = B.inside_pages * ps;
		c->range_name = "inside-buffer";
		break;
	default:
		s = (x % 2) ? S->base - (y % 1024) * ps : (uintptr_t)own[0].lo;
		len = INT_MAX - (int64_t)(y % 3) * ps;
		c->range_name = "huge";
		break;
	}
	if (len > INT_MAX)
		len = INT_MAX;
	c->a.start = (void *)s;
	c->a.len = (int)len;
}

static bool range_touches_region(uintptr_t s, uint64_t alen)
{
	uintptr_t e = s + alen;

	if (e < s)
		return false;
	return (s < S->res_hi && e > S->res_lo) || (s < S->park_hi && e > S->park);
}

static struct {
	uint64_t n[NR_CK], ok[NR_CK], err[NR_CK][136], byvec[NR_V], byarg[NR_ARG];
	uint64_t region_calls, region_clears, region_reports, raced_writes, raced_churn;
	uint64_t raced_clearrefs, unexpected, vec_accept_bad[NR_V], scribbles, reported;
	uint64_t digest;
	long done;
	double t0, t1;
	bool stopped_on_time;
} F;

static int pm_fd = -1;
static char clear_refs_path[64];

static void fill_canaries(char *vb, long from, long to)
{
	long i;

	for (i = from; i < to; i++)
		memcpy(vb + i * sizeof(loff_t), &(loff_t){ CANARY }, sizeof(loff_t));
}

static long first_non_canary(const char *vb, long from, long to)
{
	long i;
	loff_t v;

	for (i = from; i < to; i++) {
		memcpy(&v, vb + i * sizeof(loff_t), sizeof(v));
		if (v != CANARY)
			return i;
	}
	return -1;
}

static void describe(const struct call *c, char *buf, size_t size)
{
	snprintf(buf, size, "%s(cmd %#lx) start=%p(%s) len=%d vec=%p(%s) vec_len=%d flags=%#x arg=%s",
		 c->ck == CK_UNKNOWN ? "unknown" : cmd_name(c->cmd), c->cmd, c->a.start,
		 c->range_name, c->a.len, (void *)c->a.vec, v_name[c->veck], c->a.vec_len,
		 c->a.flags, arg_name[c->argk]);
}

static void fuzz_one(void)
{
	static struct rng r;
	static bool init;
	uint64_t d[8], b, e, wf0, chf0, crf0;
	struct call c = { 0 };
	struct expect x;
	char *vb = NULL;	/* bytes of vec in our memory */
	long vcap = 0, head = 0, c0 = 0, c1 = 0, ret, n = 0, i;
	size_t dlen = 0;
	char desc[400], why[200];
	int err = 0, ck;
	bool doomed = false, touches = false, readable = false;
	uint64_t alen = 0;
	struct rop o = { 0 };
	char *now_at = NULL;

	if (!init) {
		r = rng_for(0);
		init = true;
	}
	for (i = 0; i < 8; i++)
		d[i] = rnd(&r);

	/* command */
	ck = d[0] % 100 < 30 ? CK_GET : d[0] % 100 < 60 ? CK_GAC :
	     d[0] % 100 < 90 ? CK_CLEAR : CK_UNKNOWN;
	c.ck = ck;
	c.cmd = ck == CK_GET ? PAGEMAP_SD_GET : ck == CK_GAC ? PAGEMAP_SD_GET_AND_CLEAR :
		ck == CK_CLEAR ? PAGEMAP_SD_CLEAR : unknown_cmd(d[0] >> 8);

	/* range, then hostile lengths */
	pick_range(&c, d[1], d[7]);
	if (d[2] % 100 < 15) {
		static const int hl[] = { 0, -1, -4096, INT_MIN, INT_MAX, 1, 4095, 4097 };

		c.a.len = hl[(d[2] >> 8) % 8];
		c.hostile_len = true;
	}

	/* vec */
	c.veck = V_GOOD;
	{
		unsigned k = d[3] % 100;

		c.veck = k < 60 ? V_GOOD : k < 63 ? V_NULL : k < 67 ? V_UNALIGNED :
			 k < 70 ? V_RO : k < 73 ? V_NONE : k < 76 ? V_UNMAPPED :
			 k < 79 ? V_KERNEL : k < 81 ? V_TOP : k < 85 ? V_PARTIAL :
			 k < 89 ? V_INSIDE : k < 95 ? V_DOOMED : V_SLOT;
	}
	if (c.veck == V_DOOMED && !on(K_VECFREE))
		c.veck = V_GOOD;
	if (c.veck == V_SLOT && opt.target_child)
		c.veck = V_GOOD;
	switch (c.veck) {
	case V_GOOD:
		vb = (char *)B.vec;
		vcap = B.T;
		break;
	case V_NULL:
		c.a.vec = NULL;
		vcap = 0;
		break;
	case V_UNALIGNED:
		vb = (char *)B.vec + 1 + (d[3] >> 8) % 7;
		vcap = B.T - 1;
		break;
	case V_RO:
		c.a.vec = (loff_t *)(B.ro + ((d[3] >> 8) % 64) * 8);
		break;
	case V_NONE:
		c.a.vec = (loff_t *)B.none;
		break;
	case V_UNMAPPED:
		c.a.vec = (loff_t *)(LOW_UNMAPPED + ((d[3] >> 8) % 256) * ps);
		break;
	case V_KERNEL:
		c.a.vec = (loff_t *)(KERNEL_ADDR + ((d[3] >> 8) % 64) * 8);
		break;
	case V_TOP:
		c.a.vec = (loff_t *)(user_top - 8 * (1 + (d[3] >> 8) % 4));
		break;
	case V_PARTIAL:
		vcap = 1 + (d[3] >> 8) % 8;
		vb = B.partial + ps - vcap * 8;
		break;
	case V_INSIDE:
		/* vec inside the range: the range becomes the inside buffer */
		c.a.start = B.inside;
		c.range_name = "inside-buffer";
		if (!c.hostile_len)
			c.a.len = B.inside_pages * ps;
		vb = B.inside + ((d[3] >> 8) % (B.inside_pages / 2)) * ps;
		vcap = (B.inside + B.inside_pages * ps - vb) / 8;
		break;
	case V_DOOMED:
		vb = doomed_alloc(&fz_killer, B.T, &dlen);
		vcap = B.T;
		doomed = true;
		break;
	case V_SLOT: {
		struct slot *sl = &S->slots[(d[3] >> 8) % NSLOTS];

		c.a.vec = (loff_t *)__atomic_load_n(&sl->addr, __ATOMIC_SEQ_CST);
		if (!c.a.vec)
			c.a.vec = (loff_t *)(LOW_UNMAPPED + ps);
		break;
	}
	}
	c.prefix = vb ? vcap : 0;
	if (c.veck == V_SLOT || c.veck == V_DOOMED)
		c.prefix = -1;
	if (vb)
		c.a.vec = (loff_t *)vb;

	/* vec_len */
	{
		unsigned k = d[4] % 100;
		long y = (long)((d[4] >> 8) & 0xffffffffff);
		long cap = vcap ? vcap : 64;

		c.a.vec_len = k < 5 ? 0 : k < 8 ? -1 : k < 10 ? INT_MIN : k < 20 ? 1 :
			      k < 25 ? 2 + y % 7 : k < 60 ? 1 + y % cap : k < 70 ? cap :
			      k < 80 ? S->npages : k < 90 ? cap + 1 + y % 100 :
			      k < 95 ? INT_MAX : 1 + y % (1 << 28);
	}

	/* flags */
	{
		unsigned k = d[5] % 100;
		static const int bad[] = { 2, 4, (int)0x80000000, -1, 3, 0x100, 5 };

		c.a.flags = k < 45 ? 0 : k < 85 ? PAGEMAP_SD_NO_REUSED_REGIONS :
			    bad[(d[5] >> 8) % 7];
	}

	/* the argument pointer */
	{
		unsigned k = d[6] % 100;

		c.argk = k < 94 ? ARG_GOOD : k < 95 ? ARG_NULL : k < 96 ? ARG_UNMAPPED :
			 k < 97 ? ARG_KERNEL : k < 98 ? ARG_STRADDLE : ARG_RO;
	}

	/* Without fuzzregion the fuzzer stays off the region */
	alen = c.a.len > 0 ? ((uint64_t)c.a.len + ps - 1) / ps * ps : 0;
	if (!on(K_FUZZREGION) && range_touches_region((uintptr_t)c.a.start, alen)) {
		c.a.start = (void *)LOW_UNMAPPED;
		c.range_name = "unmapped(region excluded)";
	}

	switch (c.argk) {
	case ARG_GOOD:
		*B.arg_good = c.a;
		c.argp = B.arg_good;
		break;
	case ARG_RO:
		mprotect(B.arg_ro, ps, PROT_READ | PROT_WRITE);
		*B.arg_ro = c.a;
		mprotect(B.arg_ro, ps, PROT_READ);
		c.argp = B.arg_ro;
		break;
	case ARG_NULL:
		c.argp = NULL;
		break;
	case ARG_UNMAPPED:
		c.argp = (void *)(LOW_UNMAPPED + 77 * ps);
		break;
	case ARG_KERNEL:
		c.argp = (void *)(KERNEL_ADDR + 0x1000);
		break;
	case ARG_STRADDLE:
		/* the last field (flags) lies in the guard page after the buffer */
		memcpy(B.arg_straddle + ps - sizeof(c.a) + sizeof(int), &c.a,
		       sizeof(c.a) - sizeof(int));
		c.argp = (void *)(B.arg_straddle + ps - sizeof(c.a) + sizeof(int));
		break;
	}

	expect_for(&c, &x);

	/* The decisions, not the addresses (churn slots move): same seed, same digest */
	{
		uint64_t v[] = { c.cmd, (uint64_t)c.rangek, (uint64_t)c.veck, (uint64_t)c.argk,
				 (uint64_t)(uint32_t)c.a.flags, (uint64_t)(uint32_t)c.a.vec_len,
				 c.hostile_len ? (uint64_t)(uint32_t)c.a.len : 0 };

		for (i = 0; i < (long)(sizeof(v) / sizeof(v[0])); i++)
			F.digest = (F.digest ^ v[i]) * 0x100000001b3ULL;
	}

	/*
	 * A doomed vec: freed at a random moment, or (userfaultfd) when the
	 * kernel first writes past its first 0, 1 or 2 pages.
	 */
	if (doomed) {
		unsigned m = (d[7] >> 40) % 3;
		long up = (d[7] >> 42) % 2 ? (long)((d[7] >> 44) % 3) : -1;
		size_t touch;

		touch = killer_arm(&fz_killer, m == 2 ? KILL_MREMAP : m == 1 ? KILL_REPLACE :
				   KILL_MUNMAP, vb, dlen, up, (d[7] >> 48) % 2000);
		vcap = touch / sizeof(loff_t);
	}

	/*
	 * Canaries: in the first entries (CLEAR must not write any, the others
	 * nothing past what they return), and in the NR_CANARY entries after
	 * vec_len (no call may write there). Not all of vec: that costs.
	 */
	if (vb) {
		long vl = c.a.vec_len > 0 ? c.a.vec_len : 0;

		head = vl < 32 ? vl : 32;
		if (c.a.vec_len <= 0)
			head = 32;
		if (head > vcap)
			head = vcap;
		c0 = vl < vcap ? vl : vcap;
		c1 = c0 + NR_CANARY < vcap ? c0 + NR_CANARY : vcap;
		fill_canaries(vb, 0, head);
		fill_canaries(vb, c0, c1);
	}

	touches = (ck == CK_CLEAR || ck == CK_GAC) && c.argk != ARG_NULL &&
		  c.argk != ARG_UNMAPPED && c.argk != ARG_KERNEL && c.argk != ARG_STRADDLE &&
		  c.a.len > 0 && (uintptr_t)c.a.start % ps == 0 &&
		  (uintptr_t)c.a.start + alen >= (uintptr_t)c.a.start &&
		  range_touches_region((uintptr_t)c.a.start, alen);
	if (touches) {
		F.region_calls++;
		rop_begin(&o, (uintptr_t)c.a.start, (uintptr_t)c.a.start + alen, true, true,
			  1u << B_FUZZCALL | (doomed ? 1u << K_VECFREE : 0));
	}
	if (doomed)
		killer_go(&fz_killer);

	wf0 = ld(&S->wf);
	chf0 = ld(&S->chf);
	crf0 = ld(&S->crf);
	b = tick();
	WHERE(W_FUZZ, "in the ioctl");
	ret = ioctl(pm_fd, c.cmd, c.argp);
	if (ret < 0)
		err = errno;
	e = tick();
	WHERE(W_FUZZ, "after the ioctl");

	if (doomed) {
		WHERE(W_FUZZ, "waiting for its vec killer");
		now_at = killer_done(&fz_killer, b, e);
		WHERE(W_FUZZ, "after its vec killer");
		vb = now_at;	/* NULL: not readable any more */
		vcap = dlen / sizeof(loff_t);	/* all of it readable, if at all */
	}
	readable = vb && c.veck != V_SLOT;

	/* Tallies */
	F.n[ck]++;
	F.byvec[c.veck]++;
	F.byarg[c.argk]++;
	if (ret >= 0)
		F.ok[ck]++;
	else
		F.err[ck][err < 136 ? err : 135]++;

	describe(&c, desc, sizeof(desc));
	errs_str(x.errs, why, sizeof(why));
	if (ret < 0 && !(x.errs & eb(err))) {
		F.unexpected++;
		fail(c.argk == ARG_GOOD || c.argk == ARG_RO ? &f_fuzz[ck] : &f_argptr,
		     "%s: got %s, allowed %s%s (%s)", desc, strerrorname_np(err), why,
		     x.ok ? " or success" : "", x.why);
	} else if (ret >= 0 && !x.ok) {
		F.unexpected++;
		fail(c.argk == ARG_GOOD || c.argk == ARG_RO ? &f_fuzz[ck] : &f_argptr,
		     "%s: returned %ld, allowed only %s (%s)", desc, ret, why, x.why);
	} else if (ret >= 0 && ret > x.max_n) {
		F.unexpected++;
		fail(&f_fuzz[ck], "%s: returned %ld, at most %ld possible (%s)", desc, ret,
		     x.max_n, x.why);
	}
	if (ret >= 0 && x.ok && c.prefix < c.a.vec_len && c.prefix >= 0 && ck != CK_CLEAR)
		F.vec_accept_bad[c.veck]++;

	/* Reports and canaries */
	n = ret > 0 && ck != CK_CLEAR ? ret : 0;
	if (readable && n > 0 && n <= vcap) {
		const char *bad;
		char buf[200];

		memcpy(B.tmp, vb, n * sizeof(loff_t));
		bad = bad_reports(B.tmp, n, alen, c.a.vec_len, buf, sizeof(buf));
		if (bad) {
			fail(&f_reports, "fuzz %s: %s", desc, bad);
			readable = false;
		}
		F.reported += n;
	}
	if (readable && (head || c1 > c0)) {
		long bad = first_non_canary(vb, c0, c1);

		/* A failing call may have copied part of a chunk: not judged */
		if (bad < 0 && ck == CK_CLEAR)
			bad = first_non_canary(vb, 0, head);
		if (bad >= 0 && (ck == CK_CLEAR || ret >= 0))
			fail(&f_reports, "fuzz %s: returned %ld, entry %ld of vec written%s",
			     desc, ret, bad, ck == CK_CLEAR ? " by CLEAR" : " past vec_len");
		if (ret >= 0 && ck != CK_CLEAR && n < head && first_non_canary(vb, n, head) >= 0)
			F.scribbles++;
	}

	if (touches) {
		int how = R_NONE;

		F.region_clears++;
		if (ld(&S->ws) > wf0)
			F.raced_writes++;
		if (ld(&S->chs) > chf0)
			F.raced_churn++;
		if (ld(&S->crs) > crf0)
			F.raced_clearrefs++;
		if (ret >= 0 && ck == CK_CLEAR)
			how = R_FORGET;
		else if (n > 0 && (!readable || n > vcap))
			how = R_FORGET;	/* reported into memory we cannot read */
		else if (ret < 0 && err != EFAULT && err != EINVAL && err != ENOTTY &&
			 err != EPERM)
			how = R_FORGET;
		/* A vec that may have gone bad during the call: see R_HIDE */
		if ((doomed && fz_killer.kb < e) || c.veck == V_SLOT)
			how |= R_HIDE;
		rop_end(&o, how, (uintptr_t)c.a.start, B.tmp, how & R_FORGET ? 0 : n, -1);
		if (!(how & R_FORGET))
			F.region_reports += n;
		recent_add(c.veck == V_SLOT ? "fuzzer(slot vec)" : "fuzzer", b, e, o.p0, o.p1,
			   ret < 0 ? -err : ret, doomed ? fz_killer.kb : 0);
	}

	/* A call over the region with a readable result: the mid-run check */
	if ((ck == CK_GET || ck == CK_GAC) && ret >= 0 && readable && x.ok && n <= vcap &&
	    (c.argk == ARG_GOOD || c.argk == ARG_RO) &&
	    range_touches_region((uintptr_t)c.a.start, alen) &&
	    (n == 0 || !bad_reports(B.tmp, n, alen, c.a.vec_len, why, sizeof(why))))
		check_call("fuzzer", false, c.cmd, (uintptr_t)c.a.start, alen, B.tmp, n, c.a.vec_len,
			   c.a.flags, b, doomed || c.prefix < c.a.vec_len);

	if (doomed)
		doomed_free(&fz_killer, dlen);
}

/* -------------------------------------------------------------- tracker */

static struct {
	uint64_t calls, gac, get, reported, raced_writes, raced_churn, raced_clearrefs;
	uint64_t doomed, doomed_efault, errors, noreused, scans;
	int stop;
} T;

static int tracker_flag(struct rng *r)
{
	if (opt.tracker_flags == 2)
		return rndn(r, 2) ? PAGEMAP_SD_NO_REUSED_REGIONS : 0;
	return opt.tracker_flags ? PAGEMAP_SD_NO_REUSED_REGIONS : 0;
}

static bool tracker_scans(struct rng *r)
{
	if (opt.tracker_uapi == 2)
		return rndn(r, 2);
	return opt.tracker_uapi;
}

/*
 * GET_AND_CLEAR's work through the other uapi: PAGEMAP_SCAN with
 * PM_SCAN_CLEAR_SOFT_DIRTY over [s, s + alen), at most max_pages pages in at
 * most nr ranges written to vec. Returns the ranges written or -errno.
 */
static long scan_clear_call(int fd, uintptr_t s, uint64_t alen, void *vec, long nr,
			    long max_pages, int flags)
{
	struct pm_scan_arg a = {
		.size = sizeof(a), .flags = PM_SCAN_CLEAR_SOFT_DIRTY,
		.start = s, .end = s + alen, .vec = (uintptr_t)vec, .vec_len = nr,
		.max_pages = max_pages, .category_mask = PAGE_IS_SOFT_DIRTY,
		.category_anyof_mask = flags ? PAGE_IS_PRESENT | PAGE_IS_SWAPPED : 0,
		.return_mask = PAGE_IS_SOFT_DIRTY,
	};
	long r = ioctl(fd, PAGEMAP_SCAN, &a);

	return r < 0 ? -errno : r;
}

/*
 * The ranges a PAGEMAP_SCAN clear wrote, as the commands' page offsets into
 * out (room for max entries): NULL, and the count in *n, or what is wrong.
 * Ranges must be page aligned, inside the call's range, ascending, not
 * overlapping and marked soft-dirty; together at most max_pages pages.
 * Adjacent ranges are allowed: PAGEMAP_SCAN does not promise to merge
 * them (upstream's walk flushes its buffer every PMD-sized chunk).
 */
static const char *scan_ranges_to_offsets(const char *vb, long nr, uintptr_t s, uint64_t alen,
					  long max_pages, loff_t *out, long max, long *n,
					  char *buf, size_t size)
{
	uint64_t prev_end = s;
	long i;

	*n = 0;
	for (i = 0; i < nr; i++) {
		struct page_region pr;
		uint64_t a;

		memcpy(&pr, vb + i * sizeof(pr), sizeof(pr));
		if (pr.start % ps || pr.end % ps || pr.start >= pr.end ||
		    pr.start < prev_end || pr.end > s + alen ||
		    pr.categories != PAGE_IS_SOFT_DIRTY) {
			snprintf(buf, size, "range %ld: [%#llx, %#llx) categories %#llx after %#llx, "
				 "call [%#llx, %#llx)", i, (unsigned long long)pr.start,
				 (unsigned long long)pr.end, (unsigned long long)pr.categories,
				 (unsigned long long)prev_end, (unsigned long long)s,
				 (unsigned long long)(s + alen));
			return buf;
		}
		for (a = pr.start; a < pr.end; a += ps) {
			if (*n == max_pages || *n == max) {
				snprintf(buf, size, "more than max_pages %ld pages in %ld ranges",
					 max_pages, nr);
				return buf;
			}
			out[(*n)++] = a - s;
		}
		prev_end = pr.end;
	}
	return NULL;
}

/* One tracker call over [p0, p1) of the region; returns the count or -errno */
static long tracker_call(struct rng *r, bool get, long p0, long p1, long vec_len, int flags,
			 bool doomed, long drop_idx, bool check)
{
	uintptr_t s = S->base + p0 * ps;
	uint64_t alen = (p1 - p0) * ps, b, e, wf0, chf0, crf0;
	unsigned long cmd = get ? PAGEMAP_SD_GET : PAGEMAP_SD_GET_AND_CLEAR;
	loff_t *vec = B.tvec;
	char *vb = (char *)B.tvec;
	size_t dlen = 0;
	struct rop o = { 0 };
	long ret, n, c1, head;
	char buf[200];
	const char *bad;
	int how = R_NONE;
	long room = B.tT, nr = 0;
	bool scan = !get && tracker_scans(r);
	const long per = sizeof(struct page_region) / sizeof(loff_t);

	if (doomed) {
		vb = doomed_alloc(&tr_killer, B.tT, &dlen);
		vec = (loff_t *)vb;
		room = killer_arm(&tr_killer, KILL_MREMAP, vb, dlen,
				  rndn(r, 2) ? (long)rndn(r, 3) : -1, rndn(r, 2000)) / sizeof(loff_t);
	}
	/*
	 * PAGEMAP_SCAN writes ranges, a struct page_region each: as many as
	 * fit, at most vec_len, and at most vec_len pages in them. vend is
	 * where vec's entries end, in loff_t units for the canaries.
	 */
	if (scan) {
		nr = vec_len < room / per ? vec_len : room / per;
		scan = nr > 0;
	}
	long vend = scan ? nr * per : vec_len;

	/* A claimed entry left unwritten shows as an offset out of range */
	c1 = vend + NR_CANARY < room ? vend + NR_CANARY : room;
	head = vend < 32 ? vend : 32;
	fill_canaries(vb, 0, head < room ? head : room);
	fill_canaries(vb, vend < room ? vend : room, c1);
	if (!get) {
		rop_begin(&o, s, s + alen, true, true, (flags ? 1u << B_NOREUSED : 0) |
			  (doomed ? 1u << K_VECFREE : 0));
		if (doomed)
			killer_go(&tr_killer);
	}
	wf0 = ld(&S->wf);
	chf0 = ld(&S->chf);
	crf0 = ld(&S->crf);
	b = tick();
	WHERE(W_TRACKER, "in the ioctl");
	if (scan)
		ret = scan_clear_call(pm_fd, s, alen, vec, nr, vec_len, flags);
	else
		ret = sd_call(pm_fd, cmd, (void *)s, alen, vec, vec_len, flags);
	e = tick();
	WHERE(W_TRACKER, "after the ioctl");
	if (doomed) {
		WHERE(W_TRACKER, "waiting for its vec killer");
		vb = killer_done(&tr_killer, b, e);
		WHERE(W_TRACKER, "after its vec killer");
		T.doomed++;
		if (ret == -EFAULT)
			T.doomed_efault++;
	}
	T.calls++;
	if (flags)
		T.noreused++;
	if (scan)
		T.scans++;
	if (ld(&S->ws) > wf0)
		T.raced_writes++;
	if (ld(&S->chs) > chf0)
		T.raced_churn++;
	if (ld(&S->crs) > crf0)
		T.raced_clearrefs++;
	n = ret > 0 ? ret : 0;
	if (ret < 0 && !(doomed && ret == -EFAULT)) {
		T.errors++;
		fail(&f_tracker, "%s [%ld, %ld) vec_len %ld flags %#x%s: %s",
		     scan ? "SCAN_CLEAR" : cmd_name(cmd), p0, p1, vec_len, flags,
		     doomed ? " (vec freed mid-call)" : "", strerror(-ret));
	}
	/* The ranges become the commands' offsets, for the checks below */
	if (scan && n > 0) {
		if (n > nr) {
			fail(&f_reports, "tracker SCAN_CLEAR [%ld, %ld): returned %ld > vec_len %ld",
			     p0, p1, n, nr);
			how = R_FORGET;
		} else if (vb) {
			bad = scan_ranges_to_offsets(vb, n, s, alen, vec_len, B.ttmp, B.tT, &n,
						     buf, sizeof(buf));
			if (bad) {
				fail(&f_reports, "tracker SCAN_CLEAR [%ld, %ld) vec_len %ld flags %#x%s: %s",
				     p0, p1, nr, flags, doomed ? " (vec moved away)" : "", bad);
				how = R_FORGET;
			}
		} else {
			how = R_FORGET;
		}
		if (how & R_FORGET)
			n = 0;
	} else if (n > vec_len) {
		fail(&f_reports, "tracker %s [%ld, %ld): returned %ld > vec_len %ld", cmd_name(cmd),
		     p0, p1, n, vec_len);
		how = R_FORGET;
		n = 0;
	} else if (n > 0) {
		if (!vb) {
			how = R_FORGET;
		} else {
			memcpy(B.ttmp, vb, n * sizeof(loff_t));
			bad = bad_reports(B.ttmp, n, alen, vec_len, buf, sizeof(buf));
			if (bad) {
				char pages[160];
				size_t off = 0;
				long j;

				for (j = 0; j < n && j < 16; j++)
					off += snprintf(pages + off, sizeof(pages) - off, " %lld",
							(long long)B.ttmp[j] / ps);
				fail(&f_reports, "tracker %s [%ld, %ld) vec_len %ld flags %#x%s: returned %ld: %s; "
				     "pages:%s", cmd_name(cmd), p0, p1, vec_len, flags,
				     !doomed ? "" : tr_killer.uffd_from >= 0 ? " (vec moved away at the "
				     "first fault in its unpopulated part)" : " (vec moved away during the call)",
				     n, bad, pages);
				how = R_FORGET;
			}
		}
	}
	if (vb && ret >= 0) {
		long k = first_non_canary(vb, vend, c1);

		if (k >= 0)
			fail(&f_reports, "tracker %s [%ld, %ld): returned %ld, %s %ld written past vec_len %ld",
			     scan ? "SCAN_CLEAR" : cmd_name(cmd), p0, p1, ret,
			     scan ? "loff_t slot" : "entry", k, scan ? nr : vec_len);
	}
	if (!get) {
		T.gac++;
		T.reported += n;
		/* Its vec freed before it returned: see R_HIDE */
		if (doomed && tr_killer.kb < e)
			how |= R_HIDE | R_HIDE_TRACKER;
		rop_end(&o, how, s, B.ttmp, how & R_FORGET ? 0 : n, drop_idx);
		recent_add("tracker", b, e, o.p0, o.p1, ret, doomed ? tr_killer.kb : 0);
	} else {
		T.get++;
	}
	if (!(how & R_FORGET) && ret >= 0 && check)
		check_call("tracker", true, cmd, s, alen, B.ttmp, n, vec_len, flags, b, doomed);
	if (doomed)
		doomed_free(&tr_killer, dlen);
	/* In pages, as the commands count: the drains add them up */
	return scan && ret > 0 ? n : ret;
}

static void *tracker_fn(void *unused)
{
	struct rng r = rng_for(3);
	static const long lens[] = { 1, 2, 3, 7, 16, 100, 511, 512, 513, 1000 };

	(void)unused;
	while (!__atomic_load_n(&T.stop, __ATOMIC_SEQ_CST)) {
		bool get = rndn(&r, 100) < 15;
		long p0 = 0, p1 = S->npages, vl;

		switch (rndn(&r, 10)) {
		case 7:		/* any part */
			p0 = rndn(&r, S->npages);
			p1 = p0 + 1 + rndn(&r, S->npages - p0);
			break;
		case 8:		/* 2 MiB pieces: no THP split */
		case 9:
			p0 = rndn(&r, S->npages / (THP_SIZE / ps)) * (THP_SIZE / ps);
			p1 = p0 + THP_SIZE / ps;
			break;
		}
		/* A short vec now and then: stops inside THPs, splits them */
		vl = rndn(&r, 6) ? p1 - p0 : lens[rndn(&r, 10)];
		if (vl > B.tT)
			vl = B.tT;
		tracker_call(&r, get, p0, p1, vl, tracker_flag(&r),
			     !get && on(K_VECFREE) && rndn(&r, 100) < 5, -1, true);
		usleep_(rndn(&r, 500));
	}
	return NULL;
}

/* ------------------------------------------------------------ clear_refs */

static uint64_t clear_refs_n[6];
static int cr_stop;

static void *clearrefs_fn(void *unused)
{
	struct rng r = rng_for(4);

	(void)unused;
	while (!__atomic_load_n(&cr_stop, __ATOMIC_SEQ_CST)) {
		static const char *const v[] = { "4", "4", "4", "1", "2", "3", "5" };
		const char *w = v[rndn(&r, 7)];

		if (*w == '4') {
			struct rop o;

			inc(&S->crs);
			rop_begin(&o, S->base, S->base + S->npages * ps, false, true, 0);
			o.global = true;
			WHERE(W_CLEARREFS, "writing 4");
			if (write_str(clear_refs_path, w) == 0)
				clear_refs_n[4]++;
			WHERE(W_CLEARREFS, "sleeping");
			rop_end(&o, R_FORGET, 0, NULL, 0, -1);
			inc(&S->crf);
		} else if (write_str(clear_refs_path, w) == 0) {
			clear_refs_n[*w - '0']++;
		}
		usleep_(20000 + rndn(&r, 80000));
	}
	return NULL;
}

/* -------------------------------------------------------------- watchdog */

static double deadline;

static void dump_tasks(pid_t pid)
{
	char path[96], buf[512];
	int i;

	for (i = 0; i < 64; i++) {
		static const char *const files[] = { "comm", "wchan", "syscall", "stack" };
		int tid = i == 0 ? pid : 0, fd;
		unsigned j;

		if (i) {
			/* the thread ids follow the process id closely */
			tid = pid + i;
			snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, tid);
			if (access(path, F_OK))
				continue;
		}
		printf("#   task %d:", tid);
		for (j = 0; j < 4; j++) {
			ssize_t n;

			snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", (int)pid, tid, files[j]);
			fd = open(path, O_RDONLY);
			if (fd < 0)
				continue;
			n = read(fd, buf, sizeof(buf) - 1);
			close(fd);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			for (char *c = buf; *c; c++)
				if (*c == '\n')
					*c = j == 3 ? '|' : ' ';
			printf(" %s=%s", files[j], buf);
		}
		printf("\n");
	}
}

static void hang_report(const char *why)
{
	int i;

	pthread_mutex_lock(&out_lock);
	printf("Bail out! sd-fuzz: watchdog: %s (a hang in the kernel or in the checker)\n", why);
	for (i = 0; i < NR_W; i++)
		if (S->where[i])
			printf("#   %s: %s\n", w_name[i], S->where[i]);
	dump_tasks(getpid());
	if (S->target && S->target != getpid())
		dump_tasks(S->target);
	fflush(stdout);
	if (S->target && S->target != getpid())
		kill(S->target, SIGKILL);
	_exit(2);
}

static void *watchdog_fn(void *unused)
{
	long last = -1;
	double since = now();
	char why[128];

	(void)unused;
	for (;;) {
		usleep_(1000000);
		if (F.done != last || F.t1) {
			last = F.done;
			since = now();
		}
		if (now() - since > 120) {
			snprintf(why, sizeof(why), "the fuzzer made no progress for 120 s at %ld ioctls",
				 F.done);
			hang_report(why);
		}
		if (now() > deadline) {
			snprintf(why, sizeof(why), "still running %.0f s after --max-seconds",
				 deadline - F.t0 - opt.max_seconds);
			hang_report(why);
		}
	}
	return NULL;
}

/* ------------------------------------------------- final phase helpers */

/* GET_AND_CLEAR the whole region until it reports nothing */
static long drain(const char *what, int flags, bool inject, bool check)
{
	long ret, calls = 0, total = 0;
	struct rng r = rng_for(5);

	do {
		bool inj = inject && inject_dropped < 0;

		ret = tracker_call(&r, false, 0, S->npages, S->npages, flags, false,
				   inj ? -2 : -1, check);
		if (inj && inject_dropped >= 0)
			printf("# inject: the %s drain's report of page %ld is dropped: the checker "
			       "must call its write lost\n", what, inject_dropped);
		if (ret > 0)
			total += ret;
		calls++;
	} while (ret > 0 && calls < 64);
	if (ret != 0)
		printf("# drain (%s): the last GET_AND_CLEAR returned %ld after %ld calls\n",
		       what, ret, calls);
	return ret == 0 ? total : -1;
}

struct verdict {
	long written, verified, ambiguous, excused, lost, content_bad;
	uint32_t lost_kinds;
	long lost_by_part[3];
};

static void check_pages(const char *phase, struct verdict *v, bool with_content)
{
	long p;

	memset(v, 0, sizeof(*v));
	for (p = 0; p < S->npages; p++) {
		uint64_t wb = P[p].wb, we = P[p].we, fe = P[p].fe;

		if (!wb)
			continue;
		v->written++;
		if (S->global_fe > fe)
			fe = S->global_fe;
		if (with_content) {
			uint64_t c = content[p];

			if (c != wb && !(c == 0 && P[p].ze > wb)) {
				v->content_bad++;
				fail(&f_content, "page %ld (%s part): holds %#" PRIx64 ", last write stored %#"
				     PRIx64 " (last zeroing op ended %" PRIu64 ")", p, part_of(p), c, wb,
				     P[p].ze);
			}
		}
		if (fe > wb) {
			v->excused++;
		} else if (P[p].rb > we) {
			v->verified++;
		} else if (P[p].re < wb) {
			char k[200];

			v->lost++;
			v->lost_kinds |= P[p].churn;
			v->lost_by_part[p < S->a_pages ? 0 : p < S->a_pages + S->b_pages ? 1 : 2]++;
			kinds_str(P[p].churn, k, sizeof(k));
			fail(phase[0] == 's' ? &f_sweep : &f_lost,
			     "%s: page %ld (%s part, %#lx) written [%" PRIu64 ",%" PRIu64 "], last report [%"
			     PRIu64 ",%" PRIu64 "] (call %" PRIu64 "), last forgetting clear ended %" PRIu64
			     "; since last report: %s", phase, p, part_of(p),
			     (unsigned long)(S->base + p * ps), wb, we, P[p].rb, P[p].re, P[p].rcall,
			     fe, k);
		} else {
			v->ambiguous++;
		}
	}
}

/* -------------------------------------------------- permission check */

/*
 * CLEAR and GET_AND_CLEAR need ptrace-attach rights of the calling task at
 * ioctl time: a process that got the fd (here: inherited, as over
 * SCM_RIGHTS) but runs as nobody gets EPERM and clears nothing; GET works.
 */
static const char *perm_check(void)
{
	static char res[300];
	char *page = map_or_die(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	loff_t v[4];
	long *out = map_or_die(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
	long after;
	pid_t pid;
	int st_;

	if (geteuid() != 0)
		return "not root";
	page[0] = 1;
	sd_call(self_fd, PAGEMAP_SD_CLEAR, page, ps, NULL, 0, 0);
	page[0] = 2;
	pid = fork();
	if (pid == 0) {
		loff_t w[4];

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(99);
		out[0] = sd_call(self_fd, PAGEMAP_SD_GET, page, ps, w, 4, 0);
		out[1] = sd_call(self_fd, PAGEMAP_SD_CLEAR, page, ps, NULL, 0, 0);
		out[2] = sd_call(self_fd, PAGEMAP_SD_GET_AND_CLEAR, page, ps, w, 4, 0);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &st_, 0) != pid || !WIFEXITED(st_) || WEXITSTATUS(st_))
		return "the unprivileged prober failed to run";
	after = sd_call(self_fd, PAGEMAP_SD_GET, page, ps, v, 4, 0);
	if (out[0] != 1)
		fail(&f_perm, "GET by nobody through an inherited fd returned %ld, want 1", out[0]);
	if (out[1] != -EPERM)
		fail(&f_perm, "CLEAR by nobody returned %ld (%s), want EPERM", out[1],
		     out[1] < 0 ? strerrorname_np(-out[1]) : "success");
	if (out[2] != -EPERM)
		fail(&f_perm, "GET_AND_CLEAR by nobody returned %ld (%s), want EPERM", out[2],
		     out[2] < 0 ? strerrorname_np(-out[2]) : "success");
	if (after != 1)
		fail(&f_perm, "afterwards the written page is %s (GET returned %ld): the unprivileged calls cleared it",
		     after == 0 ? "clean" : "?", after);
	snprintf(res, sizeof(res), "GET %ld, CLEAR %ld, GET_AND_CLEAR %ld, page dirty afterwards: %ld",
		 out[0], out[1], out[2], after);
	munmap(page, ps);
	munmap(out, ps);
	return res;
}

/* ------------------------------------------------------------------ main */

static void usage(FILE *f)
{
	int k;

	fprintf(f,
"usage: sd-fuzz [--seed N] [--ioctls N] [--min-ioctls N] [--max-seconds S]\n"
"               [--threads-churn N] [--no-churn | --churn LIST] [--target self|child]\n"
"               [--region-mib M] [--tracker-flags 0|noreused|mixed] [--drain-flags 0|noreused]\n"
"               [--tracker-uapi commands|scan|mixed] [--inject-loss drain|get]\n"
"               [--no-perm-check] [--churn-pause-us N]\n"
"Stops after --ioctls fuzzer ioctls (default 100000) or --max-seconds (default 900),\n"
"whichever comes first; fails if it stopped on time before --min-ioctls (default:\n"
"--ioctls). Churn threads pause 0.5-1.5 x --churn-pause-us (default 4000) between\n"
"operations. TAP 13 on stdout. Churn kinds (default all; --churn takes a comma list):\n");
	for (k = 0; k < NR_KINDS; k++)
		fprintf(f, "  %-11s %s\n", kind_name[k], kind_help[k]);
}

static unsigned parse_churn(const char *s)
{
	unsigned m = 0;
	char *dup = strdup(s), *tok, *save = NULL;
	int k;

	for (tok = strtok_r(dup, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (!strcmp(tok, "all")) {
			m |= (1u << NR_KINDS) - 1;
			continue;
		}
		if (!strcmp(tok, "none"))
			continue;
		for (k = 0; k < NR_KINDS; k++)
			if (!strcmp(tok, kind_name[k]))
				break;
		if (k == NR_KINDS) {
			fprintf(stderr, "sd-fuzz: unknown churn kind '%s'\n", tok);
			usage(stderr);
			exit(2);
		}
		m |= 1u << k;
	}
	free(dup);
	return m;
}

/* The three values of --tracker-flags and --tracker-uapi: never, always, mixed */
static const char *const flags_names[3] = { "0", "noreused", "mixed" };
static const char *const uapi_names[3] = { "commands", "scan", "mixed" };

static int parse_choice(const char *s, const char *const names[3], const char *what)
{
	int i;

	for (i = 0; i < 3; i++)
		if (!strcmp(s, names[i]))
			return i;
	fprintf(stderr, "sd-fuzz: %s: one of %s, %s or %s, not '%s'\n", what, names[0], names[1],
		names[2], s);
	exit(2);
}

static int parse_flags(const char *s)
{
	return strcmp(s, "none") ? parse_choice(s, flags_names, "flags") : 0;
}

static void parse_args(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "seed", 1, NULL, 's' }, { "ioctls", 1, NULL, 'n' },
		{ "min-ioctls", 1, NULL, 'm' }, { "max-seconds", 1, NULL, 't' },
		{ "threads-churn", 1, NULL, 'c' }, { "no-churn", 0, NULL, 'N' },
		{ "churn", 1, NULL, 'C' }, { "target", 1, NULL, 'T' },
		{ "region-mib", 1, NULL, 'r' }, { "tracker-flags", 1, NULL, 'f' },
		{ "drain-flags", 1, NULL, 'd' }, { "inject-loss", 1, NULL, 'i' },
		{ "tracker-uapi", 1, NULL, 'u' },
		{ "no-perm-check", 0, NULL, 'P' },
		{ "churn-pause-us", 1, NULL, 'p' },
		{ "help", 0, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 's': opt.seed = strtoull(optarg, NULL, 0); break;
		case 'n': opt.ioctls = strtol(optarg, NULL, 0); break;
		case 'm': opt.min_ioctls = strtol(optarg, NULL, 0); break;
		case 't': opt.max_seconds = strtod(optarg, NULL); break;
		case 'c': opt.threads_churn = atoi(optarg); break;
		case 'N': opt.churn = 0; break;
		case 'C': opt.churn = parse_churn(optarg); break;
		case 'T':
			if (!strcmp(optarg, "self"))
				opt.target_child = false;
			else if (!strcmp(optarg, "child"))
				opt.target_child = true;
			else {
				usage(stderr);
				exit(2);
			}
			break;
		case 'r': opt.region_mib = atol(optarg); break;
		case 'f': opt.tracker_flags = parse_flags(optarg); break;
		case 'd': opt.drain_flags = parse_flags(optarg); break;
		case 'u': opt.tracker_uapi = parse_choice(optarg, uapi_names, "--tracker-uapi"); break;
		case 'i':
			if (!strcmp(optarg, "drain"))
				opt.inject = INJ_DRAIN;
			else if (!strcmp(optarg, "get"))
				opt.inject = INJ_GET;
			else {
				usage(stderr);
				exit(2);
			}
			break;
		case 'P': opt.no_perm = true; break;
		case 'p': opt.churn_pause_us = atol(optarg); break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc || opt.ioctls < 1 || opt.max_seconds <= 0 || opt.region_mib < 4 ||
	    opt.threads_churn < 0 || opt.drain_flags == 2 || opt.churn_pause_us < 2) {
		usage(stderr);
		exit(2);
	}
	if (opt.min_ioctls < 0)
		opt.min_ioctls = opt.ioctls;
	if (opt.drain_flags < 0)
		opt.drain_flags = opt.tracker_flags ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { 0 };
	struct utsname u;
	struct verdict rv, sv;
	pthread_t tr_t, cr_t, wd_t;
	unsigned long long vm0[NVMSTAT], vm1[NVMSTAT];
	char path[64], buf[512];
	const char *perm = NULL;
	size_t shsize;
	long npages, i, probe;
	int k, ck;
	double fuzz_secs;
	bool soft_dirty_ok;
	uint32_t region_churn_on = 0;

	parse_args(argc, argv);
	setvbuf(stdout, NULL, _IOLBF, 0);
	ps = sysconf(_SC_PAGESIZE);
	user_top = find_user_top();
	npages = opt.region_mib * (1L << 20) / ps;

	shsize = sizeof(struct shared) + npages * (sizeof(struct pagerec) + 8) + ps;
	S = map_or_die(NULL, shsize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS);
	P = (struct pagerec *)(S + 1);
	content = (uint64_t *)(P + npages);
	S->writer_cur = -1;

	/* The target-exit check exists only with a separate target */
	printf("TAP version 13\n1..%d\n", opt.target_child ? 15 : 14);
	uname(&u);
	printf("# kernel %s %s\n", u.release, u.version);
	printf("# sd-fuzz --seed %" PRIu64 " --ioctls %ld --min-ioctls %ld --max-seconds %g "
	       "--threads-churn %d --target %s --region-mib %ld --tracker-flags %d --drain-flags %d "
	       "--tracker-uapi %s%s\n",
	       opt.seed, opt.ioctls, opt.min_ioctls, opt.max_seconds, opt.threads_churn,
	       opt.target_child ? "child" : "self", opt.region_mib, opt.tracker_flags,
	       opt.drain_flags, uapi_names[opt.tracker_uapi],
	       opt.inject == INJ_DRAIN ? " --inject-loss drain" :
	       opt.inject == INJ_GET ? " --inject-loss get" : "");
	kinds_str(opt.churn, buf, sizeof(buf));
	printf("# churn: %s\n", buf);
	printf("# the fuzzer's decisions are a fixed sequence per seed; the other threads "
	       "interleave with it as the scheduler lets them, so runs differ in timing\n");

	detect_features();
	find_own_mappings();

	/* 1: the ioctls exist and work on this kernel */
	self_fd = open("/proc/self/pagemap", O_RDONLY);
	/* An empty range: PAGEMAP_SCAN's side-effect-free probe of its flags */
	if (opt.tracker_uapi && self_fd >= 0 &&
	    scan_clear_call(self_fd, (uintptr_t)S, 0, NULL, 0, 0, 0) < 0)
		die("PAGEMAP_SCAN refuses PM_SCAN_CLEAR_SOFT_DIRTY here (%s): "
		    "--tracker-uapi commands for a kernel without it", strerror(errno));
	if (self_fd < 0)
		die("open /proc/self/pagemap: %s", strerror(errno));
	{
		char *pgp = map_or_die(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
		loff_t v[2];

		pgp[0] = 1;
		probe = sd_call(self_fd, PAGEMAP_SD_GET_AND_CLEAR, pgp, ps, v, 2, 0);
		soft_dirty_ok = probe == 1 && v[0] == 0 &&
				sd_call(self_fd, PAGEMAP_SD_GET, pgp, ps, v, 2, 0) == 0;
		munmap(pgp, ps);
	}
	tap(soft_dirty_ok, NULL, "setup: GET_AND_CLEAR reports a written page and clears it (returned %ld)",
	    probe);
	if (!soft_dirty_ok) {
		printf("Bail out! the soft-dirty ioctls do not work here: %s\n",
		       probe < 0 ? strerror(-probe) : "wrong result");
		return 1;
	}

	/* 2: permissions (before any thread exists) */
	if (!opt.no_perm)
		perm = perm_check();
	if (opt.no_perm || !strcmp(perm, "not root"))
		tap(true, opt.no_perm ? "--no-perm-check" : "not root",
		    "permissions: CLEAR/GET_AND_CLEAR need ptrace-attach rights at ioctl time");
	else {
		tap(f_perm.count == 0, NULL,
		    "permissions: nobody holding the fd: GET works, CLEAR and GET_AND_CLEAR fail with EPERM and clear nothing");
		printf("# %s\n", perm);
		tap_fails(&f_perm);
	}

	sa.sa_sigaction = segv_handler;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigaction(SIGSEGV, &sa, NULL);

	/*
	 * Reserve the region's address ranges before buffers and the fork, so
	 * that the child's region is at the same place in both processes'
	 * view of the layout; the target maps it.
	 */
	region_setup();
	buffers_setup();
	S->target = getpid();
	vmstat(vm0);

	if (opt.target_child) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork: %s", strerror(errno));
		if (pid == 0) {
			/* The parent's mappings of the region go with the parent */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			child_loop();
		}
		S->target = pid;
		/* The observer has no use for its copy of the region */
		munmap((void *)S->base, S->npages * ps);
		mmap((void *)S->base, S->npages * ps, PROT_NONE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
		pm_fd = open(path, O_RDONLY);
		if (pm_fd < 0)
			die("open %s: %s", path, strerror(errno));
		snprintf(clear_refs_path, sizeof(clear_refs_path), "/proc/%d/clear_refs", (int)pid);
	} else {
		pm_fd = self_fd;
		snprintf(clear_refs_path, sizeof(clear_refs_path), "/proc/self/clear_refs");
	}
	printf("# target pid %d: region %#lx, %ld pages (thp %ld, shared %ld, private %ld), "
	       "user space ends at %#lx\n", (int)S->target, (unsigned long)S->base, S->npages,
	       S->a_pages, S->b_pages, S->c_pages, (unsigned long)user_top);
	printf("# features: swap %s, NUMA nodes %d, compact_memory %s, KSM %s, THP %s\n",
	       S->have_swap ? "yes" : "no", S->numa_nodes, S->have_compact ? "yes" : "no",
	       S->have_ksm ? "yes" : "no", S->thp_madvise ? "yes" : "no");
	if (!S->have_swap && on(K_PAGEOUT))
		printf("# pageout: no swap here: MADV_PAGEOUT reclaims nothing of the private parts "
		       "(shared pages still get unmapped)\n");
	if (S->numa_nodes < 2 && on(K_MIGRATE))
		printf("# migrate: %s\n", S->have_compact ? "one NUMA node: compact_memory instead of move_pages/mbind" :
		       "no NUMA and no compaction: skipped");

	/* Start clean: everything reported once, then nothing */
	if (drain("initial", opt.drain_flags ? PAGEMAP_SD_NO_REUSED_REGIONS : 0, false, false) < 0)
		die("the initial drain did not come to 0");

	killer_start(&fz_killer, W_KFZ);
	killer_start(&tr_killer, W_KTR);
	if (fz_killer.uffd < 0)
		printf("# no userfaultfd: vecs are freed at random moments only\n");
	target_cmd(CMD_START, 0, 0);
	pthread_create(&tr_t, NULL, tracker_fn, NULL);
	if (on(K_CLEARREFS))
		pthread_create(&cr_t, NULL, clearrefs_fn, NULL);

	F.t0 = now();
	deadline = F.t0 + opt.max_seconds + 120 + opt.max_seconds / 2;
	pthread_create(&wd_t, NULL, watchdog_fn, NULL);
	{
		double next = F.t0 + 10;

		for (F.done = 0; F.done < opt.ioctls; F.done++) {
			if ((F.done & 63) == 0) {
				double t = now();

				if (t - F.t0 >= opt.max_seconds) {
					F.stopped_on_time = true;
					break;
				}
				if (t >= next) {
					printf("# progress: %ld ioctls in %.0f s (%.0f/s), tracker %" PRIu64
					       " calls, %" PRIu64 " writes\n", F.done, t - F.t0,
					       F.done / (t - F.t0), T.calls, ld(&S->writes));
					next = t + 30;
				}
			}
			fuzz_one();
		}
	}
	F.t1 = now();
	fuzz_secs = F.t1 - F.t0;

	/*
	 * Stop clear_refs and the churn, let the writer run on for a while
	 * with only the tracker around (its last writes must all be reported,
	 * none excused by a late clear), then stop the tracker and, a little
	 * later, the writer.
	 */
	__atomic_store_n(&cr_stop, 1, __ATOMIC_SEQ_CST);
	if (on(K_CLEARREFS))
		pthread_join(cr_t, NULL);
	target_cmd(CMD_STOP_CHURN, 0, 0);
	usleep_(500000);
	/* The last writes are for the final drain to report */
	__atomic_store_n(&T.stop, 1, __ATOMIC_SEQ_CST);
	pthread_join(tr_t, NULL);
	usleep_(200000);
	target_cmd(CMD_STOP_WRITER, 0, 0);
	vmstat(vm1);

	/* The random phase: drain, then every page's last write */
	if (drain("final", opt.drain_flags ? PAGEMAP_SD_NO_REUSED_REGIONS : 0,
		  opt.inject == INJ_DRAIN, true) < 0)
		fail(&f_lost, "the final drain never returned 0");
	target_cmd(CMD_SNAPSHOT, 0, 0);
	check_pages("random phase", &rv, true);

	/*
	 * The sweep: blocks of 16 pages written, GET_AND_CLEARed, written
	 * again with nothing in between. A clear that leaves writable TLB
	 * entries behind loses the second writes.
	 */
	for (i = 0; i < S->npages; i += 16) {
		long e = i + 16 < S->npages ? i + 16 : S->npages, ret, j;
		struct rng r = rng_for(6);

		target_cmd(CMD_WRITE, i, e);
		ret = tracker_call(&r, false, i, e, 16,
				   opt.drain_flags ? PAGEMAP_SD_NO_REUSED_REGIONS : 0, false, -1, true);
		if (ret != e - i) {
			fail(&f_sweep, "sweep: GET_AND_CLEAR of pages [%ld, %ld) just written returned %ld",
			     i, e, ret);
		} else {
			for (j = 0; j < ret; j++)
				if (B.ttmp[j] != (j * ps))
					break;
			if (j < ret)
				fail(&f_sweep, "sweep: block [%ld, %ld) reported offset %#llx at %ld",
				     i, e, (unsigned long long)B.ttmp[j], j);
		}
		target_cmd(CMD_WRITE, i, e);
	}
	if (drain("sweep", opt.drain_flags ? PAGEMAP_SD_NO_REUSED_REGIONS : 0,
		  opt.inject == INJ_DRAIN, true) < 0)
		fail(&f_sweep, "the sweep's drain never returned 0");
	check_pages("sweep", &sv, false);

	if (opt.target_child) {
		long r2;
		loff_t v[4];
		int st_;

		target_cmd(CMD_EXIT, 0, 0);
		waitpid(S->target, &st_, 0);
		r2 = sd_call(pm_fd, PAGEMAP_SD_GET, (void *)S->base, ps, v, 4, 0);
		if (r2 != -ESRCH)
			fail(&f_esrch, "GET on the pagemap fd of an exited target returned %ld, want ESRCH",
			     r2);
	}
	__atomic_store_n(&fz_killer.state, 3, __ATOMIC_SEQ_CST);
	futex_wake(&fz_killer.state);
	__atomic_store_n(&tr_killer.state, 3, __ATOMIC_SEQ_CST);
	futex_wake(&tr_killer.state);

	/* ---- report ---- */
	for (k = 0; k < NR_KINDS; k++)
		if (k <= K_REMAP && on(k))
			region_churn_on |= 1u << k;

	tap(!F.stopped_on_time || F.done >= opt.min_ioctls, NULL,
	    "fuzz: %ld ioctls in %.1f s = %.0f ioctls/s (stopped on %s; minimum %ld)", F.done,
	    fuzz_secs, F.done / fuzz_secs, F.stopped_on_time ? "time" : "count", opt.min_ioctls);
	printf("# decision digest %#018" PRIx64 " (same seed, options and count: same digest)\n",
	       F.digest);
	for (ck = 0; ck < NR_CK; ck++) {
		size_t o = 0;
		int e;

		o += snprintf(buf + o, sizeof(buf) - o, "%s: %" PRIu64 " calls, %" PRIu64 " succeeded",
			      ck_name[ck], F.n[ck], F.ok[ck]);
		for (e = 0; e < 136; e++)
			if (F.err[ck][e])
				o += snprintf(buf + o, sizeof(buf) - o, ", %s %" PRIu64,
					      strerrorname_np(e) ?: "?", F.err[ck][e]);
		printf("#   %s\n", buf);
	}
	{
		size_t o = 0;

		for (k = 0; k < NR_V; k++)
			o += snprintf(buf + o, sizeof(buf) - o, "%s%s %" PRIu64, k ? ", " : "",
				      v_name[k], F.byvec[k]);
		printf("#   vec kinds: %s\n", buf);
		o = 0;
		for (k = 0; k < NR_ARG; k++)
			o += snprintf(buf + o, sizeof(buf) - o, "%s%s %" PRIu64, k ? ", " : "",
				      arg_name[k], F.byarg[k]);
		printf("#   argument pointers: %s\n", buf);
		o = 0;
		for (k = 0; k < NR_V; k++)
			if (F.vec_accept_bad[k])
				o += snprintf(buf + o, sizeof(buf) - o, "%s%s %" PRIu64, o ? ", " : "",
					      v_name[k], F.vec_accept_bad[k]);
		if (o)
			printf("#   calls that succeeded with a vec not writable for vec_len entries "
			       "(allowed: nothing reported past the writable part): %s\n", buf);
		if (F.scribbles)
			printf("#   calls that wrote vec entries between the count returned and vec_len: %"
			       PRIu64 "\n", F.scribbles);
		printf("#   vec freed mid-call: fuzzer %" PRIu64 " armed (%" PRIu64 " by userfaultfd, %" PRIu64
		       " faulted), %" PRIu64 " landed inside the call, %" PRIu64 " after it; tracker %"
		       PRIu64 " armed (%" PRIu64 " userfaultfd, %" PRIu64 " faulted), %" PRIu64
		       " inside, %" PRIu64 " EFAULT; a munmapped vec's address taken by another"
		       " mapping while free: %" PRIu64 " + %" PRIu64 " calls\n",
		       fz_killer.armed, fz_killer.uffd_armed,
		       fz_killer.uffd_faults, fz_killer.midcall, fz_killer.late, tr_killer.armed,
		       tr_killer.uffd_armed, tr_killer.uffd_faults, tr_killer.midcall, T.doomed_efault,
		       fz_killer.collisions, tr_killer.collisions);
	}
	for (ck = 0; ck < NR_CK; ck++) {
		if (ck == CK_UNKNOWN)
			tap(f_fuzz[ck].count == 0, NULL, "fuzz: unknown commands fail with ENOTTY (%" PRIu64 " calls)",
			    F.n[ck]);
		else
			tap(f_fuzz[ck].count == 0, NULL, "fuzz: every %s result and errno is one the contract allows (%"
			    PRIu64 " calls)", ck_name[ck], F.n[ck]);
		tap_fails(&f_fuzz[ck]);
	}
	tap(f_argptr.count == 0, NULL, "fuzz: bad argument pointers fail with EFAULT (%" PRIu64 " calls)",
	    F.n[0] + F.n[1] + F.n[2] + F.n[3] - F.byarg[ARG_GOOD] - F.byarg[ARG_RO]);
	tap_fails(&f_argptr);

	tap(f_reports.count == 0 && f_tracker.count == 0, NULL,
	    "reports well formed (in range, page aligned, ascending, <= vec_len, canaries intact); "
	    "tracker calls succeed");
	printf("#   tracker: %" PRIu64 " calls (%" PRIu64 " GET_AND_CLEAR, %" PRIu64 " GET, %" PRIu64
	       " with NO_REUSED_REGIONS, %" PRIu64 " through PAGEMAP_SCAN), %" PRIu64
	       " pages reported, %.0f calls/s\n", T.calls, T.gac, T.get, T.noreused, T.scans,
	       T.reported, T.calls / fuzz_secs);
	printf("#   fuzzer: %" PRIu64 " clearing calls over the region, %" PRIu64 " pages reported there\n",
	       F.region_clears, F.region_reports);
	tap_fails(&f_reports);
	tap_fails(&f_tracker);

	tap(T.raced_writes + F.raced_writes > 0 &&
	    (!region_churn_on || T.raced_churn + F.raced_churn > 0), NULL,
	    "windows: clears raced with writes (%" PRIu64 ") and with region churn (%" PRIu64 ")",
	    T.raced_writes + F.raced_writes, T.raced_churn + F.raced_churn);
	printf("#   clears that overlapped: writes %" PRIu64 " (tracker %" PRIu64 "), region churn %" PRIu64
	       ", clear_refs %" PRIu64 "\n", T.raced_writes + F.raced_writes, T.raced_writes,
	       T.raced_churn + F.raced_churn, T.raced_clearrefs + F.raced_clearrefs);
	printf("#   writes stamped %" PRIu64 " (%" PRIu64 " faulted and retried), reads %" PRIu64
	       ", forks %" PRIu64
	       ", clear_refs 4/1/2/3/5: %" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "/%" PRIu64 "\n",
	       ld(&S->writes), ld(&S->write_faults), ld(&S->reads), ld(&S->forks), clear_refs_n[4],
	       clear_refs_n[1],
	       clear_refs_n[2], clear_refs_n[3], clear_refs_n[5]);
	for (k = 0; k < NR_KINDS; k++) {
		struct kstat *ks = &S->k[k];

		if (!ks->ops && !ks->skipped)
			continue;
		printf("#   churn %-10s %6" PRIu64 " ops, %5" PRIu64 " failed%s%s, %5" PRIu64
		       " overlapped a clear, %.2f s in all%s\n", kind_name[k], ks->ops, ks->fails,
		       ks->fails ? " last: " : "", ks->fails ? strerrorname_np(ks->last_err) ?: "?" : "",
		       ks->overlap_clear, ks->usec / 1e6,
		       ks->skipped ? " (some skipped: not available or rate-limited)" : "");
	}
	printf("#   churn elsewhere: mmap %" PRIu64 ", munmap %" PRIu64 ", mremap %" PRIu64 ", mprotect %"
	       PRIu64 ", madvise %" PRIu64 ", populate %" PRIu64 ", fork %" PRIu64 ", %.2f s in all\n",
	       S->slot_ops[0], S->slot_ops[1], S->slot_ops[2], S->slot_ops[3], S->slot_ops[4],
	       S->slot_ops[5], S->slot_ops[6], S->slot_usec / 1e6);
	printf("#   THP in the target (AnonHugePages, ShmemPmdMapped): at most %" PRIu64 " and %" PRIu64
	       " pages during the run, %" PRIu64 " and %" PRIu64 " when the churn stopped\n",
	       S->thp_max, S->shmem_pmd_max, S->thp_pages_seen, S->shmem_pmd_seen);
	{
		size_t o = 0;
		unsigned j;

		for (j = 0; j < NVMSTAT; j++)
			if (vm1[j] - vm0[j])
				o += snprintf(buf + o, sizeof(buf) - o, "%s%s +%llu", o ? ", " : "",
					      vmstat_keys[j], vm1[j] - vm0[j]);
		printf("#   vmstat: %s\n", o ? buf : "nothing moved");
	}

	tap(f_get.count == 0, NULL, "mid-run: every GET and GET_AND_CLEAR over the region reports each "
	    "write that completed after the last clear (%ld GETs, %ld GET_AND_CLEARs, %ld page demands, "
	    "%ld pages skipped while another operation was in flight, %ld not reported while a call "
	    "of the other caller whose vec went bad hid them)", get_checks[1], get_checks[0],
	    get_pages_demanded, get_excused, get_hidden);
	tap_fails(&f_get);

	kinds_str(rv.lost_kinds, buf, sizeof(buf));
	tap(f_lost.count == 0, NULL, "no lost writes: %ld pages written, %ld verified, %ld excused by a "
	    "clear, %ld ambiguous, %ld lost", rv.written, rv.verified, rv.excused, rv.ambiguous,
	    rv.lost);
	if (rv.lost)
		printf("#   lost by part: thp %ld, shared %ld, private %ld; kinds that touched lost pages: %s\n",
		       rv.lost_by_part[0], rv.lost_by_part[1], rv.lost_by_part[2], buf);
	tap_fails(&f_lost);

	tap(f_content.count == 0, NULL, "page contents: every written page holds its last write (or zero after "
	    "DONTNEED/FREE/REMOVE)");
	tap_fails(&f_content);

	tap(f_sweep.count == 0 && sv.lost == 0 && sv.ambiguous == 0, NULL,
	    "sweep: %ld pages written, cleared and written again in blocks of 16: %ld verified, %ld lost",
	    sv.written, sv.verified, sv.lost);
	tap_fails(&f_sweep);

	if (opt.target_child) {
		tap(f_esrch.count == 0, NULL, "target exit: the pagemap fd of an exited target gives ESRCH");
		tap_fails(&f_esrch);
	}

	printf("# wall time %.1f s, fuzzer %.0f ioctls/s, all ioctls %.0f/s\n", now() - F.t0 + 0.0,
	       F.done / fuzz_secs, (F.done + T.calls) / fuzz_secs);
	fflush(stdout);
	return tap_failed;
}
