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
 * Counters are per process, and user space reads them under its tgids: in
 * its PID namespace (pidns_ino), which need not be the initial one the
 * kernel's numbers come from.
 *
 * "Tracked" mode counts only the processes user space asked for, and every
 * fault of every process pays for finding out whether it is one of them, so
 * that test is as cheap as BPF allows: no hash, no tgid translation. User
 * space gives each tracked process a slot of the `slots` array and writes
 * the slot's number into `slot_index` at the process's kernel tgid modulo
 * the index size (see slots.h); a fault indexes the two arrays with the
 * tgid of bpf_get_current_pid_tgid(), which the verifier turns into a few
 * loads, and the slot says whether it is really that process's. The fault
 * then adds to its CPU's stripe of the slot's fault counters (`stripes`),
 * so that a process's threads on different CPUs share no counter.
 * `tracked` (the caller's tgid -> slot) is what user space and the clear
 * accounting find a process's slot by, and what the faults use where the
 * index cannot be (use_slot_index off) or where two tracked processes
 * share an index entry: one hash lookup per fault then.
 * "All" mode counts every process the caller can see that faults, in the
 * `counts` LRU hash keyed by tgid, evicting the coldest when full.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <dirtyrate/faults.h>
#include "slots.h"

char LICENSE[] SEC("license") = "GPL";

/* Tunables, set by user space between open and load. */
const volatile bool all_processes = false;
/* counts is LRU_PERCPU_HASH instead of LRU_HASH, slots PERCPU_ARRAY instead
 * of ARRAY: plain adds, no atomics. */
const volatile bool percpu_counters = false;
/*
 * Tracked mode counts faults in `stripes`: nr_stripes of them (a power of
 * two), stripe_len elements each (slots.h). 0: in the slots themselves,
 * as with per-CPU counters.
 */
const volatile __u32 nr_stripes = 0;
const volatile __u32 stripe_len = 0;
/* Tracked mode finds a fault's slot in slot_index, not by tgid in tracked. */
const volatile bool use_slot_index = false;
/* slot_index's entries - 1, a power of two - 1: an entry is kernel tgid & index_mask. */
const volatile __u32 index_mask = 0;
/* Possible CPUs: the copies of a per-CPU value. */
const volatile __u32 nr_cpus = 1;
/* The daemon's tgid: its clears are "self", everybody else's "foreign". */
const volatile __u32 self_tgid = 0;
/*
 * The caller's PID namespace, as the inode number of /proc/self/ns/pid
 * (unique among namespaces: they all live on nsfs); 0 for the initial one,
 * whose numbers the kernel hands out as they are (the fast path).
 */
const volatile __u32 pidns_ino = 0;
/* ... and the device of that inode (nsfs), which bpf_get_ns_current_pid_tgid() wants too. */
const volatile __u64 pidns_dev = 0;

/*
 * The task behind an initial-namespace tgid (6.2+). Only called when the
 * caller is in another PID namespace; weak, so the object still loads where
 * it is missing (user space then does not load the clear programs there).
 */
extern struct task_struct *bpf_task_from_pid(int pid) __ksym __weak;
extern void bpf_task_release(struct task_struct *p) __ksym __weak;

/* A bound for the verifier on loops over CPUs (NR_CPUS is at most 8192). */
#define MAX_CPUS 8192

/* MAX_PID_NS_LEVEL in the kernel: namespaces nest at most this deep. */
#define MAX_PID_NS_LEVEL 32

/* All mode: tgid -> counters, created by the programs on first use. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);	/* or LRU_PERCPU_HASH, see above */
	__uint(max_entries, DR_FAULTS_DEFAULT_ENTRIES);	/* resized before load */
	__type(key, __u32);
	__type(value, struct dr_fault_counts);
} counts SEC(".maps");

/*
 * Tracked mode: the tracked processes' counters, one slot each, handed out
 * by user space. Mappable, so that user space reads them without a syscall.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);	/* or PERCPU_ARRAY, see above */
	__uint(max_entries, DR_FAULTS_DEFAULT_ENTRIES);	/* resized before load */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct dr_slot);
} slots SEC(".maps");

/* Tracked mode: the fault counters of the slots, one copy per stripe (slots.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* nr_stripes * stripe_len, set before load */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, struct dr_stripe);
} stripes SEC(".maps");

