/* SPDX-License-Identifier: MIT */
/*
 * The planner (lib/engine/plan.c), table-driven: (node view, old reservations,
 * new reservations, options) -> the exact list of actions, in order. Covers
 * every action type and the orderings that matter: releases before any VF
 * count change, VF counts before configuring, every configure before any
 * bind, the intent saved before the first VF write.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"

#define MAX_VFS 8
#define MAX_RES 8

static const char *const pf_pci[2] = { "0000:03:00.0", "0000:04:00.0" };

struct plan_case {
	const char *name;
	uint32_t numvfs[2];       /* on the node */
	uint32_t vf_count[2];     /* asked by the config */
	int8_t autoprobe;         /* of both PFs */
	const char *vf_driver;    /* every VF's current driver */
	int kernel;               /* 0 unknown, 1 defaults, 2 = desired settings */
	/* Reservations: "<app><pf><vf>[flags]" e.g. "A00b": app A, PF 0, VF 0.
	 * Flags: b bound to the bind driver, o original saved, k mac+vlan
	 * applied before, r mac refused before, l mac and vlan answered "later"
	 * (EAGAIN, EBUSY) before, 2 adapter position 2. */
	const char *old;
	const char *res;
	bool configure;
	const char *bind;         /* passthrough driver or NULL */
	const char *want;
	const char *pf_driver;    /* both PFs' driver (rules: drivers.h); NULL: none */
	bool outputs;             /* domain configs retired and written, config saved */
};

static const struct plan_case cases[] = {
	{ "bnxt_en: each PF up before its VF count (drivers.h rule), only where it changes",
	  { 0, 2 }, { 4, 3 }, 0, "", 1, "", "A00 C10", true, NULL,
	  "pfup:0 numvfs:0:4 pfup:1 numvfs:1:3 map capture intent configure:0:mac,vlan "
	  "configure:0:mac,vlan reread save", "bnxt_en" , false },
	{ "bnxt_en, VF count unchanged: no PF up planned (CONFIGURE brings it up)",
	  { 4, 2 }, { 4, 2 }, 0, "", 1, "", "A00", true, NULL,
	  "map capture intent configure:0:mac,vlan reread save", "bnxt_en" , false },
	{ "fresh node: autoprobe off and VF count per PF, then configure all, then bind all",
	  { 0, 0 }, { 4, 2 }, 1, "", 1, "", "A00 B01 C10", true, "vfio-pci",
	  "noautoprobe:0 numvfs:0:4 noautoprobe:1 numvfs:1:2 map capture intent "
	  "configure:0:mac,vlan configure:1:mac,vlan configure:0:mac,vlan bind:0 bind:1 bind:0 "
	  "reread save", NULL , false },
	{ "unchanged: nothing to change, only the bookkeeping",
	  { 4, 2 }, { 4, 2 }, 0, "vfio-pci", 2, "A00bok B01bok", "A00bok B01bok", true, "vfio-pci",
	  "map save", NULL , false },
	{ "release before the VF count change of another PF",
	  { 4, 2 }, { 4, 3 }, 0, "vfio-pci", 2, "A00bok B01bok C02bok", "A00bok B01bok", true,
	  "vfio-pci", "release:2 numvfs:1:3 map reread save", NULL , false },
	{ "no release on a PF whose VFs are recreated",
	  { 4, 2 }, { 3, 2 }, 0, "vfio-pci", 2, "A00bok B01bok", "A00bok", true, "vfio-pci",
	  "numvfs:0:3 map intent configure:0:mac,vlan bind:0 reread save", NULL , false },
	{ "the same VF for another adapter of the app is a release and a new configure",
	  { 4, 2 }, { 4, 2 }, 0, "vfio-pci", 1, "A00bok", "A00b2", true, "vfio-pci",
	  "release:0 map capture intent configure:0:mac,vlan reread save", NULL , false },
	{ "VF back on its host driver while the record says bound: bind again",
	  { 4, 2 }, { 4, 2 }, 0, "igbvf", 2, "A00bok", "A00bok", true, "vfio-pci",
	  "map intent bind:0 reread save", NULL , false },
	{ "kernel drifted: configure again what no longer matches",
	  { 4, 2 }, { 4, 2 }, 0, "vfio-pci", 1, "A00bok", "A00bok", true, "vfio-pci",
	  "map intent configure:0:mac,vlan reread save", NULL , false },
	{ "refused before with the same settings: not asked again",
	  { 4, 2 }, { 4, 2 }, 0, "vfio-pci", 1, "A00bor", "A00bor", true, "vfio-pci",
	  "map intent configure:0:vlan reread save", NULL , false },
	{ "answered \"later\" before (a VF in reset, EAGAIN/EBUSY): asked again",
	  { 4, 2 }, { 4, 2 }, 0, "vfio-pci", 1, "A00bol", "A00bol", true, "vfio-pci",
	  "map intent configure:0:mac,vlan reread save", NULL, false },
	{ "refused before but the VFs are recreated: asked again",
	  { 4, 2 }, { 2, 2 }, 0, "", 1, "A00bor", "A00bor", true, "vfio-pci",
	  "numvfs:0:2 map intent configure:0:mac,vlan bind:0 reread save", NULL , false },
	{ "no kernel view: trust the record of what was applied",
	  { 4, 2 }, { 4, 2 }, 0, "", 0, "A00ok", "A00ok", true, NULL, "map save", NULL , false },
	{ "no netlink: no capture, no configure",
	  { 0, 0 }, { 4, 2 }, 1, "", 0, "", "A00 B10", false, "vfio-pci",
	  "noautoprobe:0 numvfs:0:4 noautoprobe:1 numvfs:1:2 map intent bind:0 bind:0 reread save", NULL , false },
	{ "no passthrough: no autoprobe change, no bind",
	  { 0, 0 }, { 4, 2 }, 1, "", 1, "", "A00", true, NULL,
	  "numvfs:0:4 numvfs:1:2 map capture intent configure:0:mac,vlan reread save", NULL , false },
	{ "release of a VF on a PF no longer configured",
	  { 4, 2 }, { 4, 2 }, 0, "vfio-pci", 2, "A00bok Z90bok", "A00bok", true, "vfio-pci",
	  "release:1 map reread save", NULL , false },
	{ "outputs: domain configs retired before the first write, written after the save, config saved last",
	  { 4, 2 }, { 4, 2 }, 0, "vfio-pci", 2, "A00bok Z90bok", "A00bok", true, "vfio-pci",
	  "retire release:1 map reread save domains saveconfig", NULL, true },
	{ "outputs with nothing to change: still written (the domain dir may have lost one)",
	  { 4, 2 }, { 4, 2 }, 0, "vfio-pci", 2, "A00bok B01bok", "A00bok B01bok", true, "vfio-pci",
	  "retire map save domains saveconfig", NULL, true },
};

