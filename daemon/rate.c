/* SPDX-License-Identifier: GPL-2.0-only */
#include <math.h>

#include "rate.h"
#include "util.h"

/*
 * avg_new = (avg * w_old * e + sample * (1 - e)) / w_new with the weights
 * w = 1 - exp(-seen / window) before and after this interval, rewritten as a
 * step towards the sample (w_old * e + 1 - e == w_new). Once seen >> window,
 * w == 1 and this is avg * e + sample * (1 - e).
 */
static double ema_step(uint64_t dt_usec, uint64_t seen_usec, uint64_t window_usec) {
	return expm1(-(double) dt_usec / (double) window_usec) /
		expm1(-((double) seen_usec + (double) dt_usec) / (double) window_usec);
}

/* avg' = avg·(1 − step) + sample·step; var' = var·(1 − step)² + v·step². */
static void ema(double *avg, double *var, double sample, double v, uint64_t dt_usec, uint64_t seen_usec,
		uint64_t window_usec) {
	double step = ema_step(dt_usec, seen_usec, window_usec);

	*avg += (sample - *avg) * step;
	*var = *var * (1 - step) * (1 - step) + v * step * step;
	/* Decaying towards 0 it would change at every interval for hours
	 * (until the double underflows); below the floor it is 0. */
	if (sample == 0 && v == 0 && fabs(*avg) < RATE_AVG_FLOOR) {
		*avg = 0;
		*var = 0;
	}
}

void rate_avgs_update_estimate(struct rate_avgs *a, double rate, double variance, uint64_t dt_usec) {
	if (dt_usec == 0 || !isfinite(rate))
		return;
	if (!isfinite(variance) || variance < 0)
		variance = 0;

	if (!a->primed) {
		a->avg10 = a->avg60 = a->avg300 = rate;
		a->var10 = a->var60 = a->var300 = variance;
		a->primed = true;
		a->seen_usec = dt_usec;
		return;
	}

	ema(&a->avg10, &a->var10, rate, variance, dt_usec, a->seen_usec, 10 * USEC_PER_SEC);
	ema(&a->avg60, &a->var60, rate, variance, dt_usec, a->seen_usec, 60 * USEC_PER_SEC);
	ema(&a->avg300, &a->var300, rate, variance, dt_usec, a->seen_usec, 300 * USEC_PER_SEC);
	/* Past a few hundred windows the weight is 1 anyway: no need to grow. */
	if (a->seen_usec < 3600 * 300 * USEC_PER_SEC)
		a->seen_usec += dt_usec;
}

void rate_avgs_update(struct rate_avgs *a, double rate, uint64_t dt_usec) {
	rate_avgs_update_estimate(a, rate, 0, dt_usec);
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
