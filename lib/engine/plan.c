/* SPDX-License-Identifier: MIT */
/*
 * The planner: a pure function of (config, node view, old and new
 * reservations) to the ordered list of actions an apply runs. Nothing here
 * reads or writes the node; exec.c runs the list in the order given.
 */
#include "plan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "drivers.h"
#include "reserve.h"
#include "set.h"

void sr_plan_free(struct sr_plan *p)
{
	free(p->actions);
	*p = (struct sr_plan){ 0 };
}

bool sr_action_changes_node(enum sr_action_type t)
{
	return t == SR_ACT_RELEASE || t == SR_ACT_NO_AUTOPROBE || t == SR_ACT_SET_NUMVFS ||
	       t == SR_ACT_CONFIGURE || t == SR_ACT_BIND;
}

static int plan_add(struct sr_plan *p, struct sr_action a, struct sr_err *err)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct sr_action *n = realloc(p->actions, cap * sizeof(*n));

		if (!n)
			return sr_err_set(err, -ENOMEM, "plan: out of memory");
		p->actions = n;
		p->cap = cap;
	}
	p->actions[p->n++] = a;
	if (sr_action_changes_node(a.type))
		p->n_changes++;
	return 0;
}

ssize_t sr_plan_pf_by_pci(const struct sr_plan_input *in, const char *pci)
{
	for (size_t i = 0; i < in->cfg->n_pfs; i++)
		if (!strcmp(in->pfs[i].pci, pci))
			return (ssize_t)i;
	return -1;
}

/* The PF's VFs are destroyed and created again. */
static bool pf_recreated(const struct sr_plan_input *in, size_t pf)
{
	return in->pfs[pf].numvfs != in->cfg->pfs[pf].vf_count;
}

/* The new reservations by VF, so each old one is looked up in O(1). */
static int index_res(const struct sr_plan_input *in, struct sr_set *by_vf, struct sr_err *err)
{
	uint8_t key[SR_SET_KEY_MAX];
	size_t dup;

	if (sr_set_init(by_vf, in->n_res))
		return sr_err_set(err, -ENOMEM, "plan: out of memory");
	for (size_t i = 0; i < in->n_res; i++)
		if (sr_set_add(by_vf, key,
			       sr_reservation_vf_key(key, in->res[i].pf_pci, in->res[i].vf_index), i,
			       &dup) < 0)
			return sr_err_set(err, -ENOMEM, "plan: out of memory");
	return 0;
}

/* Does the new set keep this old reservation (same VF, same app adapter)? */
static bool kept(const struct sr_plan_input *in, const struct sr_set *by_vf,
		 const struct sr_reservation *o)
{
	uint8_t key[SR_SET_KEY_MAX];
	const struct sr_reservation *n;
	size_t i;

	if (sr_set_find(by_vf, key, sr_reservation_vf_key(key, o->pf_pci, o->vf_index), &i) != 1)
		return false;
	n = &in->res[i];
	return sr_reservation_same_adapter(o, n);
}

static unsigned attrs_to_write(const struct sr_reservation *r,
			       const struct sr_vf_settings *have, bool fresh)
{
	unsigned mask = 0;

	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		if (!sr_vf_attr_is_set(a, &r->desired))
			continue;
		/* Refused before with the same settings: do not hammer the driver
		 * (sr_reserve carries results over only when settings are equal).
		 * "Later" (a VF in reset) is no refusal: asked again. */
		if (!fresh && r->attr_result[a] < 0 && !sr_attr_result_later(r->attr_result[a]))
			continue;
		if (!fresh && have && sr_vf_attr_matches(a, &r->desired, have))
			continue;
		if (!fresh && !have && r->attr_result[a] == 0)
			continue; /* no kernel view (no netlink): trust the record */
		mask |= 1u << a;
	}
	return mask;
}

/* Releases: a VF an app gives up, on a PF whose VFs survive. */
static int plan_releases(const struct sr_plan_input *in, struct sr_plan *p, struct sr_err *err)
{
	struct sr_set by_vf = { 0 };
	/* No old reservations (a first apply): nothing to look up. */
	int r = in->n_old ? index_res(in, &by_vf, err) : 0;

	for (size_t i = 0; !r && i < in->n_old; i++) {
		ssize_t pf = sr_plan_pf_by_pci(in, in->old[i].pf_pci);

		if (kept(in, &by_vf, &in->old[i]) || (pf >= 0 && pf_recreated(in, (size_t)pf)))
			continue;
		r = plan_add(p, (struct sr_action){ .type = SR_ACT_RELEASE, .res = i }, err);
	}
	sr_set_free(&by_vf);
	return r;
}

