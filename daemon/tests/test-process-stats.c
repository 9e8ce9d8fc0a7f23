/* SPDX-License-Identifier: GPL-2.0-only */
#include "process-stats.h"
#include "tests.h"
#include "util.h"

#define PAGE 4096
#define T0 (1000 * USEC_PER_SEC)

static struct sample dirty_sample(uint64_t now, uint64_t pages) {
	return (struct sample) { .now_usec = now, .have_dirty = true, .dirty_pages = pages };
}

TEST(test_baseline_is_dropped) {
	struct process_stats s;

	process_stats_init(&s);
	ASSERT_EQ(process_stats_account(&s, &(struct sample) { .now_usec = T0, .have_dirty = true, .dirty_pages = 999 }, PAGE), 0);
	ASSERT_TRUE(isnan(s.dirty_bytes_per_sec));
	ASSERT_TRUE(isnan(s.dirty_avgs.avg10));
	ASSERT_EQ_U64(s.dirtied_bytes_total, 0);

	ASSERT_EQ(process_stats_account(&s, &(struct sample) { .now_usec = T0 + 2 * USEC_PER_SEC, .have_dirty = true, .dirty_pages = 10 }, PAGE), 1);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 10.0 * PAGE / 2, 1e-9);
	ASSERT_NEAR(s.dirty_avgs.avg10, 10.0 * PAGE / 2, 1e-9);
	ASSERT_EQ_U64(s.dirtied_bytes_total, 10 * PAGE);
	ASSERT_TRUE(isnan(s.write_faults_per_sec));
}

TEST(test_zero_length_interval_keeps_pages) {
	struct process_stats s;
	struct sample in;

	process_stats_init(&s);
	in = dirty_sample(T0, 0);
	process_stats_account(&s, &in, PAGE);
	in = dirty_sample(T0 + USEC_PER_SEC, 4);
	process_stats_account(&s, &in, PAGE);
	/* Same instant, and a clock that went back: no interval, nothing lost. */
	in = dirty_sample(T0 + USEC_PER_SEC, 3);
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 0);
	in = dirty_sample(T0, 2);
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 0);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 4.0 * PAGE, 1e-9);

	in = dirty_sample(T0 + 2 * USEC_PER_SEC, 5);
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_NEAR(s.dirty_bytes_per_sec, (3 + 2 + 5.0) * PAGE, 1e-9);
	ASSERT_EQ_U64(s.dirtied_bytes_total, (4 + 3 + 2 + 5) * PAGE);
}

static struct sample fault_sample(uint64_t now, bool have_dirty, uint64_t pages, uint64_t wp, uint64_t np,
				  uint64_t foreign) {
	return (struct sample) {
		.now_usec = now, .have_dirty = have_dirty, .dirty_pages = pages,
		.have_faults = true, .have_write_faults = true,
		.faults = { .wp_faults = wp, .np_write_faults = np, .clears_foreign = foreign },
	};
}

/* A pass that began at @begin (monotonic ns); the last foreign clear was at @last_clear. */
static struct sample clear_sample(uint64_t now, uint64_t begin, uint64_t pages, uint64_t foreign,
				  uint64_t last_clear) {
	struct sample in = fault_sample(now, true, pages, 0, 0, foreign);

	in.pass_begin_nsec = begin;
	in.faults.last_foreign_clear_nsec = last_clear;
	return in;
}

TEST(test_faults_only_estimate) {
	struct process_stats s;
	struct sample in;

	process_stats_init(&s);
	in = fault_sample(T0, false, 0, 100, 50, 0);
	process_stats_account(&s, &in, PAGE);
	in = fault_sample(T0 + USEC_PER_SEC, false, 0, 130, 60, 0);
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_NEAR(s.write_faults_per_sec, 40.0, 1e-9);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 40.0 * PAGE, 1e-9);
	ASSERT_EQ_U64(s.write_faults_total, 40);
	ASSERT_EQ_U64(s.dirtied_bytes_total, 40 * PAGE);
}

