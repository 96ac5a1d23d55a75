/* SPDX-License-Identifier: MIT */
/*
 * Recovery of the reservations from the node (lib/engine/recover.c) and the
 * domain config reader it starts from (hypervisor/readback.c), on a fake
 * sysfs: recover_a then recover_b applied with vfio-pci, the state then
 * dropped; the domain configs the emitters write for that state say which
 * VF each app holds.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "check_run.h"
#include "config.h"
#include "fake_sysfs.h"
#include "files.h"
#include "hypervisor.h"
#include "node.h"
#include "recover.h"
#include "reserve.h"
#include "state.h"
#include "sysfs.h"

static char *root;
static char state_dir[600];
static struct sr_fake_driver *drv;
static struct sr_sysfs sysfs;
static struct sr_node_ops node;
static struct sr_node_real node_real;

static struct sr_config cfg;      /* recover_b, decoded */
static struct sr_pf *pfs;         /* its PFs on the node */
static struct sr_state saved;     /* the state recover_b left */
/* The claims: one per app of the saved state, from its emitted config. */
static struct sr_recover_claim claims[8];
static char (*claim_vfs[8])[SR_PCI_LEN];
static char sources[8][64];
static size_t n_claims;

static int apply_fixture(const char *name, struct sr_err *err)
{
	struct sr_apply_ctx ctx;
	char path[512];
	uint8_t *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s.pb", SR_FIXTURE_DIR, name);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	sr_node_real_init(&node, &node_real, &sysfs, NULL, NULL, NULL);
	ctx = (struct sr_apply_ctx){ .node = &node, .state_dir = state_dir,
				     .bind_driver = "vfio-pci" };
	r = sr_apply(&ctx, buf, len, NULL, err);
	free(buf);
	return r;
}

/* App i's domain config for hv, from the saved state, read back. */
static void claim_of(enum sr_hypervisor hv, size_t app)
{
	const struct sr_app *a = &saved.apps[app];
	struct sr_recover_claim *cl = &claims[n_claims];
	struct sr_err err = { "" };
	char *text = NULL, uuid[SR_UUID_LEN];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	*cl = (struct sr_recover_claim){ 0 };   /* CK_FORK=no: nothing left from the last test */
	ck_assert_ptr_nonnull(f);
	ck_assert_msg(sr_emit_domain(hv, a, saved.res, saved.n_res, f, &err) == 0, "%s", err.msg);
	fclose(f);
	ck_assert_msg(sr_domain_read(hv, text, len, uuid, &claim_vfs[n_claims], &cl->n_vf, &err) == 0,
		      "%s", err.msg);
	free(text);
	ck_assert_str_eq(uuid, a->uuid_str);
	snprintf(sources[n_claims], sizeof(sources[0]), "%.8s.%s.cfg", uuid, sr_hypervisor_name(hv));
	cl->source = sources[n_claims];
	strcpy(cl->app_uuid, uuid);
	cl->vf_pci = (const char (*)[SR_PCI_LEN])claim_vfs[n_claims];
	n_claims++;
}

