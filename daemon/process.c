/* SPDX-License-Identifier: GPL-2.0-only */
#include <fcntl.h>
#include <math.h>

#include "backend-page-sampling.h"
#include "manager.h"
#include "proc-maps.h"
#include "proc-pid.h"
#include "process.h"
#include "util.h"

const char *process_backend_name(const struct process *p) {
	return p->ops ? p->ops->name : "";
}

/* Its weight in the sampling budget (0: not an estimating backend). */
static void process_set_sampled_resident(struct process *p, uint64_t pages) {
	p->manager->sampled_resident_pages -= MIN(p->sampled_resident_pages, p->manager->sampled_resident_pages);
	p->manager->sampled_resident_pages += pages;
	p->sampled_resident_pages = pages;
}

/* This pass's share of SampleBudgetPagesPerSec, by resident writable memory. */
static uint64_t process_sample_share(struct process *p) {
	struct manager *m = p->manager;
	/* Before its first pass, its RSS stands in. */
	uint64_t weight = p->sampled_resident_pages ?: p->resident_bytes / m->page_size;

	return page_sampling_share(m->config.sample_budget_pages_per_sec, m->sample_interval_usec, weight,
				   MAX(m->sampled_resident_pages, weight));
}

static void process_close_backend(struct process *p) {
	process_set_sampled_resident(p, 0);
	p->sampled_pages = 0;
	if (p->ops)
		p->ops->close(p->backend_state);
	p->ops = NULL;
	p->backend_state = NULL;
}

/*
 * Opens the first backend at or after index 'from' that this kernel has and
 * this process lets us use; refusals fall back to the next one.
 */
static int process_open_backend(struct process *p, int dirfd, size_t from) {
	struct manager *m = p->manager;

	process_close_backend(p);
	for (size_t b = manager_next_backend(m, from); b < m->n_backends; b = manager_next_backend(m, b + 1)) {
		const struct backend_ops *ops = m->backends[b];
		int r = ops->open(dirfd, &p->backend_state);

		if (r == 0) {
			p->backend = b;
			p->ops = ops;
			return 0;
		}
		if (!backend_error_is_refusal(r))
			return r;
		log_warning_errno(r, "Process %d: backend %s unusable (%m), falling back.", (int) p->pid, ops->name);
	}
	return log_error_errno(ENODEV, "Process %d: no backend can measure it.", (int) p->pid);
}

bool process_alive(const struct process *p) {
	return !pidfd_exited(p->pidfd);
}

int process_open_dir(const struct process *p) {
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d", (int) p->pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	/* Still running now that it is open: the directory is our process's. */
	if (!process_alive(p)) {
		close(fd);
		return -ESRCH;
	}
	return fd;
}

