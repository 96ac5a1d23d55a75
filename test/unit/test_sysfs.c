/* SPDX-License-Identifier: MIT */
/* lib/sysfs.c against a fake sysfs tree with the in-process PF driver
 * emulator, and fake-sysfs (create + run) as a separate process. */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fake_sysfs.h"
#include "sysfs.h"

extern char **environ;

#define PF_A "0000:03:00.0"    /* eth1, igb, 7 VFs, offset 128, stride 2, IOMMU */
#define PF_B "0000:04:00.0"    /* eth2, e1000e, no SR-IOV */
#define PF_C "0000:02:00.0"    /* eth0, ixgbe, 4 VFs, stride 1, no VF netdev, no IOMMU */

static char *root;
static struct sr_sysfs S;
static struct sr_fake_driver *drv;

static const struct sr_fake_pf pf_a = {
	.pci = PF_A, .ifname = "eth1", .driver = "igb", .totalvfs = 7, .offset = 128,
	.stride = 2, .vendor = 0x8086, .device = 0x10c9, .vf_device = 0x10ca,
	.vf_driver = "igbvf", .vf_ifname_fmt = "eth1v%u", .iommu = true,
};
static const struct sr_fake_pf pf_b = {
	.pci = PF_B, .ifname = "eth2", .driver = "e1000e", .totalvfs = 0,
	.vendor = 0x8086, .device = 0x10d3,
};
static const struct sr_fake_pf pf_c = {
	.pci = PF_C, .ifname = "eth0", .driver = "ixgbe", .totalvfs = 4, .offset = 128,
	.stride = 1, .vendor = 0x8086, .device = 0x10fb, .vf_device = 0x10ed,
	.vf_driver = "ixgbevf",
};

#define ck_assert_msg_has(err, sub)                                                        \
	ck_assert_msg(strstr((err).msg, (sub)) != NULL, "message \"%s\" lacks \"%s\"",      \
		      (err).msg, (sub))

static void use_driver(unsigned delay_ms)
{
	drv = sr_fake_driver_new(root, delay_ms);
	ck_assert_ptr_nonnull(drv);
	S.write = sr_fake_driver_write;
	S.write_ctx = drv;
}

static void setup(void)
{
	ck_assert_int_eq(sr_fake_sysfs_create(&root), 0);
	ck_assert_int_eq(sr_fake_sysfs_add_pf(root, &pf_a), 0);
	ck_assert_int_eq(sr_fake_sysfs_add_pf(root, &pf_b), 0);
	ck_assert_int_eq(sr_fake_sysfs_add_pf(root, &pf_c), 0);
	ck_assert_int_eq(sr_fake_sysfs_add_driver(root, "vfio-pci", false), 0);
	ck_assert_int_eq(sr_fake_sysfs_add_driver(root, "refuser", true), 0);
	sr_sysfs_init(&S, root);
	S.wait_timeout_ms = 3000;
	S.wait_poll_ms = 2;
	/* The emulator says "pending" a number of times, not for a time:
	 * 400 ms of retries, not a real apply's 2 s. */
	S.numvfs_again_ms = 400;
	use_driver(0);
}

static void teardown(void)
{
	sr_fake_driver_free(drv);
	drv = NULL;
	sr_fake_sysfs_destroy(root);
	root = NULL;
}

/* ---- find_pf ---------------------------------------------------------- */

static const struct {
	const char *ifname, *pci;
	int rc;
	const char *want_pci, *msg;
} find_cases[] = {
	{"eth1", NULL, 0, PF_A, NULL},
	{NULL, PF_A, 0, PF_A, NULL},
	{"eth1", PF_A, 0, PF_A, NULL},
	{"", PF_C, 0, PF_C, NULL},
	{"eth1", PF_C, -EINVAL, NULL, "eth1 is PCI device 0000:03:00.0, not 0000:02:00.0"},
	{"eth9", NULL, -ENODEV, NULL, "eth9: no such network interface"},
	{NULL, "0000:09:00.0", -ENODEV, NULL, "0000:09:00.0: no such PCI device"},
	{"eth2", NULL, -EOPNOTSUPP, NULL, "PF 0000:04:00.0: no SR-IOV"},
	{NULL, PF_B, -EOPNOTSUPP, NULL, "sriov_totalvfs"},
	{NULL, NULL, -EINVAL, NULL, "neither ifname nor PCI address"},
	{"", "", -EINVAL, NULL, "neither ifname nor PCI address"},
};

