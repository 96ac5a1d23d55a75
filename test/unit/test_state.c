/* SPDX-License-Identifier: MIT */
/*
 * The state file (lib/store/state.c): round trips that keep every field (the
 * kernel's view of each VF included, and "not known" apart from "all
 * unset"), decoding refusing inconsistent data with a message, the atomic
 * save and the missing file as an empty state.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state.h"

struct sample {
	struct sr_state st;
	struct sr_pf pf;
	struct sr_vf vfs[3];
	struct sr_reservation res[2];
	struct sr_app app;
};

static void sample_init(struct sample *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->pf.label, "uplink1");
	strcpy(s->pf.ifname, "eth1");
	strcpy(s->pf.pci, "0000:03:00.0");
	strcpy(s->pf.driver, "igb");
	s->pf.vendor = 0x8086;
	s->pf.device = 0x10c9;
	s->pf.totalvfs = 7;
	s->pf.numvfs = 3;
	s->pf.autoprobe = SR_UNSET;
	for (uint32_t i = 0; i < 3; i++) {
		struct sr_vf *vf = &s->vfs[i];

		vf->index = i;
		snprintf(vf->pci, sizeof(vf->pci), "0000:03:10.%u", i * 2);
		strcpy(vf->driver, i ? "vfio-pci" : "igbvf");
		vf->iommu_group = i == 2 ? SR_UNSET : (int32_t)(20 + i);
		sr_vf_settings_init(&vf->kernel);
	}
	/* VF 0: known, with a MAC and no VLAN; VF 1: not known; VF 2: known. */
	s->vfs[0].has_kernel = true;
	s->vfs[0].kernel.has_mac = true;
	memcpy(s->vfs[0].kernel.mac, "\x02\x00\x00\x00\x01\x01", 6);
	s->vfs[0].kernel.vlan = 0;
	s->vfs[0].kernel.spoofchk = 1;
	s->vfs[2].has_kernel = true;
	s->vfs[2].kernel.trust = 0;
	s->vfs[2].kernel.max_tx_rate = 100;
	s->pf.vfs = s->vfs;
	s->pf.n_vfs = 3;
	for (int i = 0; i < 2; i++) {
		struct sr_reservation *r = &s->res[i];

		sr_reservation_init(r);
		strcpy(r->app_uuid, "11111111-1111-4111-8111-111111111111");
		strcpy(r->pf_pci, "0000:03:00.0");
		strcpy(r->pf_ifname, "eth1");
		r->vf_index = (uint32_t)i;
		snprintf(r->vf_pci, sizeof(r->vf_pci), "0000:03:10.%d", i * 2);
		r->adapter = (uint32_t)i;
		r->desired.vlan = 100;
		r->desired.qos = 3;
		r->attr_result[SR_ATTR_VLAN] = 0;
		r->attr_result[SR_ATTR_TRUST] = -EOPNOTSUPP;
		r->has_original = i == 0;
		r->original.vlan = 0;
		strcpy(r->bound_driver, "vfio-pci");
		strcpy(r->original_driver, i ? "igbvf" : "");
	}
	s->res[1].error = (char *)"bind to vfio-pci failed";
	/* res[0] has an adapter identity; res[1] is as a state file written
	 * before adapters had names saved it (position only) */
	strcpy(s->res[0].adapter_name, "uplink1");
	s->res[0].occurrence = 2;
	uuid_parse("11111111-1111-4111-8111-111111111111", s->app.uuid);
	strcpy(s->app.uuid_str, "11111111-1111-4111-8111-111111111111");
	strcpy(s->app.name, "router");
	s->app.memory_kib = 524288;
	s->app.vcpus = 2;
	s->app.virt_mode = 1;
	s->app.activate = true;
	s->st = (struct sr_state){ .pfs = &s->pf, .n_pfs = 1, .res = s->res, .n_res = 2,
				   .apps = &s->app, .n_apps = 1, .applied_at = 1700000000 };
	strcpy(s->st.last_result, "applied with warnings");
}

