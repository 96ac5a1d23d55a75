/* SPDX-License-Identifier: MIT */
/*
 * The model's pure helpers (lib/base/model.c), table-driven: validation
 * primitives, MAC parsing, the per-attribute "is set" / "already matches"
 * rules the planner relies on, derived MACs and the VF lookup.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <string.h>

#include "model.h"

static const struct {
	const char *s;
	bool ok;
} pcis[] = {
	{ "0000:03:00.0", true },  { "0000:03:1f.7", true },  { "ffff:ff:1f.7", true },
	{ "0000:03:20.0", false }, { "0000:03:00.8", false }, { "0000:03:00", false },
	{ "0000:03:00.0 ", false }, { "0000:0G:00.0", false }, { "0000:03:0A.0", false },
	{ "", false },             { "../../etc", false },
};

START_TEST(test_valid_pci)
{
	ck_assert_msg(sr_valid_pci(pcis[_i].s) == pcis[_i].ok, "\"%s\"", pcis[_i].s);
}
END_TEST

static const struct {
	const char *s;
	bool ok;
} ifnames[] = {
	{ "eth1", true },   { "enp3s0f1", true }, { "a23456789012345", true },
	{ "a234567890123456", false }, { "", false }, { ".", false }, { "..", false },
	{ "a/b", false },   { "eth0:1", false },  { "a b", false },  { "a\tb", false },
};

START_TEST(test_valid_ifname)
{
	ck_assert_msg(sr_valid_ifname(ifnames[_i].s) == ifnames[_i].ok, "\"%s\"", ifnames[_i].s);
}
END_TEST

static const struct {
	const char *s;
	int rc;
	uint8_t mac[6];
	bool unicast;
} macs[] = {
	{ "02:00:00:00:01:01", 0, { 2, 0, 0, 0, 1, 1 }, true },
	{ "02-00-00-00-01-ff", 0, { 2, 0, 0, 0, 1, 0xff }, true },
	{ "01:00:5e:00:00:01", 0, { 1, 0, 0x5e, 0, 0, 1 }, false }, /* multicast */
	{ "00:00:00:00:00:00", 0, { 0 }, false },                   /* all-zero */
	{ "02:00:00:00:01", -EINVAL, { 0 }, false },
	{ "02:00:00:00:01:0g", -EINVAL, { 0 }, false },
	{ "02:00:00:00:01:011", -EINVAL, { 0 }, false },
	{ "02.00.00.00.01.01", -EINVAL, { 0 }, false },
};

START_TEST(test_parse_mac)
{
	uint8_t m[6] = { 9, 9, 9, 9, 9, 9 }, untouched[6] = { 9, 9, 9, 9, 9, 9 };

	ck_assert_int_eq(sr_parse_mac(macs[_i].s, m), macs[_i].rc);
	if (macs[_i].rc) {
		ck_assert(!memcmp(m, untouched, 6)); /* written only on success */
		return;
	}
	ck_assert(!memcmp(m, macs[_i].mac, 6));
	ck_assert(sr_mac_is_unicast(m) == macs[_i].unicast);
}
END_TEST

static struct sr_vf_settings unset(void)
{
	struct sr_vf_settings s;

	sr_vf_settings_init(&s);
	return s;
}

/* want, have: does the kernel already carry what is asked? */
/* sr_parse_uuid accepts what libuuid's uuid_parse accepts, with the same
 * bytes. */
static const char *uuids[] = {
	"be000000-0000-4000-8000-000000000000",
	"6BA7B810-9DAD-11D1-80B4-00C04FD4B0B0",
	"6ba7b810-9dad-11d1-80b4-00c04fd4b0b0",
	"ffffffff-ffff-ffff-ffff-ffffffffffff",
	"",
	"6ba7b810-9dad-11d1-80b4-00c04fd4b0b",
	"6ba7b810-9dad-11d1-80b4-00c04fd4b0b00",
	"6ba7b810x9dad-11d1-80b4-00c04fd4b0b0",
	"6ba7b8109-dad-11d1-80b4-00c04fd4b0b0",
	"6ba7b810-9dad-11d1-80b4-00c04fd4b0bg",
	"6ba7b810-9dad-11d1-80b4-00c04fd4b0 0",
	"6ba7b810-9dad-11d1-80b4-00c04fd4b0-0",
	"{ba7b810-9dad-11d1-80b4-00c04fd4b0b}",
	"6ba7b810-9dad-11d1-80b4-00c0+fd4b0b0",
};

