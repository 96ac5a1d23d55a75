/* SPDX-License-Identifier: MIT */
/*
 * Apply end to end on a fake sysfs with the in-process PF driver emulator
 * (offset 128, stride 2, asynchronous VF creation), and the state file.
 */
#include <check.h>
#include <poll.h>
#include <stdarg.h>
#include <sys/eventfd.h>

#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/netlink.h>

#include "apply.h"
#include "fake_node.h"
#include "fake_sysfs.h"
#include "files.h"
#include "netlink.h"
#include "node_async.h"
#include "reserve.h"
#include "state.h"
#include "sysfs.h"
#include "xen.h"

static char *root;
static char state_dir[600];
static struct sr_fake_driver *drv;
static struct sr_sysfs sysfs;

static struct sr_node_ops node;
static struct sr_node_real node_real;

/* The real node ops over the fake tree, without netlink. */
static const struct sr_node_ops *node_of(const struct sr_sysfs *s)
{
	sr_node_real_init(&node, &node_real, s, NULL, NULL, NULL);
	return &node;
}

static const char *pf_driver = "igb"; /* the PFs' driver (its rules: drivers.h) */

static void setup(void)
{
	struct sr_fake_pf pf = {
		.pci = "0000:03:00.0", .ifname = "eth1", .driver = pf_driver, .totalvfs = 7,
		.offset = 128, .stride = 2, .vendor = 0x8086, .device = 0x10c9,
		.vf_device = 0x10ca, .vf_driver = "igbvf", .iommu = true,
	};

	ck_assert_int_eq(sr_fake_sysfs_create(&root), 0);
	ck_assert_int_eq(sr_fake_sysfs_add_pf(root, &pf), 0);
	pf.pci = "0000:04:00.0";
	pf.ifname = "eth2";
	ck_assert_int_eq(sr_fake_sysfs_add_pf(root, &pf), 0);
	snprintf(state_dir, sizeof(state_dir), "%s/state", root);
	drv = sr_fake_driver_new(root, 5);
	ck_assert_ptr_nonnull(drv);
	sr_sysfs_init(&sysfs, root);
	sysfs.write = sr_fake_driver_write;
	sysfs.write_ctx = drv;
	sysfs.wait_timeout_ms = 5000;
	sysfs.wait_poll_ms = 2;
}

static void teardown(void)
{
	sr_fake_driver_free(drv);
	sr_fake_sysfs_destroy(root);
}

/* Applies fixture NAME on node ops N with a fresh ctx. */
/* How long apply_on's applies retry a driver that answers "later" (the
 * fakes say it 3 times before they take a setting: 70 ms of pauses). */
static unsigned retry_ms = 300;

static int apply_on(const struct sr_node_ops *n, const char *name, struct sr_apply_ctx *ctx,
		    struct sr_err *err)
{
	char path[512];
	uint8_t *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s.pb", SR_FIXTURE_DIR, name);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	/* A driver that stays "later" is given retry_ms, not the 1 s of a real
	 * apply: the fakes answer "later" a number of times, not for a time. */
	*ctx = (struct sr_apply_ctx){ .node = n, .state_dir = state_dir, .retry_later_ms = retry_ms };
	r = sr_apply(ctx, buf, len, NULL, err);
	free(buf);
	return r;
}

static int apply_fixture(const char *name, struct sr_apply_ctx *ctx, struct sr_err *err)
{
	return apply_on(node_of(&sysfs), name, ctx, err);
}

/* Applies fixture NAME with passthrough to vfio-pci. */
static int apply_bound(const char *name, struct sr_apply_ctx *ctx, struct sr_err *err)
{
	char path[512];
	uint8_t *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s.pb", SR_FIXTURE_DIR, name);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	*ctx = (struct sr_apply_ctx){ .node = node_of(&sysfs), .state_dir = state_dir,
				      .bind_driver = "vfio-pci" };
	r = sr_apply(ctx, buf, len, NULL, err);
	free(buf);
	return r;
}

static void load_state(struct sr_state *st)
{
	struct sr_err err = { "" };

	ck_assert_msg(sr_state_load(state_dir, st, &err) == 0, "%s", err.msg);
}

static bool read_state_bytes(uint8_t **buf, size_t *len)
{
	char path[700];

	snprintf(path, sizeof(path), "%s/%s", state_dir, SR_STATE_FILE);
	return sr_read_file(path, 1 << 24, buf, len, NULL) == 0;
}

START_TEST(test_two_pfs)
{
	static const char *const vf_pci[2][4] = {
		{ "0000:03:10.0", "0000:03:10.2", "0000:03:10.4", "0000:03:10.6" },
		{ "0000:04:10.0", "0000:04:10.2" },
	};
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;
	size_t reserved = 0;

	ck_assert_msg(apply_fixture("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	/* Two sriov_numvfs writes, nothing else (no netlink, no binding). */
	ck_assert_uint_eq(ctx.sysfs_writes, 2);
	load_state(&st);
	ck_assert_uint_eq(st.n_pfs, 2);
	ck_assert_uint_eq(st.pfs[0].n_vfs, 4);
	ck_assert_uint_eq(st.pfs[1].n_vfs, 2);
	for (size_t p = 0; p < 2; p++)
		for (size_t v = 0; v < st.pfs[p].n_vfs; v++) {
			const struct sr_vf *vf = &st.pfs[p].vfs[v];

			ck_assert_uint_eq(vf->index, v);
			/* From the emulator's links: offset 128, stride 2. */
			ck_assert_str_eq(vf->pci, vf_pci[p][v]);
			ck_assert_str_eq(vf->driver, "igbvf");
			ck_assert_int_ne(vf->iommu_group, SR_UNSET);
			reserved += sr_reservation_find(st.res, st.n_res, st.pfs[p].pci, vf->index) != NULL;
		}
	ck_assert_uint_eq(reserved, 5);
	ck_assert_uint_eq(st.n_res, 5);
	/* Reservations carry the VF PCI address from the VF table. */
	ck_assert_str_eq(st.res[2].vf_pci, "0000:03:10.6");
	ck_assert_uint_eq(st.res[2].vf_index, 3);
	ck_assert_str_eq(st.last_result, "applied");
	sr_state_free(&st);
}
END_TEST

START_TEST(test_reapply_noop)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	uint8_t *a, *b;
	size_t la, lb;

	ck_assert_int_eq(apply_fixture("two_pfs", &ctx, &err), 0);
	ck_assert(read_state_bytes(&a, &la));
	ck_assert_msg(apply_fixture("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_actions, 0);
	ck_assert_uint_eq(ctx.sysfs_writes, 0);
	ck_assert(read_state_bytes(&b, &lb));
	ck_assert(la == lb && !memcmp(a, b, la));
	free(a);
	free(b);
}
END_TEST

/* Bad configs: each refused with its message, nothing written to sysfs,
 * the state file byte-for-byte as it was. */
static const struct {
	const char *fixture;
	const char *msg;
} refused[] = {
	{ "seven_requests", "PF uplink1 has 4 VFs, 5 asked" },
	{ "bad_vlan", "vlan_id 4095" },
	{ "bad_unknown_pf", "no PF with that label" },
	{ "bad_two_on_one_vf", "already taken" },
	{ "bad_mac_multicast", "multicast" },
};

START_TEST(test_refused_changes_nothing)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	uint8_t *a, *b;
	size_t la, lb;
	unsigned writes;

	ck_assert_int_eq(apply_fixture("two_pfs", &ctx, &err), 0);
	ck_assert(read_state_bytes(&a, &la));
	writes = sr_fake_driver_writes(drv);
	ck_assert_int_ne(apply_fixture(refused[_i].fixture, &ctx, &err), 0);
	ck_assert_msg(strstr(err.msg, refused[_i].msg), "%s: \"%s\"", refused[_i].fixture, err.msg);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), writes);
	ck_assert_msg(!ctx.node_changed, "%s: refused, yet node_changed", refused[_i].fixture);
	ck_assert(read_state_bytes(&b, &lb));
	ck_assert(la == lb && !memcmp(a, b, la));
	free(a);
	free(b);
}
END_TEST

