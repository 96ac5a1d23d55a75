/* SPDX-License-Identifier: MIT */
/*
 * Domain config emitters: golden files compared byte for byte, reservation
 * selection and ordering, the PCI address source, and input validation.
 * SR_UPDATE_GOLDEN=1 rewrites the golden files from the current output
 * (review the diff before committing them).
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypervisor.h"

#define GOLDEN_DIR SR_SOURCE_DIR "/test/golden/"

#define UUID_A "3f2a6c1e-8b7d-4e5f-9a0b-1c2d3e4f5a6b"
#define UUID_B "9c0e7d52-41aa-4b3e-8f6d-2e5b7a1c0d93"
#define UUID_C "b7e1f0a4-6d2c-4a8e-9b35-7c4d1e2f3a60"
#define UUID_D "d4d4d4d4-0009-4a8e-9b35-7c4d1e2f3a60"

struct captured {
	char *buf;
	size_t len;
	int rc;
	struct sr_err err;
};

static struct sr_app app_make(const char *uuid, const char *name, uint32_t memory_kib,
			      uint32_t vcpus, uint32_t virt_mode)
{
	struct sr_app a;

	memset(&a, 0, sizeof(a));
	snprintf(a.uuid_str, sizeof(a.uuid_str), "%s", uuid);
	uuid_parse(uuid, a.uuid);
	snprintf(a.name, sizeof(a.name), "%s", name);
	a.memory_kib = memory_kib;
	a.vcpus = vcpus;
	a.virt_mode = virt_mode;
	a.activate = true;
	return a;
}

static struct sr_reservation res_make(const char *uuid, const char *pf_pci, uint32_t vf_index,
				      const char *vf_pci, uint32_t adapter)
{
	struct sr_reservation r;

	sr_reservation_init(&r);
	snprintf(r.app_uuid, sizeof(r.app_uuid), "%s", uuid);
	snprintf(r.pf_pci, sizeof(r.pf_pci), "%s", pf_pci);
	r.vf_index = vf_index;
	snprintf(r.vf_pci, sizeof(r.vf_pci), "%s", vf_pci);
	r.adapter = adapter;
	return r;
}

static struct captured emit_domain(enum sr_hypervisor hv, const struct sr_app *app,
				   const struct sr_reservation *res, size_t n)
{
	struct captured c = { 0 };
	FILE *f = open_memstream(&c.buf, &c.len);

	ck_assert_ptr_nonnull(f);
	c.rc = sr_emit_domain(hv, app, res, n, f, &c.err);
	ck_assert_int_eq(fclose(f), 0);
	return c;
}

static struct captured emit_direct(enum sr_hypervisor hv, const struct sr_app *app,
				   const char *const *pci, size_t n)
{
	struct captured c = { 0 };
	FILE *f = open_memstream(&c.buf, &c.len);

	ck_assert_ptr_nonnull(f);
	if (hv == SR_HV_KVM)
		c.rc = sr_emit_kvm(app, pci, n, f, &c.err);
	else
		c.rc = sr_emit_xen(app, pci, n, f, &c.err);
	ck_assert_int_eq(fclose(f), 0);
	return c;
}

static char *read_file(const char *path, size_t *len)
{
	char *buf = NULL;
	long n;
	FILE *f = fopen(path, "rb");

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET))
		goto out_close;
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out_close;
	}
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
out_close:
	fclose(f);
	return buf;
}

/* ---- golden files ---------------------------------------------------- */

/* App A: named, 1 GiB, 2 vCPUs, HVM. */
static const struct {
	const char *uuid, *name;
	uint32_t memory_kib, vcpus, virt_mode;
} apps[] = {
	{ UUID_A, "web-frontend", 1048576, 2, SR_VM_MODE_HVM },
	/* defaults: memory 0 -> 512M, vcpus 0 -> 1; name needs sanitizing */
	{ UUID_B, "My Router/v2", 0, 0, SR_VM_MODE_FML },
	/* PV, memory not a whole MiB (rounds up to 293), no name -> UUID */
	{ UUID_C, "", 300001, 4, SR_VM_MODE_PV },
	/* nine VFs: root ports on two pcie.0 slots (0x10.0-7, 0x11.0) */
	{ UUID_D, "nine", 0, 0, SR_VM_MODE_HVM },
};

/* A node's reservations, deliberately out of adapter order and mixed
 * between apps; vf_index never matches the PCI function. */
