/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exporter.h"
#include "negotiate.h"
#include "render.h"
#include "scrape.h"
#include "util.h"

struct waiting_request {
	struct http_request *req;
	enum exposition_format format;
};

struct exporter {
	struct exporter_options options;
	struct scrape_client *scrape;
	struct exporter_stats stats;

	/* Requests that the scrape in flight will answer, all with the same reading. */
	struct waiting_request *waiting;
	size_t n_waiting, n_allocated;
	uint64_t scrape_start_usec;	/* CLOCK_MONOTONIC; 0 when no scrape runs */

	/* Log state changes, not every scrape. */
	bool daemon_unavailable;
	bool warned_hidden;
};

static char *memdup_or_null(const char *p, size_t size) {
	char *copy = malloc(size ?: 1);

	return copy ? memcpy(copy, p, size) : NULL;
}

/* The requests the scrape that just ended answers. Taken off the exporter
 * first: one that arrives from now on waits for the next scrape. */
static size_t take_waiting(struct exporter *e, struct waiting_request **ret) {
	size_t n = e->n_waiting;

	*ret = TAKE_PTR(e->waiting);
	e->n_waiting = e->n_allocated = 0;
	return n;
}

static void answer_all(struct exporter *e, unsigned status, const char *reason) {
	_cleanup_free_ struct waiting_request *waiting = NULL;
	size_t n = take_waiting(e, &waiting);

	for (size_t i = 0; i < n; i++)
		http_request_reply_text(waiting[i].req, status, reason);
}

/* With ReadAccess=owner and no read-all grant, the daemon shows us only our own
 * processes (none): say so once, rather than export an empty list silently. */
static void check_visibility(struct exporter *e, const struct snapshot *s) {
	bool hidden = s->n_processes < s->daemon.tracked_processes && s->daemon.read_access &&
		      streq(s->daemon.read_access, "owner");

	if (hidden && !e->warned_hidden)
		log_warning("dirtyrated tracks %u processes but shows this exporter only %zu (ReadAccess=owner): grant "
			    "its user the polkit action org.dirtyrate1.read-all (the installed rule does so for "
			    "dirtyrate-exporter).",
			    s->daemon.tracked_processes, s->n_processes);
	e->warned_hidden = hidden;
}

static void on_scrape_done(struct snapshot *snapshot, int error, const char *reason, void *userdata) {
	_cleanup_(snapshot_freep) struct snapshot *s = snapshot;
	_cleanup_free_ struct waiting_request *waiting = NULL;
	struct exporter *e = userdata;
	struct others_aggregate others;
	char *body[_FORMAT_MAX] = {};
	size_t size[_FORMAT_MAX] = {}, n;
	struct render_input in;
	int r = 0;

	if (error < 0) {
		e->stats.scrape_errors_total++;
		if (!e->daemon_unavailable)
			log_warning("Cannot read dirtyrated, answering 503: %s", reason);
		e->daemon_unavailable = true;
		e->scrape_start_usec = 0;
		answer_all(e, 503, reason);
		return;
	}
	if (e->daemon_unavailable)
		log_info("dirtyrated answers again: %zu processes.", s->n_processes);
	e->daemon_unavailable = false;
	check_visibility(e, s);

	if (e->options.max_processes != MAX_PROCESSES_ALL)
		snapshot_select_top(s, e->options.max_processes, &others);
	e->stats.cache_active = s->from_cache;
	in = (struct render_input) {
		.snapshot = s,
		.others = e->options.max_processes != MAX_PROCESSES_ALL ? &others : NULL,
		.self = &e->stats,
	};
	n = take_waiting(e, &waiting);
	for (size_t i = 0; i < n && r >= 0; i++) {
		enum exposition_format f = waiting[i].format;

		if (!body[f]) {
			uint64_t t = now_usec(CLOCK_MONOTONIC);

			r = render_exposition(&in, f, &body[f], &size[f]);
			if (r >= 0)
				log_debug("Scrape: %s rendered in %.1f ms, %zu bytes.", exposition_format_name[f],
					  (double) (now_usec(CLOCK_MONOTONIC) - t) / USEC_PER_MSEC, size[f]);
		}
	}
	/* What the next scrape reports as the previous one's cost: D-Bus and render. */
	e->stats.last_scrape_duration_sec =
		(double) (now_usec(CLOCK_MONOTONIC) - e->scrape_start_usec) / USEC_PER_SEC;
	e->scrape_start_usec = 0;

	if (r < 0)
		log_oom();
	for (size_t i = 0; i < n; i++) {
		enum exposition_format f = waiting[i].format;
		bool last = true;
		char *b;

		/* Each response frees its body: the last request of a format gets the
		 * rendered one, any before it (a scrape seldom has more than one) a copy. */
		for (size_t k = i + 1; k < n && last; k++)
			last = waiting[k].format != f;
		b = r < 0 ? NULL : last ? TAKE_PTR(body[f]) : memdup_or_null(body[f], size[f]);
		if (b)
			http_request_reply(waiting[i].req, 200, exposition_content_type[f], b, size[f]);
		else
			http_request_reply_text(waiting[i].req, 503, "out of memory while rendering the metrics");
	}
	for (size_t f = 0; f < _FORMAT_MAX; f++)
		free(body[f]);
}

void exporter_handle_metrics(struct http_request *req, void *userdata) {
	struct exporter *e = userdata;
	int r;

	if (e->n_waiting == e->n_allocated) {
		size_t n = e->n_allocated ? 2 * e->n_allocated : 8;
		struct waiting_request *w = reallocarray(e->waiting, n, sizeof(*w));

		if (!w) {
			http_request_reply_text(req, 503, "out of memory");
			return;
		}
		e->waiting = w;
		e->n_allocated = n;
	}
	e->waiting[e->n_waiting++] = (struct waiting_request) {
		.req = req,
		.format = negotiate_format(http_request_accept(req)),
	};
	if (e->scrape_start_usec != 0)
		return; /* the scrape in flight answers this one too */

	e->scrape_start_usec = now_usec(CLOCK_MONOTONIC);
	r = scrape_client_start(e->scrape, e->options.scrape_timeout_usec, on_scrape_done, e);
	if (r < 0) {
		char reason[128];

		snprintf(reason, sizeof(reason), "cannot start reading dirtyrated: %s", strerror(-r));
		e->scrape_start_usec = 0;
		e->stats.scrape_errors_total++;
		answer_all(e, 503, reason);
	}
}

int exporter_new(sd_event *event, const struct exporter_options *options, struct exporter **ret) {
	struct exporter *e;
	int r;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->options = *options;
	e->stats.last_scrape_duration_sec = NAN;
	r = scrape_client_new(event, &options->scrape, &e->scrape);
	if (r < 0) {
		free(e);
		return r;
	}
	*ret = e;
	return 0;
}

struct exporter *exporter_free(struct exporter *e) {
	if (!e)
		return NULL;
	answer_all(e, 503, "the exporter is shutting down");
	scrape_client_free(e->scrape);
	free(e->waiting);
	free(e);
	return NULL;
}
