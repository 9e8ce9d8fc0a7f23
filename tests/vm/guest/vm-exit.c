// SPDX-License-Identifier: GPL-2.0-only
/*
 * vm-exit CODE: end the VM through qemu's isa-debug-exit device
 * (-device isa-debug-exit,iobase=0xf4,iosize=0x04). Writing CODE to port
 * 0xf4 makes qemu exit at once with status (CODE << 1) | 1. busybox has no
 * outl, hence this helper; it is linked statically for the initramfs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	char *end;
	unsigned long code;

	if (argc != 2) {
		fprintf(stderr, "usage: vm-exit CODE\n");
		return 2;
	}
	code = strtoul(argv[1], &end, 0);
	if (*argv[1] == '\0' || *end != '\0' || code > 0x7f) {
		fprintf(stderr, "vm-exit: CODE must be 0..127, not '%s'\n", argv[1]);
		return 2;
	}
	if (ioperm(DEBUG_EXIT_PORT, 4, 1)) {
		perror("vm-exit: ioperm(0xf4)");
		return 1;
	}
	outl(code, DEBUG_EXIT_PORT);
	/* qemu stops on the write: still running means there is no such device. */
	fprintf(stderr, "vm-exit: no isa-debug-exit device at port 0xf4\n");
	return 1;
}
