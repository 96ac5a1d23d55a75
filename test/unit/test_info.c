/* SPDX-License-Identifier: MIT */
/* ZInfoMsg builder (lib/report/info.c): states built by hand, the bytes unpacked
 * again with protobuf-c and every reported field checked. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_run.h"
#include "eveinfo.pb-c.h"
#include "info.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define APP_A "aaaaaaaa-0000-4000-8000-000000000001"

typedef Org__Lfedge__Eve__Info__ZInfoMsg Msg;

/* One PF "eth1" (label uplink1), VFs 0..2; app A holds VF 1 and VF 0
 * (adapters 1 and 0). */
struct fixture {
	struct sr_state st;
	struct sr_pf pf;
	struct sr_vf vfs[3];
	struct sr_reservation res[2];
	struct sr_app app;
};

static void fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	strcpy(f->pf.label, "uplink1");
	strcpy(f->pf.ifname, "eth1");
	strcpy(f->pf.pci, "0000:03:00.0");
	for (uint32_t i = 0; i < 3; i++) {
		f->vfs[i].index = i;
		snprintf(f->vfs[i].pci, sizeof(f->vfs[i].pci), "0000:03:10.%u", i * 2);
		f->vfs[i].iommu_group = (int32_t)(10 + i);
		sr_vf_settings_init(&f->vfs[i].kernel);
	}
	f->pf.vfs = f->vfs;
	f->pf.n_vfs = 3;
	for (int i = 0; i < 2; i++) {
		struct sr_reservation *r = &f->res[i];

		sr_reservation_init(r);
		strcpy(r->app_uuid, APP_A);
		strcpy(r->pf_pci, "0000:03:00.0");
		strcpy(r->pf_ifname, "eth1");
		r->vf_index = (uint32_t)(1 - i);
		r->adapter = (uint32_t)i;
		strcpy(r->vf_pci, f->vfs[r->vf_index].pci);
	}
	/* adapter 0 -> VF 1: MAC and VLAN asked */
	f->res[0].desired.has_mac = true;
	memcpy(f->res[0].desired.mac, "\x02\x00\x00\x00\x00\x01", 6);
	f->res[0].desired.vlan = 7;
	strcpy(f->app.uuid_str, APP_A);
	strcpy(f->app.name, "alpha");
	f->st.pfs = &f->pf;
	f->st.n_pfs = 1;
	f->st.res = f->res;
	f->st.n_res = 2;
	f->st.apps = &f->app;
	f->st.n_apps = 1;
	f->st.applied_at = 1700000000;
}

static Msg *build(const struct sr_state *st, const char *app, int64_t now)
{
	struct sr_err err = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;
	Msg *m;

	ck_assert_msg(sr_info_build(st, NULL, app, now, &buf, &len, &err) == 0, "%s", err.msg);
	m = org__lfedge__eve__info__zinfo_msg__unpack(NULL, len, buf);
	free(buf);
	ck_assert_ptr_nonnull(m);
	return m;
}

START_TEST(test_device_layout)
{
	struct fixture f;
	Msg *m;
	Org__Lfedge__Eve__Info__ZioBundle **b;

	fixture_init(&f);
	m = build(&f.st, NULL, 1234);
	ck_assert_int_eq(m->ztype, ORG__LFEDGE__EVE__INFO__ZINFO_TYPES__ZiDevice);
	ck_assert_str_eq(m->devid, "");
	ck_assert_ptr_nonnull(m->attimestamp);
	ck_assert_int_eq(m->attimestamp->seconds, 1234);
	ck_assert_int_eq(m->info_content_case, ORG__LFEDGE__EVE__INFO__ZINFO_MSG__INFO_CONTENT_DINFO);
	ck_assert_uint_eq(m->dinfo->n_assignableadapters, 4);
	b = m->dinfo->assignableadapters;
	ck_assert_int_eq(b[0]->type, ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthPF);
	ck_assert_str_eq(b[0]->name, "uplink1");
	ck_assert_uint_eq(b[0]->n_ioaddresslist, 0);
	for (int i = 1; i < 4; i++) {
		char name[32];

		snprintf(name, sizeof(name), "uplink1vf%d", i - 1);
		ck_assert_int_eq(b[i]->type, ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthVF);
		ck_assert_str_eq(b[i]->name, name);
		ck_assert_uint_eq(b[i]->n_members, 1);
		ck_assert_str_eq(b[i]->members[0], name);
		ck_assert_uint_eq(b[i]->n_ioaddresslist, 1);
		ck_assert_uint_eq(b[i]->ioaddresslist[0]->vf_info->index, (uint32_t)(i - 1));
		ck_assert_ptr_null(b[i]->err);
	}
	ck_assert_str_eq(b[1]->usedbyappuuid, APP_A);
	ck_assert_str_eq(b[2]->usedbyappuuid, APP_A);
	ck_assert_str_eq(b[3]->usedbyappuuid, "");
	ck_assert_str_eq(b[2]->ioaddresslist[0]->macaddress, "02:00:00:00:00:01");
	ck_assert_uint_eq(b[2]->ioaddresslist[0]->vf_info->vlan_id, 7);
	ck_assert_str_eq(b[3]->ioaddresslist[0]->macaddress, "");
	org__lfedge__eve__info__zinfo_msg__free_unpacked(m, NULL);
}
END_TEST

