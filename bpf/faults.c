// SPDX-License-Identifier: GPL-2.0-only
/*
 * libdrbpf: loads bpf/faults.bpf.c (embedded as a bpftool skeleton), picks
 * the fault hook by probing the kernel, and reads the counters. See drbpf.h
 * for the API and bpf/README.md for the design decisions.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "faults-priv.h"
#include "faults.skel.h"
#include "slots.h"

#ifndef ENOTSUPP
#define ENOTSUPP 524	/* kernel-internal, but the bpf syscall returns it */
#endif

enum hook { HOOK_TP_BTF, HOOK_FEXIT, HOOK_PERF, NR_HOOKS };

static const char *const hook_names[NR_HOOKS] = {
	[HOOK_TP_BTF] = "tp_btf/page_fault_user",
	[HOOK_FEXIT] = "fexit/handle_mm_fault",
	[HOOK_PERF] = "perf-event",
};

static const unsigned int hook_caps[NR_HOOKS] = {
	[HOOK_TP_BTF] = DR_FAULTS_CAP_WRITES | DR_FAULTS_CAP_WRITE_SPLIT,
	[HOOK_FEXIT] = DR_FAULTS_CAP_WRITES,
	[HOOK_PERF] = 0,
};

/* PROC_PID_INIT_INO (include/linux/proc_ns.h): the initial PID namespace's inode. */
#define PID_NS_INIT_INO 0xEFFFFFFCU

/* What the running kernel offers, from its BTF. */
struct kernel_features {
	bool page_fault_user;	/* x86 exceptions:page_fault_user */
	int handle_mm_fault;	/* its BTF id, for fexit; 0 if absent */
	bool softdirty_clear;	/* the dirtyrate kernel series */
	bool process_exit;	/* sched:sched_process_exit */
	bool task_from_pid;	/* the bpf_task_from_pid() kfunc (6.2+) */
	bool iter_task_filter;	/* task iterators over one process (6.1+) */
};

struct dr_faults {
	struct faults_bpf *skel;
	enum hook hook;
	bool all;
	bool percpu;
	bool no_batch;
	bool has_clear_tp;
	bool slot_index;		/* tracked mode: faults use slot_index */
	__u32 pidns_ino;		/* the programs' pidns_ino: 0 = initial namespace */
	__u64 pidns_dev;
	int ncpus;			/* values per key: possible CPUs if percpu, else 1 */
	unsigned int max_entries;	/* what the user asked for */
	int counts_fd, tracked_fd, slots_fd;
	struct dr_fault_counts *value;	/* ncpus values: one map value */
	struct dr_slot *slot_value;	/* ... and one of slots */
	struct bpf_link **perf_links;
	int nr_perf_links;
	/* Tracked mode: the slots map, mapped (NULL with per-CPU counters,
	 * read by syscall then), and which slots are handed out. */
	struct dr_slot *slots;
	size_t slots_len;
	/* ... the stripes of their fault counters, mapped (slots.h); none
	 * with per-CPU counters. */
	struct dr_stripe *stripes;
	size_t stripes_len;
	unsigned int nr_stripes;
	/* ... and slot_index, mapped, with @index_entries entries. */
	__u64 *index;
	size_t index_len;
	unsigned int index_entries;
	bool *slot_used;
	unsigned int next_slot;		/* where the search for a free one starts */
	/* dr_faults_read_all(): max_entries keys, and as many map values:
	 * counters (ncpus each) in all mode, slot numbers in tracked mode. */
	__u32 *keys;
	void *values;
};

static void say(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append a sentence to @why (separated by "; "), truncating silently. */
static void say(char *why, size_t len, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (!why || !len)
		return;
	used = strnlen(why, len - 1);
	if (used && used + 2 < len) {
		strcpy(why + used, "; ");
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(why + used, len - used, fmt, ap);
	va_end(ap);
}

/* Whether @cap is in the caller's effective set (capget: no libcap needed). */
static bool have_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = { 0 };

	if (syscall(SYS_capget, &hdr, data))
		return false;
	return data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap);
}

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

/* Why EPERM, as far as the caller's capabilities tell. */
static const char *privilege_hint(int err)
{
	bool admin = have_cap(CAP_SYS_ADMIN);

	if (err != -EPERM)
		return "";
	if (!(admin || have_cap(CAP_BPF)) || !(admin || have_cap(CAP_PERFMON)))
		return " (needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN, in the effective set)";
	return " (refused despite the capabilities: kernel lockdown, an LSM or a sandbox)";
}

static void (*user_print)(int level, const char *line);

static int print_to_user(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t len;

	vsnprintf(line, sizeof(line), fmt, ap);
	len = strlen(line);
	if (len && line[len - 1] == '\n')
		line[len - 1] = '\0';
	user_print(level == LIBBPF_WARN ? 0 : level == LIBBPF_INFO ? 1 : 2, line);
	return 0;
}

void dr_faults_set_print(void (*fn)(int level, const char *line))
{
	user_print = fn;
	libbpf_set_print(fn ? print_to_user : NULL);
}

