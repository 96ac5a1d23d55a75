/* SPDX-License-Identifier: MIT */
/* Config decoding and validation, driven by fixture tables. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "eveconfig.pb-c.h"
#include "files.h"
#include "state.h"
#include "vfdata.h"

static int load(const char *name, uint8_t **buf, size_t *len)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s.pb", SR_FIXTURE_DIR, name);
	return sr_read_file(path, 1 << 20, buf, len, NULL);
}

static int decode_fixture(const char *name, struct sr_config *c, struct sr_err *err)
{
	uint8_t *buf;
	size_t len;
	int r;

	ck_assert_msg(load(name, &buf, &len) == 0, "fixture %s", name);
	r = sr_config_decode(buf, len, c, err);
	free(buf);
	return r;
}

START_TEST(test_two_pfs)
{
	struct sr_config c;
	struct sr_err err = { "" };

	ck_assert_msg(decode_fixture("two_pfs", &c, &err) == 0, "%s", err.msg);
	/* PhyIoNetEth (mgmt) is not a PF. */
	ck_assert_uint_eq(c.n_pfs, 2);
	ck_assert_str_eq(c.pfs[0].logicallabel, "uplink1");
	ck_assert_str_eq(c.pfs[0].ifname, "eth1");
	ck_assert_str_eq(c.pfs[0].pci, "0000:03:00.0");
	ck_assert_uint_eq(c.pfs[0].vf_count, 4);
	/* "PciLong": keys are case-insensitive; count from cbattr. */
	ck_assert_str_eq(c.pfs[1].pci, "0000:04:00.0");
	ck_assert_str_eq(c.pfs[1].ifname, "");
	ck_assert_uint_eq(c.pfs[1].vf_count, 2);

	ck_assert_uint_eq(c.n_apps, 6);
	ck_assert_str_eq(c.apps[0].uuid_str, "11111111-1111-4111-8111-111111111111");
	ck_assert_str_eq(c.apps[0].name, "router");
	ck_assert_uint_eq(c.apps[0].memory_kib, 524288);
	ck_assert_uint_eq(c.apps[0].vcpus, 2);
	ck_assert_uint_eq(c.apps[0].virt_mode, 1);
	ck_assert(c.apps[0].activate);

	/* Five VF adapters; app 4's PhyIoNetEth adapter is skipped. */
	ck_assert_uint_eq(c.n_adapters, 5);
	ck_assert(c.adapters[0].settings.has_mac);
	ck_assert_uint_eq(c.adapters[0].settings.mac[5], 0x01);
	ck_assert_int_eq(c.adapters[0].settings.vlan, 100);
	ck_assert_int_eq(c.adapters[0].settings.qos, SR_UNSET);
	ck_assert_int_eq(c.adapters[0].vf_index, SR_UNSET);
	ck_assert(!c.adapters[1].settings.has_mac);
	ck_assert_int_eq(c.adapters[1].settings.vlan, SR_UNSET);
	/* "uplink1vf3" names VF 3. */
	ck_assert_int_eq(c.adapters[2].vf_index, 3);
	ck_assert_uint_eq(c.adapters[2].pf, 0);
	ck_assert_int_eq(c.adapters[2].settings.vlan, 20);
	ck_assert_int_eq(c.adapters[2].settings.qos, 3);
	ck_assert_int_eq(c.adapters[2].settings.spoofchk, 1);
	ck_assert_int_eq(c.adapters[2].settings.trust, 0);
	ck_assert_int_eq(c.adapters[2].settings.link_state, SR_LINK_STATE_ENABLE);
	/* "eth2" is uplink2's phylabel; adapter_index counts every adapter. */
	ck_assert_uint_eq(c.adapters[3].pf, 1);
	ck_assert_uint_eq(c.adapters[3].adapter_index, 1);
	ck_assert_uint_eq(c.adapters[3].position, 0);
	ck_assert_int_eq(c.adapters[4].settings.max_tx_rate, 100);
	ck_assert_int_eq(c.adapters[4].settings.min_tx_rate, SR_UNSET);
	sr_config_free(&c);
}
END_TEST

