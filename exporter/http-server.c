/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * libmicrohttpd runs inside our sd-event loop rather than in a thread of
 * its own: MHD in "external epoll" mode hands us one epoll fd per daemon,
 * which sd-event watches, and a timeout, which a timer event follows (as
 * systemd-journal-remote does). Everything then happens on one thread: a
 * request for /metrics suspends its connection (MHD_suspend_connection),
 * the D-Bus calls run asynchronously on the same loop, and the reply
 * resumes it. No locks, no blocking call anywhere, so a slow daemon or a
 * slow client delays no one else, and sd-bus (which is not thread-safe)
 * stays on the thread that owns it. MHD's own thread would have needed a
 * hand-off to the bus thread for every scrape.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "http-server.h"
#include "listen.h"
#include "util.h"

struct http_daemon {
	struct http_server *server;
	struct MHD_Daemon *mhd;
	sd_event_source *io, *timer, *defer;
	bool run_again;		/* a connection closed during the last run */
};

/*
 * A client connection, from accept to close. While it owes us a request
 * (from the accept, or from the end of the previous response on a kept
 * alive connection, until the request's headers are complete) it sits in
 * the server's deadline list. MHD's own timeout is an idle timeout, which a
 * client sending a byte now and then never meets.
 */
struct http_connection {
	struct http_server *server;
	struct http_connection *prev, *next;	/* the deadline list, in deadline order */
	bool waiting;				/* in the list */
	uint64_t deadline_usec;			/* CLOCK_MONOTONIC */
	int fd;
	char peer[INET6_ADDRSTRLEN + 8];
};

struct http_request {
	struct http_daemon *daemon;
	struct MHD_Connection *connection;
	struct MHD_Response *response;
	unsigned status;
	bool in_handler, suspended;
};

struct http_server {
	sd_event *event;
	struct http_server_options options;
	http_metrics_handler_t handler;
	void *userdata;
	struct http_daemon *daemons;
	size_t n_daemons;
	struct http_connection *waiting_head, *waiting_tail;
	sd_event_source *deadline_timer;
};

static const char index_page[] =
	"<!DOCTYPE html>\n"
	"<html><head><meta charset=\"utf-8\"><title>dirtyrate exporter</title></head>\n"
	"<body><h1>dirtyrate exporter</h1>\n"
	"<p>Per-process memory dirty rates from dirtyrated, for Prometheus: <a href=\"metrics\">/metrics</a></p>\n"
	"</body></html>\n";

static void daemon_schedule(struct http_daemon *d);

/* ---- the request deadline ---- */

static void deadline_timer_update(struct http_server *s) {
	if (!s->waiting_head) {
		(void) sd_event_source_set_enabled(s->deadline_timer, SD_EVENT_OFF);
		return;
	}
	(void) sd_event_source_set_time(s->deadline_timer, s->waiting_head->deadline_usec);
	(void) sd_event_source_set_enabled(s->deadline_timer, SD_EVENT_ONESHOT);
}

static void deadline_remove(struct http_connection *c) {
	struct http_server *s = c->server;

	if (!c->waiting)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->waiting_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->waiting_tail = c->prev;
	c->prev = c->next = NULL;
	c->waiting = false;
	deadline_timer_update(s);
}

/* Every deadline is now + the same timeout: appending keeps the list sorted. */
static void deadline_start(struct http_connection *c) {
	struct http_server *s = c->server;

	deadline_remove(c);
	c->deadline_usec = now_usec(CLOCK_MONOTONIC) + (uint64_t) s->options.connection_timeout_sec * USEC_PER_SEC;
	c->prev = s->waiting_tail;
	if (s->waiting_tail)
		s->waiting_tail->next = c;
	else
		s->waiting_head = c;
	s->waiting_tail = c;
	c->waiting = true;
	deadline_timer_update(s);
}

