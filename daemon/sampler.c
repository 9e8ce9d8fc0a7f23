/* SPDX-License-Identifier: GPL-2.0-only */
#include "manager.h"
#include "sampler.h"
#include "util.h"

static void sampler_finish(struct manager *m) {
	struct sampler *s = &m->sampler;

	s->running = false;
	s->n_steps++;
	s->last_duration_usec = s->busy_usec;
	s->last_end_realtime_usec = now_usec(CLOCK_REALTIME);
	s->last_pages_read = s->pages_read;
	/* The first pass has no period of its own yet: the interval's. */
	s->last_period_usec = s->prev_begin_usec ? s->begin_usec - s->prev_begin_usec : m->sample_interval_usec;
	steps_cancel(&s->steps);
	if (s->overdue && s->timer) {
		/* The interval ended during the pass: the next begins now. */
		s->overdue = false;
		if (sd_event_source_set_time(s->timer, now_usec(CLOCK_MONOTONIC)) < 0 ||
		    sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT) < 0)
			log_error("Cannot schedule the next sample pass.");
	}
	log_debug("Pass over %zu processes: %u steps, %" PRIu64 " us sampling in %" PRIu64 " us.", m->n_processes, s->n_steps,
		  s->busy_usec, now_usec(CLOCK_MONOTONIC) - s->begin_usec);
	manager_emit_changed(m, MANAGER_CHANGED_LAST_SAMPLE);
}

/* Phase 1 done: one read of all fault counters serves every process. */
static void sampler_snapshot(struct manager *m) {
	struct sampler *s = &m->sampler;
	int r;

	s->accounting = true;
	s->cursor = 0;
	s->faults_ok = false;
	if (m->faults && m->n_processes > 0) {
		r = fault_source_snapshot(m->faults);
		if (r < 0)
			log_warning_errno(r, "Cannot read the fault counters; this interval has none: %m");
		s->faults_ok = r >= 0;
	}
	s->snapshot = instant_now(m);
}

/* Its sample is the fault counters alone: taken in phase 2 (sampler.h). */
static bool sampled_after_snapshot(const struct process *p) {
	return p->ops && p->ops->counts_only_faults;
}

static void sampler_announce(struct manager *m, struct process *p) {
	unsigned changes = process_take_changes(p);

	if (changes)
		manager_emit_sampled(m, p, changes);
}

/*
 * What a sample's result r means for p, which had backend before it: a
 * process gone is untracked (false: p is freed), a failure is logged, and a
 * backend that changed under the sample is announced.
 */
static bool sampler_sampled(struct manager *m, struct process *p, int r, size_t backend) {
	if (r == -ESRCH) {
		manager_untrack(m, p, false, "gone");
		return false;
	}
	if (r < 0)
		log_warning_errno(r, "Process %d: sample failed: %m", (int) p->pid);
	if (p->backend != backend)
		manager_emit_backend_changed(m, p);
	return true;
}

/* One process of the phase in progress. */
static void sampler_visit(struct manager *m, struct process *p) {
	struct sampler *s = &m->sampler;
	size_t backend = p->backend;
	int r;

	if (s->accounting) {
		if (sampled_after_snapshot(p)) {
			r = process_sample_faults(p, s->faults_ok, &s->snapshot);
			if (sampler_sampled(m, p, r, backend) && r > 0)
				sampler_announce(m, p);
			return;
		}
		if (p->has_pending) {
			process_account(p, s->faults_ok);
			sampler_announce(m, p);
		}
		return;
	}

	if (sampled_after_snapshot(p))
		return;
	r = process_pass(p);
	if (r > 0)
		s->pages_read += p->sampled_pages;
	(void) sampler_sampled(m, p, r, backend);
}

int sampler_step(struct manager *m, uint64_t budget_usec) {
	struct sampler *s = &m->sampler;
	uint64_t begin = now_usec(CLOCK_MONOTONIC), now = begin;

	if (!s->running)
		return 1;
	do {
		struct process *p = manager_first_process_from(m, s->cursor);

		if (!p) {
			if (s->accounting) {
				s->busy_usec += now_usec(CLOCK_MONOTONIC) - begin;
				sampler_finish(m);
				return 1;
			}
			sampler_snapshot(m);
			continue;
		}
		/* Before the visit: it may untrack p. */
		s->cursor = p->pid + 1;
		sampler_visit(m, p);
		/*
		 * Phase 1's last pass: the snapshot follows at once, whatever
		 * the budget says. The interval's write faults end at the
		 * snapshot and its dirty pages at the passes' clears; a step
		 * boundary between the two would let the loop's other work
		 * (bus calls, and under load other processes) move them apart.
		 */
		if (!s->accounting && !manager_first_process_from(m, s->cursor))
			sampler_snapshot(m);
		now = now_usec(CLOCK_MONOTONIC);
	} while (now - begin < budget_usec);

	s->busy_usec += now - begin;
	s->n_steps++;
	return 0;
}

void sampler_begin(struct manager *m) {
	struct sampler *s = &m->sampler;

	if (s->running)
		return;
	*s = (struct sampler) {
		.timer = s->timer,
		.steps = s->steps,
		.running = true,
		.begin_usec = now_usec(CLOCK_MONOTONIC),
		.prev_begin_usec = s->begin_usec,
		.last_duration_usec = s->last_duration_usec,
		.last_end_realtime_usec = s->last_end_realtime_usec,
		.last_pages_read = s->last_pages_read,
		.last_period_usec = s->last_period_usec,
	};
}

void sampler_run_pass(struct manager *m) {
	sampler_begin(m);
	while (sampler_step(m, UINT64_MAX) == 0)
		;
}

static int arm_timer(struct manager *m) {
	struct sampler *s = &m->sampler;
	uint64_t now = now_usec(CLOCK_MONOTONIC), next = s->begin_usec + m->sample_interval_usec;
	int r;

	/* Periodic from each pass's beginning. */
	if (s->begin_usec == 0)
		next = now + m->sample_interval_usec;
	else if (next < now)
		next = now;
	r = sd_event_source_set_time(s->timer, next);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(s->timer, SD_EVENT_ONESHOT);
}

static int on_timer(sd_event_source *source, uint64_t usec, void *userdata) {
	struct manager *m = userdata;
	struct sampler *s = &m->sampler;
	int r;

	if (s->running) {
		s->overdue = true; /* a pass longer than the interval: the next follows it at once */
		return 0;
	}
	sampler_begin(m);
	r = steps_schedule(&s->steps);
	if (r < 0)
		return log_error_errno(r, "Cannot schedule the sample pass: %m");
	return arm_timer(m);
}

int sampler_start(struct manager *m) {
	struct sampler *s = &m->sampler;
	int r;

	/* Accuracy 1 µs: sd-event's default (0) lets a timer slip by up to 250 ms. */
	r = sd_event_add_time(m->event, &s->timer, CLOCK_MONOTONIC, 0, 1, on_timer, m);
	if (r < 0)
		return r;
	r = arm_timer(m);
	if (r < 0)
		return r;
	/* The pass runs in steps (steps.h). */
	return steps_add(&s->steps, m, sampler_step, "sample pass");
}

void sampler_stop(struct manager *m) {
	struct sampler *s = &m->sampler;

	s->timer = sd_event_source_disable_unref(s->timer);
	steps_remove(&s->steps);
	s->running = false;
}

int sampler_rearm(struct manager *m) {
	if (!m->sampler.timer)
		return 0;
	return arm_timer(m);
}