static void setup(void)
{
	struct sr_fake_pf pf = {
		.pci = "0000:03:00.0", .ifname = "eth1", .driver = "igb", .totalvfs = 7,
		.offset = 128, .stride = 2, .vendor = 0x8086, .device = 0x10c9,
		.vf_device = 0x10ca, .vf_driver = "igbvf", .iommu = true,
	};
	struct sr_err err = { "" };
	char path[512];
	uint8_t *buf;
	size_t len;

	ck_assert_int_eq(sr_fake_sysfs_create(&root), 0);
	ck_assert_int_eq(sr_fake_sysfs_add_pf(root, &pf), 0);
	pf.pci = "0000:04:00.0";
	pf.ifname = "eth2";
	ck_assert_int_eq(sr_fake_sysfs_add_pf(root, &pf), 0);
	ck_assert_int_eq(sr_fake_sysfs_add_driver(root, "vfio-pci", false), 0);
	snprintf(state_dir, sizeof(state_dir), "%s/state", root);
	drv = sr_fake_driver_new(root, 2);
	ck_assert_ptr_nonnull(drv);
	sr_sysfs_init(&sysfs, root);
	sysfs.write = sr_fake_driver_write;
	sysfs.write_ctx = drv;
	sysfs.wait_timeout_ms = 5000;
	sysfs.wait_poll_ms = 2;
	ck_assert_msg(apply_fixture("recover_a", &err) == 0, "%s", err.msg);
	ck_assert_msg(apply_fixture("recover_b", &err) == 0, "%s", err.msg);
	ck_assert_int_eq(sr_state_load(state_dir, &saved, &err), 0);
	snprintf(path, sizeof(path), "%s/recover_b.pb", SR_FIXTURE_DIR);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	ck_assert_msg(sr_config_decode(buf, len, &cfg, &err) == 0, "%s", err.msg);
	free(buf);
	pfs = calloc(cfg.n_pfs, sizeof(*pfs));
	for (size_t i = 0; i < cfg.n_pfs; i++) {
		ck_assert_int_eq(sr_sysfs_find_pf(&sysfs, cfg.pfs[i].ifname, cfg.pfs[i].pci, &pfs[i],
						  &err), 0);
		ck_assert_int_eq(sr_sysfs_read_vfs(&sysfs, &pfs[i], &err), 0);
	}
	n_claims = 0;
	for (size_t a = 0; a < saved.n_apps; a++)
		if (sr_domain_eligible(SR_HV_KVM, &saved.apps[a], saved.res, saved.n_res, NULL, 0,
				       NULL) == 0)
			claim_of(SR_HV_KVM, a);
}

static void teardown(void)
{
	for (size_t i = 0; i < n_claims; i++)
		free(claim_vfs[i]);
	for (size_t i = 0; i < cfg.n_pfs; i++)
		sr_pf_clear(&pfs[i]);
	free(pfs);
	sr_config_free(&cfg);
	sr_state_free(&saved);
	sr_fake_driver_free(drv);
	sr_fake_sysfs_destroy(root);
}

/* The adapter of app (UUID prefix) on PF pf_pci, its index in cfg. */
static size_t adapter_of(const char *app, const char *pf_pci)
{
	for (size_t i = 0; i < cfg.n_adapters; i++)
		if (!strncmp(cfg.apps[cfg.adapters[i].app].uuid_str, app, strlen(app)) &&
		    !strcmp(pfs[cfg.adapters[i].pf].pci, pf_pci))
			return i;
	ck_abort_msg("no adapter of %s on %s", app, pf_pci);
	return 0;
}

/* The VF the saved state gave that adapter. */
static uint32_t saved_vf(size_t i)
{
	const struct sr_adapter_cfg *a = &cfg.adapters[i];

	for (size_t k = 0; k < saved.n_res; k++)
		if (!strcmp(saved.res[k].app_uuid, cfg.apps[a->app].uuid_str) &&
		    !strcmp(saved.res[k].adapter_name, a->name) &&
		    !strcmp(saved.res[k].pf_pci, pfs[a->pf].pci))
			return saved.res[k].vf_index;
	ck_abort_msg("adapter %zu not in the saved state", i);
	return 0;
}

/* The PCI address of the VF the saved state gave adapter i. */
static const char *res_pci_of(size_t i)
{
	const struct sr_vf *vf = sr_pf_find_vf(&pfs[cfg.adapters[i].pf], saved_vf(i));

	ck_assert_ptr_nonnull(vf);
	return vf->pci;
}

static const char *const guest[] = { "vfio-pci", "pciback", NULL };

static void recover_only(struct sr_recovery *rc)
{
	struct sr_err err = { "" };

	ck_assert_msg(sr_recover(&cfg, pfs, claims, n_claims, guest, rc, &err) == 0, "%s", err.msg);
}

/* A recovery with no conflict, and the reservations the next apply makes. */
static void recover_and_reserve(struct sr_recovery *rc, struct sr_reservation **res, size_t *n)
{
	struct sr_err err = { "" };

	recover_only(rc);
	ck_assert_msg(rc->n_conflicts == 0, "%zu conflict(s): %s", rc->n_conflicts,
		      rc->n_conflicts ? rc->conflicts[0].why : "");
	ck_assert_msg(sr_reserve(&cfg, pfs, rc->held, rc->n_held, res, n, &err) == 0, "%s", err.msg);
}

/* The claim of app (UUID prefix). */
static struct sr_recover_claim *claim_for(const char *app)
{
	for (size_t k = 0; k < n_claims; k++)
		if (!strncmp(claims[k].app_uuid, app, strlen(app)))
			return &claims[k];
	ck_abort_msg("no claim of %s", app);
	return NULL;
}