/* Tracked mode, use_slot_index: kernel tgid -> slot number, 4 per element (slots.h). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);		/* (index_mask + 1) / 4, set before load */
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} slot_index SEC(".maps");

/* Tracked mode: the caller's tgid -> its slot, kept in sync by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DR_FAULTS_DEFAULT_ENTRIES);	/* resized before load */
	__type(key, __u32);
	__type(value, __u32);
} tracked SEC(".maps");

#define COUNT(c, field, n)						\
	do {								\
		if (percpu_counters)					\
			(c)->field += (n);				\
		else							\
			__sync_fetch_and_add(&(c)->field, (n));		\
	} while (0)

/*
 * @task's tgid in the caller's PID namespace; 0 if it has none there (it
 * runs in an ancestor or unrelated namespace). That namespace is the
 * task's own or an ancestor of it, so its number is one of numbers[] at
 * or below the task's level: search downwards from the task's own level,
 * which is where a process of the caller's own namespace matches at once.
 */
static __always_inline __u32 tgid_in_pidns(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, signal, pids[PIDTYPE_TGID]);
	unsigned int level = BPF_CORE_READ(pid, level);

	for (unsigned int i = 0; i < MAX_PID_NS_LEVEL; i++) {
		struct upid up;

		if (i > level)
			break;
		if (bpf_core_read(&up, sizeof(up), &pid->numbers[level - i]))
			return 0;
		if (BPF_CORE_READ(up.ns, ns.inum) == pidns_ino)
			return up.nr;
	}
	return 0;
}

/* The current process's tgid in the caller's namespace (0: not visible there). */
static __always_inline __u32 current_tgid(void)
{
	struct bpf_pidns_info ns;

	if (!pidns_ino)
		return bpf_get_current_pid_tgid() >> 32;
	/* A process of the caller's own namespace: one helper call, cheaper
	 * than the walk's five reads. It fails for any other namespace. */
	if (!bpf_get_ns_current_pid_tgid(pidns_dev, pidns_ino, &ns, sizeof(ns)))
		return ns.tgid;
	return tgid_in_pidns((struct task_struct *)bpf_get_current_task());
}

/* Tracked mode: the slot of @tgid, and its number in *@nr; NULL if it is not tracked. */
static __always_inline struct dr_slot *slot_of(__u32 tgid, __u32 *nr)
{
	__u32 *p;

	if (!tgid)	/* not visible in the caller's namespace */
		return NULL;
	p = bpf_map_lookup_elem(&tracked, &tgid);
	if (!p)
		return NULL;
	*nr = *p;
	return bpf_map_lookup_elem(&slots, nr);
}

/* The counters of @tgid, created on first use in all mode; NULL if it is not counted. */
static __always_inline struct dr_fault_counts *counts_of(__u32 tgid)
{
	static const struct dr_fault_counts zero;
	struct dr_fault_counts *c;
	struct dr_slot *slot;
	__u32 nr;

	if (!all_processes) {
		slot = slot_of(tgid, &nr);
		return slot ? &slot->counts : NULL;
	}
	if (!tgid)	/* not visible in the caller's namespace */
		return NULL;
	c = bpf_map_lookup_elem(&counts, &tgid);
	if (c)
		return c;
	/* NOEXIST: another CPU may have created it meanwhile; keep theirs. */
	bpf_map_update_elem(&counts, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&counts, &tgid);
}

/* slot_index's entry for @kernel_tgid (slots.h); 0 for none. */
static __always_inline __u32 index_entry(__u32 kernel_tgid)
{
	__u32 entry = kernel_tgid & index_mask, word = entry / DR_SLOT_LANES;
	__u64 *lanes = bpf_map_lookup_elem(&slot_index, &word);

	if (!lanes)
		return 0;
	return (*lanes >> (entry % DR_SLOT_LANES * DR_SLOT_LANE_BITS)) & 0xffff;
}

/* The slot @entry names, if it is @kernel_tgid's. */
static __always_inline struct dr_slot *owned_slot(__u32 entry, __u32 kernel_tgid)
{
	__u32 nr = entry & DR_LANE_SLOT;
	struct dr_slot *slot;

	if (!nr)
		return NULL;
	nr -= 1;
	slot = bpf_map_lookup_elem(&slots, &nr);
	return slot && slot->kernel_tgid == kernel_tgid ? slot : NULL;
}

