/* SPDX-License-Identifier: MIT */
/* Reservation table: which app adapter gets which VF. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "files.h"
#include "reserve.h"
#include "state.h"

static struct sr_config cfg;
static struct sr_pf pfs[2];

static void setup_fixture(const char *name)
{
	char path[512];
	uint8_t *buf;
	size_t len;
	struct sr_err err = { "" };

	snprintf(path, sizeof(path), "%s/%s.pb", SR_FIXTURE_DIR, name);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	ck_assert_msg(sr_config_decode(buf, len, &cfg, &err) == 0, "%s", err.msg);
	free(buf);
	memset(pfs, 0, sizeof(pfs));
	strcpy(pfs[0].pci, "0000:03:00.0");
	strcpy(pfs[0].ifname, "eth1");
	strcpy(pfs[1].pci, "0000:04:00.0");
	strcpy(pfs[1].ifname, "eth2");
}

static void teardown(void)
{
	sr_config_free(&cfg);
}

/* Expected VF per adapter for two_pfs from an empty table: VF 3 is named
 * explicitly, the rest take the lowest free. */
START_TEST(test_fresh)
{
	static const struct {
		const char *app;
		const char *pf;
		uint32_t vf;
	} want[] = {
		{ "11111111-1111-4111-8111-111111111111", "0000:03:00.0", 0 },
		{ "22222222-2222-4222-8222-222222222222", "0000:03:00.0", 1 },
		{ "33333333-3333-4333-8333-333333333333", "0000:03:00.0", 3 },
		{ "44444444-4444-4444-8444-444444444444", "0000:04:00.0", 0 },
		{ "55555555-5555-4555-8555-555555555555", "0000:04:00.0", 1 },
	};
	struct sr_reservation *res;
	size_t n;
	struct sr_err err = { "" };

	setup_fixture("two_pfs");
	ck_assert_msg(sr_reserve(&cfg, pfs, NULL, 0, &res, &n, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(n, 5);
	for (size_t i = 0; i < n; i++) {
		ck_assert_str_eq(res[i].app_uuid, want[i].app);
		ck_assert_str_eq(res[i].pf_pci, want[i].pf);
		ck_assert_uint_eq(res[i].vf_index, want[i].vf);
		ck_assert_str_eq(res[i].vf_pci, "");
		/* A MAC is always there: configured or derived. */
		ck_assert(res[i].desired.has_mac);
		ck_assert(!res[i].has_original);
	}
	ck_assert_uint_eq(res[0].desired.mac[5], 0x01);
	free(res);
}
END_TEST

/* Re-reserving with the previous table as "old" gives the same VFs, even
 * when the config order changes, and carries saved state over. */
START_TEST(test_sticky)
{
	struct sr_reservation *a, *b;
	size_t na, nb;
	struct sr_err err = { "" };

	setup_fixture("two_pfs");
	ck_assert_int_eq(sr_reserve(&cfg, pfs, NULL, 0, &a, &na, &err), 0);
	a[1].has_original = true;
	a[1].original.vlan = 0;
	strcpy(a[1].bound_driver, "vfio-pci");
	/* Swap the first two apps' adapters in the config: app 2 would now get
	 * VF 0 as lowest free, but keeps VF 1. */
	{
		struct sr_adapter_cfg t = cfg.adapters[0];

		cfg.adapters[0] = cfg.adapters[1];
		cfg.adapters[1] = t;
	}
	ck_assert_int_eq(sr_reserve(&cfg, pfs, a, na, &b, &nb, &err), 0);
	ck_assert_str_eq(b[0].app_uuid, "22222222-2222-4222-8222-222222222222");
	ck_assert_uint_eq(b[0].vf_index, 1);
	ck_assert(b[0].has_original);
	ck_assert_str_eq(b[0].bound_driver, "vfio-pci");
	ck_assert_uint_eq(b[1].vf_index, 0);
	ck_assert(!b[1].has_original);
	free(a);
	free(b);
}
END_TEST

/* An app that leaves frees its VF for the lowest-free rule; the others keep
 * theirs. */
START_TEST(test_release_and_add)
{
	struct sr_reservation *a, *b;
	size_t na, nb;
	struct sr_err err = { "" };

	setup_fixture("two_pfs");
	ck_assert_int_eq(sr_reserve(&cfg, pfs, NULL, 0, &a, &na, &err), 0);
	sr_config_free(&cfg);
	setup_fixture("six_requests");
	/* Pretend app 1 held VF 2 before: it keeps it. */
	a[1].vf_index = 2;
	ck_assert_int_eq(sr_reserve(&cfg, pfs, a, na, &b, &nb, &err), 0);
	ck_assert_uint_eq(nb, 6);
	ck_assert_uint_eq(b[1].vf_index, 2);
	/* The new app 7 on uplink1 gets the lowest free: VF 1. */
	ck_assert_str_eq(b[5].app_uuid, "77777777-7777-4777-8777-777777777777");
	ck_assert_uint_eq(b[5].vf_index, 1);
	free(a);
	free(b);
}
END_TEST

/* A previous VF beyond the new count is not kept. */
START_TEST(test_shrunk_count)
{
	struct sr_reservation old, *b;
	size_t nb;
	struct sr_err err = { "" };

	setup_fixture("two_pfs");
	sr_reservation_init(&old);
	strcpy(old.app_uuid, "55555555-5555-4555-8555-555555555555");
	strcpy(old.pf_pci, "0000:04:00.0");
	old.vf_index = 5;
	old.has_original = true;
	ck_assert_int_eq(sr_reserve(&cfg, pfs, &old, 1, &b, &nb, &err), 0);
	ck_assert_uint_eq(b[4].vf_index, 1);
	ck_assert(!b[4].has_original);
	free(b);
}
END_TEST

/* vflist.data: app1 on VF 1 gets the entry's MAC and VLAN, app2 VF 0,
 * app3 VF 2 (same VLAN as the entry); free VF 3 gets a VF-config
 * reservation (no app) with its entry's settings. Re-reserving keeps the
 * VF config's saved original settings; an app taking a VF from the VF
 * config keeps them too. */
START_TEST(test_vfdata)
{
	struct sr_reservation *res, *again;
	struct sr_err err = { "" };
	size_t n, n2;

	setup_fixture("vfdata");
	ck_assert_msg(sr_reserve(&cfg, pfs, NULL, 0, &res, &n, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(n, 4);
	ck_assert_uint_eq(res[0].vf_index, 1);
	ck_assert_int_eq(memcmp(res[0].desired.mac, "\x02\x11\x22\x33\x44\x01", 6), 0);
	ck_assert_int_eq(res[0].desired.vlan, 11);
	ck_assert_uint_eq(res[1].vf_index, 0);
	ck_assert_int_eq(res[1].desired.vlan, SR_UNSET);
	ck_assert_uint_eq(res[2].vf_index, 2);
	ck_assert_int_eq(res[2].desired.vlan, 22);
	ck_assert(sr_reservation_is_vf_config(&res[3]));
	ck_assert(!sr_reservation_is_vf_config(&res[2]));
	ck_assert_str_eq(res[3].pf_pci, "0000:03:00.0");
	ck_assert_uint_eq(res[3].vf_index, 3);
	ck_assert_int_eq(memcmp(res[3].desired.mac, "\x02\x11\x22\x33\x44\x03", 6), 0);
	ck_assert_int_eq(res[3].desired.vlan, 33);
	ck_assert_int_eq(res[3].desired.spoofchk, 0);

	res[3].has_original = true;
	res[3].original.vlan = 0;
	res[3].attr_result[SR_ATTR_MAC] = 0;
	ck_assert_int_eq(sr_reserve(&cfg, pfs, res, n, &again, &n2, &err), 0);
	ck_assert_uint_eq(n2, 4);
	ck_assert(again[3].has_original);
	ck_assert_int_eq(again[3].attr_result[SR_ATTR_MAC], 0);
	free(again);
	sr_config_free(&cfg);

	/* two_pfs takes VF 3 for app 3333 (uplink1vf3): the original moves */
	setup_fixture("two_pfs");
	ck_assert_int_eq(sr_reserve(&cfg, pfs, res, n, &again, &n2, &err), 0);
	ck_assert_uint_eq(n2, 5);
	ck_assert_uint_eq(again[2].vf_index, 3);
	ck_assert(again[2].has_original);
	ck_assert_int_eq(again[2].attr_result[SR_ATTR_MAC], SR_ATTR_NOT_TRIED);
	free(again);
	free(res);
}
END_TEST

/* An adapter given the lowest free VF whose entry sets another VLAN. */
START_TEST(test_vfdata_conflict_auto)
{
	struct sr_reservation *res = NULL;
	struct sr_err err = { "" };
	size_t n = 0;

	setup_fixture("bad_vfdata_conflict_auto");
	ck_assert_int_eq(sr_reserve(&cfg, pfs, NULL, 0, &res, &n, &err), -EINVAL);
	ck_assert_ptr_null(res);
	ck_assert_msg(strstr(err.msg, "deviceIoList[0] (uplink1).vflist.data[0].vlan_id 10 vs apps[0] (d0000009-0000-4000-8000-000000000009).adapters[0].eth_vf.vlan_id 20: both set VF 0"),
		      "%s", err.msg);
}
END_TEST

/* Reserve fixture `name` against old; *out owned by the caller. */
static size_t reserve_fixture(const char *name, const struct sr_reservation *old, size_t n_old,
			      struct sr_reservation **out)
{
	struct sr_err err = { "" };
	size_t n;

	sr_config_free(&cfg);
	setup_fixture(name);
	ck_assert_msg(sr_reserve(&cfg, pfs, old, n_old, out, &n, &err) == 0, "%s", err.msg);
	return n;
}

/* An adapter's identity is (app UUID, name, occurrence), not its position:
 * app "two" drops its first adapter ("eth1", VF 0) and its second
 * ("uplink1", VF 1) keeps VF 1, its derived MAC and its saved state (by
 * position it would become adapter 0 and take VF 0 with another MAC). */
START_TEST(test_identity_drop_first)
{
	static const char two[] = "a0000002-0000-4000-8000-000000000002";
	struct sr_reservation *a, *b;
	size_t na, nb;

	na = reserve_fixture("adapter_names", NULL, 0, &a);
	ck_assert_uint_eq(na, 3);
	ck_assert_str_eq(a[0].adapter_name, "eth1");
	ck_assert_uint_eq(a[0].vf_index, 0);
	ck_assert_str_eq(a[1].app_uuid, two);
	ck_assert_str_eq(a[1].adapter_name, "uplink1");
	ck_assert_uint_eq(a[1].occurrence, 0);
	ck_assert_uint_eq(a[1].adapter, 1);
	ck_assert_uint_eq(a[1].vf_index, 1);
	ck_assert_uint_eq(a[2].vf_index, 2);
	ck_assert(memcmp(a[0].desired.mac, a[1].desired.mac, 6));
	a[1].has_original = true;
	a[1].original.vlan = 0;
	strcpy(a[1].bound_driver, "vfio-pci");

	nb = reserve_fixture("adapter_names_drop", a, na, &b);
	ck_assert_uint_eq(nb, 2);
	ck_assert_str_eq(b[0].app_uuid, two);
	ck_assert_str_eq(b[0].adapter_name, "uplink1");
	ck_assert_uint_eq(b[0].adapter, 0);
	ck_assert_uint_eq(b[0].vf_index, 1);
	ck_assert_mem_eq(b[0].desired.mac, a[1].desired.mac, 6);
	ck_assert_int_eq(b[0].desired.vlan, 7);
	ck_assert(b[0].has_original);
	ck_assert_str_eq(b[0].bound_driver, "vfio-pci");
	ck_assert(sr_reservation_same_adapter(&a[1], &b[0]));
	ck_assert(!sr_reservation_same_adapter(&a[0], &b[0]));
	ck_assert_uint_eq(b[1].vf_index, 2);
	free(a);
	free(b);
}
END_TEST

/* The limit: two adapters of one app with the same name are told apart by
 * their order. Dropping the first "uplink1" makes the second occurrence 0:
 * it takes the first one's VF 0 (and MAC); "eth1" keeps VF 1. */
START_TEST(test_identity_same_name)
{
	struct sr_reservation *a, *b;
	size_t na, nb;

	na = reserve_fixture("adapter_same_name", NULL, 0, &a);
	ck_assert_uint_eq(na, 4);
	ck_assert_uint_eq(a[0].occurrence, 0);
	ck_assert_uint_eq(a[1].occurrence, 0);
	ck_assert_uint_eq(a[2].occurrence, 1);
	ck_assert_uint_eq(a[3].occurrence, 0);
	ck_assert_uint_eq(a[2].vf_index, 2);
	nb = reserve_fixture("adapter_same_name_drop", a, na, &b);
	ck_assert_uint_eq(nb, 3);
	ck_assert_str_eq(b[0].adapter_name, "eth1");
	ck_assert_uint_eq(b[0].vf_index, 1);
	ck_assert_str_eq(b[1].adapter_name, "uplink1");
	ck_assert_uint_eq(b[1].occurrence, 0);
	ck_assert_uint_eq(b[1].vf_index, 0);
	ck_assert_mem_eq(b[1].desired.mac, a[0].desired.mac, 6);
	ck_assert_uint_eq(b[2].vf_index, 3);
	free(a);
	free(b);
}
END_TEST

/* Reservations from a state file written before adapters had names (no
 * adapter_name) are matched once by position, then carry the identity. */
START_TEST(test_identity_legacy)
{
	struct sr_reservation *a, *b;
	size_t na, nb;

	na = reserve_fixture("adapter_names", NULL, 0, &a);
	/* Move the VFs so only the old reservations explain the result. */
	a[0].vf_index = 3;
	a[1].vf_index = 0;
	a[2].vf_index = 1;
	for (size_t i = 0; i < na; i++) {
		a[i].adapter_name[0] = '\0';
		a[i].occurrence = 0;
		a[i].has_original = true;
	}
	nb = reserve_fixture("adapter_names", a, na, &b);
	ck_assert_uint_eq(nb, 3);
	ck_assert_uint_eq(b[0].vf_index, 3);
	ck_assert_uint_eq(b[1].vf_index, 0);
	ck_assert_uint_eq(b[2].vf_index, 1);
	for (size_t i = 0; i < nb; i++) {
		ck_assert(b[i].has_original);
		ck_assert(sr_reservation_same_adapter(&a[i], &b[i]));
	}
	ck_assert_str_eq(b[0].adapter_name, "eth1");
	ck_assert_str_eq(b[1].adapter_name, "uplink1");
	free(a);
	free(b);
}
END_TEST

/* test/fixtures/state_positional.pb: the state.pb the agent wrote before
 * adapters had names (2b69e5a: `sriov-agent apply --no-netlink
 * --hypervisor none` of adapter_names on a fake PF 0000:03:00.0 with 7
 * VFs). It still loads; its reservations are matched by position once
 * and then carry the identity, so a later drop of two's first adapter
 * keeps "uplink1" on VF 1. Applied in one step (no apply in between),
 * the drop is still matched by position (VF 0): the one-time limit. */
START_TEST(test_identity_legacy_file)
{
	char path[512];
	uint8_t *buf;
	size_t len, na, nb;
	struct sr_state st;
	struct sr_reservation *a, *b;
	struct sr_err err = { "" };

	snprintf(path, sizeof(path), "%s/test/fixtures/state_positional.pb", SR_SOURCE_DIR);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	ck_assert_msg(sr_state_decode(buf, len, &st, &err) == 0, "%s", err.msg);
	free(buf);
	ck_assert_uint_eq(st.n_res, 3);
	for (size_t i = 0; i < st.n_res; i++)
		ck_assert_str_eq(st.res[i].adapter_name, "");
	ck_assert_uint_eq(st.res[1].adapter, 1);
	ck_assert_uint_eq(st.res[1].vf_index, 1);

	nb = reserve_fixture("adapter_names_drop", st.res, st.n_res, &b);
	ck_assert_uint_eq(b[0].vf_index, 0);
	free(b);

	na = reserve_fixture("adapter_names", st.res, st.n_res, &a);
	ck_assert_uint_eq(na, 3);
	for (size_t i = 0; i < na; i++) {
		ck_assert_uint_eq(a[i].vf_index, st.res[i].vf_index);
		ck_assert(sr_reservation_same_adapter(&st.res[i], &a[i]));
	}
	ck_assert_str_eq(a[1].adapter_name, "uplink1");
	nb = reserve_fixture("adapter_names_drop", a, na, &b);
	ck_assert_uint_eq(nb, 2);
	ck_assert_str_eq(b[0].adapter_name, "uplink1");
	ck_assert_uint_eq(b[0].vf_index, 1);
	ck_assert_mem_eq(b[0].desired.mac, a[1].desired.mac, 6);
	free(a);
	free(b);
	sr_state_free(&st);
}
END_TEST

START_TEST(test_find)
{
	struct sr_reservation r[2];

	sr_reservation_init(&r[0]);
	sr_reservation_init(&r[1]);
	strcpy(r[0].pf_pci, "0000:03:00.0");
	r[0].vf_index = 0;
	strcpy(r[1].pf_pci, "0000:04:00.0");
	r[1].vf_index = 0;
	ck_assert_ptr_eq(sr_reservation_find(r, 2, "0000:04:00.0", 0), &r[1]);
	ck_assert_ptr_null(sr_reservation_find(r, 2, "0000:04:00.0", 1));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("reserve");
	TCase *tc = tcase_create("reserve");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_fresh);
	tcase_add_test(tc, test_sticky);
	tcase_add_test(tc, test_release_and_add);
	tcase_add_test(tc, test_shrunk_count);
	tcase_add_test(tc, test_find);
	tcase_add_test(tc, test_vfdata);
	tcase_add_test(tc, test_vfdata_conflict_auto);
	tcase_add_test(tc, test_identity_drop_first);
	tcase_add_test(tc, test_identity_same_name);
	tcase_add_test(tc, test_identity_legacy);
	tcase_add_test(tc, test_identity_legacy_file);
	suite_add_tcase(s, tc);
	return sr_check_run(s);
}