/* The conflict on VF pci, or NULL. */
static const struct sr_recover_conflict *conflict_on(const struct sr_recovery *rc,
						      const char *pci)
{
	for (size_t i = 0; i < rc->n_conflicts; i++)
		if (!strcmp(rc->conflicts[i].vf_pci, pci))
			return &rc->conflicts[i];
	return NULL;
}

static void assert_conflict(const struct sr_recovery *rc, const char *pci, const char *why)
{
	const struct sr_recover_conflict *k = conflict_on(rc, pci);

	ck_assert_msg(k, "no conflict on %s (%zu conflict(s))", pci, rc->n_conflicts);
	ck_assert_msg(strstr(k->why, why), "%s: %s", pci, k->why);
	ck_assert_str_eq(k->driver, "vfio-pci");
}

/* The node's VF pci (of any PF). */
static struct sr_vf *node_vf(const char *pci)
{
	for (size_t p = 0; p < cfg.n_pfs; p++)
		for (size_t v = 0; v < pfs[p].n_vfs; v++)
			if (!strcmp(pfs[p].vfs[v].pci, pci))
				return &pfs[p].vfs[v];
	ck_abort_msg("no VF %s", pci);
	return NULL;
}

/* Every app keeps its VF: the point of recovery. A plain apply without
 * state would give bbbb, cccc, dddd VFs 0, 1, 2 of uplink1 (config order);
 * the node has them on 1, 2, 0. */
START_TEST(test_from_domain_configs)
{
	struct sr_recovery rc;
	struct sr_reservation *res, *none;
	size_t n, n_none;
	struct sr_err err = { "" };

	ck_assert_uint_eq(n_claims, 4);
	recover_and_reserve(&rc, &res, &n);
	ck_assert_uint_eq(rc.n_held, cfg.n_adapters);
	for (size_t i = 0; i < cfg.n_adapters; i++) {
		ck_assert_msg(rc.adapters[i].how == SR_RECOVER_HELD, "adapter %zu: %s", i,
			      rc.adapters[i].why);
		ck_assert_uint_eq(res[i].vf_index, saved_vf(i));
	}
	ck_assert_str_eq(rc.held[0].bound_driver, "vfio-pci");
	ck_assert_uint_eq(rc.n_notes, 0);
	ck_assert_uint_eq(saved_vf(adapter_of("dddd", "0000:03:00.0")), 0);
	/* The control: without the recovered reservations, config order. */
	ck_assert_int_eq(sr_reserve(&cfg, pfs, NULL, 0, &none, &n_none, &err), 0);
	ck_assert_uint_eq(none[adapter_of("dddd", "0000:03:00.0")].vf_index, 2);
	free(none);
	free(res);
	sr_recovery_free(&rc);
}
END_TEST

/* cccc's config names bbbb's uplink1 VF too: kept for neither, and both
 * VFs (bbbb's, and cccc's own that no config names now) are on vfio-pci:
 * a guest may hold each, and recovery cannot say whose. Conflicts: given
 * out in config order, bbbb would get VF 1 and cccc VF 2 by luck only. */
START_TEST(test_vf_claimed_twice)
{
	size_t b = adapter_of("bbbb", "0000:03:00.0"), c = adapter_of("cccc", "0000:03:00.0");
	size_t d = adapter_of("dddd", "0000:03:00.0"), b2 = adapter_of("bbbb", "0000:04:00.0");
	struct sr_recovery rc;

	strcpy(claim_vfs[claim_for("cccc") - claims][0], "0000:03:10.2");
	recover_only(&rc);
	ck_assert_int_eq(rc.adapters[b].how, SR_RECOVER_UNKNOWN);
	ck_assert_int_eq(rc.adapters[c].how, SR_RECOVER_UNKNOWN);
	ck_assert_msg(strstr(rc.adapters[c].why, "VF 0000:03:10.2 is named by two domain configs (bbbbbbbb.kvm.cfg and cccccccc.kvm.cfg)"),
		      "%s", rc.adapters[c].why);
	ck_assert_int_eq(rc.adapters[b2].how, SR_RECOVER_HELD);
	ck_assert_int_eq(rc.adapters[d].how, SR_RECOVER_HELD);
	ck_assert_uint_eq(rc.n_conflicts, 2);
	assert_conflict(&rc, "0000:03:10.2",
			"named by bbbbbbbb.kvm.cfg (app bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb) and by cccccccc.kvm.cfg (app cccccccc-cccc-4ccc-8ccc-cccccccccccc)");
	assert_conflict(&rc, "0000:03:10.4", "named by no domain config");
	ck_assert_uint_eq(rc.n_notes, 0);
	sr_recovery_free(&rc);
}
END_TEST

