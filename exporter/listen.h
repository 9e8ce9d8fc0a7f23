/* SPDX-License-Identifier: GPL-2.0-only */
/* Listening sockets for --listen, and their addresses for the log. */
#pragma once

#include <stddef.h>
#include <sys/socket.h>

/*
 * "ADDRESS:PORT": an IPv4 address, or an IPv6 one in brackets ("[::1]:9777").
 * Numeric only: the exporter resolves no names. Port 0 picks a free one
 * (the log says which). -EINVAL for anything else.
 */
int listen_address_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);

/* A non-blocking listening TCP socket bound there (IPv6 sockets are IPv6 only). */
int listen_socket_open(const struct sockaddr_storage *address, socklen_t len);

/* "127.0.0.1:9777" or "[::1]:9777": an address, or a bound socket's. */
int sockaddr_format(const struct sockaddr *sa, char *buf, size_t size);
int socket_address_format(int fd, char *buf, size_t size);
