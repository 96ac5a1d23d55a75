/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: sr_config_decode (protobuf-c decode + validation) on
 * arbitrary bytes. Besides "no crash, no leak, no UB" it checks the
 * decoder's contract:
 *  - on error: a non-empty message, and *out untouched;
 *  - on success: a model that keeps the promises config.h and model.h make
 *    (VF counts >= 1, valid ifname/PCI, adapters pointing inside the arrays,
 *    explicit VF indexes below the PF's count, at most vf_count adapters per
 *    PF, settings inside their ranges, unique app UUIDs and MACs, each
 *    adapter's name 1..75 bytes and its occurrence the number of earlier
 *    adapters of its app with that name, so (app, name, occurrence) is
 *    unique).
 *  - the error message is UTF-8 text on one line, whatever the input held;
 *  - the reserver and the planner on a synthetic node built from the
 *    config (VF counts from the input's last bytes): no VF reserved twice,
 *    every explicit "<pf>vf<N>" honoured, MACs unique, a second reserve
 *    over the first keeps every VF (stable), the plan over an applied node
 *    is empty, and in any plan every old reservation is kept, released by
 *    exactly one RELEASE, or on a PF whose VFs are recreated.
 * A broken promise aborts, which the fuzzer reports as a crash.
 *
 * SR_FUZZ_ENTRY renames the entry point so fuzz_regress can link both
 * targets into one program.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "config.h"
#include "reserve.h"
#include "text.h"

#ifndef SR_FUZZ_ENTRY
#define SR_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int SR_FUZZ_ENTRY(const uint8_t *data, size_t size);

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_config: contract broken: %s\n", what);
	abort();
}

static bool nul_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void check_settings(const struct sr_vf_settings *s)
{
	if (s->vlan != SR_UNSET && (s->vlan < SR_VLAN_MIN || s->vlan > SR_VLAN_MAX))
		broken("vlan out of 1..4094");
	if (s->qos != SR_UNSET && (s->qos < 0 || s->qos > SR_QOS_MAX))
		broken("qos out of 0..7");
	if ((s->qos != SR_UNSET || s->vlan_proto != SR_UNSET) && s->vlan == SR_UNSET)
		broken("qos or vlan_proto without a VLAN");
	if (s->vlan_proto != SR_UNSET && s->vlan_proto != SR_ETH_P_8021Q &&
	    s->vlan_proto != SR_ETH_P_8021AD)
		broken("vlan_proto neither 802.1Q nor 802.1ad");
	if (s->spoofchk != SR_UNSET && s->spoofchk != 0 && s->spoofchk != 1)
		broken("spoofchk not unset/0/1");
	if (s->trust != SR_UNSET && s->trust != 0 && s->trust != 1)
		broken("trust not unset/0/1");
	if (s->link_state != SR_UNSET &&
	    (s->link_state < SR_LINK_STATE_AUTO || s->link_state > SR_LINK_STATE_DISABLE))
		broken("link_state out of range");
	if (s->has_mac && !sr_mac_is_unicast(s->mac))
		broken("MAC not unicast");
	if (s->min_tx_rate > 0 && s->max_tx_rate > 0 && s->min_tx_rate > s->max_tx_rate)
		broken("min_tx_rate above max_tx_rate");
}

