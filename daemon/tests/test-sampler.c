/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sampler (manager.c, process.c, sampler.c) with fake backends, a fake
 * clock and a fake fault source, on real child processes: fallback along
 * the backend table, exec, a process that is gone, PID reuse found by a
 * rescan, a foreign clear, where a pass is placed in time, and the
 * sliced pass and rescan (with a reload during the rescan); and the real
 * pagemap-ioctl backend over a simulated v3 kernel: refusals at ioctl time,
 * ENOTTY, ENOMEM.
 */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "backend-pagemap-ioctl.h"
#include "fake-fault-source.h"
#include "manager.h"
#include "proc-pid.h"
#include "tests.h"
#include "util.h"

#define PAGE 4096

/* ---- the fake clock: the three clocks move together ---- */

static uint64_t fake_usec = 1000 * USEC_PER_SEC;

static uint64_t fake_now_usec(clockid_t clock) {
	return fake_usec + (clock == CLOCK_REALTIME ? UINT64_C(1700000000) * USEC_PER_SEC : 0);
}

/* ---- fake backends: each does what its script says ---- */

struct fake_backend {
	int open_error;		/* returned by open(), 0: opens */
	int pass_result[8];	/* results of the next passes (0 in a slot: 1 = counted) */
	unsigned passes;	/* passes run so far */
	uint64_t dirty_pages;	/* what a counted pass reports */
	uint64_t pass_usec;	/* how long a pass takes on the fake clock */
	bool counts;		/* false: no dirty count, like faults-only */
};

static struct fake_backend fakes[3];

static int fake_open(struct fake_backend *f, void **ret_state) {
	if (f->open_error)
		return -f->open_error;
	*ret_state = f;
	return 0;
}

static int fake_pass(void *state, const struct backend_pass_args *args, uint64_t *ret_dirty_pages) {
	struct fake_backend *f = state;
	unsigned i = f->passes++;
	int r = i < ELEMENTSOF(f->pass_result) ? f->pass_result[i] : 0;

	fake_usec += f->pass_usec;
	if (r < 0)
		return r;
	*ret_dirty_pages = f->dirty_pages;
	return f->counts ? 1 : 0;
}

static void fake_close(void *state) {
}

static bool fake_probe(void) {
	return true;
}

#define FAKE_BACKEND(n, feature)                                                        \
	static int fake_open_##n(int procfd, void **ret_state) {                       \
		return fake_open(&fakes[n], ret_state);                                 \
	}                                                                              \
	static const struct backend_ops fake_backend_##n = {                           \
		.name = "fake-" #n, .kernel_feature = feature, .probe = fake_probe,    \
		.open = fake_open_##n, .pass = fake_pass, .close = fake_close,         \
	}
FAKE_BACKEND(0, true);
FAKE_BACKEND(1, true);
FAKE_BACKEND(2, false);
static const struct backend_ops *const fake_table[] = { &fake_backend_0, &fake_backend_1, &fake_backend_2 };

/* The same fakes under names a config's Backend= accepts; this "kernel" lacks clear-refs. */
static bool fake_absent(void) {
	return false;
}
static const struct backend_ops named_clear_refs = {
	.name = "clear-refs", .kernel_feature = true, .probe = fake_absent,
	.open = fake_open_0, .pass = fake_pass, .close = fake_close,
};
static const struct backend_ops named_page_sampling = {
	.name = "page-sampling", .kernel_feature = true, .probe = fake_probe,
	.open = fake_open_1, .pass = fake_pass, .close = fake_close,
};
static const struct backend_ops named_faults_only = {
	.name = "faults-only", .kernel_feature = false, .probe = fake_probe,
	.open = fake_open_2, .pass = fake_pass, .close = fake_close,
};
static const struct backend_ops *const named_table[] = { &named_clear_refs, &named_page_sampling, &named_faults_only };

/* fake-2 as the real faults-only says it is: the fault counters are its count. */
static const struct backend_ops fake_counts_only_faults = {
	.name = "faults-only", .counts_only_faults = true, .probe = fake_probe,
	.open = fake_open_2, .pass = fake_pass, .close = fake_close,
};
static const struct backend_ops *const faults_only_table[] = { &fake_counts_only_faults };

/* ---- events ---- */

struct event_log {
	char text[4096];
};
static struct event_log events;

static void log_event(const char *what, struct process *p) {
	size_t len = strlen(events.text);

	snprintf(events.text + len, sizeof(events.text) - len, "%s%s:%s", len ? " " : "", what,
		 process_backend_name(p));
}

static void on_added(struct process *p, void *u) { log_event("added", p); }
static void on_removed(struct process *p, void *u) { log_event("removed", p); }
static unsigned last_changes;
static void on_sampled(struct process *p, unsigned changes, void *u) {
	ASSERT_TRUE(changes != 0);
	last_changes = changes;
	log_event("sampled", p);
}
static void on_backend_changed(struct process *p, void *u) { log_event("backend", p); }

static unsigned reloads_finished;
static void on_reload_finished(struct manager *m, void *u) { reloads_finished++; }

static const struct manager_events test_events = {
	.process_added = on_added,
	.process_removed = on_removed,
	.process_sampled = on_sampled,
	.process_backend_changed = on_backend_changed,
	.reload_finished = on_reload_finished,
};

