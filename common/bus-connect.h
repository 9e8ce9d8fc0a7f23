/* SPDX-License-Identifier: GPL-2.0-only */
/* The bus connection of the daemon and its clients. */
#pragma once

#include <systemd/sd-bus.h>

/* The system bus (DBUS_SYSTEM_BUS_ADDRESS honoured) or, with an address
 * (the daemon's --bus-address=, dirtyratectl's --address=), that bus, as a
 * client; says why not on stderr. */
int bus_connect(const char *address, sd_bus **ret);