/* The kernel's view wins over the desired one when it is known. */
START_TEST(test_kernel_view)
{
	struct fixture f;
	Msg *m;

	fixture_init(&f);
	f.vfs[1].has_kernel = true;
	f.vfs[1].kernel.has_mac = true;
	memcpy(f.vfs[1].kernel.mac, "\x02\x00\x00\x00\x00\x99", 6);
	f.vfs[1].kernel.vlan = 0;
	m = build(&f.st, NULL, SR_INFO_NO_TIME);
	ck_assert_ptr_null(m->attimestamp);
	ck_assert_str_eq(m->dinfo->assignableadapters[2]->ioaddresslist[0]->macaddress,
			 "02:00:00:00:00:99");
	ck_assert_uint_eq(m->dinfo->assignableadapters[2]->ioaddresslist[0]->vf_info->vlan_id, 0);
	org__lfedge__eve__info__zinfo_msg__free_unpacked(m, NULL);
}
END_TEST

/* A VF in error: ERROR with the reason; a refused attribute: WARNING. */
START_TEST(test_errors)
{
	struct fixture f;
	Msg *m;
	Org__Lfedge__Eve__Info__ErrorInfo *e;

	fixture_init(&f);
	f.res[0].error = (char *)"VF 1 of PF 0000:03:00.0 is missing";
	f.res[1].attr_result[SR_ATTR_MAC] = 0;
	f.res[1].attr_result[SR_ATTR_TRUST] = -EOPNOTSUPP;
	m = build(&f.st, NULL, 1);
	e = m->dinfo->assignableadapters[2]->err;
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->description, "VF 1 of PF 0000:03:00.0 is missing");
	ck_assert_int_eq(e->severity, ORG__LFEDGE__EVE__INFO__SEVERITY__SEVERITY_ERROR);
	ck_assert_int_eq(e->timestamp->seconds, 1700000000);
	e = m->dinfo->assignableadapters[1]->err;
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->severity, ORG__LFEDGE__EVE__INFO__SEVERITY__SEVERITY_WARNING);
	ck_assert_str_eq(e->description, "driver: trust refused: Operation not supported");
	ck_assert_ptr_null(m->dinfo->assignableadapters[3]->err);
	org__lfedge__eve__info__zinfo_msg__free_unpacked(m, NULL);
}
END_TEST

/* ZiApp: the app's VFs in adapter order (VF 1 first), even one whose PF
 * is gone from the state. */