/* ---- set-up ---- */

/*
 * A child named @comm, asleep in pause(). Returns once it sleeps there,
 * not as soon as it has its name: on its way to pause() it still takes
 * faults (pause's lazy binding, its stack) that move its RSS, and a pass
 * seeing that announces a change the test does not expect.
 */
static pid_t spawn_child(const char *comm) {
	_cleanup_close_ int procfd = -EBADF;
	char path[32];
	pid_t pid = fork();

	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, comm);
		for (;;)
			pause();
	}
	snprintf(path, sizeof(path), "/proc/%d", (int) pid);
	procfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ASSERT_TRUE(procfd >= 0);
	for (int i = 0; i < 10000; i++) {
		struct proc_stat st;

		/* Until it renamed itself a rule would not match it; after
		 * prctl() the only call that sleeps is pause(). */
		if (proc_read_stat(procfd, &st) >= 0 && streq(st.comm, comm) && st.state == 'S')
			return pid;
		usleep(1000);
	}
	FAIL("child %d never took the name %s and slept in pause()", (int) pid, comm);
}

static void reap(pid_t pid) {
	kill(pid, SIGKILL);
	ASSERT_EQ(waitpid(pid, NULL, 0), pid);
}

static struct manager *new_manager_with(const struct backend_ops *const *table, size_t n_table,
					const char *config_text) {
	char path[] = "/tmp/test-sampler-XXXXXX";
	struct manager *m;
	int fd = mkstemp(path);

	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, config_text, strlen(config_text)), (ssize_t) strlen(config_text));
	close(fd);
	memset(fakes, 0, sizeof(fakes));
	for (size_t i = 0; i < ELEMENTSOF(fakes); i++) {
		fakes[i].counts = i < 2;
		fakes[i].dirty_pages = 100;
	}
	ASSERT_EQ(manager_new(path, table, n_table, &m), 0);
	unlink(path);
	m->now_usec = fake_now_usec;
	m->faults = fake_fault_source_new(true, true);
	manager_set_events(m, &test_events, NULL);
	events.text[0] = 0;
	reloads_finished = 0;
	return m;
}

static struct manager *new_manager(const char *config_text) {
	return new_manager_with(fake_table, ELEMENTSOF(fake_table), config_text);
}

static struct process *track(struct manager *m, pid_t pid) {
	struct process *p = NULL;

	ASSERT_EQ(manager_track(m, pid, TRACK_ORIGIN_API, NULL, &p), 1);
	return p;
}

/* One pass over every process, one fake second after the last. */
static void pass(struct manager *m) {
	fake_usec += USEC_PER_SEC;
	sampler_run_pass(m);
}

/* ---- tests ---- */

TEST(test_rates) {
	struct manager *m = new_manager("");
	pid_t child = spawn_child("dr-rates");
	struct process *p = track(m, child);

	ASSERT_STREQ(process_backend_name(p), "fake-0");
	ASSERT_STREQ(events.text, "added:fake-0");
	ASSERT_TRUE(isnan(p->stats.dirty_bytes_per_sec)); /* the baseline gives none */
	pass(m);
	ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 100.0 * PAGE, 1e-6);
	ASSERT_EQ_U64(p->stats.dirtied_bytes_total, 100 * PAGE);
	ASSERT_EQ_U64(p->last_sample_monotonic_usec, fake_usec);
	ASSERT_STREQ(events.text, "added:fake-0 sampled:fake-0");
	manager_free(m);
	reap(child);
}

/* Each refusal at pass time falls back to the next backend, which starts a new interval. */
TEST(test_fallback_on_refusal) {
	static const int refusals[] = { EACCES, EPERM, EOPNOTSUPP, ENOTTY };

	for (size_t i = 0; i < ELEMENTSOF(refusals); i++) {
		struct manager *m = new_manager("");
		pid_t child = spawn_child("dr-fallback");
		struct process *p;

		fakes[0].pass_result[1] = -refusals[i]; /* [0] is the baseline */
		p = track(m, child);
		pass(m);
		ASSERT_STREQ(process_backend_name(p), "fake-1");
		ASSERT_STREQ(events.text, "added:fake-0 backend:fake-1");
		ASSERT_TRUE(!p->has_pending);
		pass(m); /* fake-1's baseline */
		ASSERT_TRUE(isnan(p->stats.dirty_bytes_per_sec));
		ASSERT_EQ_U64(p->stats.dirtied_bytes_total, 0);
		pass(m);
		ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 100.0 * PAGE, 1e-6);
		ASSERT_EQ(fakes[1].passes, 2);
		printf("  %s at pass time: fake-0 -> fake-1\n", strerror(refusals[i]));
		manager_free(m);
		reap(child);
	}
}

/* A refusal at open time, and to the end of the table (the last always opens). */
TEST(test_fallback_on_open) {
	struct manager *m = new_manager("");
	pid_t child = spawn_child("dr-open");
	struct process *p;

	fakes[0].open_error = EACCES;
	fakes[1].open_error = EPERM;
	p = track(m, child);
	ASSERT_STREQ(process_backend_name(p), "fake-2");
	pass(m);
	/* No dirty count and fault counters that counted nothing: an estimate of 0. */
	ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 0, 0);
	manager_free(m);
	reap(child);
}

