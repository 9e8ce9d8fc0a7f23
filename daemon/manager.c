/* SPDX-License-Identifier: GPL-2.0-only */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>

#include <systemd/sd-daemon.h>

#include "manager.h"
#include "parse-util.h"
#include "proc-pid.h"
#include "rules.h"
#include "util.h"

void manager_set_events(struct manager *m, const struct manager_events *events, void *userdata) {
	m->events = events;
	m->events_userdata = userdata;
}

#define EMIT(m, event, ...)                                                    \
	do {                                                                   \
		if ((m)->events && (m)->events->event)                         \
			(m)->events->event(__VA_ARGS__, (m)->events_userdata); \
	} while (0)

void manager_emit_sampled(struct manager *m, struct process *p) {
	EMIT(m, process_sampled, p);
}

void manager_emit_backend_changed(struct manager *m, struct process *p) {
	EMIT(m, process_backend_changed, p);
}

void manager_emit_changed(struct manager *m, unsigned changes) {
	EMIT(m, manager_changed, m, changes);
}

static void manager_notify_status(struct manager *m) {
	const struct backend_ops *b = m->backends[m->default_backend];

	(void) sd_notifyf(false, "STATUS=Tracking %zu process%s; backend %s%s.", m->n_processes,
			  m->n_processes == 1 ? "" : "es", b->name,
			  !b->kernel_feature && !fault_source_counts_writes(m->faults) ?
			  " (no write-fault counters: no rates)" : "");
}

size_t manager_next_backend(const struct manager *m, size_t from) {
	for (size_t b = from; b < m->n_backends; b++)
		if (m->available[b])
			return b;
	return m->n_backends;
}

