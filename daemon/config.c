/* SPDX-License-Identifier: GPL-2.0-only */
#include <fcntl.h>
#include <stdarg.h>

#include "config.h"
#include "parse-util.h"
#include "util.h"

void config_init_default(struct config *c) {
	*c = (struct config) {
		.sample_interval_usec = USEC_PER_SEC,
		.rescan_interval_usec = 10 * USEC_PER_SEC,
		.sample_budget_pages_per_sec = SAMPLE_BUDGET_DEFAULT,
		.max_reply_bytes = MAX_REPLY_BYTES_DEFAULT,
	};
}

static void track_rule_done(struct track_rule *r) {
	free(r->unit);
	free(r->cgroup);
	free(r->comm);
	free(r->exe);
	free(r->backend);
}

void config_done(struct config *c) {
	free(c->backend);
	for (size_t i = 0; i < c->n_rules; i++)
		track_rule_done(&c->rules[i]);
	free(c->rules);
	*c = (struct config) {};
}

enum section { SECTION_NONE, SECTION_DAEMON, SECTION_TRACK };

struct parser {
	const char *name;
	unsigned line;
	char *error;
	enum section section;
	unsigned seen;		/* bit per key of the current section: duplicates are errors */
	bool seen_daemon;
	struct config cfg;
};

static int fail(struct parser *p, const char *format, ...) _printf_(2, 3);
static int fail(struct parser *p, const char *format, ...) {
	_cleanup_free_ char *msg = NULL;
	va_list ap;

	va_start(ap, format);
	if (vasprintf(&msg, format, ap) < 0)
		msg = NULL;
	va_end(ap);

	if (asprintf(&p->error, "%s:%u: %s", p->name, p->line, msg ?: "out of memory") < 0)
		p->error = NULL;
	return -EINVAL;
}

static int mark_seen(struct parser *p, unsigned bit, const char *key) {
	if (p->seen & (1u << bit))
		return fail(p, "duplicate key %s in this section", key);
	p->seen |= 1u << bit;
	return 0;
}

static int set_string(struct parser *p, char **field, const char *value) {
	*field = strdup(value);
	return *field ? 0 : -ENOMEM;
}

/* ", pagemap-ioctl, clear-refs or faults-only": the table's names, for messages. */
static const char *backend_names_list(void) {
	static char buf[256];
	size_t len = 0;

	buf[0] = 0;
	for (size_t i = 0; i < backend_table_len && len < sizeof(buf); i++)
		len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%s%s", i + 1 == backend_table_len ? " or " : ", ",
					 backend_table[i]->name);
	return buf;
}

static int parse_daemon_key(struct parser *p, const char *key, const char *value) {
	static const char *const keys[] = { "SampleIntervalSec", "RescanIntervalSec", "Backend", "ReadAccess",
					    "SampleBudgetPagesPerSec", "MaxReplyBytes" };
	uint64_t usec, n;
	int r;

	for (unsigned i = 0; i < ELEMENTSOF(keys); i++)
		if (streq(key, keys[i])) {
			r = mark_seen(p, i, key);
			if (r < 0)
				return r;
			break;
		}

	if (streq(key, "SampleIntervalSec") || streq(key, "RescanIntervalSec")) {
		if (parse_time_usec(value, &usec) < 0)
			return fail(p, "invalid time '%s' for %s (expected e.g. 1s, 500ms, 2min)", value, key);
		if (usec < SAMPLE_INTERVAL_MIN_USEC || usec > SAMPLE_INTERVAL_MAX_USEC)
			return fail(p, "%s=%s is out of range (10ms to 1h)", key, value);
		if (streq(key, "SampleIntervalSec"))
			p->cfg.sample_interval_usec = usec;
		else
			p->cfg.rescan_interval_usec = usec;
		return 0;
	}

	if (streq(key, "Backend")) {
		if (streq(value, "auto"))
			return 0;
		if (backend_from_name(value) < 0)
			return fail(p, "unknown Backend=%s (expected auto%s)", value, backend_names_list());
		return set_string(p, &p->cfg.backend, value);
	}

	if (streq(key, "SampleBudgetPagesPerSec")) {
		if (safe_atou64(value, &n) < 0 || n < 1 || n > SAMPLE_BUDGET_MAX)
			return fail(p, "invalid SampleBudgetPagesPerSec=%s (expected 1 to %" PRIu64 ")", value,
				    (uint64_t) SAMPLE_BUDGET_MAX);
		p->cfg.sample_budget_pages_per_sec = n;
		return 0;
	}

	if (streq(key, "MaxReplyBytes")) {
		if (parse_size_bytes(value, &n) < 0 || n < MAX_REPLY_BYTES_MIN || n > MAX_REPLY_BYTES_MAX)
			return fail(p, "invalid MaxReplyBytes=%s (expected a size from 4K to 128M)", value);
		p->cfg.max_reply_bytes = n;
		return 0;
	}

	if (streq(key, "ReadAccess")) {
		if (streq(value, "all"))
			p->cfg.read_access = READ_ACCESS_ALL;
		else if (streq(value, "owner"))
			p->cfg.read_access = READ_ACCESS_OWNER;
		else
			return fail(p, "unknown ReadAccess=%s (expected all or owner)", value);
		return 0;
	}

	return fail(p, "unknown key %s in [Daemon]", key);
}

