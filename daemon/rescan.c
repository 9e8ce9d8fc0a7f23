/* SPDX-License-Identifier: GPL-2.0-only */
#include <fcntl.h>

#include "manager.h"
#include "parse-util.h"
#include "proc-pid.h"
#include "rescan.h"
#include "rules.h"
#include "util.h"

struct scan_candidate {
	pid_t pid;
	struct proc_stat stat;
	uid_t uid;
	char *exe, *cgroup, *unit;
};

static void scan_candidate_done(struct scan_candidate *c) {
	free(c->exe);
	free(c->cgroup);
	free(c->unit);
}

/* Reads only what the rules look at; -ESRCH and -EACCES just skip a process. */
static int scan_read_facts(int procfd, const struct facts_needed *need, struct scan_candidate *c) {
	int r;

	r = proc_read_stat(procfd, &c->stat);
	if (r < 0)
		return r;
	if (c->stat.flags & PF_KTHREAD_FLAG)
		return -EOPNOTSUPP;
	r = proc_read_euid(procfd, &c->uid);
	if (r < 0)
		return r;
	if (need->exe) {
		r = proc_read_exe(procfd, &c->exe);
		if (r < 0 && r != -ENOENT && r != -EACCES)
			return r;
	}
	if (need->cgroup) {
		r = proc_read_cgroup(procfd, &c->cgroup);
		if (r >= 0)
			r = cgroup_path_get_unit(c->cgroup, &c->unit);
		if (r < 0 && r != -ENODATA)
			return r;
	}
	return 0;
}

static bool is_untracked(struct manager *m, pid_t pid, uint64_t start_ticks) {
	for (size_t i = 0; i < m->n_untracked; i++)
		if (m->untracked[i].pid == pid && m->untracked[i].start_ticks == start_ticks)
			return true;
	return false;
}

/* Phase 1, one process: a rule-tracked process that no longer matches (or is gone) is untracked. */
static void recheck(struct manager *m, struct process *p) {
	const struct facts_needed *need = &m->rescan.need;
	_cleanup_free_ char *exe = NULL;
	struct proc_facts f;

	if (p->origin != TRACK_ORIGIN_RULE) {
		(void) process_refresh_facts(p);
		return;
	}
	if (process_refresh_facts(p) == -ESRCH) {
		manager_untrack(m, p, false, "gone");
		return;
	}
	if (need->exe)
		(void) process_read_exe(p, &exe);
	f = (struct proc_facts) {
		.comm = p->comm, .exe = exe, .cgroup = p->cgroup, .unit = p->unit,
		.uid = p->uid, .resident_bytes = p->resident_bytes,
	};
	if (!rules_match(&m->config, &f, NULL))
		manager_untrack(m, p, false, "no [Track] rule matches any more");
}

/* Phase 2, one entry of /proc: tracked if a rule matches it. */
static void scan(struct manager *m, const struct dirent *de) {
	_cleanup_(scan_candidate_done) struct scan_candidate c = {};
	_cleanup_close_ int procfd = -EBADF;
	struct process *p;
	struct proc_facts f;
	uint32_t pid;
	unsigned line;
	int r;

	if (safe_atou32(de->d_name, &pid) < 0 || pid == 0 || pid > INT32_MAX || (pid_t) pid == getpid())
		return;
	p = manager_find_process(m, (pid_t) pid);

	procfd = openat(dirfd(m->rescan.proc), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (procfd < 0)
		return;
	c.pid = (pid_t) pid;
	if (scan_read_facts(procfd, &m->rescan.need, &c) < 0)
		return;
	if (p && p->start_ticks == c.stat.start_ticks)
		return; /* already tracked */
	if (is_untracked(m, c.pid, c.stat.start_ticks))
		return;

	f = (struct proc_facts) {
		.comm = c.stat.comm, .exe = c.exe, .cgroup = c.cgroup, .unit = c.unit,
		.uid = c.uid, .resident_bytes = c.stat.rss_pages * m->page_size,
	};
	if (!rules_match(&m->config, &f, &line))
		return;

	if (p) /* same PID, other start time: the tracked one is gone */
		manager_untrack(m, p, false, "PID reused by another process");

	log_debug("Process %d (%s) matches the [Track] rule at line %u.", (int) pid, c.stat.comm, line);
	r = manager_track(m, c.pid, TRACK_ORIGIN_RULE, rules_backend_rule(&m->config, &f), NULL);
	if (r < 0 && r != -ESRCH)
		log_warning_errno(r, "Cannot track process %d (%s): %m", (int) pid, c.stat.comm);
}

/* Phase 3, one identity: forgotten if its process is gone. */
static void prune(struct manager *m, size_t i) {
	char path[32];
	_cleanup_close_ int fd = -EBADF;
	struct proc_stat st;

	snprintf(path, sizeof(path), "/proc/%d", (int) m->untracked[i].pid);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0 && proc_read_stat(fd, &st) >= 0 && st.start_ticks == m->untracked[i].start_ticks)
		return;
	/* The last one, moved here, was checked already (the walk goes down) or is newer than the walk. */
	m->untracked[i] = m->untracked[--m->n_untracked];
}

