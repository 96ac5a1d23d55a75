/* SPDX-License-Identifier: MIT */
/*
 * sr_xen_ops_default: Xen's physinfo through libxenctrl, loaded with
 * dlopen() (SR_XENCTRL_SONAME, the build's libxenctrl) the first time Xen is
 * asked, that is only for --hypervisor xen and sriovctl pfs. Linked at build
 * time, libxenctrl and its 7 libraries were loaded by every sriov-agent
 * start: 0.6 M instructions and 74 syscalls.
 */
#include "xen.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <xenctrl.h>

struct xc_fns {
	__typeof__(xc_interface_open) *open;
	__typeof__(xc_physinfo) *physinfo;
	__typeof__(xc_interface_close) *close;
};

/* The three functions, or NULL when libxenctrl cannot be loaded. */
static const struct xc_fns *xc_load(void)
{
	static struct xc_fns fns;
	static int state; /* 0 not tried, 1 loaded, -1 failed */
	void *h;

	if (state)
		return state > 0 ? &fns : NULL;
	state = -1;
	h = dlopen(SR_XENCTRL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		return NULL;
	fns.open = (__typeof__(xc_interface_open) *)dlsym(h, "xc_interface_open");
	fns.physinfo = (__typeof__(xc_physinfo) *)dlsym(h, "xc_physinfo");
	fns.close = (__typeof__(xc_interface_close) *)dlsym(h, "xc_interface_close");
	if (!fns.open || !fns.physinfo || !fns.close)
		return NULL;
	state = 1;
	return &fns;
}

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
	const struct xc_fns *xc = xc_load();
	xc_physinfo_t info = { 0 };
	xc_interface *xch;
	int r = 0;

	(void)ctx;
	if (!xc)
		return -ENOENT; /* no libxenctrl: not a Xen toolstack node */
	errno = 0;
	xch = xc->open(&quiet, &quiet, 0);
	if (!xch)
		return errno ? -errno : -ENOENT;
	if (xc->physinfo(xch, &info))
		r = errno ? -errno : -EIO;
	else
		*caps = info.capabilities;
	xc->close(xch);
	return r;
}

const struct sr_xen_ops sr_xen_ops_default = { .physinfo_caps = xc_physinfo_caps };
