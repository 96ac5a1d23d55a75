/* SPDX-License-Identifier: MIT */
#include "apply.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "netlink.h"
#include "reserve.h"
#include "sysfs.h"
#include "xen.h"

#define LOG(ctx, level, ...)                                          \
	do {                                                          \
		if ((ctx)->log)                                       \
			(ctx)->log((ctx)->log_ctx, (level), __VA_ARGS__); \
	} while (0)

/* Crash-safety tests: SR_FAULT=POINT[:N] kills the process with SIGKILL
 * the Nth time (default: the first) an apply passes POINT. Points:
 * after-release, after-numvfs, after-save-intent, after-configure,
 * after-bind, before-save, after-save (docs/daemon.md). Unset in
 * production: then this is one getenv() per point. */
static void fault_point(const char *point, size_t nth)
{
	const char *f = getenv("SR_FAULT");
	size_t len = strlen(point);
	unsigned long want = 1;

	if (!f || strncmp(f, point, len) || (f[len] && f[len] != ':'))
		return;
	if (f[len] == ':')
		want = strtoul(f + len + 1, NULL, 10);
	if (nth == want)
		raise(SIGKILL);
}

/* The VF's current driver (as read from sysfs) is not driver. */
static bool vf_off_driver(const struct sr_pf *pf, uint32_t index, const char *driver)
{
	const struct sr_vf *vf = sr_pf_find_vf(pf, index);

	return vf && strcmp(vf->driver, driver);
}

void sr_plan_free(struct sr_plan *p)
{
	free(p->actions);
	p->actions = NULL;
	p->n = 0;
}

static int plan_add(struct sr_plan *p, struct sr_action a, struct sr_err *err)
{
	struct sr_action *n = realloc(p->actions, (p->n + 1) * sizeof(*n));

	if (!n)
		return sr_err_set(err, -ENOMEM, "plan: out of memory");
	n[p->n++] = a;
	p->actions = n;
	return 0;
}

static ssize_t cfg_pf_by_pci(const struct sr_config *cfg, const struct sr_pf *pfs,
			     const char *pci)
{
	for (size_t i = 0; i < cfg->n_pfs; i++)
		if (!strcmp(pfs[i].pci, pci))
			return (ssize_t)i;
	return -1;
}

/* Does the new set keep this old reservation (same VF, same app adapter)? */
static const struct sr_reservation *kept(const struct sr_reservation *o,
					 const struct sr_reservation *res, size_t n_res)
{
	const struct sr_reservation *n = sr_reservation_find(res, n_res, o->pf_pci, o->vf_index);

	return n && !strcmp(n->app_uuid, o->app_uuid) && n->adapter == o->adapter ? n : NULL;
}

static unsigned attrs_to_write(const struct sr_reservation *r,
			       const struct sr_vf_settings *have, bool fresh)
{
	unsigned mask = 0;

	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		if (!sr_vf_attr_is_set(a, &r->desired))
			continue;
		/* Refused before with the same settings: do not hammer the driver.
		 * (sr_reserve carries results over only when settings are equal.) */
		if (!fresh && r->attr_result[a] < 0)
			continue;
		if (!fresh && have && sr_vf_attr_matches(a, &r->desired, have))
			continue;
		if (!fresh && !have && r->attr_result[a] == 0)
			continue; /* no kernel view (no netlink): trust the record */
		mask |= 1u << a;
	}
	return mask;
}

