/* SPDX-License-Identifier: GPL-2.0-only */
#include "bus-connect.h"
#include "util.h"

int bus_connect(const char *address, sd_bus **ret) {
	_cleanup_(sd_bus_unrefp) sd_bus *bus = NULL;
	int r;

	if (!address) {
		r = sd_bus_open_system(&bus);
		if (r < 0)
			return log_error_errno(r, "Cannot connect to the system bus: %m");
	} else {
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, address);
		if (r >= 0)
			r = sd_bus_set_bus_client(bus, true);
		if (r >= 0)
			r = sd_bus_start(bus);
		if (r < 0)
			return log_error_errno(r, "Cannot connect to the bus at %s: %m", address);
	}
	*ret = TAKE_PTR(bus);
	return 0;
}