/* The state dir turns into a file after the VF count was written: the
 * intent save fails after the node changed, and the apply says so
 * (node_changed: the agent reports "failed after changing the node", never
 * "rejected"; issue 23, finding 3). */
static int break_state_dir(void *ctx, const char *point, size_t nth, struct sr_err *why)
{
	char moved[700];
	FILE *f;

	(void)ctx;
	(void)why;
	if (strcmp(point, "after-numvfs") || nth != 1)
		return 0;
	snprintf(moved, sizeof(moved), "%s.away", state_dir);
	ck_assert_int_eq(rename(state_dir, moved), 0);
	f = fopen(state_dir, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	return 0;
}

START_TEST(test_failure_after_change)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	const struct sr_node_ops *n = node_of(&sysfs);

	ck_assert_int_eq(mkdir(state_dir, 0700), 0);
	node.step = break_state_dir;
	ck_assert_int_ne(apply_on(n, "two_pfs", &ctx, &err), 0);
	node.step = NULL;
	ck_assert_msg(ctx.node_changed, "failed after a VF count write, yet not node_changed: %s",
		      err.msg);
	ck_assert_uint_ge(ctx.sysfs_writes, 1);
}
END_TEST

/* The state handed over is the state saved: its applied_at is the one in
 * the file, also when the clock ticks between the save and the hand-over
 * (the daemon's model takes st_out's encoding as the file's bytes). */
static int next_second_after_save(void *ctx, const char *point, size_t nth, struct sr_err *why)
{
	time_t t0 = time(NULL);

	(void)ctx;
	(void)nth;
	(void)why;
	if (strcmp(point, "after-save"))
		return 0;
	while (time(NULL) == t0)
		usleep(10000);
	return 0;
}

START_TEST(test_handed_over_is_saved)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st = { 0 }, file = { 0 };
	uint8_t *buf, *bytes = NULL, *again;
	size_t len, n = 0;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s.pb", SR_FIXTURE_DIR, "two_pfs");
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	snprintf(path, sizeof(path), "%s/%s", state_dir, SR_STATE_FILE);
	ctx = (struct sr_apply_ctx){ .node = node_of(&sysfs), .state_dir = state_dir };
	node.step = next_second_after_save;
	ck_assert_msg(sr_apply(&ctx, buf, len, &st, &err) == 0, "%s", err.msg);
	node.step = NULL;
	free(buf);
	ck_assert(ctx.state_saved);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &bytes, &n, NULL), 0);
	ck_assert_int_eq(sr_state_load(state_dir, &file, &err), 0);
	ck_assert_msg(st.applied_at == file.applied_at,
		      "handed over applied_at %lld, saved %lld", (long long)st.applied_at,
		      (long long)file.applied_at);
	ck_assert_int_eq(sr_state_encode(&st, &again, &len, &err), 0);
	ck_assert(len == n && !memcmp(again, bytes, n));
	ck_assert(sr_state_same(&st, &file));
	free(again);
	sr_state_free(&st);
	sr_state_free(&file);
	free(bytes);
}
END_TEST

/* The sixth request fits: 6 of 6 VFs reserved, the old five unmoved. */
START_TEST(test_six_then_back)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;

	ck_assert_int_eq(apply_fixture("two_pfs", &ctx, &err), 0);
	ck_assert_msg(apply_fixture("six_requests", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.sysfs_writes, 0);
	load_state(&st);
	ck_assert_uint_eq(st.n_res, 6);
	ck_assert_uint_eq(st.res[0].vf_index, 0);
	ck_assert_uint_eq(st.res[1].vf_index, 1);
	ck_assert_uint_eq(st.res[2].vf_index, 3);
	ck_assert_uint_eq(st.res[5].vf_index, 2);
	ck_assert_str_eq(st.res[5].vf_pci, "0000:03:10.4");
	sr_state_free(&st);
	/* Back to five: app 7 is released. */
	ck_assert_int_eq(apply_fixture("two_pfs", &ctx, &err), 0);
	ck_assert_uint_eq(ctx.n_actions, 1); /* the release */
	load_state(&st);
	ck_assert_uint_eq(st.n_res, 5);
	sr_state_free(&st);
}
END_TEST

/* read_vfs of the real node, counted. */
static int (*real_read_vfs)(void *ctx, struct sr_pf *pf, struct sr_err *err);
static size_t n_read_vfs;

static int counted_read_vfs(void *ctx, struct sr_pf *pf, struct sr_err *err)
{
	n_read_vfs++;
	return real_read_vfs(ctx, pf, err);
}

static const struct sr_node_ops *counted_node(void)
{
	static struct sr_node_ops counted;

	counted = *node_of(&sysfs);
	real_read_vfs = counted.read_vfs;
	counted.read_vfs = counted_read_vfs;
	n_read_vfs = 0;
	return &counted;
}

/* A release that unbinds nothing changes no VF table: each PF's VFs are
 * read once (read_node), not again after the release. One that unbinds
 * reads them back: the state has the VF off vfio-pci. */
START_TEST(test_release_rereads_only_after_unbind)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;

	ck_assert_int_eq(apply_fixture("two_pfs", &ctx, &err), 0);
	ck_assert_msg(apply_fixture("six_requests", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(apply_on(counted_node(), "two_pfs", &ctx, &err), 0);
	ck_assert_uint_eq(ctx.n_actions, 1); /* the release */
	ck_assert_uint_eq(n_read_vfs, 2);    /* two PFs, once each */

	ck_assert_int_eq(sr_fake_sysfs_add_driver(root, "vfio-pci", false), 0);
	ck_assert_msg(apply_bound("six_requests", &ctx, &err) == 0, "%s", err.msg);
	load_state(&st);
	ck_assert_str_eq(st.pfs[0].vfs[2].driver, "vfio-pci");
	sr_state_free(&st);
	ck_assert_msg(apply_bound("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_actions, 1);
	load_state(&st);
	ck_assert_ptr_null(sr_reservation_find(st.res, st.n_res, "0000:03:00.0", 2));
	ck_assert_str_ne(st.pfs[0].vfs[2].driver, "vfio-pci");
	sr_state_free(&st);
}
END_TEST

/* A VF count above sriov_totalvfs is refused before any write. */
START_TEST(test_over_totalvfs)
{
	struct sr_fake_pf pf = {
		.pci = "0000:03:00.0", .ifname = "eth1", .driver = "igb", .totalvfs = 2,
		.offset = 128, .stride = 2, .vf_driver = "igbvf",
	};
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct stat sb;
	char small[700];

	/* A second tree whose eth1 has only 2 VFs. */
	teardown();
	ck_assert_int_eq(sr_fake_sysfs_create(&root), 0);
	ck_assert_int_eq(sr_fake_sysfs_add_pf(root, &pf), 0);
	pf.pci = "0000:04:00.0";
	pf.ifname = "eth2";
	ck_assert_int_eq(sr_fake_sysfs_add_pf(root, &pf), 0);
	drv = sr_fake_driver_new(root, 1);
	sr_sysfs_init(&sysfs, root);
	sysfs.write = sr_fake_driver_write;
	sysfs.write_ctx = drv;
	snprintf(state_dir, sizeof(state_dir), "%s/state", root);
	ck_assert_int_eq(apply_fixture("two_pfs", &ctx, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "VF count 4: allowed 1..2 (sriov_totalvfs of 0000:03:00.0)"),
		      "%s", err.msg);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 0);
	snprintf(small, sizeof(small), "%s/%s", state_dir, SR_STATE_FILE);
	ck_assert_int_ne(stat(small, &sb), 0);
}
END_TEST

/* A PF named by the config but absent on the node. */
START_TEST(test_missing_pf)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	char path[700];

	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:04:00.0", root);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_ne(apply_fixture("two_pfs", &ctx, &err), 0);
	ck_assert_msg(strstr(err.msg, "deviceIoList[1] (uplink2)"), "%s", err.msg);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 0);
}
END_TEST