START_TEST(test_find_pf)
{
	struct sr_err err = {""};
	struct sr_pf pf;
	int rc;

	memset(&pf, 0x5a, sizeof(pf));
	rc = sr_sysfs_find_pf(&S, find_cases[_i].ifname, find_cases[_i].pci, &pf, &err);
	ck_assert_msg(rc == find_cases[_i].rc, "case %d: rc %d (%s), want %d", _i, rc, err.msg,
		      find_cases[_i].rc);
	if (rc == 0) {
		ck_assert_str_eq(pf.pci, find_cases[_i].want_pci);
	} else {
		ck_assert_msg_has(err, find_cases[_i].msg);
		ck_assert_int_eq((unsigned char)pf.pci[0], 0x5a); /* untouched on error */
	}
}
END_TEST

START_TEST(test_find_pf_fields)
{
	struct sr_err err = {""};
	struct sr_pf pf = {.label = "uplink"};

	ck_assert_int_eq(sr_sysfs_find_pf(&S, "eth1", NULL, &pf, &err), 0);
	ck_assert_str_eq(pf.label, "uplink");
	ck_assert_str_eq(pf.ifname, "eth1");
	ck_assert_str_eq(pf.driver, "igb");
	ck_assert_uint_eq(pf.vendor, 0x8086);
	ck_assert_uint_eq(pf.device, 0x10c9);
	ck_assert_uint_eq(pf.totalvfs, 7);
	ck_assert_uint_eq(pf.numvfs, 0);
	ck_assert_str_eq(pf.name, ""); /* names: sr_sysfs_list_pfs only */
	ck_assert_ptr_null(pf.vfs);

	/* By PCI address: the netdev name comes from the device's net/ dir. */
	ck_assert_int_eq(sr_sysfs_find_pf(&S, NULL, PF_C, &pf, &err), 0);
	ck_assert_str_eq(pf.ifname, "eth0");
	ck_assert_str_eq(pf.driver, "ixgbe");
	ck_assert_uint_eq(pf.totalvfs, 4);
}
END_TEST

/* ---- counts ----------------------------------------------------------- */

static const struct {
	const char *pci;
	bool total;
	int rc;
	uint32_t value;
} count_cases[] = {
	{PF_A, true, 0, 7},        {PF_A, false, 0, 0},          {PF_C, true, 0, 4},
	{PF_B, true, -EOPNOTSUPP, 0}, {PF_B, false, -EOPNOTSUPP, 0},
	{"0000:09:00.0", true, -ENODEV, 0}, {"0000:03:00", true, -EINVAL, 0},
	{"../../..", false, -EINVAL, 0},
};

START_TEST(test_read_counts)
{
	uint32_t v = 12345;
	int rc;

	rc = count_cases[_i].total ? sr_sysfs_read_totalvfs(&S, count_cases[_i].pci, &v)
				   : sr_sysfs_read_numvfs(&S, count_cases[_i].pci, &v);
	ck_assert_msg(rc == count_cases[_i].rc, "case %d: rc %d", _i, rc);
	ck_assert_uint_eq(v, rc == 0 ? count_cases[_i].value : 12345);
}
END_TEST

/* A netdev's flags: dev->flags in hex as net-sysfs shows it ("%#x"). */
static const struct {
	const char *ifname, *content;
	int rc;
	uint32_t flags;
} flags_cases[] = {
	{"eth1", "0x1003\n", 0, 0x1003},  /* up */
	{"eth1", "0x1002\n", 0, 0x1002},  /* down */
	{"eth1", NULL, -ENOENT, 0},        /* no flags file */
	{"eth9", NULL, -ENOENT, 0},        /* no such netdev */
	{"eth1", "up\n", -EIO, 0},        /* not a number */
	{"../x", NULL, -EINVAL, 0},
	{"", NULL, -EINVAL, 0},
};

START_TEST(test_read_netdev_flags)
{
	char path[PATH_MAX];
	uint32_t v = 12345;
	int rc;

	if (flags_cases[_i].content) {
		FILE *f;

		snprintf(path, sizeof(path), "%s/sys/class/net/%s/flags", root,
			 flags_cases[_i].ifname);
		f = fopen(path, "w");
		ck_assert_ptr_nonnull(f);
		fputs(flags_cases[_i].content, f);
		fclose(f);
	}
	rc = sr_sysfs_read_netdev_flags(&S, flags_cases[_i].ifname, &v);
	ck_assert_msg(rc == flags_cases[_i].rc, "case %d: rc %d", _i, rc);
	ck_assert_uint_eq(v, rc == 0 ? flags_cases[_i].flags : 12345);
}
END_TEST

