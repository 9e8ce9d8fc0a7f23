/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Rate arithmetic: PSI-style exponential moving averages over 10 s, 60 s and
 * 300 s windows, and deltas of monotonic counters that may wrap or reset.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct rate_avgs {
	double avg10, avg60, avg300;
	/* Variances of the averages when the rates folded in are estimates
	 * (rate_avgs_update_estimate()); 0 while every rate was exact. */
	double var10, var60, var300;
	bool primed;		/* false until the first interval was folded in */
	uint64_t seen_usec;	/* length of all intervals folded in */
};

/*
 * Folds one interval of length dt_usec whose mean rate was 'rate' into the
 * averages: avg = avg * e + rate * (1 - e), e = exp(-dt / window), as
 * kernel/sched/psi.c does, but with the real interval length so late timers
 * and long gaps (suspend, SIGSTOP) weigh what they lasted.
 *
 * Until a window's worth of time has been seen, that sum lacks the weight
 * of the time before tracking started; each average divides by the weight
 * it has (1 - exp(-seen / window)), i.e. it is the exponentially weighted
 * mean of the intervals seen so far. So a new process does not ramp up from
 * zero, and the first interval, which runs from TrackProcess's baseline pass
 * to the next timer tick and may be very short (and noisy), weighs its
 * length rather than a whole window. The first interval alone gives its own
 * rate; after a few windows this is the plain EMA. dt_usec == 0 is ignored.
 */
void rate_avgs_update(struct rate_avgs *a, double rate, uint64_t dt_usec);

/*
 * An average that an interval at rate 0 (with no variance) leaves below
 * this is 0, and so is its variance: an idle process's averages reach 0
 * and stay there, instead of changing at every interval for as long as a
 * double can shrink (for bytes per second: less than 1 B/s, which no
 * interval of a second or more can show, as it counts whole pages).
 */
#define RATE_AVG_FLOOR 1.0

/*
 * The same for a rate that is an estimate with variance 'variance'
 * (independent of the earlier ones): each average is a weighted sum of
 * the intervals' rates, so its variance is the sum of the squared weights
 * times theirs. Many short intervals thus give a smaller error than one.
 */
void rate_avgs_update_estimate(struct rate_avgs *a, double rate, double variance, uint64_t dt_usec);

/*
 * Increase of a monotonic counter from 'old' to 'new'. A smaller new value is
 * either a wrap of the 64-bit counter (old was within COUNTER_WRAP_MARGIN of
 * UINT64_MAX: the modular difference is the increase) or, far more likely, a
 * reset (the source was recreated, e.g. an LRU map entry was evicted and
 * started again from 0): then the new value is all that was counted since.
 */
#define COUNTER_WRAP_MARGIN (UINT64_C(1) << 32)

uint64_t counter_delta(uint64_t old, uint64_t new);

/* Bytes per second over dt_usec; NAN when dt_usec is 0. */
double rate_per_sec(uint64_t amount, uint64_t dt_usec);
