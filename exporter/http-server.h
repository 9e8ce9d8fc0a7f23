/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The HTTP side: libmicrohttpd on our sd-event loop, one MHD daemon per
 * listening socket. It routes (GET|HEAD /metrics to the handler, / to an
 * index, 404 and 405 with a reason) and bounds what a client may cost:
 * connections per socket, request header memory, an idle timeout, and a
 * deadline by which a whole request must have arrived (against slowloris).
 */
#pragma once

#include <stddef.h>

#include <systemd/sd-event.h>

struct http_server;
struct http_request;

struct http_server_options {
	unsigned connection_timeout_sec;	/* idle timeout, and the time a request may take to arrive */
	unsigned max_connections;		/* per listening socket */
	size_t connection_memory;		/* per connection; bounds the request line and headers */
};

/*
 * GET or HEAD /metrics. The connection waits (suspended, costing nothing
 * but its socket) until the handler calls http_request_reply(), which it
 * must do exactly once, now or later.
 */
typedef void (*http_metrics_handler_t)(struct http_request *req, void *userdata);

/* fds: listening stream sockets, owned by the server from now on (also on failure). */
int http_server_new(sd_event *event, int *fds, size_t n_fds, const struct http_server_options *options,
		    http_metrics_handler_t handler, void *userdata, struct http_server **ret);
/* Every request must have had its reply by now (MHD cannot stop with a connection suspended). */
struct http_server *http_server_free(struct http_server *s);
static inline void http_server_freep(struct http_server **s) {
	http_server_free(*s);
}

/* The request's Accept header, or NULL. */
const char *http_request_accept(struct http_request *req);
/* Answers: body (size bytes, from malloc) becomes the server's. */
void http_request_reply(struct http_request *req, unsigned status, const char *content_type, char *body,
			size_t size);
/* Answers with a one-line text/plain reason (a newline is added). */
void http_request_reply_text(struct http_request *req, unsigned status, const char *reason);