/* Other errors are not refusals: the interval is dropped, the backend stays. */
TEST(test_other_error_keeps_backend) {
	struct manager *m = new_manager("");
	pid_t child = spawn_child("dr-eio");
	struct process *p;

	fakes[0].pass_result[1] = -EIO;
	p = track(m, child);
	pass(m);
	ASSERT_STREQ(process_backend_name(p), "fake-0");
	ASSERT_TRUE(!p->has_pending);
	pass(m); /* a new baseline */
	pass(m);
	ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 100.0 * PAGE, 1e-6);
	manager_free(m);
	reap(child);
}

/* ESRCH from a process that lives on: it exec'd. Same backend, new baseline. */
TEST(test_exec_rebaselines) {
	struct manager *m = new_manager("");
	pid_t child = spawn_child("dr-exec");
	struct process *p;

	fakes[0].pass_result[2] = -ESRCH;
	p = track(m, child);
	pass(m);
	ASSERT_EQ_U64(p->stats.dirtied_bytes_total, 100 * PAGE);
	pass(m); /* "exec" */
	ASSERT_STREQ(process_backend_name(p), "fake-0");
	ASSERT_EQ(m->n_processes, 1);
	ASSERT_TRUE(!p->has_pending);
	pass(m); /* the new baseline: its 100 pages were before the interval began */
	ASSERT_EQ_U64(p->stats.dirtied_bytes_total, 100 * PAGE);
	pass(m);
	ASSERT_EQ_U64(p->stats.dirtied_bytes_total, 200 * PAGE);
	/* No sample from the "exec" pass; the baseline after it changes nothing published. */
	ASSERT_STREQ(events.text, "added:fake-0 sampled:fake-0 sampled:fake-0");
	manager_free(m);
	reap(child);
}

/* ESRCH from a process that has exited: it is untracked, with its event. */
TEST(test_gone) {
	struct manager *m = new_manager("");
	pid_t child = spawn_child("dr-gone");

	fakes[0].pass_result[1] = -ESRCH;
	(void) track(m, child);
	ASSERT_EQ(kill(child, SIGKILL), 0);
	ASSERT_EQ(waitid(P_PID, (id_t) child, NULL, WEXITED | WNOWAIT), 0); /* a zombie: /proc/PID stays */
	pass(m);
	ASSERT_EQ(m->n_processes, 0);
	ASSERT_STREQ(events.text, "added:fake-0 removed:fake-0");
	ASSERT_TRUE(!fake_fault_tracked(m->faults, child));
	ASSERT_TRUE(!manager_get_process(m, child));
	manager_free(m);
	ASSERT_EQ(waitpid(child, NULL, 0), child);
}

/* A rescan that finds the PID held by another process (another start time):
 * the old object goes, a new one comes, and nothing carries over. */
TEST(test_pid_reuse_by_rescan) {
	struct manager *m = new_manager("[Daemon]\nSampleIntervalSec=1s\n[Track]\nComm=dr-reuse\n");
	pid_t child = spawn_child("dr-reuse");
	struct process *old, *p;

	rescan_run(m);
	ASSERT_EQ(m->n_processes, 1);
	old = m->processes[0];
	ASSERT_EQ(old->pid, child);
	*fake_fault_counts(m->faults, child) = (struct fault_counts) { .wp_faults = 500 };
	pass(m);
	ASSERT_EQ_U64(old->stats.write_faults_total, 500);
	ASSERT_EQ_U64(old->stats.dirtied_bytes_total, 100 * PAGE);

	/*
	 * Stand the tracked object in for an earlier owner of the PID: its
	 * recorded start time is not the live process's. (The PID itself is
	 * reused for real in the dbus suite's pid-reuse test and the churn
	 * test, which need root or a PID namespace.)
	 */
	old->start_ticks += 1;
	events.text[0] = 0;
	rescan_run(m);
	ASSERT_STREQ(events.text, "removed:fake-0 added:fake-0");
	ASSERT_EQ(m->n_processes, 1);
	p = m->processes[0];
	ASSERT_EQ(p->pid, child);
	ASSERT_EQ_U64(p->stats.write_faults_total, 0);
	ASSERT_EQ_U64(p->stats.dirtied_bytes_total, 0);
	ASSERT_TRUE(fake_fault_tracked(m->faults, child)); /* counting again from zero */
	ASSERT_EQ_U64(fake_fault_counts(m->faults, child)->wp_faults, 0);
	manager_free(m);
	reap(child);
}

/* Someone else cleared the soft-dirty bits: that interval is disturbed, the next is not. */
TEST(test_foreign_clear) {
	struct manager *m = new_manager("");
	pid_t child = spawn_child("dr-foreign");
	struct process *p = track(m, child);
	struct fault_counts *c = fake_fault_counts(m->faults, child);
	double avg;

	pass(m);
	avg = p->stats.dirty_avgs.avg10;
	ASSERT_NEAR(avg, 100.0 * PAGE, 1e-6);
	c->clears_foreign = 1;
	c->last_foreign_clear_nsec = (fake_usec + 10) * NSEC_PER_USEC;
	fakes[0].dirty_pages = 3; /* what the other's clear left us */
	pass(m);
	ASSERT_TRUE(p->stats.last_sample_disturbed);
	ASSERT_TRUE(isnan(p->stats.dirty_bytes_per_sec));
	ASSERT_EQ_U64(p->stats.foreign_clears, 1);
	ASSERT_NEAR(p->stats.dirty_avgs.avg10, avg, 0); /* not pulled down */
	fakes[0].dirty_pages = 100;
	pass(m);
	ASSERT_TRUE(!p->stats.last_sample_disturbed);
	ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 100.0 * PAGE, 1e-6);
	ASSERT_EQ_U64(p->stats.foreign_clears, 1);
	manager_free(m);
	reap(child);
}