/* ---- set_numvfs ------------------------------------------------------- */

/* Records every value written to sriov_numvfs, then lets the emulator act. */
static struct {
	char values[16][16];
	unsigned n;
} rec;

static int recording_writer(void *ctx, const char *path, const char *value)
{
	const char *base = strrchr(path, '/');

	if (base && strcmp(base, "/sriov_numvfs") == 0 && rec.n < 16)
		snprintf(rec.values[rec.n++], sizeof(rec.values[0]), "%s", value);
	return sr_fake_driver_write(ctx, path, value);
}

static void read_vfs_ok(const char *pci, struct sr_pf *pf)
{
	struct sr_err err = {""};

	memset(pf, 0, sizeof(*pf));
	snprintf(pf->pci, sizeof(pf->pci), "%s", pci);
	ck_assert_msg(sr_sysfs_read_vfs(&S, pf, &err) == 0, "read_vfs: %s", err.msg);
}

static const char *const vf_addr_a[] = {"0000:03:10.0", "0000:03:10.2", "0000:03:10.4",
					 "0000:03:10.6"};

START_TEST(test_set_numvfs_creates)
{
	static const char *const naive[] = {"0000:03:00.0", "0000:03:00.1", "0000:03:00.2",
					    "0000:03:00.3"};
	struct sr_err err = {""};
	struct sr_pf pf;
	uint32_t n;

	ck_assert_msg(sr_sysfs_set_numvfs(&S, PF_A, 4, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 1);
	ck_assert_int_eq(sr_sysfs_read_numvfs(&S, PF_A, &n), 0);
	ck_assert_uint_eq(n, 4);
	read_vfs_ok(PF_A, &pf);
	ck_assert_uint_eq(pf.n_vfs, 4);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_uint_eq(pf.vfs[i].index, i);
		ck_assert_str_eq(pf.vfs[i].pci, vf_addr_a[i]);
		ck_assert_str_ne(pf.vfs[i].pci, naive[i]);
	}
	sr_pf_clear(&pf);
}
END_TEST

START_TEST(test_set_numvfs_change_goes_through_zero)
{
	struct sr_err err = {""};
	struct sr_pf pf;

	memset(&rec, 0, sizeof(rec));
	S.write = recording_writer;
	ck_assert_msg(sr_sysfs_set_numvfs(&S, PF_A, 4, &err) == 0, "%s", err.msg);
	ck_assert_msg(sr_sysfs_set_numvfs(&S, PF_A, 2, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rec.n, 3);
	ck_assert_str_eq(rec.values[0], "4");
	ck_assert_str_eq(rec.values[1], "0");
	ck_assert_str_eq(rec.values[2], "2");
	read_vfs_ok(PF_A, &pf);
	ck_assert_uint_eq(pf.n_vfs, 2);
	ck_assert_str_eq(pf.vfs[0].pci, vf_addr_a[0]);
	ck_assert_str_eq(pf.vfs[1].pci, vf_addr_a[1]);
	sr_pf_clear(&pf);

	/* Down to 0: one write, and the links are gone when it returns. */
	ck_assert_msg(sr_sysfs_set_numvfs(&S, PF_A, 0, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(rec.n, 4);
	ck_assert_str_eq(rec.values[3], "0");
	read_vfs_ok(PF_A, &pf);
	ck_assert_uint_eq(pf.n_vfs, 0);
	sr_pf_clear(&pf);
}
END_TEST

START_TEST(test_set_numvfs_same_value_no_write)
{
	struct sr_err err = {""};

	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 3, &err), 0);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 1);
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 3, &err), 0);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 1);
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_C, 0, &err), 0);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 1);
}
END_TEST

START_TEST(test_set_numvfs_above_total)
{
	struct sr_err err = {""};

	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 8, &err), -ERANGE);
	ck_assert_msg_has(err, "sriov_numvfs 8 for PF 0000:03:00.0: allowed 0..7");
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 0);
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_B, 1, &err), -EOPNOTSUPP);
	ck_assert_msg_has(err, "no SR-IOV");
}
END_TEST

