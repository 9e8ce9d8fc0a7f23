/* SPDX-License-Identifier: GPL-2.0-only */
#include <fnmatch.h>
#include <string.h>

#include "rules.h"

void rules_facts_needed(const struct config *c, struct facts_needed *ret) {
	*ret = (struct facts_needed) {};
	for (size_t i = 0; i < c->n_rules; i++) {
		ret->exe = ret->exe || c->rules[i].exe;
		ret->cgroup = ret->cgroup || c->rules[i].cgroup || c->rules[i].unit;
	}
}

bool cgroup_has_prefix(const char *path, const char *prefix) {
	size_t l = strlen(prefix);

	while (l > 1 && prefix[l - 1] == '/')
		l--; /* "/a/" means "/a" */
	if (l == 1 && prefix[0] == '/')
		return path[0] == '/';
	return strncmp(path, prefix, l) == 0 && (path[l] == 0 || path[l] == '/');
}

static bool glob_matches(const char *pattern, const char *s) {
	return s && fnmatch(pattern, s, 0) == 0;
}

bool rule_matches(const struct track_rule *rule, const struct proc_facts *f) {
	if (rule->comm && !glob_matches(rule->comm, f->comm))
		return false;
	if (rule->exe && !glob_matches(rule->exe, f->exe))
		return false;
	if (rule->unit && !glob_matches(rule->unit, f->unit))
		return false;
	if (rule->cgroup && !(f->cgroup && cgroup_has_prefix(f->cgroup, rule->cgroup)))
		return false;
	if (rule->have_uid && rule->uid != f->uid)
		return false;
	if (f->resident_bytes < rule->min_resident_bytes)
		return false;
	return true;
}

bool rules_match(const struct config *c, const struct proc_facts *f, unsigned *ret_line) {
	for (size_t i = 0; i < c->n_rules; i++)
		if (rule_matches(&c->rules[i], f)) {
			if (ret_line)
				*ret_line = c->rules[i].line;
			return true;
		}
	return false;
}

const struct track_rule *rules_backend_rule(const struct config *c, const struct proc_facts *f) {
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].backend && rule_matches(&c->rules[i], f))
			return &c->rules[i];
	return NULL;
}