static int plan_pfs(const struct sr_plan_input *in, struct sr_plan *p, struct sr_err *err)
{
	for (size_t i = 0; i < in->cfg->n_pfs; i++) {
		const struct sr_driver_rules *rules;
		int r;

		if (in->bind_driver && in->pfs[i].autoprobe == 1 &&
		    (r = plan_add(p, (struct sr_action){ .type = SR_ACT_NO_AUTOPROBE, .pf = i }, err)))
			return r;
		if (!pf_recreated(in, i))
			continue;
		rules = sr_driver_rules_of(in->pfs[i].driver);
		if (rules && (rules->rules & SR_RULE_PF_UP_FIRST) &&
		    (r = plan_add(p, (struct sr_action){ .type = SR_ACT_PF_UP, .pf = i }, err)))
			return r;
		if ((r = plan_add(p, (struct sr_action){ .type = SR_ACT_SET_NUMVFS, .pf = i,
							 .value = in->cfg->pfs[i].vf_count }, err)))
			return r;
	}
	return 0;
}

static int plan_configures(const struct sr_plan_input *in, struct sr_plan *p,
			   struct sr_err *err)
{
	for (size_t i = 0; in->configure && i < in->n_res; i++) {
		ssize_t pf = sr_plan_pf_by_pci(in, in->res[i].pf_pci);
		unsigned mask;
		int r;

		if (pf < 0)
			continue;
		mask = attrs_to_write(&in->res[i], sr_pf_vf_kernel(&in->pfs[pf], in->res[i].vf_index),
				      pf_recreated(in, (size_t)pf));
		if (mask && (r = plan_add(p, (struct sr_action){ .type = SR_ACT_CONFIGURE,
								 .pf = (size_t)pf, .res = i,
								 .attrs = mask }, err)))
			return r;
	}
	return 0;
}

/* The record is not enough: after a crash between a VF count change and the
 * state save, or a driver reload, the VF may be back on its host driver
 * while the record still says bound. */
static bool needs_bind(const struct sr_plan_input *in, size_t pf, const struct sr_reservation *r)
{
	const struct sr_vf *vf = sr_pf_find_vf(&in->pfs[pf], r->vf_index);

	return pf_recreated(in, pf) || strcmp(r->bound_driver, in->bind_driver) ||
	       (vf && strcmp(vf->driver, in->bind_driver));
}

static int plan_binds(const struct sr_plan_input *in, struct sr_plan *p, struct sr_err *err)
{
	for (size_t i = 0; in->bind_driver && i < in->n_res; i++) {
		ssize_t pf = sr_plan_pf_by_pci(in, in->res[i].pf_pci);
		int r;

		/* A VF's own settings (vflist.data) on a VF no app holds: no
		 * passthrough. */
		if (pf < 0 || sr_reservation_is_vf_config(&in->res[i]) ||
		    !needs_bind(in, (size_t)pf, &in->res[i]))
			continue;
		if ((r = plan_add(p, (struct sr_action){ .type = SR_ACT_BIND, .pf = (size_t)pf,
							 .res = i }, err)))
			return r;
	}
	return 0;
}

static bool any_without_original(const struct sr_plan_input *in)
{
	for (size_t i = 0; i < in->n_res; i++)
		if (!in->res[i].has_original)
			return true;
	return false;
}

static int plan_add_type(struct sr_plan *p, enum sr_action_type t, struct sr_err *err)
{
	return plan_add(p, (struct sr_action){ .type = t }, err);
}