static int parse_track_key(struct parser *p, const char *key, const char *value) {
	static const char *const keys[] = { "Unit", "CGroup", "Comm", "Exe", "UID", "MinResidentBytes", "Backend" };
	struct track_rule *rule = &p->cfg.rules[p->cfg.n_rules - 1];
	unsigned i;
	int r;

	for (i = 0; i < ELEMENTSOF(keys); i++)
		if (streq(key, keys[i]))
			break;
	if (i == ELEMENTSOF(keys))
		return fail(p, "unknown key %s in [Track] (expected Unit, CGroup, Comm, Exe, UID, MinResidentBytes "
			    "or Backend)", key);
	r = mark_seen(p, i, key);
	if (r < 0)
		return r;

	switch (i) {
	case 0:
		return set_string(p, &rule->unit, value);
	case 1:
		if (value[0] != '/')
			return fail(p, "CGroup=%s is not an absolute cgroup path", value);
		return set_string(p, &rule->cgroup, value);
	case 2:
		return set_string(p, &rule->comm, value);
	case 3:
		return set_string(p, &rule->exe, value);
	case 4: {
		uint32_t uid;

		if (safe_atou32(value, &uid) < 0 || uid == UINT32_MAX)
			return fail(p, "invalid UID=%s (expected a number)", value);
		rule->have_uid = true;
		rule->uid = uid;
		return 0;
	}
	case 5:
		if (parse_size_bytes(value, &rule->min_resident_bytes) < 0)
			return fail(p, "invalid size '%s' for MinResidentBytes (expected e.g. 4096, 64K, 1G)", value);
		return 0;
	default:
		/* No "auto" here: without Backend= a rule's processes get the default. */
		if (backend_from_name(value) < 0)
			return fail(p, "unknown Backend=%s in [Track] (expected %s)", value,
				    backend_names_list() + strlen(", "));
		return set_string(p, &rule->backend, value);
	}
}

static bool track_rule_empty(const struct track_rule *r) {
	return !r->unit && !r->cgroup && !r->comm && !r->exe && !r->have_uid && r->min_resident_bytes == 0;
}

/* A rule without conditions would track every process on the machine
 * (Backend= is not a condition: it says how, not which). */
static int finish_section(struct parser *p) {
	if (p->section == SECTION_TRACK && track_rule_empty(&p->cfg.rules[p->cfg.n_rules - 1])) {
		p->line = p->cfg.rules[p->cfg.n_rules - 1].line;
		return fail(p, "[Track] section has no conditions; it would track every process");
	}
	return 0;
}

static int parse_section(struct parser *p, char *line) {
	size_t len = strlen(line);
	int r;

	if (line[len - 1] != ']')
		return fail(p, "section header without closing ']'");
	line[len - 1] = 0;

	r = finish_section(p);
	if (r < 0)
		return r;
	p->seen = 0;

	if (streq(line + 1, "Daemon")) {
		if (p->seen_daemon)
			return fail(p, "duplicate [Daemon] section");
		p->seen_daemon = true;
		p->section = SECTION_DAEMON;
		return 0;
	}
	if (streq(line + 1, "Track")) {
		struct track_rule *rules = realloc(p->cfg.rules, (p->cfg.n_rules + 1) * sizeof(*rules));

		if (!rules)
			return -ENOMEM;
		p->cfg.rules = rules;
		p->cfg.rules[p->cfg.n_rules++] = (struct track_rule) { .line = p->line };
		p->section = SECTION_TRACK;
		return 0;
	}
	return fail(p, "unknown section [%s] (expected [Daemon] or [Track])", line + 1);
}

static int parse_line(struct parser *p, char *raw) {
	char *line = strstrip(raw), *eq, *key, *value;

	if (!*line || *line == '#' || *line == ';')
		return 0;
	if (*line == '[')
		return parse_section(p, line);

	eq = strchr(line, '=');
	if (!eq)
		return fail(p, "expected KEY=VALUE, a [Section] or a # comment");
	*eq = 0;
	key = strstrip(line);
	value = strstrip(eq + 1);
	if (!*key)
		return fail(p, "missing key before '='");
	if (!*value)
		return fail(p, "empty value for %s", key);

	switch (p->section) {
	case SECTION_DAEMON:
		return parse_daemon_key(p, key, value);
	case SECTION_TRACK:
		return parse_track_key(p, key, value);
	default:
		return fail(p, "%s= outside of a section (put it under [Daemon] or [Track])", key);
	}
}

int config_parse(const char *text, const char *name, struct config *ret, char **ret_error) {
	_cleanup_free_ char *copy = strdup(text);
	struct parser p = { .name = name };
	char *line, *next;
	int r = 0;

	if (!copy)
		return -ENOMEM;
	config_init_default(&p.cfg);

	for (line = copy; line && r >= 0; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		p.line++;
		r = parse_line(&p, line);
	}
	if (r >= 0)
		r = finish_section(&p);

	if (r < 0) {
		config_done(&p.cfg);
		if (r == -ENOMEM && !p.error)
			return -ENOMEM;
		*ret_error = TAKE_PTR(p.error);
		return r;
	}

	*ret = p.cfg;
	return 0;
}

int config_load(const char *path, struct config *ret, bool *ret_missing, char **ret_error) {
	_cleanup_free_ char *text = NULL;
	size_t size;
	int r;

	r = read_full_file_at(AT_FDCWD, path, &text, &size);
	if (r == -ENOENT) {
		config_init_default(ret);
		*ret_missing = true;
		return 0;
	}
	if (r < 0) {
		if (asprintf(ret_error, "%s: cannot read: %s", path, strerror(-r)) < 0)
			return -ENOMEM;
		return r;
	}
	if (strlen(text) != size) {
		if (asprintf(ret_error, "%s: contains a NUL byte; not a text file", path) < 0)
			return -ENOMEM;
		return -EINVAL;
	}

	*ret_missing = false;
	return config_parse(text, path, ret, ret_error);
}
