/* SPDX-License-Identifier: GPL-2.0-only */
/* dirtyrated: publishes per-process memory dirty rates on the system bus. */
#include "backend.h"
#include "main.h"

int main(int argc, char *argv[]) {
	return dirtyrated_main(argc, argv, backend_table, backend_table_len);
}
