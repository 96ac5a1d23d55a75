/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "agent.h"

int agent_run(const struct agent_opts *o)
{
	fprintf(stderr, "sriov-agent: run: not built yet\n");
	return 1;
}
