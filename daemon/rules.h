/* SPDX-License-Identifier: GPL-2.0-only */
/* Matching processes against the config's [Track] rules. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

/* What a rule can look at; fields a rule does not use may be NULL. */
struct proc_facts {
	const char *comm;
	const char *exe;
	const char *cgroup;
	const char *unit;
	uid_t uid;
	uint64_t resident_bytes;
};

/* Which facts some rule needs, so a rescan reads only those. */
struct facts_needed {
	bool exe, cgroup;
};

void rules_facts_needed(const struct config *c, struct facts_needed *ret);

/* Every condition of the rule holds (a missing fact fails its condition). */
bool rule_matches(const struct track_rule *rule, const struct proc_facts *f);
/* Some rule matches; *ret_line is that rule's line for logs. */
bool rules_match(const struct config *c, const struct proc_facts *f, unsigned *ret_line);
/*
 * The rule whose Backend= measures a process the rules track: the first
 * matching rule that has Backend= (a rule without it does not choose);
 * NULL if none has: the default backend.
 */
const struct track_rule *rules_backend_rule(const struct config *c, const struct proc_facts *f);

/* "/a/b" matches "/a/b" and "/a/b/c" but not "/a/bc"; "/" matches all. */
bool cgroup_has_prefix(const char *path, const char *prefix);