int sr_plan_compute(const struct sr_config *cfg, const struct sr_pf *pfs,
		    struct sr_vf_settings *const *kernel, size_t const *n_kernel,
		    const struct sr_reservation *old, size_t n_old,
		    const struct sr_reservation *res, size_t n_res, bool configure,
		    const char *bind_driver, struct sr_plan *out, struct sr_err *err)
{
	struct sr_plan p = { 0 };
	int r = 0;

	/* Releases first: a VF an app gives up, on a PF whose VFs survive. */
	for (size_t i = 0; i < n_old; i++) {
		ssize_t pf = cfg_pf_by_pci(cfg, pfs, old[i].pf_pci);

		if (kept(&old[i], res, n_res))
			continue;
		if (pf >= 0 && pfs[pf].numvfs != cfg->pfs[pf].vf_count)
			continue; /* its VFs are destroyed and recreated */
		if ((r = plan_add(&p, (struct sr_action){ .type = SR_ACT_RELEASE, .res = i }, err)))
			goto fail;
	}
	for (size_t i = 0; i < cfg->n_pfs; i++) {
		if (bind_driver && pfs[i].autoprobe == 1 &&
		    (r = plan_add(&p, (struct sr_action){ .type = SR_ACT_NO_AUTOPROBE, .pf = i }, err)))
			goto fail;
		if (pfs[i].numvfs == cfg->pfs[i].vf_count)
			continue;
		if ((r = plan_add(&p, (struct sr_action){ .type = SR_ACT_SET_NUMVFS, .pf = i,
							 .value = cfg->pfs[i].vf_count }, err)))
			goto fail;
	}
	for (size_t i = 0; i < n_res; i++) {
		ssize_t pf = cfg_pf_by_pci(cfg, pfs, res[i].pf_pci);
		const struct sr_vf_settings *have = NULL;
		bool fresh;
		unsigned mask;

		if (pf < 0)
			continue;
		fresh = pfs[pf].numvfs != cfg->pfs[pf].vf_count;
		if (kernel && kernel[pf] && res[i].vf_index < n_kernel[pf])
			have = &kernel[pf][res[i].vf_index];
		mask = configure ? attrs_to_write(&res[i], have, fresh) : 0;
		if (mask && (r = plan_add(&p, (struct sr_action){ .type = SR_ACT_CONFIGURE,
								  .pf = (size_t)pf, .res = i,
								  .attrs = mask }, err)))
			goto fail;
		/* The record is not enough: after a crash between a VF count change
		 * and the state save, or a driver reload, the VF may be back on its
		 * host driver while the record still says bound. */
		if (bind_driver && !sr_reservation_is_vf_config(&res[i]) &&
		    (fresh || strcmp(res[i].bound_driver, bind_driver) ||
				    vf_off_driver(&pfs[pf], res[i].vf_index, bind_driver)) &&
		    (r = plan_add(&p, (struct sr_action){ .type = SR_ACT_BIND, .pf = (size_t)pf,
							 .res = i }, err)))
			goto fail;
	}
	*out = p;
	return 0;
fail:
	sr_plan_free(&p);
	return r;
}

void sr_action_format(const struct sr_action *a, const struct sr_config *cfg,
		      const struct sr_reservation *old, const struct sr_reservation *res,
		      char *buf, size_t cap)
{
	size_t off;

	switch (a->type) {
	case SR_ACT_RELEASE:
		snprintf(buf, cap, "release PF %s VF %u (app %s): restore its original settings",
			 old[a->res].pf_pci, old[a->res].vf_index, sr_reservation_owner(&old[a->res]));
		break;
	case SR_ACT_NO_AUTOPROBE:
		snprintf(buf, cap, "set PF %s sriov_drivers_autoprobe to 0 (VFs go to passthrough)",
			 sr_pf_cfg_label(&cfg->pfs[a->pf]));
		break;
	case SR_ACT_SET_NUMVFS:
		snprintf(buf, cap, "set PF %s sriov_numvfs to %u", sr_pf_cfg_label(&cfg->pfs[a->pf]),
			 a->value);
		break;
	case SR_ACT_CONFIGURE:
		off = (size_t)snprintf(buf, cap, "configure PF %s VF %u (app %s):",
				       res[a->res].pf_pci, res[a->res].vf_index,
				       sr_reservation_owner(&res[a->res]));
		for (int i = 0; i < SR_ATTR__COUNT && off < cap; i++)
			if (a->attrs & (1u << i))
				off += (size_t)snprintf(buf + off, cap - off, " %s", sr_vf_attr_name(i));
		break;
	case SR_ACT_BIND:
		snprintf(buf, cap, "bind PF %s VF %u (app %s) for passthrough", res[a->res].pf_pci,
			 res[a->res].vf_index, res[a->res].app_uuid);
		break;
	}
}

