/* SPDX-License-Identifier: GPL-2.0-only */
#include <fcntl.h>
#include <math.h>
#include <poll.h>

#include "manager.h"
#include "pagemap.h"
#include "proc-maps.h"
#include "proc-pid.h"
#include "sample-ioctl.h"
#include "tracked.h"
#include "util.h"

static void tracked_close_backend(struct tracked *t) {
	t->pagemap_fd = safe_close(t->pagemap_fd);
	t->clear_refs_fd = safe_close(t->clear_refs_fd);
}

static int open_backend_files(struct tracked *t, enum backend b) {
	_cleanup_close_ int pagemap = -EBADF, clear_refs = -EBADF;

	if (b == BACKEND_FAULTS_ONLY)
		return 0;

	/* Opening pagemap is where the kernel checks PTRACE_MODE_READ_FSCREDS. */
	pagemap = openat(t->procfd, "pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap < 0)
		return errno == ENOENT ? -ESRCH : -errno;

	if (b == BACKEND_CLEAR_REFS) {
		clear_refs = openat(t->procfd, "clear_refs", O_WRONLY | O_CLOEXEC);
		if (clear_refs < 0)
			return errno == ENOENT ? -ESRCH : -errno;
	}

	t->pagemap_fd = TAKE_FD(pagemap);
	t->clear_refs_fd = TAKE_FD(clear_refs);
	return 0;
}

/*
 * Picks the first backend at or after 'from' that this kernel has and this
 * process lets us use; permission errors fall back to the next one.
 */
static int tracked_open_backend(struct tracked *t, enum backend from) {
	struct manager *m = t->manager;
	enum backend old = t->backend;

	tracked_close_backend(t);
	for (enum backend b = backend_next_available(&m->support, from);; b = backend_next_available(&m->support, b + 1)) {
		int r = open_backend_files(t, b);

		if (r == 0) {
			t->backend = b;
			if (old != b && old != _BACKEND_MAX)
				(void) bus_process_emit_backend_changed(t);
			return 0;
		}
		if (r == -ESRCH)
			return r;
		log_warning_errno(r, "Process %d: backend %s unusable (%m), falling back.", (int) t->pid,
				  backend_to_string(b));
		if (b == BACKEND_FAULTS_ONLY)
			return r; /* cannot happen: faults-only opens nothing */
	}
}

bool tracked_alive(const struct tracked *t) {
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

static int replace_string(char **field, const char *value) {
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

/* comm and RSS, which the stat file carries and every pass refreshes. */
static int tracked_refresh_stat(struct tracked *t) {
	struct proc_stat st;
	int r;

	r = proc_read_stat(t->procfd, &st);
	if (r < 0)
		return r;
	r = replace_string(&t->comm, st.comm);
	if (r < 0)
		return r;
	t->resident_bytes = st.rss_pages * t->manager->page_size;
	return 0;
}

int tracked_refresh_facts(struct tracked *t) {
	_cleanup_free_ char *cgroup = NULL, *unit = NULL;
	uid_t uid;
	int r;

	r = tracked_refresh_stat(t);
	if (r < 0)
		return r;

	r = proc_read_euid(t->procfd, &uid);
	if (r < 0)
		return r;
	t->uid = uid;

	r = proc_read_cgroup(t->procfd, &cgroup);
	if (r == -ENODATA)
		cgroup = strdup("");
	else if (r < 0)
		return r;
	if (!cgroup)
		return -ENOMEM;
	r = cgroup_path_get_unit(cgroup, &unit);
	if (r < 0)
		return r;

	free(t->cgroup);
	t->cgroup = TAKE_PTR(cgroup);
	free(t->unit);
	t->unit = TAKE_PTR(unit);
	return 0;
}

static int read_writable_ranges(struct tracked *t, struct mem_ranges *ret) {
	unsigned line = 0;
	int r;

	r = maps_read_writable(t->procfd, ret, &line);
	if (r == -EBADMSG)
		return log_error_errno(r, "Process %d: cannot parse /proc/%d/maps line %u: %m", (int) t->pid,
				       (int) t->pid, line);
	if (r == -EPROTO)
		return log_error_errno(r, "Process %d: PROCMAP_QUERY on /proc/%d/maps answered out of order: %m",
				       (int) t->pid, (int) t->pid);
	return r;
}

/* One pass of the process's soft-dirty backend; sets *dirty_pages. */
static int backend_pass(struct tracked *t, const struct mem_ranges *ranges, uint64_t *dirty_pages) {
	struct manager *m = t->manager;
	int r;

	if (t->backend == BACKEND_PAGEMAP_IOCTL) {
		const struct ioctl_pass pass = {
			.fd = t->pagemap_fd,
			.page_size = m->page_size,
			.vec = m->ioctl_vec,
			.vec_len = MANAGER_IOCTL_VEC_LEN,
			.ioctl_fn = pagemap_sd_ioctl,
		};
		struct ioctl_pass_result res;

		r = ioctl_pass_run(&pass, ranges->ranges, ranges->n, &res);
		*dirty_pages = res.dirty_pages;
		if (res.skipped_chunks > 0)
			log_debug("Process %d: %u chunk(s) skipped this pass (ENOMEM), counted next time.", (int) t->pid,
				  res.skipped_chunks);
		if (r == -EINTR)
			return 0; /* what was reported is cleared: keep it; the rest comes next pass */
		return r;
	}

	/* clear-refs: count, then clear the whole process. Writes landing in
	 * between are cleared uncounted: this backend undercounts a little. */
	r = pagemap_count_ranges(t->pagemap_fd, ranges->ranges, ranges->n, m->page_size, dirty_pages);
	if (r < 0)
		return r;
	if (pwrite(t->clear_refs_fd, "4", 1, 0) != 1)
		return errno == ENOENT ? -ESRCH : -errno;
	return 0;
}

int tracked_pass(struct tracked *t) {
	_cleanup_(mem_ranges_done) struct mem_ranges ranges = {};
	struct sample *s = &t->pending;
	int r;

	*s = (struct sample) {};
	t->has_pending = false;
	r = tracked_refresh_stat(t);
	if (r < 0)
		return r;

	r = read_writable_ranges(t, &ranges);
	if (r < 0)
		return r;
	t->tracked_bytes = ranges.total_bytes;

	/* Rounded down to the µs: a foreign clear at the very start counts as inside. */
	s->pass_begin_nsec = now_usec(CLOCK_MONOTONIC) * NSEC_PER_USEC;
	if (t->backend != BACKEND_FAULTS_ONLY) {
		r = backend_pass(t, &ranges, &s->dirty_pages);
		if (r == -ESRCH && tracked_alive(t)) {
			/* Alive with a new address space: it exec'd. Reopen (the
			 * access check may now say no) and start a new interval. */
			log_debug("Process %d: address space replaced (exec); restarting its interval.", (int) t->pid);
			proc_stats_rebaseline(&t->stats);
			return tracked_open_backend(t, t->backend);
		}
		if (r == -ESRCH)
			return r;
		if (r == -EOPNOTSUPP || r == -EACCES || r == -EPERM) {
			log_warning_errno(r, "Process %d: %s failed (%m), falling back.", (int) t->pid,
					  backend_to_string(t->backend));
			proc_stats_rebaseline(&t->stats);
			return tracked_open_backend(t, t->backend + 1);
		}
		if (r < 0) {
			/* Our bug or the kernel's: say so, drop this interval. */
			log_error_errno(r, "Process %d: %s pass failed: %m", (int) t->pid, backend_to_string(t->backend));
			proc_stats_rebaseline(&t->stats);
			return 0;
		}
		s->have_dirty = true;
	}

	s->now_usec = now_usec(CLOCK_BOOTTIME);
	t->has_pending = true;
	return 1;
}

/* Folds t->pending in, with @faults as the fault counters (NULL: none). */
static void tracked_fold(struct tracked *t, const struct fault_counts *faults) {
	struct manager *m = t->manager;
	struct sample *s = &t->pending;

	if (faults) {
		s->faults = *faults;
		s->have_faults = true;
		s->have_write_faults = fault_source_counts_writes(m->faults);
		/* clear-refs reads, then clears: writes in between are cleared
		 * unread. The tracepoint counts what the clear itself cleared. */
		s->dirty_is_own_clears = t->backend == BACKEND_CLEAR_REFS && fault_source_sees_clears(m->faults);
	}
	(void) proc_stats_account(&t->stats, s, m->page_size);
	t->last_sample_usec = now_usec(CLOCK_REALTIME);
	t->has_pending = false;
}

void tracked_account(struct tracked *t, bool faults_ok) {
	struct fault_counts c;
	int r = -ENODATA;

	if (!t->has_pending)
		return;
	if (t->faults_tracked && faults_ok) {
		r = fault_source_read(t->manager->faults, t->pid, &c);
		if (r < 0)
			log_warning_errno(r, "Process %d: cannot read fault counters: %m", (int) t->pid);
	}
	tracked_fold(t, r >= 0 ? &c : NULL);
}

static int on_process_exit(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
	struct tracked *t = userdata;

	manager_untrack(t->manager, t, false, "exited");
	return 0;
}

int tracked_new(struct manager *m, pid_t pid, enum track_origin origin, struct tracked **ret) {
	struct tracked *t;
	struct proc_stat st;
	int r;

	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct tracked) {
		.manager = m,
		.pid = pid,
		.pidfd = -EBADF,
		.procfd = -EBADF,
		.pagemap_fd = -EBADF,
		.clear_refs_fd = -EBADF,
		.origin = origin,
		.backend = _BACKEND_MAX,
	};
	proc_stats_init(&t->stats);

	r = proc_open_pinned(pid, &t->procfd, &t->pidfd, &st);
	if (r < 0)
		goto fail;
	if (st.flags & PF_KTHREAD_FLAG) {
		r = -EOPNOTSUPP;
		goto fail;
	}
	t->start_ticks = st.start_ticks;
	t->start_usec = proc_start_ticks_to_usec(st.start_ticks, m->ticks_per_sec);
	r = process_path_from_pid(pid, t->path, sizeof(t->path));
	if (r < 0)
		goto fail;

	r = tracked_refresh_facts(t);
	if (r < 0)
		goto fail;

	r = tracked_open_backend(t, m->default_backend);
	if (r < 0)
		goto fail;

	if (m->faults) {
		r = fault_source_track(m->faults, pid);
		if (r < 0)
			log_warning_errno(r, "Process %d: cannot register with the fault counters: %m", (int) pid);
		t->faults_tracked = r >= 0;
	}

	r = sd_event_add_io(m->event, &t->exit_source, t->pidfd, EPOLLIN, on_process_exit, t);
	if (r < 0)
		goto fail;
	/* Exits first: a bus call queued behind an exit must not see the old object. */
	r = sd_event_source_set_priority(t->exit_source, SD_EVENT_PRIORITY_IMPORTANT);
	if (r < 0)
		goto fail;

	/* The baseline pass: clears what accumulated before we looked. Its
	 * fault counters are read right after it: they include its clear. */
	r = tracked_pass(t);
	if (r < 0)
		goto fail;
	if (r > 0) {
		struct fault_counts c;
		int k = t->faults_tracked ? fault_source_read_now(m->faults, pid, &c) : -ENODATA;

		if (k < 0 && k != -ENODATA)
			log_warning_errno(k, "Process %d: cannot read its fault counters: %m", (int) pid);
		tracked_fold(t, k >= 0 ? &c : NULL);
	}

	*ret = t;
	return 0;

fail:
	tracked_free(t);
	return r;
}

struct tracked *tracked_free(struct tracked *t) {
	if (!t)
		return NULL;
	if (t->faults_tracked)
		(void) fault_source_untrack(t->manager->faults, t->pid);
	sd_event_source_disable_unref(t->exit_source);
	tracked_close_backend(t);
	safe_close(t->procfd);
	safe_close(t->pidfd);
	free(t->comm);
	free(t->unit);
	free(t->cgroup);
	free(t);
	return NULL;
}