static struct sr_reservation node_res[16];
static size_t n_node_res;

static void node_setup(void)
{
	n_node_res = 0;
	node_res[n_node_res++] = res_make(UUID_B, "0000:03:00.0", 7, "0000:03:10.7", 1);
	node_res[n_node_res++] = res_make(UUID_A, "0000:01:00.0", 1, "0000:01:10.2", 0);
	node_res[n_node_res++] = res_make(UUID_C, "0000:01:00.0", 0, "0000:01:10.0", 0);
	node_res[n_node_res++] = res_make(UUID_B, "0000:01:00.0", 3, "0000:01:10.6", 0);
	node_res[n_node_res++] = res_make(UUID_A, "0000:03:00.0", 2, "0000:03:10.4", 1);
	/* app D: adapters 8..0 on VFs 0..8 of one PF (reverse order) */
	for (uint32_t i = 0; i < 9; i++) {
		char pci[SR_PCI_LEN];

		snprintf(pci, sizeof(pci), "0000:05:1%u.%u", i / 8, i % 8);
		node_res[n_node_res++] = res_make(UUID_D, "0000:05:00.0", i, pci, 8 - i);
	}
}

static const struct {
	const char *file;
	enum sr_hypervisor hv;
	size_t app;
	bool only_first;   /* give the emitter only the app's first reservation */
} goldens[] = {
	{ "kvm_one_vf.cfg", SR_HV_KVM, 0, true },
	{ "kvm_two_vfs.cfg", SR_HV_KVM, 1, false },
	{ "kvm_nine_vfs.cfg", SR_HV_KVM, 3, false },
	{ "xen_hvm.cfg", SR_HV_XEN, 0, false },
	{ "xen_fml.cfg", SR_HV_XEN, 1, false },
	{ "xen_pv.cfg", SR_HV_XEN, 2, false },
};

START_TEST(test_golden)
{
	struct sr_app a = app_make(apps[goldens[_i].app].uuid, apps[goldens[_i].app].name,
				   apps[goldens[_i].app].memory_kib, apps[goldens[_i].app].vcpus,
				   apps[goldens[_i].app].virt_mode);
	char path[512];
	struct captured c;
	size_t want_len = 0;
	char *want;

	node_setup();
	/* only_first: the app's adapter-0 reservation (index 1) alone */
	if (goldens[_i].only_first)
		c = emit_domain(goldens[_i].hv, &a, &node_res[1], 1);
	else
		c = emit_domain(goldens[_i].hv, &a, node_res, n_node_res);
	ck_assert_msg(c.rc == 0, "%s: rc %d: %s", goldens[_i].file, c.rc, c.err.msg);

	snprintf(path, sizeof(path), GOLDEN_DIR "%s", goldens[_i].file);
	if (getenv("SR_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");

		ck_assert_msg(f != NULL, "cannot write %s", path);
		ck_assert_uint_eq(fwrite(c.buf, 1, c.len, f), c.len);
		ck_assert_int_eq(fclose(f), 0);
	}
	want = read_file(path, &want_len);
	ck_assert_msg(want != NULL, "cannot read golden %s", path);
	ck_assert_msg(c.len == want_len && !memcmp(c.buf, want, want_len),
		      "%s differs from the emitted config:\n--- golden\n%s--- emitted\n%s",
		      goldens[_i].file, want, c.buf);
	free(want);
	free(c.buf);
}
END_TEST

/* ---- KVM root ports ------------------------------------------------- */

/* Only the text from "[device" on: the part that depends on the VFs. */
static const char *devices(const char *cfg)
{
	const char *d = strstr(cfg, "[device");

	return d ? d : "";
}

/* The root-port layout depends on adapter positions only: re-applying (the
 * same input twice) and handing the same adapters other VFs (a VF replaced
 * after a PF reset) give the same ids, buses and addresses. */
