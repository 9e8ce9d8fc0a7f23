/* SPDX-License-Identifier: GPL-2.0-only */
#include <math.h>

#include "process-stats.h"
#include "util.h"

static void rate_avgs_invalidate(struct rate_avgs *a) {
	*a = (struct rate_avgs) { .avg10 = NAN, .avg60 = NAN, .avg300 = NAN, .var10 = NAN, .var60 = NAN, .var300 = NAN };
}

void process_stats_init(struct process_stats *s) {
	*s = (struct process_stats) {
		.dirty_bytes_per_sec = NAN,
		.dirty_bytes_per_sec_stderr = NAN,
		.write_faults_per_sec = NAN,
	};
	rate_avgs_invalidate(&s->dirty_avgs);
}

int process_stats_account(struct process_stats *s, const struct sample *in, uint64_t page_size) {
	uint64_t write_faults = 0, first_touch = 0, dt, dirty_bytes, dirty_pages = in->dirty_pages;
	double variance = in->estimated ? in->variance_pages : 0;
	bool disturbed = false, have_dirty, faults_valid = false;

	/* Fault counters: deltas survive wraps and map-entry resets. */
	if (in->have_faults) {
		if (s->have_fault_baseline) {
			uint64_t clears = counter_delta(s->last_faults.clears_foreign, in->faults.clears_foreign);
			uint64_t last = in->faults.last_foreign_clear_nsec;

			s->foreign_clears += clears;
			/* See the header: a clear may disturb two intervals. */
			disturbed = clears > 0 || (last != 0 && last >= s->last_pass_begin_nsec);
			if (in->have_dirty && in->dirty_is_own_clears)
				dirty_pages = counter_delta(s->last_faults.cleared_pages_self,
							    in->faults.cleared_pages_self);
			if (in->have_write_faults) {
				first_touch = counter_delta(s->last_faults.np_write_faults, in->faults.np_write_faults);
				write_faults = counter_delta(s->last_faults.wp_faults, in->faults.wp_faults) + first_touch;
				s->write_faults_total += write_faults;
				faults_valid = true;
			}
		}
		s->last_faults = in->faults;
		s->have_fault_baseline = true;
	} else {
		/* The source went away (or never was): restart from a fresh baseline. */
		s->have_fault_baseline = false;
		s->write_faults_per_sec = NAN;
	}

	if (!s->have_baseline) {
		s->have_baseline = true;
		s->last_usec = in->now_usec;
		s->last_pass_begin_nsec = in->pass_begin_nsec;
		s->pending_pages = 0;
		s->pending_variance = 0;
		return 0;
	}

	/* New resident memory: counted exactly by first-touch write faults. */
	if (in->have_dirty && in->estimated && faults_valid)
		dirty_pages = dirty_pages - MIN(in->new_pages, dirty_pages) + first_touch;

	/*
	 * CLOCK_BOOTTIME never goes back, but a pass that finishes within the
	 * same microsecond, or a caller feeding an older time, gives no
	 * interval: keep what was counted for the next one.
	 */
	if (in->now_usec <= s->last_usec) {
		if (in->have_dirty) {
			s->pending_pages += dirty_pages;
			s->pending_variance += variance;
		}
		return 0;
	}
	dt = in->now_usec - s->last_usec;
	s->last_usec = in->now_usec;
	s->last_pass_begin_nsec = in->pass_begin_nsec;

	s->write_faults_per_sec = faults_valid ? rate_per_sec(write_faults, dt) : NAN;

	have_dirty = in->have_dirty;
	if (have_dirty)
		dirty_bytes = (dirty_pages + s->pending_pages) * page_size;
	else if (faults_valid) {
		dirty_bytes = write_faults * page_size; /* faults-only estimate */
		have_dirty = true;
		variance = NAN; /* a lower bound: no error bar */
	} else
		dirty_bytes = 0;
	if (isfinite(variance))
		variance += s->pending_variance;
	s->pending_pages = 0;
	s->pending_variance = 0;

	s->last_sample_disturbed = disturbed;
	if (!have_dirty) {
		s->dirty_bytes_per_sec = NAN;
		s->dirty_bytes_per_sec_stderr = NAN;
		rate_avgs_invalidate(&s->dirty_avgs);
		return 1;
	}

	s->dirtied_bytes_total += dirty_bytes;
	if (disturbed) {
		s->dirty_bytes_per_sec = NAN;
		s->dirty_bytes_per_sec_stderr = NAN;
		return 1;
	}

	s->dirty_bytes_per_sec = rate_per_sec(dirty_bytes, dt);
	/* Pages² → (bytes/s)²: the count is scaled by page_size / dt. */
	{
		double scale = (double) page_size * (double) USEC_PER_SEC / (double) dt;
		double rate_var = isfinite(variance) ? variance * scale * scale : NAN;

		s->dirty_bytes_per_sec_stderr = sqrt(rate_var);
		if (isfinite(rate_var))
			rate_avgs_update_estimate(&s->dirty_avgs, s->dirty_bytes_per_sec, rate_var, dt);
		else {
			rate_avgs_update(&s->dirty_avgs, s->dirty_bytes_per_sec, dt);
			s->dirty_avgs.var10 = s->dirty_avgs.var60 = s->dirty_avgs.var300 = NAN;
		}
	}
	return 1;
}

void process_stats_rebaseline(struct process_stats *s) {
	s->have_baseline = false;
	s->have_fault_baseline = false;
	s->pending_pages = 0;
	s->pending_variance = 0;
}