/* Issue 23 item 10: the agent was killed between its sriov_numvfs write and
 * the VFs' appearance (an emulator in another process makes them later):
 * uplink1's file says 4, no VF is there. Its VFs are taken away through the
 * emulator, then the file is written behind its back; a second emulator
 * started now (as after the restart) makes them after delay_ms, or never
 * when delay_ms is 0. */
static struct sr_fake_driver *numvfs_without_vfs(unsigned delay_ms)
{
	struct sr_err err = { "" };
	char path[700];
	FILE *f;

	ck_assert_msg(sr_sysfs_set_numvfs(&sysfs, "0000:03:00.0", 0, &err) == 0, "%s", err.msg);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", root);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("4\n", f);
	ck_assert_int_eq(fclose(f), 0);
	if (!delay_ms)
		return NULL;
	return sr_fake_driver_new(root, delay_ms);
}

static size_t wait_vfs_calls;
static int (*real_wait_vfs_op)(void *, const char *, uint32_t, struct sr_err *);

static int counting_wait_vfs(void *c, const char *pf_pci, uint32_t n, struct sr_err *err)
{
	wait_vfs_calls++;
	return real_wait_vfs_op(c, pf_pci, n, err);
}

/* The two_pfs apply on a node whose wait_vfs is counted. */
static int apply_settle(bool settle, struct sr_apply_ctx *ctx, struct sr_err *err)
{
	static struct sr_node_ops counted;
	char path[512];
	uint8_t *buf;
	size_t len;
	int r;

	counted = *node_of(&sysfs);
	real_wait_vfs_op = counted.wait_vfs;
	counted.wait_vfs = counting_wait_vfs;
	wait_vfs_calls = 0;
	snprintf(path, sizeof(path), "%s/two_pfs.pb", SR_FIXTURE_DIR);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	*ctx = (struct sr_apply_ctx){ .node = &counted, .state_dir = state_dir,
				      .settle_vfs = settle };
	r = sr_apply(ctx, buf, len, NULL, err);
	free(buf);
	return r;
}

static size_t res_in_error(void)
{
	struct sr_state st;
	size_t n = 0;

	load_state(&st);
	for (size_t i = 0; i < st.n_res; i++)
		n += st.res[i].error != NULL;
	sr_state_free(&st);
	return n;
}

/* At a start the VFs still coming are waited for: no app is marked "VF
 * missing", and the count is not written again. */