/* ---- execution ---- */

/* Counting wrappers around the kernel paths. */
struct counting {
	struct sr_apply_ctx *ctx;
	sr_sysfs_writer write;
	void *write_ctx;
	sr_nl_send_fn send;
	void *send_ctx;
};

static int count_write(void *c, const char *path, const char *value)
{
	struct counting *k = c;
	int r = k->write(k->write_ctx, path, value);

	k->ctx->sysfs_writes++;
	/* One line per write: a value's newline (driver_override's "\n"
	 * clears it) is shown as \n. */
	LOG(k->ctx, LOG_DEBUG, "sysfs write %s = %.*s%s: %s", path, (int)strcspn(value, "\n"), value,
	    strchr(value, '\n') ? "\\n" : "", r ? strerror(-r) : "ok");
	return r;
}

static int count_send(void *c, struct nl_msg *msg)
{
	struct counting *k = c;

	k->ctx->netlink_writes++;
	return k->send(k->send_ctx, msg);
}

/* Settings restricted to the attributes in mask. */
static struct sr_vf_settings masked(const struct sr_vf_settings *s, unsigned mask)
{
	struct sr_vf_settings m;

	sr_vf_settings_init(&m);
	if (mask & (1u << SR_ATTR_MAC)) {
		m.has_mac = s->has_mac;
		memcpy(m.mac, s->mac, 6);
	}
	if (mask & (1u << SR_ATTR_VLAN)) {
		m.vlan = s->vlan;
		m.qos = s->qos;
		m.vlan_proto = s->vlan_proto;
	}
	if (mask & (1u << SR_ATTR_SPOOFCHK))
		m.spoofchk = s->spoofchk;
	if (mask & (1u << SR_ATTR_TRUST))
		m.trust = s->trust;
	if (mask & (1u << SR_ATTR_LINK_STATE))
		m.link_state = s->link_state;
	if (mask & (1u << SR_ATTR_RATE)) {
		m.min_tx_rate = s->min_tx_rate;
		m.max_tx_rate = s->max_tx_rate;
	}
	return m;
}

struct run {
	struct sr_apply_ctx *ctx;
	const struct sr_config *cfg;
	struct sr_pf *pfs;                 /* parallel to cfg->pfs */
	struct sr_vf_settings **kernel;    /* parallel to pfs */
	size_t *n_kernel;
	int *ifindex;
};

static void read_kernel(struct run *run, size_t i)
{
	struct sr_err e;
	bool truncated = false;

	free(run->kernel[i]);
	run->kernel[i] = NULL;
	run->n_kernel[i] = 0;
	if (!run->ctx->nl || run->ifindex[i] <= 0)
		return;
	if (sr_nl_read_vfs(run->ctx->nl, run->ifindex[i], &run->kernel[i], &run->n_kernel[i],
			   &truncated, &e)) {
		LOG(run->ctx, LOG_WARNING, "PF %s: cannot read VF settings: %s", run->pfs[i].pci,
		    e.msg);
		run->ctx->n_warnings++;
		return;
	}
	if (truncated) {
		LOG(run->ctx, LOG_WARNING,
		    "PF %s: the kernel's VF list is truncated (fewer entries than IFLA_NUM_VF)",
		    run->pfs[i].pci);
		run->ctx->n_warnings++;
	}
}