/* The hostile probe (issue 23, 6): dddd's domain config edited to name
 * cccc's VF. Given out in config order, cccc would get VF 0 (dddd's guest
 * holds it) and dddd VF 2 (cccc's guest holds it): a swap. Both VFs are
 * conflicts, naming both files and both apps. */
START_TEST(test_swap_refused)
{
	size_t c = adapter_of("cccc", "0000:03:00.0"), d = adapter_of("dddd", "0000:03:00.0");
	struct sr_recovery rc;
	struct sr_reservation *res;
	struct sr_err err = { "" };
	size_t n;

	ck_assert_uint_eq(saved_vf(c), 2);
	ck_assert_uint_eq(saved_vf(d), 0);
	strcpy(claim_vfs[claim_for("dddd") - claims][0], "0000:03:10.4");
	recover_only(&rc);
	ck_assert_int_eq(rc.adapters[c].how, SR_RECOVER_UNKNOWN);
	ck_assert_int_eq(rc.adapters[d].how, SR_RECOVER_UNKNOWN);
	ck_assert_uint_eq(rc.n_conflicts, 2);
	assert_conflict(&rc, "0000:03:10.4",
			"named by cccccccc.kvm.cfg (app cccccccc-cccc-4ccc-8ccc-cccccccccccc) and by dddddddd.kvm.cfg (app dddddddd-dddd-4ddd-8ddd-dddddddddddd)");
	assert_conflict(&rc, "0000:03:10.0", "named by no domain config");
	/* What a recovery that went on would do: the swap. */
	ck_assert_int_eq(sr_reserve(&cfg, pfs, rc.held, rc.n_held, &res, &n, &err), 0);
	ck_assert_uint_eq(res[c].vf_index, 0);
	ck_assert_uint_eq(res[d].vf_index, 2);
	free(res);
	sr_recovery_free(&rc);
}
END_TEST

/* The same two VFs given back to the host (igbvf; a third on no driver):
 * no guest holds them, they are free, and recovery goes on. A VF on Xen's
 * pciback is a guest's as much as one on vfio-pci, whatever the
 * hypervisor. */
START_TEST(test_contested_not_bound)
{
	size_t c = adapter_of("cccc", "0000:03:00.0"), d = adapter_of("dddd", "0000:03:00.0");
	struct sr_recovery rc;
	struct sr_reservation *res;
	size_t n;

	strcpy(claim_vfs[claim_for("dddd") - claims][0], "0000:03:10.4");
	strcpy(node_vf("0000:03:10.4")->driver, "igbvf");
	strcpy(node_vf("0000:03:10.0")->driver, "");
	recover_and_reserve(&rc, &res, &n);
	ck_assert_int_eq(rc.adapters[c].how, SR_RECOVER_UNKNOWN);
	ck_assert_int_eq(rc.adapters[d].how, SR_RECOVER_UNKNOWN);
	free(res);
	sr_recovery_free(&rc);
	strcpy(node_vf("0000:03:10.0")->driver, "pciback");
	recover_only(&rc);
	ck_assert_uint_eq(rc.n_conflicts, 1);
	ck_assert_str_eq(rc.conflicts[0].vf_pci, "0000:03:10.0");
	ck_assert_str_eq(rc.conflicts[0].driver, "pciback");
	sr_recovery_free(&rc);
}
END_TEST

/* dddd's config names a VF the node no longer has (the VF count went
 * down, or the address is of another device): dddd's VF is not known, and
 * the VF its guest holds (VF 0, on vfio-pci) is a conflict, never given
 * out. Given back to the host, it is free: dddd gets a free VF after the
 * others, never a VF another app holds. */