START_TEST(test_settle_vfs_late)
{
	struct sr_fake_driver *slow;
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };

	ck_assert_msg(apply_fixture("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	slow = numvfs_without_vfs(400);
	ck_assert_ptr_nonnull(slow);
	ck_assert_msg(apply_settle(true, &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(res_in_error(), 0);
	ck_assert_uint_eq(ctx.n_warnings, 0);
	ck_assert_uint_eq(ctx.sysfs_writes, 0);
	ck_assert_uint_eq(wait_vfs_calls, 1);
	sr_fake_driver_free(slow);
}
END_TEST

/* VFs that never come: the wait ends at its bound and their reservations
 * are marked missing (the apply is not failed); a later apply (not a
 * start) does not wait at all: a VF that vanished is missing at once. */
START_TEST(test_settle_vfs_never)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };

	ck_assert_msg(apply_fixture("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_ptr_null(numvfs_without_vfs(0));
	sysfs.numvfs_timeout_ms = 200;
	ck_assert_msg(apply_settle(true, &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(wait_vfs_calls, 1);
	ck_assert_uint_eq(ctx.n_warnings, 4); /* the wait, 3 VFs missing */
	ck_assert_uint_eq(res_in_error(), 3);
	ck_assert_msg(apply_settle(false, &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(wait_vfs_calls, 0);
	ck_assert_uint_eq(res_in_error(), 3);
}
END_TEST

/* Changing a VF count goes through 0 (the kernel answers EBUSY otherwise). */
START_TEST(test_count_change)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;
	char path[700];
	uint8_t *buf;
	size_t len;

	ck_assert_int_eq(apply_fixture("two_pfs", &ctx, &err), 0);
	/* Same config with uplink1 at 7 VFs. */
	snprintf(path, sizeof(path), "%s/two_pfs.pb", SR_FIXTURE_DIR);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	{
		/* vf_count 4 is encoded as field 1 varint (08 04) inside VfList. */
		uint8_t *p = memmem(buf, len, "\x4a\x02\x08\x04", 4);

		ck_assert_ptr_nonnull(p);
		p[3] = 7;
	}
	ctx = (struct sr_apply_ctx){ .node = node_of(&sysfs), .state_dir = state_dir };
	ck_assert_msg(sr_apply(&ctx, buf, len, NULL, &err) == 0, "%s", err.msg);
	free(buf);
	ck_assert_uint_eq(ctx.sysfs_writes, 2); /* 0, then 7 */
	load_state(&st);
	ck_assert_uint_eq(st.pfs[0].n_vfs, 7);
	ck_assert_str_eq(st.pfs[0].vfs[6].pci, "0000:03:11.4");
	/* Apps keep their VF indexes across the re-creation. */
	ck_assert_uint_eq(st.res[0].vf_index, 0);
	ck_assert_uint_eq(st.res[2].vf_index, 3);
	sr_state_free(&st);
}
END_TEST

START_TEST(test_dry_run)
{
	char path[512];
	uint8_t *buf;
	size_t len;
	struct sr_apply_ctx ctx = { .node = node_of(&sysfs), .state_dir = state_dir, .dry_run = true };
	struct sr_err err = { "" };
	struct stat sb;

	snprintf(path, sizeof(path), "%s/two_pfs.pb", SR_FIXTURE_DIR);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	ck_assert_int_eq(sr_apply(&ctx, buf, len, NULL, &err), 0);
	free(buf);
	ck_assert_uint_eq(ctx.n_actions, 2);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 0);
	ck_assert_int_ne(stat(state_dir, &sb), 0);
}
END_TEST

/* With passthrough, VFs are bound to vfio-pci and the binding recorded. */
START_TEST(test_bind)
{
	char path[512];
	uint8_t *buf;
	size_t len;
	struct sr_apply_ctx ctx = { .node = node_of(&sysfs), .state_dir = state_dir,
				    .bind_driver = "vfio-pci" };
	struct sr_err err = { "" };
	struct sr_state st;

	ck_assert_int_eq(sr_fake_sysfs_add_driver(root, "vfio-pci", false), 0);
	snprintf(path, sizeof(path), "%s/two_pfs.pb", SR_FIXTURE_DIR);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	ck_assert_msg(sr_apply(&ctx, buf, len, NULL, &err) == 0, "%s", err.msg);
	load_state(&st);
	ck_assert_str_eq(st.res[0].bound_driver, "vfio-pci");
	/* Autoprobe went off before the VFs were made: no host driver took them. */
	ck_assert_str_eq(st.res[0].original_driver, "");
	ck_assert_str_eq(st.pfs[0].vfs[0].driver, "vfio-pci");
	ck_assert_str_eq(st.pfs[0].vfs[2].driver, ""); /* not reserved */
	sr_state_free(&st);
	/* Re-apply: already bound, nothing to do. */
	ctx = (struct sr_apply_ctx){ .node = node_of(&sysfs), .state_dir = state_dir,
				     .bind_driver = "vfio-pci" };
	ck_assert_int_eq(sr_apply(&ctx, buf, len, NULL, &err), 0);
	ck_assert_uint_eq(ctx.n_actions, 0);
	free(buf);
}
END_TEST

/* Adapter identity end to end: app "two" drops its first adapter; its
 * "uplink1" stays on VF 1, bound, with its MAC, and the apply's one action
 * is the release of VF 0 (by position it would move: release VF 1, take
 * VF 0, new MAC, rebind). */
START_TEST(test_identity_drop_first)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state a, b;

	ck_assert_int_eq(sr_fake_sysfs_add_driver(root, "vfio-pci", false), 0);
	ck_assert_msg(apply_fixture("adapter_names", &ctx, &err) == 0, "%s", err.msg);
	load_state(&a);
	ck_assert_uint_eq(a.n_res, 3);
	ck_assert_str_eq(a.res[1].adapter_name, "uplink1");
	ck_assert_uint_eq(a.res[1].vf_index, 1);
	ck_assert_msg(apply_fixture("adapter_names_drop", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_actions, 1);
	load_state(&b);
	ck_assert_uint_eq(b.n_res, 2);
	ck_assert_str_eq(b.res[0].app_uuid, a.res[1].app_uuid);
	ck_assert_str_eq(b.res[0].adapter_name, "uplink1");
	ck_assert_uint_eq(b.res[0].vf_index, 1);
	ck_assert_mem_eq(b.res[0].desired.mac, a.res[1].desired.mac, 6);
	ck_assert_uint_eq(b.res[1].vf_index, 2);
	sr_state_free(&a);
	sr_state_free(&b);
}
END_TEST

/* No IOMMU groups: passthrough is refused before anything is written. */
START_TEST(test_bind_without_iommu)
{
	char path[700];
	uint8_t *buf;
	size_t len;
	struct sr_apply_ctx ctx = { .node = node_of(&sysfs), .state_dir = state_dir,
				    .bind_driver = "vfio-pci" };
	struct sr_err err = { "" };
	char cmd[800];

	snprintf(cmd, sizeof(cmd), "rm -rf %s/sys/kernel/iommu_groups/*", root);
	ck_assert_int_eq(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/two_pfs.pb", SR_FIXTURE_DIR);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	ck_assert_int_eq(sr_apply(&ctx, buf, len, NULL, &err), -ENODEV);
	free(buf);
	ck_assert_msg(strstr(err.msg, "IOMMU is off"), "%s", err.msg);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 0);
}
END_TEST

/* A PF whose driver is not bound (not loaded yet at boot) while its VF
 * count must change: refused with -ENODEV naming the PF, before any write;
 * applied once it is bound. */
START_TEST(test_pf_without_driver)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	char path[700], state[800];
	unsigned before;

	snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/igb/unbind", root);
	ck_assert_int_eq(sr_fake_driver_write(drv, path, "0000:04:00.0"), 0);
	before = sr_fake_driver_writes(drv);
	ck_assert_int_eq(apply_fixture("two_pfs", &ctx, &err), -ENODEV);
	ck_assert_msg(strstr(err.msg, "deviceIoList[1] (uplink2): PF 0000:04:00.0 has no driver bound"),
		      "%s", err.msg);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), before);
	snprintf(state, sizeof(state), "%s/" SR_STATE_FILE, state_dir);
	ck_assert_int_ne(access(state, F_OK), 0);
	snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/igb/bind", root);
	ck_assert_int_eq(sr_fake_driver_write(drv, path, "0000:04:00.0"), 0);
	ck_assert_msg(apply_fixture("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	/* The driver gone with the VFs kept (Xen's pciback holds them): the
	 * count is the one asked, nothing needs the driver. */
	snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/igb/unbind", root);
	ck_assert_int_eq(sr_fake_driver_write(drv, path, "0000:04:00.0"), 0);
	ck_assert_msg(apply_fixture("two_pfs", &ctx, &err) == 0, "%s", err.msg);
}
END_TEST

/* Passthrough to Xen: reserved VFs go to the Xen PCI backend's driver,
 * "pciback" (module xen-pciback), when the node is a Xen dom0 whose
 * hypervisor has its IOMMU on; else refused before any write. A Xen dom0
 * has no Linux IOMMU groups, so the fake tree has none either. */
struct fake_xen {
	int r;
	uint32_t caps;
};

static int fake_physinfo(void *ctx, uint32_t *caps)
{
	const struct fake_xen *f = ctx;

	if (!f->r)
		*caps = f->caps;
	return f->r;
}

static const struct {
	const char *what;
	const char *hv_type;     /* /sys/hypervisor/type; NULL: absent */
	struct fake_xen xen;
	int expect;
	const char *msg;
} xen_cases[] = {
	{ "Xen dom0, IOMMU on", "xen", { 0, SR_XEN_CAP_DIRECTIO | 3 }, 0, NULL },
	{ "Xen dom0, iommu=0", "xen", { 0, 3 }, -ENODEV, "Xen's IOMMU is off" },
	{ "Xen domU (physinfo EPERM)", "xen", { -EPERM, 0 }, -ENODEV, "not the control domain" },
	{ "no /sys/hypervisor/type", NULL, { 0, SR_XEN_CAP_DIRECTIO }, -ENODEV, "not a Xen dom0" },
	{ "another hypervisor", "kvm", { 0, SR_XEN_CAP_DIRECTIO }, -ENODEV, "not a Xen dom0" },
};

START_TEST(test_bind_xen)
{
	char path[700], cmd[800];
	uint8_t *buf;
	size_t len;
	struct fake_xen fx = xen_cases[_i].xen;
	struct sr_xen_ops ops = { .physinfo_caps = fake_physinfo, .ctx = &fx };
	struct sr_apply_ctx ctx = { .node = node_of(&sysfs), .state_dir = state_dir,
				    .bind_driver = SR_XEN_PCIBACK_DRIVER };
	struct sr_err err = { "" };
	struct stat sb;
	struct sr_state st;
	FILE *f;

	node_real.xen = &ops;
	ck_assert_str_eq(SR_XEN_PCIBACK_DRIVER, "pciback");
	ck_assert_int_eq(sr_fake_sysfs_add_driver(root, "pciback", false), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s/sys/kernel/iommu_groups/*", root);
	ck_assert_int_eq(system(cmd), 0);
	if (xen_cases[_i].hv_type) {
		snprintf(path, sizeof(path), "%s/sys/hypervisor", root);
		ck_assert_int_eq(mkdir(path, 0755), 0);
		snprintf(path, sizeof(path), "%s/sys/hypervisor/type", root);
		ck_assert_ptr_nonnull(f = fopen(path, "w"));
		fprintf(f, "%s\n", xen_cases[_i].hv_type);
		fclose(f);
	}
	snprintf(path, sizeof(path), "%s/two_pfs.pb", SR_FIXTURE_DIR);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	ck_assert_int_eq(sr_apply(&ctx, buf, len, NULL, &err), xen_cases[_i].expect);
	free(buf);
	if (xen_cases[_i].expect) {
		ck_assert_msg(strstr(err.msg, xen_cases[_i].msg), "%s: %s", xen_cases[_i].what, err.msg);
		ck_assert_uint_eq(sr_fake_driver_writes(drv), 0);
		ck_assert_int_ne(stat(state_dir, &sb), 0);
		return;
	}
	load_state(&st);
	ck_assert_str_eq(st.res[0].bound_driver, "pciback");
	ck_assert_ptr_null(st.res[0].error);
	ck_assert_str_eq(st.pfs[0].vfs[0].driver, "pciback");
	ck_assert_str_eq(st.pfs[0].vfs[2].driver, ""); /* not reserved */
	sr_state_free(&st);
}
END_TEST

/* State round trip and corrupt state. */
START_TEST(test_state_roundtrip)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st, st2;
	uint8_t *a, *b;
	size_t la, lb;

	ck_assert_int_eq(apply_fixture("two_pfs", &ctx, &err), 0);
	load_state(&st);
	ck_assert_int_eq(sr_state_encode(&st, &a, &la, &err), 0);
	ck_assert_int_eq(sr_state_decode(a, la, &st2, &err), 0);
	ck_assert_int_eq(sr_state_encode(&st2, &b, &lb, &err), 0);
	ck_assert(la == lb && !memcmp(a, b, la));
	/* Every proper prefix is refused with a message (the checksum is the
	 * last field): a truncated file never decodes, silently dropping
	 * reservations. So is every single flipped bit. */
	for (size_t n = 0; n < la; n++) {
		struct sr_state t;

		err.msg[0] = '\0';
		ck_assert_msg(sr_state_decode(a, n, &t, &err) == -EINVAL, "prefix %zu decoded", n);
		ck_assert(err.msg[0]);
	}
	for (size_t n = 0; n < la * 8; n += 7) {
		struct sr_state t;

		a[n / 8] ^= (uint8_t)(1u << (n % 8));
		ck_assert_msg(sr_state_decode(a, la, &t, &err) == -EINVAL, "bit %zu flipped decoded", n);
		a[n / 8] ^= (uint8_t)(1u << (n % 8));
	}
	/* zlib's check value for "123456789". */
	ck_assert_uint_eq(sr_crc32("123456789", 9), 0xcbf43926u);
	free(a);
	free(b);
	sr_state_free(&st);
	sr_state_free(&st2);
}
END_TEST

START_TEST(test_state_corrupt_file)
{
	struct sr_err err = { "" };
	struct sr_state st;
	static const uint8_t junk[] = { 0x12, 0xff, 0x01 };

	ck_assert_int_eq(mkdir(state_dir, 0755), 0);
	ck_assert_int_eq(sr_write_atomic(state_dir, SR_STATE_FILE, junk, sizeof(junk), &err), 0);
	ck_assert_int_eq(sr_state_load(state_dir, &st, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "without the closing checksum: truncated"), "%s", err.msg);
}
END_TEST

/* ---- VF settings through the fake node's netlink ---------------------- */

static struct sr_fake_node fake;

/* As apply_fixture, on the node ops netlink_setup() left in place. */
static int apply_netlink(const char *name, struct sr_apply_ctx *ctx, struct sr_err *err)
{
	return apply_on(&node, name, ctx, err);
}

static void netlink_setup(void)
{
	setup();
	sr_fake_node_init(&fake, &node, &sysfs, true);
	ck_assert_int_gt(sr_fake_node_add_link(&fake, "eth1"), 0);
	ck_assert_int_gt(sr_fake_node_add_link(&fake, "eth2"), 0);
}

static const uint8_t mac_router[6] = { 0x02, 0, 0, 0, 1, 1 };
static const uint8_t mac_zero[6] = { 0 };

/* Configure: every asked attribute reaches the kernel; the originals are
 * saved first; the PF is brought up; re-apply writes nothing. */
START_TEST(test_configure)
{
	struct sr_fake_link *eth1 = sr_fake_node_link(&fake, "eth1");
	struct sr_fake_link *eth2 = sr_fake_node_link(&fake, "eth2");
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;

	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert(!memcmp(eth1->vfs[0].mac, mac_router, 6));
	ck_assert_int_eq(eth1->vfs[0].vlan, 100);
	ck_assert_int_eq(eth1->vfs[3].vlan, 20);
	ck_assert_int_eq(eth1->vfs[3].qos, 3);
	ck_assert_int_eq(eth1->vfs[3].link_state, SR_LINK_STATE_ENABLE);
	ck_assert_int_eq(eth2->vfs[1].max_tx_rate, 100);
	ck_assert(eth1->up && eth2->up);
	/* Netlink writes = the fake kernel's messages: one per configured VF
	 * (5, all attributes accepted) + 2 link ups. */
	ck_assert_uint_eq(ctx.netlink_writes, fake.messages);
	ck_assert_uint_eq(ctx.netlink_writes, 5 + 2);
	ck_assert_uint_eq(ctx.n_warnings, 0);
	load_state(&st);
	ck_assert_int_eq(st.res[0].attr_result[SR_ATTR_MAC], 0);
	ck_assert_int_eq(st.res[0].attr_result[SR_ATTR_VLAN], 0);
	ck_assert(st.res[0].has_original);
	ck_assert(!memcmp(st.res[0].original.mac, mac_zero, 6));
	ck_assert_int_eq(st.res[0].original.vlan, 0);
	/* The kernel's view of each VF is recorded with the VF. */
	ck_assert(st.pfs[0].vfs[0].has_kernel);
	ck_assert_int_eq(st.pfs[0].vfs[0].kernel.vlan, 100);
	sr_state_free(&st);

	fake.messages = 0;
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_actions, 0);
	ck_assert_uint_eq(ctx.netlink_writes, 0);
	ck_assert_uint_eq(fake.messages, 0);
}
END_TEST

/* A refused attribute is recorded and warned about, the rest applied, and
 * it is not asked again while the settings stay the same. */
START_TEST(test_configure_refused)
{
	struct sr_fake_link *eth1 = sr_fake_node_link(&fake, "eth1");
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;

	fake.refuse[SR_ATTR_LINK_STATE] = -EOPNOTSUPP;
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_warnings, 1);
	ck_assert_int_eq(eth1->vfs[3].link_state, SR_LINK_STATE_AUTO);
	ck_assert_int_eq(eth1->vfs[3].vlan, 20);
	load_state(&st);
	ck_assert_int_eq(st.res[2].attr_result[SR_ATTR_LINK_STATE], -EOPNOTSUPP);
	ck_assert_int_eq(st.res[2].attr_result[SR_ATTR_VLAN], 0);
	ck_assert_str_eq(st.last_result, "applied with warnings");
	sr_state_free(&st);

	fake.messages = 0;
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(fake.messages, 0);
	ck_assert_uint_eq(ctx.n_actions, 0);
}
END_TEST

/* A drifted attribute (changed behind the agent's back) is written again,
 * and only that one. */
START_TEST(test_configure_drift)
{
	struct sr_fake_link *eth1 = sr_fake_node_link(&fake, "eth1");
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };

	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	eth1->vfs[0].vlan = 7;
	fake.messages = 0;
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_actions, 1);
	ck_assert_uint_eq(fake.messages, 1);
	ck_assert_int_eq(eth1->vfs[0].vlan, 100);
}
END_TEST