/*
 * A pass is placed at the midpoint of its get+clear. A long baseline (1 s)
 * followed at once by a short pass (10 ms) that finds 100 pages: the
 * interval is 0.5 + 0.005 s, not the 10 ms between their ends (which read
 * 50x the rate here, and 412x once: bench/runs/2026-12-03/RESULTS.md).
 */
TEST(test_pass_midpoint) {
	struct manager *m = new_manager("");
	pid_t child = spawn_child("dr-midpoint");
	struct process *p;

	fakes[0].pass_usec = USEC_PER_SEC;
	p = track(m, child);
	fakes[0].pass_usec = 10 * USEC_PER_MSEC;
	sampler_run_pass(m); /* right after the baseline */
	ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 100.0 * PAGE / 0.505, 1e-6);
	manager_free(m);
	reap(child);
}

/* A pass sliced into many steps sees every process once, in PID order, also when one leaves mid-pass. */
TEST(test_sliced_pass) {
	struct manager *m = new_manager("");
	pid_t children[5];
	unsigned steps = 0;

	for (size_t i = 0; i < ELEMENTSOF(children); i++) {
		children[i] = spawn_child("dr-sliced");
		(void) track(m, children[i]);
	}
	fake_usec += USEC_PER_SEC;
	sampler_begin(m);
	/* A budget of 0: one process per step. */
	ASSERT_EQ(sampler_step(m, 0), 0);
	steps++;
	/* One leaves between two steps. */
	manager_untrack(m, manager_get_process(m, children[3]), true, "test");
	while (sampler_step(m, 0) == 0)
		steps++;
	ASSERT_EQ(m->n_processes, 4);
	for (size_t i = 0; i < m->n_processes; i++)
		ASSERT_NEAR(m->processes[i]->stats.dirty_bytes_per_sec, 100.0 * PAGE, 1e-6);
	/* 4 passes (the last with the snapshot) + 4 accountings, one per step, and the end. */
	ASSERT_TRUE(steps >= 8);
	ASSERT_TRUE(!m->sampler.running);
	manager_free(m);
	for (size_t i = 0; i < ELEMENTSOF(children); i++)
		reap(children[i]);
}

/*
 * The fault counters are read in the step of the last process's pass, not
 * in a later one: a pass's write faults are those since the last snapshot,
 * its dirty pages those since its last clear, and whatever the event loop
 * serves between two steps (bus calls; under load, other processes) would
 * otherwise come between the two ends of the interval, moving its faults
 * away from its dirty pages by that time's writes.
 */
TEST(test_snapshot_follows_last_pass) {
	struct manager *m = new_manager("");
	pid_t children[3];

	for (size_t i = 0; i < ELEMENTSOF(children); i++) {
		children[i] = spawn_child("dr-snapshot");
		(void) track(m, children[i]);
	}
	fake_usec += USEC_PER_SEC;
	sampler_begin(m);
	/* A budget of 0: one process per step. */
	for (size_t i = 0; i < ELEMENTSOF(children); i++) {
		ASSERT_TRUE(!m->sampler.accounting);
		ASSERT_EQ(sampler_step(m, 0), 0);
	}
	ASSERT_TRUE(m->sampler.accounting);
	while (sampler_step(m, 0) == 0)
		;
	for (size_t i = 0; i < m->n_processes; i++)
		ASSERT_NEAR(m->processes[i]->stats.dirty_bytes_per_sec, 100.0 * PAGE, 1e-6);
	manager_free(m);
	for (size_t i = 0; i < ELEMENTSOF(children); i++)
		reap(children[i]);
}

/* The config file a reload reads (new_manager() removed the first one). */
static void write_config(struct manager *m, const char *text) {
	FILE *f = fopen(m->config_path, "we");

	ASSERT_TRUE(f);
	ASSERT_EQ(fputs(text, f) >= 0, 1);
	ASSERT_EQ(fclose(f), 0);
}

static void sort_pids(pid_t *pids, size_t n) {
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
			pid_t t = pids[j];

			pids[j] = pids[j - 1];
			pids[j - 1] = t;
		}
}

static unsigned count_words(const char *text, const char *word) {
	unsigned n = 0;

	for (const char *t = text; (t = strstr(t, word)); t += strlen(word))
		n++;
	return n;
}

/*
 * A rescan sliced one entry per step, with the world changing between
 * steps: a matching process the API tracked meanwhile is not tracked
 * again, one that exits before the scan reaches it is not tracked, one
 * the operator untracked is not picked up again, and each of the others
 * is tracked exactly once.
 */