/* One parsed table: the config, the node and the reservations. */
struct world {
	struct sr_config cfg;
	struct sr_pf_cfg pfc[2];
	struct sr_pf pfs[2];
	struct sr_vf vfs[2][MAX_VFS];
	struct sr_reservation old[MAX_RES], res[MAX_RES];
	size_t n_old, n_res;
};

static struct sr_vf_settings desired(void)
{
	struct sr_vf_settings s;

	sr_vf_settings_init(&s);
	s.has_mac = true;
	memcpy(s.mac, (uint8_t[]){ 0x02, 0, 0, 0, 1, 1 }, 6);
	s.vlan = 100;
	return s;
}

static struct sr_vf_settings kernel_defaults(void)
{
	struct sr_vf_settings s;

	sr_vf_settings_init(&s);
	s.has_mac = true; /* 00:00:00:00:00:00 */
	s.vlan = 0;
	s.qos = 0;
	s.spoofchk = 1;
	s.trust = 0;
	return s;
}

static size_t parse_res(const char *spec, const char *bind, struct sr_reservation *out)
{
	char buf[256], *save = NULL;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save), n++) {
		struct sr_reservation *r = &out[n];
		int pf = t[1] - '0';

		ck_assert_uint_lt(n, MAX_RES);
		sr_reservation_init(r);
		snprintf(r->app_uuid, sizeof(r->app_uuid), "%c%c%c%c-app", t[0], t[0], t[0], t[0]);
		snprintf(r->pf_pci, sizeof(r->pf_pci), "%s", pf < 2 ? pf_pci[pf] : "0000:09:00.0");
		r->vf_index = (uint32_t)(t[2] - '0');
		r->desired = desired();
		for (const char *f = t + 3; *f; f++) {
			if (*f == 'b')
				snprintf(r->bound_driver, sizeof(r->bound_driver), "%s", bind ? bind : "");
			if (*f == 'o')
				r->has_original = true;
			if (*f == 'k')
				r->attr_result[SR_ATTR_MAC] = r->attr_result[SR_ATTR_VLAN] = 0;
			if (*f == 'r') {
				r->attr_result[SR_ATTR_MAC] = -EOPNOTSUPP;
				r->attr_result[SR_ATTR_VLAN] = 0;
			}
			if (*f == 'l') {
				r->attr_result[SR_ATTR_MAC] = -EAGAIN;
				r->attr_result[SR_ATTR_VLAN] = -EBUSY;
			}
			if (*f == '2')
				r->adapter = 2;
		}
	}
	return n;
}