int sr_plan_compute(const struct sr_plan_input *in, struct sr_plan *out, struct sr_err *err)
{
	struct sr_plan p = { 0 }, writes = { 0 };
	int r;

	/* Before the first kernel write: no domain config may name a VF
	 * that goes to another app, even if the apply dies half way. */
	if (in->domains && (r = plan_add_type(&p, SR_ACT_RETIRE_DOMAINS, err)))
		goto fail;
	if ((r = plan_releases(in, &p, err)) || (r = plan_pfs(in, &p, err)) ||
	    (r = plan_add_type(&p, SR_ACT_MAP_VFS, err)))
		goto fail;
	if (in->configure && any_without_original(in) &&
	    (r = plan_add_type(&p, SR_ACT_CAPTURE, err)))
		goto fail;
	/* The VF writes, planned apart so the intent save goes before them. */
	if ((r = plan_configures(in, &writes, err)) || (r = plan_binds(in, &writes, err)))
		goto fail;
	if (writes.n && (r = plan_add_type(&p, SR_ACT_SAVE_INTENT, err)))
		goto fail;
	for (size_t i = 0; i < writes.n; i++)
		if ((r = plan_add(&p, writes.actions[i], err)))
			goto fail;
	/* Read back only what this run changed: with no kernel write the
	 * node is as read_node left it (a reread cost a second walk of every
	 * VF: ~50k syscalls at 4096 VFs). */
	if ((p.n_changes && (r = plan_add_type(&p, SR_ACT_REREAD, err))) ||
	    (r = plan_add_type(&p, SR_ACT_SAVE, err)) ||
	    (in->domains && (r = plan_add_type(&p, SR_ACT_WRITE_DOMAINS, err))) ||
	    (in->save_config && (r = plan_add_type(&p, SR_ACT_SAVE_CONFIG, err))))
		goto fail;
	sr_plan_free(&writes);
	*out = p;
	return 0;
fail:
	sr_plan_free(&writes);
	sr_plan_free(&p);
	return r;
}

static void format_configure(const struct sr_action *a, const struct sr_reservation *r,
			     char *buf, size_t cap)
{
	size_t off = (size_t)snprintf(buf, cap, "configure PF %s VF %u (app %s):", r->pf_pci,
				      r->vf_index, sr_reservation_owner(r));

	for (int i = 0; i < SR_ATTR__COUNT && off < cap; i++)
		if (a->attrs & (1u << i))
			off += (size_t)snprintf(buf + off, cap - off, " %s", sr_vf_attr_name(i));
}

void sr_action_format(const struct sr_action *a, const struct sr_plan_input *in, char *buf,
		      size_t cap)
{
	const struct sr_reservation *o = a->type == SR_ACT_RELEASE ? &in->old[a->res] : NULL;
	const struct sr_reservation *r =
		a->type == SR_ACT_CONFIGURE || a->type == SR_ACT_BIND ? &in->res[a->res] : NULL;

	switch (a->type) {
	case SR_ACT_RETIRE_DOMAINS:
		snprintf(buf, cap, "remove the domain configs of apps whose VFs change hands");
		break;
	case SR_ACT_RELEASE:
		snprintf(buf, cap, "release PF %s VF %u (app %s): restore its original settings",
			 o->pf_pci, o->vf_index, sr_reservation_owner(o));
		break;
	case SR_ACT_NO_AUTOPROBE:
		snprintf(buf, cap, "set PF %s sriov_drivers_autoprobe to 0 (VFs go to passthrough)",
			 sr_pf_cfg_label(&in->cfg->pfs[a->pf]));
		break;
	case SR_ACT_PF_UP:
		snprintf(buf, cap, "bring PF %s up before its VF count (rule for %s: %s)",
			 sr_pf_cfg_label(&in->cfg->pfs[a->pf]), in->pfs[a->pf].driver,
			 sr_driver_rules_of(in->pfs[a->pf].driver)->source);
		break;
	case SR_ACT_SET_NUMVFS:
		snprintf(buf, cap, "set PF %s sriov_numvfs to %u",
			 sr_pf_cfg_label(&in->cfg->pfs[a->pf]), a->value);
		break;
	case SR_ACT_MAP_VFS:
		snprintf(buf, cap, "record the PCI address of each reserved VF");
		break;
	case SR_ACT_CAPTURE:
		snprintf(buf, cap, "record the original settings of newly reserved VFs");
		break;
	case SR_ACT_SAVE_INTENT:
		snprintf(buf, cap, "save the reservations before the first VF write");
		break;
	case SR_ACT_CONFIGURE:
		format_configure(a, r, buf, cap);
		break;
	case SR_ACT_BIND:
		snprintf(buf, cap, "bind PF %s VF %u (app %s) for passthrough", r->pf_pci,
			 r->vf_index, r->app_uuid);
		break;
	case SR_ACT_REREAD:
		snprintf(buf, cap, "read the VFs and their settings back");
		break;
	case SR_ACT_SAVE:
		snprintf(buf, cap, "save the state if it changed");
		break;
	case SR_ACT_WRITE_DOMAINS:
		snprintf(buf, cap, "write the domain configs of the apps holding VFs");
		break;
	case SR_ACT_SAVE_CONFIG:
		snprintf(buf, cap, "save the config as the one in force, if it changed");
		break;
	default:
		snprintf(buf, cap, "unknown action %d", (int)a->type);
		break;
	}
}