static void write_attrs(struct run *run, int ifindex, const char *pf, struct sr_reservation *r,
			const struct sr_vf_settings *s, unsigned mask, const char *why)
{
	struct sr_vf_settings m = masked(s, mask);
	int result[SR_ATTR__COUNT];

	if (!run->ctx->nl)
		return;
	if (ifindex <= 0) {
		for (int a = 0; a < SR_ATTR__COUNT; a++)
			if (mask & (1u << a))
				r->attr_result[a] = -ENODEV;
		LOG(run->ctx, LOG_WARNING, "PF %s VF %u app %s: PF has no netdev, VF settings not %s",
		    pf, r->vf_index, sr_reservation_owner(r), why);
		run->ctx->n_warnings++;
		return;
	}
	sr_nl_apply_vf(run->ctx->nl, ifindex, r->vf_index, &m, result);
	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		if (!(mask & (1u << a)) || result[a] == SR_ATTR_NOT_TRIED)
			continue;
		r->attr_result[a] = result[a];
		LOG(run->ctx, LOG_DEBUG, "netlink PF %s VF %u %s (%s): %s", pf, r->vf_index,
		    sr_vf_attr_name(a), why, result[a] ? strerror(-result[a]) : "ok");
		if (result[a]) {
			LOG(run->ctx, LOG_WARNING, "PF %s VF %u app %s: driver refused %s: %s", pf,
			    r->vf_index, sr_reservation_owner(r), sr_vf_attr_name(a), strerror(-result[a]));
			run->ctx->n_warnings++;
		}
	}
}

static int pf_ifindex(struct sr_apply_ctx *ctx, const struct sr_pf *pf)
{
	int idx = 0;

	if (!ctx->nl || !pf->ifname[0] || sr_nl_ifindex(ctx->nl, pf->ifname, &idx))
		return 0;
	return idx;
}

/* The VF is no longer on the driver the reservation bound it to: given
 * back already (an apply killed after its release phase) or taken by the
 * host. Unbinding again would wait the whole timeout for it to leave a
 * driver it is meant to stay on (driver_override names the host driver). */
static bool vf_left_driver(struct run *run, const struct sr_reservation *o)
{
	char path[PATH_MAX], cur[SR_DRIVER_LEN];

	if (snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/%s/driver", run->ctx->sysfs->root,
		     o->vf_pci) >= (int)sizeof(path))
		return false;
	if (sr_sysfs_link_base(path, cur, sizeof(cur)))
		cur[0] = '\0';
	if (!strcmp(cur, o->bound_driver))
		return false;
	LOG(run->ctx, LOG_INFO, "PF %s VF %u app %s: already off %s (on %s): no unbind", o->pf_pci,
	    o->vf_index, o->app_uuid, o->bound_driver, cur[0] ? cur : "no driver");
	return true;
}

static void release(struct run *run, struct sr_reservation *o)
{
	struct sr_err e;
	unsigned mask = 0;
	struct sr_pf pf = { 0 };
	int ifindex = 0;

	/* Restore only what this agent changed successfully. */
	for (int a = 0; a < SR_ATTR__COUNT; a++)
		if (o->attr_result[a] == 0 && sr_vf_attr_is_set(a, &o->original))
			mask |= 1u << a;
	bool have_pf = !sr_sysfs_find_pf(run->ctx->sysfs, NULL, o->pf_pci, &pf, &e);

	if (have_pf)
		ifindex = pf_ifindex(run->ctx, &pf);
	if (o->bound_driver[0] && o->vf_pci[0] && !vf_left_driver(run, o)) {
		char prev[SR_DRIVER_LEN];
		/* A VF created while autoprobe was off had no driver before the
		 * bind. The unbind's reprobe gives it to the PF's VF driver, as
		 * without passthrough, only with autoprobe on: on for that, then
		 * off again for the VFs still reserved. */
		bool probe_host = have_pf && !o->original_driver[0] && pf.autoprobe == 0 &&
				  !sr_sysfs_set_autoprobe(run->ctx->sysfs, o->pf_pci, true, &e);

		if (sr_sysfs_unbind_driver(run->ctx->sysfs, o->vf_pci, &e)) {
			LOG(run->ctx, LOG_WARNING, "PF %s VF %u app %s: unbind from %s: %s", o->pf_pci,
			    o->vf_index, o->app_uuid, o->bound_driver, e.msg);
			run->ctx->n_warnings++;
		} else if (o->original_driver[0] &&
			   sr_sysfs_bind_driver(run->ctx->sysfs, o->vf_pci, o->original_driver, prev,
						&e)) {
			/* With autoprobe off the host driver takes a VF back only by
			 * override. */
			LOG(run->ctx, LOG_WARNING, "PF %s VF %u app %s: give back to %s: %s",
			    o->pf_pci, o->vf_index, o->app_uuid, o->original_driver, e.msg);
			run->ctx->n_warnings++;
		}
		if (probe_host && sr_sysfs_set_autoprobe(run->ctx->sysfs, o->pf_pci, false, &e)) {
			LOG(run->ctx, LOG_WARNING, "PF %s: sriov_drivers_autoprobe back to 0: %s",
			    o->pf_pci, e.msg);
			run->ctx->n_warnings++;
		}
	}
	if (mask && o->has_original)
		write_attrs(run, ifindex, o->pf_pci, o, &o->original, mask, "restore");
	LOG(run->ctx, LOG_INFO, "released PF %s VF %u from app %s", o->pf_pci, o->vf_index,
	    o->app_uuid);
}

