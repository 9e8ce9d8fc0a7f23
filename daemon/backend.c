/* SPDX-License-Identifier: GPL-2.0-only */
#include <errno.h>

#include "backend.h"
#include "util.h"

extern const struct backend_ops backend_pagemap_ioctl, backend_clear_refs, backend_page_sampling, backend_faults_only;

/* Best first. faults-only needs nothing of the kernel: it must stay last. */
const struct backend_ops *const backend_table[] = {
	&backend_pagemap_ioctl,
	&backend_clear_refs,
	&backend_page_sampling,
	&backend_faults_only,
};
const size_t backend_table_len = ELEMENTSOF(backend_table);

int backend_from_name(const char *name) {
	for (size_t i = 0; i < backend_table_len; i++)
		if (streq(name, backend_table[i]->name))
			return (int) i;
	return -EINVAL;
}

bool backend_error_is_refusal(int error) {
	/* EACCES/EPERM: no access to this process's files (at open, or at
	 * ioctl time for the ioctl). EOPNOTSUPP/ENOTTY: the kernel does not do
	 * this for this process or at all. */
	return error == -EACCES || error == -EPERM || error == -EOPNOTSUPP || error == -ENOTTY;
}
