/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a request for /metrics does: join the scrape in flight or start
 * one, render the snapshot in each format asked for, and answer every
 * waiting request; 503 with the scrape's reason when dirtyrated cannot
 * be read.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <systemd/sd-event.h>

#include "http-server.h"
#include "scrape.h"

struct exporter_options {
	size_t max_processes;		/* MAX_PROCESSES_ALL: every one */
	uint64_t scrape_timeout_usec;
	struct scrape_options scrape;	/* the bus, the cache */
};

struct exporter;

int exporter_new(sd_event *event, const struct exporter_options *options, struct exporter **ret);
/* Requests still waiting get a 503. */
struct exporter *exporter_free(struct exporter *e);
static inline void exporter_freep(struct exporter **e) {
	exporter_free(*e);
}

/* The http_metrics_handler_t for GET /metrics; userdata is the exporter. */
void exporter_handle_metrics(struct http_request *req, void *userdata);
