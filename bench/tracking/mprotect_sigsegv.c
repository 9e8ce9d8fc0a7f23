// SPDX-License-Identifier: GPL-2.0-only
/*
 * What Wine did before the kernel helped: keep the region read-only, catch
 * the SIGSEGV of the first write to each page, note the page and make it
 * writable. Every written page costs a signal delivery, a sigreturn and an
 * mprotect() that splits the VMA; re-arming is one mprotect() of the region
 * (skipped when nothing was written: there is nothing to re-arm), which
 * merges the VMAs again.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tracker.h"

struct mprot_state {
	uint32_t *log;		/* pages faulted on since the last collect */
	uint32_t *report;	/* the last collect's pages */
	volatile size_t n;
	long report_n;
	struct sigaction old;
};

/* The handler finds its tracker here: signals carry no user pointer. */
static struct tracker *active;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	struct tracker *t = active;
	struct mprot_state *s;
	uintptr_t a = (uintptr_t)si->si_addr, base;
	size_t i;

	(void)uc;
	if (!t)
		goto not_ours;
	base = (uintptr_t)t->r.base;
	if (a < base || a >= base + t->r.npages * t->r.page_size)
		goto not_ours;
	s = t->priv;
	i = (a - base) / t->r.page_size;
	s->log[s->n++] = (uint32_t)i;
	if (mprotect(t->r.base + i * t->r.page_size, t->r.page_size,
		     PROT_READ | PROT_WRITE))
		goto not_ours;
	return;
not_ours:
	/* A real crash: let the fault happen again with the default action. */
	signal(sig, SIG_DFL);
}

static long mprot_collect(struct tracker *t)
{
	struct mprot_state *s = t->priv;
	uint32_t *tmp = s->report;

	s->report = s->log;
	s->report_n = (long)s->n;
	s->log = tmp;
	s->n = 0;
	if (s->report_n &&
	    mprotect(t->r.base, t->r.npages * t->r.page_size, PROT_READ))
		return tracker_fail(t, errno, "mprotect(PROT_READ)");
	return s->report_n;
}

static int mprot_setup(struct tracker *t)
{
	struct mprot_state *s = calloc(1, sizeof(*s));
	struct sigaction sa;

	if (!s)
		return tracker_fail(t, ENOMEM, "state");
	t->priv = s;
	s->log = calloc(t->r.npages, sizeof(*s->log));
	s->report = calloc(t->r.npages, sizeof(*s->report));
	if (!s->log || !s->report)
		return tracker_fail(t, ENOMEM, "logs");
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &s->old))
		return tracker_fail(t, errno, "sigaction");
	active = t;
	if (mprotect(t->r.base, t->r.npages * t->r.page_size, PROT_READ))
		return tracker_fail(t, errno, "mprotect(PROT_READ)");
	return 0;
}

static long mprot_pages(struct tracker *t, uint32_t *out)
{
	struct mprot_state *s = t->priv;

	memcpy(out, s->report, (size_t)s->report_n * sizeof(*out));
	return s->report_n;
}

static void mprot_teardown(struct tracker *t)
{
	struct mprot_state *s = t->priv;

	if (s) {
		mprotect(t->r.base, t->r.npages * t->r.page_size,
			 PROT_READ | PROT_WRITE);
		if (active == t)
			sigaction(SIGSEGV, &s->old, NULL);
		free(s->log);
		free(s->report);
	}
	active = NULL;
	free(s);
	t->priv = NULL;
}

const struct method method_mprotect = {
	.name = "mprotect+SEGV",
	.what = "mprotect(PROT_READ) + SIGSEGV handler that logs and unprotects",
	.setup = mprot_setup,
	.collect = mprot_collect,
	.pages = mprot_pages,
	.teardown = mprot_teardown,
};
