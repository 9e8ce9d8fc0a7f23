/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A fault source the test drives by hand (fault-source.h): the counters of
 * each process are whatever the test last set, and snapshots copy them.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "fault-source.h"

struct fault_source *fake_fault_source_new(bool counts_writes, bool sees_clears);
/* The live counters of tgid (created zeroed on first use). */
struct fault_counts *fake_fault_counts(struct fault_source *s, pid_t tgid);
bool fake_fault_tracked(struct fault_source *s, pid_t tgid);
