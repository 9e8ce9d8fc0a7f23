// SPDX-License-Identifier: GPL-2.0-only
/*
 * Write watches without the kernel's help, as Wine keeps them: a page not
 * written since its reset is read-only; the first write to it raises
 * SIGSEGV, whose handler notes the page in the region's bitmap and makes it
 * writable, and the write is retried. Resetting a page makes it read-only
 * again.
 *
 * The invariant, kept under one spin lock that the handler and the resets
 * share: a page whose bit is clear is read-only. Setting the bit and
 * unprotecting the page (handler), and protecting the page and clearing the
 * bit (reset), each happen as one step for the other side; without the lock
 * a reset could clear the bit of a page a racing handler had just made
 * writable, and every later write to it would be lost. Holders of the lock
 * never touch watched memory and block every signal, so the handler cannot
 * interrupt them on their own thread.
 *
 * Faults that are not writes to a watched page go to the handler that was
 * there before (or the default action, which ends the process as it would
 * have without us). The handler stays installed once set: another library
 * may have chained to it since.
 *
 * Limits: each written page is a signal, a sigreturn and an mprotect() that
 * splits the region's VMA (vm.max_map_count bounds how many written pages
 * a region can have between resets); the kernel cannot write into a page
 * that is still read-only (read(2) into the region fails with EFAULT
 * instead of counting as a write), which Wine works around in its own
 * system call wrappers.
 */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "backend.h"
#include "page-log.h"

static int spin;
static struct sigaction previous;
static bool installed;		/* under writewatch.c's lock */

static void spin_lock(void)
{
	while (__atomic_exchange_n(&spin, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void spin_unlock(void)
{
	__atomic_store_n(&spin, 0, __ATOMIC_RELEASE);
}

/* The API side of the lock, with every signal blocked while it is held. */
static void lock_blocking_signals(sigset_t *saved)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, saved);
	spin_lock();
}

static void unlock_restoring_signals(const sigset_t *saved)
{
	spin_unlock();
	pthread_sigmask(SIG_SETMASK, saved, NULL);
}

/* Hand a fault that is not ours to whoever would have had it. */
static void chain(int sig, siginfo_t *si, void *uc)
{
	struct sigaction dfl;

	if (previous.sa_flags & SA_SIGINFO) {
		previous.sa_sigaction(sig, si, uc);
		return;
	}
	if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
		return;
	}
	/*
	 * The default action (SIG_IGN cannot stop a fault either): a real
	 * fault happens again on return and ends the process; a SIGSEGV sent
	 * by kill() is raised again, blocked until we return.
	 */
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigaction(sig, &dfl, NULL);
	if (si->si_code <= 0)
		raise(sig);
}

/* Whether the fault was a write; where the CPU does not say, assume so. */
static bool write_fault(void *uc)
{
#if defined(__x86_64__) || defined(__i386__)
	/* The page fault error code: bit 1 is set for a write access. */
	return ((ucontext_t *)uc)->uc_mcontext.gregs[REG_ERR] & 2;
#else
	(void)uc;
	return true;
#endif
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	int saved_errno = errno;
	uintptr_t a = (uintptr_t)si->si_addr;
	struct ww_region *r;

	/*
	 * The handler stays when the program moves on to another backend
	 * (ww_set_backend()): only our own regions are ours.
	 */
	if (si->si_code == SEGV_ACCERR && write_fault(uc) && (r = ww_region_of(a)) &&
	    r->backend == &ww_backend_mprotect) {
		struct page_log *log = r->priv;
		size_t i = (a - r->base) / ww_page_size;
		int err;

		spin_lock();
		page_bit_set(log->bits, i);
		err = mprotect((void *)(r->base + i * ww_page_size), ww_page_size,
			       PROT_READ | PROT_WRITE);
		spin_unlock();
		if (!err) {
			errno = saved_errno;
			return;
		}
		/* Most likely vm.max_map_count: the write cannot be let through. */
		static const char msg[] = "writewatch: cannot unprotect a written page (mprotect failed)\n";
		if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
			/* nothing more to say */
		}
	}
	chain(sig, si, uc);
	errno = saved_errno;
}

static int install_handler(void)
{
	struct sigaction sa;

	if (installed)
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_segv;
	/* SA_ONSTACK: a program that handles stack overflow keeps doing so. */
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, &previous))
		return errno;
	installed = true;
	return 0;
}

/* Pages not written since their reset are read-only. */
static int protect_read_only(uintptr_t start, size_t len)
{
	return mprotect((void *)start, len, PROT_READ) ? errno : 0;
}

static const struct page_log_ops mprot_log_ops = {
	.lock = lock_blocking_signals,
	.unlock = unlock_restoring_signals,
	.protect = protect_read_only,
};

static int mprot_watch(struct ww_region *r, uintptr_t base)
{
	struct page_log *log = page_log_new(r->npages);
	int err;

	if (!log)
		return ENOMEM;
	err = install_handler();
	if (!err)
		err = protect_read_only(base, r->npages * ww_page_size);
	if (err) {
		page_log_free(log);
		return err;
	}
	r->priv = log;
	return 0;
}

static void mprot_unwatch(struct ww_region *r)
{
	page_log_free(r->priv);
}

static int mprot_get(struct ww_region *r, size_t first, size_t npages,
		     void **addresses, size_t *count, bool reset)
{
	return page_log_get(r->priv, &mprot_log_ops, r->base, first, npages, addresses, count, reset);
}

static int mprot_reset(struct ww_region *r, size_t first, size_t npages)
{
	return page_log_reset(r->priv, &mprot_log_ops, r->base, first, npages);
}

/* A handler on another thread may hold the spin lock: fork with it free. */
static void mprot_fork_prepare(void)
{
	spin_lock();
}

static void mprot_fork_parent(void)
{
	spin_unlock();
}

static void mprot_fork_child(struct ww_region *r)
{
	if (!r)
		spin_unlock();
}

static int mprot_probe(void)
{
	return 0;
}

const struct ww_backend ww_backend_mprotect = {
	.name = "mprotect",
	.probe = mprot_probe,
	.watch = mprot_watch,
	.unwatch = mprot_unwatch,
	.get = mprot_get,
	.reset = mprot_reset,
	.fork_prepare = mprot_fork_prepare,
	.fork_parent = mprot_fork_parent,
	.fork_child = mprot_fork_child,
};