TEST(test_sliced_rescan) {
	struct manager *m = new_manager("[Daemon]\nSampleIntervalSec=1s\n[Track]\nComm=dr-rescan\n");
	pid_t kids[5];
	unsigned steps = 0;
	int r;

	for (size_t i = 0; i < ELEMENTSOF(kids); i++)
		kids[i] = spawn_child("dr-rescan");
	sort_pids(kids, ELEMENTSOF(kids));

	rescan_begin(m);
	/* A budget of 0: one tracked process or one /proc entry per step. */
	while (!manager_find_process(m, kids[0])) {
		ASSERT_EQ(rescan_step(m, 0), 0);
		steps++;
	}
	ASSERT_EQ(m->rescan.phase, RESCAN_SCAN);
	ASSERT_EQ(m->n_processes, 1);
	/* Between two steps: the API tracks kids[2], kids[3] exits, the operator untracks kids[0]. */
	(void) track(m, kids[2]);
	reap(kids[3]);
	manager_untrack(m, manager_get_process(m, kids[0]), true, "test");
	while ((r = rescan_step(m, 0)) == 0)
		steps++;
	ASSERT_EQ(r, 1);
	ASSERT_TRUE(!m->rescan.running);

	ASSERT_EQ(m->n_processes, 3);
	ASSERT_TRUE(!manager_find_process(m, kids[0]));
	ASSERT_EQ(manager_find_process(m, kids[1])->origin, TRACK_ORIGIN_RULE);
	ASSERT_EQ(manager_find_process(m, kids[2])->origin, TRACK_ORIGIN_API);
	ASSERT_TRUE(!manager_find_process(m, kids[3]));
	ASSERT_EQ(manager_find_process(m, kids[4])->origin, TRACK_ORIGIN_RULE);
	/* kids[0], [2] (API), [1] and [4] added once each; kids[0] removed by the operator. */
	ASSERT_EQ(count_words(events.text, "added:"), 4);
	ASSERT_EQ(count_words(events.text, "removed:"), 1);
	ASSERT_TRUE(steps > m->n_processes);
	ASSERT_EQ(reloads_finished, 0); /* not a reload's rescan */
	printf("  %u steps\n", steps);

	/* The next rescan changes nothing: the operator's untrack holds, nothing is tracked twice. */
	events.text[0] = 0;
	rescan_run(m);
	ASSERT_STREQ(events.text, "");
	ASSERT_EQ(m->n_processes, 3);

	manager_free(m);
	for (size_t i = 0; i < ELEMENTSOF(kids); i++)
		if (i != 3)
			reap(kids[i]);
}

/*
 * Reload() during a rescan, with an event loop (not run: the test takes
 * the steps): the rescan starts over under the new rules and the reload is
 * done (reload_finished, once) when that rescan ends; a bad config
 * meanwhile changes nothing and does not end the pending reload. Nothing
 * is tracked twice: only the change of rules shows up as events.
 */
TEST(test_reload_during_rescan) {
	static const char old_rules[] = "[Daemon]\nSampleIntervalSec=1s\n[Track]\nComm=dr-old\n";
	static const char new_rules[] = "[Daemon]\nSampleIntervalSec=1s\n[Track]\nComm=dr-new\n";
	struct manager *m = new_manager(old_rules);
	pid_t old_kid = spawn_child("dr-old"), new_kid = spawn_child("dr-new");
	_cleanup_free_ char *error = NULL;
	int r;

	ASSERT_EQ(sd_event_new(&m->event), 0);
	ASSERT_EQ(rescan_start(m), 0);
	rescan_run(m);
	ASSERT_STREQ(events.text, "added:fake-0");
	ASSERT_TRUE(manager_find_process(m, old_kid));

	/* A periodic rescan under the old rules, some way into /proc. */
	rescan_begin(m);
	while (m->rescan.phase != RESCAN_SCAN)
		ASSERT_EQ(rescan_step(m, 0), 0);
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(rescan_step(m, 0), 0);

	write_config(m, new_rules);
	ASSERT_EQ(manager_reload(m, NULL), 0);
	ASSERT_TRUE(m->reload_pending);
	ASSERT_TRUE(m->rescan.running);
	ASSERT_EQ(m->rescan.phase, RESCAN_RECHECK); /* started over */
	ASSERT_EQ(reloads_finished, 0);
	ASSERT_STREQ(events.text, "added:fake-0"); /* nothing yet: the rescan applies the rules */

	/* Some steps in, a second (good) reload starts over again; a bad one is refused and changes nothing. */
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(rescan_step(m, 0), 0);
	ASSERT_EQ(manager_reload(m, NULL), 0);
	ASSERT_EQ(m->rescan.phase, RESCAN_RECHECK);
	ASSERT_EQ(rescan_step(m, 0), 0);
	write_config(m, "[Daemon]\nBackend=warp-drive\n");
	ASSERT_TRUE(manager_reload(m, &error) < 0);
	ASSERT_TRUE(error);
	ASSERT_TRUE(m->reload_pending);
	ASSERT_TRUE(m->rescan.running);
	ASSERT_EQ(reloads_finished, 0);

	while ((r = rescan_step(m, 0)) == 0)
		ASSERT_EQ(reloads_finished, 0);
	ASSERT_EQ(r, 1);
	ASSERT_EQ(reloads_finished, 1);
	ASSERT_TRUE(!m->reload_pending);
	ASSERT_TRUE(!m->rescan.running);
	ASSERT_STREQ(events.text, "added:fake-0 removed:fake-0 added:fake-0");
	ASSERT_TRUE(!manager_find_process(m, old_kid));
	ASSERT_EQ(manager_find_process(m, new_kid)->origin, TRACK_ORIGIN_RULE);
	/* The next periodic rescan is armed. */
	ASSERT_TRUE(sd_event_source_get_enabled(m->rescan.timer, NULL) > 0);

	unlink(m->config_path);
	manager_free(m);
	reap(old_kid);
	reap(new_kid);
}

