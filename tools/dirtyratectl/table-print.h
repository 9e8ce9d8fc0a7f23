/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Process tables as lines of text (`list`, `watch`, `top --batch`): every
 * column on a pipe, as many as fit on a terminal, as systemd's tables do.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "columns.h"

/* For a table printed again and again under one set of headings (`watch`):
 * columns never narrow, and the headings come again when one widens. */
typedef struct TableHistory {
	size_t widths[_COLUMN_MAX];
	bool printed;
} TableHistory;

typedef struct TableStyle {
	bool wanted[_COLUMN_MAX];
	Column sort;		/* the one column a narrow width keeps */
	size_t width;		/* 0: no limit */
	bool legend;		/* print the headings */
	bool color;		/* underline the headings (a terminal) */
	const char *prefix_heading, *prefix;	/* a first column, e.g. TIME */
	TableHistory *history;	/* NULL: headings every time */
} TableStyle;

/* Every column on a pipe, none cut; on a terminal, its width, with colour
 * unless NO_COLOR= or SYSTEMD_COLORS=0 says otherwise or TERM is dumb. */
void table_style_init(TableStyle *s);

void table_print(FILE *f, ProcessInfo *const *rows, size_t n, const TableStyle *s);

/* The widest cell (heading included) of each wanted column over rows, at
 * least what natural[] holds already (0 for the columns not wanted). */
void table_natural_widths(ProcessInfo *const *rows, size_t n, const bool wanted[_COLUMN_MAX],
			  size_t natural[_COLUMN_MAX]);
/* One line of the table in buf: the headings (p NULL) or p's cells, in
 * widths (0: left out), cut with an ellipsis where too long. */
void table_format_line(char *buf, size_t size, const ProcessInfo *p, const size_t widths[_COLUMN_MAX]);
/* Where column c begins in such a line, in terminal columns. */
size_t table_column_offset(const size_t widths[_COLUMN_MAX], Column c);

/* Notes whether stdout is a terminal, and its width, before a pager takes
 * it: what goes through the pager is laid out for that terminal. */
void terminal_init(void);
/* Whether stdout is a terminal that may get colour, as systemd decides. */
bool colors_enabled(void);
/* Terminal columns of stdout; 0 when it is not a terminal. */
size_t terminal_width(void);