/* i40e: each VF just made answers its first settings messages "VF %d still
 * in reset. Try again." (-EAGAIN; fake_node.c sr_fake_i40e). The apply
 * tries those again and ends with every VF as configured, nothing refused. */
START_TEST(test_configure_i40e_later)
{
	struct sr_fake_link *eth1 = sr_fake_node_link(&fake, "eth1");
	struct sr_fake_link *eth2 = sr_fake_node_link(&fake, "eth2");
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;

	sr_fake_node_set_profile(&fake, "eth1", "0000:03:00.0", &sr_fake_i40e);
	sr_fake_node_set_profile(&fake, "eth2", "0000:04:00.0", &sr_fake_i40e);
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_gt(fake.not_ready_answers, 0);
	ck_assert_uint_eq(ctx.n_warnings, 0);
	ck_assert_uint_eq(ctx.n_later, 0);
	ck_assert(!memcmp(eth1->vfs[0].mac, mac_router, 6));
	ck_assert_int_eq(eth1->vfs[0].vlan, 100);
	ck_assert_int_eq(eth1->vfs[3].vlan, 20);
	ck_assert_int_eq(eth1->vfs[3].qos, 3);
	ck_assert_int_eq(eth1->vfs[3].link_state, SR_LINK_STATE_ENABLE);
	ck_assert_int_eq(eth2->vfs[1].max_tx_rate, 100);
	load_state(&st);
	ck_assert_str_eq(st.last_result, "applied");
	for (size_t i = 0; i < st.n_res; i++)
		for (int a = 0; a < SR_ATTR__COUNT; a++)
			ck_assert_msg(st.res[i].attr_result[a] == 0 ||
					      st.res[i].attr_result[a] == SR_ATTR_NOT_TRIED,
				      "res %zu %s: %d", i, sr_vf_attr_name(a), st.res[i].attr_result[a]);
	sr_state_free(&st);
	/* All taken: the next apply has nothing to do. */
	fake.messages = 0;
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_actions, 0);
	ck_assert_uint_eq(fake.messages, 0);
}
END_TEST

