/* SPDX-License-Identifier: GPL-2.0-only */
/* dirtyratectl's commands, one file each. argv[0] is the command's name. */
#pragma once

#include <systemd/sd-bus.h>

int verb_status(sd_bus *bus, int argc, char **argv);
int verb_list(sd_bus *bus, int argc, char **argv);
int verb_watch(sd_bus *bus, int argc, char **argv);
int verb_show(sd_bus *bus, int argc, char **argv);
int verb_track(sd_bus *bus, int argc, char **argv);	/* track and untrack */
int verb_top(sd_bus *bus, int argc, char **argv);
