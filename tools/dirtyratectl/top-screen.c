/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * top's full-screen view, with ncurses: the header, a status line, and the
 * table, sorted by a column the keys choose (as systemd-cgtop's). ncurses
 * sends a terminal only what changed since the last refresh, which keeps an
 * SSH session light; terminfo knows the terminal, so nothing here writes an
 * escape sequence itself.
 */
#include <curses.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "args.h"
#include "table-print.h"
#include "top.h"
#include "util.h"

/* Rows above the table: the header, the status line, the headings. */
#define FIRST_ROW (TOP_HEADER_LINES + 2)

typedef struct Screen {
	SCREEN *screen;
	sd_event_source *input, *winch;

	bool help;
	/* Paused: what was shown when space was pressed, shown until the next
	 * one; the live copy goes on following the bus meanwhile. */
	bool paused;
	ManagerInfo paused_manager;
	ProcessTable paused_processes;
	double paused_cpu_percent;

	size_t offset;			/* first row shown */
	size_t widths[_COLUMN_MAX];	/* columns only widen, until a resize */
	char message[128];		/* for the status line, until the next key */
} Screen;

/* s in row y, cut to the screen's width with an ellipsis: an addstr past
 * the right margin would wrap into the next row. */
static void put_line(int y, const char *s, attr_t attr) {
	char buf[4096];

	if (y >= LINES)
		return;
	if (text_width(s) > (size_t) COLS)
		s = text_ellipsize(buf, sizeof(buf), s, COLS);
	attrset(attr);
	mvaddstr(y, 0, s);
	attrset(A_NORMAL);
}

static void draw_help(void) {
	static const char *const moves[] = {
		"  < >        sort by the column to the left / right",
		"  R          reverse the order (so does the sort column's key again)",
		"  space      pause / resume the display (the data goes on updating)",
		"  Up Down PgUp PgDn Home End   scroll",
		"  Ctrl-L     redraw the screen",
		"  h ?        this help",
		"  q          quit",
	};
	char line[256];
	int y = 0;

	put_line(y++, "dirtyratectl top: keys", A_BOLD);
	y++;
	for (Column c = 0; c < _COLUMN_MAX; c++) {
		snprintf(line, sizeof(line), "  %c          sort by %s: %s", columns[c].key, columns[c].heading,
			 columns[c].description);
		put_line(y++, line, A_NORMAL);
	}
	for (size_t i = 0; i < ELEMENTSOF(moves); i++)
		put_line(y++, moves[i], A_NORMAL);
	y++;
	put_line(y, "Press any key to go back.", A_BOLD);
}

static void draw_status(Top *t, Screen *s, size_t n, size_t shown) {
	char line[256], right[64] = "";

	if (s->message[0])
		snprintf(line, sizeof(line), "%s", s->message);
	else
		snprintf(line, sizeof(line), "Sorted by %s, %s.  h: help  q: quit", columns[t->order].heading,
			 t->descending ? "descending" : "ascending");
	if (shown < n)
		snprintf(right, sizeof(right), "rows %zu-%zu of %zu", s->offset + 1, s->offset + shown, n);
	put_line(TOP_HEADER_LINES, line, s->message[0] ? A_BOLD : A_NORMAL);
	if (s->paused)
		strcat(right, right[0] ? "  PAUSED" : "PAUSED");
	if (right[0] && (size_t) COLS > text_width(line) + strlen(right) + 2) {
		attrset(s->paused ? A_REVERSE : A_NORMAL);
		mvaddstr(TOP_HEADER_LINES, COLS - (int) strlen(right), right);
		attrset(A_NORMAL);
	}
}

static void draw(Top *t, Screen *s) {
	const ProcessTable *processes = s->paused ? &s->paused_processes : &t->processes;
	char header[TOP_HEADER_LINES][TOP_HEADER_SIZE], line[4096];
	_cleanup_free_ ProcessInfo **rows = NULL;
	size_t widths[_COLUMN_MAX], visible, shown;
	bool wanted[_COLUMN_MAX];

	erase();
	if (s->help) {
		draw_help();
		refresh();
		return;
	}
	if (top_sorted(processes, t->order, t->descending, &rows) < 0) {
		put_line(0, "Out of memory.", A_BOLD);
		refresh();
		return;
	}

	top_header(s->paused ? &s->paused_manager : &t->manager, processes,
		   s->paused ? s->paused_cpu_percent : t->daemon_cpu_percent, header);
	for (size_t i = 0; i < TOP_HEADER_LINES; i++)
		put_line(i, header[i], i == 0 ? A_BOLD : A_NORMAL);

	visible = LINES > FIRST_ROW ? (size_t) (LINES - FIRST_ROW) : 0;
	s->offset = MIN(s->offset, processes->n > visible ? processes->n - visible : 0);
	shown = MIN(visible, processes->n - s->offset);
	draw_status(t, s, processes->n, shown);

	/* Widths from the rows in sight: cheap with thousands of processes. */
	for (Column c = 0; c < _COLUMN_MAX; c++)
		wanted[c] = true;
	table_natural_widths(rows + s->offset, shown, wanted, s->widths);
	columns_layout(s->widths, t->order, COLS, widths);

	table_format_line(line, sizeof(line), NULL, widths);
	if (LINES > TOP_HEADER_LINES + 1) {
		attrset(A_REVERSE);
		mvhline(TOP_HEADER_LINES + 1, 0, ' ', COLS);
		put_line(TOP_HEADER_LINES + 1, line, A_REVERSE);
		/* The sort column's heading stands out. */
		if (table_column_offset(widths, t->order) < (size_t) COLS) {
			char heading[64];
			size_t w = widths[t->order], hw = text_width(columns[t->order].heading);
			size_t x = table_column_offset(widths, t->order) + (columns[t->order].numeric && w > hw ? w - hw : 0);

			snprintf(heading, sizeof(heading), "%s", columns[t->order].heading);
			attrset(A_REVERSE | A_BOLD | A_UNDERLINE);
			mvaddnstr(TOP_HEADER_LINES + 1, (int) x, heading, (int) MIN(hw, (size_t) COLS - x));
			attrset(A_NORMAL);
		}
	}
	for (size_t i = 0; i < shown; i++) {
		table_format_line(line, sizeof(line), rows[s->offset + i], widths);
		put_line(FIRST_ROW + (int) i, line, A_NORMAL);
	}
	refresh();
}

static void toggle_pause(Top *t, Screen *s) {
	if (s->paused) {
		s->paused = false;
		manager_info_done(&s->paused_manager);
		process_table_done(&s->paused_processes);
		return;
	}
	if (manager_info_copy(&t->manager, &s->paused_manager) < 0)
		goto oom;
	if (process_table_copy(&t->processes, &s->paused_processes) < 0) {
		manager_info_done(&s->paused_manager);
		goto oom;
	}
	s->paused_cpu_percent = t->daemon_cpu_percent;
	s->paused = true;
	return;
oom:
	snprintf(s->message, sizeof(s->message), "Cannot pause: out of memory.");
}

static void set_order(Top *t, Column c) {
	if (c == t->order)
		t->descending = !t->descending;
	else {
		t->order = c;
		t->descending = column_descending_first(c);
	}
}

static void on_key(Top *t, Screen *s, int key) {
	size_t page = LINES > FIRST_ROW ? (size_t) (LINES - FIRST_ROW) : 1;
	Column c;

	if (s->help) {
		s->help = false;	/* any key goes back, and does nothing else */
		return;
	}
	s->message[0] = 0;
	switch (key) {
	case 'q':
	case 'Q':
		sd_event_exit(t->event, 0);
		return;
	case 'h':
	case '?':
		s->help = true;
		return;
	case ' ':
		toggle_pause(t, s);
		return;
	case 'R':
		t->descending = !t->descending;
		return;
	case '<':
	case '>':
		c = (Column) ((t->order + (key == '<' ? _COLUMN_MAX - 1 : 1)) % _COLUMN_MAX);
		t->order = c;
		t->descending = column_descending_first(c);
		return;
	case KEY_UP:
		s->offset -= s->offset > 0;
		return;
	case KEY_DOWN:
		s->offset++;	/* draw() keeps it in range */
		return;
	case KEY_PPAGE:
		s->offset -= MIN(s->offset, page);
		return;
	case KEY_NPAGE:
		s->offset += page;
		return;
	case KEY_HOME:
		s->offset = 0;
		return;
	case KEY_END:
		s->offset = SIZE_MAX / 2;
		return;
	case KEY_RESIZE:
		memset(s->widths, 0, sizeof(s->widths));
		return;
	case 'L' - '@':	/* Ctrl-L */
		clearok(curscr, TRUE);
		return;
	}
	c = column_from_key(key);
	if (c != _COLUMN_INVALID) {
		set_order(t, c);
		return;
	}
	snprintf(s->message, sizeof(s->message), "Unknown key '%s'; h shows the keys.", keyname(key) ?: "?");
	beep();
}

static int on_input(sd_event_source *source, int fd, uint32_t revents, void *userdata) {
	Top *t = userdata;
	Screen *s = t->view_data;
	int key;

	while ((key = getch()) != ERR)
		on_key(t, s, key);
	if (revents & (EPOLLHUP | EPOLLERR)) {
		top_fail(t, -EIO, "The terminal went away.");
		return 0;
	}
	draw(t, s);
	return 0;
}

static int on_winch(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata) {
	Top *t = userdata;
	Screen *s = t->view_data;
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) >= 0 && ws.ws_row > 0 && ws.ws_col > 0)
		resize_term(ws.ws_row, ws.ws_col);
	memset(s->widths, 0, sizeof(s->widths));
	clearok(curscr, TRUE);
	draw(t, s);
	return 0;
}

