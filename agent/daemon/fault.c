/* SPDX-License-Identifier: MIT */
/*
 * SR_FAULT: the crash tests' fault points (test/daemon/crash.sh), and the
 * failing-disk tests' (test/daemon/unsaved.sh: a step that fails). Read once
 * when the agent sets up its node and installed as the node's step hook;
 * the library only calls the hook, it never reads the environment.
 */
#include "fault.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "sysfs.h"

static const char *const points[] = {
	"after-retire-domains", "after-release", "after-numvfs", "after-save-intent",
	"after-configure",      "after-bind",    "before-save",  "after-save",
	"after-domains",        "after-save-config",
};

struct fault {
	char point[32];
	unsigned long nth;
	int fail;                      /* -errno to fail with; 0: SIGKILL */
	unsigned long seen;            /* passes of point in this process */
};

static struct fault fault;

/* The errnos a step may fail with: a full or failing disk. */
static const struct {
	const char *name;
	int err;
} fails[] = { { "EIO", EIO }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS } };

/* Counted over the process, not per apply: the daemon's startup reconcile
 * passes the points every apply passes (the domain configs' retirement and
 * writing), so the first pass of a pushed config's apply is the second. */
static int fault_step(void *ctx, const char *point, size_t nth, struct sr_err *why)
{
	struct fault *f = ctx;

	(void)nth;
	if (strcmp(point, f->point) || ++f->seen < f->nth)
		return 0;
	/* A failing disk stays failing: every pass from the Nth on. The
	 * message names the pass SR_FAULT counts, not the apply's own. */
	if (f->fail)
		return sr_err_set(why, f->fail, "%s, pass %lu of this process", point, f->seen);
	if (f->seen == f->nth)
		raise(SIGKILL);
	return 0;
}

/* "EIO" -> -EIO; 0 when unknown. */
static int fail_errno(const char *name)
{
	for (size_t i = 0; i < sizeof(fails) / sizeof(fails[0]); i++)
		if (!strcmp(name, fails[i].name))
			return -fails[i].err;
	return 0;
}

/* SR_VF_IN_RESET=MS: for MS ms after the node is set up, every VF setting
 * is answered "try again" (-EAGAIN), as i40e answers while a VF is still
 * in reset: i40e_ndo_set_vf_mac and i40e_ndo_set_vf_port_vlan
 * (drivers/net/ethernet/intel/i40e/i40e_virtchnl_pf.c) return -EAGAIN
 * "VF %d still in reset. Try again." when i40e_check_vf_init_timeout finds
 * the VF not yet initialized. igb never does; test/vm/scenarios/daemon.sh
 * uses it to show the daemon's early retry (run.c later_retry) on a real
 * kernel: the settings are written once the window is over. */
static struct {
	int (*set_vf)(void *ctx, int ifindex, uint32_t vf, const struct sr_vf_settings *s,
		      int result[SR_ATTR__COUNT], struct sr_err *err);
	uint64_t until_ms;
} in_reset;

static int set_vf_in_reset(void *ctx, int ifindex, uint32_t vf, const struct sr_vf_settings *s,
			   int result[SR_ATTR__COUNT], struct sr_err *err)
{
	if (sr_sysfs_now_ms() >= in_reset.until_ms)
		return in_reset.set_vf(ctx, ifindex, vf, s, result, err);
	for (int a = 0; a < SR_ATTR__COUNT; a++)
		result[a] = sr_vf_attr_is_set((enum sr_vf_attr)a, s) ? -EAGAIN : SR_ATTR_NOT_TRIED;
	return 0;
}

static int in_reset_install(struct sr_node_ops *node, struct sr_err *err)
{
	const char *v = getenv("SR_VF_IN_RESET");
	unsigned long ms;
	char *end;

	if (!v || !*v)
		return 0;
	errno = 0;
	ms = strtoul(v, &end, 10);
	if (errno || *end || !ms || ms > 600000)
		return sr_err_set(err, -EINVAL, "SR_VF_IN_RESET \"%s\": allowed 1..600000 (ms)", v);
	if (!node->set_vf)
		return 0; /* no netlink: no VF settings */
	in_reset.set_vf = node->set_vf;
	in_reset.until_ms = sr_sysfs_now_ms() + ms;
	node->set_vf = set_vf_in_reset;
	return 0;
}

static bool known_point(const char *p, size_t len)
{
	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++)
		if (strlen(points[i]) == len && !strncmp(points[i], p, len))
			return true;
	return false;
}

int agent_fault_install(struct sr_node_ops *node, struct sr_err *err)
{
	const char *f = getenv("SR_FAULT");
	const char *colon, *fail;
	size_t len;
	char *end;

	if (in_reset_install(node, err))
		return -EINVAL;
	if (!f || !*f)
		return 0;
	colon = strchr(f, ':');
	len = colon ? (size_t)(colon - f) : strlen(f);
	if (!known_point(f, len))
		return sr_err_set(err, -EINVAL,
				  "SR_FAULT \"%s\": allowed POINT[:N[:ERRNO]], POINT one of after-retire-domains, after-release, after-numvfs, after-save-intent, after-configure, after-bind, before-save, after-save, after-domains, after-save-config",
				  f);
	fault.nth = 1;
	fault.fail = 0;
	if (colon) {
		errno = 0;
		fault.nth = strtoul(colon + 1, &end, 10);
		if (errno || (*end && *end != ':') || !fault.nth)
			return sr_err_set(err, -EINVAL, "SR_FAULT \"%s\": N allowed 1..%lu", f,
					  (unsigned long)-1);
		fail = *end ? end + 1 : NULL;
		if (fail && !(fault.fail = fail_errno(fail)))
			return sr_err_set(err, -EINVAL,
					  "SR_FAULT \"%s\": ERRNO \"%s\": allowed EIO, ENOSPC, EROFS", f,
					  fail);
	}
	snprintf(fault.point, sizeof(fault.point), "%.*s", (int)len, f);
	node->step = fault_step;
	node->step_ctx = &fault;
	return 0;
}