static int probe_kernel(struct kernel_features *k, char *why, size_t len)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int err;

	if (!btf) {
		err = -errno;
		say(why, len, "kernel has no usable BTF (/sys/kernel/btf/vmlinux: %s); "
		    "needs CONFIG_DEBUG_INFO_BTF=y", strerror(-err));
		return err;
	}
	k->page_fault_user = btf__find_by_name_kind(btf, "btf_trace_page_fault_user",
						    BTF_KIND_TYPEDEF) > 0;
	k->handle_mm_fault = btf__find_by_name_kind(btf, "handle_mm_fault", BTF_KIND_FUNC);
	if (k->handle_mm_fault < 0)
		k->handle_mm_fault = 0;
	k->softdirty_clear = btf__find_by_name_kind(btf, "btf_trace_softdirty_clear",
						    BTF_KIND_TYPEDEF) > 0;
	k->process_exit = btf__find_by_name_kind(btf, "btf_trace_sched_process_exit",
						 BTF_KIND_TYPEDEF) > 0;
	k->task_from_pid = btf__find_by_name_kind(btf, "bpf_task_from_pid", BTF_KIND_FUNC) > 0;
	k->iter_task_filter = btf__find_by_name_kind(btf, "bpf_iter_task_type", BTF_KIND_ENUM) > 0;
	btf__free(btf);
	if (!k->process_exit) {
		say(why, len, "kernel BTF has no sched_process_exit tracepoint (CONFIG_TRACEPOINTS?)");
		return -EOPNOTSUPP;
	}
	return 0;
}

/*
 * The caller's PID namespace, as the programs want it: 0 for the initial
 * one (kernel tgids are the caller's: no translation), else the inode
 * number of /proc/self/ns/pid. @force_walk: translate even in the initial
 * namespace (tests of the translation on a host without containers).
 */
static int caller_pidns(bool force_walk, __u32 *ino, __u64 *dev, char *why, size_t len)
{
	struct stat st;
	int err;

	if (stat("/proc/self/ns/pid", &st) < 0) {
		err = -errno;
		say(why, len, "cannot tell the caller's PID namespace: /proc/self/ns/pid: %s "
		    "(is /proc mounted?)", strerror(-err));
		return err;
	}
	*ino = st.st_ino == PID_NS_INIT_INO && !force_walk ? 0 : (__u32)st.st_ino;
	*dev = st.st_dev;
	return 0;
}

/*
 * Whether clears can be attributed: the tracepoint exists and, from a PID
 * namespace other than the initial one, its tgid can be translated.
 */
static bool clears_countable(const struct dr_faults *f, const struct kernel_features *k)
{
	return k->softdirty_clear && (!f->pidns_ino || k->task_from_pid);
}

/*
 * Whether the kernel lets an fexit program attach to handle_mm_fault: load
 * and attach an empty one. Raw syscalls, so libbpf logs nothing when the
 * answer is no (no BPF trampoline on this arch, or tracing refused).
 */
static int probe_fexit(int btf_id)
{
	const struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts,
		.expected_attach_type = BPF_TRACE_FEXIT,
		.attach_btf_id = btf_id);
	int prog, link;

	prog = bpf_prog_load(BPF_PROG_TYPE_TRACING, "probe_fexit", "GPL", ret0, 2, &opts);
	if (prog < 0)
		return prog;
	link = bpf_raw_tracepoint_open(NULL, prog);
	close(prog);
	if (link < 0)
		return link;
	close(link);
	return 0;
}

/* 0 if @hook can be used here, else -errno and a note saying why not. */
static int hook_usable(enum hook hook, const struct kernel_features *k, char *why, size_t len)
{
	int err;

	switch (hook) {
	case HOOK_TP_BTF:
		if (k->page_fault_user)
			return 0;
		say(why, len, "%s: no such tracepoint (x86 only)", hook_names[hook]);
		return -EOPNOTSUPP;
	case HOOK_FEXIT:
		if (!k->handle_mm_fault) {
			say(why, len, "%s: handle_mm_fault not in the kernel BTF", hook_names[hook]);
			return -EOPNOTSUPP;
		}
		err = probe_fexit(k->handle_mm_fault);
		if (!err)
			return 0;
		say(why, len, "%s: the kernel refuses fexit programs: %s%s",
		    hook_names[hook], strerror(-err), privilege_hint(err));
		return -EOPNOTSUPP;
	case HOOK_PERF:
		if (libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_PERF_EVENT, NULL) == 1)
			return 0;
		say(why, len, "%s: the kernel has no BPF perf_event programs", hook_names[hook]);
		return -EOPNOTSUPP;
	default:
		return -EINVAL;
	}
}

static int attach_prog(struct bpf_program *prog, struct bpf_link **link, char *why, size_t len)
{
	int err;

	*link = bpf_program__attach(prog);
	if (*link)
		return 0;
	err = -errno;
	say(why, len, "attaching %s: %s%s", bpf_program__section_name(prog),
	    strerror(-err), privilege_hint(err));
	return err;
}