static int on_deadline(sd_event_source *source, uint64_t usec, void *userdata) {
	static const char body[] = "The request did not arrive within the timeout.\n";
	struct http_server *s = userdata;
	uint64_t now = now_usec(CLOCK_MONOTONIC);

	while (s->waiting_head && s->waiting_head->deadline_usec <= now) {
		struct http_connection *c = s->waiting_head;
		char response[256];
		int n;

		log_debug("Connection from %s: no complete request within %u s, closing it.", c->peer,
			  s->options.connection_timeout_sec);
		/* MHD has sent nothing on it since the last response: a 408 of our
		 * own cannot interleave. shutdown() rather than close(): MHD owns
		 * the fd, sees end-of-file at its next look and closes it itself. */
		n = snprintf(response, sizeof(response),
			     "HTTP/1.1 408 Request Timeout\r\nContent-Type: text/plain; charset=utf-8\r\n"
			     "Connection: close\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
		(void) send(c->fd, response, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void) shutdown(c->fd, SHUT_RDWR);
		deadline_remove(c);
	}
	deadline_timer_update(s);
	return 0;
}

static void on_connection(void *cls, struct MHD_Connection *connection, void **socket_context,
			  enum MHD_ConnectionNotificationCode code) {
	struct http_daemon *d = cls;
	struct http_connection *c = *socket_context;

	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		const union MHD_ConnectionInfo *fd_info, *addr_info;

		c = calloc(1, sizeof(*c));
		if (!c)
			return; /* no deadline for this one; MHD's idle timeout still applies */
		c->server = d->server;
		fd_info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CONNECTION_FD);
		c->fd = fd_info ? fd_info->connect_fd : -EBADF;
		addr_info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		if (!addr_info || sockaddr_format(addr_info->client_addr, c->peer, sizeof(c->peer)) < 0)
			snprintf(c->peer, sizeof(c->peer), "?");
		if (c->fd >= 0)
			deadline_start(c);
		*socket_context = c;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		/* At --max-connections MHD takes its listening socket out of its epoll
		 * set, and puts it back only at the start of its next run: without one
		 * nothing would wake us, and no connection would be accepted again. */
		d->run_again = true;
		if (c) {
			deadline_remove(c);
			free(c);
			*socket_context = NULL;
		}
	}
}

static struct http_connection *connection_of(struct MHD_Connection *connection) {
	const union MHD_ConnectionInfo *info = MHD_get_connection_info(connection, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return info ? info->socket_context : NULL;
}

/* ---- requests ---- */

static int set_response(struct http_request *req, unsigned status, const char *content_type, char *body,
			size_t size) {
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(size, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return -ENOMEM;
	}
	if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, content_type) != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	     MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(r);
		return -ENOMEM;
	}
	req->response = r;
	req->status = status;
	return 0;
}

static int set_text_response(struct http_request *req, unsigned status, const char *reason) {
	char *body;
	int n;

	n = asprintf(&body, "%s\n", reason);
	if (n < 0)
		return -ENOMEM;
	return set_response(req, status, "text/plain; charset=utf-8", body, (size_t) n);
}

static enum MHD_Result queue(struct http_request *req) {
	enum MHD_Result r = MHD_queue_response(req->connection, req->status, req->response);

	MHD_destroy_response(req->response); /* MHD holds its own reference */
	req->response = NULL;
	return r;
}

void http_request_reply(struct http_request *req, unsigned status, const char *content_type, char *body,
			size_t size) {
	/* Out of memory: a 503 without a body, or, failing that, the connection dropped. */
	if (set_response(req, status, content_type, body, size) < 0)
		(void) set_response(req, MHD_HTTP_SERVICE_UNAVAILABLE, "text/plain; charset=utf-8", NULL, 0);
	if (req->suspended) {
		req->suspended = false;
		MHD_resume_connection(req->connection);
		/* MHD processes the resumed connection at its next run: at the loop's
		 * next iteration, not from here, where a run could call the handler
		 * again for another connection in the middle of the caller's work. */
		daemon_schedule(req->daemon);
	}
}

void http_request_reply_text(struct http_request *req, unsigned status, const char *reason) {
	char *body;
	int n;

	n = asprintf(&body, "%s\n", reason);
	http_request_reply(req, status, "text/plain; charset=utf-8", n < 0 ? NULL : body, n < 0 ? 0 : (size_t) n);
}

