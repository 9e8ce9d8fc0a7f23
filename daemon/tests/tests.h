/* SPDX-License-Identifier: GPL-2.0-only */
/* Minimal assertions for the unit tests: print where and what, exit 1. */
#pragma once

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FAIL(...)                                                              \
	do {                                                                   \
		fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
		exit(EXIT_FAILURE);                                            \
	} while (0)

#define ASSERT_TRUE(e)                                                         \
	do {                                                                   \
		if (!(e))                                                      \
			FAIL("assertion failed: %s", #e);                      \
	} while (0)

#define ASSERT_EQ(a, b)                                                        \
	do {                                                                   \
		long long _a = (long long) (a), _b = (long long) (b);          \
		if (_a != _b)                                                  \
			FAIL("%s == %lld, expected %s == %lld", #a, _a, #b, _b); \
	} while (0)

#define ASSERT_EQ_U64(a, b)                                                    \
	do {                                                                   \
		uint64_t _a = (a), _b = (b);                                   \
		if (_a != _b)                                                  \
			FAIL("%s == %" PRIu64 ", expected %" PRIu64, #a, _a, _b); \
	} while (0)

#define ASSERT_NEAR(a, b, eps)                                                 \
	do {                                                                   \
		double _a = (a), _b = (b);                                     \
		if (!(fabs(_a - _b) <= (eps)))                                 \
			FAIL("%s == %.12g, expected %.12g ± %g", #a, _a, _b, (double) (eps)); \
	} while (0)

#define ASSERT_STREQ(a, b)                                                     \
	do {                                                                   \
		const char *_a = (a), *_b = (b);                               \
		if (!_a || strcmp(_a, _b) != 0)                                \
			FAIL("%s == \"%s\", expected \"%s\"", #a, _a ?: "(null)", _b); \
	} while (0)

#define TEST(name) static void name(void)
#define RUN(name)                                                              \
	do {                                                                   \
		name();                                                        \
		printf("ok %s\n", #name);                                      \
	} while (0)
