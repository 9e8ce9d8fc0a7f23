/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "config.h"
#include "parse-util.h"
#include "tests.h"
#include "util.h"

TEST(test_defaults) {
	struct config c;
	char *error = NULL;

	ASSERT_EQ(config_parse("", "x.conf", &c, &error), 0);
	ASSERT_EQ_U64(c.sample_interval_usec, USEC_PER_SEC);
	ASSERT_EQ_U64(c.rescan_interval_usec, 10 * USEC_PER_SEC);
	ASSERT_TRUE(!c.backend); /* auto */
	ASSERT_EQ(c.read_access, READ_ACCESS_ALL);
	ASSERT_EQ_U64(c.max_reply_bytes, 32 << 20);
	ASSERT_EQ(c.n_rules, 0);
	config_done(&c);
}

TEST(test_full_config) {
	static const char text[] =
		"# comment\n"
		"; another comment\n"
		"\n"
		"[Daemon]\n"
		"SampleIntervalSec = 250ms\n"
		"RescanIntervalSec=2min\n"
		"Backend=clear-refs\n"
		"ReadAccess=owner\n"
		"SampleBudgetPagesPerSec=4096\n"
		"MaxReplyBytes=64M\n"
		"[Track]\n"
		"Unit=postgresql@*.service\n"
		"MinResidentBytes=64M\n"
		"[Track]\n"
		"  Comm=redis-server  \r\n"
		"UID=1000\n"
		"CGroup=/machine.slice\n"
		"Exe=/usr/bin/qemu-system-*\n"
		"Backend=faults-only\n";
	struct config c;
	char *error = NULL;

	ASSERT_EQ(config_parse(text, "x.conf", &c, &error), 0);
	ASSERT_EQ_U64(c.sample_interval_usec, 250 * USEC_PER_MSEC);
	ASSERT_EQ_U64(c.rescan_interval_usec, 120 * USEC_PER_SEC);
	ASSERT_STREQ(c.backend, "clear-refs");
	ASSERT_EQ(c.read_access, READ_ACCESS_OWNER);
	ASSERT_EQ_U64(c.sample_budget_pages_per_sec, 4096);
	ASSERT_EQ_U64(c.max_reply_bytes, 64 << 20);
	ASSERT_EQ(c.n_rules, 2);
	ASSERT_EQ(c.rules[0].line, 11);
	ASSERT_STREQ(c.rules[0].unit, "postgresql@*.service");
	ASSERT_EQ_U64(c.rules[0].min_resident_bytes, 64 * 1024 * 1024);
	ASSERT_TRUE(!c.rules[0].have_uid && !c.rules[0].comm);
	ASSERT_TRUE(!c.rules[0].backend); /* the default */
	ASSERT_STREQ(c.rules[1].comm, "redis-server");
	ASSERT_TRUE(c.rules[1].have_uid);
	ASSERT_EQ(c.rules[1].uid, 1000);
	ASSERT_STREQ(c.rules[1].cgroup, "/machine.slice");
	ASSERT_STREQ(c.rules[1].exe, "/usr/bin/qemu-system-*");
	ASSERT_STREQ(c.rules[1].backend, "faults-only");
	config_done(&c);
}

/* Backend= in [Track]: every name of the table, each rule its own. */
TEST(test_track_backend) {
	for (size_t i = 0; i < backend_table_len; i++) {
		_cleanup_free_ char *text = NULL;
		struct config c;
		char *error = NULL;

		ASSERT_TRUE(asprintf(&text, "[Track]\nComm=a\nBackend=%s\n[Track]\nComm=b\n",
				     backend_table[i]->name) > 0);
		ASSERT_EQ(config_parse(text, "x.conf", &c, &error), 0);
		ASSERT_EQ(c.n_rules, 2);
		ASSERT_STREQ(c.rules[0].backend, backend_table[i]->name);
		ASSERT_TRUE(!c.rules[1].backend);
		ASSERT_TRUE(!c.backend); /* the [Daemon] default is another key */
		config_done(&c);
	}
}

/* Comments are whole lines: ';' and '#' inside a value are the value's
 * (a glob may hold either), where an INI library would cut it short. */
TEST(test_comment_characters_in_values) {
	struct config c;
	char *error = NULL;

	ASSERT_EQ(config_parse("[Track]\nComm=a;b # c\nExe=/opt/#x;y\n", "x.conf", &c, &error), 0);
	ASSERT_EQ(c.n_rules, 1);
	ASSERT_STREQ(c.rules[0].comm, "a;b # c");
	ASSERT_STREQ(c.rules[0].exe, "/opt/#x;y");
	config_done(&c);
}

