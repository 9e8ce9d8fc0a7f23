/* SPDX-License-Identifier: GPL-2.0-only */
/* The command line's settings, as parsed by dirtyratectl.c (systemd's arg_ style). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "columns.h"
#include "json-output.h"

extern const char *arg_address;
extern JsonMode arg_json;
extern bool arg_legend;
extern bool arg_pager;
extern unsigned arg_iterations;		/* watch, top: 0 = until interrupted */
extern uint64_t arg_interval_usec;	/* watch */
extern uint64_t arg_delay_usec;		/* top */
extern bool arg_batch;			/* top */
extern Column arg_order;		/* top */

/* A PID on the command line: 1 … INT_MAX, digits only. */
int parse_pid_arg(const char *s, uint32_t *ret);
