/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The BPF fault counters as seen over D-Bus, against a running dirtyrated
 * (bus-harness.py; DIRTYRATED_LOG is its log).
 *
 *   test-bus-faults fault-counts        N fresh pages written -> WriteFaultsTotal
 *                                       grows by N (+ slack), per-pass rates agree
 *   test-bus-faults fault-counts-pidns  the same, required to run in a PID
 *                                       namespace other than the initial one
 *   test-bus-faults no-bpf              the daemon cannot load BPF: it says why in
 *                                       one line, has no bpf-faults, NaN fault rates
 *   test-bus-faults no-write-faults     a hook that counts no write faults (forced
 *                                       with DIRTYRATED_FAULT_HOOK): the same
 *
 * fault-counts exits 77 when the daemon could not load BPF here, with its reason.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "bus-test-lib.h"
#include "tests.h"
#include "util.h"

/* Pages the child writes; slack as in the bpf suite (bpf/test-faults.c):
 * the child's own faults around the writes (its read(), its reply). */
#define N_PAGES 1000
#define SLACK 8

/* PROC_PID_INIT_INO: the initial PID namespace's inode. */
#define PID_NS_INIT_INO 0xEFFFFFFCU

/*
 * How many lines of the daemon's log contain @needle (start with it, if it
 * starts with '^'); the first of them into @first.
 */
static unsigned log_lines_with(const char *needle, char *first, size_t first_len) {
	bool anchored = needle[0] == '^';
	_cleanup_fclose_ FILE *f = fopen(getenv("DIRTYRATED_LOG") ?: "", "re");
	char line[2048];
	unsigned n = 0;

	ASSERT_TRUE(f);
	if (first_len)
		first[0] = '\0';
	while (fgets(line, sizeof(line), f))
		if (anchored ? strncmp(line, needle + 1, strlen(needle + 1)) == 0 : strstr(line, needle) != NULL) {
			if (n++ == 0 && first_len)
				snprintf(first, first_len, "%s", strstrip(line));
		}
	return n;
}

/*
 * A child that maps N_PAGES fresh pages (no THP: one fault per page) and,
 * each time it reads a byte from its command pipe, writes every page once
 * and answers with a byte. Idle otherwise, so all its write faults are ours.
 */
struct page_writer {
	pid_t pid;
	int cmd, ack;
};

static struct page_writer spawn_page_writer(void) {
	int cmd[2], ack[2];
	struct page_writer w;
	char c;

