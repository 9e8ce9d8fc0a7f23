/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The whole daemon over a given backend table: dirtyrated.c passes the real
 * one, the dbus suite's slow-pass test a slow fake (tests/dirtyrated-slow.c).
 * Returns the process's exit status.
 */
#pragma once

#include <stddef.h>

#include "backend.h"

int dirtyrated_main(int argc, char *argv[], const struct backend_ops *const *backends, size_t n_backends);