static const struct {
	const char *fixture;
	int code;
	const char *msg; /* must appear in the message */
} bad[] = {
	{ "bad_unknown_pf", -EINVAL, "adapters[1].name \"eth9\": no PF with that label" },
	{ "bad_vf_count_zero", -EINVAL, "vflist.vf_count 0: allowed 1..sriov_totalvfs" },
	{ "bad_cbattr_pow2", -EINVAL, "cbattr[sriov-vf-count] \"3\": allowed a power of two" },
	{ "bad_count_mismatch", -EINVAL, "vflist.vf_count 4 and cbattr[sriov-vf-count] 2 differ" },
	{ "bad_dup_uuid", -EINVAL, "apps[1].uuidandversion.uuid 11111111-1111-4111-8111-111111111111: already used by apps[0]" },
	{ "bad_uuid", -EINVAL, "apps[2].uuidandversion.uuid \"33333333-3333-4333-8333-33333333333z\": allowed a UUID" },
	{ "bad_mac_multicast", -EINVAL, "eth_vf.mac \"01:00:5e:00:00:01\": multicast" },
	{ "bad_mac_malformed", -EINVAL, "eth_vf.mac \"02:00:00:00:01\": allowed six hex octets" },
	{ "bad_mac_zero", -EINVAL, "eth_vf.mac \"00:00:00:00:00:00\": all-zero" },
	{ "bad_vlan", -EINVAL, "eth_vf.vlan_id 4095: allowed 1..4094" },
	{ "bad_ifname_slash", -EINVAL, "phyaddrs[ifname] \"eth/1\": allowed 1..15 bytes, no '/'" },
	{ "bad_ifname_dotdot", -EINVAL, "phyaddrs[ifname] \"..\": allowed" },
	{ "bad_pci", -EINVAL, "phyaddrs[pcilong] \"0000:04:00.9\": allowed a PCI address" },
	{ "bad_two_on_one_vf", -EINVAL, "VF 3 of PF uplink1 is already taken by apps[1]" },
	{ "bad_vf_index", -EINVAL, "VF 4 of PF uplink1: the PF has 4 VFs, allowed 0..3" },
	{ "bad_qos", -EINVAL, "sriov_options.qos 8: allowed 0..7" },
	{ "bad_qos_no_vlan", -EINVAL, "qos/vlan_proto given without vlan_id" },
	{ "bad_link_state", -EINVAL, "link_state \"up\": allowed \"auto\", \"enable\" or \"disable\"" },
	{ "bad_dup_mac", -EINVAL, "eth_vf.mac 02:00:00:00:01:01: already used by apps[0]" },
	{ "bad_dup_pf", -EINVAL, "deviceIoList[1].phyaddrs[pcilong] \"0000:03:00.0\": already used by deviceIoList[0]" },
	{ "bad_no_count", -EINVAL, "no VF count" },
	{ "bad_no_addr", -EINVAL, "neither \"ifname\" nor \"pcilong\"" },
	{ "bad_adapter_no_name", -EINVAL, "adapters[1].name empty" },
	{ "seven_requests", -ENOSPC, "PF uplink1 has 4 VFs, 5 asked" },
	{ "bad_vf_name_collision", -EINVAL,
	  "deviceIoList[1].logicallabel \"uplink1vf1\": reads as VF 1 of the PF labelled \"uplink1\" (deviceIoList[0].logicallabel)" },
	{ "bad_vf_name_collision_ifname", -EINVAL,
	  "deviceIoList[1].phylabel \"eth1vf0\": reads as VF 0 of the PF with phyaddrs[ifname] \"eth1\" (deviceIoList[0])" },
	{ "bad_vfdata_index", -EINVAL, "deviceIoList[0] (uplink1).vflist.data[0].index 4: the PF has 4 VFs, allowed 0..3" },
	{ "bad_vfdata_dup", -EINVAL, "deviceIoList[0] (uplink1).vflist.data[2].index 1: already given by vflist.data[0]: one entry per VF" },
	{ "bad_vfdata_too_many", -EINVAL, "deviceIoList[0] (uplink1).vflist.data: 5 entries for 4 VFs: at most one per VF" },
	{ "bad_vfdata_mac_multicast", -EINVAL, "deviceIoList[0] (uplink1).vflist.data[0].mac \"03:11:22:33:44:01\": multicast" },
	{ "bad_vfdata_mac_zero", -EINVAL, "deviceIoList[0] (uplink1).vflist.data[0].mac \"00:00:00:00:00:00\": all-zero" },
	{ "bad_vfdata_mac_malformed", -EINVAL, "deviceIoList[0] (uplink1).vflist.data[0].mac \"02:11:22:33:44\": allowed six hex octets" },
	{ "bad_vfdata_vlan", -EINVAL, "deviceIoList[0] (uplink1).vflist.data[0].vlan_id 4095: allowed 1..4094" },
	{ "bad_vfdata_conflict", -EINVAL,
	  "deviceIoList[0] (uplink1).vflist.data[0].mac 02:11:22:33:44:01 vs apps[0] (d0000001-0000-4000-8000-000000000001).adapters[0].eth_vf.mac 02:11:22:33:44:99: both set VF 1" },
	{ "bad_vfdata_dup_mac", -EINVAL,
	  "apps[0] (d0000001-0000-4000-8000-000000000001).adapters[0].eth_vf.mac 02:11:22:33:44:01: already the MAC of VF 1 in deviceIoList[0].vflist.data[0]" },
	{ "bad_label_is_ifname", -EINVAL,
	  "deviceIoList[1].phylabel \"eth1\": also the phyaddrs[ifname] of deviceIoList[0]: VF names \"eth1vf<N>\" would be ambiguous" },
};