	ASSERT_EQ(pipe2(cmd, O_CLOEXEC), 0);
	ASSERT_EQ(pipe2(ack, O_CLOEXEC), 0);
	w.pid = fork();
	ASSERT_TRUE(w.pid >= 0);
	if (w.pid == 0) {
		const size_t page = (size_t) sysconf(_SC_PAGESIZE);
		volatile char *p = mmap(NULL, N_PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		prctl_set_pdeathsig();
		if (p == MAP_FAILED)
			_exit(EXIT_FAILURE);
		(void) madvise((void *) p, N_PAGES * page, MADV_NOHUGEPAGE);
		/* The first round trip takes the faults fork() left for us (stack, libc data). */
		while (write(ack[1], "r", 1) == 1 && read(cmd[0], &c, 1) == 1)
			for (size_t i = 0; i < N_PAGES; i++)
				p[i * page] = 1;
		_exit(EXIT_SUCCESS);
	}
	close(cmd[0]);
	close(ack[1]);
	w.cmd = cmd[1];
	w.ack = ack[0];
	ASSERT_EQ(read(w.ack, &c, 1), 1);
	return w;
}

/* Tells the writer to write its pages; returns once it has. */
static void write_pages(struct page_writer *w) {
	char c;

	ASSERT_EQ(write(w->cmd, "w", 1), 1);
	ASSERT_EQ(read(w->ack, &c, 1), 1);
}

/* Signals up to now whose pass ended after @t (CLOCK_REALTIME µs). */
static unsigned passes_after(const struct changes *c, uint64_t t) {
	unsigned n = 0;

	for (unsigned i = 0; i < c->count && i < MAX_PASSES; i++)
		n += c->pass[i].last_sample_usec > t;
	return n;
}

static struct {
	struct changes *c;
	uint64_t t;
} after;

static bool two_passes_after(void *userdata) {
	return passes_after(after.c, after.t) >= 2;
}

/*
 * Every pass of a faults-only process: the write-fault rate is positive
 * exactly when the total grew, DirtyBytesPerSec is write faults × page size
 * per second, DirtiedBytesTotal grew by the write faults × page size.
 */
static void check_faults_only_passes(const struct changes *c, uint64_t page) {
	uint64_t faults = 0, bytes = 0;

	ASSERT_TRUE(c->count <= MAX_PASSES);
	for (unsigned i = 0; i < c->count; i++) {
		const struct pass_values *v = &c->pass[i];
		uint64_t df = v->write_faults_total - faults, db = v->dirtied_bytes_total - bytes;

		ASSERT_TRUE(v->write_faults_total >= faults);
		if (!isfinite(v->write_faults_per_sec) || !isfinite(v->dirty_bytes_per_sec))
			FAIL("pass %u: WriteFaultsPerSec %g, DirtyBytesPerSec %g", i, v->write_faults_per_sec,
			     v->dirty_bytes_per_sec);
		if ((df > 0) != (v->write_faults_per_sec > 0))
			FAIL("pass %u: %" PRIu64 " write faults, WriteFaultsPerSec %g", i, df, v->write_faults_per_sec);
		ASSERT_NEAR(v->dirty_bytes_per_sec, v->write_faults_per_sec * page, 1e-9 * v->dirty_bytes_per_sec);
		ASSERT_EQ_U64(db, df * page);
		faults = v->write_faults_total;
		bytes = v->dirtied_bytes_total;
	}
}

static int test_fault_counts(bool require_pidns) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	_cleanup_free_ char *backend = NULL;
	static struct changes c;
	char path[PROCESS_PATH_MAX], line[1024];
	uint64_t page, w0, w1, done_usec;
	struct page_writer w;
	struct stat st;
	bool grew = false;

	if (require_pidns) {
		ASSERT_EQ(stat("/proc/self/ns/pid", &st), 0);
		if (st.st_ino == PID_NS_INIT_INO)
			FAIL("not in a PID namespace of its own (run under unshare --pid --fork --mount-proc)");
	}
	if (!has_feature(bus, "bpf-faults")) {
		log_lines_with("No per-process fault counters", line, sizeof(line));
		printf("no BPF fault counters in the daemon, skipping: %s\n", line);
		return 77;
	}
	ASSERT_EQ(log_lines_with("Fault counters attached via ", line, sizeof(line)), 1);
	printf("  daemon: %s\n", line);
	ASSERT_TRUE(strstr(line, "tp_btf/page_fault_user") || strstr(line, "fexit/handle_mm_fault"));

	page = get_u64(bus, DIRTYRATE_MANAGER_PATH, DIRTYRATE_MANAGER_INTERFACE, "PageSize");
	w = spawn_page_writer();
	ASSERT_EQ(process_path_from_pid(w.pid, path, sizeof(path)), 0);
	c.path = path;
	watch_changes(bus, &c);
	track(bus, w.pid, path);
	backend = get_string(bus, path, DIRTYRATE_PROCESS_INTERFACE, "Backend");

	/* Passes of an idle child: whatever tracking cost is behind us. Its
	 * first sample gives it rates (0); then nothing changes, and
	 * faults-only, whose rates are its faults, announces nothing. */
	wait_for_changes(bus, &c, 4, "four passes of the idle child");
	w0 = c.pass[c.count - 1].write_faults_total;
	if (streq(backend, "faults-only"))
		for (unsigned i = 2; i < c.count; i++)
			if (c.pass[i].signals != 0)
				FAIL("pass %u of the idle child: %u PropertiesChanged", i, c.pass[i].signals);