START_TEST(test_set_numvfs_timeout)
{
	struct sr_err err = {""};

	sr_fake_driver_free(drv);
	use_driver(150);
	S.wait_timeout_ms = 60;
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 4, &err), -ETIMEDOUT);
	ck_assert_msg_has(err, "PF 0000:03:00.0: 4 VFs asked, 0 appeared after 60 ms");
	/* Freeing the emulator waits for the pending VF creation. */
	sr_fake_driver_free(drv);
	drv = NULL;
	use_driver(0);
	S.wait_timeout_ms = 3000;
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 4, &err), 0);
}
END_TEST

static int busy_writer(void *ctx, const char *path, const char *value)
{
	(void)ctx;
	(void)path;
	(void)value;
	return -EBUSY;
}

START_TEST(test_set_numvfs_busy_reported)
{
	struct sr_err err = {""};

	S.write = busy_writer;
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 4, &err), -EBUSY);
	ck_assert_msg_has(err, "PF 0000:03:00.0: writing 4 to");
	ck_assert_msg_has(err, "sriov_numvfs: Device or resource busy");

	/* From a non-zero count the write of 0 is the one refused. */
	S.write = sr_fake_driver_write;
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 2, &err), 0);
	S.write = busy_writer;
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 3, &err), -EBUSY);
	ck_assert_msg_has(err, "writing 0 to");
	ck_assert_msg_has(err, "the driver refused");
}
END_TEST

/* i40e answers -EAGAIN while another VF operation is pending
 * (i40e_pci_sriov_configure): the write is made again until it is taken,
 * within SR_NUMVFS_AGAIN_MS; past that the errno is reported. */
START_TEST(test_set_numvfs_again)
{
	struct sr_err err = {""};
	uint32_t n;

	sr_fake_driver_pending(drv, PF_A, 3);
	ck_assert_msg(sr_sysfs_set_numvfs(&S, PF_A, 4, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 4);
	ck_assert_int_eq(sr_sysfs_read_numvfs(&S, PF_A, &n), 0);
	ck_assert_uint_eq(n, 4);

	sr_fake_driver_pending(drv, PF_A, 100000);
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 0, &err), -EAGAIN);
	ck_assert_msg_has(err, "another VF operation pending");
	ck_assert_int_eq(sr_sysfs_read_numvfs(&S, PF_A, &n), 0);
	ck_assert_uint_eq(n, 4);
}
END_TEST

/* The emulator itself answers like the kernel. */
static const struct {
	const char *value;
	int rc;
	uint32_t numvfs_after;
} emu_cases[] = {
	{"abc", -EINVAL, 0}, {"", -EINVAL, 0},  {"-1", -EINVAL, 0}, {"8", -ERANGE, 0},
	{"2\n", 0, 2},       {"3", -EBUSY, 2},  {"2", 0, 2},        {"0", 0, 0},
	{"7", 0, 7},
};

START_TEST(test_emulator_numvfs)
{
	char path[PATH_MAX];
	uint32_t n;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/" PF_A "/sriov_numvfs", root);
	for (size_t i = 0; i < sizeof(emu_cases) / sizeof(emu_cases[0]); i++) {
		ck_assert_msg(sr_fake_driver_write(drv, path, emu_cases[i].value) ==
				      emu_cases[i].rc,
			      "write \"%s\"", emu_cases[i].value);
		ck_assert_int_eq(sr_sysfs_read_numvfs(&S, PF_A, &n), 0);
		ck_assert_uint_eq(n, emu_cases[i].numvfs_after);
	}
}
END_TEST

/* A count written while no emulator ran (the daemon test starts one after
 * the agent may already have written): the emulator, once started, acts on
 * it as if written then. */
START_TEST(test_emulator_acts_on_earlier_write)
{
	char path[PATH_MAX];
	struct sr_pf pf;
	size_t n = 0;
	FILE *f;

	sr_fake_driver_free(drv);
	drv = NULL;
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/" PF_A "/sriov_numvfs", root);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fputs("3\n", f) >= 0 && fclose(f) == 0, 1);
	use_driver(0);
	for (int i = 0; i < 1500; i++) {
		read_vfs_ok(PF_A, &pf);
		n = pf.n_vfs;
		sr_pf_clear(&pf);
		if (n == 3)
			break;
		usleep(2000);
	}
	ck_assert_msg(n == 3, "%zu VFs 3 s after the emulator started, 3 written before", n);
}
END_TEST

/* ---- read_vfs / list_pfs / iommu -------------------------------------- */