START_TEST(test_vf_gone)
{
	size_t d = adapter_of("dddd", "0000:03:00.0");
	struct sr_recovery rc;
	struct sr_reservation *res;
	size_t n;

	strcpy(claim_vfs[claim_for("dddd") - claims][0], "0000:03:17.6");
	recover_only(&rc);
	ck_assert_int_eq(rc.adapters[d].how, SR_RECOVER_UNKNOWN);
	ck_assert_msg(strstr(rc.adapters[d].why, "VF 0000:03:17.6 named by dddddddd.kvm.cfg is not a VF of the config's PFs on this node"),
		      "%s", rc.adapters[d].why);
	ck_assert_uint_eq(rc.n_conflicts, 1);
	assert_conflict(&rc, "0000:03:10.0", "named by no domain config");
	sr_recovery_free(&rc);
	strcpy(node_vf("0000:03:10.0")->driver, "igbvf");
	recover_and_reserve(&rc, &res, &n);
	ck_assert_uint_eq(rc.n_held, cfg.n_adapters - 1);
	for (size_t i = 0; i < cfg.n_adapters; i++)
		if (i != d)
			ck_assert_uint_eq(res[i].vf_index, saved_vf(i));
	ck_assert_uint_eq(res[d].vf_index, 0);
	free(res);
	sr_recovery_free(&rc);
}
END_TEST

/* A VF of the other PF, a VF the config names for another adapter, a
 * config with fewer VFs than the app's adapters, an app not in the config:
 * each adapter says why, and each VF their guests hold is a conflict that
 * says who names it. */
START_TEST(test_refused_claims)
{
	size_t b = adapter_of("bbbb", "0000:03:00.0"), b2 = adapter_of("bbbb", "0000:04:00.0");
	size_t e = adapter_of("eeee", "0000:04:00.0");
	struct sr_recovery rc;

	claim_for("bbbb")->n_vf = 1;                                   /* uplink2's VF not named */
	strcpy(claim_vfs[claim_for("eeee") - claims][0], "0000:03:10.6"); /* a VF of uplink1 */
	memcpy(claim_for("cccc")->app_uuid, "ffffffff", 8);            /* not in the config */
	recover_only(&rc);
	ck_assert_int_eq(rc.adapters[b].how, SR_RECOVER_HELD);
	ck_assert_int_eq(rc.adapters[b2].how, SR_RECOVER_UNKNOWN);
	ck_assert_msg(strstr(rc.adapters[b2].why, "names 1 VF(s), none at position 1"), "%s",
		      rc.adapters[b2].why);
	ck_assert_int_eq(rc.adapters[e].how, SR_RECOVER_UNKNOWN);
	ck_assert_msg(strstr(rc.adapters[e].why, "is a VF of PF uplink1, the adapter asks PF uplink2"),
		      "%s", rc.adapters[e].why);
	ck_assert_msg(strstr(rc.notes[0], "app ffffffff-cccc-4ccc-8ccc-cccccccccccc is not in the config"),
		      "%s", rc.notes[0]);
	assert_conflict(&rc, "0000:03:10.4",
			"named by cccccccc.kvm.cfg, the domain config of app ffffffff-cccc-4ccc-8ccc-cccccccccccc, which is not in the config");
	assert_conflict(&rc, res_pci_of(b2), "named by no domain config");
	assert_conflict(&rc, res_pci_of(e), "named by no domain config");
	sr_recovery_free(&rc);
}
END_TEST

/* The config names VF 0 for cccc (<pf>vf0) while dddd's domain config,
 * which the node agrees with, names it: dddd's guest may hold it, so it is
 * a conflict that names both apps (the config would hand it to cccc).
 * Undisputed, a VF the config names is no conflict. */
START_TEST(test_named_disputed)
{
	size_t c = adapter_of("cccc", "0000:03:00.0"), d = adapter_of("dddd", "0000:03:00.0");
	struct sr_recovery rc;

	cfg.adapters[c].vf_index = 0;
	recover_only(&rc);
	ck_assert_int_eq(rc.adapters[c].how, SR_RECOVER_NAMED);
	ck_assert_int_eq(rc.adapters[d].how, SR_RECOVER_UNKNOWN);
	assert_conflict(&rc, "0000:03:10.0",
			"the config gives it to app cccccccc-cccc-4ccc-8ccc-cccccccccccc adapter uplink1#0, and dddddddd.kvm.cfg (app dddddddd-dddd-4ddd-8ddd-dddddddddddd) names it");
	/* cccc's own VF 2, named by cccc's file for an adapter that the
	 * config gives VF 0: a conflict too, and says so. */
	assert_conflict(&rc, "0000:03:10.4",
			"named by cccccccc.kvm.cfg for app cccccccc-cccc-4ccc-8ccc-cccccccccccc adapter uplink1#0, to which the config gives VF 0");
	ck_assert_uint_eq(rc.n_conflicts, 2);
	sr_recovery_free(&rc);
	/* dddd's file gone: VF 0 is the config's for cccc, undisputed. */
	claim_for("dddd")->refused = "gone";
	strcpy(node_vf("0000:03:10.4")->driver, "igbvf");
	recover_only(&rc);
	ck_assert_msg(rc.n_conflicts == 0, "%s", rc.n_conflicts ? rc.conflicts[0].why : "");
	sr_recovery_free(&rc);
}
END_TEST

