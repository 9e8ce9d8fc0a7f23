/* SPDX-License-Identifier: GPL-2.0-only */
/* The three ways of measuring a process's dirty rate, best first. */
#pragma once

#include <stdbool.h>

enum backend {
	BACKEND_PAGEMAP_IOCTL,	/* PAGEMAP_SD_GET_AND_CLEAR per range: atomic, per-process */
	BACKEND_CLEAR_REFS,	/* pagemap bit 55 + "4" > clear_refs: whole process, racy */
	BACKEND_FAULTS_ONLY,	/* no soft-dirty: BPF write faults × page size, an estimate */
	_BACKEND_MAX,
	BACKEND_AUTO = -1,	/* config only: the best one available */
};

const char *backend_to_string(enum backend b);
/* Accepts the names above and "auto"; -EINVAL otherwise. */
int backend_from_string(const char *s, enum backend *ret);
const char *backend_description(enum backend b);

/* Probes what this kernel supports for our own process. */
struct backend_support {
	bool available[_BACKEND_MAX];
};

void backend_probe(struct backend_support *ret);

/* The best available backend at or after 'from' in the order above. */
enum backend backend_next_available(const struct backend_support *s, enum backend from);