START_TEST(test_kvm_layout_stable)
{
	struct sr_app a = app_make(UUID_A, "stable", 0, 0, SR_VM_MODE_HVM);
	const char *pci1[] = { "0000:01:10.0", "0000:01:10.2", "0000:01:10.4" };
	const char *pci2[] = { "0000:02:10.1", "0000:02:10.3", "0000:02:10.5" };
	struct captured c1 = emit_direct(SR_HV_KVM, &a, pci1, 3);
	struct captured c1b = emit_direct(SR_HV_KVM, &a, pci1, 3);
	struct captured c2 = emit_direct(SR_HV_KVM, &a, pci2, 3);
	char *p;

	ck_assert_int_eq(c1.rc, 0);
	ck_assert_int_eq(c2.rc, 0);
	ck_assert_str_eq(c1.buf, c1b.buf);
	/* same text once the host lines are made equal */
	for (p = c2.buf; (p = strstr(p, "host = \"0000:02:10.")); p += 8) {
		p[14] = '1';            /* bus 02 -> 01 */
		p[19] = (char)(p[19] - 1); /* function 1, 3, 5 -> 0, 2, 4 */
	}
	ck_assert_str_eq(devices(c1.buf), devices(c2.buf));
	ck_assert_ptr_nonnull(strstr(c1.buf, "[device \"vfport2\"]\n  driver = \"pcie-root-port\"\n"
					     "  bus = \"pcie.0\"\n  addr = \"0x10.2\"\n  chassis = \"3\"\n  port = \"2\"\n"));
	ck_assert_ptr_nonnull(strstr(c1.buf, "[device \"vf2\"]\n  driver = \"vfio-pci\"\n"
					     "  host = \"0000:01:10.4\"\n  bus = \"vfport2\"\n  addr = \"0x0\"\n"));
	free(c1.buf);
	free(c1b.buf);
	free(c2.buf);
}
END_TEST

/* 120 VFs fit (the last on slot 0x1e function 7); 121 are refused. */
START_TEST(test_kvm_max_vfs)
{
	struct sr_app a = app_make(UUID_A, "many", 0, 0, SR_VM_MODE_HVM);
	static char pcis[SR_HV_KVM_VFS_MAX + 1][SR_PCI_LEN];
	const char *pci[SR_HV_KVM_VFS_MAX + 1];
	struct captured c;

	for (unsigned i = 0; i <= SR_HV_KVM_VFS_MAX; i++) {
		snprintf(pcis[i], sizeof(pcis[i]), "0000:%02x:%02x.%u", 1 + i / 64, (i / 8) % 8 + 0x10, i % 8);
		pci[i] = pcis[i];
	}
	c = emit_direct(SR_HV_KVM, &a, pci, SR_HV_KVM_VFS_MAX);
	ck_assert_int_eq(c.rc, 0);
	ck_assert_ptr_nonnull(strstr(c.buf, "[device \"vfport119\"]\n  driver = \"pcie-root-port\"\n"
					    "  bus = \"pcie.0\"\n  addr = \"0x1e.7\"\n"));
	ck_assert_ptr_null(strstr(c.buf, "0x1f."));
	free(c.buf);
	c = emit_direct(SR_HV_KVM, &a, pci, SR_HV_KVM_VFS_MAX + 1);
	ck_assert_int_eq(c.rc, -E2BIG);
	ck_assert_ptr_nonnull(strstr(c.err.msg, "121 VFs: allowed at most 120 per app"));
	free(c.buf);
}
END_TEST

/* ---- selection and ordering ------------------------------------------ */

START_TEST(test_order_by_adapter)
{
	struct sr_app a = app_make(UUID_A, "ordered", 0, 0, SR_VM_MODE_HVM);
	struct sr_reservation res[] = {
		res_make(UUID_A, "0000:01:00.0", 0, "0000:01:10.0", 2),
		res_make(UUID_B, "0000:01:00.0", 1, "0000:01:10.1", 0),
		res_make(UUID_A, "0000:02:00.0", 5, "0000:02:10.3", 0),
		res_make(UUID_A, "0000:01:00.0", 2, "0000:01:10.4", 1),
	};
	/* adapter 0, 1, 2; UUID_B's VF excluded */
	static const char *const want[] = { "0000:02:10.3", "0000:01:10.4", "0000:01:10.0" };
	enum sr_hypervisor hv = _i ? SR_HV_XEN : SR_HV_KVM;
	struct captured c = emit_domain(hv, &a, res, sizeof(res) / sizeof(res[0]));
	const char *prev = c.buf;

	ck_assert_msg(c.rc == 0, "rc %d: %s", c.rc, c.err.msg);
	ck_assert_ptr_null(strstr(c.buf, "0000:01:10.1"));
	for (size_t i = 0; i < 3; i++) {
		const char *p = strstr(c.buf, want[i]);

		ck_assert_msg(p != NULL, "%s missing", want[i]);
		ck_assert_msg(p > prev, "%s out of adapter order", want[i]);
		prev = p;
		if (hv == SR_HV_KVM) {
			char id[32];

			snprintf(id, sizeof(id), "[device \"vf%zu\"]", i);
			ck_assert_msg(strstr(c.buf, id) && strstr(c.buf, id) < p,
				      "%s not in section %s", want[i], id);
		}
	}
	free(c.buf);
}
END_TEST