static void roundtrip(const struct sr_state *in, struct sr_state *out)
{
	struct sr_err err = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;

	ck_assert_msg(sr_state_encode(in, &buf, &len, &err) == 0, "%s", err.msg);
	ck_assert_msg(sr_state_decode(buf, len, out, &err) == 0, "%s", err.msg);
	free(buf);
}

START_TEST(test_roundtrip_fields)
{
	struct sample s;
	struct sr_state d;

	sample_init(&s);
	roundtrip(&s.st, &d);
	ck_assert_uint_eq(d.n_pfs, 1);
	ck_assert_str_eq(d.pfs[0].pci, "0000:03:00.0");
	ck_assert_uint_eq(d.pfs[0].totalvfs, 7);
	ck_assert_uint_eq(d.pfs[0].n_vfs, 3);
	ck_assert_str_eq(d.pfs[0].vfs[1].pci, "0000:03:10.2");
	ck_assert_int_eq(d.pfs[0].vfs[2].iommu_group, SR_UNSET);
	ck_assert_int_eq(d.pfs[0].vfs[1].iommu_group, 21);
	/* The kernel's view stays with its VF, known or not. */
	ck_assert(d.pfs[0].vfs[0].has_kernel);
	ck_assert(sr_vf_settings_equal(&d.pfs[0].vfs[0].kernel, &s.vfs[0].kernel));
	ck_assert(!d.pfs[0].vfs[1].has_kernel);
	ck_assert(d.pfs[0].vfs[2].has_kernel);
	ck_assert_int_eq(d.pfs[0].vfs[2].kernel.max_tx_rate, 100);
	ck_assert_uint_eq(d.n_res, 2);
	ck_assert(sr_vf_settings_equal(&d.res[0].desired, &s.res[0].desired));
	ck_assert(d.res[0].has_original && !d.res[1].has_original);
	ck_assert_int_eq(d.res[0].attr_result[SR_ATTR_VLAN], 0);
	ck_assert_int_eq(d.res[0].attr_result[SR_ATTR_TRUST], -EOPNOTSUPP);
	ck_assert_int_eq(d.res[0].attr_result[SR_ATTR_MAC], SR_ATTR_NOT_TRIED);
	ck_assert_str_eq(d.res[1].error, "bind to vfio-pci failed");
	ck_assert_str_eq(d.res[1].original_driver, "igbvf");
	ck_assert_str_eq(d.res[0].adapter_name, "uplink1");
	ck_assert_uint_eq(d.res[0].occurrence, 2);
	ck_assert_uint_eq(d.res[0].adapter, 0);
	ck_assert_str_eq(d.res[1].adapter_name, "");
	ck_assert_uint_eq(d.res[1].occurrence, 0);
	ck_assert_uint_eq(d.res[1].adapter, 1);
	ck_assert_uint_eq(d.n_apps, 1);
	ck_assert_uint_eq(d.apps[0].vcpus, 2);
	ck_assert(d.apps[0].activate);
	ck_assert_int_eq(d.applied_at, 1700000000);
	ck_assert_str_eq(d.last_result, "applied with warnings");
	sr_state_free(&d);
}
END_TEST

/* Encoding is a function of the state: decode + encode gives the bytes
 * back; a flipped byte is caught by the checksum. */
START_TEST(test_encode_stable)
{
	struct sample s;
	struct sr_state d;
	uint8_t *a = NULL, *b = NULL;
	size_t la = 0, lb = 0;

	sample_init(&s);
	ck_assert_int_eq(sr_state_encode(&s.st, &a, &la, NULL), 0);
	roundtrip(&s.st, &d);
	ck_assert_int_eq(sr_state_encode(&d, &b, &lb, NULL), 0);
	ck_assert_uint_eq(la, lb);
	ck_assert(!memcmp(a, b, la));
	a[la / 2] ^= 0x01;
	sr_state_free(&d);
	ck_assert_int_eq(sr_state_decode(a, la, &d, NULL), -EINVAL);
	memset(&d, 0, sizeof(d));
	free(a);
	free(b);
}
END_TEST

/* sr_state_same: a state and its decoded encoding are the same; one
 * changed field anywhere (a VF's kernel view, a reservation's result or
 * error, an app, the top-level fields) makes them differ. */