struct process *manager_find_process(struct manager *m, pid_t pid) {
	size_t lo = 0, hi = m->n_processes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->processes[mid]->pid == pid)
			return m->processes[mid];
		if (m->processes[mid]->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct process *manager_first_process_from(struct manager *m, pid_t pid) {
	size_t lo = 0, hi = m->n_processes;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (m->processes[mid]->pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n_processes ? m->processes[lo] : NULL;
}

struct process *manager_get_process(struct manager *m, pid_t pid) {
	struct process *p = manager_find_process(m, pid);

	/* Exited, its exit event not dispatched yet: never hand out a stale
	 * object. The exit handler, not the caller, untracks it. */
	return p && process_alive(p) ? p : NULL;
}

static int manager_insert(struct manager *m, struct process *p) {
	struct process **a;
	size_t i;

	a = reallocarray(m->processes, m->n_processes + 1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	m->processes = a;
	for (i = m->n_processes; i > 0 && a[i - 1]->pid > p->pid; i--)
		a[i] = a[i - 1];
	a[i] = p;
	m->n_processes++;
	return 0;
}

static void manager_remove(struct manager *m, struct process *p) {
	for (size_t i = 0; i < m->n_processes; i++)
		if (m->processes[i] == p) {
			memmove(m->processes + i, m->processes + i + 1, (m->n_processes - i - 1) * sizeof(*m->processes));
			m->n_processes--;
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

void manager_untrack(struct manager *m, struct process *p, bool by_operator, const char *why) {
	log_info("Untracking process %d (%s): %s.", (int) p->pid, p->comm, why);

	if (by_operator && p->origin == TRACK_ORIGIN_RULE) {
		struct identity *a = reallocarray(m->untracked, m->n_untracked + 1, sizeof(*a));

		if (a) {
			m->untracked = a;
			m->untracked[m->n_untracked++] = (struct identity) { p->pid, p->start_ticks };
		} else
			log_oom(); /* a rule may pick it up again; nothing else is lost */
	}

	/* Announce while the object still resolves, then drop it. */
	EMIT(m, process_removed, p);
	manager_remove(m, p);
	process_free(p);
	manager_emit_changed(m, MANAGER_CHANGED_TRACKED);
	manager_notify_status(m);
}

static int on_process_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct process *p = userdata;

	manager_untrack(p->manager, p, false, "exited");
	return 0;
}

int manager_track(struct manager *m, pid_t pid, enum track_origin origin, struct process **ret) {
	struct process *p;
	int r;

	p = manager_find_process(m, pid);
	if (p && !process_alive(p)) {
		/* Exited, its exit event not yet dispatched: a PID reuse race.
		 * Tracking is a change anyway: drop the old one now. */
		manager_untrack(m, p, false, "exited");
		p = NULL;
	}
	if (p) {
		if (origin == TRACK_ORIGIN_API)
			p->origin = TRACK_ORIGIN_API;
		if (ret)
			*ret = p;
		return 0;
	}

	r = process_new(m, pid, origin, &p);
	if (r < 0)
		return r;
	if (m->event) {
		/* The manager watches for the exit, ahead of pending bus calls:
		 * a call queued behind an exit must not see the old object. */
		r = sd_event_add_io(m->event, &p->exit_source, p->pidfd, EPOLLIN, on_process_exit, p);
		if (r >= 0)
			r = sd_event_source_set_priority(p->exit_source, SD_EVENT_PRIORITY_IMPORTANT);
		if (r < 0) {
			process_free(p);
			return r;
		}
	}
	r = manager_insert(m, p);
	if (r < 0) {
		process_free(p);
		return r;
	}
	if (origin == TRACK_ORIGIN_API)
		manager_forget_untracked(m, pid);

	log_info("Tracking process %d (%s) with backend %s.", (int) pid, p->comm, p->ops->name);
	EMIT(m, process_added, p);
	manager_emit_changed(m, MANAGER_CHANGED_TRACKED);
	manager_notify_status(m);
	if (ret)
		*ret = p;
	return 1;
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

/* Rule-tracked processes that no longer match (or are gone) are untracked. */
static void manager_recheck_rules(struct manager *m, const struct facts_needed *need) {
	for (size_t i = 0; i < m->n_processes;) {
		struct process *p = m->processes[i];
		_cleanup_free_ char *exe = NULL;
		struct proc_facts f;

		if (p->origin != TRACK_ORIGIN_RULE) {
			(void) process_refresh_facts(p);
			i++;
			continue;
		}
		if (process_refresh_facts(p) == -ESRCH) {
			manager_untrack(m, p, false, "gone");
			continue; /* the array shifted */
		}
		if (need->exe)
			(void) process_read_exe(p, &exe);
		f = (struct proc_facts) {
			.comm = p->comm, .exe = exe, .cgroup = p->cgroup, .unit = p->unit,
			.uid = p->uid, .resident_bytes = p->resident_bytes,
		};
		if (!rules_match(&m->config, &f, NULL)) {
			manager_untrack(m, p, false, "no [Track] rule matches any more");
			continue;
		}
		i++;
	}
}

/* Forgets untracked identities whose process is gone. */
static void manager_prune_untracked(struct manager *m) {
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

void manager_rescan(struct manager *m) {
	_cleanup_(closedirp) DIR *d = NULL;
	struct facts_needed need;
	struct dirent *de;
	pid_t self = getpid();

	rules_facts_needed(&m->config, &need);
	manager_recheck_rules(m, &need);
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
		struct process *p;
		struct proc_facts f;
		uint32_t pid;
		unsigned line;
		int r;

		if (safe_atou32(de->d_name, &pid) < 0 || pid == 0 || pid > INT32_MAX || (pid_t) pid == self)
			continue;
		p = manager_find_process(m, (pid_t) pid);

		procfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (procfd < 0)
			continue;
		c.pid = (pid_t) pid;
		if (scan_read_facts(procfd, &need, &c) < 0)
			continue;
		if (p && p->start_ticks == c.stat.start_ticks)
			continue; /* already tracked */
		if (manager_is_untracked(m, c.pid, c.stat.start_ticks))
			continue;

		f = (struct proc_facts) {
			.comm = c.stat.comm, .exe = c.exe, .cgroup = c.cgroup, .unit = c.unit,
			.uid = c.uid, .resident_bytes = c.stat.rss_pages * m->page_size,
		};
		if (!rules_match(&m->config, &f, &line))
			continue;

		if (p) /* same PID, other start time: the tracked one is gone */
			manager_untrack(m, p, false, "PID reused by another process");

		log_debug("Process %d (%s) matches the [Track] rule at line %u.", (int) pid, c.stat.comm, line);
		r = manager_track(m, c.pid, TRACK_ORIGIN_RULE, NULL);
		if (r < 0 && r != -ESRCH)
			log_warning_errno(r, "Cannot track process %d (%s): %m", (int) pid, c.stat.comm);
	}

	manager_prune_untracked(m);
}

static int on_rescan_timer(sd_event_source *s, uint64_t usec, void *userdata) {
	struct manager *m = userdata;
	int r;

	manager_rescan(m);
	r = sd_event_source_set_time_relative(s, m->config.rescan_interval_usec);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
}

/* The configured backend if this kernel has it, else the next available after it. */
static size_t manager_pick_default_backend(struct manager *m) {
	size_t from = 0, b;

	for (size_t i = 0; m->config.backend && i < m->n_backends; i++)
		if (streq(m->backends[i]->name, m->config.backend))
			from = i;
	b = manager_next_backend(m, from);
	if (b >= m->n_backends) /* cannot happen: the last one needs nothing */
		b = manager_next_backend(m, 0);
	if (m->config.backend && !streq(m->backends[b]->name, m->config.backend))
		log_warning("Configured Backend=%s is not available on this kernel; using %s.", m->config.backend,
			    m->backends[b]->name);
	return b;
}

static void manager_apply_config(struct manager *m, struct config *c) {
	size_t old_backend = m->default_backend;
	uint64_t old_interval = m->sample_interval_usec;
	enum read_access old_read_access = m->config.read_access;
	unsigned changes = 0;

	config_done(&m->config);
	m->config = *c;
	*c = (struct config) {};

	m->sample_interval_usec = m->config.sample_interval_usec;
	m->default_backend = manager_pick_default_backend(m);

	if (old_interval != m->sample_interval_usec) {
		(void) sampler_rearm(m);
		changes |= MANAGER_CHANGED_SAMPLE_INTERVAL;
	}
	if (m->rescan_timer) {
		(void) sd_event_source_set_time_relative(m->rescan_timer, m->config.rescan_interval_usec);
		(void) sd_event_source_set_enabled(m->rescan_timer, SD_EVENT_ONESHOT);
	}
	if (old_backend != m->default_backend)
		changes |= MANAGER_CHANGED_BACKEND;
	if (old_read_access != m->config.read_access)
		changes |= MANAGER_CHANGED_READ_ACCESS;
	if (changes)
		manager_emit_changed(m, changes);
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
	manager_apply_config(m, &c);
	return 0;
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
	manager_emit_changed(m, MANAGER_CHANGED_SAMPLE_INTERVAL);
	return sampler_rearm(m);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
	(void) manager_reload(userdata, NULL);
	return 0;
}

int manager_new(const char *config_path, const struct backend_ops *const *backends, size_t n_backends,
		struct manager **ret) {
	_cleanup_(manager_freep) struct manager *m = NULL;
	_cleanup_free_ char *error = NULL;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return log_oom();
	m->backends = backends;
	m->n_backends = n_backends;
	m->now_usec = now_usec;
	m->page_size = (uint64_t) sysconf(_SC_PAGESIZE);
	m->ticks_per_sec = sysconf(_SC_CLK_TCK);
	config_init_default(&m->config);
	m->sample_interval_usec = m->config.sample_interval_usec;
	m->config_path = strdup(config_path);
	m->available = calloc(n_backends, sizeof(bool));
	if (!m->config_path || !m->available)
		return log_oom();

	/* Probe first: the config's Backend= is resolved against what exists. */
	(void) sd_notify(false, "STATUS=Probing soft-dirty backends...");
	for (size_t b = 0; b < n_backends; b++) {
		m->available[b] = backends[b]->probe();
		log_info("Backend %s: %s.", backends[b]->name, m->available[b] ? "available" : "absent");
	}
	m->default_backend = manager_next_backend(m, 0);
	if (m->default_backend >= n_backends)
		return log_error_errno(ENODEV, "No backend is available.");

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
	const char *no_rates = !m->backends[m->default_backend]->kernel_feature ? " and faults-only yields no rates" : "";
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
	/*
	 * A NULL handler makes sd-event exit the loop cleanly, also between
	 * two steps of a pass. Ahead even of the exit watches: 10 000 tracked
	 * processes exiting at once must not hold a SIGTERM back (their
	 * objects go with the manager anyway).
	 */
	for (size_t i = 0; i < 2; i++) {
		sd_event_source *s = NULL;

		r = sd_event_add_signal(m->event, &s, i == 0 ? SIGTERM : SIGINT, NULL, NULL);
		if (r >= 0)
			r = sd_event_source_set_priority(s, SD_EVENT_PRIORITY_IMPORTANT - 1);
		if (r >= 0)
			r = sd_event_source_set_floating(s, true);
		sd_event_source_unref(s);
		if (r < 0)
			return log_error_errno(r, "Cannot watch signals: %m");
	}
	r = sd_event_add_signal(m->event, NULL, SIGHUP, on_sighup, m);
	if (r < 0)
		return log_error_errno(r, "Cannot watch signals: %m");

	r = sampler_start(m);
	if (r >= 0)
		r = sd_event_add_time_relative(m->event, &m->rescan_timer, CLOCK_MONOTONIC, 0, 0, on_rescan_timer, m);
	if (r < 0)
		return log_error_errno(r, "Cannot add timers: %m");
	return 0;
}

int manager_run(struct manager *m) {
	return sd_event_loop(m->event);
}

struct manager *manager_free(struct manager *m) {
	if (!m)
		return NULL;
	while (m->n_processes > 0)
		process_free(m->processes[--m->n_processes]);
	free(m->processes);
	free(m->untracked);
	sampler_stop(m);
	sd_event_source_disable_unref(m->rescan_timer);
	fault_source_free(m->faults);
	sd_event_unref(m->event);
	config_done(&m->config);
	free(m->config_path);
	free(m->available);
	free(m);
	return NULL;
}
