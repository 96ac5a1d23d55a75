/* SPDX-License-Identifier: MIT */
/* sr_xen_ops_default when built without libxenctrl (libxen-dev): Xen's
 * physinfo cannot be asked, so passthrough to Xen is refused. */
#include "xen.h"

#include <errno.h>

static int no_physinfo(void *ctx, uint32_t *caps)
{
	(void)ctx, (void)caps;
	return -ENOSYS;
}

const struct sr_xen_ops sr_xen_ops_default = { .physinfo_caps = no_physinfo };
