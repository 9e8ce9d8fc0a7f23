/* SPDX-License-Identifier: GPL-2.0-only */
#include "rules.h"
#include "tests.h"

TEST(test_cgroup_prefix) {
	ASSERT_TRUE(cgroup_has_prefix("/a/b", "/a/b"));
	ASSERT_TRUE(cgroup_has_prefix("/a/b/c", "/a/b"));
	ASSERT_TRUE(cgroup_has_prefix("/a/b/c", "/a/b/"));
	ASSERT_TRUE(!cgroup_has_prefix("/a/bc", "/a/b"));
	ASSERT_TRUE(!cgroup_has_prefix("/a", "/a/b"));
	ASSERT_TRUE(cgroup_has_prefix("/anything", "/"));
}

TEST(test_rules) {
	struct track_rule rules[] = {
		{ .line = 1, .unit = (char *) "postgresql@*.service", .min_resident_bytes = 1000 },
		{ .line = 5, .comm = (char *) "redis*", .have_uid = true, .uid = 100 },
		{ .line = 9, .exe = (char *) "/usr/bin/qemu-*", .cgroup = (char *) "/machine.slice" },
	};
	struct config c = { .rules = rules, .n_rules = 3 };
	struct facts_needed need;
	unsigned line = 0;

	rules_facts_needed(&c, &need);
	ASSERT_TRUE(need.exe && need.cgroup);

	ASSERT_TRUE(rules_match(&c, &(struct proc_facts) { .comm = "postgres", .unit = "postgresql@15-main.service",
						     .resident_bytes = 5000 }, &line));
	ASSERT_EQ(line, 1);
	/* Every condition of a rule must hold. */
	ASSERT_TRUE(!rule_matches(&rules[0], &(struct proc_facts) { .unit = "postgresql@15-main.service", .resident_bytes = 999 }));
	ASSERT_TRUE(!rule_matches(&rules[1], &(struct proc_facts) { .comm = "redis-server", .uid = 0 }));
	ASSERT_TRUE(rules_match(&c, &(struct proc_facts) { .comm = "redis-server", .uid = 100 }, &line));
	ASSERT_EQ(line, 5);
	ASSERT_TRUE(rules_match(&c, &(struct proc_facts) { .exe = "/usr/bin/qemu-system-x86_64",
						     .cgroup = "/machine.slice/machine-a.scope" }, &line));
	ASSERT_EQ(line, 9);
	/* A fact we could not read fails its condition. */
	ASSERT_TRUE(!rules_match(&c, &(struct proc_facts) { .cgroup = "/machine.slice/x" }, NULL));
	ASSERT_TRUE(!rules_match(&c, &(struct proc_facts) { .comm = "bash" }, NULL));

	c.n_rules = 0;
	ASSERT_TRUE(!rules_match(&c, &(struct proc_facts) { .comm = "redis" }, NULL));
}

/* Backend=: the first matching rule that has it decides; rules without it do not choose. */
TEST(test_backend_rule) {
	struct track_rule rules[] = {
		{ .line = 1, .comm = (char *) "db-*" },
		{ .line = 4, .comm = (char *) "db-secrets", .backend = (char *) "faults-only" },
		{ .line = 8, .comm = (char *) "db-*", .backend = (char *) "page-sampling" },
		{ .line = 12, .comm = (char *) "web", .backend = (char *) "clear-refs" },
	};
	struct config c = { .rules = rules, .n_rules = 4 };

	ASSERT_TRUE(rules_backend_rule(&c, &(struct proc_facts) { .comm = "db-secrets" }) == &rules[1]);
	ASSERT_TRUE(rules_backend_rule(&c, &(struct proc_facts) { .comm = "db-main" }) == &rules[2]);
	ASSERT_TRUE(rules_backend_rule(&c, &(struct proc_facts) { .comm = "web" }) == &rules[3]);
	ASSERT_TRUE(!rules_backend_rule(&c, &(struct proc_facts) { .comm = "bash" }));
	c.n_rules = 1; /* only a rule without Backend= matches: the default */
	ASSERT_TRUE(!rules_backend_rule(&c, &(struct proc_facts) { .comm = "db-main" }));
}

int main(void) {
	RUN(test_cgroup_prefix);
	RUN(test_rules);
	RUN(test_backend_rule);
	return 0;
}