/* vflist.data: entries sorted by VF, settings per entry; an explicit
 * adapter on an entry's VF gets the entry's settings merged in. */
START_TEST(test_vfdata)
{
	struct sr_config c;
	struct sr_err err = { "" };
	struct sr_vf_settings m;
	const struct sr_vfdata_cfg *d;

	ck_assert_msg(decode_fixture("vfdata", &c, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(c.n_vfdata, 3);
	for (uint32_t i = 0; i < 3; i++) {
		ck_assert_uint_eq(c.vfdata[i].pf, 0);
		ck_assert_uint_eq(c.vfdata[i].index, i + 1);
	}
	ck_assert_uint_eq(c.vfdata[0].entry, 1);
	ck_assert_uint_eq(c.vfdata[2].entry, 0);
	d = sr_config_vfdata(&c, 0, 3);
	ck_assert_ptr_nonnull(d);
	ck_assert(d->settings.has_mac);
	ck_assert_int_eq(memcmp(d->settings.mac, "\x02\x11\x22\x33\x44\x03", 6), 0);
	ck_assert_int_eq(d->settings.vlan, 33);
	ck_assert_int_eq(d->settings.spoofchk, 0);
	ck_assert_int_eq(d->settings.trust, SR_UNSET);
	d = sr_config_vfdata(&c, 0, 2);
	ck_assert(!d->settings.has_mac);
	ck_assert_int_eq(d->settings.vlan, 22);
	ck_assert_ptr_null(sr_config_vfdata(&c, 0, 0));
	ck_assert_ptr_null(sr_config_vfdata(&c, 1, 1));
	/* app1 names VF 1: its MAC and VLAN */
	ck_assert_int_eq(c.adapters[0].vf_index, 1);
	ck_assert_int_eq(sr_config_vf_settings(&c, &c.adapters[0], 1, &m, &err), 0);
	ck_assert_int_eq(memcmp(m.mac, "\x02\x11\x22\x33\x44\x01", 6), 0);
	ck_assert_int_eq(m.vlan, 11);
	/* app3 asks VLAN 22: on VF 2 (entry VLAN 22) fine, with a derived MAC */
	ck_assert_int_eq(sr_config_vf_settings(&c, &c.adapters[2], 2, &m, &err), 0);
	ck_assert_int_eq(m.vlan, 22);
	ck_assert_int_eq(memcmp(m.mac, c.adapters[2].derived_mac, 6), 0);
	/* ... on VF 1 (entry VLAN 11) it is refused, naming both fields */
	ck_assert_int_eq(sr_config_vf_settings(&c, &c.adapters[2], 1, &m, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "deviceIoList[0] (uplink1).vflist.data[1].vlan_id 11 vs apps[2] (d0000003-0000-4000-8000-000000000003).adapters[0].eth_vf.vlan_id 22"),
		      "%s", err.msg);
	/* derived MACs avoid the entries' MACs */
	for (size_t i = 0; i < c.n_adapters; i++)
		for (size_t k = 0; k < c.n_vfdata; k++)
			ck_assert(!c.vfdata[k].settings.has_mac ||
				  memcmp(c.adapters[i].derived_mac, c.vfdata[k].settings.mac, 6));
	sr_config_free(&c);
}
END_TEST

/* "<X>vf<N>" for X = ifname, phylabel, logicallabel and assigngrp. */
START_TEST(test_vf_name_forms)
{
	static const struct {
		size_t pf;
		int64_t vf;
	} want[] = { { 0, 4 }, { 0, 3 }, { 0, 2 }, { 0, 1 }, { 1, 1 } };
	struct sr_config c;
	struct sr_err err = { "" };

	ck_assert_msg(decode_fixture("vf_names", &c, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(c.dev_uuid, "6ba7b811-9dad-11d1-80b4-00c04fd430c8");
	ck_assert_uint_eq(c.n_adapters, 5);
	for (size_t i = 0; i < 5; i++) {
		ck_assert_uint_eq(c.adapters[i].pf, want[i].pf);
		ck_assert_int_eq(c.adapters[i].vf_index, want[i].vf);
	}
	sr_config_free(&c);
}
END_TEST

START_TEST(test_bad)
{
	struct sr_config c = { .n_pfs = 0xdead };
	struct sr_err err = { "" };
	int r = decode_fixture(bad[_i].fixture, &c, &err);

	ck_assert_msg(r == bad[_i].code, "%s: rc %d, want %d (%s)", bad[_i].fixture, r, bad[_i].code,
		      err.msg);
	ck_assert_msg(strstr(err.msg, bad[_i].msg), "%s: message \"%s\" lacks \"%s\"",
		      bad[_i].fixture, err.msg, bad[_i].msg);
	/* Output untouched on error. */
	ck_assert_uint_eq(c.n_pfs, 0xdead);
}
END_TEST

/* Every proper prefix of a valid config is either rejected as corrupt or
 * decodes to a valid (smaller) config: never a crash, never garbage. */
START_TEST(test_truncated)
{
	uint8_t *buf;
	size_t len, rejected = 0;

	ck_assert_int_eq(load("two_pfs", &buf, &len), 0);
	for (size_t n = 1; n < len; n++) {
		struct sr_config c;
		struct sr_err err = { "" };
		int r = sr_config_decode(buf, n, &c, &err);

		if (r) {
			ck_assert_msg(err.msg[0], "prefix %zu: rc %d without a message", n, r);
			rejected++;
		} else {
			sr_config_free(&c);
		}
	}
	free(buf);
	ck_assert_uint_gt(rejected, 0);
}
END_TEST

START_TEST(test_truncated_message)
{
	uint8_t *buf;
	size_t len;
	struct sr_config c;
	struct sr_err err = { "" };

	ck_assert_int_eq(load("two_pfs", &buf, &len), 0);
	ck_assert_int_eq(sr_config_decode(buf, len - 3, &c, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "not a valid EdgeDevConfig protobuf"));
	free(buf);
}
END_TEST

START_TEST(test_empty_config)
{
	struct sr_config c;
	struct sr_err err = { "" };

	/* Zero bytes are a valid, empty EdgeDevConfig: no PF, no app. */
	ck_assert_int_eq(sr_config_decode((const uint8_t *)"", 0, &c, &err), 0);
	ck_assert_uint_eq(c.n_pfs + c.n_apps + c.n_adapters, 0);
	sr_config_free(&c);
}
END_TEST

static const struct {
	const char *s;
	int ok;
	uint8_t mac[6];
} macs[] = {
	{ "02:00:00:00:00:01", 0, { 2, 0, 0, 0, 0, 1 } },
	{ "aa-bb-cc-dd-ee-ff", 0, { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff } },
	{ "AA:BB:CC:DD:EE:0F", 0, { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0x0f } },
	{ "02:00:00:00:00", -EINVAL, { 0 } },
	{ "02:00:00:00:00:0g", -EINVAL, { 0 } },
	{ "02:00:00:00:00:001", -EINVAL, { 0 } },
	{ "0200.0000.0001", -EINVAL, { 0 } },
	{ "", -EINVAL, { 0 } },
};

START_TEST(test_parse_mac)
{
	uint8_t m[6] = { 0 };

	ck_assert_int_eq(sr_parse_mac(macs[_i].s, m), macs[_i].ok);
	if (!macs[_i].ok)
		ck_assert_mem_eq(m, macs[_i].mac, 6);
}
END_TEST

START_TEST(test_unicast)
{
	static const uint8_t zero[6], mc[6] = { 1, 0, 0x5e, 0, 0, 1 }, bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
			     uc[6] = { 2, 0, 0, 0, 0, 1 };

	ck_assert(!sr_mac_is_unicast(zero));
	ck_assert(!sr_mac_is_unicast(mc));
	ck_assert(!sr_mac_is_unicast(bc));
	ck_assert(sr_mac_is_unicast(uc));
}
END_TEST

/* The derived MAC is stable, unicast, locally administered, and differs
 * per app, per adapter name and per occurrence of a name. */
START_TEST(test_derive_mac)
{
	uuid_t a, b;
	uint8_t m1[6], m2[6], m3[6], m4[6];

	uuid_parse("11111111-1111-4111-8111-111111111111", a);
	uuid_parse("22222222-2222-4222-8222-222222222222", b);
	sr_derive_mac(a, "uplink1", 0, m1);
	sr_derive_mac(a, "uplink1", 0, m2);
	sr_derive_mac(a, "uplink1", 1, m3);
	sr_derive_mac(b, "uplink1", 0, m4);
	ck_assert_mem_eq(m1, m2, 6);
	ck_assert(memcmp(m1, m3, 6));
	ck_assert(memcmp(m1, m4, 6));
	sr_derive_mac(a, "uplink2", 0, m4);
	ck_assert(memcmp(m1, m4, 6));
	ck_assert(sr_mac_is_unicast(m1));
	ck_assert_uint_eq(m1[0] & 0x03, 0x02);
	ck_assert_uint_eq(m3[0] & 0x03, 0x02);
}
END_TEST

/* A config built in memory: one PF "uplink1" (4 VFs) and apps with one VF
 * adapter each, the MAC of app i is vmacs[i] (NULL: derived). */
static size_t pack_apps(const char *const *uuids, const char *const *vmacs, size_t n,
			const char *assigngrp2, const char *name0, uint8_t **out)
{
	Org__Lfedge__Eve__Config__PhysicalIO io[2];
	Org__Lfedge__Eve__Config__PhysicalIO__PhyaddrsEntry addr[2], *addrp[2][1];
	Org__Lfedge__Eve__Config__VfList vfl;
	Org__Lfedge__Eve__Config__PhysicalIO *iop[2] = { &io[0], &io[1] };
	Org__Lfedge__Eve__Config__AppInstanceConfig apps[8], *appp[8];
	Org__Lfedge__Eve__Config__UUIDandVersion uv[8];
	Org__Lfedge__Eve__Config__Adapter ads[8], *adp[8];
	Org__Lfedge__Eve__Config__EthVF ev[8];
	Org__Lfedge__Eve__Config__EdgeDevConfig cfg;
	static const char *const label[2] = { "uplink1", "uplink2" }, *const ifn[2] = { "eth1", "eth2" };
	size_t len;

	org__lfedge__eve__config__edge_dev_config__init(&cfg);
	org__lfedge__eve__config__vf_list__init(&vfl);
	vfl.vf_count = 4;
	for (int i = 0; i < 2; i++) {
		org__lfedge__eve__config__physical_io__init(&io[i]);
		org__lfedge__eve__config__physical_io__phyaddrs_entry__init(&addr[i]);
		io[i].ptype = ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthPF;
		io[i].logicallabel = (char *)label[i];
		io[i].assigngrp = assigngrp2 ? (char *)assigngrp2 : (char *)"";
		addr[i].key = (char *)"ifname";
		addr[i].value = (char *)ifn[i];
		addrp[i][0] = &addr[i];
		io[i].phyaddrs = addrp[i];
		io[i].n_phyaddrs = 1;
		io[i].vflist = &vfl;
	}
	for (size_t i = 0; i < n; i++) {
		org__lfedge__eve__config__app_instance_config__init(&apps[i]);
		org__lfedge__eve__config__uuidand_version__init(&uv[i]);
		org__lfedge__eve__config__adapter__init(&ads[i]);
		org__lfedge__eve__config__eth_vf__init(&ev[i]);
		uv[i].uuid = (char *)uuids[i];
		apps[i].uuidandversion = &uv[i];
		ads[i].type = ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthVF;
		ads[i].name = (char *)(i == 0 && name0 ? name0 : "uplink1");
		if (vmacs[i]) {
			ev[i].mac = (char *)vmacs[i];
			ads[i].eth_vf = &ev[i];
		}
		adp[i] = &ads[i];
		apps[i].adapters = &adp[i];
		apps[i].n_adapters = 1;
		appp[i] = &apps[i];
	}
	cfg.deviceiolist = iop;
	cfg.n_deviceiolist = 2;
	cfg.apps = appp;
	cfg.n_apps = n;
	len = org__lfedge__eve__config__edge_dev_config__get_packed_size(&cfg);
	*out = malloc(len);
	org__lfedge__eve__config__edge_dev_config__pack(&cfg, *out);
	return len;
}

/* An explicit MAC equal to another app's derived MAC: accepted, and the
 * derived one is derived again (attempt 1), so no MAC is used twice. */
START_TEST(test_derived_mac_collision)
{
	static const char *const uuids[2] = { "11111111-1111-4111-8111-111111111111",
					      "22222222-2222-4222-8222-222222222222" };
	const char *vmacs[2] = { NULL, NULL };
	uint8_t want0[6], want1[6], *buf;
	char mac_text[18];
	struct sr_config c;
	struct sr_err err = { "" };
	uuid_t u;
	size_t len;

	uuid_parse(uuids[0], u);
	sr_derive_mac(u, "uplink1", 0, want0);
	sr_mac_format(want0, mac_text);
	vmacs[1] = mac_text;
	len = pack_apps(uuids, vmacs, 2, NULL, NULL, &buf);
	ck_assert_msg(sr_config_decode(buf, len, &c, &err) == 0, "%s", err.msg);
	ck_assert(!c.adapters[0].settings.has_mac);
	ck_assert_mem_eq(c.adapters[1].settings.mac, want0, 6);
	sr_derive_mac_try(u, "uplink1", 0, 1, want1);
	ck_assert_mem_eq(c.adapters[0].derived_mac, want1, 6);
	ck_assert(memcmp(c.adapters[0].derived_mac, want0, 6));
	sr_config_free(&c);
	free(buf);

	/* Without the collision, attempt 0: what the VM tests compute. */
	vmacs[1] = NULL;
	len = pack_apps(uuids, vmacs, 2, NULL, NULL, &buf);
	ck_assert_msg(sr_config_decode(buf, len, &c, &err) == 0, "%s", err.msg);
	ck_assert_mem_eq(c.adapters[0].derived_mac, want0, 6);
	sr_config_free(&c);
	free(buf);
}
END_TEST

/* An adapter's derived MAC follows its identity (app UUID, name,
 * occurrence among the app's adapters with that name), not its position:
 * app "two" drops its first adapter and its "uplink1" keeps its MAC. Two
 * adapters of one name are numbered in order. */
START_TEST(test_adapter_identity)
{
	struct sr_config a, b;
	struct sr_err err = { "" };
	uint8_t want[6];

	ck_assert_msg(decode_fixture("adapter_names", &a, &err) == 0, "%s", err.msg);
	ck_assert_msg(decode_fixture("adapter_names_drop", &b, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(a.adapters[1].name, "uplink1");
	ck_assert_uint_eq(a.adapters[1].position, 1);
	ck_assert_str_eq(b.adapters[0].name, "uplink1");
	ck_assert_uint_eq(b.adapters[0].position, 0);
	ck_assert_uint_eq(b.adapters[0].occurrence, 0);
	ck_assert_mem_eq(a.adapters[1].derived_mac, b.adapters[0].derived_mac, 6);
	ck_assert(memcmp(a.adapters[0].derived_mac, b.adapters[0].derived_mac, 6));
	sr_derive_mac(a.apps[0].uuid, "uplink1", 0, want);
	ck_assert_mem_eq(b.adapters[0].derived_mac, want, 6);
	/* app "one" also names "uplink1": its own occurrence 0 */
	ck_assert_uint_eq(a.adapters[2].occurrence, 0);
	sr_config_free(&a);
	sr_config_free(&b);

	ck_assert_msg(decode_fixture("adapter_same_name", &a, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(a.adapters[0].occurrence, 0);
	ck_assert_uint_eq(a.adapters[1].occurrence, 0);
	ck_assert_uint_eq(a.adapters[2].occurrence, 1);
	sr_derive_mac(a.apps[0].uuid, "uplink1", 1, want);
	ck_assert_mem_eq(a.adapters[2].derived_mac, want, 6);
	sr_config_free(&a);
}
END_TEST

/* An adapter name longer than any PF label plus "vf<N>" can be. */
START_TEST(test_adapter_name_long)
{
	static const char *const uuids[1] = { "11111111-1111-4111-8111-111111111111" };
	static const char *const vmacs[1] = { NULL };
	char name[96];
	struct sr_config c;
	struct sr_err err = { "" };
	uint8_t *buf;
	size_t len;

	/* "uplink1vf0...01": VF 1 with leading zeros, 76 bytes */
	snprintf(name, sizeof(name), "uplink1vf%066d", 1);
	ck_assert_uint_eq(strlen(name), 75);
	len = pack_apps(uuids, vmacs, 1, NULL, name, &buf);
	ck_assert_msg(sr_config_decode(buf, len, &c, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(c.adapters[0].vf_index, 1);
	ck_assert_str_eq(c.adapters[0].name, name);
	sr_config_free(&c);
	free(buf);
	snprintf(name, sizeof(name), "uplink1vf%067d", 1);
	len = pack_apps(uuids, vmacs, 1, NULL, name, &buf);
	ck_assert_int_eq(sr_config_decode(buf, len, &c, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "apps[0] (11111111-1111-4111-8111-111111111111).adapters[0].name \"uplink1vf0000"),
		      "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "\": 76 bytes, allowed 1..75"), "%s", err.msg);
	free(buf);
}
END_TEST

/* A shared assigngrp is fine until an adapter names it. */
START_TEST(test_shared_assigngrp)
{
	static const char *const uuids[1] = { "11111111-1111-4111-8111-111111111111" };
	static const char *const vmacs[1] = { NULL };
	struct sr_config c;
	struct sr_err err = { "" };
	uint8_t *buf;
	size_t len;

	len = pack_apps(uuids, vmacs, 1, "grp", NULL, &buf);
	ck_assert_msg(sr_config_decode(buf, len, &c, &err) == 0, "%s", err.msg);
	sr_config_free(&c);
	free(buf);
	len = pack_apps(uuids, vmacs, 1, "grp", "grp", &buf);
	ck_assert_int_eq(sr_config_decode(buf, len, &c, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "\"grp\": the assigngrp of deviceIoList[0] and deviceIoList[1]: ambiguous"),
		      "%s", err.msg);
	free(buf);
}
END_TEST

/* Releasing every VF takes a config that says so. */
START_TEST(test_check_release)
{
	struct sr_config none = { 0 }, one = { .n_pfs = 1 }, with_id = { .dev_uuid = "6ba7b810-9dad-11d1-80b4-00c04fd430c8" };
	struct sr_err err = { "" };

	ck_assert_int_eq(sr_config_check_release(&none, 0, 0, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "0 bytes (an empty file)"));
	ck_assert_int_eq(sr_config_check_release(&none, 2, 3, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "release all 3 reserved VF(s) by accident"));
	ck_assert_int_eq(sr_config_check_release(&none, 2, 0, &err), 0);
	ck_assert_int_eq(sr_config_check_release(&one, 20, 3, &err), 0);
	/* The device id says the controller means it. */
	ck_assert_int_eq(sr_config_check_release(&with_id, 40, 3, &err), 0);
	ck_assert_int_eq(sr_config_check_release(&with_id, 0, 3, &err), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("decode");

	tcase_add_test(tc, test_two_pfs);
	tcase_add_test(tc, test_vf_name_forms);
	tcase_add_test(tc, test_vfdata);
	tcase_add_loop_test(tc, test_bad, 0, sizeof(bad) / sizeof(bad[0]));
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_truncated_message);
	tcase_add_test(tc, test_empty_config);
	tcase_add_test(tc, test_derived_mac_collision);
	tcase_add_test(tc, test_adapter_identity);
	tcase_add_test(tc, test_adapter_name_long);
	tcase_add_test(tc, test_shared_assigngrp);
	tcase_add_test(tc, test_check_release);
	suite_add_tcase(s, tc);
	tc = tcase_create("primitives");
	tcase_add_loop_test(tc, test_parse_mac, 0, sizeof(macs) / sizeof(macs[0]));
	tcase_add_test(tc, test_unicast);
	tcase_add_test(tc, test_derive_mac);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sr_check_run(suite());
}
