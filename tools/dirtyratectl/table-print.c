/* SPDX-License-Identifier: GPL-2.0-only */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "table-print.h"
#include "util.h"

#define ANSI_UNDERLINE "\x1b[4m"
#define ANSI_NORMAL "\x1b[0m"

static int stdout_tty = -1;
static size_t stdout_width;

void terminal_init(void) {
	struct winsize ws;
	const char *e;

	stdout_tty = isatty(STDOUT_FILENO);
	stdout_width = 0;
	if (!stdout_tty)
		return;
	/* COLUMNS= overrides, as for systemd's tools. */
	e = getenv("COLUMNS");
	if (e && atoi(e) > 0)
		stdout_width = (size_t) atoi(e);
	else if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_col > 0)
		stdout_width = ws.ws_col;
	else
		stdout_width = 80;
}

bool colors_enabled(void) {
	const char *e;

	if (stdout_tty < 0)
		terminal_init();
	if (!stdout_tty)
		return false;
	e = getenv("SYSTEMD_COLORS");
	if (e)
		return !streq(e, "0") && !streq(e, "false") && !streq(e, "no");
	if (getenv("NO_COLOR"))
		return false;
	e = getenv("TERM");
	return !e || !streq(e, "dumb");
}

size_t terminal_width(void) {
	if (stdout_tty < 0)
		terminal_init();
	return stdout_width;
}

void table_style_init(TableStyle *s) {
	*s = (TableStyle) { .sort = COLUMN_PID, .legend = true };
	for (Column c = 0; c < _COLUMN_MAX; c++)
		s->wanted[c] = true;
	s->width = terminal_width();
	s->color = colors_enabled();
}

void table_natural_widths(ProcessInfo *const *rows, size_t n, const bool wanted[_COLUMN_MAX],
			  size_t natural[_COLUMN_MAX]) {
	char buf[FORMAT_MAX];

	for (Column c = 0; c < _COLUMN_MAX; c++) {
		if (!wanted[c]) {
			natural[c] = 0;
			continue;
		}
		natural[c] = MAX(natural[c], text_width(columns[c].heading));
		for (size_t i = 0; i < n; i++)
			natural[c] = MAX(natural[c], text_width(column_cell(c, rows[i], buf)));
	}
}

static Column last_column(const size_t widths[_COLUMN_MAX]) {
	Column last = _COLUMN_INVALID;

	for (Column c = 0; c < _COLUMN_MAX; c++)
		if (widths[c] > 0)
			last = c;
	return last;
}

size_t table_column_offset(const size_t widths[_COLUMN_MAX], Column c) {
	size_t offset = 0;

	for (Column i = 0; i < c; i++)
		if (widths[i] > 0)
			offset += widths[i] + 1;
	return offset;
}

void table_format_line(char *buf, size_t size, const ProcessInfo *p, const size_t widths[_COLUMN_MAX]) {
	Column last = last_column(widths);
	size_t n = 0;

	buf[0] = 0;
	for (Column c = 0; c < _COLUMN_MAX && n < size; c++) {
		char cell[FORMAT_MAX], cut[256];
		const char *text;
		size_t w, pad;

		if (widths[c] == 0)
			continue;
		text = p ? column_cell(c, p, cell) : columns[c].heading;
		if (text_width(text) > widths[c])
			text = text_ellipsize(cut, sizeof(cut), text, widths[c]);
		w = text_width(text);
		pad = widths[c] - MIN(w, widths[c]);
		/* Numbers to the right; nothing trails the last cell. */
		if (columns[c].numeric)
			n += snprintf(buf + n, size - n, "%*s%s", (int) pad, "", text);
		else
			n += snprintf(buf + n, size - n, "%s%*s", text, c == last ? 0 : (int) pad, "");
		if (c != last && n < size)
			n += snprintf(buf + n, size - n, " ");
	}
}

void table_print(FILE *f, ProcessInfo *const *rows, size_t n, const TableStyle *s) {
	size_t natural[_COLUMN_MAX] = {}, widths[_COLUMN_MAX], prefix_width = 0;
	char line[4096];
	bool legend;

	if (s->prefix)
		prefix_width = MAX(text_width(s->prefix), text_width(s->prefix_heading ?: "")) + 1;
	if (s->history)
		memcpy(natural, s->history->widths, sizeof(natural));
	table_natural_widths(rows, n, s->wanted, natural);
	/* Rates move; a digit more (9.9M, then 10.1M) would widen the column
	 * and repeat the headings: leave room for it from the start. */
	if (s->history && !s->history->printed)
		for (Column c = COLUMN_RATE; c <= COLUMN_AVG300; c++)
			if (natural[c] > 0)
				natural[c]++;
	if (s->width > prefix_width)
		columns_layout(natural, s->sort, s->width - prefix_width, widths);
	else
		memcpy(widths, natural, sizeof(widths));

	legend = s->legend;
	if (s->history) {
		legend = legend && (!s->history->printed || memcmp(widths, s->history->widths, sizeof(widths)) != 0);
		memcpy(s->history->widths, widths, sizeof(widths));
		s->history->printed = true;
	}
	if (legend) {
		table_format_line(line, sizeof(line), NULL, widths);
		fprintf(f, "%s%-*s%s%s\n", s->color ? ANSI_UNDERLINE : "", (int) prefix_width,
			s->prefix ? s->prefix_heading ?: "" : "", line, s->color ? ANSI_NORMAL : "");
	}
	for (size_t i = 0; i < n; i++) {
		table_format_line(line, sizeof(line), rows[i], widths);
		fprintf(f, "%-*s%s\n", (int) prefix_width, s->prefix ?: "", line);
	}
}