static void check_config(const struct sr_config *c)
{
	for (size_t i = 0; i < c->n_pfs; i++) {
		const struct sr_pf_cfg *pf = &c->pfs[i];

		if (!nul_terminated(pf->logicallabel, sizeof(pf->logicallabel)) ||
		    !nul_terminated(pf->phylabel, sizeof(pf->phylabel)) ||
		    !nul_terminated(pf->assigngrp, sizeof(pf->assigngrp)) ||
		    !nul_terminated(pf->ifname, sizeof(pf->ifname)) ||
		    !nul_terminated(pf->pci, sizeof(pf->pci)))
			broken("PF string not terminated");
		if (pf->vf_count < 1)
			broken("PF with VF count 0");
		if (!pf->ifname[0] && !pf->pci[0])
			broken("PF with neither ifname nor PCI address");
		if (pf->ifname[0] && !sr_valid_ifname(pf->ifname))
			broken("PF ifname invalid");
		if (pf->pci[0] && !sr_valid_pci(pf->pci))
			broken("PF PCI address invalid");
		if (!sr_pf_cfg_label(pf)[0])
			broken("PF without a label");
	}
	for (size_t i = 0; i < c->n_apps; i++) {
		if (!nul_terminated(c->apps[i].uuid_str, sizeof(c->apps[i].uuid_str)) ||
		    !nul_terminated(c->apps[i].name, sizeof(c->apps[i].name)))
			broken("app string not terminated");
		for (size_t j = 0; j < i; j++)
			if (!memcmp(c->apps[i].uuid, c->apps[j].uuid, sizeof(uuid_t)))
				broken("two apps with one UUID");
	}
	for (size_t i = 0; i < c->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &c->adapters[i];
		uint32_t before = 0;

		if (a->app >= c->n_apps || a->pf >= c->n_pfs)
			broken("adapter points outside apps/pfs");
		if (a->vf_index != SR_UNSET &&
		    (a->vf_index < 0 || a->vf_index >= c->pfs[a->pf].vf_count))
			broken("explicit VF index out of the PF's range");
		check_settings(&a->settings);
		if (!nul_terminated(a->name, sizeof(a->name)) || !a->name[0])
			broken("adapter name empty or not terminated");
		for (size_t j = 0; j < i; j++) {
			const struct sr_adapter_cfg *b = &c->adapters[j];

			before += b->app == a->app && !strcmp(b->name, a->name);

			if (a->vf_index != SR_UNSET && b->pf == a->pf && b->vf_index == a->vf_index)
				broken("one VF named by two adapters");
			if (a->settings.has_mac && b->settings.has_mac &&
			    !memcmp(a->settings.mac, b->settings.mac, 6))
				broken("one MAC on two adapters");
		}
		if (a->occurrence != before)
			broken("adapter occurrence is not its count among same-name adapters");
	}
	for (size_t p = 0; p < c->n_pfs; p++) {
		size_t asked = 0;

		for (size_t i = 0; i < c->n_adapters; i++)
			asked += c->adapters[i].pf == p;
		if (asked > c->pfs[p].vf_count)
			broken("more adapters than VFs on a PF");
	}
}

/* ---- the reserver and the planner ---- */

#define PLAN_MAX_PFS 32
#define PLAN_MAX_VFS 256

static bool same_vf(const struct sr_reservation *a, const struct sr_reservation *b)
{
	return a->vf_index == b->vf_index && !strcmp(a->pf_pci, b->pf_pci);
}

static void check_reservations(const struct sr_config *c, const struct sr_reservation *res,
			       size_t n)
{
	if (n < c->n_adapters)
		broken("fewer reservations than VF adapters");
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (same_vf(&res[i], &res[j]))
				broken("one VF reserved twice");
			if (res[i].desired.has_mac && res[j].desired.has_mac &&
			    !memcmp(res[i].desired.mac, res[j].desired.mac, 6))
				broken("one MAC on two reservations");
		}
	}
	for (size_t i = 0; i < c->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &c->adapters[i];

		if (res[i].vf_index >= c->pfs[a->pf].vf_count)
			broken("reserved VF index beyond the PF's VF count");
		if (a->vf_index != SR_UNSET && res[i].vf_index != (uint32_t)a->vf_index)
			broken("explicit <pf>vf<N> not honoured");
		if (strcmp(res[i].app_uuid, c->apps[a->app].uuid_str))
			broken("reservation of another app");
		if (strcmp(res[i].adapter_name, a->name) || res[i].occurrence != a->occurrence)
			broken("reservation without its adapter's identity");
	}
}

/* In plan p from old to res: each old reservation is kept, released once,
 * or on a PF whose VF count changes (its VFs are destroyed). */
static void check_releases(const struct sr_config *c, const struct sr_pf *pfs,
			   const struct sr_reservation *old, size_t n_old,
			   const struct sr_reservation *res, size_t n_res, const struct sr_plan *p)
{
	for (size_t i = 0; i < n_old; i++) {
		const struct sr_reservation *n = sr_reservation_find(res, n_res, old[i].pf_pci,
								     old[i].vf_index);
		bool kept = n && sr_reservation_same_adapter(&old[i], n);
		bool recreated = false;
		size_t releases = 0;

		for (size_t k = 0; k < c->n_pfs; k++)
			if (!strcmp(pfs[k].pci, old[i].pf_pci))
				recreated = pfs[k].numvfs != c->pfs[k].vf_count;
		for (size_t a = 0; a < p->n; a++)
			releases += p->actions[a].type == SR_ACT_RELEASE && p->actions[a].res == i;
		if (kept && releases)
			broken("a kept reservation is released");
		if (!kept && !recreated && releases != 1)
			broken("a dropped reservation is neither released once nor recreated");
	}
}