/*
 * Backend= in [Track] rules, with [Daemon] Backend=faults-only as the
 * default: the first matching rule that has Backend= decides (dr-rb-sampled
 * also matches the catch-all rule before it, and a later rule asking for
 * another backend); a backend this kernel lacks gives the default, not the
 * next one in the table (page-sampling, after clear-refs); a rule without
 * Backend= and TrackProcess() give the default. Like [Daemon] Backend=, a
 * reload applies to processes tracked after it: those tracked keep theirs.
 */
/*
 * faults-only: a process whose write faults did not move is not passed
 * (no /proc read: the backend's pass stands in for it here) and, once its
 * rates settled at 0, announces nothing; a fault brings both back.
 */
TEST(test_faults_only_idle) {
	struct manager *m = new_manager_with(faults_only_table, ELEMENTSOF(faults_only_table), "");
	pid_t child = spawn_child("dr-idle");
	struct process *p = track(m, child);
	struct fault_counts *c = fake_fault_counts(m->faults, child);

	ASSERT_EQ(fakes[2].passes, 1); /* the baseline, at TrackProcess */
	pass(m);
	ASSERT_EQ(fakes[2].passes, 1);
	ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 0, 0);
	ASSERT_EQ_U64(p->last_sample_monotonic_usec, fake_usec); /* sampled all the same */
	ASSERT_STREQ(events.text, "added:faults-only sampled:faults-only"); /* NaN -> 0 */
	pass(m);
	pass(m);
	ASSERT_EQ(fakes[2].passes, 1);
	ASSERT_EQ_U64(p->last_sample_monotonic_usec, fake_usec);
	ASSERT_STREQ(events.text, "added:faults-only sampled:faults-only");

	c->wp_faults = 10;
	pass(m);
	ASSERT_EQ(fakes[2].passes, 2);
	ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 10.0 * PAGE, 1e-6);
	ASSERT_TRUE(last_changes & PROCESS_CHANGED_DIRTY_RATE);
	ASSERT_TRUE(last_changes & PROCESS_CHANGED_WRITE_FAULTS_TOTAL);
	ASSERT_TRUE(!(last_changes & PROCESS_CHANGED_FOREIGN_CLEARS));
	ASSERT_STREQ(events.text, "added:faults-only sampled:faults-only sampled:faults-only");

	/* Idle again: no /proc read, but the rate falls to 0 and the averages decay. */
	pass(m);
	ASSERT_EQ(fakes[2].passes, 2);
	ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 0, 0);
	ASSERT_TRUE(last_changes & PROCESS_CHANGED_DIRTY_AVG300);
	ASSERT_TRUE(!(last_changes & PROCESS_CHANGED_DIRTIED_TOTAL));

	/* A first-touch fault counts as well. */
	c->np_write_faults = 1;
	pass(m);
	ASSERT_EQ(fakes[2].passes, 3);
	ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 1.0 * PAGE, 1e-6);
	manager_free(m);
	reap(child);
}

/*
 * A faults-only process tracked after the pass's snapshot of the counters
 * has none in it (its counters start at 0 when it is tracked): that pass
 * gives it no interval, and the faults it takes from then on are counted
 * once, by the next pass.
 */
TEST(test_faults_only_tracked_after_snapshot) {
	struct manager *m = new_manager_with(faults_only_table, ELEMENTSOF(faults_only_table), "");
	pid_t a = spawn_child("dr-snap-a"), b = spawn_child("dr-snap-b");
	struct process *pa = track(m, a), *pb;

	fake_usec += USEC_PER_SEC;
	sampler_begin(m);
	while (!m->sampler.accounting)
		ASSERT_EQ(sampler_step(m, 0), 0);
	/* Between the snapshot and the accounting: b is tracked and writes. */
	fake_usec += 1000;
	pb = track(m, b);
	fake_fault_counts(m->faults, b)->wp_faults = 500;
	while (sampler_step(m, 0) == 0)
		;
	ASSERT_NEAR(pa->stats.dirty_bytes_per_sec, 0, 0);
	ASSERT_TRUE(isnan(pb->stats.dirty_bytes_per_sec)); /* no interval yet */
	ASSERT_EQ_U64(pb->stats.write_faults_total, 0);
	pass(m);
	ASSERT_EQ_U64(pb->stats.write_faults_total, 500);
	ASSERT_EQ_U64(pb->stats.dirtied_bytes_total, 500 * PAGE);
	pass(m);
	ASSERT_EQ_U64(pb->stats.write_faults_total, 500);
	manager_free(m);
	reap(a);
	reap(b);
}

