/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The columns of the process tables (`list`, `watch`, `top`): their
 * headings, how a cell reads, how they sort, and which give way first when
 * the terminal is narrow.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "daemon-info.h"
#include "format.h"

typedef enum Column {
	COLUMN_PID,
	COLUMN_COMM,
	COLUMN_RATE,
	COLUMN_AVG10,
	COLUMN_AVG60,
	COLUMN_AVG300,
	COLUMN_FAULTS,
	COLUMN_RESIDENT,
	COLUMN_BACKEND,
	COLUMN_UNIT,
	_COLUMN_MAX,
	_COLUMN_INVALID = -1,
} Column;

typedef struct ColumnInfo {
	const char *heading;
	const char *name;	/* for --order= */
	int key;		/* top's sort key */
	bool numeric;		/* right-aligned; sorts descending first */
	const char *description;	/* for top's help */
} ColumnInfo;

extern const ColumnInfo columns[_COLUMN_MAX];

Column column_from_name(const char *name);
/* Rates, faults and sizes sort largest first; PID and text in ascending order. */
bool column_descending_first(Column c);
Column column_from_key(int key);

/* The cell's text (in buf, FORMAT_MAX bytes). */
const char *column_cell(Column c, const ProcessInfo *p, char buf[static FORMAT_MAX]);

/* Sorts by column c (descending or not), NaN and empty last either way,
 * then by PID. */
void columns_sort(ProcessInfo **items, size_t n, Column c, bool descending);

/* Which columns fit in width terminal columns (one space between two), and
 * how wide: natural[] are the widest cells (headings included) of the
 * wanted columns, 0 for unwanted ones. out[] gets each column's width, 0
 * when it is left out. UNIT is cut (to COLUMN_MIN_TEXT) first; then UNIT,
 * BACKEND, AVG300, RESIDENT, AVG10, FAULTS/s and AVG60 go, in that order,
 * but never the sort column; COMM is cut only when that is not enough.
 * PID, COMM and DIRTY/s always stay. Returns the width of a row, which is
 * wider than width only when those alone are. */
#define COLUMN_MIN_TEXT 8
size_t columns_layout(const size_t natural[_COLUMN_MAX], Column sort, size_t width, size_t out[_COLUMN_MAX]);
