// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ours: the PAGEMAP_SD_* ioctls on /proc/self/pagemap.
 *
 * The report is the kernel's own form, byte offsets from the start of the
 * range, into a vec that can take every page of the region, so one call
 * reports everything (the kernel still walks in chunks of 4096 pages).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "tracker.h"
#include "uapi.h"

struct sd_state {
	loff_t *vec;
	long n;			/* offsets in vec from the last collect */
	int flags;		/* PAGEMAP_SD_* */
	int two_calls;		/* GET then CLEAR instead of GET_AND_CLEAR */
};

static long sd_ioctl(struct tracker *t, unsigned long cmd)
{
	struct sd_state *s = t->priv;
	struct pagemap_sd_args a = {
		.start = t->r.base,
		.len = (int)(t->r.npages * t->r.page_size),
		.vec = s->vec,
		.vec_len = (int)t->r.npages,
		.flags = s->flags,
	};
	long ret = ioctl(pagemap_fd(), cmd, &a);

	return ret < 0 ? -errno : ret;
}

static long sd_collect(struct tracker *t)
{
	struct sd_state *s = t->priv;
	long n;

	if (s->two_calls) {
		n = sd_ioctl(t, PAGEMAP_SD_GET);
		if (n >= 0) {
			long c = sd_ioctl(t, PAGEMAP_SD_CLEAR);

			if (c < 0)
				return tracker_fail(t, (int)-c, "PAGEMAP_SD_CLEAR");
		}
	} else {
		n = sd_ioctl(t, PAGEMAP_SD_GET_AND_CLEAR);
	}
	if (n < 0)
		return tracker_fail(t, (int)-n, "PAGEMAP_SD_GET%s",
				    s->two_calls ? "" : "_AND_CLEAR");
	s->n = n;
	return n;
}

static int sd_setup_flags(struct tracker *t, int flags, int two_calls)
{
	struct sd_state *s = calloc(1, sizeof(*s));

	if (!s)
		return tracker_fail(t, ENOMEM, "state");
	t->priv = s;
	s->flags = flags;
	s->two_calls = two_calls;
	if (t->r.npages * t->r.page_size > 0x7fffffffUL)
		return tracker_fail(t, EOVERFLOW, "len is an int in the uapi");
	s->vec = calloc(t->r.npages, sizeof(*s->vec));
	if (!s->vec)
		return tracker_fail(t, ENOMEM, "vec");
	if (pagemap_fd() < 0)
		return tracker_fail(t, errno, "open /proc/self/pagemap");
	/* Arm: the fresh mapping is VM_SOFTDIRTY and reports all its pages. */
	return sd_collect(t) < 0 ? -EIO : 0;
}

static int sd_setup_gac(struct tracker *t)
{
	return sd_setup_flags(t, 0, 0);
}

static int sd_setup_gac_noreuse(struct tracker *t)
{
	return sd_setup_flags(t, PAGEMAP_SD_NO_REUSED_REGIONS, 0);
}

static int sd_setup_get_clear(struct tracker *t)
{
	return sd_setup_flags(t, 0, 1);
}

static long sd_pages(struct tracker *t, uint32_t *out)
{
	struct sd_state *s = t->priv;

	for (long i = 0; i < s->n; i++)
		out[i] = (uint32_t)(s->vec[i] / (loff_t)t->r.page_size);
	return s->n;
}

static void sd_teardown(struct tracker *t)
{
	struct sd_state *s = t->priv;

	if (s)
		free(s->vec);
	free(s);
	t->priv = NULL;
}

const struct method method_sd_gac = {
	.name = "gac",
	.what = "ours: PAGEMAP_SD_GET_AND_CLEAR, one call",
	.flags = M_OURS,
	.setup = sd_setup_gac,
	.collect = sd_collect,
	.pages = sd_pages,
	.teardown = sd_teardown,
};

const struct method method_sd_gac_noreuse = {
	.name = "gac-noreuse",
	.what = "ours: PAGEMAP_SD_GET_AND_CLEAR + PAGEMAP_SD_NO_REUSED_REGIONS",
	.flags = M_OURS,
	.setup = sd_setup_gac_noreuse,
	.collect = sd_collect,
	.pages = sd_pages,
	.teardown = sd_teardown,
};

const struct method method_sd_get_clear = {
	.name = "get+clear",
	.what = "ours: PAGEMAP_SD_GET then PAGEMAP_SD_CLEAR (two calls, not atomic)",
	.flags = M_OURS,
	.setup = sd_setup_get_clear,
	.collect = sd_collect,
	.pages = sd_pages,
	.teardown = sd_teardown,
};

/*
 * Wrong on purpose, to show that the check catches a method that does not
 * re-arm: it reports with GET and never clears, so pages written in earlier
 * rounds keep showing up. Only runs when asked for by name.
 */
static long sd_collect_get_only(struct tracker *t)
{
	long n = sd_ioctl(t, PAGEMAP_SD_GET);

	if (n < 0)
		return tracker_fail(t, (int)-n, "PAGEMAP_SD_GET");
	((struct sd_state *)t->priv)->n = n;
	return n;
}

const struct method method_sd_get_only = {
	.name = "broken-get-only",
	.what = "check of the check: PAGEMAP_SD_GET, never re-arms (must show \xe2\x9c\x97)",
	.setup = sd_setup_gac,
	.collect = sd_collect_get_only,
	.pages = sd_pages,
	.teardown = sd_teardown,
};

/* The same as gac, timed in the process that has 4 GiB populated elsewhere. */
const struct method method_sd_gac_ballast = {
	.name = "gac@4G",
	.what = "ours: gac, with 4 GiB populated elsewhere in the process",
	.flags = M_OURS | M_BALLAST,
	.setup = sd_setup_gac,
	.collect = sd_collect,
	.pages = sd_pages,
	.teardown = sd_teardown,
};