/* One PERF_COUNT_SW_PAGE_FAULTS event per CPU, each running the program. */
static int attach_perf(struct dr_faults *f, char *why, size_t len)
{
	struct bpf_program *prog = f->skel->progs.on_perf_page_fault;
	int cpu, ncpus = libbpf_num_possible_cpus();

	f->perf_links = calloc(ncpus, sizeof(*f->perf_links));
	if (!f->perf_links)
		return -ENOMEM;
	for (cpu = 0; cpu < ncpus; cpu++) {
		struct perf_event_attr attr = {
			.type = PERF_TYPE_SOFTWARE,
			.size = sizeof(attr),
			.config = PERF_COUNT_SW_PAGE_FAULTS,
			.sample_period = 1,
			.exclude_kernel = 1,	/* user-mode faults, as page_fault_user */
		};
		struct bpf_link *link;
		int fd, err;

		fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
		if (fd < 0 && errno == ENODEV)
			continue;	/* possible but offline: not covered (no hotplug) */
		if (fd < 0) {
			err = -errno;
			say(why, len, "perf_event_open(page faults, cpu %d): %s%s", cpu,
			    strerror(-err), privilege_hint(err));
			return err;
		}
		link = bpf_program__attach_perf_event(prog, fd);
		if (!link) {
			err = -errno;
			close(fd);
			say(why, len, "attaching to the page-fault perf event: %s", strerror(-err));
			return err;
		}
		f->perf_links[f->nr_perf_links++] = link;	/* owns fd now */
	}
	return 0;
}

static void detach_perf(struct dr_faults *f)
{
	while (f->nr_perf_links > 0)
		bpf_link__destroy(f->perf_links[--f->nr_perf_links]);
	free(f->perf_links);
	f->perf_links = NULL;
}

static void unload(struct dr_faults *f)
{
	if (f->slots)
		munmap(f->slots, f->slots_len);
	if (f->stripes)
		munmap(f->stripes, f->stripes_len);
	if (f->index)
		munmap(f->index, f->index_len);
	f->slots = NULL;
	f->stripes = NULL;
	f->index = NULL;
	detach_perf(f);
	faults_bpf__destroy(f->skel);	/* also destroys skel->links */
	f->skel = NULL;
}

/* A mappable map's memory, shared with the programs; NULL and errno set on failure. */
static void *map_memory(int fd, size_t size, char *why, size_t len)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int err = errno;

	if (p != MAP_FAILED)
		return p;
	say(why, len, "mapping a BPF map: %s", strerror(err));
	errno = err;
	return NULL;
}

/*
 * Stripes of fault counters for @ncpus possible CPUs: one per CPU, up to
 * DR_STRIPES_MAX (slots.h).
 */
static unsigned int stripes_for(int ncpus)
{
	unsigned int n = 1;

	while (n < (unsigned int)ncpus && n < DR_STRIPES_MAX)
		n *= 2;
	return n;
}

/* Open, configure, load and attach the object with fault hook @hook. */
static int load_with_hook(struct dr_faults *f, enum hook hook, const struct kernel_features *k,
			  const struct dr_faults_test_opts *t, pid_t self_tgid,
			  char *why, size_t len)
{
	struct faults_bpf *skel;
	int err;

	skel = f->skel = faults_bpf__open();
	if (!skel) {
		err = -errno;
		say(why, len, "opening the BPF object: %s", strerror(-err));
		return err;
	}
	skel->rodata->all_processes = f->all;
	skel->rodata->percpu_counters = f->percpu;
	skel->rodata->nr_stripes = f->nr_stripes;
	skel->rodata->stripe_len = f->max_entries;
	skel->rodata->use_slot_index = f->slot_index;
	skel->rodata->index_mask = f->index_entries - 1;
	skel->rodata->nr_cpus = f->ncpus;
	skel->rodata->self_tgid = self_tgid;
	skel->rodata->pidns_ino = f->pidns_ino;
	skel->rodata->pidns_dev = f->pidns_dev;
	/* Each mode's maps get max_entries, the other's 1: a map cannot be empty. */
	bpf_map__set_max_entries(skel->maps.counts, f->all ? f->max_entries : 1);
	bpf_map__set_max_entries(skel->maps.tracked, f->all ? 1 : f->max_entries);
	bpf_map__set_max_entries(skel->maps.slots, f->all ? 1 : f->max_entries);
	bpf_map__set_max_entries(skel->maps.stripes,
				 f->nr_stripes ? f->nr_stripes * f->max_entries : 1);
	if (f->percpu) {
		bpf_map__set_type(skel->maps.counts, BPF_MAP_TYPE_LRU_PERCPU_HASH);
		bpf_map__set_type(skel->maps.slots, BPF_MAP_TYPE_PERCPU_ARRAY);
		bpf_map__set_map_flags(skel->maps.slots, 0);	/* not mappable */
	}
	bpf_map__set_max_entries(skel->maps.slot_index,
				 f->slot_index ? f->index_entries / DR_SLOT_LANES : 1);

	bpf_program__set_autoload(skel->progs.on_page_fault_user, hook == HOOK_TP_BTF);
	bpf_program__set_autoload(skel->progs.on_handle_mm_fault, hook == HOOK_FEXIT);
	bpf_program__set_autoload(skel->progs.on_perf_page_fault, hook == HOOK_PERF);
	bpf_program__set_autoload(skel->progs.kernel_tgid_of, f->slot_index && f->pidns_ino);
	bpf_program__set_autoload(skel->progs.on_softdirty_clear, clears_countable(f, k));
	/* Needs no tracepoint, but the same translation. */
	bpf_program__set_autoload(skel->progs.test_softdirty_clear, t->load_test_clear_prog &&
				  (!f->pidns_ino || k->task_from_pid));

	err = faults_bpf__load(skel);
	if (err) {
		say(why, len, "loading the BPF programs for %s: %s%s", hook_names[hook],
		    strerror(-err), privilege_hint(err));
		goto fail;
	}

	/* Exit hook first: no process may get counters nobody removes. */
	err = attach_prog(skel->progs.on_process_exit, &skel->links.on_process_exit, why, len);
	if (!err && clears_countable(f, k))
		err = attach_prog(skel->progs.on_softdirty_clear,
				  &skel->links.on_softdirty_clear, why, len);
	if (!err && hook == HOOK_TP_BTF)
		err = attach_prog(skel->progs.on_page_fault_user,
				  &skel->links.on_page_fault_user, why, len);
	if (!err && hook == HOOK_FEXIT)
		err = attach_prog(skel->progs.on_handle_mm_fault,
				  &skel->links.on_handle_mm_fault, why, len);
	if (!err && hook == HOOK_PERF)
		err = attach_perf(f, why, len);
	if (err)
		goto fail;

	f->hook = hook;
	f->has_clear_tp = clears_countable(f, k);
	f->counts_fd = bpf_map__fd(skel->maps.counts);
	f->tracked_fd = bpf_map__fd(skel->maps.tracked);
	f->slots_fd = bpf_map__fd(skel->maps.slots);
	if (!f->all && !f->percpu) {
		f->slots_len = (size_t)f->max_entries * sizeof(*f->slots);
		f->slots = map_memory(f->slots_fd, f->slots_len, why, len);
		if (!f->slots) {
			err = -errno;
			goto fail;
		}
	}
	if (f->nr_stripes) {
		f->stripes_len = (size_t)f->nr_stripes * f->max_entries * sizeof(*f->stripes);
		f->stripes = map_memory(bpf_map__fd(skel->maps.stripes), f->stripes_len, why, len);
		if (!f->stripes) {
			err = -errno;
			goto fail;
		}
	}
	if (f->slot_index) {
		f->index_len = (size_t)f->index_entries / DR_SLOT_LANES * sizeof(*f->index);
		f->index = map_memory(bpf_map__fd(skel->maps.slot_index), f->index_len, why, len);
		if (!f->index) {
			err = -errno;
			goto fail;
		}
	}
	return 0;
fail:
	unload(f);
	return err;
}