static void build(const struct plan_case *c, struct world *w)
{
	memset(w, 0, sizeof(*w));
	for (int p = 0; p < 2; p++) {
		struct sr_pf *pf = &w->pfs[p];

		snprintf(w->pfc[p].logicallabel, SR_LABEL_LEN, "uplink%d", p);
		w->pfc[p].vf_count = c->vf_count[p];
		snprintf(pf->pci, sizeof(pf->pci), "%s", pf_pci[p]);
		pf->numvfs = c->numvfs[p];
		pf->totalvfs = MAX_VFS;
		pf->autoprobe = c->autoprobe;
		snprintf(pf->driver, sizeof(pf->driver), "%s", c->pf_driver ? c->pf_driver : "");
		pf->vfs = w->vfs[p];
		pf->n_vfs = c->numvfs[p];
		for (uint32_t v = 0; v < c->numvfs[p]; v++) {
			struct sr_vf *vf = &w->vfs[p][v];

			vf->index = v;
			snprintf(vf->pci, sizeof(vf->pci), "0000:0%d:10.%u", 3 + p, v % 8u);
			snprintf(vf->driver, sizeof(vf->driver), "%s", c->vf_driver);
			vf->iommu_group = (int32_t)v;
			vf->has_kernel = c->kernel != 0;
			vf->kernel = c->kernel == 2 ? desired() : kernel_defaults();
		}
	}
	w->cfg.pfs = w->pfc;
	w->cfg.n_pfs = 2;
	w->n_old = parse_res(c->old, c->bind, w->old);
	w->n_res = parse_res(c->res, c->bind, w->res);
}

static const char *const type_names[SR_ACT__COUNT] = {
	[SR_ACT_RELEASE] = "release",   [SR_ACT_NO_AUTOPROBE] = "noautoprobe",
	[SR_ACT_PF_UP] = "pfup",
	[SR_ACT_SET_NUMVFS] = "numvfs", [SR_ACT_MAP_VFS] = "map",
	[SR_ACT_CAPTURE] = "capture",   [SR_ACT_SAVE_INTENT] = "intent",
	[SR_ACT_CONFIGURE] = "configure", [SR_ACT_BIND] = "bind",
	[SR_ACT_REREAD] = "reread",     [SR_ACT_SAVE] = "save",
	[SR_ACT_RETIRE_DOMAINS] = "retire", [SR_ACT_WRITE_DOMAINS] = "domains",
	[SR_ACT_SAVE_CONFIG] = "saveconfig",
};

/* The plan's input for case c over its parsed world w. */
static struct sr_plan_input input_of(const struct plan_case *c, const struct world *w)
{
	return (struct sr_plan_input){
		.cfg = &w->cfg, .pfs = w->pfs, .old = w->old, .n_old = w->n_old, .res = w->res,
		.n_res = w->n_res, .configure = c->configure, .bind_driver = c->bind,
		.domains = c->outputs, .save_config = c->outputs,
	};
}

static void render(const struct sr_plan *p, const struct world *w, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < p->n && off < cap; i++) {
		const struct sr_action *a = &p->actions[i];

		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? " " : "", type_names[a->type]);
		if (a->type == SR_ACT_RELEASE)
			off += (size_t)snprintf(buf + off, cap - off, ":%zu", a->res);
		if (a->type == SR_ACT_NO_AUTOPROBE || a->type == SR_ACT_PF_UP)
			off += (size_t)snprintf(buf + off, cap - off, ":%zu", a->pf);
		if (a->type == SR_ACT_SET_NUMVFS)
			off += (size_t)snprintf(buf + off, cap - off, ":%zu:%u", a->pf, a->value);
		if (a->type == SR_ACT_BIND || a->type == SR_ACT_CONFIGURE)
			off += (size_t)snprintf(buf + off, cap - off, ":%u", w->res[a->res].vf_index);
		for (int b = 0, first = 1; a->type == SR_ACT_CONFIGURE && b < SR_ATTR__COUNT; b++)
			if (a->attrs & (1u << b)) {
				off += (size_t)snprintf(buf + off, cap - off, "%c%s", first ? ':' : ',',
							sr_vf_attr_name(b));
				first = 0;
			}
	}
}