	write_pages(&w);
	done_usec = now_usec(CLOCK_REALTIME);
	/* The first pass to end after the writes may have read the counters
	 * before they were done; the second one began after that. */
	after.c = &c;
	after.t = done_usec;
	wait_until(bus, two_passes_after, NULL, "two passes after the writes");
	w1 = c.pass[c.count - 1].write_faults_total;
	printf("  child %d, backend %s: %d pages written, WriteFaultsTotal %" PRIu64 " -> %" PRIu64
	       " over %u passes\n", (int) w.pid, backend, N_PAGES, w0, w1, c.count);
	if (w1 - w0 < N_PAGES || w1 - w0 > N_PAGES + SLACK)
		FAIL("WriteFaultsTotal grew by %" PRIu64 ", expected %d..%d", w1 - w0, N_PAGES, N_PAGES + SLACK);
	ASSERT_EQ_U64(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "WriteFaultsTotal"), w1);

	for (unsigned i = 0; i < c.count && i < MAX_PASSES; i++)
		grew = grew || c.pass[i].write_faults_per_sec > 0;
	ASSERT_TRUE(grew);
	if (streq(backend, "faults-only"))
		check_faults_only_passes(&c, page);
	ASSERT_EQ_U64(c.pass[c.count - 1].foreign_clears, 0);

	kill_and_reap(w.pid);
	return 0;
}

/* After two passes, the fault-derived numbers of a tracked child are absent. */
static void check_no_fault_numbers(sd_bus *bus) {
	static struct changes c;
	char path[PROCESS_PATH_MAX];
	struct page_writer w = spawn_page_writer();
	_cleanup_free_ char *backend = NULL;

	ASSERT_EQ(process_path_from_pid(w.pid, path, sizeof(path)), 0);
	c.path = path;
	watch_changes(bus, &c);
	track(bus, w.pid, path);
	write_pages(&w);
	wait_for_changes(bus, &c, 2, "two passes");
	backend = get_string(bus, path, DIRTYRATE_PROCESS_INTERFACE, "Backend");
	ASSERT_TRUE(isnan(get_double(bus, path, "WriteFaultsPerSec")));
	ASSERT_EQ_U64(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "WriteFaultsTotal"), 0);
	if (streq(backend, "faults-only")) {
		ASSERT_TRUE(isnan(get_double(bus, path, "DirtyBytesPerSec")));
		ASSERT_EQ_U64(get_u64(bus, path, DIRTYRATE_PROCESS_INTERFACE, "DirtiedBytesTotal"), 0);
	}
	kill_and_reap(w.pid);
}

/* Run with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN dropped (bus-harness --daemon-wrapper setpriv). */
static int test_no_bpf(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	char line[1024];

	ASSERT_TRUE(!has_feature(bus, "bpf-faults"));
	ASSERT_TRUE(!has_feature(bus, "softdirty-tracepoint"));
	/* One line says why; libbpf's own messages are debug lines of ours, not
	 * what its default printer writes to stderr ("libbpf: ..."). */
	ASSERT_EQ(log_lines_with("ault counters", line, sizeof(line)), 1);
	ASSERT_EQ(log_lines_with("^libbpf: ", NULL, 0), 0);
	printf("  daemon: %s\n", line);
	ASSERT_TRUE(strstr(line, "No per-process fault counters: "));
	if (access("/sys/kernel/btf/vmlinux", F_OK) == 0)
		ASSERT_TRUE(strstr(line, "CAP_BPF"));
	check_no_fault_numbers(bus);
	return 0;
}

/* Run with DIRTYRATED_FAULT_HOOK=perf-event: faults are counted, writes are not. */
static int test_no_write_faults(void) {
	_cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = bus_open();
	char line[1024];

	ASSERT_TRUE(!has_feature(bus, "bpf-faults"));
	ASSERT_EQ(log_lines_with("ault counters", line, sizeof(line)), 1);
	printf("  daemon: %s\n", line);
	ASSERT_TRUE(strstr(line, "perf-event") && strstr(line, "write faults"));
	check_no_fault_numbers(bus);
	return 0;
}

int main(int argc, char *argv[]) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && streq(argv[1], "fault-counts"))
		return test_fault_counts(false);
	if (argc == 2 && streq(argv[1], "fault-counts-pidns"))
		return test_fault_counts(true);
	if (argc == 2 && streq(argv[1], "no-bpf"))
		return test_no_bpf();
	if (argc == 2 && streq(argv[1], "no-write-faults"))
		return test_no_write_faults();
	fprintf(stderr, "usage: %s fault-counts|fault-counts-pidns|no-bpf|no-write-faults\n", argv[0]);
	return EXIT_FAILURE;
}