static int hook_by_name(const char *name)
{
	for (int i = 0; i < NR_HOOKS; i++)
		if (!strcmp(name, hook_names[i]))
			return i;
	return -1;
}

/*
 * Whether tracked mode's faults can use slot_index (f->slot_index), and its
 * size: a power of two, DR_INDEX_PER_SLOT entries per slot at least, so that
 * few tracked processes share an entry. A caller in another PID namespace
 * only knows its own numbers for the processes it tracks; their kernel
 * tgids come from a task iterator over the one process, which needs Linux
 * 6.1. Without the index the faults look their tgid up in `tracked`, a hash:
 * slower, and in another namespace translated on every fault, but as exact.
 */
static void plan_slot_index(struct dr_faults *f, const struct kernel_features *k,
			    char *why, size_t len)
{
	unsigned int entries = DR_INDEX_MIN;

	if (f->pidns_ino && !k->iter_task_filter) {
		say(why, len, "tracked mode: from a PID namespace other than the initial one, "
		    "finding the kernel's tgid of a tracked process needs task iterators over "
		    "one process (Linux 6.1+): every fault looks its tgid up in a hash instead");
		return;
	}
	while (entries < f->max_entries * DR_INDEX_PER_SLOT)
		entries *= 2;
	f->slot_index = true;
	f->index_entries = entries;
}

int dr_faults_open_ext(const struct dr_faults_opts *opts,
		       const struct dr_faults_test_opts *topts,
		       struct dr_faults **out, char *why, size_t why_len)
{
	static const struct dr_faults_opts no_opts;
	static const struct dr_faults_test_opts no_topts;
	char notes[512] = "";
	struct kernel_features k = { 0 };
	struct dr_faults *f;
	int ncpus, err, forced = -1;

	if (why && why_len)
		why[0] = '\0';
	if (!out)
		return -EINVAL;
	*out = NULL;
	opts = opts ? opts : &no_opts;
	topts = topts ? topts : &no_topts;
	if (opts->hook && (forced = hook_by_name(opts->hook)) < 0) {
		say(why, why_len, "unknown fault hook '%s'", opts->hook);
		return -EINVAL;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus < 0) {
		say(why, why_len, "cannot count possible CPUs: %s", strerror(-ncpus));
		return ncpus;
	}

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->all = opts->all_processes;
	f->percpu = topts->percpu_counters;
	f->no_batch = topts->no_batch;
	f->ncpus = f->percpu ? ncpus : 1;
	f->max_entries = opts->max_entries ? opts->max_entries : DR_FAULTS_DEFAULT_ENTRIES;
	if (!f->all && f->max_entries > DR_SLOT_MAX + 1) {
		say(why, why_len, "tracked mode counts at most %u processes, not %u",
		    DR_SLOT_MAX + 1, f->max_entries);
		err = -EINVAL;
		goto fail;
	}
	f->value = calloc(f->ncpus, sizeof(*f->value));
	f->slot_value = calloc(f->ncpus, sizeof(*f->slot_value));
	if (!f->all && !f->percpu)
		f->nr_stripes = topts->stripes ? topts->stripes : stripes_for(ncpus);
	if (f->nr_stripes & (f->nr_stripes - 1)) {
		err = -EINVAL;
		goto fail;
	}
	f->slot_used = f->all ? NULL : calloc(f->max_entries, sizeof(*f->slot_used));
	if (!f->value || !f->slot_value || (!f->all && !f->slot_used)) {
		err = -ENOMEM;
		goto fail;
	}