/* The PCI address comes from vf_pci; vf_index is not a PCI function. */
START_TEST(test_pci_from_vf_pci)
{
	struct sr_app a = app_make(UUID_A, "x", 0, 0, SR_VM_MODE_HVM);
	struct sr_reservation r = res_make(UUID_A, "0000:01:00.0", 1, "0000:01:10.2", 0);
	enum sr_hypervisor hv = _i ? SR_HV_XEN : SR_HV_KVM;
	struct captured c = emit_domain(hv, &a, &r, 1);

	ck_assert_msg(c.rc == 0, "rc %d: %s", c.rc, c.err.msg);
	ck_assert_ptr_nonnull(strstr(c.buf, hv == SR_HV_KVM ? "host = \"0000:01:10.2\"\n"
							     : "pci = [ '0000:01:10.2' ]\n"));
	ck_assert_ptr_null(strstr(c.buf, "0000:01:00.1"));
	ck_assert_ptr_null(strstr(c.buf, "10.1"));
	free(c.buf);
}
END_TEST

/* Addresses are in sysfs spelling (lowercase); another spelling is refused
 * rather than rewritten, since it cannot come from the VF table. */
START_TEST(test_pci_lowercased)
{
	struct sr_app a = app_make(UUID_A, "x", 0, 0, SR_VM_MODE_HVM);
	const char *pci[] = { "0000:0A:1F.7" };
	enum sr_hypervisor hv = _i ? SR_HV_XEN : SR_HV_KVM;
	struct captured c = emit_direct(hv, &a, pci, 1);

	ck_assert_int_eq(c.rc, -EINVAL);
	ck_assert_ptr_nonnull(strstr(c.err.msg, "0000:0A:1F.7"));
	free(c.buf);
}
END_TEST

/* An emitter given no VF writes a domain without devices. */
START_TEST(test_direct_no_vf)
{
	struct sr_app a = app_make(UUID_A, "x", 2048, 1, SR_VM_MODE_PV);
	enum sr_hypervisor hv = _i ? SR_HV_XEN : SR_HV_KVM;
	struct captured c = emit_direct(hv, &a, NULL, 0);

	ck_assert_msg(c.rc == 0, "rc %d: %s", c.rc, c.err.msg);
	ck_assert_ptr_null(strstr(c.buf, hv == SR_HV_KVM ? "[device" : "pci ="));
	ck_assert_ptr_nonnull(strstr(c.buf, hv == SR_HV_KVM ? "size = \"2M\"" : "memory = 2\n"));
	free(c.buf);
}
END_TEST

/* A name cannot break out of the header comment into config lines. */
START_TEST(test_name_cannot_inject)
{
	struct sr_app a = app_make(UUID_A, "x\n[device \"evil\"]\n  driver = \"e1000\"", 0, 0,
				   SR_VM_MODE_HVM);
	const char *pci[] = { "0000:01:10.2" };
	enum sr_hypervisor hv = _i ? SR_HV_XEN : SR_HV_KVM;
	struct captured c = emit_direct(hv, &a, pci, 1);

	ck_assert_msg(c.rc == 0, "rc %d: %s", c.rc, c.err.msg);
	ck_assert_ptr_null(strstr(c.buf, "\n[device \"evil\"]"));
	ck_assert_ptr_null(strstr(c.buf, "\n  driver = \"e1000\""));
	ck_assert_ptr_null(strstr(c.buf, "\nx\n"));
	free(c.buf);
}
END_TEST

/* ---- errors ----------------------------------------------------------- */