static void fill_vf_pci(struct run *run, struct sr_reservation *res, size_t n_res)
{
	for (size_t i = 0; i < n_res; i++) {
		ssize_t pf = cfg_pf_by_pci(run->cfg, run->pfs, res[i].pf_pci);
		const struct sr_vf *vf = pf >= 0 ? sr_pf_find_vf(&run->pfs[pf], res[i].vf_index) : NULL;

		if (!vf) {
			snprintf(res[i].error, sizeof(res[i].error), "VF %u of PF %s is missing",
				 res[i].vf_index, res[i].pf_pci);
			res[i].vf_pci[0] = '\0';
			LOG(run->ctx, LOG_WARNING, "PF %s VF %u app %s: VF is missing", res[i].pf_pci,
			    res[i].vf_index, res[i].app_uuid);
			run->ctx->n_warnings++;
			continue;
		}
		res[i].error[0] = '\0';
		strcpy(res[i].vf_pci, vf->pci);
	}
}

/* vfio-pci takes a device only in an IOMMU group (none: IOMMU off, or
 * not isolated); probing it would fail after the unbind from the host
 * driver, and only show as a bind timeout. */
static bool vf_has_iommu_group(const struct run *run, const struct sr_reservation *r)
{
	ssize_t pf = cfg_pf_by_pci(run->cfg, run->pfs, r->pf_pci);
	const struct sr_vf *vf = pf >= 0 ? sr_pf_find_vf(&run->pfs[pf], r->vf_index) : NULL;

	return vf && vf->iommu_group != SR_UNSET;
}

static int bind_vf(struct run *run, struct sr_reservation *r)
{
	struct sr_err e;
	char prev[SR_DRIVER_LEN] = "";

	if (!r->vf_pci[0])
		return 0;
	if (!strcmp(run->ctx->bind_driver, "vfio-pci") && !vf_has_iommu_group(run, r)) {
		snprintf(r->error, sizeof(r->error), "VF %s has no IOMMU group: vfio-pci refused",
			 r->vf_pci);
		LOG(run->ctx, LOG_WARNING,
		    "PF %s VF %u app %s: VF %s has no IOMMU group (no iommu_group link): not bound to vfio-pci, no domain config",
		    r->pf_pci, r->vf_index, r->app_uuid, r->vf_pci);
		run->ctx->n_warnings++;
		return 0;
	}
	if (sr_sysfs_bind_driver(run->ctx->sysfs, r->vf_pci, run->ctx->bind_driver, prev, &e)) {
		snprintf(r->error, sizeof(r->error), "bind to %s failed", run->ctx->bind_driver);
		LOG(run->ctx, LOG_WARNING, "PF %s VF %u app %s: %s", r->pf_pci, r->vf_index,
		    r->app_uuid, e.msg);
		run->ctx->n_warnings++;
		return 0;
	}
	if (!r->original_driver[0] && strcmp(prev, run->ctx->bind_driver))
		strcpy(r->original_driver, prev);
	strcpy(r->bound_driver, run->ctx->bind_driver);
	return 0;
}

