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

static void recover_and_reserve(struct sr_recovery *rc, struct sr_reservation **res, size_t *n)
{
	struct sr_err err = { "" };

	ck_assert_msg(sr_recover(&cfg, pfs, claims, n_claims, "vfio-pci", rc, &err) == 0, "%s",
		      err.msg);
	ck_assert_msg(sr_reserve(&cfg, pfs, rc->held, rc->n_held, res, n, &err) == 0, "%s", err.msg);
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

/* cccc's config names bbbb's uplink1 VF too: kept for neither; both get a
 * free VF after the others (dddd stays on VF 0), and each says why. */
START_TEST(test_vf_claimed_twice)
{
	size_t b = adapter_of("bbbb", "0000:03:00.0"), c = adapter_of("cccc", "0000:03:00.0");
	size_t d = adapter_of("dddd", "0000:03:00.0"), b2 = adapter_of("bbbb", "0000:04:00.0");
	struct sr_recovery rc;
	struct sr_reservation *res;
	size_t n;

	for (size_t k = 0; k < n_claims; k++)
		if (!strncmp(claims[k].app_uuid, "cccc", 4))
			strcpy(claim_vfs[k][0], "0000:03:10.2");
	recover_and_reserve(&rc, &res, &n);
	ck_assert_int_eq(rc.adapters[b].how, SR_RECOVER_UNKNOWN);
	ck_assert_int_eq(rc.adapters[c].how, SR_RECOVER_UNKNOWN);
	ck_assert_msg(strstr(rc.adapters[c].why, "VF 0000:03:10.2 is named by two domain configs (bbbbbbbb.kvm.cfg and cccccccc.kvm.cfg)"),
		      "%s", rc.adapters[c].why);
	ck_assert_int_eq(rc.adapters[b2].how, SR_RECOVER_HELD);
	ck_assert_int_eq(rc.adapters[d].how, SR_RECOVER_HELD);
	ck_assert_uint_eq(res[d].vf_index, 0);
	ck_assert_uint_eq(res[b].vf_index, 1);  /* the lowest free: config order */
	ck_assert_uint_eq(res[c].vf_index, 2);
	/* VF 1 and 2 are on vfio-pci, no one recovered holds them: said. */
	ck_assert_uint_eq(rc.n_notes, 2);
	ck_assert_msg(strstr(rc.notes[0], "VF 0000:03:10.2 (PF uplink1 VF 1) is bound to vfio-pci and held by no app recovered"),
		      "%s", rc.notes[0]);
	free(res);
	sr_recovery_free(&rc);
}
END_TEST

/* dddd's config names a VF the node no longer has (the VF count went
 * down, or the address is of another device): dddd gets a free VF after
 * the others, never a VF another app holds. */
START_TEST(test_vf_gone)
{
	size_t d = adapter_of("dddd", "0000:03:00.0");
	struct sr_recovery rc;
	struct sr_reservation *res;
	size_t n;

	for (size_t k = 0; k < n_claims; k++)
		if (!strncmp(claims[k].app_uuid, "dddd", 4))
			strcpy(claim_vfs[k][0], "0000:03:17.6");
	recover_and_reserve(&rc, &res, &n);
	ck_assert_int_eq(rc.adapters[d].how, SR_RECOVER_UNKNOWN);
	ck_assert_msg(strstr(rc.adapters[d].why, "VF 0000:03:17.6 named by dddddddd.kvm.cfg is not a VF of the config's PFs on this node"),
		      "%s", rc.adapters[d].why);
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
 * config with fewer VFs than the app's adapters, an app not in the config. */
START_TEST(test_refused_claims)
{
	size_t b = adapter_of("bbbb", "0000:03:00.0"), b2 = adapter_of("bbbb", "0000:04:00.0");
	size_t e = adapter_of("eeee", "0000:04:00.0");
	struct sr_recovery rc;
	struct sr_reservation *res;
	size_t n;

	for (size_t k = 0; k < n_claims; k++) {
		if (!strncmp(claims[k].app_uuid, "bbbb", 4))
			claims[k].n_vf = 1;                       /* uplink2's VF not named */
		if (!strncmp(claims[k].app_uuid, "eeee", 4))
			strcpy(claim_vfs[k][0], "0000:03:10.6");  /* a VF of uplink1 */
		if (!strncmp(claims[k].app_uuid, "cccc", 4))
			memcpy(claims[k].app_uuid, "ffffffff", 8); /* not in the config */
	}
	recover_and_reserve(&rc, &res, &n);
	ck_assert_int_eq(rc.adapters[b].how, SR_RECOVER_HELD);
	ck_assert_int_eq(rc.adapters[b2].how, SR_RECOVER_UNKNOWN);
	ck_assert_msg(strstr(rc.adapters[b2].why, "names 1 VF(s), none at position 1"), "%s",
		      rc.adapters[b2].why);
	ck_assert_int_eq(rc.adapters[e].how, SR_RECOVER_UNKNOWN);
	ck_assert_msg(strstr(rc.adapters[e].why, "is a VF of PF uplink1, the adapter asks PF uplink2"),
		      "%s", rc.adapters[e].why);
	ck_assert_msg(strstr(rc.notes[0], "app ffffffff-cccc-4ccc-8ccc-cccccccccccc is not in the config"),
		      "%s", rc.notes[0]);
	free(res);
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
	tcase_add_test(tc, test_vf_gone);
	tcase_add_test(tc, test_refused_claims);
	tcase_add_test(tc, test_read_back);
	suite_add_tcase(s, tc);
	return sr_check_run(s);
}