static const struct {
	const char *desc;
	enum sr_hypervisor hv;
	const char *uuid;
	uint32_t vcpus, virt_mode;
	struct {
		const char *uuid, *vf_pci;
		uint32_t vf_index, adapter;
	} res[3];
	size_t n_res;
	int want_rc;
	const char *want_msg[4];   /* substrings the message must hold */
} errors[] = {
	{ "no reservation at all", SR_HV_KVM, UUID_A, 1, 1, { { 0 } }, 0,
	  -ENOENT, { UUID_A, "holds no VF" } },
	{ "only other apps' VFs", SR_HV_XEN, UUID_A, 1, 1,
	  { { UUID_B, "0000:01:10.2", 1, 0 }, { UUID_C, "0000:01:10.3", 2, 0 } }, 2,
	  -ENOENT, { UUID_A, "holds no VF" } },
	{ "empty vf_pci", SR_HV_KVM, UUID_A, 1, 1,
	  { { UUID_A, "0000:01:10.2", 1, 0 }, { UUID_A, "", 4, 1 } }, 2,
	  -EINVAL, { UUID_A, "VF 4", "vf_pci \"\"", "dddd:bb:dd.f" } },
	{ "vf_pci device above 1f", SR_HV_XEN, UUID_A, 1, 1,
	  { { UUID_A, "0000:01:20.2", 3, 0 } }, 1,
	  -EINVAL, { UUID_A, "VF 3", "\"0000:01:20.2\"", "device 00..1f" } },
	{ "vf_pci function above 7", SR_HV_KVM, UUID_A, 1, 1,
	  { { UUID_A, "0000:01:10.8", 3, 0 } }, 1,
	  -EINVAL, { UUID_A, "VF 3", "\"0000:01:10.8\"", "function 0..7" } },
	{ "vf_pci not an address", SR_HV_KVM, UUID_A, 1, 1,
	  { { UUID_A, "eth0", 0, 0 } }, 1,
	  -EINVAL, { UUID_A, "VF 0", "\"eth0\"" } },
	{ "virt_mode 2 (filler) on xen", SR_HV_XEN, UUID_A, 1, 2,
	  { { UUID_A, "0000:01:10.2", 1, 0 } }, 1,
	  -EINVAL, { UUID_A, "virt_mode 2", "0 (PV), 1 (HVM), 3 (FML)" } },
	{ "virt_mode 4 (no hypervisor) on xen", SR_HV_XEN, UUID_A, 1, 4,
	  { { UUID_A, "0000:01:10.2", 1, 0 } }, 1,
	  -EINVAL, { UUID_A, "virt_mode 4", "allowed" } },
	{ "vcpus above the KVM limit", SR_HV_KVM, UUID_A, 256, 1,
	  { { UUID_A, "0000:01:10.2", 1, 0 } }, 1,
	  -EINVAL, { UUID_A, "vcpus 256", "0..255" } },
	{ "vcpus above the Xen limit", SR_HV_XEN, UUID_A, 129, 1,
	  { { UUID_A, "0000:01:10.2", 1, 0 } }, 1,
	  -EINVAL, { UUID_A, "vcpus 129", "0..128" } },
	{ "uuid not a UUID", SR_HV_KVM, "not-a-uuid", 1, 1,
	  { { "not-a-uuid", "0000:01:10.2", 1, 0 } }, 1,
	  -EINVAL, { "uuid \"not-a-uuid\"", "allowed a UUID" } },
	{ "two VFs on one adapter position", SR_HV_XEN, UUID_A, 1, 1,
	  { { UUID_A, "0000:01:10.2", 1, 0 }, { UUID_A, "0000:01:10.3", 2, 0 } }, 2,
	  -EINVAL, { UUID_A, "adapter 0", "VF 1", "VF 2" } },
	{ "one VF twice", SR_HV_KVM, UUID_A, 1, 1,
	  { { UUID_A, "0000:01:10.2", 1, 0 }, { UUID_A, "0000:01:10.2", 1, 1 } }, 2,
	  -EINVAL, { UUID_A, "\"0000:01:10.2\"", "already given" } },
};

START_TEST(test_errors)
{
	struct sr_app a = app_make(errors[_i].uuid, "app", 0, errors[_i].vcpus,
				   errors[_i].virt_mode);
	struct sr_reservation res[3];
	struct captured c;

	for (size_t i = 0; i < errors[_i].n_res; i++)
		res[i] = res_make(errors[_i].res[i].uuid, "0000:01:00.0",
				  errors[_i].res[i].vf_index, errors[_i].res[i].vf_pci,
				  errors[_i].res[i].adapter);
	c = emit_domain(errors[_i].hv, &a, res, errors[_i].n_res);
	ck_assert_msg(c.rc == errors[_i].want_rc, "%s: rc %d, want %d (%s)", errors[_i].desc,
		      c.rc, errors[_i].want_rc, c.err.msg);
	for (size_t k = 0; k < 4 && errors[_i].want_msg[k]; k++)
		ck_assert_msg(strstr(c.err.msg, errors[_i].want_msg[k]),
			      "%s: message \"%s\" lacks \"%s\"", errors[_i].desc, c.err.msg,
			      errors[_i].want_msg[k]);
	/* validate everything, write nothing on bad input */
	ck_assert_msg(c.len == 0, "%s: wrote %zu bytes on error", errors[_i].desc, c.len);
	free(c.buf);
}
END_TEST