	err = probe_kernel(&k, why, why_len);
	if (!err)
		err = caller_pidns(topts->force_pidns_walk, &f->pidns_ino, &f->pidns_dev, why, why_len);
	if (err)
		goto fail;
	if (!f->all && !topts->no_slot_index)
		plan_slot_index(f, &k, why, why_len);
	if (f->slot_index && topts->index_entries) {
		if (topts->index_entries < DR_SLOT_LANES ||
		    (topts->index_entries & (topts->index_entries - 1))) {
			err = -EINVAL;
			goto fail;
		}
		f->index_entries = topts->index_entries;
	}

	err = -EOPNOTSUPP;
	for (int hook = 0; hook < NR_HOOKS; hook++) {
		if (forced >= 0 && hook != forced)
			continue;
		err = hook_usable(hook, &k, notes, sizeof(notes));
		if (err)
			continue;
		err = load_with_hook(f, hook, &k, topts, opts->self_tgid ? opts->self_tgid : getpid(),
				     notes, sizeof(notes));
		if (!err || err == -EPERM)
			break;
	}
	if (err) {
		say(why, why_len, "%s", notes[0] ? notes : "no usable fault hook");
		goto fail;
	}
	/* Say what was given up on the way only if the best hook was not used. */
	if (f->hook != HOOK_TP_BTF && forced < 0)
		say(why, why_len, "%s", notes);
	if (k.softdirty_clear && !f->has_clear_tp)
		say(why, why_len, "softdirty_clear: clears not counted: from a PID namespace other "
		    "than the initial one its tgids need bpf_task_from_pid() (Linux 6.2+) to translate");
	*out = f;
	return 0;
fail:
	dr_faults_close(f);
	return err;
}

int dr_faults_open(const struct dr_faults_opts *opts, struct dr_faults **out,
		   char *why, size_t why_len)
{
	return dr_faults_open_ext(opts, NULL, out, why, why_len);
}

void dr_faults_close(struct dr_faults *f)
{
	if (!f)
		return;
	unload(f);
	free(f->value);
	free(f->slot_value);
	free(f->slot_used);
	free(f->keys);
	free(f->values);
	free(f);
}

const char *dr_faults_hook(const struct dr_faults *f)
{
	return hook_names[f->hook];
}

bool dr_faults_has_clear_tracepoint(const struct dr_faults *f)
{
	return f->has_clear_tp;
}

unsigned int dr_faults_caps(const struct dr_faults *f)
{
	return hook_caps[f->hook] | (f->has_clear_tp ? DR_FAULTS_CAP_CLEARS : 0);
}

unsigned int dr_faults_max_entries(const struct dr_faults *f)
{
	return f->max_entries;
}

/* One map value (ncpus copies when per-CPU) into one set of counters. */
static void fold(const struct dr_fault_counts *v, int n, struct dr_fault_counts *out)
{
	*out = v[0];
	for (int i = 1; i < n; i++) {
		out->wp_faults += v[i].wp_faults;
		out->np_write_faults += v[i].np_write_faults;
		out->user_faults += v[i].user_faults;
		out->clears_self += v[i].clears_self;
		out->cleared_pages_self += v[i].cleared_pages_self;
		out->clears_foreign += v[i].clears_foreign;
		out->cleared_pages_foreign += v[i].cleared_pages_foreign;
		if (v[i].last_foreign_clear_ns > out->last_foreign_clear_ns)
			out->last_foreign_clear_ns = v[i].last_foreign_clear_ns;
	}
}

/* Stripe @i of slot @nr's fault counters (slots.h). */
static struct dr_stripe *stripe_at(struct dr_faults *f, unsigned int i, __u32 nr)
{
	return &f->stripes[(size_t)i * f->max_entries + nr];
}