TEST(test_rule_backend) {
	static const char config[] =
		"[Daemon]\nBackend=faults-only\n"
		"[Track]\nComm=dr-rb-*\n"
		"[Track]\nComm=dr-rb-sampled\nBackend=page-sampling\n"
		"[Track]\nComm=dr-rb-absent\nBackend=clear-refs\n"
		"[Track]\nComm=dr-rb-sampled\nBackend=faults-only\n";
	struct manager *m = new_manager_with(named_table, ELEMENTSOF(named_table), config);
	pid_t sampled = spawn_child("dr-rb-sampled"), absent = spawn_child("dr-rb-absent");
	pid_t plain = spawn_child("dr-rb-plain"), api = spawn_child("dr-api");

	ASSERT_TRUE(!m->available[0]);
	ASSERT_STREQ(m->backends[m->default_backend]->name, "faults-only");
	rescan_run(m);
	ASSERT_EQ(m->n_processes, 3);
	ASSERT_STREQ(process_backend_name(manager_find_process(m, sampled)), "page-sampling");
	ASSERT_STREQ(process_backend_name(manager_find_process(m, absent)), "faults-only");
	ASSERT_STREQ(process_backend_name(manager_find_process(m, plain)), "faults-only");
	ASSERT_STREQ(process_backend_name(track(m, api)), "faults-only");
	ASSERT_EQ(fakes[0].passes, 0); /* the absent one was never called */
	pass(m);
	ASSERT_EQ(fakes[1].passes, 2); /* page-sampling: dr-rb-sampled's baseline and one pass */

	write_config(m, "[Daemon]\nBackend=faults-only\n[Track]\nComm=dr-rb-*\nBackend=faults-only\n");
	events.text[0] = 0;
	ASSERT_EQ(manager_reload(m, NULL), 0);
	ASSERT_STREQ(events.text, "");
	ASSERT_STREQ(process_backend_name(manager_find_process(m, sampled)), "page-sampling");

	unlink(m->config_path);
	manager_free(m);
	reap(sampled);
	reap(absent);
	reap(plain);
	reap(api);
}

/*
 * ---- the real pagemap-ioctl backend over a simulated kernel (the v3
 * contract, /work/notes/v3-contract.md): its ioctl goes to sim_ioctl() ----
 *
 * The backend reads the child's real writable mappings; the simulated
 * kernel keeps a list of dirty pages: sim_write() dirties the first page of
 * every range it has been asked about, GET_AND_CLEAR reports and clears the
 * dirty pages of its range (at most one: ascending by construction). It is a
 * kernel of the series without PAGEMAP_SCAN's PM_SCAN_CLEAR_SOFT_DIRTY (the
 * backend's other form, which test-backend-pagemap-ioctl covers): EINVAL.
 */
extern const struct backend_ops backend_pagemap_ioctl;
static const struct backend_ops *const ioctl_table[] = { &backend_pagemap_ioctl, &fake_backend_1, &fake_backend_2 };

static struct sim_kernel {
	int get_errno;		/* PAGEMAP_SD_GET (the probe) fails with it */
	int clear_errno;	/* every GET_AND_CLEAR fails with it */
	unsigned fail_at;	/* this GET_AND_CLEAR (1-based, counted over all) fails with fail_errno */
	int fail_errno;
	unsigned calls;		/* GET_AND_CLEAR calls */
	uint64_t starts[256], dirty[256];
	size_t n_starts, n_dirty;
} sim;

static int sim_ioctl(int fd, unsigned long request, void *arg, void *userdata) {
	struct pagemap_sd_args *a = arg;
	uint64_t start = (uint64_t) (uintptr_t) a->start;
	size_t i;

	ASSERT_TRUE(fd >= 0);
	if (request == PAGEMAP_SCAN)
		return -EINVAL; /* an unknown PAGEMAP_SCAN flag */
	if (request == PAGEMAP_SD_GET) {
		if (sim.get_errno)
			return -sim.get_errno;
		a->vec[0] = 0;
		return 1;
	}
	ASSERT_EQ(request, PAGEMAP_SD_GET_AND_CLEAR);
	ASSERT_TRUE(a->len > 0 && a->vec_len > 0);
	sim.calls++;
	if (sim.clear_errno)
		return -sim.clear_errno; /* v3: ptrace-attach rights are checked here, at ioctl time */
	if (sim.fail_at && sim.calls == sim.fail_at)
		return -sim.fail_errno;
	for (i = 0; i < sim.n_starts && sim.starts[i] != start; i++)
		;
	if (i == sim.n_starts && sim.n_starts < ELEMENTSOF(sim.starts))
		sim.starts[sim.n_starts++] = start;
	for (i = 0; i < sim.n_dirty; i++)
		if (sim.dirty[i] >= start && sim.dirty[i] - start < (uint64_t) a->len) {
			a->vec[0] = (loff_t) (sim.dirty[i] - start);
			sim.dirty[i] = sim.dirty[--sim.n_dirty];
			return 1;
		}
	return 0;
}

/* The process writes the first page of each of its ranges; returns how many. */
static unsigned sim_write(void) {
	memcpy(sim.dirty, sim.starts, sim.n_starts * sizeof(*sim.starts));
	sim.n_dirty = sim.n_starts;
	return (unsigned) sim.n_dirty;
}

static struct manager *new_sim_manager(void) {
	pagemap_sd_ioctl_fn = sim_ioctl;
	pagemap_sd_ioctl_userdata = NULL;
	return new_manager_with(ioctl_table, ELEMENTSOF(ioctl_table), "");
}