static void ch_vf_kernel(struct sample *s) { s->vfs[2].kernel.max_tx_rate = 200; }
static void ch_vf_unknown(struct sample *s) { s->vfs[0].has_kernel = false; }
static void ch_res_result(struct sample *s) { s->res[1].attr_result[SR_ATTR_VLAN] = -EAGAIN; }
static void ch_res_error(struct sample *s) { s->res[0].error = (char *)"x"; }
static void ch_res_count(struct sample *s) { s->st.n_res = 1; }
static void ch_app(struct sample *s) { s->app.vcpus = 4; }
static void ch_applied_at(struct sample *s) { s->st.applied_at++; }
static void ch_result(struct sample *s) { strcpy(s->st.last_result, "applied"); }

static void (*const changes[])(struct sample *s) = {
	ch_vf_kernel, ch_vf_unknown, ch_res_result, ch_res_error,
	ch_res_count, ch_app, ch_applied_at, ch_result,
};

START_TEST(test_same)
{
	struct sample s, t;
	struct sr_state d, empty = { 0 };

	sample_init(&s);
	roundtrip(&s.st, &d);
	ck_assert(sr_state_same(&s.st, &d));
	ck_assert(sr_state_same(&d, &s.st));
	ck_assert(!sr_state_same(&s.st, &empty));
	ck_assert(sr_state_same(&empty, &empty));
	sample_init(&t);
	changes[_i](&t);
	ck_assert_msg(!sr_state_same(&t.st, &d), "change %d not seen", _i);
	ck_assert(!sr_state_same(&d, &t.st));
	sr_state_free(&d);
}
END_TEST

/* Decoding refuses what the agent never writes, with a message. */
static void bad_pf_pci(struct sample *s) { strcpy(s->pf.pci, "03:00.0"); }
static void bad_res_uuid(struct sample *s) { strcpy(s->res[0].app_uuid, "not-a-uuid"); }
static void bad_res_pci(struct sample *s) { strcpy(s->res[0].pf_pci, "zz"); }
static void bad_app_uuid(struct sample *s) { strcpy(s->app.uuid_str, "1111"); }

static const struct {
	const char *what;
	void (*spoil)(struct sample *s);
	const char *msg;
} spoilt[] = {
	{ "PF PCI address", bad_pf_pci, "PF PCI address" },
	{ "reservation UUID", bad_res_uuid, "reservation app UUID" },
	{ "reservation PCI", bad_res_pci, "malformed PCI address" },
	{ "app UUID", bad_app_uuid, "app UUID" },
};

START_TEST(test_decode_refuses)
{
	struct sample s;
	struct sr_state d = { 0 };
	struct sr_err err = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;

	sample_init(&s);
	spoilt[_i].spoil(&s);
	ck_assert_int_eq(sr_state_encode(&s.st, &buf, &len, &err), 0);
	ck_assert_int_eq(sr_state_decode(buf, len, &d, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, spoilt[_i].msg), "%s: %s", spoilt[_i].what, err.msg);
	ck_assert_ptr_null(d.pfs); /* out untouched */
	free(buf);
}
END_TEST

START_TEST(test_decode_garbage)
{
	static const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };
	struct sr_state d = { 0 };
	struct sr_err err = { "" };

	ck_assert_int_eq(sr_state_decode(junk, sizeof(junk), &d, &err), -EINVAL);
	ck_assert(err.msg[0]);
	/* No checksum trailer (an empty or truncated file): refused too. */
	ck_assert_int_eq(sr_state_decode(junk, 0, &d, &err), -EINVAL);
	ck_assert_ptr_null(d.pfs);
}
END_TEST

/* Decoded element by element, errors keep the order one unpack of the
 * whole file gave: bytes that do not unpack anywhere (here a reservation
 * after the PF) are "not a valid state file" before the PF's bad PCI
 * address, which comes first in the file. */
