/* SPDX-License-Identifier: GPL-2.0-only */
#include "rate.h"
#include "tests.h"
#include "util.h"

TEST(test_first_interval_seeds_all_averages) {
	struct rate_avgs a = {};

	rate_avgs_update(&a, 1000.0, USEC_PER_SEC);
	ASSERT_TRUE(a.primed);
	ASSERT_NEAR(a.avg10, 1000.0, 0);
	ASSERT_NEAR(a.avg60, 1000.0, 0);
	ASSERT_NEAR(a.avg300, 1000.0, 0);
}

/* Share of the first dt0 seconds in an average over dt0 + t seconds (window w). */
static double first_share(double dt0, double t, double w) {
	return -expm1(-dt0 / w) * exp(-t / w) / -expm1(-(dt0 + t) / w);
}

TEST(test_decay_follows_window) {
	struct rate_avgs a = {};

	/* After far more than a window, the plain EMA: one window length
	 * of zero rate leaves 1/e of the old average. */
	rate_avgs_update(&a, 100.0, 100000 * USEC_PER_SEC);
	rate_avgs_update(&a, 0.0, 10 * USEC_PER_SEC);
	ASSERT_NEAR(a.avg10, 100.0 * exp(-1.0), 1e-9);
	ASSERT_NEAR(a.avg60, 100.0 * exp(-10.0 / 60.0), 1e-9);
	ASSERT_NEAR(a.avg300, 100.0 * exp(-10.0 / 300.0), 1e-9);
}

TEST(test_uneven_intervals_weigh_their_length) {
	struct rate_avgs one = {}, many = {};

	rate_avgs_update(&one, 50.0, USEC_PER_SEC);
	rate_avgs_update(&many, 50.0, USEC_PER_SEC);
	/* A late timer: one 7 s interval equals seven 1 s ones at the same rate. */
	rate_avgs_update(&one, 400.0, 7 * USEC_PER_SEC);
	for (int i = 0; i < 7; i++)
		rate_avgs_update(&many, 400.0, USEC_PER_SEC);
	ASSERT_NEAR(one.avg10, many.avg10, 1e-9);
	ASSERT_NEAR(one.avg60, many.avg60, 1e-9);
	ASSERT_NEAR(one.avg300, many.avg300, 1e-9);
}

TEST(test_constant_rate_converges) {
	struct rate_avgs a = {};

	rate_avgs_update(&a, 0.0, USEC_PER_SEC);
	for (int i = 0; i < 3000; i++)
		rate_avgs_update(&a, 4096.0, USEC_PER_SEC);
	/* A first second at 0, then 3000 s at 4096: only the first second's
	 * (weighted) share of the time is missing. */
	ASSERT_NEAR(a.avg10, 4096.0, 1e-6);
	ASSERT_NEAR(a.avg60, 4096.0 * (1 - first_share(1, 3000, 60)), 1e-6);
	ASSERT_NEAR(a.avg300, 4096.0 * (1 - first_share(1, 3000, 300)), 1e-6);
	ASSERT_TRUE(a.avg300 < 4096.0);
}

/* An idle process's averages settle at exactly 0, within a few windows. */
TEST(test_decay_reaches_zero) {
	struct rate_avgs a = {};
	int i;

	rate_avgs_update(&a, 1e9, 1000 * USEC_PER_SEC);
	for (i = 0; i < 3600 && a.avg300 != 0; i++) {
		rate_avgs_update(&a, 0.0, USEC_PER_SEC);
		ASSERT_TRUE(a.avg10 >= 0 && a.avg60 >= 0 && a.avg300 >= 0);
	}
	/* ln(1e9 / 1) windows of 300 s: 6217 s for avg300; avg10 long before. */
	ASSERT_EQ(i, 3600);
	ASSERT_NEAR(a.avg10, 0, 0);
	ASSERT_NEAR(a.var10, 0, 0);
	ASSERT_NEAR(a.avg60, 0, 0);
	for (i = 0; i < 7200 && a.avg300 != 0; i++)
		rate_avgs_update(&a, 0.0, USEC_PER_SEC);
	ASSERT_TRUE(i < 7200);
	printf("  Avg300 from 1e9 to 0 in %d s of idle intervals\n", 3600 + i);
	/* A rate that is not 0 is never taken for 0, however small. */
	rate_avgs_update(&a, 0.5, USEC_PER_SEC);
	ASSERT_TRUE(a.avg10 > 0);
}