const char *http_request_accept(struct http_request *req) {
	return MHD_lookup_connection_value(req->connection, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls) {
	struct http_daemon *d = cls;
	struct http_server *s = d->server;
	struct http_request *req = *con_cls;
	char reason[256];
	int r;

	if (req) {
		/* A request body (nobody should send one) is read and dropped. */
		*upload_data_size = 0;
		return req->response ? queue(req) : MHD_YES;
	}

	/* The headers are complete: the request has arrived in time. */
	struct http_connection *c = connection_of(connection);
	if (c)
		deadline_remove(c);

	req = calloc(1, sizeof(*req));
	if (!req)
		return MHD_NO;
	req->daemon = d;
	req->connection = connection;
	*con_cls = req;

	if (!streq(method, MHD_HTTP_METHOD_GET) && !streq(method, MHD_HTTP_METHOD_HEAD)) {
		snprintf(reason, sizeof(reason), "Method %.32s is not allowed: use GET or HEAD.", method);
		r = set_text_response(req, MHD_HTTP_METHOD_NOT_ALLOWED, reason);
	} else if (streq(url, "/metrics")) {
		req->in_handler = true;
		s->handler(req, s->userdata);
		req->in_handler = false;
		if (req->response)
			return queue(req);
		req->suspended = true;
		MHD_suspend_connection(connection);
		return MHD_YES;
	} else if (streq(url, "/")) {
		char *page = strdup(index_page);

		r = page ? set_response(req, MHD_HTTP_OK, "text/html; charset=utf-8", page, strlen(page)) : -ENOMEM;
	} else {
		snprintf(reason, sizeof(reason), "Not found: %.128s (the metrics are at /metrics)", url);
		r = set_text_response(req, MHD_HTTP_NOT_FOUND, reason);
	}
	if (r < 0)
		return MHD_NO;
	return queue(req);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
			 enum MHD_RequestTerminationCode code) {
	struct http_request *req = *con_cls;
	struct http_connection *c;

	if (req) {
		if (req->response)
			MHD_destroy_response(req->response);
		free(req);
		*con_cls = NULL;
	}
	/* A kept-alive connection owes us its next request in time too. */
	c = connection_of(connection);
	if (c && code == MHD_REQUEST_TERMINATED_COMPLETED_OK)
		deadline_start(c);
}

/* ---- MHD on sd-event ---- */

/*
 * MHD runs at the loop's next iteration: a defer source, not a timer due
 * now, which sd-event would fire at its next 250 ms tick (the default
 * accuracy of a timer), holding every answer back by up to a quarter of a
 * second.
 */
static void daemon_schedule(struct http_daemon *d) {
	(void) sd_event_source_set_enabled(d->defer, SD_EVENT_ONESHOT);
}

static void daemon_run(struct http_daemon *d) {
	MHD_UNSIGNED_LONG_LONG timeout_msec;
	bool timeout;

	d->run_again = false;
	if (MHD_run(d->mhd) != MHD_YES)
		log_warning("libmicrohttpd could not run its event step.");
	timeout = MHD_get_timeout(d->mhd, &timeout_msec) == MHD_YES;
	if (d->run_again || (timeout && timeout_msec == 0)) {
		(void) sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
		daemon_schedule(d);
	} else if (timeout) {
		/* Connection timeouts, in whole seconds: the timer's 250 ms accuracy does. */
		(void) sd_event_source_set_time_relative(d->timer, (uint64_t) timeout_msec * USEC_PER_MSEC);
		(void) sd_event_source_set_enabled(d->timer, SD_EVENT_ONESHOT);
	} else
		(void) sd_event_source_set_enabled(d->timer, SD_EVENT_OFF);
}

static int on_mhd_io(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
	daemon_run(userdata);
	return 0;
}

static int on_mhd_timer(sd_event_source *source, uint64_t usec, void *userdata) {
	daemon_run(userdata);
	return 0;
}

static int on_mhd_defer(sd_event_source *source, void *userdata) {
	daemon_run(userdata);
	return 0;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) {
	char buf[512];
	size_t n;

	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = 0;
	/* Clients can provoke these (bad requests, resets): not worth more than debug. */
	log_debug("libmicrohttpd: %s", buf);
}

static int daemon_start(struct http_server *s, struct http_daemon *d, int fd) {
	const union MHD_DaemonInfo *info;
	int r;

	d->server = s;
	d->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				  on_request, d,
				  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, d, /* first, or MHD logs some itself */
				  MHD_OPTION_LISTEN_SOCKET, fd,
				  MHD_OPTION_CONNECTION_LIMIT, s->options.max_connections,
				  /* A second more than the request deadline, so that the deadline (with its 408)
				   * is what ends a connection that owes a request; this one ends those
				   * that stall in the middle of a response. */
				  MHD_OPTION_CONNECTION_TIMEOUT, s->options.connection_timeout_sec + 1,
				  MHD_OPTION_CONNECTION_MEMORY_LIMIT, s->options.connection_memory,
				  MHD_OPTION_NOTIFY_CONNECTION, on_connection, d,
				  MHD_OPTION_NOTIFY_COMPLETED, on_completed, d,
				  MHD_OPTION_END);
	if (!d->mhd)
		return log_error_errno(EINVAL, "libmicrohttpd refused to start on socket %d.", fd);
	info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	if (!info)
		return log_error_errno(EINVAL, "libmicrohttpd has no epoll fd.");
	r = sd_event_add_io(s->event, &d->io, info->epoll_fd, EPOLLIN, on_mhd_io, d);
	if (r >= 0)
		r = sd_event_add_time(s->event, &d->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_mhd_timer, d);
	if (r >= 0)
		r = sd_event_add_defer(s->event, &d->defer, on_mhd_defer, d);
	if (r < 0)
		return log_error_errno(r, "Cannot watch libmicrohttpd's events: %m");
	/* Anything MHD wants to do right away (nothing, normally) happens at the first iteration. */
	daemon_schedule(d);
	return 0;
}