START_TEST(test_app)
{
	struct fixture f;
	Msg *m;
	Org__Lfedge__Eve__Info__ZInfoApp *a;
	struct sr_err err = { "" };
	uint8_t *buf = NULL;
	size_t len;

	fixture_init(&f);
	m = build(&f.st, "AAAAAAAA-0000-4000-8000-000000000001", 5);
	ck_assert_int_eq(m->ztype, ORG__LFEDGE__EVE__INFO__ZINFO_TYPES__ZiApp);
	a = m->ainfo;
	ck_assert_str_eq(a->appid, APP_A);
	ck_assert_str_eq(a->appname, "alpha");
	ck_assert_uint_eq(a->n_assignedadapters, 2);
	ck_assert_str_eq(a->assignedadapters[0]->name, "uplink1vf1");
	ck_assert_str_eq(a->assignedadapters[1]->name, "uplink1vf0");
	org__lfedge__eve__info__zinfo_msg__free_unpacked(m, NULL);

	f.st.n_pfs = 0;
	f.res[1].error = (char *)"PF 0000:03:00.0 is missing";
	m = build(&f.st, APP_A, 5);
	ck_assert_uint_eq(m->ainfo->n_assignedadapters, 2);
	ck_assert_str_eq(m->ainfo->assignedadapters[1]->name, "eth1vf0");
	ck_assert_str_eq(m->ainfo->assignedadapters[1]->err->description, "PF 0000:03:00.0 is missing");
	org__lfedge__eve__info__zinfo_msg__free_unpacked(m, NULL);

	ck_assert_int_eq(sr_info_build(&f.st, NULL, "bbbbbbbb-0000-4000-8000-000000000001", 5, &buf,
				       &len, &err),
			 -ENOENT);
	ck_assert_ptr_null(buf);
	ck_assert_ptr_nonnull(strstr(err.msg, "not in the applied config"));
}
END_TEST

/* devId from the config in force; member names are logical labels. */
START_TEST(test_dev_id)
{
	struct fixture f;
	struct sr_pf_cfg pc = { .vf_count = 3 };
	struct sr_config cfg = { .pfs = &pc, .n_pfs = 1 };
	struct sr_err err = { "" };
	uint8_t *buf;
	size_t len;
	Msg *m;

	fixture_init(&f);
	strcpy(cfg.dev_uuid, "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	strcpy(pc.phylabel, "eth1");
	strcpy(pc.logicallabel, "lan");
	strcpy(pc.pci, "0000:03:00.0");
	ck_assert_int_eq(sr_info_build(&f.st, &cfg, NULL, 1, &buf, &len, &err), 0);
	m = org__lfedge__eve__info__zinfo_msg__unpack(NULL, len, buf);
	free(buf);
	ck_assert_str_eq(m->devid, "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
	ck_assert_str_eq(m->dinfo->assignableadapters[0]->name, "lan");
	ck_assert_str_eq(m->dinfo->assignableadapters[3]->members[0], "lanvf2");
	org__lfedge__eve__info__zinfo_msg__free_unpacked(m, NULL);
}
END_TEST

/* JSON: the mapping's names and forms. */
START_TEST(test_json)
{
	struct fixture f;
	struct sr_err err = { "" };
	uint8_t *buf;
	size_t len, jl;
	char *json;
	FILE *out;

	fixture_init(&f);
	ck_assert_int_eq(sr_info_build(&f.st, NULL, APP_A, 1700000000, &buf, &len, &err), 0);
	out = open_memstream(&json, &jl);
	ck_assert_int_eq(sr_info_to_json(buf, len, out, &err), 0);
	fclose(out);
	ck_assert_str_eq(json,
			 "{\"ztype\":\"ZiApp\",\"ainfo\":{\"AppID\":\"" APP_A "\",\"AppName\":\"alpha\","
			 "\"assignedAdapters\":[{\"type\":\"PhyIoNetEthVF\",\"name\":\"uplink1vf1\","
			 "\"members\":[\"uplink1vf1\"],\"usedByAppUUID\":\"" APP_A "\","
			 "\"ioAddressList\":[{\"macAddress\":\"02:00:00:00:00:01\",\"vfInfo\":{\"index\":1,\"vlanId\":7}}]},"
			 "{\"type\":\"PhyIoNetEthVF\",\"name\":\"uplink1vf0\",\"members\":[\"uplink1vf0\"],"
			 "\"usedByAppUUID\":\"" APP_A "\",\"ioAddressList\":[{\"vfInfo\":{}}]}]},"
			 "\"atTimeStamp\":\"2023-11-14T22:13:20Z\"}");
	free(json);
	ck_assert_int_eq(sr_info_to_json((const uint8_t *)"\xff\xff", 2, stdout, &err), -EINVAL);
	free(buf);
}
END_TEST

static Suite *info_suite(void)
{
	Suite *s = suite_create("info");
	TCase *tc = tcase_create("build");

	tcase_add_test(tc, test_device_layout);
	tcase_add_test(tc, test_kernel_view);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_app);
	tcase_add_test(tc, test_dev_id);
	tcase_add_test(tc, test_json);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sr_check_run(info_suite());
}
