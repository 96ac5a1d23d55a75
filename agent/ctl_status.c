/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "ctl.h"

int ctl_status(struct ctl *c, int argc, char **argv)
{
	fprintf(stderr, "sriovctl: status: not built yet\n");
	return 1;
}