int http_server_new(sd_event *event, int *fds, size_t n_fds, const struct http_server_options *options,
		    http_metrics_handler_t handler, void *userdata, struct http_server **ret) {
	_cleanup_(http_server_freep) struct http_server *s = NULL;
	size_t i = 0;
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		goto oom;
	s->event = sd_event_ref(event);
	s->options = *options;
	s->handler = handler;
	s->userdata = userdata;
	s->daemons = calloc(n_fds, sizeof(*s->daemons));
	if (!s->daemons)
		goto oom;
	r = sd_event_add_time(event, &s->deadline_timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_deadline, s);
	if (r < 0) {
		log_error_errno(r, "Cannot add the request deadline timer: %m");
		goto fail;
	}
	(void) sd_event_source_set_enabled(s->deadline_timer, SD_EVENT_OFF);
	for (i = 0; i < n_fds; i++) {
		r = daemon_start(s, &s->daemons[i], fds[i]);
		s->n_daemons++;
		if (r < 0) {
			/* A running MHD daemon owns its socket: MHD_stop_daemon() closes it. */
			if (!s->daemons[i].mhd)
				safe_close(fds[i]);
			i++;
			goto fail;
		}
	}
	*ret = TAKE_PTR(s);
	return 0;
oom:
	r = log_oom();
fail:
	for (; i < n_fds; i++)
		safe_close(fds[i]);
	return r;
}

struct http_server *http_server_free(struct http_server *s) {
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_daemons; i++) {
		struct http_daemon *d = &s->daemons[i];

		sd_event_source_disable_unref(d->io);
		sd_event_source_disable_unref(d->timer);
		sd_event_source_disable_unref(d->defer);
		if (d->mhd)
			MHD_stop_daemon(d->mhd); /* closes the listening socket too */
	}
	free(s->daemons);
	sd_event_source_disable_unref(s->deadline_timer);
	sd_event_unref(s->event);
	free(s);
	return NULL;
}