static void check_plan(const struct sr_config *c, const uint8_t *data, size_t size)
{
	struct sr_pf pfs[PLAN_MAX_PFS];
	struct sr_reservation *res0 = NULL, *res1 = NULL, *old = NULL;
	size_t n0 = 0, n1 = 0;
	struct sr_plan p = { 0 };
	struct sr_err err = { "" };

	if (c->n_pfs > PLAN_MAX_PFS)
		return;
	memset(pfs, 0, sizeof(pfs));
	for (size_t i = 0; i < c->n_pfs; i++) {
		if (c->pfs[i].vf_count > PLAN_MAX_VFS)
			return;
		snprintf(pfs[i].pci, sizeof(pfs[i].pci), "0000:%02zx:00.0", i + 1);
		snprintf(pfs[i].ifname, sizeof(pfs[i].ifname), "fz%zu", i);
		pfs[i].totalvfs = pfs[i].numvfs = c->pfs[i].vf_count;
		pfs[i].autoprobe = SR_UNSET;
	}
	if (sr_reserve(c, pfs, NULL, 0, &res0, &n0, &err))
		return; /* refused (e.g. vflist.data against an adapter): a message, no plan */
	check_reservations(c, res0, n0);
	if (sr_reserve(c, pfs, res0, n0, &res1, &n1, &err))
		broken("a second reserve over the first is refused");
	if (n1 != n0)
		broken("a second reserve changes the count");
	for (size_t i = 0; i < n0; i++)
		if (!same_vf(&res0[i], &res1[i]))
			broken("a second reserve moves a VF");
	struct sr_plan_input in = { .cfg = c, .pfs = pfs, .old = res0, .n_old = n0,
				    .res = res1, .n_res = n1 };

	if (sr_plan_compute(&in, &p, &err))
		broken("plan refused");
	if (p.n_changes)
		broken("the plan over an applied node changes it");
	sr_plan_free(&p);

	/* An older assignment: apps rotated over the same VFs, some PFs at
	 * another VF count (from the input's last bytes). */
	old = calloc(n0 ? n0 : 1, sizeof(*old));
	if (!old)
		goto out;
	for (size_t i = 0; i < n0; i++) {
		old[i] = res0[i];
		memcpy(old[i].app_uuid, res0[(i + 1) % n0].app_uuid, sizeof(old[i].app_uuid));
	}
	for (size_t i = 0; i < c->n_pfs && i < size; i++)
		if (data[size - 1 - i] & 1)
			pfs[i].numvfs = data[size - 1 - i] % (c->pfs[i].vf_count + 1);
	in = (struct sr_plan_input){ .cfg = c, .pfs = pfs, .old = old, .n_old = n0, .res = res1,
				     .n_res = n1, .configure = true, .bind_driver = "vfio-pci" };
	if (sr_plan_compute(&in, &p, &err))
		broken("plan refused");
	check_releases(c, pfs, old, n0, res1, n1, &p);
	for (size_t a = 0; a < p.n; a++)
		if (p.actions[a].type == SR_ACT_SET_NUMVFS &&
		    p.actions[a].value != c->pfs[p.actions[a].pf].vf_count)
			broken("SET_NUMVFS to another count than the config's");
	sr_plan_free(&p);
out:
	free(old);
	free(res0);
	free(res1);
}

int SR_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	struct sr_config c, pristine;
	struct sr_err err = { "" };
	int r;

	memset(&c, 0xa5, sizeof(c));
	memcpy(&pristine, &c, sizeof(c));
	r = sr_config_decode(data, size, &c, &err);
	if (r) {
		if (r >= 0)
			broken("error code not a negative errno");
		if (!err.msg[0] || !nul_terminated(err.msg, sizeof(err.msg)))
			broken("error without a message");
		if (!sr_text_printable(err.msg))
			broken("error message not UTF-8 text on one line");
		if (memcmp(&c, &pristine, sizeof(c)))
			broken("*out written on error");
		return 0;
	}
	check_config(&c);
	check_plan(&c, data, size);
	sr_config_free(&c);
	return 0;
}