static void expect_error(const char *text, const char *expected_prefix, const char *expected_part) {
	struct config c = { .n_rules = 12345 };
	char *error = NULL;

	ASSERT_EQ(config_parse(text, "/etc/d.conf", &c, &error), -EINVAL);
	ASSERT_TRUE(error);
	if (strncmp(error, expected_prefix, strlen(expected_prefix)) != 0 || !strstr(error, expected_part))
		FAIL("error \"%s\", expected \"%s...%s...\"", error, expected_prefix, expected_part);
	ASSERT_EQ(c.n_rules, 12345); /* untouched */
	free(error);
}

TEST(test_each_bad_case) {
	expect_error("Backend=auto\n", "/etc/d.conf:1: ", "outside of a section");
	expect_error("[Daemon]\nfoo\n", "/etc/d.conf:2: ", "expected KEY=VALUE");
	expect_error("[Daemon]\n=1s\n", "/etc/d.conf:2: ", "missing key");
	expect_error("[Daemon]\nBackend=\n", "/etc/d.conf:2: ", "empty value for Backend");
	expect_error("[Daemon\n", "/etc/d.conf:1: ", "without closing");
	expect_error("[Deamon]\n", "/etc/d.conf:1: ", "unknown section [Deamon]");
	expect_error("[Daemon]\n[Daemon]\n", "/etc/d.conf:2: ", "duplicate [Daemon]");
	expect_error("[Daemon]\nSampleInterval=1s\n", "/etc/d.conf:2: ", "unknown key SampleInterval in [Daemon]");
	expect_error("[Daemon]\nSampleIntervalSec=fast\n", "/etc/d.conf:2: ", "invalid time 'fast'");
	expect_error("[Daemon]\nSampleIntervalSec=1fortnight\n", "/etc/d.conf:2: ", "invalid time");
	expect_error("[Daemon]\nSampleIntervalSec=1ms\n", "/etc/d.conf:2: ", "out of range");
	expect_error("[Daemon]\nRescanIntervalSec=2h\n", "/etc/d.conf:2: ", "out of range");
	expect_error("[Daemon]\nSampleIntervalSec=99999999999999999999\n", "/etc/d.conf:2: ", "invalid time");
	expect_error("[Daemon]\nSampleIntervalSec=1s\nSampleIntervalSec=2s\n", "/etc/d.conf:3: ", "duplicate key");
	expect_error("[Daemon]\nBackend=magic\n", "/etc/d.conf:2: ",
		     "unknown Backend=magic (expected auto, pagemap-ioctl, clear-refs, page-sampling or faults-only)");
	expect_error("[Daemon]\nReadAccess=some\n", "/etc/d.conf:2: ", "unknown ReadAccess=some (expected all or owner)");
	expect_error("[Daemon]\nReadAccess=owner\nReadAccess=all\n", "/etc/d.conf:3: ", "duplicate key ReadAccess");
	expect_error("[Daemon]\nSampleBudgetPagesPerSec=0\n", "/etc/d.conf:2: ", "invalid SampleBudgetPagesPerSec=0");
	expect_error("[Daemon]\nSampleBudgetPagesPerSec=1k\n", "/etc/d.conf:2: ", "invalid SampleBudgetPagesPerSec=1k");
	expect_error("[Daemon]\nMaxReplyBytes=1K\n", "/etc/d.conf:2: ", "invalid MaxReplyBytes=1K (expected a size from 4K to 128M)");
	expect_error("[Daemon]\nMaxReplyBytes=129M\n", "/etc/d.conf:2: ", "invalid MaxReplyBytes=129M");
	expect_error("[Daemon]\nMaxReplyBytes=lots\n", "/etc/d.conf:2: ", "invalid MaxReplyBytes=lots");
	expect_error("[Track]\nComm=x\nColour=red\n", "/etc/d.conf:3: ", "unknown key Colour in [Track]");
	expect_error("[Track]\nComm=a\nComm=b\n", "/etc/d.conf:3: ", "duplicate key Comm");
	expect_error("[Track]\nUID=root\n", "/etc/d.conf:2: ", "invalid UID=root");
	expect_error("[Track]\nUID=-1\n", "/etc/d.conf:2: ", "invalid UID");
	expect_error("[Track]\nUID=4294967295\n", "/etc/d.conf:2: ", "invalid UID");
	expect_error("[Track]\nCGroup=system.slice\n", "/etc/d.conf:2: ", "not an absolute");
	expect_error("[Track]\nMinResidentBytes=lots\n", "/etc/d.conf:2: ", "invalid size");
	expect_error("[Track]\nMinResidentBytes=1T\n", "/etc/d.conf:2: ", "invalid size");
	expect_error("[Daemon]\nSampleIntervalSec=2s\n[Track]\nComm=x\nBackend=magic\n[Track]\nComm=y\n",
		     "/etc/d.conf:5: ",
		     "unknown Backend=magic in [Track] (expected pagemap-ioctl, clear-refs, page-sampling or faults-only)");
	/* "auto" is the [Daemon] key's; a rule says auto by leaving Backend= out. */
	expect_error("[Track]\nComm=x\nBackend=auto\n", "/etc/d.conf:3: ", "unknown Backend=auto in [Track]");
	expect_error("[Track]\nComm=x\nBackend=\n", "/etc/d.conf:3: ", "empty value for Backend");
	expect_error("[Track]\nComm=x\nBackend=faults-only\nBackend=clear-refs\n", "/etc/d.conf:4: ",
		     "duplicate key Backend");
	/* Backend= is not a condition: alone it would still track every process. */
	expect_error("[Track]\nBackend=faults-only\n", "/etc/d.conf:1: ", "no conditions");
	/* An empty rule would select everything; its header line is named. */
	expect_error("[Daemon]\n\n[Track]\n# nothing\n", "/etc/d.conf:3: ", "no conditions");
	expect_error("[Track]\n[Track]\nComm=x\n", "/etc/d.conf:1: ", "no conditions");
}