TEST(test_long_gap_forgets_history) {
	struct rate_avgs a = {};

	/* Suspend or SIGSTOP: an hour-long interval is all that counts. */
	rate_avgs_update(&a, 1e9, USEC_PER_SEC);
	rate_avgs_update(&a, 10.0, 3600 * USEC_PER_SEC);
	ASSERT_NEAR(a.avg10, 10.0, 1e-6);
	ASSERT_NEAR(a.avg60, 10.0, 1e-6);
	ASSERT_NEAR(a.avg300, 1e9 * first_share(1, 3600, 300) + 10.0 * (1 - first_share(1, 3600, 300)), 1e-6);
}

TEST(test_zero_interval_and_nan_are_ignored) {
	struct rate_avgs a = {};

	rate_avgs_update(&a, 5.0, 0);
	ASSERT_TRUE(!a.primed);
	rate_avgs_update(&a, 5.0, USEC_PER_SEC);
	rate_avgs_update(&a, NAN, USEC_PER_SEC);
	ASSERT_NEAR(a.avg10, 5.0, 0);
}

/*
 * The first interval after TrackProcess runs from its baseline pass to the
 * next timer tick: anywhere from 0 to one interval long. A short one sees
 * few of a workload's writes and is noisy (the system suite once saw 7 of
 * 8 expected 10 ms ticks in an 80 ms first interval: -12.5 %). It must
 * weigh its length, not a whole window: Avg10 a few seconds later is the
 * time-weighted mean of what was seen, within 0.5 % of the truth here.
 */
TEST(test_short_first_interval_weighs_its_length) {
	struct rate_avgs a = {};
	double truth = 10485760.0, first = 0.875 * truth;

	rate_avgs_update(&a, first, 80 * USEC_PER_MSEC);
	for (int i = 0; i < 3; i++)
		rate_avgs_update(&a, truth, USEC_PER_SEC);
	ASSERT_NEAR(a.avg10, truth, 0.005 * truth);
	ASSERT_NEAR(a.avg10, first * first_share(0.08, 3, 10) + truth * (1 - first_share(0.08, 3, 10)), 1e-6);
	ASSERT_NEAR(a.avg60, first * first_share(0.08, 3, 60) + truth * (1 - first_share(0.08, 3, 60)), 1e-6);
	ASSERT_NEAR(a.avg300, first * first_share(0.08, 3, 300) + truth * (1 - first_share(0.08, 3, 300)), 1e-6);
}

TEST(test_counter_delta) {
	ASSERT_EQ_U64(counter_delta(10, 25), 15);
	ASSERT_EQ_U64(counter_delta(7, 7), 0);
	/* A wrap of the 64-bit counter: the distance across it. */
	ASSERT_EQ_U64(counter_delta(UINT64_MAX - 5, 10), 16);
	ASSERT_EQ_U64(counter_delta(UINT64_MAX, 0), 1);
	/* A reset (map entry recreated): what was counted since. */
	ASSERT_EQ_U64(counter_delta(1000, 5), 5);
	ASSERT_EQ_U64(counter_delta(UINT64_MAX / 2 + 10, 3), 3);
}

TEST(test_rate_per_sec) {
	ASSERT_NEAR(rate_per_sec(4096, USEC_PER_SEC / 2), 8192.0, 0);
	ASSERT_NEAR(rate_per_sec(0, USEC_PER_SEC), 0.0, 0);
	ASSERT_TRUE(isnan(rate_per_sec(4096, 0)));
}

int main(void) {
	RUN(test_first_interval_seeds_all_averages);
	RUN(test_decay_follows_window);
	RUN(test_uneven_intervals_weigh_their_length);
	RUN(test_constant_rate_converges);
	RUN(test_decay_reaches_zero);
	RUN(test_long_gap_forgets_history);
	RUN(test_zero_interval_and_nan_are_ignored);
	RUN(test_short_first_interval_weighs_its_length);
	RUN(test_counter_delta);
	RUN(test_rate_per_sec);
	return 0;
}