static void screen_close(Top *t) {
	Screen *s = t->view_data;

	if (!s)
		return;
	if (s->screen) {
		endwin();
		delscreen(s->screen);
	}
	sd_event_source_unref(s->input);
	sd_event_source_unref(s->winch);
	if (s->paused)
		toggle_pause(t, s);
	free(s);
	t->view_data = NULL;
}

static int screen_open(Top *t) {
	Screen *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return log_oom();
	t->view_data = s;
	s->screen = newterm(NULL, stdout, stdin);
	if (!s->screen) {
		screen_close(t);
		return log_error_errno(EINVAL, "Cannot drive this terminal (TERM=%s); try --batch.",
				       getenv("TERM") ?: "unset");
	}
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);

	r = sd_event_add_io(t->event, &s->input, STDIN_FILENO, EPOLLIN, on_input, t);
	if (r >= 0)
		r = sd_event_add_signal(t->event, &s->winch, SIGWINCH, on_winch, t);
	if (r < 0) {
		screen_close(t);
		return log_error_errno(r, "Failed to watch the terminal: %m");
	}
	return 0;
}

static void screen_update(Top *t) {
	Screen *s = t->view_data;

	/* Paused: the data changed, the screen does not. */
	if (!s->paused)
		draw(t, s);
}

const TopView top_screen_view = {
	.open = screen_open,
	.update = screen_update,
	.close = screen_close,
};