static void close_proc(struct rescan *s) {
	if (s->proc) {
		closedir(s->proc);
		s->proc = NULL;
	}
}

/* The end of phase 1 (after it, 2; after 2, 3). */
static void enter_scan(struct manager *m) {
	struct rescan *s = &m->rescan;

	s->phase = RESCAN_SCAN;
	s->proc = opendir("/proc");
	if (!s->proc) {
		log_error_errno(errno, "Cannot open /proc for a rescan: %m");
		s->phase = RESCAN_PRUNE;
		s->prune_left = m->n_untracked;
	}
}

static int arm_timer(struct manager *m) {
	int r;

	if (!m->rescan.timer)
		return 0;
	r = sd_event_source_set_time_relative(m->rescan.timer, m->config.rescan_interval_usec);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(m->rescan.timer, SD_EVENT_ONESHOT);
}

static void finish(struct manager *m) {
	struct rescan *s = &m->rescan;

	s->running = false;
	s->n_steps++;
	close_proc(s);
	steps_cancel(&s->steps);
	if (arm_timer(m) < 0)
		log_error("Cannot schedule the next rescan.");
	log_debug("Rescan: %zu processes tracked; %u steps, %" PRIu64 " us scanning in %" PRIu64 " us.",
		  m->n_processes, s->n_steps, s->busy_usec, now_usec(CLOCK_MONOTONIC) - s->begin_usec);
	manager_rescan_finished(m);
}

/* One unit of work of the phase in progress; false when the rescan is done. */
static bool visit_next(struct manager *m) {
	struct rescan *s = &m->rescan;

	switch (s->phase) {
	case RESCAN_RECHECK: {
		struct process *p = manager_first_process_from(m, s->cursor);

		if (p) {
			s->cursor = p->pid + 1; /* before the visit: it may untrack p */
			recheck(m, p);
		} else if (m->config.n_rules > 0)
			enter_scan(m);
		else
			return false;
		return true;
	}
	case RESCAN_SCAN: {
		struct dirent *de = readdir(s->proc);

		if (de)
			scan(m, de);
		else {
			close_proc(s);
			s->phase = RESCAN_PRUNE;
			s->prune_left = m->n_untracked;
		}
		return true;
	}
	case RESCAN_PRUNE:
		/* Identities may have come (at the end) and gone since the last step. */
		s->prune_left = MIN(s->prune_left, m->n_untracked);
		if (s->prune_left == 0)
			return false;
		prune(m, --s->prune_left);
		return true;
	}
	return false;
}

int rescan_step(struct manager *m, uint64_t budget_usec) {
	struct rescan *s = &m->rescan;
	uint64_t begin = now_usec(CLOCK_MONOTONIC), now = begin;

	if (!s->running)
		return 1;
	do {
		if (!visit_next(m)) {
			s->busy_usec += now_usec(CLOCK_MONOTONIC) - begin;
			finish(m);
			return 1;
		}
		now = now_usec(CLOCK_MONOTONIC);
	} while (now - begin < budget_usec);

	s->busy_usec += now - begin;
	s->n_steps++;
	return 0;
}

void rescan_begin(struct manager *m) {
	struct rescan *s = &m->rescan;

	close_proc(s);
	*s = (struct rescan) {
		.timer = s->timer,
		.steps = s->steps,
		.running = true,
		.phase = RESCAN_RECHECK,
		.begin_usec = now_usec(CLOCK_MONOTONIC),
	};
	rules_facts_needed(&m->config, &s->need);
	if (s->steps.source && steps_schedule(&s->steps) < 0)
		log_error("Cannot schedule the rescan.");
}

void rescan_run(struct manager *m) {
	rescan_begin(m);
	while (rescan_step(m, UINT64_MAX) == 0)
		;
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
	struct manager *m = userdata;

	/* One in progress re-arms the timer when it ends. */
	if (!m->rescan.running)
		rescan_begin(m);
	return 0;
}

int rescan_start(struct manager *m) {
	int r;

	r = steps_add(&m->rescan.steps, m, rescan_step, "rescan");
	if (r < 0)
		return r;
	return sd_event_add_time_relative(m->event, &m->rescan.timer, CLOCK_MONOTONIC, 0, 0, on_timer, m);
}

void rescan_stop(struct manager *m) {
	struct rescan *s = &m->rescan;

	s->timer = sd_event_source_disable_unref(s->timer);
	steps_remove(&s->steps);
	close_proc(s);
	s->running = false;
}