TEST(test_faults_only_without_counters_is_nan) {
	struct process_stats s;
	struct sample in = { .now_usec = T0 };

	process_stats_init(&s);
	process_stats_account(&s, &in, PAGE);
	in.now_usec += USEC_PER_SEC;
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_TRUE(isnan(s.dirty_bytes_per_sec));
	ASSERT_TRUE(isnan(s.dirty_avgs.avg60));
	ASSERT_TRUE(isnan(s.write_faults_per_sec));
	ASSERT_EQ_U64(s.dirtied_bytes_total, 0);
}

TEST(test_foreign_clear_disturbs_interval) {
	struct process_stats s;
	struct sample in;
	double avg;

	process_stats_init(&s);
	in = fault_sample(T0, true, 0, 0, 0, 0);
	process_stats_account(&s, &in, PAGE);
	in = fault_sample(T0 + USEC_PER_SEC, true, 100, 100, 0, 0);
	process_stats_account(&s, &in, PAGE);
	ASSERT_TRUE(!s.last_sample_disturbed);
	avg = s.dirty_avgs.avg10;
	ASSERT_NEAR(avg, 100.0 * PAGE, 1e-9);

	/* Someone else cleared in between: we only saw 3 pages of ~100. */
	in = fault_sample(T0 + 2 * USEC_PER_SEC, true, 3, 200, 0, 1);
	process_stats_account(&s, &in, PAGE);
	ASSERT_TRUE(s.last_sample_disturbed);
	ASSERT_TRUE(isnan(s.dirty_bytes_per_sec));
	ASSERT_NEAR(s.dirty_avgs.avg10, avg, 0); /* not pulled down */
	ASSERT_EQ_U64(s.foreign_clears, 1);
	ASSERT_EQ_U64(s.dirtied_bytes_total, 103 * PAGE); /* a lower bound, still counted */

	in = fault_sample(T0 + 3 * USEC_PER_SEC, true, 100, 300, 0, 1);
	process_stats_account(&s, &in, PAGE);
	ASSERT_TRUE(!s.last_sample_disturbed);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 100.0 * PAGE, 1e-9);
}

/*
 * Passes at 1 s, 2 s, 3 s, 4 s (monotonic), each read 10 ms after it began.
 * A foreign clear at 2.005 s falls between pass 2 and its read: the read
 * after pass 2 counts it (interval 1-2 disturbed), and it also cleared bits
 * that interval 2-3 should have found: disturbed too. Interval 3-4 is not.
 */
TEST(test_foreign_clear_between_pass_and_read) {
	const uint64_t S = 1000000000, clear = 2 * S + 5000000;
	struct process_stats s;
	struct sample in;

	process_stats_init(&s);
	in = clear_sample(T0, S, 0, 0, 0);
	process_stats_account(&s, &in, PAGE);
	in = clear_sample(T0 + USEC_PER_SEC, 2 * S, 100, 1, clear);
	process_stats_account(&s, &in, PAGE);
	ASSERT_TRUE(s.last_sample_disturbed);
	ASSERT_EQ_U64(s.foreign_clears, 1);

	in = clear_sample(T0 + 2 * USEC_PER_SEC, 3 * S, 40, 1, clear);
	process_stats_account(&s, &in, PAGE);
	ASSERT_TRUE(s.last_sample_disturbed);
	ASSERT_TRUE(isnan(s.dirty_bytes_per_sec));
	ASSERT_EQ_U64(s.foreign_clears, 1); /* one clear, not two */

	in = clear_sample(T0 + 3 * USEC_PER_SEC, 4 * S, 100, 1, clear);
	process_stats_account(&s, &in, PAGE);
	ASSERT_TRUE(!s.last_sample_disturbed);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 100.0 * PAGE, 1e-9);
}

/* A clear before the previous pass began disturbs only the interval that read it. */
TEST(test_foreign_clear_before_pass) {
	const uint64_t S = 1000000000;
	struct process_stats s;
	struct sample in;

	process_stats_init(&s);
	in = clear_sample(T0, S, 0, 0, 0);
	process_stats_account(&s, &in, PAGE);
	in = clear_sample(T0 + USEC_PER_SEC, 2 * S, 100, 1, 2 * S - 1);
	process_stats_account(&s, &in, PAGE);
	ASSERT_TRUE(s.last_sample_disturbed);
	in = clear_sample(T0 + 2 * USEC_PER_SEC, 3 * S, 100, 1, 2 * S - 1);
	process_stats_account(&s, &in, PAGE);
	ASSERT_TRUE(!s.last_sample_disturbed);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 100.0 * PAGE, 1e-9);
}

