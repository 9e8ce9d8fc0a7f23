/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <limits.h>

#include <systemd/sd-bus.h>

#include "object-path.h"
#include "tests.h"

TEST(test_round_trip) {
	const pid_t pids[] = { 1, 42, 4194304, INT_MAX };
	char buf[PROCESS_PATH_MAX];

	for (size_t i = 0; i < sizeof(pids) / sizeof(pids[0]); i++) {
		pid_t back = 0;

		ASSERT_EQ(process_path_from_pid(pids[i], buf, sizeof(buf)), 0);
		ASSERT_TRUE(sd_bus_object_path_is_valid(buf));
		ASSERT_EQ(process_path_to_pid(buf, &back), 0);
		ASSERT_EQ(back, pids[i]);
	}
	ASSERT_EQ(process_path_from_pid(1234, buf, sizeof(buf)), 0);
	ASSERT_STREQ(buf, "/org/dirtyrate1/process/1234");
}

TEST(test_invalid) {
	const char *bad[] = {
		"/org/dirtyrate1/process", "/org/dirtyrate1/process/", "/org/dirtyrate1/process/0",
		"/org/dirtyrate1/process/01", "/org/dirtyrate1/process/_31", "/org/dirtyrate1/process/12a",
		"/org/dirtyrate1/process/1/2", "/org/dirtyrate1/process/2147483648",
		"/org/dirtyrate1/process/99999999999999999999", "/org/dirtyrate1/processes/1",
		"/org/dirtyrate1/process/-1", "/org/dirtyrate1/process/+1",
	};
	char buf[PROCESS_PATH_MAX];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pid_t p;

		if (process_path_to_pid(bad[i], &p) != -EINVAL)
			FAIL("%s was accepted", bad[i]);
	}
	ASSERT_EQ(process_path_from_pid(0, buf, sizeof(buf)), -EINVAL);
	ASSERT_EQ(process_path_from_pid(-5, buf, sizeof(buf)), -EINVAL);
	ASSERT_EQ(process_path_from_pid(12345, buf, 10), -ENOBUFS);
}

int main(void) {
	RUN(test_round_trip);
	RUN(test_invalid);
	return 0;
}