START_TEST(test_parse_uuid)
{
	uint8_t got[16], want[16];
	int rc = sr_parse_uuid(uuids[_i], got);

	ck_assert_msg((rc == 0) == (uuid_parse(uuids[_i], want) == 0), "%s: %d", uuids[_i], rc);
	ck_assert(rc == 0 || rc == -EINVAL);
	if (!rc)
		ck_assert(!memcmp(got, want, 16));
	ck_assert_int_eq(sr_parse_uuid(NULL, got), -EINVAL);
}
END_TEST

static const struct {
	const char *what;
	enum sr_vf_attr a;
	struct sr_vf_settings want, have;
	bool matches;
} matches[] = {
	{ "vlan 100 over vlan 100, qos and proto left to the kernel's defaults", SR_ATTR_VLAN,
	  { .vlan = 100, .qos = SR_UNSET, .vlan_proto = SR_UNSET },
	  { .vlan = 100, .qos = 0, .vlan_proto = SR_ETH_P_8021Q }, true },
	{ "vlan 100 qos 3 over qos 0", SR_ATTR_VLAN, { .vlan = 100, .qos = 3, .vlan_proto = SR_UNSET },
	  { .vlan = 100, .qos = 0, .vlan_proto = SR_ETH_P_8021Q }, false },
	{ "vlan 100 802.1ad over 802.1Q", SR_ATTR_VLAN,
	  { .vlan = 100, .qos = SR_UNSET, .vlan_proto = SR_ETH_P_8021AD },
	  { .vlan = 100, .qos = 0, .vlan_proto = SR_ETH_P_8021Q }, false },
	{ "no VLAN (0) over no VLAN, whatever the qos", SR_ATTR_VLAN,
	  { .vlan = 0, .qos = SR_UNSET, .vlan_proto = SR_UNSET }, { .vlan = 0, .qos = 5 }, true },
	{ "vlan asked, kernel does not say", SR_ATTR_VLAN, { .vlan = 100 }, { .vlan = SR_UNSET }, false },
	{ "spoofchk 0 over 1", SR_ATTR_SPOOFCHK, { .spoofchk = 0 }, { .spoofchk = 1 }, false },
	{ "trust 1 over 1", SR_ATTR_TRUST, { .trust = 1 }, { .trust = 1 }, true },
	{ "trust 0 over unknown", SR_ATTR_TRUST, { .trust = 0 }, { .trust = SR_UNSET }, false },
	{ "link enable over enable", SR_ATTR_LINK_STATE, { .link_state = 1 }, { .link_state = 1 }, true },
	{ "max rate 100, min unset, over 0/100", SR_ATTR_RATE,
	  { .min_tx_rate = SR_UNSET, .max_tx_rate = 100 }, { .min_tx_rate = 0, .max_tx_rate = 100 },
	  true },
	{ "max rate 100 over no limit", SR_ATTR_RATE, { .min_tx_rate = SR_UNSET, .max_tx_rate = 100 },
	  { .min_tx_rate = 0, .max_tx_rate = 0 }, false },
	{ "MAC over the same MAC", SR_ATTR_MAC, { .has_mac = true, .mac = { 2, 0, 0, 0, 1, 1 } },
	  { .has_mac = true, .mac = { 2, 0, 0, 0, 1, 1 } }, true },
	{ "MAC over another", SR_ATTR_MAC, { .has_mac = true, .mac = { 2, 0, 0, 0, 1, 1 } },
	  { .has_mac = true, .mac = { 2, 0, 0, 0, 1, 2 } }, false },
};

START_TEST(test_attr_matches)
{
	ck_assert_msg(sr_vf_attr_matches(matches[_i].a, &matches[_i].want, &matches[_i].have) ==
			      matches[_i].matches,
		      "%s", matches[_i].what);
}
END_TEST

