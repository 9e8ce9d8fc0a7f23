/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>

#include <systemd/sd-daemon.h>

#include "manager.h"
#include "proc-pid.h"
#include "selection.h"
#include "util.h"

static int manager_arm_timer(struct manager *m, sd_event_source *s, uint64_t usec) {
	int r;

	r = sd_event_source_set_time_relative(s, usec);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

static void manager_notify_status(struct manager *m) {
	(void) sd_notifyf(false, "STATUS=Tracking %zu process%s; backend %s%s.", m->n_tracked,
			  m->n_tracked == 1 ? "" : "es", backend_to_string(m->default_backend),
			  m->default_backend == BACKEND_FAULTS_ONLY && !fault_source_counts_writes(m->faults) ?
			  " (no write-fault counters: no rates)" : "");
}

struct tracked *manager_find(struct manager *m, pid_t pid) {
	size_t lo = 0, hi = m->n_tracked;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->tracked[mid]->pid == pid)
			return m->tracked[mid];
		if (m->tracked[mid]->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int manager_insert(struct manager *m, struct tracked *t) {
	struct tracked **a;
	size_t i;

	a = realloc(m->tracked, (m->n_tracked + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	m->tracked = a;
	for (i = m->n_tracked; i > 0 && a[i - 1]->pid > t->pid; i--)
		a[i] = a[i - 1];
	a[i] = t;
	m->n_tracked++;
	return 0;
}

static void manager_remove(struct manager *m, struct tracked *t) {
	for (size_t i = 0; i < m->n_tracked; i++)
		if (m->tracked[i] == t) {
			memmove(m->tracked + i, m->tracked + i + 1, (m->n_tracked - i - 1) * sizeof(*m->tracked));
			m->n_tracked--;
			return;
		}
}

static bool manager_is_untracked(struct manager *m, pid_t pid, uint64_t start_ticks) {
	for (size_t i = 0; i < m->n_untracked; i++)
		if (m->untracked[i].pid == pid && m->untracked[i].start_ticks == start_ticks)
			return true;
	return false;
}

static void manager_forget_untracked(struct manager *m, pid_t pid) {
	for (size_t i = 0; i < m->n_untracked; i++)
		if (m->untracked[i].pid == pid) {
			m->untracked[i] = m->untracked[--m->n_untracked];
			return;
		}
}

void manager_untrack(struct manager *m, struct tracked *t, bool by_operator, const char *why) {
	log_info("Untracking process %d (%s): %s.", (int) t->pid, t->comm, why);

	if (by_operator && t->origin == TRACK_ORIGIN_RULE) {
		struct identity *a = realloc(m->untracked, (m->n_untracked + 1) * sizeof(*a));

		if (a) {
			m->untracked = a;
			m->untracked[m->n_untracked++] = (struct identity) { t->pid, t->start_ticks };
		} else
			log_oom(); /* a rule may pick it up again; nothing else is lost */
	}

	/* Announce while the object still resolves, then drop it. */
	(void) bus_process_emit_removed(t);
	manager_remove(m, t);
	tracked_free(t);
	(void) bus_manager_emit_changed(m, "TrackedProcesses");
	manager_notify_status(m);
}

int manager_track(struct manager *m, pid_t pid, enum track_origin origin, struct tracked **ret) {
	struct tracked *t;
	int r;

	t = manager_find(m, pid);
	if (t && !tracked_alive(t)) {
		/* Exited, its exit event not yet dispatched: a PID reuse race. */
		manager_untrack(m, t, false, "exited");
		t = NULL;
	}
	if (t) {
		if (origin == TRACK_ORIGIN_API)
			t->origin = TRACK_ORIGIN_API;
		if (ret)
			*ret = t;
		return 0;
	}

	r = tracked_new(m, pid, origin, &t);
	if (r < 0)
		return r;
	r = manager_insert(m, t);
	if (r < 0) {
		tracked_free(t);
		return r;
	}
	if (origin == TRACK_ORIGIN_API)
		manager_forget_untracked(m, pid);

	log_info("Tracking process %d (%s) with backend %s.", (int) pid, t->comm, backend_to_string(t->backend));
	(void) bus_process_emit_added(t);
	(void) bus_manager_emit_changed(m, "TrackedProcesses");
	manager_notify_status(m);
	if (ret)
		*ret = t;
	return 1;
}

/*
 * One sample of every tracked process: first all soft-dirty passes, then
 * one read of all fault counters (batched: one map walk, not a lookup per
 * process), then the accounting. Reading after every pass keeps a foreign
 * clear that raced with a pass from escaping notice (accounting.h).
 */
static int on_sample_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	struct manager *m = userdata;
	uint64_t begin = now_usec(CLOCK_MONOTONIC);
	bool faults_ok = false;
	int r;

	for (size_t i = 0; i < m->n_tracked;) {
		struct tracked *t = m->tracked[i];

		r = tracked_pass(t);
		if (r == -ESRCH) {
			manager_untrack(m, t, false, "gone");
			continue; /* the array shifted */
		}
		if (r < 0)
			log_warning_errno(r, "Process %d: sample failed: %m", (int) t->pid);
		i++;
	}

	if (m->faults && m->n_tracked > 0) {
		r = fault_source_snapshot(m->faults);
		if (r < 0)
			log_warning_errno(r, "Cannot read the fault counters; this interval has none: %m");
		faults_ok = r >= 0;
	}

	for (size_t i = 0; i < m->n_tracked; i++) {
		struct tracked *t = m->tracked[i];

		if (!t->has_pending)
			continue;
		tracked_account(t, faults_ok);
		(void) bus_process_emit_sampled(t);
	}

	m->last_sample_duration_usec = now_usec(CLOCK_MONOTONIC) - begin;
	return manager_arm_timer(m, s, m->sample_interval_usec);
}

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
static int scan_read_facts(struct manager *m, int procfd, const struct facts_needed *need, struct scan_candidate *c) {
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

static void manager_rescan(struct manager *m) {
	_cleanup_(closedirp) DIR *d = NULL;
	struct facts_needed need;
	struct dirent *de;
	pid_t self = getpid();

	rules_facts_needed(&m->config, &need);

	/* Rule-tracked processes that no longer match go first. */
	for (size_t i = 0; i < m->n_tracked;) {
		struct tracked *t = m->tracked[i];
		struct proc_facts f;

		if (t->origin == TRACK_ORIGIN_RULE) {
			if (tracked_refresh_facts(t) == -ESRCH) {
				manager_untrack(m, t, false, "gone");
				continue;
			}
			_cleanup_free_ char *exe = NULL;

			if (need.exe)
				(void) proc_read_exe(t->procfd, &exe);
			f = (struct proc_facts) {
				.comm = t->comm, .exe = exe, .cgroup = t->cgroup, .unit = t->unit,
				.uid = t->uid, .resident_bytes = t->resident_bytes,
			};
			if (!rules_match(&m->config, &f, NULL)) {
				manager_untrack(m, t, false, "no [Track] rule matches any more");
				continue;
			}
		} else
			(void) tracked_refresh_facts(t);
		i++;
	}

	if (m->config.n_rules == 0)
		return;

	d = opendir("/proc");
	if (!d) {
		log_error_errno(errno, "Cannot open /proc for a rescan: %m");
		return;
	}

	while ((de = readdir(d))) {
		_cleanup_(scan_candidate_done) struct scan_candidate c = {};
		_cleanup_close_ int procfd = -EBADF;
		struct tracked *t;
		struct proc_facts f;
		uint32_t pid;
		unsigned line;
		int r;

		if (safe_atou32(de->d_name, &pid) < 0 || pid == 0 || (pid_t) pid == self)
			continue;
		t = manager_find(m, (pid_t) pid);

		procfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (procfd < 0)
			continue;
		c.pid = (pid_t) pid;
		if (scan_read_facts(m, procfd, &need, &c) < 0)
			continue;
		if (t && t->start_ticks == c.stat.start_ticks)
			continue; /* already tracked */
		if (manager_is_untracked(m, c.pid, c.stat.start_ticks))
			continue;

		f = (struct proc_facts) {
			.comm = c.stat.comm, .exe = c.exe, .cgroup = c.cgroup, .unit = c.unit,
			.uid = c.uid, .resident_bytes = c.stat.rss_pages * m->page_size,
		};
		if (!rules_match(&m->config, &f, &line))
			continue;

		if (t) /* same PID, other start time: the tracked one is gone */
			manager_untrack(m, t, false, "PID reused by another process");

		log_debug("Process %d (%s) matches the [Track] rule at line %u.", (int) pid, c.stat.comm, line);
		r = manager_track(m, c.pid, TRACK_ORIGIN_RULE, NULL);
		if (r < 0 && r != -ESRCH)
			log_warning_errno(r, "Cannot track process %d (%s): %m", (int) pid, c.stat.comm);
	}

	/* Forget untracked identities whose process is gone. */
	for (size_t i = 0; i < m->n_untracked;) {
		char path[32];
		_cleanup_close_ int fd = -EBADF;
		struct proc_stat st;

		snprintf(path, sizeof(path), "/proc/%d", (int) m->untracked[i].pid);
		fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd >= 0 && proc_read_stat(fd, &st) >= 0 && st.start_ticks == m->untracked[i].start_ticks) {
			i++;
			continue;
		}
		m->untracked[i] = m->untracked[--m->n_untracked];
	}
}

static int on_rescan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	struct manager *m = userdata;

	manager_rescan(m);
	return manager_arm_timer(m, s, m->config.rescan_interval_usec);
}

static enum backend manager_pick_default_backend(struct manager *m) {
	enum backend b = backend_next_available(&m->support, m->config.backend);

	if (m->config.backend != BACKEND_AUTO && b != m->config.backend)
		log_warning("Configured Backend=%s is not available on this kernel; using %s.",
			    backend_to_string(m->config.backend), backend_to_string(b));
	return b;
}

static int manager_apply_config(struct manager *m, struct config *c) {
	enum backend old_backend = m->default_backend;
	uint64_t old_interval = m->sample_interval_usec;

	config_done(&m->config);
	m->config = *c;
	*c = (struct config) {};

	m->sample_interval_usec = m->config.sample_interval_usec;
	m->default_backend = manager_pick_default_backend(m);

	if (m->sample_timer && old_interval != m->sample_interval_usec) {
		(void) manager_arm_timer(m, m->sample_timer, m->sample_interval_usec);
		(void) bus_manager_emit_changed(m, "SampleIntervalUSec");
	}
	if (m->rescan_timer)
		(void) manager_arm_timer(m, m->rescan_timer, m->config.rescan_interval_usec);
	if (m->bus && old_backend != m->default_backend)
		(void) bus_manager_emit_changed(m, "Backend");
	return 0;
}

static int manager_load_config(struct manager *m, char **ret_error) {
	struct config c;
	bool missing = false;
	int r;

	r = config_load(m->config_path, &c, &missing, ret_error);
	if (r < 0)
		return r;
	if (missing)
		log_info("%s does not exist; using the built-in default (no [Track] rules).", m->config_path);
	else
		log_info("Loaded %s: %zu [Track] rule%s, sample interval %" PRIu64 " ms.", m->config_path,
			 c.n_rules, c.n_rules == 1 ? "" : "s", c.sample_interval_usec / USEC_PER_MSEC);
	return manager_apply_config(m, &c);
}

int manager_reload(struct manager *m, char **ret_error) {
	_cleanup_free_ char *error = NULL;
	int r;

	(void) sd_notify(false, "RELOADING=1");
	r = manager_load_config(m, &error);
	if (r < 0) {
		if (error)
			log_error("%s", error);
		else
			log_error_errno(r, "Cannot reload %s: %m", m->config_path);
		log_error("Keeping the previous configuration.");
		if (ret_error)
			*ret_error = TAKE_PTR(error);
	} else
		manager_rescan(m);
	(void) sd_notify(false, "READY=1");
	manager_notify_status(m);
	return r;
}

int manager_set_sample_interval(struct manager *m, uint64_t usec) {
	if (usec < SAMPLE_INTERVAL_MIN_USEC || usec > SAMPLE_INTERVAL_MAX_USEC)
		return -ERANGE;
	if (usec == m->sample_interval_usec)
		return 0;
	m->sample_interval_usec = usec;
	log_info("Sample interval set to %" PRIu64 " us.", usec);
	(void) bus_manager_emit_changed(m, "SampleIntervalUSec");
	return manager_arm_timer(m, m->sample_timer, usec);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
	(void) manager_reload(userdata, NULL);
	return 0;
}

int manager_new(const char *config_path, const char *bus_address, struct manager **ret) {
	_cleanup_(manager_freep) struct manager *m = NULL;
	_cleanup_free_ char *error = NULL;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return log_oom();
	m->bus_address = bus_address;
	m->default_backend = BACKEND_FAULTS_ONLY;
	m->page_size = (uint64_t) sysconf(_SC_PAGESIZE);
	m->ticks_per_sec = sysconf(_SC_CLK_TCK);
	config_init_default(&m->config);
	m->sample_interval_usec = m->config.sample_interval_usec;
	m->config_path = strdup(config_path);
	m->ioctl_vec = calloc(MANAGER_IOCTL_VEC_LEN, sizeof(loff_t));
	if (!m->config_path || !m->ioctl_vec)
		return log_oom();

	/* Probe first: the config's Backend= is resolved against what exists. */
	(void) sd_notify(false, "STATUS=Probing soft-dirty backends...");
	backend_probe(&m->support);
	for (int b = 0; b < _BACKEND_MAX; b++)
		log_info("Backend %s: %s.", backend_to_string(b), m->support.available[b] ? "available" : "absent");

	r = manager_load_config(m, &error);
	if (r < 0) {
		/* At start-up there is no old config to keep: fail loudly. */
		if (error)
			return log_error_errno(r, "%s", error);
		return log_error_errno(r, "Cannot load %s: %m", config_path);
	}

	*ret = TAKE_PTR(m);
	return 0;
}

/* Opens the fault counters, or says in one line why there are none. */
static void manager_open_faults(struct manager *m) {
	const char *no_rates = m->default_backend == BACKEND_FAULTS_ONLY ? " and faults-only yields no rates" : "";
	char why[512] = "";
	int r;

	r = fault_source_open(&m->faults, why, sizeof(why));
	if (r < 0) {
		log_notice("No per-process fault counters: %s. WriteFaults* stay NaN%s.", why, no_rates);
		return;
	}
	if (!fault_source_counts_writes(m->faults) && !fault_source_sees_clears(m->faults)) {
		log_notice("No per-process fault counters: the fault hook %s counts no write faults, "
			   "and foreign soft-dirty clears are not visible%s%s. WriteFaults* stay NaN%s.",
			   fault_source_hook(m->faults), why[0] ? ": " : "", why, no_rates);
		m->faults = fault_source_free(m->faults);
		return;
	}
	log_info("Fault counters attached via %s: write faults %s, foreign soft-dirty clears %s%s%s.",
		 fault_source_hook(m->faults),
		 fault_source_counts_writes(m->faults) ? "counted" : "not counted (WriteFaults* stay NaN)",
		 fault_source_sees_clears(m->faults) ? "visible" : "not visible",
		 why[0] ? "; " : "", why);
}

int manager_start(struct manager *m) {
	sigset_t ss;
	int r;

	manager_open_faults(m);

	r = sd_event_default(&m->event);
	if (r < 0)
		return log_error_errno(r, "Cannot allocate the event loop: %m");

	/* WATCHDOG=1 at half of WatchdogSec=, when the service manager asks. */
	r = sd_event_set_watchdog(m->event, true);
	if (r < 0)
		return log_error_errno(r, "Cannot enable the watchdog: %m");

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		return log_error_errno(errno, "Cannot block signals: %m");
	/* A NULL handler makes sd-event exit the loop cleanly. */
	r = sd_event_add_signal(m->event, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(m->event, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m);
	if (r < 0)
		return log_error_errno(r, "Cannot watch signals: %m");

	r = sd_event_add_time_relative(m->event, &m->sample_timer, CLOCK_MONOTONIC, m->sample_interval_usec,
				       0, on_sample_timer, m);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &m->rescan_timer, CLOCK_MONOTONIC, 0, 0, on_rescan_timer, m);
	if (r < 0)
		return log_error_errno(r, "Cannot add timers: %m");

	return bus_manager_register(m);
}

int manager_run(struct manager *m) {
	return sd_event_loop(m->event);
}

struct manager *manager_free(struct manager *m) {
	if (!m)
		return NULL;
	while (m->n_tracked > 0) {
		struct tracked *t = m->tracked[--m->n_tracked];

		tracked_free(t);
	}
	free(m->tracked);
	free(m->untracked);
	sd_event_source_disable_unref(m->sample_timer);
	sd_event_source_disable_unref(m->rescan_timer);
	fault_source_free(m->faults);
	sd_bus_flush_close_unref(m->bus);
	sd_event_unref(m->event);
	config_done(&m->config);
	free(m->config_path);
	free(m->ioctl_vec);
	free(m);
	return NULL;
}