START_TEST(test_decode_precedence)
{
	static const uint8_t bad_res[] = { (3u << 3) | 2u, 2, 0x08, 0x80 }; /* varint cut */
	struct sample s;
	struct sr_state d = { 0 };
	struct sr_err err = { "" };
	uint8_t *buf = NULL, *b2;
	size_t len = 0, n;
	uint32_t crc;

	sample_init(&s);
	bad_pf_pci(&s);
	ck_assert_int_eq(sr_state_encode(&s.st, &buf, &len, &err), 0);
	n = len - 5; /* without the checksum trailer */
	b2 = malloc(n + sizeof(bad_res) + 5);
	ck_assert_ptr_nonnull(b2);
	memcpy(b2, buf, n);
	memcpy(b2 + n, bad_res, sizeof(bad_res));
	n += sizeof(bad_res);
	crc = sr_crc32(b2, n);
	b2[n] = (15u << 3) | 5u;
	for (int k = 0; k < 4; k++)
		b2[n + 1 + k] = (uint8_t)(crc >> (8 * k));
	ck_assert_int_eq(sr_state_decode(b2, n + 5, &d, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "not a valid state file"), "%s", err.msg);
	/* Without the bad reservation: the PF's own message. */
	ck_assert_int_eq(sr_state_decode(buf, len, &d, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "PF PCI address"), "%s", err.msg);
	ck_assert_ptr_null(d.pfs);
	free(buf);
	free(b2);
}
END_TEST

START_TEST(test_save_load)
{
	char dir[] = "/tmp/sr-state-XXXXXX", path[64];
	struct sample s;
	struct sr_state d = { 0 };
	struct sr_err err = { "" };
	struct stat sb;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* Missing file: an empty state. */
	ck_assert_int_eq(sr_state_load(dir, &d, &err), 0);
	ck_assert_uint_eq(d.n_pfs + d.n_res + d.n_apps, 0);
	sr_state_free(&d);
	sample_init(&s);
	ck_assert_msg(sr_state_save(dir, &s.st, &err) == 0, "%s", err.msg);
	ck_assert_msg(sr_state_load(dir, &d, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(d.n_res, 2);
	ck_assert(d.pfs[0].vfs[0].has_kernel);
	sr_state_free(&d);
	/* No temporary file left behind. */
	snprintf(path, sizeof(path), "%s/%s.tmp", dir, SR_STATE_FILE);
	ck_assert_int_ne(stat(path, &sb), 0);
	snprintf(path, sizeof(path), "%s/%s", dir, SR_STATE_FILE);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

/* No state.pb while config.pb is there (an apply saves it after
 * state.pb): the state was lost, refused as a corrupt one is, never loaded
 * as "no VF held". With neither file: a fresh node, an empty state. */
START_TEST(test_lost_state)
{
	char dir[] = "/tmp/sr-state-XXXXXX", path[64];
	struct sr_state d = { 0 };
	struct sr_err err = { "" };
	FILE *f;
	int r;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, SR_CONFIG_FILE);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	r = sr_state_load(dir, &d, &err);
	ck_assert_int_eq(r, -EINVAL);
	ck_assert(sr_state_is_refused(r));
	ck_assert_msg(strstr(err.msg, "state.pb: missing, while ") &&
			      strstr(err.msg, "config.pb (saved after it by every apply) is there: the state was lost"),
		      "%s", err.msg);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(sr_state_load(dir, &d, &err), 0);
	ck_assert_uint_eq(d.n_pfs + d.n_res + d.n_apps, 0);
	sr_state_free(&d);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

#define N(x) ((int)(sizeof(x) / sizeof((x)[0])))

int main(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("state");

	tcase_add_test(tc, test_roundtrip_fields);
	tcase_add_test(tc, test_encode_stable);
	tcase_add_loop_test(tc, test_same, 0, sizeof(changes) / sizeof(changes[0]));
	tcase_add_loop_test(tc, test_decode_refuses, 0, N(spoilt));
	tcase_add_test(tc, test_decode_garbage);
	tcase_add_test(tc, test_decode_precedence);
	tcase_add_test(tc, test_save_load);
	tcase_add_test(tc, test_lost_state);
	suite_add_tcase(s, tc);
	return sr_check_run(s);
}
