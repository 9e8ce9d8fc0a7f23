// SPDX-License-Identifier: GPL-2.0-only
/*
 * bpf-map-memory: kernel memory held by libdrbpf's maps with N tgids
 * counted (default 10 000), as the kernel accounts it: the `memlock:` line
 * of each map's fdinfo (its map_mem_usage() since Linux 6.4).
 *
 *   bpf-map-memory [-n TGIDS]
 *
 * The maps are filled with N entries by user-space updates under made-up
 * tgids (the kernel does not care whether they exist), in each layout the
 * daemon could use: tracked mode at the default size and sized to N, and
 * all-processes mode. Hash maps are preallocated, so the figure is set by
 * max_entries; it is printed before and after the fill to show that.
 * Run as root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "faults-priv.h"

struct map {
	int fd;
	struct bpf_map_info info;
	unsigned long long memlock;
};

/* Every BPF map this process holds an fd of (libbpf keeps them open). */
static int our_maps(struct map *out, int cap)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)) && n < cap) {
		char path[300], target[64], line[128];
		__u32 len = sizeof(out[n].info);
		ssize_t k;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		k = readlink(path, target, sizeof(target) - 1);
		if (k < 0)
			continue;
		target[k] = '\0';
		if (strcmp(target, "anon_inode:bpf-map"))
			continue;
		out[n] = (struct map){ .fd = atoi(e->d_name) };
		if (bpf_obj_get_info_by_fd(out[n].fd, &out[n].info, &len))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fdinfo/%s", e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			sscanf(line, "memlock: %llu", &out[n].memlock);
		if (f)
			fclose(f);
		n++;
	}
	if (d)
		closedir(d);
	return n;
}

static unsigned long long total(const struct map *m, int n)
{
	unsigned long long sum = 0;

	for (int i = 0; i < n; i++)
		sum += m[i].memlock;
	return sum;
}

/* Puts @n made-up tgids into the tracked set and the counters. */
static int fill(const struct map *m, int nmaps, unsigned int n)
{
	struct dr_fault_counts zero = { 0 };
	__u32 slot = 0;	/* the slot number: tracked's value */

	for (int i = 0; i < nmaps; i++) {
		const void *value = !strcmp(m[i].info.name, "counts") ? (const void *)&zero :
				    !strcmp(m[i].info.name, "tracked") ? (const void *)&slot : NULL;

		if (!value || m[i].info.max_entries < 2)
			continue;	/* arrays (preallocated), or the other mode's 1-entry maps */
		for (unsigned int k = 0; k < n; k++) {
			__u32 key = 4000000 + k;	/* above any real pid_max default */

			if (bpf_map_update_elem(m[i].fd, &key, value, BPF_ANY))
				return -errno;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int n = 10000;
	int opt;
	const struct {
		const char *name;
		bool all;
		bool sized;
	} layouts[] = {
		{ "tracked mode, default size", false, false },
		{ "tracked mode, sized to N", false, true },
		{ "all processes, default size", true, false },
	};

	while ((opt = getopt(argc, argv, "n:")) != -1) {
		if (opt != 'n') {
			fprintf(stderr, "usage: %s [-n TGIDS]\n", argv[0]);
			return 2;
		}
		n = strtoul(optarg, NULL, 0);
	}

	printf("BPF map memory (fdinfo memlock) with N = %u tgids counted\n", n);
	printf("  %-30s %-72s %12s %12s %9s\n", "layout", "maps (max_entries)", "empty", "filled",
	       "B/tgid");
	for (size_t l = 0; l < sizeof(layouts) / sizeof(layouts[0]); l++) {
		struct dr_faults_opts o = {
			.all_processes = layouts[l].all,
			.max_entries = layouts[l].sized ? n : 0,
		};
		struct dr_faults *f;
		struct map m[16];
		char why[512], names[256] = "";
		unsigned long long before, after;
		int nmaps, err;

		err = dr_faults_open(&o, &f, why, sizeof(why));
		if (err) {
			fprintf(stderr, "%s: %s\n", layouts[l].name, why);
			return 1;
		}
		nmaps = our_maps(m, 16);
		before = total(m, nmaps);
		err = fill(m, nmaps, n);
		if (err) {
			fprintf(stderr, "%s: filling the maps: %s\n", layouts[l].name, strerror(-err));
			return 1;
		}
		nmaps = our_maps(m, 16);
		after = total(m, nmaps);
		for (int i = 0; i < nmaps; i++)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s(%u)",
				 i ? " " : "", m[i].info.name, m[i].info.max_entries);
		printf("  %-30s %-72s %9.2f MiB %9.2f MiB %9.0f\n", layouts[l].name, names,
		       before / 1048576.0, after / 1048576.0, (double)after / n);
		dr_faults_close(f);
	}
	return 0;
}
