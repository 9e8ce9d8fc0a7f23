/* SPDX-License-Identifier: GPL-2.0-only */
#include "manager.h"
#include "steps.h"
#include "util.h"

static int on_step(sd_event_source *source, uint64_t usec, void *userdata) {
	struct steps *s = userdata;

	if (s->step(s->manager, STEP_BUDGET_USEC) == 0 && steps_schedule(s) < 0)
		log_error("Cannot schedule the rest of the %s.", s->what);
	return 0;
}

int steps_add(struct steps *s, struct manager *m, step_fn_t step, const char *what) {
	int r;

	*s = (struct steps) { .step = step, .manager = m, .what = what };
	/* Accuracy 1 µs: due at once means at once, not within sd-event's default 250 ms. */
	r = sd_event_add_time(m->event, &s->source, CLOCK_MONOTONIC, 0, 1, on_step, s);
	if (r < 0)
		return r;
	return sd_event_source_set_enabled(s->source, SD_EVENT_OFF);
}

void steps_remove(struct steps *s) {
	s->source = sd_event_source_disable_unref(s->source);
}

int steps_schedule(struct steps *s) {
	int r = sd_event_source_set_time(s->source, now_usec(CLOCK_MONOTONIC));

	if (r >= 0)
		r = sd_event_source_set_enabled(s->source, SD_EVENT_ONESHOT);
	return r;
}

void steps_cancel(struct steps *s) {
	if (s->source)
		(void) sd_event_source_set_enabled(s->source, SD_EVENT_OFF);
}