/*
 * v3 checks ptrace-attach rights when CLEAR/GET_AND_CLEAR is called, not
 * only read rights at open: the open and the probe succeed, then a
 * GET_AND_CLEAR is refused. EPERM or EACCES, and ENOTTY (no such ioctl),
 * at pass time: the process falls back to the next backend, from a new
 * baseline, with one log line (shown here).
 */
TEST(test_ioctl_refused_at_pass_time_falls_back) {
	static const int refusals[] = { EPERM, EACCES, ENOTTY };

	for (size_t i = 0; i < ELEMENTSOF(refusals); i++) {
		struct manager *m;
		pid_t child = spawn_child("dr-ioctl-eperm");
		struct process *p;
		unsigned written;

		sim = (struct sim_kernel) {};
		m = new_sim_manager();
		ASSERT_TRUE(m->available[0]);
		p = track(m, child);
		ASSERT_STREQ(process_backend_name(p), "pagemap-ioctl");
		written = sim_write();
		ASSERT_TRUE(written >= 2);
		pass(m);
		ASSERT_NEAR(p->stats.dirty_bytes_per_sec, (double) written * PAGE, 1e-6);

		sim.clear_errno = refusals[i];
		log_set_max_level(LOG_WARNING);
		pass(m);
		log_set_max_level(LOG_ERR);
		ASSERT_STREQ(process_backend_name(p), "fake-1");
		ASSERT_STREQ(events.text, "added:pagemap-ioctl sampled:pagemap-ioctl backend:fake-1");
		pass(m); /* fake-1's baseline */
		pass(m);
		ASSERT_NEAR(p->stats.dirty_bytes_per_sec, 100.0 * PAGE, 1e-6);
		printf("  %s from GET_AND_CLEAR: pagemap-ioctl -> fake-1\n", strerror(refusals[i]));
		manager_free(m);
		reap(child);
	}
}

/* ENOTTY from the probe (a kernel without the series): the backend is absent; nothing calls it. */
TEST(test_ioctl_enotty_means_absent) {
	struct manager *m;
	pid_t child = spawn_child("dr-ioctl-enotty");
	struct process *p;

	sim = (struct sim_kernel) { .get_errno = ENOTTY, .clear_errno = ENOTTY };
	m = new_sim_manager();
	ASSERT_TRUE(!m->available[0]);
	ASSERT_EQ(m->default_backend, 1);
	p = track(m, child);
	ASSERT_STREQ(process_backend_name(p), "fake-1");
	pass(m);
	ASSERT_EQ(sim.calls, 0);
	ASSERT_STREQ(events.text, "added:fake-1 sampled:fake-1");
	manager_free(m);
	reap(child);
}

/*
 * ENOMEM (v3: only a failed kernel allocation) in the middle of a pass:
 * the pass stops there, but its sample stands with the page reported (and
 * cleared) before it; the pages it did not reach were not cleared and the
 * next pass reports them. Nothing written is lost: the total is exact, and
 * the backend stays. (Treated like other errors, the interval would be
 * dropped and the next pass taken as a new baseline: all of it lost.)
 */
TEST(test_ioctl_enomem_loses_nothing) {
	struct manager *m;
	pid_t child = spawn_child("dr-ioctl-enomem");
	struct process *p;
	unsigned written;

	sim = (struct sim_kernel) {};
	m = new_sim_manager();
	p = track(m, child);
	written = sim_write();
	ASSERT_TRUE(written >= 2);
	sim.fail_at = sim.calls + 2; /* the pass's 2nd call */
	sim.fail_errno = ENOMEM;
	pass(m);
	ASSERT_STREQ(process_backend_name(p), "pagemap-ioctl");
	ASSERT_EQ_U64(p->stats.dirtied_bytes_total, 1 * PAGE);
	ASSERT_EQ(sim.n_dirty, written - 1);
	pass(m); /* no new writes: what the failed pass did not reach */
	ASSERT_EQ_U64(p->stats.dirtied_bytes_total, (uint64_t) written * PAGE);
	ASSERT_EQ(sim.n_dirty, 0);
	ASSERT_STREQ(events.text, "added:pagemap-ioctl sampled:pagemap-ioctl sampled:pagemap-ioctl");
	printf("  %u pages written; the ENOMEM pass counted 1, the next %u\n", written, written - 1);
	manager_free(m);
	reap(child);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	log_set_max_level(LOG_ERR);
	RUN(test_rates);
	RUN(test_fallback_on_refusal);
	RUN(test_fallback_on_open);
	RUN(test_other_error_keeps_backend);
	RUN(test_exec_rebaselines);
	RUN(test_gone);
	RUN(test_pid_reuse_by_rescan);
	RUN(test_foreign_clear);
	RUN(test_pass_midpoint);
	RUN(test_sliced_pass);
	RUN(test_snapshot_follows_last_pass);
	RUN(test_sliced_rescan);
	RUN(test_reload_during_rescan);
	RUN(test_faults_only_idle);
	RUN(test_faults_only_tracked_after_snapshot);
	RUN(test_rule_backend);
	RUN(test_ioctl_refused_at_pass_time_falls_back);
	RUN(test_ioctl_enotty_means_absent);
	RUN(test_ioctl_enomem_loses_nothing);
	return 0;
}