/* The counters in slot @nr, as the programs are updating them. */
static int read_slot(struct dr_faults *f, __u32 nr, struct dr_fault_counts *out)
{
	const __u64 *from;
	__u64 *to = (__u64 *)out;
	int err;

	if (nr >= f->max_entries)
		return -ERANGE;
	if (!f->slots) {
		err = bpf_map_lookup_elem(f->slots_fd, &nr, f->slot_value);
		if (err)
			return err;
		for (int i = 0; i < f->ncpus; i++)
			f->value[i] = f->slot_value[i].counts;
		fold(f->value, f->ncpus, out);
		return 0;
	}
	/* Field by field, each whole: the programs add to them meanwhile. */
	from = (const __u64 *)&f->slots[nr].counts;
	for (size_t i = 0; i < sizeof(*out) / sizeof(*to); i++)
		to[i] = __atomic_load_n(&from[i], __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < f->nr_stripes; i++) {
		const struct dr_stripe *s = stripe_at(f, i, nr);

		out->wp_faults += __atomic_load_n(&s->wp_faults, __ATOMIC_RELAXED);
		out->np_write_faults += __atomic_load_n(&s->np_write_faults, __ATOMIC_RELAXED);
		out->user_faults += __atomic_load_n(&s->user_faults, __ATOMIC_RELAXED);
	}
	return 0;
}

/* Slot @nr with zero counters, counting for @kernel_tgid (0: nobody). */
static int set_slot(struct dr_faults *f, __u32 nr, __u32 kernel_tgid)
{
	struct dr_slot *slot;

	if (f->slots) {
		slot = &f->slots[nr];
		__atomic_store_n(&slot->kernel_tgid, 0, __ATOMIC_RELAXED);
		memset(&slot->counts, 0, sizeof(slot->counts));
		/* Each stripe names its owner too: cleared before it does. */
		for (unsigned int i = 0; i < f->nr_stripes; i++) {
			struct dr_stripe *s = stripe_at(f, i, nr);

			__atomic_store_n(&s->kernel_tgid, 0, __ATOMIC_RELAXED);
			s->wp_faults = s->np_write_faults = s->user_faults = 0;
			__atomic_store_n(&s->kernel_tgid, kernel_tgid, __ATOMIC_RELEASE);
		}
		/* Counters cleared before the programs may count into them. */
		__atomic_store_n(&slot->kernel_tgid, kernel_tgid, __ATOMIC_RELEASE);
		return 0;
	}
	memset(f->slot_value, 0, f->ncpus * sizeof(*f->slot_value));
	for (int i = 0; i < f->ncpus; i++)
		f->slot_value[i].kernel_tgid = kernel_tgid;
	return bpf_map_update_elem(f->slots_fd, &nr, f->slot_value, BPF_ANY);
}

/* The kernel tgid slot @nr counts for; 0 if none or unknown. */
static __u32 slot_owner(struct dr_faults *f, __u32 nr)
{
	if (f->slots)
		return __atomic_load_n(&f->slots[nr].kernel_tgid, __ATOMIC_RELAXED);
	if (bpf_map_lookup_elem(f->slots_fd, &nr, f->slot_value))
		return 0;
	return f->slot_value[0].kernel_tgid;
}

static unsigned int entry_shift(struct dr_faults *f, __u32 kernel_tgid)
{
	return (kernel_tgid & (f->index_entries - 1)) % DR_SLOT_LANES * DR_SLOT_LANE_BITS;
}

/* The word of @index holding @kernel_tgid's entry. */
static __u64 *entry_word(struct dr_faults *f, __u64 *index, __u32 kernel_tgid)
{
	return &index[(kernel_tgid & (f->index_entries - 1)) / DR_SLOT_LANES];
}

static __u32 entry_of(struct dr_faults *f, __u32 kernel_tgid)
{
	__u64 w = __atomic_load_n(entry_word(f, f->index, kernel_tgid), __ATOMIC_RELAXED);

	return w >> entry_shift(f, kernel_tgid) & 0xffff;
}

/*
 * @kernel_tgid's entry of @index := @entry. User space is the only writer
 * of the index, one thread at a time (drbpf.h), so a plain read-modify-write
 * of the word, stored whole, is enough.
 */
static void set_entry(struct dr_faults *f, __u64 *index, __u32 kernel_tgid, __u32 entry)
{
	__u64 *word = entry_word(f, index, kernel_tgid), w;
	unsigned int shift = entry_shift(f, kernel_tgid);

	w = __atomic_load_n(word, __ATOMIC_RELAXED);
	w = (w & ~((__u64)0xffff << shift)) | (__u64)entry << shift;
	__atomic_store_n(word, w, __ATOMIC_RELEASE);
}

/*
 * Points @kernel_tgid's entry of @index at slot @nr, unless another tracked
 * process has it: then the entry is marked shared, and @kernel_tgid's
 * faults go by the tracked hash.
 */
static void claim_entry(struct dr_faults *f, __u64 *index, __u32 kernel_tgid, __u32 nr)
{
	__u32 entry = __atomic_load_n(entry_word(f, index, kernel_tgid), __ATOMIC_RELAXED) >>
		      entry_shift(f, kernel_tgid) & 0xffff;
	__u32 held = entry & DR_LANE_SLOT, owner;

	owner = held ? slot_owner(f, held - 1) : 0;
	if (owner && owner != kernel_tgid && f->slot_used[held - 1])
		set_entry(f, index, kernel_tgid, entry | DR_LANE_SHARED);
	else
		set_entry(f, index, kernel_tgid, (nr + 1) | (entry & DR_LANE_SHARED));
}

/*
 * Rebuilds slot_index from the slots in use: drops the entries of exited
 * processes and the shared marks nobody needs any more. Built aside and
 * stored word by word, so that no fault of a tracked process misses its
 * entry meanwhile.
 */