static int state_build(struct run *run, struct sr_state *st, struct sr_reservation *res,
		       size_t n_res, const char *result)
{
	memset(st, 0, sizeof(*st));
	st->pfs = run->pfs;
	st->n_pfs = run->cfg->n_pfs;
	st->kernel = run->kernel;
	st->res = res;
	st->n_res = n_res;
	st->apps = run->cfg->apps;
	st->n_apps = run->cfg->n_apps;
	st->applied_at = time(NULL);
	snprintf(st->last_result, sizeof(st->last_result), "%s", result);
	return 0;
}

static bool state_unchanged(const struct sr_state *a, const struct sr_state *b)
{
	struct sr_state x = *a;
	uint8_t *ba = NULL, *bb = NULL;
	size_t la, lb;
	bool same;

	x.applied_at = b->applied_at;
	if (sr_state_encode(&x, &ba, &la, NULL) || sr_state_encode(b, &bb, &lb, NULL)) {
		free(ba);
		free(bb);
		return false;
	}
	same = la == lb && !memcmp(ba, bb, la);
	free(ba);
	free(bb);
	return same;
}

int sr_apply(struct sr_apply_ctx *ctx, const uint8_t *buf, size_t len, struct sr_state *st_out,
	     struct sr_err *err)
{
	struct sr_config cfg = { 0 };
	struct sr_state old = { 0 }, st;
	struct sr_reservation *res = NULL;
	size_t n_res = 0;
	struct sr_plan plan = { 0 };
	struct run run = { .ctx = ctx, .cfg = &cfg };
	struct counting cnt = { .ctx = ctx };
	struct sr_sysfs sysfs_counted;
	struct sr_nl nl_counted;
	struct sr_sysfs *saved_sysfs = ctx->sysfs;
	struct sr_nl *saved_nl = ctx->nl;
	int r;

	ctx->sysfs_writes = ctx->netlink_writes = ctx->n_actions = ctx->n_warnings = 0;

	/* 1. Decode and validate everything that needs no kernel. */
	if ((r = sr_config_decode(buf, len, &cfg, err)))
		return r;
	if ((r = sr_state_load(ctx->state_dir, &old, err)) ||
	    (r = sr_config_check_release(&cfg, len, old.n_res, err)))
		goto out;