START_TEST(test_missing_args)
{
	struct sr_app a = app_make(UUID_A, "x", 0, 0, SR_VM_MODE_HVM);
	struct sr_reservation r = res_make(UUID_A, "0000:01:00.0", 1, "0000:01:10.2", 0);
	const char *pci[] = { "0000:01:10.2", NULL };
	struct sr_err err = { "" };
	struct captured c;

	ck_assert_int_eq(sr_emit_domain(SR_HV_KVM, NULL, &r, 1, stdout, &err), -EINVAL);
	ck_assert_int_eq(sr_emit_domain(SR_HV_KVM, &a, &r, 1, NULL, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "output"));
	ck_assert_int_eq(sr_emit_domain(SR_HV_KVM, &a, NULL, 1, stdout, &err), -EINVAL);
	ck_assert_int_eq(sr_emit_domain((enum sr_hypervisor)7, &a, &r, 1, stdout, &err), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err.msg, "allowed kvm, xen"));
	ck_assert_int_eq(sr_emit_kvm(NULL, pci, 1, stdout, NULL), -EINVAL);
	ck_assert_int_eq(sr_emit_xen(&a, NULL, 1, stdout, &err), -EINVAL);

	c = emit_direct(SR_HV_XEN, &a, pci, 2);
	ck_assert_int_eq(c.rc, -EINVAL);
	ck_assert_ptr_nonnull(strstr(c.err.msg, "vf_pci[1] \"(null)\""));
	ck_assert_uint_eq(c.len, 0);
	free(c.buf);
}
END_TEST

/* ---- helpers ---------------------------------------------------------- */

static const struct {
	const char *in;
	int rc;
	enum sr_hypervisor hv;
} hv_names[] = {
	{ "kvm", 0, SR_HV_KVM },
	{ "xen", 0, SR_HV_XEN },
	{ "KVM", -EINVAL, 0 },
	{ "qemu", -EINVAL, 0 },
	{ "", -EINVAL, 0 },
	{ "xen ", -EINVAL, 0 },
	{ NULL, -EINVAL, 0 },
};

START_TEST(test_hypervisor_parse)
{
	enum sr_hypervisor hv = (enum sr_hypervisor)99;

	ck_assert_int_eq(sr_hypervisor_parse(hv_names[_i].in, &hv), hv_names[_i].rc);
	if (hv_names[_i].rc == 0) {
		ck_assert_int_eq(hv, hv_names[_i].hv);
		ck_assert_str_eq(sr_hypervisor_name(hv), hv_names[_i].in);
	} else {
		ck_assert_int_eq(hv, 99); /* untouched on error */
	}
}
END_TEST

static const struct {
	uint32_t kib, mib;
} memory[] = {
	{ 0, SR_HV_DEFAULT_MEMORY_MIB },
	{ 1, 1 },
	{ 1023, 1 },
	{ 1024, 1 },
	{ 1025, 2 },
	{ 524288, 512 },
	{ 300001, 293 },
	{ UINT32_MAX, 4194304 },
};

START_TEST(test_memory_mib)
{
	struct sr_app a = app_make(UUID_A, "", memory[_i].kib, 0, 0);

	ck_assert_uint_eq(sr_hv_memory_mib(&a), memory[_i].mib);
}
END_TEST

static const struct {
	const char *in, *want;
} xl_names[] = {
	{ "web-frontend", "web-frontend" },
	{ "My Router/v2", "My_Router_v2" },
	{ "a.b_c-d", "a.b_c-d" },
	{ "-opt", "_opt" },
	{ ".hidden", "_hidden" },
	{ "x\ny\"z'", "x_y_z_" },
	{ "caf\xc3\xa9", "caf__" },
	{ "", UUID_A },
	{ "1234", UUID_A },      /* xl would read it as a domain id */
	{ "12a", "12a" },
};