START_TEST(test_plan_table)
{
	const struct plan_case *c = &cases[_i];
	struct sr_err err = { "" };
	struct sr_plan plan = { 0 };
	struct world w;
	char got[1024];
	size_t changes = 0;

	build(c, &w);
	struct sr_plan_input in = input_of(c, &w);

	ck_assert_msg(sr_plan_compute(&in, &plan, &err) == 0, "%s: %s", c->name, err.msg);
	render(&plan, &w, got, sizeof(got));
	ck_assert_msg(!strcmp(got, c->want), "%s:\n  got  %s\n  want %s", c->name, got, c->want);
	for (size_t i = 0; i < plan.n; i++) {
		char line[256];

		changes += sr_action_changes_node(plan.actions[i].type);
		sr_action_format(&plan.actions[i], &in, line, sizeof(line));
		ck_assert_msg(line[0] && !strstr(line, "unknown"), "%s: action %zu has no text",
			      c->name, i);
	}
	ck_assert_uint_eq(plan.n_changes, changes);
	sr_plan_free(&plan);
}
END_TEST

/* Across the table every action type appears at least once. */
START_TEST(test_plan_every_type)
{
	bool seen[SR_ACT__COUNT] = { false };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct sr_plan plan = { 0 };
		struct world w;

		build(&cases[k], &w);
		struct sr_plan_input in = input_of(&cases[k], &w);

		ck_assert_int_eq(sr_plan_compute(&in, &plan, NULL), 0);
		for (size_t i = 0; i < plan.n; i++)
			seen[plan.actions[i].type] = true;
		sr_plan_free(&plan);
	}
	for (int t = 0; t < SR_ACT__COUNT; t++)
		ck_assert_msg(seen[t], "no case plans a %s action", type_names[t]);
}
END_TEST

/* The orderings that matter hold in every plan of the table. */
START_TEST(test_plan_orderings)
{
	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		int last[SR_ACT__COUNT], first[SR_ACT__COUNT];
		struct sr_plan plan = { 0 };
		struct world w;

		build(&cases[k], &w);
		struct sr_plan_input in = input_of(&cases[k], &w);

		ck_assert_int_eq(sr_plan_compute(&in, &plan, NULL), 0);
		for (int t = 0; t < SR_ACT__COUNT; t++)
			last[t] = -1, first[t] = 1 << 20;
		for (size_t i = 0; i < plan.n; i++) {
			enum sr_action_type t = plan.actions[i].type;

			last[t] = (int)i;
			if (first[t] > (int)i)
				first[t] = (int)i;
		}
		/* releases < numvfs < configure < bind; intent before both writes */
		ck_assert_int_lt(last[SR_ACT_RELEASE], first[SR_ACT_SET_NUMVFS]);
		ck_assert_int_lt(last[SR_ACT_SET_NUMVFS], first[SR_ACT_CONFIGURE]);
		ck_assert_int_lt(last[SR_ACT_CONFIGURE], first[SR_ACT_BIND]);
		ck_assert_int_lt(last[SR_ACT_SAVE_INTENT], first[SR_ACT_CONFIGURE]);
		ck_assert_int_lt(last[SR_ACT_SAVE_INTENT], first[SR_ACT_BIND]);
		/* the outputs: retired first, written after the state, the
		 * config saved last */
		int tail = cases[k].outputs ? 2 : 0;

		ck_assert_int_eq(first[SR_ACT_RETIRE_DOMAINS], cases[k].outputs ? 0 : 1 << 20);
		ck_assert_int_eq(last[SR_ACT_WRITE_DOMAINS], cases[k].outputs ? (int)plan.n - 2 : -1);
		ck_assert_int_eq(last[SR_ACT_SAVE_CONFIG], cases[k].outputs ? (int)plan.n - 1 : -1);
		ck_assert_int_eq(last[SR_ACT_SAVE], (int)plan.n - 1 - tail);
		/* read back exactly when the run writes to the kernel */
		ck_assert_int_eq(last[SR_ACT_REREAD], plan.n_changes ? (int)plan.n - 2 - tail : -1);
		sr_plan_free(&plan);
	}
}
END_TEST

static Suite *plan_suite(void)
{
	Suite *s = suite_create("plan");
	TCase *tc = tcase_create("plan");

	tcase_add_loop_test(tc, test_plan_table, 0, (int)(sizeof(cases) / sizeof(cases[0])));
	tcase_add_test(tc, test_plan_every_type);
	tcase_add_test(tc, test_plan_orderings);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sr_check_run(plan_suite());
}