START_TEST(test_read_vfs_fields)
{
	struct sr_err err = {""};
	struct sr_pf pf;
	char want[IF_NAMESIZE];

	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 3, &err), 0);
	read_vfs_ok(PF_A, &pf);
	ck_assert_uint_eq(pf.n_vfs, 3);
	for (size_t i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "eth1v%zu", i);
		ck_assert_str_eq(pf.vfs[i].ifname, want);
		ck_assert_str_eq(pf.vfs[i].driver, "igbvf");
		ck_assert_int_ge(pf.vfs[i].iommu_group, 0);
		if (i)
			ck_assert_int_ne(pf.vfs[i].iommu_group, pf.vfs[i - 1].iommu_group);
	}
	/* Reading again replaces the array (no leak under valgrind). */
	ck_assert_int_eq(sr_sysfs_read_vfs(&S, &pf, &err), 0);
	ck_assert_uint_eq(pf.n_vfs, 3);
	sr_pf_clear(&pf);

	/* No VF netdev, no IOMMU; stride 1. */
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_C, 2, &err), 0);
	read_vfs_ok(PF_C, &pf);
	ck_assert_uint_eq(pf.n_vfs, 2);
	ck_assert_str_eq(pf.vfs[0].pci, "0000:02:10.0");
	ck_assert_str_eq(pf.vfs[1].pci, "0000:02:10.1");
	ck_assert_str_eq(pf.vfs[1].ifname, "");
	ck_assert_str_eq(pf.vfs[1].driver, "ixgbevf");
	ck_assert_int_eq(pf.vfs[1].iommu_group, SR_UNSET);
	sr_pf_clear(&pf);
}
END_TEST

START_TEST(test_autoprobe_off)
{
	struct sr_err err = {""};
	struct sr_pf pf;

	ck_assert_int_eq(sr_sysfs_set_autoprobe(&S, PF_A, false, &err), 0);
	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 2, &err), 0);
	read_vfs_ok(PF_A, &pf);
	ck_assert_uint_eq(pf.n_vfs, 2);
	ck_assert_str_eq(pf.vfs[0].driver, "");
	ck_assert_str_eq(pf.vfs[0].ifname, "");
	sr_pf_clear(&pf);
	ck_assert_int_eq(sr_sysfs_set_autoprobe(&S, PF_B, true, &err), -ENOENT);
	ck_assert_msg_has(err, "sriov_drivers_autoprobe");
}
END_TEST

START_TEST(test_list_pfs)
{
	struct sr_err err = {""};
	struct sr_pf *pfs = NULL;
	size_t n = 0;

	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 2, &err), 0);
	ck_assert_msg(sr_sysfs_list_pfs(&S, &pfs, &n, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(n, 2); /* PF_B has no SR-IOV; VFs are not PFs */
	ck_assert_str_eq(pfs[0].pci, PF_C);
	ck_assert_str_eq(pfs[0].ifname, "eth0");
	ck_assert_uint_eq(pfs[0].n_vfs, 0);
	ck_assert_str_eq(pfs[1].pci, PF_A);
	ck_assert_str_eq(pfs[1].ifname, "eth1");
	ck_assert_uint_eq(pfs[1].numvfs, 2);
	ck_assert_uint_eq(pfs[1].n_vfs, 2);
	ck_assert_str_eq(pfs[1].vfs[1].pci, vf_addr_a[1]);
	/* Names are sriovctl's (agent/cli/pci_names.c), not the library's. */
	ck_assert_str_eq(pfs[1].name, "");
	sr_sysfs_free_pfs(pfs, n);
}
END_TEST

START_TEST(test_iommu_enabled)
{
	struct sr_fake_pf plain = pf_c;
	struct sr_sysfs other;
	char *r2;

	ck_assert(sr_sysfs_iommu_enabled(&S));
	ck_assert_int_eq(sr_fake_sysfs_create(&r2), 0);
	sr_sysfs_init(&other, r2);
	ck_assert(!sr_sysfs_iommu_enabled(&other)); /* empty iommu_groups */
	ck_assert_int_eq(sr_fake_sysfs_add_pf(r2, &plain), 0);
	ck_assert(!sr_sysfs_iommu_enabled(&other));
	sr_fake_sysfs_destroy(r2);
	ck_assert(!sr_sysfs_iommu_enabled(&other)); /* no tree at all */
}
END_TEST

/* ---- binding ---------------------------------------------------------- */

START_TEST(test_bind_unbind_round_trip)
{
	struct sr_err err = {""};
	char prev[SR_DRIVER_LEN] = "x";
	struct sr_pf pf;

	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 2, &err), 0);
	ck_assert_msg(sr_sysfs_bind_driver(&S, vf_addr_a[1], "vfio-pci", prev, &err) == 0, "%s",
		      err.msg);
	ck_assert_str_eq(prev, "igbvf");
	read_vfs_ok(PF_A, &pf);
	ck_assert_str_eq(pf.vfs[1].driver, "vfio-pci");
	ck_assert_str_eq(pf.vfs[1].ifname, "");
	ck_assert_str_eq(pf.vfs[0].driver, "igbvf");
	sr_pf_clear(&pf);

	/* Again: already there, nothing to undo. */
	ck_assert_int_eq(sr_sysfs_bind_driver(&S, vf_addr_a[1], "vfio-pci", prev, &err), 0);
	ck_assert_str_eq(prev, "vfio-pci");

	ck_assert_msg(sr_sysfs_unbind_driver(&S, vf_addr_a[1], &err) == 0, "%s", err.msg);
	read_vfs_ok(PF_A, &pf);
	ck_assert_str_eq(pf.vfs[1].driver, "igbvf");
	ck_assert_str_eq(pf.vfs[1].ifname, "eth1v1");
	sr_pf_clear(&pf);
}
END_TEST

