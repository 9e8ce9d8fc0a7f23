/* SPDX-License-Identifier: GPL-2.0-only */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "listen.h"
#include "parse-util.h"
#include "util.h"

int listen_address_parse(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len) {
	char host[INET6_ADDRSTRLEN];
	const char *port_s, *colon;
	uint32_t port;
	size_t n;

	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		n = (size_t) (close - s - 1);
		if (n == 0 || n >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, n);
		port_s = close + 2;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s || (size_t) (colon - s) >= sizeof(host))
			return -EINVAL;
		n = (size_t) (colon - s);
		memcpy(host, s, n);
		port_s = colon + 1;
	}
	host[n] = 0;
	if (safe_atou32(port_s, &port) < 0 || port > 65535)
		return -EINVAL;

	memset(ret, 0, sizeof(*ret));
	if (s[0] == '[') {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *) ret;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t) port);
		*ret_len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *) ret;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t) port);
		*ret_len = sizeof(*sin);
	}
	return 0;
}

int listen_socket_open(const struct sockaddr_storage *address, socklen_t len) {
	_cleanup_close_ int fd = -EBADF;
	int one = 1;

	fd = socket(address->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	/* A restart must not wait for the old connections' TIME_WAIT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		return -errno;
	if (address->ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		return -errno;
	if (bind(fd, (const struct sockaddr *) address, len) < 0)
		return -errno;
	if (listen(fd, SOMAXCONN) < 0)
		return -errno;
	return TAKE_FD(fd);
}

int sockaddr_format(const struct sockaddr *sa, char *buf, size_t size) {
	char ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *) sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, size, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *) sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, size, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else
		return -EAFNOSUPPORT;
	return 0;
}

int socket_address_format(int fd, char *buf, size_t size) {
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *) &sa, &len) < 0)
		return -errno;
	return sockaddr_format((const struct sockaddr *) &sa, buf, size);
}
