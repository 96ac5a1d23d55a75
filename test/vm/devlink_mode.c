/* SPDX-License-Identifier: MIT */
/*
 * devlink-mode HANDLE: the eswitch mode lib/kernel/devlink.c reads for a
 * devlink handle (pci/0000:03:00.0, netdevsim/netdevsim1), on stdout; the
 * library's message on stderr and exit 1 when it cannot. The netdevsim VM
 * bed compares it with `devlink dev eswitch show` after switching modes.
 */
#include <stdio.h>

#include "devlink.h"

int main(int argc, char **argv)
{
	char mode[SR_ESWITCH_MODE_LEN];
	struct sr_err err = { "" };

	if (argc != 2) {
		fprintf(stderr, "usage: devlink-mode BUS/DEV\n");
		return 2;
	}
	if (sr_devlink_eswitch_mode_handle(argv[1], mode, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 1;
	}
	printf("%s\n", mode);
	return 0;
}