static int replace_string(char **field, const char *value) {
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

/* comm and RSS, which the stat file carries and every pass refreshes. */
static int process_refresh_stat(struct process *p, int dirfd) {
	struct proc_stat st;
	int r;

	r = proc_read_stat(dirfd, &st);
	if (r < 0)
		return r;
	r = replace_string(&p->comm, st.comm);
	if (r < 0)
		return r;
	p->resident_bytes = st.rss_pages * p->manager->page_size;
	p->page_faults = st.minflt + st.majflt;
	return 0;
}

static int process_refresh_facts_at(struct process *p, int dirfd) {
	_cleanup_free_ char *cgroup = NULL, *unit = NULL;
	uid_t uid;
	int r;

	r = process_refresh_stat(p, dirfd);
	if (r < 0)
		return r;

	/* The pidfd's answer where the kernel has it: a tenth of the cost of
	 * status, and the rescan asks for every tracked process. */
	r = pidfd_read_euid(p->pidfd, &uid);
	if (r == -EOPNOTSUPP)
		r = proc_read_euid(dirfd, &uid);
	if (r < 0)
		return r;
	p->uid = uid;

	r = proc_read_cgroup(dirfd, &cgroup);
	if (r == -ENODATA)
		cgroup = strdup("");
	else if (r < 0)
		return r;
	if (!cgroup)
		return -ENOMEM;
	r = cgroup_path_get_unit(cgroup, &unit);
	if (r < 0)
		return r;

	free(p->cgroup);
	p->cgroup = TAKE_PTR(cgroup);
	free(p->unit);
	p->unit = TAKE_PTR(unit);
	return 0;
}

int process_refresh_facts(struct process *p) {
	_cleanup_close_ int dirfd = process_open_dir(p);

	if (dirfd < 0)
		return dirfd;
	return process_refresh_facts_at(p, dirfd);
}

int process_read_exe(struct process *p, char **ret) {
	_cleanup_close_ int dirfd = process_open_dir(p);

	if (dirfd < 0)
		return dirfd;
	return proc_read_exe(dirfd, ret);
}

static int read_writable_ranges(struct process *p, int dirfd, struct mem_ranges *ret) {
	unsigned line = 0;
	int r;

	r = maps_read_writable(dirfd, ret, &line);
	if (r == -EBADMSG)
		return log_error_errno(r, "Process %d: cannot parse /proc/%d/maps line %u: %m", (int) p->pid,
				       (int) p->pid, line);
	if (r == -EPROTO)
		return log_error_errno(r, "Process %d: PROCMAP_QUERY on /proc/%d/maps answered out of order: %m",
				       (int) p->pid, (int) p->pid);
	return r;
}

struct instant instant_now(const struct manager *m) {
	return (struct instant) {
		.monotonic = m->now_usec(CLOCK_MONOTONIC),
		.boottime = m->now_usec(CLOCK_BOOTTIME),
		.realtime = m->now_usec(CLOCK_REALTIME),
	};
}

static uint64_t midpoint(uint64_t a, uint64_t b) {
	return a + (b - a) / 2;
}

int process_pass(struct process *p) {
	_cleanup_(mem_ranges_done) struct mem_ranges ranges = {};
	_cleanup_close_ int dirfd = -EBADF;
	struct manager *m = p->manager;
	struct sample *s = &p->pending;
	struct backend_pass_args args;
	struct instant begin, end;
	int r;

	*s = (struct sample) {};
	p->has_pending = false;
	dirfd = process_open_dir(p);
	if (dirfd < 0)
		return dirfd;
	r = process_refresh_stat(p, dirfd);
	if (r < 0)
		return r;

	r = read_writable_ranges(p, dirfd, &ranges);
	if (r < 0)
		return r;
	p->scanned_bytes = ranges.total_bytes;

	args = (struct backend_pass_args) {
		.ranges = ranges.ranges,
		.n_ranges = ranges.n,
		.page_size = m->page_size,
		.pid = p->pid,
		.pidfd = p->pidfd,
		.sample_pages = p->ops->last_estimate ? process_sample_share(p) : 0,
		.rss_pages = p->resident_bytes / m->page_size,
		.page_faults = p->page_faults,
	};
	begin = instant_now(m);
	r = p->ops->pass(p->backend_state, &args, &s->dirty_pages);
	end = instant_now(m);

	if (r == -ESRCH && process_alive(p)) {
		/* Alive with a new address space: it exec'd. Reopen (the access
		 * check may now say no) and start a new interval. */
		log_debug("Process %d: address space replaced (exec); restarting its interval.", (int) p->pid);
		process_stats_rebaseline(&p->stats);
		r = process_open_backend(p, dirfd, p->backend);
		return r < 0 ? r : 0;
	}
	if (r == -ESRCH)
		return r;
	if (backend_error_is_refusal(r)) {
		/* e.g. pagemap-ioctl's EPERM: no ptrace-attach rights at ioctl time. */
		const char *refused = p->ops->name, *why = r == -EACCES || r == -EPERM ? "no access" : "not supported";
		int error = r;

		process_stats_rebaseline(&p->stats);
		r = process_open_backend(p, dirfd, p->backend + 1);
		if (r < 0) {
			log_warning_errno(error, "Process %d: %s refused at pass time (%s: %m), and no other backend "
					  "can measure it.", (int) p->pid, refused, why);
			return r;
		}
		log_warning_errno(error, "Process %d: %s refused at pass time (%s: %m); it is measured by %s from now on, "
				  "from a new baseline.", (int) p->pid, refused, why, p->ops->name);
		return 0;
	}
	if (r < 0) {
		/* Our bug or the kernel's: say so, drop this interval. */
		log_error_errno(r, "Process %d: %s pass failed: %m", (int) p->pid, p->ops->name);
		process_stats_rebaseline(&p->stats);
		return 0;
	}

	/*
	 * A get+clear pass samples each page when its cursor gets there: the
	 * pass as a whole is best placed at its midpoint, not its end (a long
	 * baseline pass would otherwise push the writes made behind its
	 * cursor into a short first interval). Rounded down to the µs: a
	 * foreign clear at the very start of the pass counts as inside.
	 */
	s->have_dirty = r > 0;
	if (r > 0 && p->ops->last_estimate) {
		struct backend_estimate e;

		p->ops->last_estimate(p->backend_state, &e);
		s->estimated = true;
		s->variance_pages = e.variance_pages;
		s->new_pages = e.new_pages;
		process_set_sampled_resident(p, e.resident_pages);
		p->sampled_pages = e.pages_read;
	}
	s->pass_begin_nsec = begin.monotonic * NSEC_PER_USEC;
	s->now_usec = midpoint(begin.boottime, end.boottime);
	s->realtime_usec = midpoint(begin.realtime, end.realtime);
	s->monotonic_usec = midpoint(begin.monotonic, end.monotonic);
	p->has_pending = true;
	return 1;
}

/* Folds p->pending in, with @faults as the fault counters (NULL: none). */
static void process_fold(struct process *p, const struct fault_counts *faults) {
	struct manager *m = p->manager;
	struct sample *s = &p->pending;

	if (faults) {
		s->faults = *faults;
		s->have_faults = true;
		s->have_write_faults = fault_source_counts_writes(m->faults);
		s->dirty_is_own_clears = p->ops->clears_whole_process && fault_source_sees_clears(m->faults);
	}
	(void) process_stats_account(&p->stats, s, m->page_size);
	p->last_sample_realtime_usec = s->realtime_usec;
	p->last_sample_monotonic_usec = s->monotonic_usec;
	p->has_pending = false;
}

/* The process's counters in the last snapshot; -ENODATA: it has none. */
static int process_read_faults(struct process *p, bool faults_ok, struct fault_counts *ret) {
	int r;

	if (!p->faults_tracked || !faults_ok)
		return -ENODATA;
	r = fault_source_read(p->manager->faults, p->pid, ret);
	if (r < 0)
		log_warning_errno(r, "Process %d: cannot read fault counters: %m", (int) p->pid);
	return r;
}

void process_account(struct process *p, bool faults_ok) {
	struct fault_counts c;
	int r;

	if (!p->has_pending)
		return;
	r = process_read_faults(p, faults_ok, &c);
	process_fold(p, r >= 0 ? &c : NULL);
}

/* No write fault since the last sample: nothing was written (as far as
 * faults-only can tell), so /proc has nothing to add to the sample. */
static bool faults_idle(const struct process *p, const struct fault_counts *c) {
	const struct fault_counts *last = &p->stats.last_faults;

	return p->stats.have_baseline && p->stats.have_fault_baseline && c->wp_faults == last->wp_faults &&
		c->np_write_faults == last->np_write_faults;
}

int process_sample_faults(struct process *p, bool faults_ok, const struct instant *snapshot) {
	struct fault_counts c;
	int r, k;

	k = process_read_faults(p, faults_ok, &c);
	if (k < 0 || !faults_idle(p, &c)) {
		r = process_pass(p);
		if (r <= 0)
			return r;
	} else
		p->pending = (struct sample) {};
	/* The counters are the count: the sample is when they were read. */
	p->pending.pass_begin_nsec = snapshot->monotonic * NSEC_PER_USEC;
	p->pending.now_usec = snapshot->boottime;
	p->pending.realtime_usec = snapshot->realtime;
	p->pending.monotonic_usec = snapshot->monotonic;
	p->has_pending = true;
	process_fold(p, k >= 0 ? &c : NULL);
	return 1;
}

static bool same_double(double a, double b) {
	return a == b || (isnan(a) && isnan(b));
}

unsigned process_take_changes(struct process *p) {
	const struct process_stats *s = &p->stats;
	struct process_announced now = {
		.dirty_rate = s->dirty_bytes_per_sec,
		.dirty_stderr = s->dirty_bytes_per_sec_stderr,
		.dirty_avg = { s->dirty_avgs.avg10, s->dirty_avgs.avg60, s->dirty_avgs.avg300 },
		.dirty_avg_var = { s->dirty_avgs.var10, s->dirty_avgs.var60, s->dirty_avgs.var300 },
		.write_fault_rate = s->write_faults_per_sec,
		.dirtied_total = s->dirtied_bytes_total,
		.write_faults_total = s->write_faults_total,
		.foreign_clears = s->foreign_clears,
		.resident = p->resident_bytes,
		.scanned = p->scanned_bytes,
		.sampled_pages = p->sampled_pages,
		.disturbed = s->last_sample_disturbed,
	}, *was = &p->announced;
	unsigned changes = 0;

	for (unsigned i = 0; i < 3; i++) {
		if (!same_double(now.dirty_avg[i], was->dirty_avg[i]))
			changes |= PROCESS_CHANGED_DIRTY_AVG10 << i;
		if (!same_double(now.dirty_avg_var[i], was->dirty_avg_var[i]))
			changes |= PROCESS_CHANGED_DIRTY_AVG10_STDERR << i;
	}
	if (!same_double(now.dirty_rate, was->dirty_rate))
		changes |= PROCESS_CHANGED_DIRTY_RATE;
	if (!same_double(now.dirty_stderr, was->dirty_stderr))
		changes |= PROCESS_CHANGED_DIRTY_STDERR;
	if (!same_double(now.write_fault_rate, was->write_fault_rate))
		changes |= PROCESS_CHANGED_WRITE_FAULT_RATE;
	if (now.dirtied_total != was->dirtied_total)
		changes |= PROCESS_CHANGED_DIRTIED_TOTAL;
	if (now.write_faults_total != was->write_faults_total)
		changes |= PROCESS_CHANGED_WRITE_FAULTS_TOTAL;
	if (now.foreign_clears != was->foreign_clears)
		changes |= PROCESS_CHANGED_FOREIGN_CLEARS;
	if (now.disturbed != was->disturbed)
		changes |= PROCESS_CHANGED_DISTURBED;
	if (now.resident != was->resident)
		changes |= PROCESS_CHANGED_RESIDENT;
	if (now.scanned != was->scanned)
		changes |= PROCESS_CHANGED_SCANNED;
	if (now.sampled_pages != was->sampled_pages)
		changes |= PROCESS_CHANGED_SAMPLED_PAGES;
	*was = now;
	return changes;
}

int process_new(struct manager *m, pid_t pid, enum track_origin origin, size_t backend, struct process **ret) {
	_cleanup_close_ int dirfd = -EBADF;
	struct process *p;
	struct proc_stat st;
	uint64_t boottime_now;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	*p = (struct process) {
		.manager = m,
		.pid = pid,
		.pidfd = -EBADF,
		.origin = origin,
	};
	process_stats_init(&p->stats);

	r = proc_open_pinned(pid, &dirfd, &p->pidfd, &st);
	if (r < 0)
		goto fail;
	if (st.flags & PF_KTHREAD_FLAG) {
		r = -EOPNOTSUPP;
		goto fail;
	}
	p->start_ticks = st.start_ticks;
	p->start_boottime_usec = proc_start_ticks_to_usec(st.start_ticks, m->ticks_per_sec);
	/* The wall-clock start: now, less how long ago (on the boot clock) it started. */
	boottime_now = now_usec(CLOCK_BOOTTIME);
	p->start_realtime_usec = now_usec(CLOCK_REALTIME) -
		(boottime_now > p->start_boottime_usec ? boottime_now - p->start_boottime_usec : 0);
	r = process_path_from_pid(pid, p->path, sizeof(p->path));
	if (r < 0)
		goto fail;

	r = process_refresh_facts_at(p, dirfd);
	if (r < 0)
		goto fail;

	r = process_open_backend(p, dirfd, backend);
	if (r < 0)
		goto fail;

	if (m->faults) {
		r = fault_source_track(m->faults, pid);
		if (r < 0)
			log_warning_errno(r, "Process %d: cannot register with the fault counters: %m", (int) pid);
		p->faults_tracked = r >= 0;
	}

	/* The baseline pass: clears what accumulated before we looked. Its
	 * fault counters are read right after it: they include its clear. */
	r = process_pass(p);
	if (r < 0)
		goto fail;
	if (r > 0) {
		struct fault_counts c;
		int k = p->faults_tracked ? fault_source_read_now(m->faults, pid, &c) : -ENODATA;

		if (k < 0 && k != -ENODATA)
			log_warning_errno(k, "Process %d: cannot read its fault counters: %m", (int) pid);
		process_fold(p, k >= 0 ? &c : NULL);
	}
	/* What InterfacesAdded will carry. */
	(void) process_take_changes(p);

	*ret = p;
	return 0;

fail:
	process_free(p);
	return r;
}

struct process *process_free(struct process *p) {
	if (!p)
		return NULL;
	if (p->faults_tracked)
		(void) fault_source_untrack(p->manager->faults, p->pid);
	sd_event_source_disable_unref(p->exit_source);
	process_close_backend(p);
	safe_close(p->pidfd);
	free(p->comm);
	free(p->unit);
	free(p->cgroup);
	free(p);
	return NULL;
}
