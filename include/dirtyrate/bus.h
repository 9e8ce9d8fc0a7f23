/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The names of dirtyrated's D-Bus API, for the daemon, its clients and
 * tests: bus name, object paths, interfaces, error names and polkit
 * actions. The API itself (members, types, meaning) is described by the
 * introspection XML installed to /usr/share/dbus-1/interfaces/ and by
 * daemon/README.md.
 */
#ifndef DIRTYRATE_BUS_H
#define DIRTYRATE_BUS_H

#define DIRTYRATE_BUS_NAME		"org.dirtyrate1"

#define DIRTYRATE_MANAGER_PATH		"/org/dirtyrate1"
#define DIRTYRATE_MANAGER_INTERFACE	"org.dirtyrate1.Manager"

/* One object per tracked process: DIRTYRATE_PROCESS_PATH_PREFIX "/<pid>". */
#define DIRTYRATE_PROCESS_PATH_PREFIX	"/org/dirtyrate1/process"
#define DIRTYRATE_PROCESS_INTERFACE	"org.dirtyrate1.Process"

#define DIRTYRATE_ERROR_INVALID_ARGUMENT "org.dirtyrate1.Error.InvalidArgument"
#define DIRTYRATE_ERROR_NO_SUCH_PROCESS	"org.dirtyrate1.Error.NoSuchProcess"
#define DIRTYRATE_ERROR_NOT_TRACKED	"org.dirtyrate1.Error.NotTracked"
#define DIRTYRATE_ERROR_NOT_SUPPORTED	"org.dirtyrate1.Error.NotSupported"
#define DIRTYRATE_ERROR_BAD_CONFIG	"org.dirtyrate1.Error.BadConfig"

/* Changing what is tracked, how often, and reloading the config. */
#define DIRTYRATE_ACTION_MANAGE		"org.dirtyrate1.manage"
/* With ReadAccess=owner: seeing other users' processes. */
#define DIRTYRATE_ACTION_READ_ALL	"org.dirtyrate1.read-all"

#endif /* DIRTYRATE_BUS_H */