START_TEST(test_attr_is_set)
{
	struct sr_vf_settings s = unset();

	for (int a = 0; a < SR_ATTR__COUNT; a++)
		ck_assert_msg(!sr_vf_attr_is_set(a, &s), "%s set in unset settings", sr_vf_attr_name(a));
	s.vlan = 0; /* "no VLAN" is a setting, not "unset" */
	ck_assert(sr_vf_attr_is_set(SR_ATTR_VLAN, &s));
	s.max_tx_rate = 0;
	ck_assert(sr_vf_attr_is_set(SR_ATTR_RATE, &s));
	s.spoofchk = 0;
	ck_assert(sr_vf_attr_is_set(SR_ATTR_SPOOFCHK, &s));
	ck_assert_str_eq(sr_vf_attr_name(SR_ATTR__COUNT), "?");
}
END_TEST

START_TEST(test_derive_mac)
{
	uuid_t a, b;
	uint8_t m1[6], m2[6], m3[6];

	ck_assert_int_eq(uuid_parse("11111111-1111-4111-8111-111111111111", a), 0);
	ck_assert_int_eq(uuid_parse("22222222-2222-4222-8222-222222222222", b), 0);
	sr_derive_mac(a, "eth1", 0, m1);
	sr_derive_mac(a, "eth1", 0, m2);
	ck_assert(!memcmp(m1, m2, 6));  /* stable */
	ck_assert(sr_mac_is_unicast(m1));
	ck_assert_uint_eq(m1[0] & 0x03, 0x02); /* locally administered, unicast */
	sr_derive_mac(a, "eth1", 1, m3);
	ck_assert(memcmp(m1, m3, 6));   /* per occurrence of a name */
	sr_derive_mac(a, "eth2", 0, m3);
	ck_assert(memcmp(m1, m3, 6));   /* per adapter name */
	sr_derive_mac(b, "eth1", 0, m3);
	ck_assert(memcmp(m1, m3, 6));   /* per app */
}
END_TEST

START_TEST(test_find_vf)
{
	struct sr_vf vfs[4] = { { .index = 0 }, { .index = 1 }, { .index = 5 }, { .index = 9 } };
	struct sr_pf pf = { .vfs = vfs, .n_vfs = 4 };
	struct sr_pf empty = { 0 };

	ck_assert_ptr_eq(sr_pf_find_vf(&pf, 0), &vfs[0]);
	ck_assert_ptr_eq(sr_pf_find_vf(&pf, 1), &vfs[1]);
	ck_assert_ptr_eq(sr_pf_find_vf(&pf, 5), &vfs[2]); /* sparse: not at slot 5 */
	ck_assert_ptr_eq(sr_pf_find_vf(&pf, 9), &vfs[3]);
	ck_assert_ptr_null(sr_pf_find_vf(&pf, 2));
	ck_assert_ptr_null(sr_pf_find_vf(&pf, 100));
	ck_assert_ptr_null(sr_pf_find_vf(&empty, 0));
	/* The kernel view is there only when known. */
	ck_assert_ptr_null(sr_pf_vf_kernel(&pf, 5));
	vfs[2].has_kernel = true;
	ck_assert_ptr_eq(sr_pf_vf_kernel(&pf, 5), &vfs[2].kernel);
}
END_TEST

START_TEST(test_settings_equal)
{
	struct sr_vf_settings a = unset(), b = unset();

	ck_assert(sr_vf_settings_equal(&a, &b));
	b.vlan = 0;
	ck_assert(!sr_vf_settings_equal(&a, &b)); /* unset is not 0 */
	a.vlan = 0;
	ck_assert(sr_vf_settings_equal(&a, &b));
	a.has_mac = b.has_mac = true;
	a.mac[5] = 1;
	ck_assert(!sr_vf_settings_equal(&a, &b));
}
END_TEST

#define N(x) ((int)(sizeof(x) / sizeof((x)[0])))

int main(void)
{
	Suite *s = suite_create("model");
	TCase *tc = tcase_create("model");

	tcase_add_loop_test(tc, test_valid_pci, 0, N(pcis));
	tcase_add_loop_test(tc, test_valid_ifname, 0, N(ifnames));
	tcase_add_loop_test(tc, test_parse_mac, 0, N(macs));
	tcase_add_loop_test(tc, test_parse_uuid, 0, N(uuids));
	tcase_add_loop_test(tc, test_attr_matches, 0, N(matches));
	tcase_add_test(tc, test_attr_is_set);
	tcase_add_test(tc, test_derive_mac);
	tcase_add_test(tc, test_find_vf);
	tcase_add_test(tc, test_settings_equal);
	suite_add_tcase(s, tc);
	return sr_check_run(s);
}
