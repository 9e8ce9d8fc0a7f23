/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Small helpers in the style of systemd's basic/: attribute-based cleanup,
 * errno-carrying log calls, strict number parsing and file reading.
 */
#pragma once

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define TAKE_PTR(p) ({ __typeof__(p) _t = (p); (p) = NULL; _t; })
#define TAKE_FD(fd) ({ int _t = (fd); (fd) = -EBADF; _t; })
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define USEC_PER_SEC  UINT64_C(1000000)
#define USEC_PER_MSEC UINT64_C(1000)
#define NSEC_PER_USEC UINT64_C(1000)

static inline void freep(void *p) { free(*(void **) p); }
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f) {
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline int safe_close(int fd) {
	if (fd >= 0)
		close(fd);
	return -EBADF;
}

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
static inline bool isempty(const char *s) { return !s || !*s; }

/* Logging: stderr, with "<N>" priority prefixes when stderr is the journal. */
void log_set_max_level(int level);
int log_internal(int level, int error, const char *format, ...) _printf_(3, 4);

#define log_debug(...)   log_internal(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_internal(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_internal(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_internal(LOG_ERR, 0, __VA_ARGS__)
/* These set errno from 'error' so the format may use %m; they return -|error|. */
#define log_debug_errno(error, ...)   log_internal(LOG_DEBUG, (error), __VA_ARGS__)
#define log_info_errno(error, ...)    log_internal(LOG_INFO, (error), __VA_ARGS__)
#define log_warning_errno(error, ...) log_internal(LOG_WARNING, (error), __VA_ARGS__)
#define log_error_errno(error, ...)   log_internal(LOG_ERR, (error), __VA_ARGS__)
#define log_oom() log_internal(LOG_ERR, ENOMEM, "Out of memory.")

uint64_t now_usec(clockid_t clock);

/* Reads a whole (small, /proc-style) file relative to dirfd; NUL-terminated. */
int read_full_file_at(int dirfd, const char *path, char **ret, size_t *ret_size);

char *strstrip(char *s);

#define IN_SET_ERRNO(e, a, b, c) ((e) == (a) || (e) == (b) || (e) == (c))

#include <dirent.h>
static inline void closedirp(DIR **d) {
	if (*d)
		closedir(*d);
}
