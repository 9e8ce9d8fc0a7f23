/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench-lib.h"
#include "bus-test-lib.h"
#include "proc-pid.h"
#include "tests.h"
#include "util.h"

pid_t workload_start(const char *bindir, ...) {
	char *argv[16], bin[4096], line[256];
	int fds[2], argc = 0;
	va_list ap;
	pid_t pid;
	FILE *out;

	snprintf(bin, sizeof(bin), "%s/dirtyrate-workload", bindir);
	argv[argc++] = bin;
	va_start(ap, bindir);
	while (argc < 15 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;

	ASSERT_EQ(pipe(fds), 0);
	pid = fork();
	ASSERT_TRUE(pid >= 0);
	if (pid == 0) {
		prctl_set_pdeathsig();
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execv(bin, argv);
		_exit(127);
	}
	close(fds[1]);
	out = fdopen(fds[0], "r");
	ASSERT_TRUE(out);
	/* The truth line comes after MAP_POPULATE: the region is all there. */
	if (!fgets(line, sizeof(line), out))
		FAIL("%s exited before it was ready", bin);
	fclose(out);
	return pid;
}

uint64_t proc_cpu_usec(pid_t pid) {
	_cleanup_free_ char *text = NULL;
	struct proc_stat st;
	char path[64];

	/* The daemon's own parser: fields 14 and 15, whatever the comm holds. */
	snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
	if (read_full_file_at(AT_FDCWD, path, &text, NULL) < 0 || proc_stat_parse(text, &st) < 0)
		FAIL("cannot read %s", path);
	return (st.utime_ticks + st.stime_ticks) * 1000000ULL / sysconf(_SC_CLK_TCK);
}

static int cmp_double(const void *a, const void *b) {
	double x = *(const double *) a, y = *(const double *) b;

	return (x > y) - (x < y);
}

double percentile(double *v, size_t n, double q) {
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), cmp_double);
	return v[(size_t) (q * (n - 1) + 0.5)];
}

const char *loadavg(char *buf, size_t size) {
	FILE *f = fopen("/proc/loadavg", "r");
	double l[3] = {};

	if (!f || fscanf(f, "%lf %lf %lf", &l[0], &l[1], &l[2]) != 3)
		l[0] = l[1] = l[2] = NAN;
	if (f)
		fclose(f);
	snprintf(buf, size, "%.2f %.2f %.2f", l[0], l[1], l[2]);
	return buf;
}

uint64_t now_nsec(void) {
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * UINT64_C(1000000000) + ts.tv_nsec;
}

unsigned parse_count_list(const char *option, char *arg, unsigned *counts, unsigned max) {
	unsigned n = 0;

	for (char *s = strtok(arg, ","); s; s = strtok(NULL, ",")) {
		char *end;
		unsigned long v;

		errno = 0;
		v = strtoul(s, &end, 10);
		if (errno || end == s || *end || v == 0 || v > UINT_MAX || *s == '-')
			FAIL("%s: '%s' is not a positive whole number", option, s);
		if (n == max)
			FAIL("%s: at most %u numbers", option, max);
		counts[n++] = v;
	}
	if (n == 0)
		FAIL("%s: no numbers", option);
	return n;
}