/* A hook that cannot tell writes: clears still count, write-fault numbers are NaN. */
TEST(test_clears_without_write_faults) {
	struct process_stats s;
	struct sample in;

	process_stats_init(&s);
	in = fault_sample(T0, false, 0, 0, 0, 0);
	in.have_write_faults = false;
	process_stats_account(&s, &in, PAGE);
	in = fault_sample(T0 + USEC_PER_SEC, false, 0, 0, 0, 2);
	in.have_write_faults = false;
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_TRUE(isnan(s.write_faults_per_sec));
	ASSERT_TRUE(isnan(s.dirty_bytes_per_sec)); /* no faults-only estimate either */
	ASSERT_EQ_U64(s.write_faults_total, 0);
	ASSERT_EQ_U64(s.foreign_clears, 2);
}

/* clear-refs with the tracepoint: what its own clear cleared is the count, not the racing read. */
TEST(test_dirty_count_from_own_clears) {
	struct process_stats s;
	struct sample in;

	process_stats_init(&s);
	in = fault_sample(T0, true, 480, 0, 0, 0);
	in.dirty_is_own_clears = true;
	in.faults.cleared_pages_self = 500; /* the baseline pass's clear */
	process_stats_account(&s, &in, PAGE);
	in = fault_sample(T0 + USEC_PER_SEC, true, 80, 0, 100, 0);
	in.dirty_is_own_clears = true;
	in.faults.cleared_pages_self = 600;
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 100.0 * PAGE, 1e-9);
	ASSERT_EQ_U64(s.dirtied_bytes_total, 100 * PAGE);

	/* Without the tracepoint, the read is all there is. */
	in = fault_sample(T0 + 2 * USEC_PER_SEC, true, 80, 0, 200, 0);
	in.faults.cleared_pages_self = 700;
	process_stats_account(&s, &in, PAGE);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 80.0 * PAGE, 1e-9);
}

TEST(test_fault_counter_reset) {
	struct process_stats s;
	struct sample in;

	process_stats_init(&s);
	in = fault_sample(T0, false, 0, 5000, 0, 0);
	process_stats_account(&s, &in, PAGE);
	/* The map entry was evicted and recreated: counts restart at 0. */
	in = fault_sample(T0 + USEC_PER_SEC, false, 0, 7, 0, 0);
	process_stats_account(&s, &in, PAGE);
	ASSERT_EQ_U64(s.write_faults_total, 7);
	ASSERT_NEAR(s.write_faults_per_sec, 7.0, 1e-9);
}

TEST(test_rebaseline_keeps_totals) {
	struct process_stats s;
	struct sample in;

	process_stats_init(&s);
	in = dirty_sample(T0, 0);
	process_stats_account(&s, &in, PAGE);
	in = dirty_sample(T0 + USEC_PER_SEC, 8);
	process_stats_account(&s, &in, PAGE);
	process_stats_rebaseline(&s);
	/* After exec or a backend change the next pass is a new baseline. */
	in = dirty_sample(T0 + 2 * USEC_PER_SEC, 1000);
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 0);
	ASSERT_EQ_U64(s.dirtied_bytes_total, 8 * PAGE);
	in = dirty_sample(T0 + 3 * USEC_PER_SEC, 2);
	ASSERT_EQ(process_stats_account(&s, &in, PAGE), 1);
	ASSERT_NEAR(s.dirty_bytes_per_sec, 2.0 * PAGE, 1e-9);
}

int main(void) {
	RUN(test_baseline_is_dropped);
	RUN(test_zero_length_interval_keeps_pages);
	RUN(test_faults_only_estimate);
	RUN(test_faults_only_without_counters_is_nan);
	RUN(test_foreign_clear_disturbs_interval);
	RUN(test_foreign_clear_between_pass_and_read);
	RUN(test_foreign_clear_before_pass);
	RUN(test_clears_without_write_faults);
	RUN(test_dirty_count_from_own_clears);
	RUN(test_fault_counter_reset);
	RUN(test_rebaseline_keeps_totals);
	return 0;
}
