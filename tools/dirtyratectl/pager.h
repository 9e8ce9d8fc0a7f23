/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Long output through a pager on a terminal, as systemd's tools do:
 * $SYSTEMD_PAGER, else $PAGER, else less (LESS=FRSXMK unless set: it quits
 * at once when the output fits the screen), else more; none with
 * --no-pager, when stdout is not a terminal, or when the pager is "" or
 * "cat".
 */
#pragma once

/* Takes over stdout; 0 also when there is to be no pager. */
int pager_open(void);
/* Flushes, closes the pipe and waits for the pager to end. */
void pager_close(void);
