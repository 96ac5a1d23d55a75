/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "ctl.h"

int ctl_push(struct ctl *c, int argc, char **argv)
{
	fprintf(stderr, "sriovctl: push: not built yet\n");
	return 1;
}