static const struct {
	const char *vf, *driver;
	int rc;
	const char *msg;
} bind_cases[] = {
	{"0000:03:10.2", "refuser", -EIO, "driver refuser did not take the device"},
	{"0000:03:10.2", "nosuch", -ENOENT, "driver nosuch is not loaded"},
	{"0000:03:11.0", "vfio-pci", -ENODEV, "VF 0000:03:11.0: no such PCI device"},
	{"0000:03:10.2/..", "vfio-pci", -EINVAL, "vf_pci \"0000:03:10.2/..\""},
	{"0000:03:10.2", "../igb", -EINVAL, "driver \"../igb\""},
	{"0000:03:10.2", "", -EINVAL, "driver \"\""},
};

START_TEST(test_bind_errors)
{
	struct sr_err err = {""};
	char prev[SR_DRIVER_LEN] = "untouched";

	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 2, &err), 0);
	S.wait_timeout_ms = 30;
	ck_assert_msg(sr_sysfs_bind_driver(&S, bind_cases[_i].vf, bind_cases[_i].driver, prev,
					   &err) == bind_cases[_i].rc,
		      "case %d: %s", _i, err.msg);
	ck_assert_msg_has(err, bind_cases[_i].msg);
	ck_assert_str_eq(prev, "untouched");
}
END_TEST

/* The apply's two steps: the first look right after drivers_probe sees the
 * bind done (the in-process emulator probes synchronously, as a kernel does);
 * a refusing driver leaves the VF pending, and once the apply's one deadline
 * has passed bind_wait answers from a single look. */
START_TEST(test_bind_start_wait)
{
	struct sr_err err = {""};
	char prev[SR_DRIVER_LEN] = "x";

	ck_assert_int_eq(sr_sysfs_set_numvfs(&S, PF_A, 2, &err), 0);
	ck_assert_msg(sr_sysfs_bind_start(&S, vf_addr_a[0], "vfio-pci", prev, &err) == 0, "%s",
		      err.msg);
	ck_assert_str_eq(prev, "igbvf");
	ck_assert_int_eq(sr_sysfs_bind_wait(&S, vf_addr_a[0], "vfio-pci", 0, &err), 0);

	ck_assert_int_eq(sr_sysfs_bind_start(&S, vf_addr_a[1], "refuser", prev, &err),
			 -EINPROGRESS);
	ck_assert_str_eq(prev, "igbvf");
	/* started_ms 0: the deadline is long past. */
	ck_assert_int_eq(sr_sysfs_bind_wait(&S, vf_addr_a[1], "refuser", 0, &err), -EIO);
	ck_assert_msg_has(err, "driver refuser did not take the device after drivers_probe (bound to: none)");
	ck_assert_int_eq(sr_sysfs_bind_wait(&S, "0000:03:11.0", "refuser", 0, &err), -ENODEV);
}
END_TEST

/* ---- validation ------------------------------------------------------- */

static const struct {
	const char *s;
	bool pci_ok, ifname_ok;
} name_cases[] = {
	/* ifnames with ':' are refused, as the kernel's dev_valid_name() does */
	{"0000:03:00.0", true, false},  {"0000:03:1f.7", true, false},
	{"ffff:ff:00.0", true, false},  {"0000:03:20.0", false, false},
	{"0000:03:00.8", false, false}, {"0000:03:00", false, false},
	{"0000:3:00.0", false, false},  {"0000:0A:00.0", false, false},
	{"0000:03:00.0x", false, false}, {"0000-03:00.0", false, false},
	{"eth1", false, true},         {"", false, false},
	{".", false, false},           {"..", false, false},
	{"a/b", false, false},         {"abcdefghijklmno", false, true},
	{"abcdefghijklmnop", false, false}, {"../../etc/passwd", false, false},
};

