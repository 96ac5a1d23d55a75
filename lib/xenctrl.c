/* SPDX-License-Identifier: MIT */
/* sr_xen_ops_default: Xen's physinfo through libxenctrl. */
#include "xen.h"

#include <errno.h>
#include <stdarg.h>
#include <xenctrl.h>

/* libxenctrl logs to stderr unless given a logger; the library never prints. */
static void quiet_vmessage(struct xentoollog_logger *l, xentoollog_level level, int errnoval,
			   const char *context, const char *fmt, va_list ap)
{
	(void)l, (void)level, (void)errnoval, (void)context, (void)fmt, (void)ap;
}

static void quiet_destroy(struct xentoollog_logger *l)
{
	(void)l;
}

static int xc_physinfo_caps(void *ctx, uint32_t *caps)
{
	xentoollog_logger quiet = { .vmessage = quiet_vmessage, .destroy = quiet_destroy };
	xc_physinfo_t info = { 0 };
	xc_interface *xch;
	int r = 0;

	(void)ctx;
	errno = 0;
	xch = xc_interface_open(&quiet, &quiet, 0);
	if (!xch)
		return errno ? -errno : -ENOENT;
	if (xc_physinfo(xch, &info))
		r = errno ? -errno : -EIO;
	else
		*caps = info.capabilities;
	xc_interface_close(xch);
	return r;
}

const struct sr_xen_ops sr_xen_ops_default = { .physinfo_caps = xc_physinfo_caps };