/* ice: a VF in reset answers -EBUSY (ice_check_vf_ready_for_cfg); a drift
 * repaired then is retried and taken, without a warning. */
START_TEST(test_configure_ice_reset)
{
	struct sr_fake_link *eth1 = sr_fake_node_link(&fake, "eth1");
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };

	sr_fake_node_set_profile(&fake, "eth1", "0000:03:00.0", &sr_fake_ice);
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_warnings, 0);
	eth1->vfs[0].vlan = 7;
	sr_fake_node_reset_vf(&fake, "eth1", 0, 3);
	fake.not_ready_answers = 0;
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(fake.not_ready_answers, 3);
	ck_assert_uint_eq(ctx.n_warnings, 0);
	ck_assert_int_eq(eth1->vfs[0].vlan, 100);
}
END_TEST

/* A driver's answer for good is not asked again in the apply; one that
 * stays "later" past retry_later_ms is refused with its errno, as
 * before, and counted in n_later (the daemon's cue to try soon). */
static const struct {
	int refuse;
	bool retried;
} answers[] = {
	{ -EOPNOTSUPP, false },
	{ -EINVAL, false },
	{ -EAGAIN, true },
	{ -EBUSY, true },
};

START_TEST(test_configure_answer_kinds)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;

	fake.refuse[SR_ATTR_RATE] = answers[_i].refuse;
	retry_ms = 100; /* "later" for ever here: no need to wait long */
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	retry_ms = 300;
	ck_assert_uint_eq(ctx.n_warnings, 1);
	ck_assert_uint_eq(ctx.n_later, answers[_i].retried);
	/* One try: 5 VFs + 2 link ups + the refused VF's per-attribute
	 * requests (its 2 attributes); each retry adds one more request. */
	if (answers[_i].retried)
		ck_assert_uint_gt(fake.messages, 5 + 2 + 2);
	else
		ck_assert_uint_eq(fake.messages, 5 + 2 + 2);
	load_state(&st);
	ck_assert_int_eq(st.res[4].attr_result[SR_ATTR_RATE], answers[_i].refuse);
	ck_assert_str_eq(st.last_result, "applied with warnings");
	sr_state_free(&st);
}
END_TEST

/* Per-driver rules (lib/engine/drivers.h), each with a PF of that driver. */
static void bnxt_setup(void)
{
	pf_driver = "bnxt_en";
	netlink_setup();
	pf_driver = "igb";
	sr_fake_node_set_profile(&fake, "eth1", "0000:03:00.0", &sr_fake_bnxt);
	sr_fake_node_set_profile(&fake, "eth2", "0000:04:00.0", &sr_fake_bnxt);
}

static void mlx5_setup(void)
{
	pf_driver = "mlx5_core";
	netlink_setup();
	pf_driver = "igb";
}

static char logged[4096];

static void log_keep(void *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void log_keep(void *c, int level, const char *fmt, ...)
{
	size_t len = strlen(logged);
	va_list ap;

	(void)c;
	(void)level;
	va_start(ap, fmt);
	vsnprintf(logged + len, sizeof(logged) - len, fmt, ap);
	va_end(ap);
	len = strlen(logged);
	if (len + 1 < sizeof(logged))
		strcat(logged, "\n");
}

static int apply_logged(const char *name, bool dry_run, struct sr_apply_ctx *ctx,
			struct sr_err *err)
{
	char path[512];
	uint8_t *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s.pb", SR_FIXTURE_DIR, name);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	*ctx = (struct sr_apply_ctx){ .node = &node, .state_dir = state_dir, .dry_run = dry_run,
				      .log = log_keep };
	logged[0] = '\0';
	r = sr_apply(ctx, buf, len, NULL, err);
	free(buf);
	return r;
}

/* bnxt_en makes no VF while its PF is down (bnxt_sriov_configure): the
 * PF is brought up before sriov_numvfs, the dry run says so and why. */
START_TEST(test_rule_bnxt_pf_up_first)
{
	struct sr_fake_link *eth1 = sr_fake_node_link(&fake, "eth1");
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };

	ck_assert_msg(apply_logged("two_pfs", true, &ctx, &err) == 0, "%s", err.msg);
	ck_assert_msg(strstr(logged, "plan: PF uplink1 (bnxt_en) rule: PF up before sriov_numvfs"),
		      "%s", logged);
	ck_assert_msg(strstr(logged, "would bring PF uplink1 up before its VF count (rule for bnxt_en: drivers/net/ethernet/broadcom/bnxt/bnxt_sriov.c bnxt_sriov_configure"),
		      "%s", logged);
	ck_assert(strstr(logged, "would bring PF uplink1 up") <
		  strstr(logged, "would set PF uplink1 sriov_numvfs"));
	ck_assert(!eth1->up);
	ck_assert_msg(apply_logged("two_pfs", false, &ctx, &err) == 0, "%s", err.msg);
	ck_assert(eth1->up);
	ck_assert_uint_eq(ctx.n_warnings, 0);
	ck_assert(!memcmp(eth1->vfs[0].mac, mac_router, 6));
	ck_assert_int_eq(eth1->vfs[3].vlan, 20);
}
END_TEST

/* mlx5_core: the eswitch mode is read before sriov_numvfs; switchdev is
 * refused by name before any write, legacy goes ahead. */
START_TEST(test_rule_mlx5_eswitch)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };

	fake.eswitch = "switchdev";
	ck_assert_int_eq(apply_logged("two_pfs", false, &ctx, &err), -EINVAL);
	ck_assert_msg(strstr(err.msg, "PF 0000:03:00.0 (mlx5_core) is in eswitch mode switchdev: allowed legacy"),
		      "%s", err.msg);
	ck_assert_msg(strstr(err.msg, "devlink dev eswitch set pci/0000:03:00.0 mode legacy"), "%s",
		      err.msg);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), 0);
	ck_assert_uint_eq(fake.messages, 0);
	fake.eswitch = "legacy";
	ck_assert_msg(apply_logged("two_pfs", false, &ctx, &err) == 0, "%s", err.msg);
	ck_assert_msg(strstr(logged, "plan: PF uplink1 (mlx5_core) rule: eswitch mode read from devlink"),
		      "%s", logged);
	ck_assert_uint_eq(ctx.n_warnings, 0);
}
END_TEST

/* A driver with no rule (igb) gets the generic order: no rule line, no
 * PF up before the VF count. */
START_TEST(test_rule_generic_order)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };

	ck_assert_msg(apply_logged("two_pfs", true, &ctx, &err) == 0, "%s", err.msg);
	ck_assert_msg(!strstr(logged, "rule"), "%s", logged);
	ck_assert_msg(!strstr(logged, "bring PF"), "%s", logged);
	ck_assert_msg(strstr(logged, "would set PF uplink1 sriov_numvfs to 4"), "%s", logged);
}
END_TEST