/* A file recover could not use (here: a second VF at position 0) is a
 * claim with the reason: its app's adapters say what was refused and why,
 * not "no domain config was found". */
START_TEST(test_refused_file)
{
	size_t d = adapter_of("dddd", "0000:03:00.0");
	struct sr_recover_claim *cl = claim_for("dddd");
	struct sr_recovery rc;

	cl->refused = "line 5: a second VF at position 0";
	recover_only(&rc);
	ck_assert_int_eq(rc.adapters[d].how, SR_RECOVER_UNKNOWN);
	ck_assert_str_eq(rc.adapters[d].why,
			 "its domain config dddddddd.kvm.cfg was not used: line 5: a second VF at position 0");
	ck_assert_str_eq(rc.notes[0], "dddddddd.kvm.cfg: not used: line 5: a second VF at position 0");
	assert_conflict(&rc, "0000:03:10.0", "named by no domain config");
	sr_recovery_free(&rc);
}
END_TEST

/* The reader takes what the emitters write, KVM and Xen, and nothing else. */
START_TEST(test_read_back)
{
	static const char *const bad[] = {
		"",
		"# QEMU -readconfig file for app 11111111-1111-4111-8111-111111111111.\n",
		"# QEMU -readconfig file for app 11111111-1111-4111-8111-111111111111.\n# edited\n",
		"# QEMU -readconfig file for app 11111111-1111-4111-8111-111111111111.\n"
		"# Generated by sriov-agent; x\n[device \"vf1\"]\n  host = \"0000:03:10.0\"\n",
		"# QEMU -readconfig file for app 11111111-1111-4111-8111-111111111111.\n"
		"# Generated by sriov-agent; x\n[device \"vf0\"]\n  host = \"../../etc\"\n",
		"# QEMU -readconfig file for app not-a-uuid-1111-4111-8111-111111111111.\n"
		"# Generated by sriov-agent; x\n",
	};
	const char *xen = "# xl.cfg for app 22222222-2222-4222-8222-222222222222.\n"
			  "# Generated by sriov-agent; x\nname = \"x\"\n"
			  "pci = [ '0000:03:10.2', '0000:04:10.0' ]\n";
	struct sr_err err = { "" };
	char uuid[SR_UUID_LEN], (*v)[SR_PCI_LEN] = NULL;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(sr_domain_read(SR_HV_KVM, bad[i], strlen(bad[i]), uuid, &v, &n, &err) ==
				      -EINVAL,
			      "bad[%zu] accepted", i);
	ck_assert_msg(sr_domain_read(SR_HV_XEN, xen, strlen(xen), uuid, &v, &n, &err) == 0, "%s",
		      err.msg);
	ck_assert_str_eq(uuid, "22222222-2222-4222-8222-222222222222");
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(v[1], "0000:04:10.0");
	free(v);
	/* Xen's config of a saved app, through the emitter. */
	claim_of(SR_HV_XEN, 0);
	ck_assert_uint_ge(claims[n_claims - 1].n_vf, 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("recover");
	TCase *tc = tcase_create("recover");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_from_domain_configs);
	tcase_add_test(tc, test_vf_claimed_twice);
	tcase_add_test(tc, test_swap_refused);
	tcase_add_test(tc, test_contested_not_bound);
	tcase_add_test(tc, test_refused_file);
	tcase_add_test(tc, test_named_disputed);
	tcase_add_test(tc, test_vf_gone);
	tcase_add_test(tc, test_refused_claims);
	tcase_add_test(tc, test_read_back);
	suite_add_tcase(s, tc);
	return sr_check_run(s);
}