START_TEST(test_validators)
{
	ck_assert_msg(sr_valid_pci(name_cases[_i].s) == name_cases[_i].pci_ok, "pci \"%s\"",
		      name_cases[_i].s);
	ck_assert_msg(sr_valid_ifname(name_cases[_i].s) == name_cases[_i].ifname_ok,
		      "ifname \"%s\"", name_cases[_i].s);
}
END_TEST

static const char *const bad_pci[] = {
	"0000:03:00", "0000:03:00.8", "../../../etc", "0000:03:00.0/..", "0000:0A:00.0",
};
static const char *const bad_ifname[] = {"..", ".", "a/b", "abcdefghijklmnop"};

START_TEST(test_invalid_arguments_rejected)
{
	struct sr_err err = {""};
	char want[64];
	struct sr_pf pf = {0};
	uint32_t n;

	for (size_t i = 0; i < sizeof(bad_pci) / sizeof(bad_pci[0]); i++) {
		snprintf(want, sizeof(want), "pci \"%s\"", bad_pci[i]);
		ck_assert_int_eq(sr_sysfs_find_pf(&S, NULL, bad_pci[i], &pf, &err), -EINVAL);
		ck_assert_msg_has(err, want);
		ck_assert_int_eq(sr_sysfs_set_numvfs(&S, bad_pci[i], 1, &err), -EINVAL);
		ck_assert_msg_has(err, want);
		ck_assert_int_eq(sr_sysfs_set_autoprobe(&S, bad_pci[i], true, &err), -EINVAL);
		ck_assert_int_eq(sr_sysfs_unbind_driver(&S, bad_pci[i], &err), -EINVAL);
		ck_assert_int_eq(sr_sysfs_read_numvfs(&S, bad_pci[i], &n), -EINVAL);
		snprintf(pf.pci, sizeof(pf.pci), "%.12s", bad_pci[i]);
		if (!sr_valid_pci(pf.pci))
			ck_assert_int_eq(sr_sysfs_read_vfs(&S, &pf, &err), -EINVAL);
	}
	for (size_t i = 0; i < sizeof(bad_ifname) / sizeof(bad_ifname[0]); i++) {
		snprintf(want, sizeof(want), "ifname \"%s\"", bad_ifname[i]);
		ck_assert_int_eq(sr_sysfs_find_pf(&S, bad_ifname[i], NULL, &pf, &err), -EINVAL);
		ck_assert_msg_has(err, want);
	}
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 0);
}
END_TEST

START_TEST(test_write_file)
{
	char path[PATH_MAX], buf[16] = "";
	int fd;

	snprintf(path, sizeof(path), "%s/nosuch", root);
	ck_assert_int_eq(sr_sysfs_write_file(NULL, path, "1"), -ENOENT);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers_autoprobe", root);
	ck_assert_int_eq(sr_sysfs_write_file(NULL, path, "0"), 0);
	fd = open(path, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 1);
	close(fd);
	ck_assert_str_eq(buf, "0");
}
END_TEST

/* ---- fake-sysfs as a separate process --------------------------------- */

#define FAKE_TOOL SR_BINARY_DIR "/test/fake-sysfs"

static pid_t spawn(char *const argv[])
{
	pid_t pid;

	ck_assert_int_eq(posix_spawn(&pid, FAKE_TOOL, NULL, NULL, argv, environ), 0);
	return pid;
}

