/* SPDX-License-Identifier: GPL-2.0-only */
#include <math.h>

#include "rate.h"
#include "util.h"

static double ema(double avg, double sample, uint64_t dt_usec, uint64_t window_usec) {
	double e = exp(-(double) dt_usec / (double) window_usec);

	return avg * e + sample * (1.0 - e);
}

void rate_avgs_update(struct rate_avgs *a, double rate, uint64_t dt_usec) {
	if (dt_usec == 0 || !isfinite(rate))
		return;

	if (!a->primed) {
		a->avg10 = a->avg60 = a->avg300 = rate;
		a->primed = true;
		return;
	}

	a->avg10 = ema(a->avg10, rate, dt_usec, 10 * USEC_PER_SEC);
	a->avg60 = ema(a->avg60, rate, dt_usec, 60 * USEC_PER_SEC);
	a->avg300 = ema(a->avg300, rate, dt_usec, 300 * USEC_PER_SEC);
}

uint64_t counter_delta(uint64_t old, uint64_t new) {
	if (new >= old)
		return new - old;

	/* Went down: a wrap only if old was about to overflow. */
	if (UINT64_MAX - old < COUNTER_WRAP_MARGIN)
		return new - old; /* modular arithmetic gives the distance across the wrap */

	return new; /* reset: everything counted since started from zero */
}

double rate_per_sec(uint64_t amount, uint64_t dt_usec) {
	if (dt_usec == 0)
		return NAN;
	return (double) amount * (double) USEC_PER_SEC / (double) dt_usec;
}