/* Until fd is readable (an eventfd written when a write ends). */
static bool readable_within(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* A sriov_numvfs write that does not return (the fake driver holds it, as
 * a PF reset in i40e_pci_sriov_configure or a slow ixgbe would): with the
 * node's async part on, the apply waits its inline bound, leaves that PF
 * busy and applies the other; no second write goes to the busy PF; once
 * the write returns its end is signalled and the next apply completes the
 * PF. */
/* The hung writes' tests: an apply waits WAIT_MS for a write before its
 * PF is busy. Writes that return must return within it on a loaded
 * machine (200 ms was missed about 1 run in 8 at load 8), so it is
 * 600 ms; the hung write costs each test that once. Once the hung write
 * ended, the last apply waits as long as it takes: nothing is held any
 * more. */
#define WAIT_MS 600

static void async_patient(int efd)
{
	sr_node_async_disable(&fake.real);
	ck_assert_int_eq(sr_node_async_enable(&fake.real, 60000, 60000, efd), 0);
}

START_TEST(test_numvfs_hung_write)
{
	struct sr_fake_link *eth1 = sr_fake_node_link(&fake, "eth1");
	struct sr_fake_link *eth2 = sr_fake_node_link(&fake, "eth2");
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_busy b[4];
	struct sr_state st;
	unsigned writes;

	ck_assert_int_ge(efd, 0);
	ck_assert_int_eq(sr_node_async_enable(&fake.real, WAIT_MS, WAIT_MS, efd), 0);
	sr_fake_driver_hold(drv, "0000:03:00.0", true);
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_busy, 1);
	ck_assert_uint_eq(sr_fake_driver_blocked(drv), 1);
	ck_assert_int_eq(eth2->vfs[1].max_tx_rate, 100);
	ck_assert(memcmp(eth1->vfs[0].mac, mac_router, 6));
	ck_assert_uint_eq(sr_node_async_busy(&fake.real, b, 4), 1);
	ck_assert_str_eq(b[0].pci, "0000:03:00.0");
	ck_assert_uint_eq(b[0].n, 4);
	load_state(&st);
	ck_assert_str_eq(st.last_result, "applied with warnings");
	ck_assert_msg(st.res[0].error && strstr(st.res[0].error, "busy"), "%s",
		      st.res[0].error ? st.res[0].error : "(none)");
	sr_state_free(&st);
	/* Applied again meanwhile: nothing more is written to the busy PF. */
	writes = sr_fake_driver_writes(drv);
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_busy, 1);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), writes);
	ck_assert(!readable_within(efd, 0));

	sr_fake_driver_hold(drv, "0000:03:00.0", false);
	ck_assert(readable_within(efd, 60000));
	ck_assert_uint_eq(sr_node_async_reap(&fake.real, b, 4), 1);
	ck_assert_int_eq(b[0].rc, 0);
	ck_assert_uint_eq(sr_node_async_busy(&fake.real, NULL, 0), 0);
	async_patient(efd);
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_busy, 0);
	ck_assert_uint_eq(ctx.n_warnings, 0);
	ck_assert(!memcmp(eth1->vfs[0].mac, mac_router, 6));
	ck_assert_int_eq(eth1->vfs[3].vlan, 20);
	sr_node_async_disable(&fake.real);
	close(efd);
}
END_TEST

/* As apply_netlink, with passthrough to vfio-pci. */
static int apply_netlink_bound(const char *name, struct sr_apply_ctx *ctx, struct sr_err *err)
{
	char path[512];
	uint8_t *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s.pb", SR_FIXTURE_DIR, name);
	ck_assert_int_eq(sr_read_file(path, 1 << 20, &buf, &len, NULL), 0);
	*ctx = (struct sr_apply_ctx){ .node = &node, .state_dir = state_dir,
				      .bind_driver = "vfio-pci" };
	r = sr_apply(ctx, buf, len, NULL, err);
	free(buf);
	return r;
}

/* A VF's drivers_probe that does not return (the driver's probe or remove
 * runs in the writer's thread: drivers_probe_store, drivers/base/bus.c):
 * its PF is busy after the bind wait, the other PF is bound, no second
 * write goes to the busy PF, and once the write returns the PF's VFs are
 * bound. */