static int wait_exit(pid_t pid)
{
	int status;

	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

START_TEST(test_fake_sysfs_tool)
{
	char dir[PATH_MAX], pidfile[PATH_MAX + 32], prev[SR_DRIVER_LEN];
	struct sr_err err = {""};
	struct sr_sysfs s;
	struct sr_pf pf;
	struct stat st;
	pid_t daemon;

	snprintf(dir, sizeof(dir), "%s/tree", root);
	char *create[] = {"fake-sysfs", "create", dir, "--pf",
			  "pci=0000:03:00.0,ifname=eth1,driver=igb,totalvfs=7,offset=128,stride=2,"
			  "vfdriver=igbvf",
			  "--iommu", NULL};
	char *bad[] = {"fake-sysfs", "create", dir, "--pf", "pci=nope", NULL};
	char *run[] = {"fake-sysfs", "run", dir, "--delay-ms", "5", NULL};

	ck_assert_int_eq(wait_exit(spawn(bad)), 2);
	ck_assert_int_eq(wait_exit(spawn(create)), 0);
	ck_assert_int_eq(wait_exit(spawn(create)), 1); /* not empty any more */
	daemon = spawn(run);
	snprintf(pidfile, sizeof(pidfile), "%s/.fake-driver.pid", dir);
	for (int i = 0; i < 500 && stat(pidfile, &st) < 0; i++)
		usleep(10000);
	ck_assert_int_eq(stat(pidfile, &st), 0);

	sr_sysfs_init(&s, dir); /* the default writer: real files */
	s.wait_timeout_ms = 5000;
	s.wait_poll_ms = 2;
	ck_assert_msg(sr_sysfs_set_numvfs(&s, PF_A, 3, &err) == 0, "%s", err.msg);
	ck_assert_msg(sr_sysfs_set_numvfs(&s, PF_A, 2, &err) == 0, "%s", err.msg);
	memset(&pf, 0, sizeof(pf));
	snprintf(pf.pci, sizeof(pf.pci), "%s", PF_A);
	ck_assert_int_eq(sr_sysfs_read_vfs(&s, &pf, &err), 0);
	ck_assert_uint_eq(pf.n_vfs, 2);
	ck_assert_str_eq(pf.vfs[1].pci, "0000:03:10.2");
	ck_assert_str_eq(pf.vfs[1].ifname, "eth1v1");
	ck_assert_int_ge(pf.vfs[1].iommu_group, 0);
	sr_pf_clear(&pf);
	ck_assert_msg(sr_sysfs_bind_driver(&s, "0000:03:10.2", "vfio-pci", prev, &err) == 0, "%s",
		      err.msg);
	ck_assert_str_eq(prev, "igbvf");
	ck_assert_msg(sr_sysfs_unbind_driver(&s, "0000:03:10.2", &err) == 0, "%s", err.msg);
	ck_assert_msg(sr_sysfs_set_numvfs(&s, PF_A, 0, &err) == 0, "%s", err.msg);

	ck_assert_int_eq(kill(daemon, SIGTERM), 0);
	ck_assert_int_eq(wait_exit(daemon), 0);
	ck_assert_int_ne(stat(pidfile, &st), 0);
}
END_TEST

static Suite *sysfs_suite(void)
{
	Suite *s = suite_create("sysfs");
	TCase *tc;

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))
	tc = tcase_create("find");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_find_pf, 0, N(find_cases));
	tcase_add_test(tc, test_find_pf_fields);
	tcase_add_loop_test(tc, test_read_counts, 0, N(count_cases));
	tcase_add_loop_test(tc, test_read_netdev_flags, 0, N(flags_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("numvfs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_set_numvfs_creates);
	tcase_add_test(tc, test_set_numvfs_change_goes_through_zero);
	tcase_add_test(tc, test_set_numvfs_same_value_no_write);
	tcase_add_test(tc, test_set_numvfs_above_total);
	tcase_add_test(tc, test_set_numvfs_timeout);
	tcase_add_test(tc, test_set_numvfs_busy_reported);
	tcase_add_test(tc, test_set_numvfs_again);
	tcase_add_test(tc, test_emulator_numvfs);
	tcase_add_test(tc, test_emulator_acts_on_earlier_write);
	suite_add_tcase(s, tc);

	tc = tcase_create("vfs");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_read_vfs_fields);
	tcase_add_test(tc, test_autoprobe_off);
	tcase_add_test(tc, test_list_pfs);
	tcase_add_test(tc, test_iommu_enabled);
	suite_add_tcase(s, tc);

	tc = tcase_create("bind");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_bind_unbind_round_trip);
	tcase_add_test(tc, test_bind_start_wait);
	tcase_add_loop_test(tc, test_bind_errors, 0, N(bind_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("validation");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_validators, 0, N(name_cases));
	tcase_add_test(tc, test_invalid_arguments_rejected);
	tcase_add_test(tc, test_write_file);
	suite_add_tcase(s, tc);

	tc = tcase_create("tool");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fake_sysfs_tool);
	suite_add_tcase(s, tc);
#undef N
	return s;
}

int main(void)
{
	return sr_check_run(sysfs_suite());
}