/*
 * Tracked mode without stripes: the current process's slot; NULL if it is
 * not tracked. The fault hooks' fast path: with the index, an untracked
 * process costs a helper call and one array load, a tracked one a second
 * array load; only processes whose index entry is shared with another
 * tracked one take the slow way, by the tracked hash.
 */
static __always_inline struct dr_slot *current_slot(void)
{
	__u32 kernel_tgid, entry, nr;
	struct dr_slot *slot;

	if (use_slot_index) {
		kernel_tgid = bpf_get_current_pid_tgid() >> 32;
		entry = index_entry(kernel_tgid);
		slot = owned_slot(entry, kernel_tgid);
		if (slot || !(entry & DR_LANE_SHARED))
			return slot;
	}
	return slot_of(current_tgid(), &nr);
}

/* The current CPU's stripe of slot @nr's fault counters. */
static __always_inline struct dr_stripe *stripe_of(__u32 nr)
{
	__u32 i = (bpf_get_smp_processor_id() & (nr_stripes - 1)) * stripe_len + nr;

	return bpf_map_lookup_elem(&stripes, &i);
}

/*
 * Tracked mode with stripes: the current CPU's stripe of the current
 * process's fault counters; NULL if it is not tracked. current_slot()'s
 * way, with the stripe, which names its owner too, in place of the slot.
 */
static __always_inline struct dr_stripe *current_stripe(void)
{
	__u32 kernel_tgid, entry, nr;
	struct dr_stripe *stripe;

	if (use_slot_index) {
		kernel_tgid = bpf_get_current_pid_tgid() >> 32;
		entry = index_entry(kernel_tgid);
		nr = entry & DR_LANE_SLOT;
		stripe = nr ? stripe_of(nr - 1) : NULL;
		if (stripe && stripe->kernel_tgid == kernel_tgid)
			return stripe;
		if (!(entry & DR_LANE_SHARED))
			return NULL;
	}
	return slot_of(current_tgid(), &nr) ? stripe_of(nr) : NULL;
}

enum fault_kind { FAULT_OTHER, FAULT_WP, FAULT_NP_WRITE };

/* Counts a fault of @kind into @c, counters or a stripe. */
#define COUNT_FAULT(c, kind)						\
	do {								\
		COUNT(c, user_faults, 1);				\
		if ((kind) == FAULT_WP)					\
			COUNT(c, wp_faults, 1);				\
		else if ((kind) == FAULT_NP_WRITE)			\
			COUNT(c, np_write_faults, 1);			\
	} while (0)

/* Counts a fault of @kind of the current process, if it is counted. */
static __always_inline void count_fault(enum fault_kind kind)
{
	struct dr_fault_counts *c;
	struct dr_stripe *stripe;
	struct dr_slot *slot;

	if (all_processes) {
		c = counts_of(current_tgid());
		if (c)
			COUNT_FAULT(c, kind);
	} else if (nr_stripes) {
		stripe = current_stripe();
		if (stripe)
			COUNT_FAULT(stripe, kind);
	} else {
		slot = current_slot();
		if (slot)
			COUNT_FAULT(&slot->counts, kind);
	}
}

SEC("tp_btf/page_fault_user")
int BPF_PROG(on_page_fault_user, unsigned long address, struct pt_regs *regs,
	     unsigned long error_code)
{
	if (!(error_code & X86_PF_WRITE))
		count_fault(FAULT_OTHER);
	else if (error_code & X86_PF_PROT)
		count_fault(FAULT_WP);
	else
		count_fault(FAULT_NP_WRITE);
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
	/* Kernel-mode faults on user memory and GUP (no FAULT_FLAG_USER). */
	if (!(flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_USER)))
		return 0;
	if (ret & bpf_core_enum_value(enum vm_fault_reason, VM_FAULT_RETRY))
		return 0;
	if (flags & bpf_core_enum_value(enum fault_flag, FAULT_FLAG_WRITE))
		count_fault(FAULT_NP_WRITE);
	else
		count_fault(FAULT_OTHER);
	return 0;
}

/* Attached to a PERF_COUNT_SW_PAGE_FAULTS event (exclude_kernel) per CPU. */
SEC("perf_event")
int on_perf_page_fault(void *ctx)
{
	count_fault(FAULT_OTHER);
	return 0;
}