TEST(test_time_and_size_units) {
	uint64_t v;

	ASSERT_EQ(parse_time_usec("2", &v), 0);
	ASSERT_EQ_U64(v, 2 * USEC_PER_SEC);
	ASSERT_EQ(parse_time_usec("1500us", &v), 0);
	ASSERT_EQ_U64(v, 1500);
	ASSERT_EQ(parse_time_usec("1h", &v), 0);
	ASSERT_EQ_U64(v, 3600 * USEC_PER_SEC);
	ASSERT_EQ(parse_time_usec("1 s", &v), -EINVAL);
	ASSERT_EQ(parse_time_usec("-1s", &v), -EINVAL);
	ASSERT_EQ(parse_size_bytes("4K", &v), 0);
	ASSERT_EQ_U64(v, 4096);
	ASSERT_EQ(parse_size_bytes("2GB", &v), 0);
	ASSERT_EQ_U64(v, UINT64_C(2) << 30);
	ASSERT_EQ(parse_size_bytes("18446744073709551615G", &v), -ERANGE);
}

TEST(test_load_missing_and_unreadable) {
	char dir[] = "/tmp/test-config-XXXXXX", path[64];
	struct config c;
	char *error = NULL;
	bool missing = false;
	int fd;

	ASSERT_TRUE(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/none.conf", dir);
	ASSERT_EQ(config_load(path, &c, &missing, &error), 0);
	ASSERT_TRUE(missing);
	ASSERT_EQ_U64(c.sample_interval_usec, USEC_PER_SEC);
	config_done(&c);

	snprintf(path, sizeof(path), "%s/nul.conf", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ASSERT_TRUE(fd >= 0);
	ASSERT_EQ(write(fd, "[Daemon]\n\0", 10), 10);
	close(fd);
	ASSERT_EQ(config_load(path, &c, &missing, &error), -EINVAL);
	ASSERT_TRUE(strstr(error, "NUL byte"));
	free(error);
	error = NULL;
	unlink(path);

	/* A directory where the file should be: unreadable, an error. */
	snprintf(path, sizeof(path), "%s/dir.conf", dir);
	ASSERT_EQ(mkdir(path, 0755), 0);
	ASSERT_TRUE(config_load(path, &c, &missing, &error) < 0);
	ASSERT_TRUE(error && strstr(error, "cannot read"));
	free(error);
	rmdir(path);
	rmdir(dir);
}

int main(void) {
	RUN(test_defaults);
	RUN(test_full_config);
	RUN(test_track_backend);
	RUN(test_comment_characters_in_values);
	RUN(test_each_bad_case);
	RUN(test_time_and_size_units);
	RUN(test_load_missing_and_unreadable);
	return 0;
}
