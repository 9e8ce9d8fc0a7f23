/* SPDX-License-Identifier: GPL-2.0-only */
#include <signal.h>

#include <systemd/sd-daemon.h>

#include "manager.h"
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

void manager_emit_sampled(struct manager *m, struct process *p, unsigned changes) {
	EMIT(m, process_sampled, p, changes);
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

/* The backend called name, if this kernel has it; -ENODEV if not (or no such one). */
static int manager_available_backend(const struct manager *m, const char *name) {
	for (size_t b = 0; b < m->n_backends; b++)
		if (streq(m->backends[b]->name, name))
			return m->available[b] ? (int) b : -ENODEV;
	return -ENODEV;
}

/* Where a new process's backend is looked for: its rule's Backend= if this kernel has it, else the default. */
static size_t manager_backend_for(const struct manager *m, const struct track_rule *backend_rule) {
	int b = backend_rule ? manager_available_backend(m, backend_rule->backend) : -ENODEV;

	return b >= 0 ? (size_t) b : m->default_backend;
}

static void log_tracking(const struct manager *m, const struct process *p, const struct track_rule *backend_rule) {
	const char *name = p->ops->name;

	if (!backend_rule)
		log_info("Tracking process %d (%s) with backend %s.", (int) p->pid, p->comm, name);
	else if (streq(name, backend_rule->backend))
		log_info("Tracking process %d (%s) with backend %s, as the [Track] rule at line %u asks.", (int) p->pid,
			 p->comm, name, backend_rule->line);
	else if (manager_available_backend(m, backend_rule->backend) < 0)
		log_info("Tracking process %d (%s) with backend %s: Backend=%s of the [Track] rule at line %u is not "
			 "available on this kernel, so it gets the default.", (int) p->pid, p->comm, name,
			 backend_rule->backend, backend_rule->line);
	else /* process_open_backend() said why */
		log_info("Tracking process %d (%s) with backend %s: Backend=%s of the [Track] rule at line %u "
			 "cannot measure it.", (int) p->pid, p->comm, name, backend_rule->backend, backend_rule->line);
}

int manager_track(struct manager *m, pid_t pid, enum track_origin origin, const struct track_rule *backend_rule,
		  struct process **ret) {
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

	r = process_new(m, pid, origin, manager_backend_for(m, backend_rule), &p);
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

	log_tracking(m, p, backend_rule);
	EMIT(m, process_added, p);
	manager_emit_changed(m, MANAGER_CHANGED_TRACKED);
	manager_notify_status(m);
	if (ret)
		*ret = p;
	return 1;
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

/* Once per rule and load; each process it tracks says it again in its "Tracking" line. */
static void manager_check_rule_backends(const struct manager *m) {
	for (size_t i = 0; i < m->config.n_rules; i++) {
		const struct track_rule *rule = &m->config.rules[i];

		if (rule->backend && manager_available_backend(m, rule->backend) < 0)
			log_warning("%s:%u: Backend=%s of this [Track] rule is not available on this kernel; the "
				    "processes it tracks get the default backend, %s.", m->config_path, rule->line,
				    rule->backend, m->backends[m->default_backend]->name);
	}
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
	manager_check_rule_backends(m);

	if (old_interval != m->sample_interval_usec) {
		(void) sampler_rearm(m);
		changes |= MANAGER_CHANGED_SAMPLE_INTERVAL;
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
		/* An earlier reload whose rescan still runs says READY=1 when it ends. */
		if (!m->reload_pending)
			(void) sd_notify(false, "READY=1");
		return r;
	}
	/* The new rules apply in a rescan, which starts over if one is running. */
	m->reload_pending = true;
	if (m->rescan.steps.source)
		rescan_begin(m);
	else
		rescan_run(m); /* no event loop (tests): at once */
	return 0;
}

void manager_rescan_finished(struct manager *m) {
	if (!m->reload_pending)
		return;
	m->reload_pending = false;
	(void) sd_notify(false, "READY=1");
	manager_notify_status(m);
	EMIT(m, reload_finished, m);
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
		r = rescan_start(m);
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
	rescan_stop(m);
	fault_source_free(m->faults);
	sd_event_unref(m->event);
	config_done(&m->config);
	free(m->config_path);
	free(m->available);
	free(m);
	return NULL;
}
