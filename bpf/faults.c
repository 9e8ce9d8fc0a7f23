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
#include <sys/stat.h>
#include <sys/syscall.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "faults-priv.h"
#include "faults.skel.h"

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

/*
 * An LRU hash takes free slots in batches into per-CPU lists, so it may
 * evict while a few slots per CPU are still free. In tracked mode every
 * tracked process must keep its counters: give the map that much headroom.
 */
#define LRU_HEADROOM_PER_CPU 128

/* PROC_PID_INIT_INO (include/linux/proc_ns.h): the initial PID namespace's inode. */
#define PID_NS_INIT_INO 0xEFFFFFFCU

/* What the running kernel offers, from its BTF. */
struct kernel_features {
	bool page_fault_user;	/* x86 exceptions:page_fault_user */
	int handle_mm_fault;	/* its BTF id, for fexit; 0 if absent */
	bool softdirty_clear;	/* the dirtyrate kernel series */
	bool process_exit;	/* sched:sched_process_exit */
	bool task_from_pid;	/* the bpf_task_from_pid() kfunc (6.2+) */
};

struct dr_faults {
	struct faults_bpf *skel;
	enum hook hook;
	bool all;
	bool percpu;
	bool no_batch;
	bool has_clear_tp;
	__u32 pidns_ino;		/* the programs' pidns_ino: 0 = initial namespace */
	__u64 pidns_dev;
	int ncpus;			/* values per key: possible CPUs if percpu, else 1 */
	unsigned int max_entries;	/* what the user asked for */
	unsigned int counts_size;	/* max_entries of the counts map */
	int counts_fd, tracked_fd;
	struct dr_fault_counts *value;	/* ncpus values: one map value */
	struct bpf_link **perf_links;
	int nr_perf_links;
	__u32 *keys;			/* dr_faults_read_all(): counts_size keys */
	struct dr_fault_counts *values;	/* ... and counts_size * ncpus values */
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
	detach_perf(f);
	faults_bpf__destroy(f->skel);	/* also destroys skel->links */
	f->skel = NULL;
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
	skel->rodata->self_tgid = self_tgid;
	skel->rodata->pidns_ino = f->pidns_ino;
	skel->rodata->pidns_dev = f->pidns_dev;
	bpf_map__set_max_entries(skel->maps.counts, f->counts_size);
	/* Unused in all mode, but a map cannot be empty. */
	bpf_map__set_max_entries(skel->maps.tracked, f->all ? 1 : f->max_entries);
	if (f->percpu)
		bpf_map__set_type(skel->maps.counts, BPF_MAP_TYPE_LRU_PERCPU_HASH);

	bpf_program__set_autoload(skel->progs.on_page_fault_user, hook == HOOK_TP_BTF);
	bpf_program__set_autoload(skel->progs.on_handle_mm_fault, hook == HOOK_FEXIT);
	bpf_program__set_autoload(skel->progs.on_perf_page_fault, hook == HOOK_PERF);
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
	f->counts_size = f->max_entries + (f->all ? 0 : LRU_HEADROOM_PER_CPU * ncpus);
	f->value = calloc(f->ncpus, sizeof(*f->value));
	if (!f->value) {
		err = -ENOMEM;
		goto fail;
	}

	err = probe_kernel(&k, why, why_len);
	if (!err)
		err = caller_pidns(topts->force_pidns_walk, &f->pidns_ino, &f->pidns_dev, why, why_len);
	if (err)
		goto fail;

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

int dr_faults_track(struct dr_faults *f, pid_t tgid)
{
	__u32 key = tgid;
	__u8 one = 1;
	int err;

	if (tgid <= 0)
		return -EINVAL;
	if (f->all)
		return 0;
	err = bpf_map_update_elem(f->tracked_fd, &key, &one, BPF_ANY);
	if (err)
		return err;
	memset(f->value, 0, f->ncpus * sizeof(*f->value));
	err = bpf_map_update_elem(f->counts_fd, &key, f->value, BPF_NOEXIST);
	if (err && err != -EEXIST)
		goto undo;
	/* Already gone: its exit hook ran before the mark was there. */
	if (kill(tgid, 0) && errno == ESRCH) {
		err = -ESRCH;
		goto undo;
	}
	return 0;
undo:
	dr_faults_untrack(f, tgid);
	return err;
}

int dr_faults_untrack(struct dr_faults *f, pid_t tgid)
{
	__u32 key = tgid;
	int err;

	if (tgid <= 0)
		return -EINVAL;
	/* Mark first, so the programs do not recreate the counters. */
	if (!f->all) {
		err = bpf_map_delete_elem(f->tracked_fd, &key);
		if (err && err != -ENOENT)
			return err;
	}
	err = bpf_map_delete_elem(f->counts_fd, &key);
	return err == -ENOENT ? 0 : err;
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

int dr_faults_lookup(struct dr_faults *f, pid_t tgid, struct dr_fault_counts *out)
{
	__u32 key = tgid;
	int err;

	err = bpf_map_lookup_elem(f->counts_fd, &key, f->value);
	if (err)
		return err;
	fold(f->value, f->ncpus, out);
	return 0;
}

/* All of counts into f->keys/f->values with BPF_MAP_LOOKUP_BATCH. */
static int read_batched(struct dr_faults *f, unsigned int *n)
{
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	unsigned int total = 0;
	__u32 token, count;
	void *in = NULL;
	int err;

	while (total < f->counts_size) {
		count = f->counts_size - total;
		err = bpf_map_lookup_batch(f->counts_fd, in, &token, f->keys + total,
					   f->values + (size_t)total * f->ncpus, &count, &opts);
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
static int read_by_key(struct dr_faults *f, unsigned int *n)
{
	unsigned int total = 0;
	__u32 key, prev;
	bool first = true;

	while (total < f->counts_size &&
	       !bpf_map_get_next_key(f->counts_fd, first ? NULL : &prev, &key)) {
		first = false;
		prev = key;
		/* An entry may vanish between the two calls: skip it. */
		if (!bpf_map_lookup_elem(f->counts_fd, &key, f->values + (size_t)total * f->ncpus))
			f->keys[total++] = key;
	}
	*n = total;
	return 0;
}

int dr_faults_read_all(struct dr_faults *f, struct dr_fault_entry *out, unsigned int cap)
{
	unsigned int n = 0;
	int err;

	if (!f->keys) {
		f->keys = calloc(f->counts_size, sizeof(*f->keys));
		f->values = calloc((size_t)f->counts_size * f->ncpus, sizeof(*f->values));
		if (!f->keys || !f->values)
			return -ENOMEM;
	}
	if (!f->no_batch) {
		err = read_batched(f, &n);
		if (err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP)
			f->no_batch = true;
		else if (err)
			return err;
	}
	if (f->no_batch) {
		err = read_by_key(f, &n);
		if (err)
			return err;
	}
	for (unsigned int i = 0; i < n && i < cap; i++) {
		out[i].tgid = f->keys[i];
		fold(f->values + (size_t)i * f->ncpus, f->ncpus, &out[i].counts);
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

bool dr_faults_is_tracked(struct dr_faults *f, pid_t tgid)
{
	__u32 key = tgid;
	__u8 mark;

	return !f->all && !bpf_map_lookup_elem(f->tracked_fd, &key, &mark);
}