/*
 * The tracepoint names the cleared process by its tgid in the initial
 * namespace (task_tgid_nr()). Elsewhere, look the task up and translate:
 * the clearer holds the target's mm for the whole clear, so the task is
 * still there (only a target that exits during the clear and whose tgid
 * is reused within that time could be mistaken for another).
 */
static __always_inline __u32 clear_target(pid_t target_tgid)
{
	struct task_struct *task;
	__u32 tgid;

	if (!pidns_ino)
		return target_tgid;
	task = bpf_task_from_pid(target_tgid);
	if (!task)
		return 0;
	tgid = tgid_in_pidns(task);
	bpf_task_release(task);
	return tgid;
}

static __always_inline void account_clear(pid_t target_tgid, __u64 nr_pages)
{
	struct dr_fault_counts *c = counts_of(clear_target(target_tgid));

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

/* The tracepoint's arguments, as the tests hand them to test_softdirty_clear. */
struct test_clear_args {
	__u64 target_tgid, start, end, nr_pages, source;
};

/*
 * The same accounting as a program that needs no attach target, so the bpf
 * suite can drive it with BPF_PROG_TEST_RUN on kernels without the
 * tracepoint; the clearer is the caller, as with the real one. A syscall
 * program rather than raw_tp: raw_tp programs may not call kfuncs such as
 * bpf_task_from_pid(). Only loaded by the tests (autoload is off otherwise).
 */
SEC("syscall")
int test_softdirty_clear(struct test_clear_args *args)
{
	account_clear(args->target_tgid, args->nr_pages);
	return 0;
}

/*
 * Marks slot @nr as no longer @kernel_tgid's, and its stripes, or every
 * CPU's copy of it where the counters are per CPU (the fault path checks
 * its own CPU's).
 */
static __always_inline void disown_slot(__u32 nr, __u32 kernel_tgid)
{
	struct dr_stripe *stripe;
	struct dr_slot *slot;
	__u32 i;

	if (!percpu_counters) {
		slot = bpf_map_lookup_elem(&slots, &nr);
		if (slot && slot->kernel_tgid == kernel_tgid)
			slot->kernel_tgid = 0;
		for (__u32 s = 0; s < DR_STRIPES_MAX && s < nr_stripes; s++) {
			i = s * stripe_len + nr;
			stripe = bpf_map_lookup_elem(&stripes, &i);
			if (stripe && stripe->kernel_tgid == kernel_tgid)
				stripe->kernel_tgid = 0;
		}
		return;
	}
	for (__u32 cpu = 0; cpu < MAX_CPUS && cpu < nr_cpus; cpu++) {
		slot = bpf_map_lookup_percpu_elem(&slots, &nr, cpu);
		if (slot && slot->kernel_tgid == kernel_tgid)
			slot->kernel_tgid = 0;
	}
}

/*
 * Fires for every exiting thread, after it left its mm. signal->live was
 * decremented before, so 0 means the last thread of the group is leaving:
 * its counters and its tracked mark go (a later process may reuse the tgid;
 * user space takes the slot back when it needs one).
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_process_exit, struct task_struct *task)
{
	__u32 tgid, kernel_tgid, nr;

	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	kernel_tgid = BPF_CORE_READ(task, tgid);
	if (!all_processes && use_slot_index && (nr = index_entry(kernel_tgid) & DR_LANE_SLOT))
		disown_slot(nr - 1, kernel_tgid);
	tgid = pidns_ino ? tgid_in_pidns(task) : kernel_tgid;
	if (!tgid)
		return 0;
	if (all_processes)
		bpf_map_delete_elem(&counts, &tgid);
	else
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}

/*
 * The kernel tgid of the process a task iterator is given (by pidfd, at
 * dr_faults_track() from a PID namespace other than the initial one, where
 * user space does not know it): slot_index wants it. Written once, as the
 * first task's; the iterator visits every thread of the process.
 */
SEC("iter/task")
int kernel_tgid_of(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	__u32 tgid;

	if (!task || ctx->meta->seq_num > 0)
		return 0;
	tgid = task->tgid;
	bpf_seq_write(ctx->meta->seq, &tgid, sizeof(tgid));
	return 0;
}