	/* 2. Read the node (no writes) and check the config against it. */
	run.pfs = calloc(cfg.n_pfs ? cfg.n_pfs : 1, sizeof(*run.pfs));
	run.kernel = calloc(cfg.n_pfs ? cfg.n_pfs : 1, sizeof(*run.kernel));
	run.n_kernel = calloc(cfg.n_pfs ? cfg.n_pfs : 1, sizeof(*run.n_kernel));
	run.ifindex = calloc(cfg.n_pfs ? cfg.n_pfs : 1, sizeof(*run.ifindex));
	if (!run.pfs || !run.kernel || !run.n_kernel || !run.ifindex) {
		r = sr_err_set(err, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < cfg.n_pfs; i++) {
		const struct sr_pf_cfg *pc = &cfg.pfs[i];

		if ((r = sr_sysfs_find_pf(ctx->sysfs, pc->ifname, pc->pci, &run.pfs[i], err))) {
			sr_err_prefix(err, r, "deviceIoList[%u] (%s)", pc->io_index, sr_pf_cfg_label(pc));
			goto out;
		}
		strcpy(run.pfs[i].label, sr_pf_cfg_label(pc));
		if (pc->vf_count > run.pfs[i].totalvfs) {
			r = sr_err_set(err, -EINVAL,
				       "deviceIoList[%u] (%s) VF count %u: allowed 1..%u (sriov_totalvfs of %s)",
				       pc->io_index, sr_pf_cfg_label(pc), pc->vf_count,
				       run.pfs[i].totalvfs, run.pfs[i].pci);
			goto out;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(run.pfs[j].pci, run.pfs[i].pci)) {
				r = sr_err_set(err, -EINVAL,
					       "deviceIoList[%u] (%s) and deviceIoList[%u] (%s) are the same device %s",
					       cfg.pfs[j].io_index, sr_pf_cfg_label(&cfg.pfs[j]),
					       pc->io_index, sr_pf_cfg_label(pc), run.pfs[i].pci);
				goto out;
			}
		if ((r = sr_sysfs_read_vfs(ctx->sysfs, &run.pfs[i], err)))
			goto out;
		run.ifindex[i] = pf_ifindex(ctx, &run.pfs[i]);
		read_kernel(&run, i);
	}
	/* vfio-pci needs Linux's IOMMU groups. Under Xen the hypervisor owns
	 * the IOMMU and dom0 has no groups: Xen itself is asked (xen.h). */
	if (ctx->bind_driver && !strcmp(ctx->bind_driver, "vfio-pci") &&
	    !sr_sysfs_iommu_enabled(ctx->sysfs)) {
		r = sr_err_set(err, -ENODEV,
			       "passthrough to %s asked but the IOMMU is off (no IOMMU groups under %s/sys/kernel/iommu_groups): boot with intel_iommu=on (grub enable_sriov=true)",
			       ctx->bind_driver, ctx->sysfs->root);
		goto out;
	}
	if (ctx->bind_driver && !strcmp(ctx->bind_driver, SR_XEN_PCIBACK_DRIVER) &&
	    (r = sr_xen_check_passthrough(ctx->sysfs, ctx->xen, err)))
		goto out;

	/* 3. Reserve and plan: pure. */
	if ((r = sr_reserve(&cfg, run.pfs, old.res, old.n_res, &res, &n_res, err)))
		goto out;
	if ((r = sr_plan_compute(&cfg, run.pfs, run.kernel, run.n_kernel, old.res, old.n_res, res,
				 n_res, ctx->nl != NULL, ctx->bind_driver, &plan, err)))
		goto out;
	ctx->n_actions = plan.n;
	for (size_t i = 0; i < plan.n; i++) {
		char line[256];

		sr_action_format(&plan.actions[i], &cfg, old.res, res, line, sizeof(line));
		LOG(ctx, ctx->dry_run ? LOG_NOTICE : LOG_INFO, "plan: %s%s",
		    ctx->dry_run ? "would " : "", line);
	}
	if (ctx->dry_run)
		goto out;

	/* 4. Execute, counting every kernel write. */
	cnt.write = ctx->sysfs->write;
	cnt.write_ctx = ctx->sysfs->write_ctx;
	sysfs_counted = *ctx->sysfs;
	sysfs_counted.write = count_write;
	sysfs_counted.write_ctx = &cnt;
	ctx->sysfs = &sysfs_counted;
	if (ctx->nl) {
		cnt.send = ctx->nl->send;
		cnt.send_ctx = ctx->nl->send_ctx;
		nl_counted = *ctx->nl;
		nl_counted.send = count_send;
		nl_counted.send_ctx = &cnt;
		ctx->nl = &nl_counted;
	}

	for (size_t i = 0, n = 0; i < plan.n; i++)
		if (plan.actions[i].type == SR_ACT_RELEASE) {
			release(&run, &old.res[plan.actions[i].res]);
			fault_point("after-release", ++n);
		}
	for (size_t i = 0, n_numvfs = 0; i < plan.n; i++) {
		const struct sr_action *a = &plan.actions[i];

		if (a->type == SR_ACT_NO_AUTOPROBE) {
			if ((r = sr_sysfs_set_autoprobe(ctx->sysfs, run.pfs[a->pf].pci, false, err)))
				goto out_restore;
			run.pfs[a->pf].autoprobe = 0;
			continue;
		}
		if (a->type != SR_ACT_SET_NUMVFS)
			continue;
		if ((r = sr_sysfs_set_numvfs(ctx->sysfs, run.pfs[a->pf].pci, a->value, err))) {
			sr_err_prefix(err, r, "PF %s", sr_pf_cfg_label(&cfg.pfs[a->pf]));
			goto out_restore;
		}
		LOG(ctx, LOG_INFO, "PF %s: %u VFs", run.pfs[a->pf].pci, a->value);
		run.pfs[a->pf].numvfs = a->value;
		if ((r = sr_sysfs_read_vfs(ctx->sysfs, &run.pfs[a->pf], err)))
			goto out_restore;
		read_kernel(&run, a->pf);
		fault_point("after-numvfs", ++n_numvfs);
	}
	fill_vf_pci(&run, res, n_res);

	/* Save the original settings before the first change to a VF, and
	 * record them durably before any VF write. */
	for (size_t i = 0; i < n_res; i++) {
		ssize_t pf = cfg_pf_by_pci(&cfg, run.pfs, res[i].pf_pci);

		if (res[i].has_original || pf < 0 || !run.kernel[pf] ||
		    res[i].vf_index >= run.n_kernel[pf])
			continue;
		res[i].original = run.kernel[pf][res[i].vf_index];
		res[i].has_original = true;
	}
	/* The intent: the new reservations (with the originals just read) are
	 * durable before the first VF write (netlink or driver binding), so a
	 * restart after a crash knows which app holds which VF. */
	for (size_t i = 0; i < plan.n; i++) {
		if (plan.actions[i].type != SR_ACT_CONFIGURE && plan.actions[i].type != SR_ACT_BIND)
			continue;
		state_build(&run, &st, res, n_res, "applying");
		if ((r = sr_state_save(ctx->state_dir, &st, err)))
			goto out_restore;
		fault_point("after-save-intent", 1);
		break;
	}
	for (size_t i = 0, n_conf = 0; i < plan.n; i++) {
		const struct sr_action *a = &plan.actions[i];
		bool was_down = false;

		if (a->type != SR_ACT_CONFIGURE || !res[a->res].vf_pci[0])
			continue;
		if (ctx->nl && run.ifindex[a->pf] > 0 &&
		    !sr_nl_link_up(ctx->nl, run.ifindex[a->pf], &was_down) && was_down)
			LOG(ctx, LOG_INFO, "PF %s was down: brought it up", run.pfs[a->pf].pci);
		write_attrs(&run, run.ifindex[a->pf], run.pfs[a->pf].pci, &res[a->res],
			    &res[a->res].desired, a->attrs, "set");
		fault_point("after-configure", ++n_conf);
	}
	for (size_t i = 0, n = 0; i < plan.n; i++)
		if (plan.actions[i].type == SR_ACT_BIND) {
			bind_vf(&run, &res[plan.actions[i].res]);
			fault_point("after-bind", ++n);
		}
	for (size_t i = 0; i < cfg.n_pfs; i++) {
		if ((r = sr_sysfs_read_vfs(ctx->sysfs, &run.pfs[i], err)))
			goto out_restore;
		read_kernel(&run, i);
	}

	/* 5. Save the new state, unless nothing changed. */
	state_build(&run, &st, res, n_res, ctx->n_warnings ? "applied with warnings" : "applied");
	if (plan.n || !state_unchanged(&st, &old)) {
		fault_point("before-save", 1);
		if ((r = sr_state_save(ctx->state_dir, &st, err)))
			goto out_restore;
		fault_point("after-save", 1);
	}
	if (st_out) {
		/* Hand ownership of the pieces to the caller. */
		*st_out = st;
		st_out->apps = cfg.apps;
		cfg.apps = NULL;
		run.pfs = NULL;
		run.kernel = NULL;
		res = NULL;
	}
out_restore:
	ctx->sysfs = saved_sysfs;
	ctx->nl = saved_nl;
out:
	sr_plan_free(&plan);
	for (size_t i = 0; run.pfs && i < cfg.n_pfs; i++)
		sr_pf_clear(&run.pfs[i]);
	for (size_t i = 0; run.kernel && i < cfg.n_pfs; i++)
		free(run.kernel[i]);
	free(run.pfs);
	free(run.kernel);
	free(run.n_kernel);
	free(run.ifindex);
	free(res);
	sr_state_free(&old);
	sr_config_free(&cfg);
	return r;
}
