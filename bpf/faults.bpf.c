// SPDX-License-Identifier: GPL-2.0-only
/*
 * Per-process write-fault and soft-dirty-clear accounting.
 *
 * One of three fault hooks is loaded, picked by bpf/faults.c from what the
 * kernel offers (best first):
 *   tp_btf/page_fault_user  x86: the error code tells write and present
 *   fexit/handle_mm_fault   any arch with BPF trampolines: write, not present
 *   perf_event              PERF_COUNT_SW_PAGE_FAULTS: a count of faults only
 * plus the softdirty_clear tracepoint of the dirtyrate kernel series where it
 * exists, and an exit hook that drops the counters of a finished process.
 *
 * Counters live in `counts`, keyed by tgid. In "tracked" mode only the tgids
 * in `tracked` (kept in sync by user space) get an entry; in "all" mode every
 * process that faults does, and the LRU map evicts the coldest when full.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <dirtyrate/faults.h>

char LICENSE[] SEC("license") = "GPL";

/* Tunables, set by user space between open and load. */
const volatile bool all_processes = false;
/* counts is LRU_PERCPU_HASH instead of LRU_HASH: plain adds, no atomics. */
const volatile bool percpu_counters = false;
/* The daemon's tgid: its clears are "self", everybody else's "foreign". */
const volatile __u32 self_tgid = 0;

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);	/* or LRU_PERCPU_HASH, see above */
	__uint(max_entries, DR_FAULTS_DEFAULT_ENTRIES);	/* resized before load */
	__type(key, __u32);
	__type(value, struct dr_fault_counts);
} counts SEC(".maps");

/* tgid -> 1: the processes user space asked to track ("tracked" mode). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DR_FAULTS_DEFAULT_ENTRIES);	/* resized before load */
	__type(key, __u32);
	__type(value, __u8);
} tracked SEC(".maps");

#define COUNT(c, field, n)						\
	do {								\
		if (percpu_counters)					\
			(c)->field += (n);				\
		else							\
			__sync_fetch_and_add(&(c)->field, (n));		\
	} while (0)

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

/* The counters of @tgid, created on first use; NULL if it is not accounted. */
static __always_inline struct dr_fault_counts *counts_of(__u32 tgid)
{
	static const struct dr_fault_counts zero;
	struct dr_fault_counts *c;

	if (!all_processes && !bpf_map_lookup_elem(&tracked, &tgid))
		return NULL;
	c = bpf_map_lookup_elem(&counts, &tgid);
	if (c)
		return c;
	/* NOEXIST: another CPU may have created it meanwhile; keep theirs. */
	bpf_map_update_elem(&counts, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&counts, &tgid);
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(on_page_fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	struct dr_fault_counts *c = counts_of(current_tgid());

	if (!c)
		return 0;
	COUNT(c, user_faults, 1);
	if (error_code & X86_PF_WRITE) {
		if (error_code & X86_PF_PROT)
			COUNT(c, wp_faults, 1);
		else
			COUNT(c, np_write_faults, 1);
	}
	return 0;
}

/*
 * fexit rather than fentry: handle_mm_fault() runs again for the same fault
 * when an attempt returns VM_FAULT_RETRY: it dropped the lock to wait for
 * I/O or a page lock, or the per-VMA-lock attempt could not finish (it then
 * falls back to mmap_lock without FAULT_FLAG_TRIED, so that flag does not
 * tell retries apart). Only fexit sees the return value, so only fexit can
 * count each fault once. Whether the page was present cannot be told here:
 * every write fault goes to np_write_faults.
 */
SEC("fexit/handle_mm_fault")
int BPF_PROG(on_handle_mm_fault, struct vm_area_struct *vma, unsigned long address,
	     unsigned int flags, struct pt_regs *regs, unsigned int ret)
{
	struct dr_fault_counts *c;

	/* Kernel-mode faults on user memory and GUP (no FAULT_FLAG_USER). */
	if (!(flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_USER)))
		return 0;
	if (ret & bpf_core_enum_value(enum vm_fault_reason, VM_FAULT_RETRY))
		return 0;
	c = counts_of(current_tgid());
	if (!c)
		return 0;
	COUNT(c, user_faults, 1);
	if (flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_WRITE))
		COUNT(c, np_write_faults, 1);
	return 0;
}

/* Attached to a PERF_COUNT_SW_PAGE_FAULTS event (exclude_kernel) per CPU. */
SEC("perf_event")
int on_perf_page_fault(void *ctx)
{
	struct dr_fault_counts *c = counts_of(current_tgid());

	if (c)
		COUNT(c, user_faults, 1);
	return 0;
}

static __always_inline void account_clear(__u32 target_tgid, __u64 nr_pages)
{
	struct dr_fault_counts *c = counts_of(target_tgid);

	if (!c)
		return;
	if (current_tgid() == self_tgid) {
		COUNT(c, clears_self, 1);
		COUNT(c, cleared_pages_self, nr_pages);
	} else {
		COUNT(c, clears_foreign, 1);
		COUNT(c, cleared_pages_foreign, nr_pages);
		c->last_foreign_clear_ns = bpf_ktime_get_ns();
	}
}

/* kernel/README.md: softdirty:softdirty_clear; the clearer is current. */
SEC("tp_btf/softdirty_clear")
int BPF_PROG(on_softdirty_clear, pid_t target_tgid, unsigned long start,
	     unsigned long end, unsigned long nr_pages, int source)
{
	account_clear(target_tgid, nr_pages);
	return 0;
}

/*
 * The same accounting as a raw_tp program that needs no attach target, so
 * the bpf suite can drive it with BPF_PROG_TEST_RUN on kernels without the
 * tracepoint. Only loaded by the tests (autoload is off otherwise).
 */
SEC("raw_tp")
int BPF_PROG(test_softdirty_clear, pid_t target_tgid, unsigned long start,
	     unsigned long end, unsigned long nr_pages, int source)
{
	account_clear(target_tgid, nr_pages);
	return 0;
}

/*
 * Fires for every exiting thread, after it left its mm. signal->live was
 * decremented before, so 0 means the last thread of the group is leaving:
 * its counters and its tracked mark go (a later process may reuse the tgid).
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_process_exit, struct task_struct *task)
{
	__u32 tgid;

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	bpf_map_delete_elem(&counts, &tgid);
	if (!all_processes)
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}