static int rebuild_index(struct dr_faults *f)
{
	size_t words = f->index_entries / DR_SLOT_LANES;
	__u64 *fresh = calloc(words, sizeof(*fresh));

	if (!fresh)
		return -ENOMEM;
	for (__u32 nr = 0; nr < f->max_entries; nr++) {
		__u32 owner = f->slot_used[nr] ? slot_owner(f, nr) : 0;

		if (owner)
			claim_entry(f, fresh, owner, nr);
	}
	for (size_t i = 0; i < words; i++)
		if (__atomic_load_n(&f->index[i], __ATOMIC_RELAXED) != fresh[i])
			__atomic_store_n(&f->index[i], fresh[i], __ATOMIC_RELEASE);
	free(fresh);
	return 0;
}

static int read_map(struct dr_faults *f, int fd, size_t value_size, unsigned int *n);

/*
 * A free slot, searched for from where the last one was found, so that a
 * slot just given back is the last to be reused: a fault that found it just
 * before its process was untracked may still add to it. When every slot is
 * handed out, take back those of processes that exited (the exit program
 * dropped them from `tracked`, user space did not hear of it).
 */
static int alloc_slot(struct dr_faults *f, __u32 *slot)
{
	unsigned int n;
	int err;

	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < f->max_entries; i++) {
			unsigned int s = (f->next_slot + i) % f->max_entries;

			if (!f->slot_used[s]) {
				f->slot_used[s] = true;
				f->next_slot = (s + 1) % f->max_entries;
				*slot = s;
				return 0;
			}
		}
		if (pass)
			break;
		err = read_map(f, f->tracked_fd, sizeof(__u32), &n);
		if (err)
			return err;
		memset(f->slot_used, 0, f->max_entries * sizeof(*f->slot_used));
		for (unsigned int i = 0; i < n; i++) {
			__u32 s = ((__u32 *)f->values)[i];

			if (s < f->max_entries)
				f->slot_used[s] = true;
		}
		if (f->slot_index && (err = rebuild_index(f)))
			return err;
	}
	return -E2BIG;
}

/*
 * @tgid (the caller's) in the initial PID namespace, asked of the kernel
 * with a task iterator over that one process (kernel_tgid_of).
 */
static int kernel_tgid(struct dr_faults *f, pid_t tgid, __u32 *out)
{
	union bpf_iter_link_info info = { 0 };
	LIBBPF_OPTS(bpf_iter_attach_opts, opts, .link_info = &info, .link_info_len = sizeof(info));
	struct bpf_link *link;
	int pidfd, iter, err;
	ssize_t n;

	if (!f->pidns_ino) {
		*out = tgid;
		return 0;
	}
	pidfd = syscall(SYS_pidfd_open, tgid, 0);
	if (pidfd < 0)
		return -errno;	/* ESRCH gone; EINVAL not a thread group */
	info.task.pid_fd = pidfd;
	link = bpf_program__attach_iter(f->skel->progs.kernel_tgid_of, &opts);
	err = link ? 0 : -errno;
	close(pidfd);
	if (err)
		return err;
	iter = bpf_iter_create(bpf_link__fd(link));
	if (iter < 0) {
		err = -errno;
		bpf_link__destroy(link);
		return err;
	}
	n = read(iter, out, sizeof(*out));
	err = n == sizeof(*out) ? 0 : n < 0 ? -errno : -ESRCH;	/* no task: gone */
	close(iter);
	bpf_link__destroy(link);
	return err;
}

int dr_faults_track(struct dr_faults *f, pid_t tgid)
{
	__u32 key = tgid, nr, ktgid = 0;
	int err;

	if (tgid <= 0)
		return -EINVAL;
	if (f->all)
		return 0;
	if (!bpf_map_lookup_elem(f->tracked_fd, &key, &nr))
		return 0;	/* already tracked: its counters go on */
	if (f->slot_index) {
		err = kernel_tgid(f, tgid, &ktgid);
		if (err)
			return err;
	}
	err = alloc_slot(f, &nr);
	if (err)
		return err;
	err = set_slot(f, nr, ktgid);
	if (!err)
		err = bpf_map_update_elem(f->tracked_fd, &key, &nr, BPF_NOEXIST);
	if (err) {
		f->slot_used[nr] = false;
		return err;
	}
	if (f->slot_index)
		claim_entry(f, f->index, ktgid, nr);
	/* Already gone: its exit hook ran before the mark was there. */
	if (kill(tgid, 0) && errno == ESRCH) {
		dr_faults_untrack(f, tgid);
		return -ESRCH;
	}
	return 0;
}

int dr_faults_untrack(struct dr_faults *f, pid_t tgid)
{
	__u32 key = tgid, slot;
	int err;

	if (tgid <= 0)
		return -EINVAL;
	if (f->all) {
		err = bpf_map_delete_elem(f->counts_fd, &key);
		return err == -ENOENT ? 0 : err;
	}
	err = bpf_map_lookup_elem(f->tracked_fd, &key, &slot);
	if (err)
		return err == -ENOENT ? 0 : err;
	if (slot >= f->max_entries)
		return -ERANGE;
	/* The marks first: then no program finds the slot. */
	err = bpf_map_delete_elem(f->tracked_fd, &key);
	if (err && err != -ENOENT)
		return err;
	if (f->slot_index) {
		__u32 ktgid = slot_owner(f, slot), entry = ktgid ? entry_of(f, ktgid) : 0;

		if ((entry & DR_LANE_SLOT) == slot + 1)
			set_entry(f, f->index, ktgid, entry & DR_LANE_SHARED);
	}
	set_slot(f, slot, 0);
	f->slot_used[slot] = false;
	return 0;
}