START_TEST(test_xl_name)
{
	struct sr_app a = app_make(UUID_A, xl_names[_i].in, 0, 0, 0);
	char out[SR_NAME_LEN];

	sr_hv_xl_name(&a, out);
	ck_assert_str_eq(out, xl_names[_i].want);
}
END_TEST

START_TEST(test_comment_text)
{
	char out[8];

	sr_hv_comment_text("a\nb\tc\x7f", out, sizeof(out));
	ck_assert_str_eq(out, "a_b_c_");
	sr_hv_comment_text("0123456789", out, sizeof(out));
	ck_assert_str_eq(out, "0123456");
}
END_TEST

#define N(t) ((int)(sizeof(t) / sizeof((t)[0])))

/* The emitters' limits, checkable from the config alone before an apply
 * writes anything: {hv, vcpus, virt_mode, n_vf, code, message}. */
static const struct {
	enum sr_hypervisor hv;
	uint32_t vcpus, mode;
	size_t n_vf;
	int code;
	const char *msg;
} app_limits[] = {
	{ SR_HV_KVM, 255, 1, 1, 0, NULL },
	{ SR_HV_KVM, 256, 1, 1, -EINVAL, "fixedresources.vcpus 256: allowed 0..255 with kvm" },
	{ SR_HV_KVM, 0, 2, 1, 0, NULL }, /* KVM has no PV/HVM distinction */
	{ SR_HV_KVM, 1, 1, SR_HV_KVM_VFS_MAX, 0, NULL },
	{ SR_HV_KVM, 1, 1, SR_HV_KVM_VFS_MAX + 1, -E2BIG, "121 VF adapters: allowed at most 120 per app with kvm" },
	{ SR_HV_XEN, 128, 1, 1, 0, NULL },
	{ SR_HV_XEN, 129, 1, 1, -EINVAL, "fixedresources.vcpus 129: allowed 0..128 with xen" },
	{ SR_HV_XEN, 1, SR_VM_MODE_FML, 1, 0, NULL },
	{ SR_HV_XEN, 1, 2, 1, -EINVAL, "fixedresources.virtualizationMode 2: allowed 0 (PV), 1 (HVM) or 3 (FML) with xen" },
	{ SR_HV_XEN, 1, 4, 1, -EINVAL, "virtualizationMode 4" },
};

START_TEST(test_app_limits)
{
	struct sr_app app = { .vcpus = app_limits[_i].vcpus, .virt_mode = app_limits[_i].mode };
	struct sr_err err = { "" };
	int r = sr_domain_check_app(app_limits[_i].hv, &app, app_limits[_i].n_vf, &err);

	ck_assert_int_eq(r, app_limits[_i].code);
	if (app_limits[_i].msg)
		ck_assert_msg(strstr(err.msg, app_limits[_i].msg), "%s", err.msg);
}
END_TEST

static Suite *hypervisor_suite(void)
{
	Suite *s = suite_create("hypervisor");
	TCase *tc;

	tc = tcase_create("golden");
	tcase_add_loop_test(tc, test_golden, 0, N(goldens));
	suite_add_tcase(s, tc);

	tc = tcase_create("kvm_root_ports");
	tcase_add_test(tc, test_kvm_layout_stable);
	tcase_add_test(tc, test_kvm_max_vfs);
	suite_add_tcase(s, tc);

	tc = tcase_create("select");
	tcase_add_loop_test(tc, test_order_by_adapter, 0, 2);
	tcase_add_loop_test(tc, test_pci_from_vf_pci, 0, 2);
	tcase_add_loop_test(tc, test_pci_lowercased, 0, 2);
	tcase_add_loop_test(tc, test_direct_no_vf, 0, 2);
	tcase_add_loop_test(tc, test_name_cannot_inject, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_loop_test(tc, test_errors, 0, N(errors));
	tcase_add_test(tc, test_missing_args);
	tcase_add_loop_test(tc, test_app_limits, 0, N(app_limits));
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_loop_test(tc, test_hypervisor_parse, 0, N(hv_names));
	tcase_add_loop_test(tc, test_memory_mib, 0, N(memory));
	tcase_add_loop_test(tc, test_xl_name, 0, N(xl_names));
	tcase_add_test(tc, test_comment_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sr_check_run(hypervisor_suite());
}