START_TEST(test_bind_hung_write)
{
	int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_busy b[4];
	struct sr_state st;
	unsigned writes;

	ck_assert_int_ge(efd, 0);
	ck_assert_int_eq(sr_fake_sysfs_add_driver(root, "vfio-pci", false), 0);
	ck_assert_int_eq(sr_node_async_enable(&fake.real, 60000, WAIT_MS, efd), 0);
	sr_fake_driver_hold(drv, "0000:03:10.0", true); /* VF 0 of 0000:03:00.0 */
	ck_assert_msg(apply_netlink_bound("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_busy, 1);
	ck_assert_uint_eq(sr_fake_driver_blocked(drv), 1);
	ck_assert_uint_eq(sr_node_async_busy(&fake.real, b, 4), 1);
	ck_assert_str_eq(b[0].pci, "0000:03:00.0");
	ck_assert_int_eq(b[0].kind, SR_BUSY_BIND);
	ck_assert_str_eq(b[0].vf, "0000:03:10.0");
	ck_assert_str_eq(b[0].driver, "vfio-pci");
	load_state(&st);
	for (size_t i = 0; i < st.n_res; i++) {
		bool busy_pf = !strcmp(st.res[i].pf_pci, "0000:03:00.0");

		ck_assert_msg(busy_pf == (st.res[i].error && strstr(st.res[i].error, "busy")),
			      "res %zu: %s", i, st.res[i].error ? st.res[i].error : "(none)");
		ck_assert_str_eq(st.res[i].bound_driver, busy_pf ? "" : "vfio-pci");
	}
	sr_state_free(&st);
	/* Applied again meanwhile: nothing more is written to the busy PF. */
	writes = sr_fake_driver_writes(drv);
	ck_assert_msg(apply_netlink_bound("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_busy, 1);
	ck_assert_uint_eq(sr_fake_driver_writes(drv), writes);
	ck_assert(!readable_within(efd, 0));

	sr_fake_driver_hold(drv, "0000:03:10.0", false);
	ck_assert(readable_within(efd, 60000));
	ck_assert_uint_eq(sr_node_async_reap(&fake.real, b, 4), 1);
	ck_assert_int_eq(b[0].rc, 0);
	async_patient(efd);
	ck_assert_msg(apply_netlink_bound("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_busy, 0);
	load_state(&st);
	for (size_t i = 0; i < st.n_res; i++) {
		ck_assert_msg(!st.res[i].error, "res %zu: %s", i, st.res[i].error);
		ck_assert_str_eq(st.res[i].bound_driver, "vfio-pci");
	}
	sr_state_free(&st);
	sr_node_async_disable(&fake.real);
	close(efd);
}
END_TEST

/* The node goes away (a daemon's stack frame at exit) while a write it
 * started is still in the driver: once disabled, the write's thread uses
 * only what the async part owns. ASan and valgrind see any touch of the
 * freed node; scribbled, a touch crashes the plain build. */
START_TEST(test_async_outlives_node)
{
	struct sr_node_real *impl = malloc(sizeof(*impl));
	struct sr_node_ops ops;
	struct sr_err err = { "" };
	uint64_t until;

	ck_assert_ptr_nonnull(impl);
	sr_node_real_init(&ops, impl, &sysfs, NULL, NULL, NULL);
	ck_assert_int_eq(sr_node_async_enable(impl, 100, 100, -1), 0);
	sr_fake_driver_hold(drv, "0000:03:00.0", true);
	ck_assert_int_eq(ops.set_numvfs(ops.ctx, "0000:03:00.0", 3, &err), -EINPROGRESS);
	ck_assert_uint_eq(sr_node_async_live(), 1);
	sr_node_async_disable(impl);
	memset(impl, 0xa5, sizeof(*impl));
	free(impl);
	sr_fake_driver_hold(drv, "0000:03:00.0", false);
	until = sr_sysfs_now_ms() + 60000;
	while (sr_node_async_live() && sr_sysfs_now_ms() < until)
		usleep(1000);
	ck_assert_uint_eq(sr_node_async_live(), 0);
}
END_TEST

/* With the async part on and a driver that answers at once, an apply makes
 * the same writes as without it. */
START_TEST(test_numvfs_async_same_writes)
{
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };

	ck_assert_int_eq(sr_node_async_enable(&fake.real, 60000, 60000, -1), 0);
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_busy, 0);
	ck_assert_uint_eq(ctx.sysfs_writes, 2);
	ck_assert_uint_eq(ctx.netlink_writes, 5 + 2);
	ck_assert_uint_eq(ctx.n_warnings, 0);
	sr_node_async_disable(&fake.real);
}
END_TEST

/* Release: a VF an app gives up gets back the settings it had before. */
START_TEST(test_restore_on_release)
{
	struct sr_fake_link *eth1 = sr_fake_node_link(&fake, "eth1");
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;

	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_msg(apply_netlink("six_requests", &ctx, &err) == 0, "%s", err.msg);
	/* The sixth app (7777) took VF 2 with its derived MAC. */
	ck_assert(memcmp(eth1->vfs[2].mac, mac_zero, 6));
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_actions, 1);
	ck_assert(!memcmp(eth1->vfs[2].mac, mac_zero, 6));
	load_state(&st);
	ck_assert_ptr_null(sr_reservation_find(st.res, st.n_res, "0000:03:00.0", 2));
	sr_state_free(&st);
}
END_TEST

/* PF netdev names of the fake tree to the ifindexes the tests give them. */
static int silent_ifindex(void *c, const char *ifname, int *out, struct sr_err *err)
{
	(void)c;
	if (strcmp(ifname, "eth1") && strcmp(ifname, "eth2"))
		return sr_err_set(err, -ENODEV, "no %s", ifname);
	*out = !strcmp(ifname, "eth1") ? 7 : 8;
	return 0;
}

/* A kernel that never answers the PF's RTM_GETLINK (a NETLINK_USERSOCK
 * peer that reads nothing): the apply fails at the netlink deadline, before
 * any write, with a message naming the PF and the VF count it has. */
START_TEST(test_read_no_answer)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(sa);
	static struct sr_node_ops silent;
	static struct sr_node_real silent_real;
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;
	struct sr_nl nl;
	int peer, r;

	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	peer = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK);
	ck_assert_int_ge(peer, 0);
	ck_assert_int_eq(bind(peer, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(peer, (struct sockaddr *)&sa, &len), 0);
	ck_assert_int_eq(sr_nl_open_peer(&nl, NETLINK_USERSOCK, sa.nl_pid), 0);
	sr_nl_set_timeout(&nl, 200);
	sr_node_real_init(&silent, &silent_real, &sysfs, &nl, NULL, NULL);
	silent.ifindex = silent_ifindex;

	r = apply_on(&silent, "two_pfs", &ctx, &err);
	sr_nl_close(&nl);
	close(peer);
	ck_assert_int_eq(r, -ETIMEDOUT);
	ck_assert_msg(strstr(err.msg, "PF 0000:03:00.0 (eth1, ifindex 7, 4 VFs): cannot read VF settings: "
				      "netlink: RTM_GETLINK ifindex 7: no answer within 200 ms"),
		      "%s", err.msg);
	ck_assert_uint_eq(ctx.sysfs_writes + ctx.netlink_writes, 0);
	/* The state is the first apply's. */
	load_state(&st);
	ck_assert_uint_eq(st.n_res, 5);
	sr_state_free(&st);
}
END_TEST

/* A kernel that stops answering writes to a PF: one warning, no more
 * writes to that PF in this apply (each would wait as long), the other PF
 * written; the attributes not written are errors in the state. */
START_TEST(test_write_no_answer)
{
	struct sr_fake_link *eth1 = sr_fake_node_link(&fake, "eth1");
	struct sr_fake_link *eth2 = sr_fake_node_link(&fake, "eth2");
	struct sr_apply_ctx ctx;
	struct sr_err err = { "" };
	struct sr_state st;

	fake.refuse[SR_ATTR_VLAN] = -ETIMEDOUT;
	ck_assert_msg(apply_netlink("two_pfs", &ctx, &err) == 0, "%s", err.msg);
	ck_assert_uint_eq(ctx.n_warnings, 1);
	/* The router's VF 0 went first; the sensor's VF 3 was not written. */
	ck_assert_int_eq(eth1->vfs[3].link_state, SR_LINK_STATE_AUTO);
	ck_assert_int_eq(eth2->vfs[1].max_tx_rate, 100);
	load_state(&st);
	ck_assert_int_eq(st.res[2].attr_result[SR_ATTR_LINK_STATE], -ETIMEDOUT);
	ck_assert_int_eq(st.res[2].attr_result[SR_ATTR_VLAN], -ETIMEDOUT);
	ck_assert_str_eq(st.last_result, "applied with warnings");
	sr_state_free(&st);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("apply");
	TCase *tc = tcase_create("apply");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_two_pfs);
	tcase_add_test(tc, test_reapply_noop);
	tcase_add_loop_test(tc, test_refused_changes_nothing, 0, sizeof(refused) / sizeof(refused[0]));
	tcase_add_test(tc, test_six_then_back);
	tcase_add_test(tc, test_failure_after_change);
	tcase_add_test(tc, test_handed_over_is_saved);
	tcase_add_test(tc, test_release_rereads_only_after_unbind);
	tcase_add_test(tc, test_over_totalvfs);
	tcase_add_test(tc, test_missing_pf);
	tcase_add_test(tc, test_count_change);
	tcase_add_test(tc, test_settle_vfs_late);
	tcase_add_test(tc, test_settle_vfs_never);
	tcase_add_test(tc, test_dry_run);
	tcase_add_test(tc, test_bind);
	tcase_add_test(tc, test_identity_drop_first);
	tcase_add_test(tc, test_bind_without_iommu);
	tcase_add_test(tc, test_pf_without_driver);
	tcase_add_loop_test(tc, test_bind_xen, 0, sizeof(xen_cases) / sizeof(xen_cases[0]));
	tcase_add_test(tc, test_state_roundtrip);
	tcase_add_test(tc, test_state_corrupt_file);
	suite_add_tcase(s, tc);
	tc = tcase_create("netlink");
	tcase_add_checked_fixture(tc, netlink_setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_configure);
	tcase_add_test(tc, test_configure_refused);
	tcase_add_test(tc, test_configure_drift);
	tcase_add_test(tc, test_restore_on_release);
	tcase_add_test(tc, test_configure_i40e_later);
	tcase_add_test(tc, test_configure_ice_reset);
	tcase_add_loop_test(tc, test_configure_answer_kinds, 0, sizeof(answers) / sizeof(answers[0]));
	tcase_add_test(tc, test_rule_generic_order);
	tcase_add_test(tc, test_read_no_answer);
	tcase_add_test(tc, test_write_no_answer);
	tcase_add_test(tc, test_numvfs_hung_write);
	tcase_add_test(tc, test_numvfs_async_same_writes);
	tcase_add_test(tc, test_bind_hung_write);
	tcase_add_test(tc, test_async_outlives_node);
	suite_add_tcase(s, tc);
	tc = tcase_create("rule_bnxt");
	tcase_add_checked_fixture(tc, bnxt_setup, teardown);
	tcase_add_test(tc, test_rule_bnxt_pf_up_first);
	suite_add_tcase(s, tc);
	tc = tcase_create("rule_mlx5");
	tcase_add_checked_fixture(tc, mlx5_setup, teardown);
	tcase_add_test(tc, test_rule_mlx5_eswitch);
	suite_add_tcase(s, tc);
	return sr_check_run(s);
}