int dr_faults_lookup(struct dr_faults *f, pid_t tgid, struct dr_fault_counts *out)
{
	__u32 key = tgid, slot;
	int err;

	if (!f->all) {
		err = bpf_map_lookup_elem(f->tracked_fd, &key, &slot);
		return err ? err : read_slot(f, slot, out);
	}
	err = bpf_map_lookup_elem(f->counts_fd, &key, f->value);
	if (err)
		return err;
	fold(f->value, f->ncpus, out);
	return 0;
}

/* All of the map @fd into f->keys / f->values with BPF_MAP_LOOKUP_BATCH. */
static int read_batched(struct dr_faults *f, int fd, size_t value_size, unsigned int *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	unsigned int total = 0;
	__u32 token, count;
	void *in = NULL;
	int err;

	while (total < f->max_entries) {
		count = f->max_entries - total;
		err = bpf_map_lookup_batch(fd, in, &token, f->keys + total,
					   (char *)f->values + total * value_size, &count, &opts);
		if (err && err != -ENOENT && !(err == -ENOSPC && total))
			return err;
		total += count;
		if (err)	/* -ENOENT: done; -ENOSPC: entries added meanwhile */
			break;
		in = &token;
	}
	*n = total;
	return 0;
}

/* The same key by key, for kernels without batch operations (< 5.6). */
static int read_by_key(struct dr_faults *f, int fd, size_t value_size, unsigned int *n)
{
	unsigned int total = 0;
	__u32 key, prev;
	bool first = true;

	while (total < f->max_entries && !bpf_map_get_next_key(fd, first ? NULL : &prev, &key)) {
		first = false;
		prev = key;
		/* An entry may vanish between the two calls: skip it. */
		if (!bpf_map_lookup_elem(fd, &key, (char *)f->values + total * value_size))
			f->keys[total++] = key;
	}
	*n = total;
	return 0;
}

/* Every entry of the map @fd (values of @value_size) into f->keys / f->values. */
static int read_map(struct dr_faults *f, int fd, size_t value_size, unsigned int *n)
{
	int err;

	if (!f->keys) {
		/* Sized for the bigger of the two kinds of values. */
		f->keys = calloc(f->max_entries, sizeof(*f->keys));
		f->values = calloc(f->max_entries, f->ncpus * sizeof(struct dr_fault_counts));
		if (!f->keys || !f->values)
			return -ENOMEM;
	}
	*n = 0;
	if (!f->no_batch) {
		err = read_batched(f, fd, value_size, n);
		if (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP)
			f->no_batch = true;
		else
			return err;
	}
	return read_by_key(f, fd, value_size, n);
}

int dr_faults_read_all(struct dr_faults *f, struct dr_fault_entry *out, unsigned int cap)
{
	size_t counts_size = f->ncpus * sizeof(struct dr_fault_counts);
	unsigned int n = 0, got = 0;
	int err;

	err = read_map(f, f->all ? f->counts_fd : f->tracked_fd,
		       f->all ? counts_size : sizeof(__u32), &n);
	if (err)
		return err;
	for (unsigned int i = 0; i < n && got < cap; i++) {
		out[got].tgid = f->keys[i];
		if (f->all)
			fold((struct dr_fault_counts *)((char *)f->values + i * counts_size),
			     f->ncpus, &out[got].counts);
		else if (read_slot(f, ((__u32 *)f->values)[i], &out[got].counts))
			memset(&out[got].counts, 0, sizeof(out[got].counts));
		got++;
	}
	return n;
}

int dr_faults_run_test_clear(struct dr_faults *f, pid_t target_tgid, unsigned long nr_pages)
{
	/* struct test_clear_args: target_tgid, start, end, nr_pages, source. */
	__u64 args[5] = { (__u32)target_tgid, 0, 0, nr_pages, 1 };
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = args, .ctx_size_in = sizeof(args));
	int fd = bpf_program__fd(f->skel->progs.test_softdirty_clear);

	if (fd < 0)
		return -ENOENT;	/* not loaded: load_test_clear_prog was off */
	return bpf_prog_test_run_opts(fd, &run);
}

int dr_faults_fault_prog_fd(struct dr_faults *f)
{
	switch (f->hook) {
	case HOOK_TP_BTF:
		return bpf_program__fd(f->skel->progs.on_page_fault_user);
	case HOOK_FEXIT:
		return bpf_program__fd(f->skel->progs.on_handle_mm_fault);
	default:
		return -ENOENT;	/* one program, but attached per CPU: use tp_btf to measure */
	}
}

bool dr_faults_is_tracked(struct dr_faults *f, pid_t tgid)
{
	__u32 key = tgid, slot;

	return !f->all && !bpf_map_lookup_elem(f->tracked_fd, &key, &slot);
}
