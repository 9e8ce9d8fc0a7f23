// SPDX-License-Identifier: GPL-2.0-only
/*
 * What user space can do without new kernel interfaces: read the pagemap
 * entries of the region and keep the pages with bit 55 (soft-dirty), then
 * write 4 to /proc/self/clear_refs to re-arm.
 *
 * clear_refs always clears the whole process: its cost grows with everything
 * else the process has mapped, which the @4G variant shows, and every other
 * page the process writes afterwards takes a soft-dirty fault too (here: the
 * read buffer and the benchmark's own data, paid inside the timed report).
 * Writes between the read and the clear are lost: report and re-arm are not
 * atomic.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "tracker.h"
#include "uapi.h"

struct crpm_state {
	uint64_t *entries;	/* pagemap entries of the region */
	uint32_t *dirty;	/* indices of the soft-dirty ones */
	long n;
};

static long crpm_collect(struct tracker *t)
{
	struct crpm_state *s = t->priv;
	size_t want = t->r.npages * sizeof(uint64_t);
	off_t at = (off_t)((uintptr_t)t->r.base / t->r.page_size * sizeof(uint64_t));
	ssize_t got = pread(pagemap_fd(), s->entries, want, at);
	long n = 0;
	int ret;

	if (got != (ssize_t)want)
		return tracker_fail(t, got < 0 ? errno : EIO, "read pagemap");
	for (size_t i = 0; i < t->r.npages; i++)
		if (s->entries[i] & PM_ENTRY_SOFT_DIRTY)
			s->dirty[n++] = (uint32_t)i;
	ret = clear_refs_soft_dirty();
	if (ret)
		return tracker_fail(t, -ret, "write 4 to clear_refs");
	s->n = n;
	return n;
}

static int crpm_setup(struct tracker *t)
{
	struct crpm_state *s = calloc(1, sizeof(*s));

	if (!s)
		return tracker_fail(t, ENOMEM, "state");
	t->priv = s;
	s->entries = calloc(t->r.npages, sizeof(*s->entries));
	s->dirty = calloc(t->r.npages, sizeof(*s->dirty));
	if (!s->entries || !s->dirty)
		return tracker_fail(t, ENOMEM, "buffers");
	if (pagemap_fd() < 0)
		return tracker_fail(t, errno, "open /proc/self/pagemap");
	return crpm_collect(t) < 0 ? -EIO : 0;
}

static long crpm_pages(struct tracker *t, uint32_t *out)
{
	struct crpm_state *s = t->priv;

	for (long i = 0; i < s->n; i++)
		out[i] = s->dirty[i];
	return s->n;
}

static void crpm_teardown(struct tracker *t)
{
	struct crpm_state *s = t->priv;

	if (s) {
		free(s->entries);
		free(s->dirty);
	}
	free(s);
	t->priv = NULL;
}

const struct method method_clear_refs = {
	.name = "clear_refs",
	.what = "read /proc/self/pagemap bit 55, then clear_refs 4 (whole process)",
	.setup = crpm_setup,
	.collect = crpm_collect,
	.pages = crpm_pages,
	.teardown = crpm_teardown,
};

const struct method method_clear_refs_ballast = {
	.name = "clear_refs@4G",
	.what = "clear_refs, with 4 GiB populated elsewhere in the process",
	.flags = M_BALLAST,
	.setup = crpm_setup,
	.collect = crpm_collect,
	.pages = crpm_pages,
	.teardown = crpm_teardown,
};
