/* SPDX-License-Identifier: MIT */
/*
 * lib/kernel/netlink.c: builders round-tripped through nlmsg_parse (no socket), the
 * write loop driven by a fake sender and an errno table, the RTM_NEWLINK
 * parser fed hand-built messages, the socket against a fake kernel
 * (NETLINK_USERSOCK) that answers as the kernel does (answers over 64 KiB
 * and of 4096 VFs, no answer, late answers, overruns), and a real-kernel
 * smoke test inside a private network namespace (skipped when unshare() is
 * not allowed).
 */
#include <arpa/inet.h>
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>

#include <linux/devlink.h>
#include <linux/genetlink.h>

#include "devlink.h"
#include "netlink.h"

/* SETTINGS(.vlan = 5) overrides the SR_UNSET defaults. */
#pragma GCC diagnostic ignored "-Woverride-init"
#define SETTINGS(...)                                                               \
	{                                                                           \
		.vlan = SR_UNSET, .qos = SR_UNSET, .vlan_proto = SR_UNSET,          \
		.spoofchk = SR_UNSET, .trust = SR_UNSET, .link_state = SR_UNSET,    \
		.min_tx_rate = SR_UNSET, .max_tx_rate = SR_UNSET, __VA_ARGS__       \
	}

#define PF_IFINDEX 7
#define VF 3
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static int count_attrs(struct nlattr *head, int len)
{
	struct nlattr *a;
	int rem, n = 0;

	nla_for_each_attr(a, head, len, rem)
		n++;
	return n;
}

/* Assert the RTM_SETLINK envelope and IFLA_VFINFO_LIST holding exactly one
 * IFLA_VF_INFO, and return that IFLA_VF_INFO. */
static struct nlattr *unwrap_vf_info(struct nl_msg *msg, int pf_ifindex)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct nlattr *tb[IFLA_MAX + 1];
	struct ifinfomsg *ifi;
	struct nlattr *list, *info;

	ck_assert_uint_eq(nlh->nlmsg_type, RTM_SETLINK);
	ck_assert(nlh->nlmsg_flags & NLM_F_REQUEST);
	ck_assert(nlh->nlmsg_flags & NLM_F_ACK);
	ck_assert(nlmsg_valid_hdr(nlh, sizeof(*ifi)));
	ifi = nlmsg_data(nlh);
	ck_assert_int_eq(ifi->ifi_family, AF_UNSPEC);
	ck_assert_int_eq(ifi->ifi_index, pf_ifindex);
	ck_assert_uint_eq(ifi->ifi_flags, 0);
	ck_assert_uint_eq(ifi->ifi_change, 0);

	ck_assert_int_eq(count_attrs(nlmsg_attrdata(nlh, sizeof(*ifi)),
				     nlmsg_attrlen(nlh, sizeof(*ifi))), 1);
	ck_assert_int_eq(nlmsg_parse(nlh, sizeof(*ifi), tb, IFLA_MAX, NULL), 0);
	list = tb[IFLA_VFINFO_LIST];
	ck_assert_ptr_nonnull(list);
	ck_assert_int_eq(count_attrs(nla_data(list), nla_len(list)), 1);
	info = nla_data(list);
	ck_assert_int_eq(nla_type(info), IFLA_VF_INFO);
	return info;
}

/* The same, the IFLA_VF_INFO holding exactly one attribute: that leaf. */
static struct nlattr *unwrap_vf_leaf(struct nl_msg *msg, int pf_ifindex)
{
	struct nlattr *info = unwrap_vf_info(msg, pf_ifindex);

	ck_assert_int_eq(count_attrs(nla_data(info), nla_len(info)), 1);
	return nla_data(info);
}

/* ---- builder round trip ------------------------------------------------- */

struct build_case {
	const char *name;
	enum sr_vf_attr attr;
	struct sr_vf_settings in;
	int leaf;          /* IFLA_VF_*, inside IFLA_VF_INFO */
	uint32_t want[3];  /* per leaf: see check_leaf() */
};

static const struct build_case build_cases[] = {
	{ "mac", SR_ATTR_MAC,
	  SETTINGS(.has_mac = true, .mac = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 }),
	  IFLA_VF_MAC, { 0 } },
	{ "vlan 100 qos 3, proto unset -> IFLA_VF_VLAN", SR_ATTR_VLAN,
	  SETTINGS(.vlan = 100, .qos = 3), IFLA_VF_VLAN, { 100, 3 } },
	{ "vlan 100, qos unset -> qos 0", SR_ATTR_VLAN,
	  SETTINGS(.vlan = 100), IFLA_VF_VLAN, { 100, 0 } },
	{ "vlan 4094 qos 7 proto 802.1Q", SR_ATTR_VLAN,
	  SETTINGS(.vlan = 4094, .qos = 7, .vlan_proto = SR_ETH_P_8021Q),
	  IFLA_VF_VLAN, { 4094, 7 } },
	{ "vlan 0 clears", SR_ATTR_VLAN,
	  SETTINGS(.vlan = 0), IFLA_VF_VLAN, { 0, 0 } },
	{ "vlan 200 qos 5 proto 802.1ad -> IFLA_VF_VLAN_LIST", SR_ATTR_VLAN,
	  SETTINGS(.vlan = 200, .qos = 5, .vlan_proto = SR_ETH_P_8021AD),
	  IFLA_VF_VLAN_LIST, { 200, 5, SR_ETH_P_8021AD } },
	{ "vlan 0 proto 802.1ad clears", SR_ATTR_VLAN,
	  SETTINGS(.vlan = 0, .vlan_proto = SR_ETH_P_8021AD),
	  IFLA_VF_VLAN_LIST, { 0, 0, SR_ETH_P_8021AD } },
	{ "spoofchk off", SR_ATTR_SPOOFCHK, SETTINGS(.spoofchk = 0), IFLA_VF_SPOOFCHK, { 0 } },
	{ "spoofchk on", SR_ATTR_SPOOFCHK, SETTINGS(.spoofchk = 1), IFLA_VF_SPOOFCHK, { 1 } },
	{ "trust off", SR_ATTR_TRUST, SETTINGS(.trust = 0), IFLA_VF_TRUST, { 0 } },
	{ "trust on", SR_ATTR_TRUST, SETTINGS(.trust = 1), IFLA_VF_TRUST, { 1 } },
	{ "link_state auto", SR_ATTR_LINK_STATE,
	  SETTINGS(.link_state = SR_LINK_STATE_AUTO), IFLA_VF_LINK_STATE, { IFLA_VF_LINK_STATE_AUTO } },
	{ "link_state enable", SR_ATTR_LINK_STATE,
	  SETTINGS(.link_state = SR_LINK_STATE_ENABLE), IFLA_VF_LINK_STATE, { IFLA_VF_LINK_STATE_ENABLE } },
	{ "link_state disable", SR_ATTR_LINK_STATE,
	  SETTINGS(.link_state = SR_LINK_STATE_DISABLE), IFLA_VF_LINK_STATE, { IFLA_VF_LINK_STATE_DISABLE } },
	{ "rate min 10 max 100", SR_ATTR_RATE,
	  SETTINGS(.min_tx_rate = 10, .max_tx_rate = 100), IFLA_VF_RATE, { 10, 100 } },
	{ "rate only max", SR_ATTR_RATE,
	  SETTINGS(.max_tx_rate = 500), IFLA_VF_RATE, { 0, 500 } },
	{ "rate only min", SR_ATTR_RATE,
	  SETTINGS(.min_tx_rate = 20), IFLA_VF_RATE, { 20, 0 } },
	{ "rate max 0 removes the limit", SR_ATTR_RATE,
	  SETTINGS(.max_tx_rate = 0), IFLA_VF_RATE, { 0, 0 } },
	/* Other attributes set as well: only the asked one is written. */
	{ "trust among others", SR_ATTR_TRUST,
	  SETTINGS(.has_mac = true, .vlan = 9, .spoofchk = 1, .trust = 1, .link_state = 1,
		   .max_tx_rate = 5),
	  IFLA_VF_TRUST, { 1 } },
};

static void check_leaf(const struct build_case *c, struct nlattr *leaf)
{
	struct nlattr *info;
	union {
		struct ifla_vf_mac mac;
		struct ifla_vf_vlan vlan;
		struct ifla_vf_vlan_info vlan_info;
		struct ifla_vf_spoofchk spoofchk;
		struct ifla_vf_trust trust;
		struct ifla_vf_link_state link_state;
		struct ifla_vf_rate rate;
	} w;
	size_t len = 0;

	memset(&w, 0, sizeof(w));
	switch (c->leaf) {
	case IFLA_VF_MAC:
		w.mac.vf = VF;
		memcpy(w.mac.mac, c->in.mac, 6);
		len = sizeof(w.mac);
		break;
	case IFLA_VF_VLAN:
		w.vlan = (struct ifla_vf_vlan){ .vf = VF, .vlan = c->want[0], .qos = c->want[1] };
		len = sizeof(w.vlan);
		break;
	case IFLA_VF_VLAN_LIST:
		w.vlan_info.vf = VF;
		w.vlan_info.vlan = c->want[0];
		w.vlan_info.qos = c->want[1];
		w.vlan_info.vlan_proto = htons((uint16_t)c->want[2]);
		len = sizeof(w.vlan_info);
		ck_assert_int_eq(count_attrs(nla_data(leaf), nla_len(leaf)), 1);
		info = nla_data(leaf);
		ck_assert_int_eq(nla_type(info), IFLA_VF_VLAN_INFO);
		leaf = info;
		break;
	case IFLA_VF_SPOOFCHK:
		w.spoofchk = (struct ifla_vf_spoofchk){ .vf = VF, .setting = c->want[0] };
		len = sizeof(w.spoofchk);
		break;
	case IFLA_VF_TRUST:
		w.trust = (struct ifla_vf_trust){ .vf = VF, .setting = c->want[0] };
		len = sizeof(w.trust);
		break;
	case IFLA_VF_LINK_STATE:
		w.link_state = (struct ifla_vf_link_state){ .vf = VF, .link_state = c->want[0] };
		len = sizeof(w.link_state);
		break;
	case IFLA_VF_RATE:
		w.rate = (struct ifla_vf_rate){ .vf = VF, .min_tx_rate = c->want[0],
						 .max_tx_rate = c->want[1] };
		len = sizeof(w.rate);
		break;
	default:
		ck_abort_msg("%s: no expectation for leaf %d", c->name, c->leaf);
	}
	ck_assert_int_eq(nla_len(leaf), (int)len);
	ck_assert_msg(memcmp(nla_data(leaf), &w, len) == 0, "%s: payload differs", c->name);
}

START_TEST(test_build_roundtrip)
{
	const struct build_case *c = &build_cases[_i];
	struct nl_msg *msg = NULL;
	struct nlattr *leaf;

	ck_assert_msg(sr_nl_build_vf_attr(PF_IFINDEX, VF, c->attr, &c->in, &msg) == 0,
		      "%s: build failed", c->name);
	leaf = unwrap_vf_leaf(msg, PF_IFINDEX);
	ck_assert_msg(nla_type(leaf) == c->leaf, "%s: leaf %d, want %d", c->name,
		      nla_type(leaf), c->leaf);
	check_leaf(c, leaf);
	nlmsg_free(msg);
}
END_TEST

/* Every attribute but _i set: _i still gives -ENODATA and no message. */
START_TEST(test_build_unset_enodata)
{
	struct sr_vf_settings all = SETTINGS(.has_mac = true, .vlan = 10, .qos = 1,
					     .vlan_proto = SR_ETH_P_8021Q, .spoofchk = 1,
					     .trust = 0, .link_state = 2, .min_tx_rate = 1,
					     .max_tx_rate = 2);
	struct sr_vf_settings none;
	struct nl_msg *sentinel = (struct nl_msg *)&all, *msg = sentinel;

	sr_vf_settings_init(&none);
	ck_assert_int_eq(sr_nl_build_vf_attr(PF_IFINDEX, VF, _i, &none, &msg), -ENODATA);
	ck_assert_ptr_eq(msg, sentinel);

	switch ((enum sr_vf_attr)_i) {
	case SR_ATTR_MAC: all.has_mac = false; break;
	case SR_ATTR_VLAN: all.vlan = SR_UNSET; break; /* qos, proto alone mean nothing */
	case SR_ATTR_SPOOFCHK: all.spoofchk = SR_UNSET; break;
	case SR_ATTR_TRUST: all.trust = SR_UNSET; break;
	case SR_ATTR_LINK_STATE: all.link_state = SR_UNSET; break;
	case SR_ATTR_RATE: all.min_tx_rate = all.max_tx_rate = SR_UNSET; break;
	default: ck_abort();
	}
	ck_assert_int_eq(sr_nl_build_vf_attr(PF_IFINDEX, VF, _i, &all, &msg), -ENODATA);
	ck_assert_ptr_eq(msg, sentinel);
}
END_TEST

struct bad_case {
	const char *name;
	int pf_ifindex;
	enum sr_vf_attr attr;
	struct sr_vf_settings in;
};

static const struct bad_case bad_cases[] = {
	{ "ifindex 0", 0, SR_ATTR_TRUST, SETTINGS(.trust = 1) },
	{ "attr out of range", PF_IFINDEX, SR_ATTR__COUNT, SETTINGS(.trust = 1) },
	{ "vlan 4095", PF_IFINDEX, SR_ATTR_VLAN, SETTINGS(.vlan = 4095) },
	{ "vlan -5", PF_IFINDEX, SR_ATTR_VLAN, SETTINGS(.vlan = -5) },
	{ "qos 8", PF_IFINDEX, SR_ATTR_VLAN, SETTINGS(.vlan = 10, .qos = 8) },
	{ "proto 0x1234", PF_IFINDEX, SR_ATTR_VLAN, SETTINGS(.vlan = 10, .vlan_proto = 0x1234) },
	{ "spoofchk 2", PF_IFINDEX, SR_ATTR_SPOOFCHK, SETTINGS(.spoofchk = 2) },
	{ "trust 5", PF_IFINDEX, SR_ATTR_TRUST, SETTINGS(.trust = 5) },
	{ "link_state 3", PF_IFINDEX, SR_ATTR_LINK_STATE, SETTINGS(.link_state = 3) },
	{ "rate -2", PF_IFINDEX, SR_ATTR_RATE, SETTINGS(.max_tx_rate = -2) },
	{ "rate 2^32", PF_IFINDEX, SR_ATTR_RATE, SETTINGS(.min_tx_rate = 0x100000000LL) },
};

START_TEST(test_build_unencodable)
{
	const struct bad_case *c = &bad_cases[_i];
	struct nl_msg *msg = NULL;

	ck_assert_msg(sr_nl_build_vf_attr(c->pf_ifindex, VF, c->attr, &c->in, &msg) == -EINVAL,
		      "%s: not refused", c->name);
	ck_assert_ptr_null(msg);
}
END_TEST

START_TEST(test_build_link_up)
{
	struct nl_msg *msg = NULL;
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;

	ck_assert_int_eq(sr_nl_build_link_up(0, &msg), -EINVAL);
	ck_assert_int_eq(sr_nl_build_link_up(PF_IFINDEX, &msg), 0);
	nlh = nlmsg_hdr(msg);
	ck_assert_uint_eq(nlh->nlmsg_type, RTM_SETLINK);
	ck_assert(nlh->nlmsg_flags & NLM_F_ACK);
	ifi = nlmsg_data(nlh);
	ck_assert_int_eq(ifi->ifi_index, PF_IFINDEX);
	ck_assert_uint_eq(ifi->ifi_flags, IFF_UP);
	ck_assert_uint_eq(ifi->ifi_change, IFF_UP);
	ck_assert_int_eq(nlmsg_attrlen(nlh, sizeof(*ifi)), 0);
	nlmsg_free(msg);
}
END_TEST

/* ---- write loop with a fake sender -------------------------------------- */

/* The fake kernel: applies the attributes of a request in their order and
 * stops at the first one refused (errno_for), as rtnetlink's do_setvfinfo()
 * does, answering only that errno. Every request is recorded. */
struct fake {
	int errno_for[SR_ATTR__COUNT]; /* 0 = accept */
	struct {
		enum sr_vf_attr attr[SR_ATTR__COUNT];
		size_t n;
	} msg[16];
	size_t n_msgs;
	unsigned int applied; /* bit per attribute the kernel took */
	uint16_t vlan_proto;  /* htons'd proto of the last IFLA_VF_VLAN_INFO */
};

static enum sr_vf_attr leaf_to_attr(int leaf)
{
	switch (leaf) {
	case IFLA_VF_MAC: return SR_ATTR_MAC;
	case IFLA_VF_VLAN:
	case IFLA_VF_VLAN_LIST: return SR_ATTR_VLAN;
	case IFLA_VF_SPOOFCHK: return SR_ATTR_SPOOFCHK;
	case IFLA_VF_TRUST: return SR_ATTR_TRUST;
	case IFLA_VF_LINK_STATE: return SR_ATTR_LINK_STATE;
	case IFLA_VF_RATE: return SR_ATTR_RATE;
	default: ck_abort_msg("unexpected leaf %d", leaf); return SR_ATTR__COUNT;
	}
}

static int fake_send(void *ctx, struct nl_msg *msg)
{
	struct fake *f = ctx;
	struct nlattr *info = unwrap_vf_info(msg, PF_IFINDEX);
	struct nlattr *leaf;
	int rem, refused = 0;

	ck_assert_uint_lt(f->n_msgs, ARRAY_LEN(f->msg));
	f->msg[f->n_msgs].n = 0;
	nla_for_each_nested(leaf, info, rem) {
		enum sr_vf_attr a = leaf_to_attr(nla_type(leaf));
		struct nlattr *payload = leaf;
		uint32_t vf;

		if (nla_type(leaf) == IFLA_VF_VLAN_LIST) {
			struct ifla_vf_vlan_info vi;

			payload = nla_data(leaf);
			ck_assert_int_eq(nla_type(payload), IFLA_VF_VLAN_INFO);
			ck_assert_int_eq(nla_len(payload), (int)sizeof(vi));
			memcpy(&vi, nla_data(payload), sizeof(vi));
			f->vlan_proto = vi.vlan_proto;
		}
		memcpy(&vf, nla_data(payload), sizeof(vf));
		ck_assert_uint_eq(vf, VF);
		ck_assert_uint_lt(f->msg[f->n_msgs].n, SR_ATTR__COUNT);
		f->msg[f->n_msgs].attr[f->msg[f->n_msgs].n++] = a;
		if (!refused && f->errno_for[a])
			refused = -f->errno_for[a];
		else if (!refused)
			f->applied |= 1u << a;
	}
	ck_assert_uint_gt(f->msg[f->n_msgs].n, 0);
	f->n_msgs++;
	return refused;
}

static const struct sr_vf_settings all_set = SETTINGS(
	.has_mac = true, .mac = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 }, .vlan = 100, .qos = 2,
	.vlan_proto = SR_ETH_P_8021Q, .spoofchk = 1, .trust = 1,
	.link_state = SR_LINK_STATE_ENABLE, .min_tx_rate = 0, .max_tx_rate = 1000);

#define ALL_ATTRS ((1u << SR_ATTR__COUNT) - 1)

/* Request k of f carries exactly the attributes of mask, in enum order. */
static void check_msg(const struct fake *f, size_t k, unsigned int mask)
{
	size_t n = 0;

	ck_assert_uint_lt(k, f->n_msgs);
	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		if (!(mask & (1u << a)))
			continue;
		ck_assert_uint_lt(n, f->msg[k].n);
		ck_assert_msg(f->msg[k].attr[n] == (enum sr_vf_attr)a,
			      "request %zu: attribute %zu is %s, want %s", k, n,
			      sr_vf_attr_name(f->msg[k].attr[n]), sr_vf_attr_name(a));
		n++;
	}
	ck_assert_uint_eq(f->msg[k].n, n);
}

/* All accepted: one request with every attribute, in order; 802.1ad keeps
 * its network-order protocol inside the combined request. */
START_TEST(test_apply_one_message)
{
	struct fake f = { .n_msgs = 0 };
	struct sr_nl nl = { .send = fake_send, .send_ctx = &f };
	struct sr_vf_settings s = all_set;
	int result[SR_ATTR__COUNT];

	s.vlan_proto = _i ? SR_ETH_P_8021AD : SR_ETH_P_8021Q;
	ck_assert_int_eq(sr_nl_apply_vf(&nl, PF_IFINDEX, VF, &s, result, NULL), 0);
	for (int a = 0; a < SR_ATTR__COUNT; a++)
		ck_assert_int_eq(result[a], 0);
	ck_assert_uint_eq(f.n_msgs, 1);
	check_msg(&f, 0, ALL_ATTRS);
	ck_assert_uint_eq(f.applied, ALL_ATTRS);
	if (_i)
		ck_assert_uint_eq(f.vlan_proto, htons(SR_ETH_P_8021AD));
}
END_TEST

static const int refusals[] = { EOPNOTSUPP, EINVAL, EPERM, ENODEV, EBUSY };

/* _i walks refusals x attributes: one attribute refused with one errno. The
 * combined request fails, then one request per attribute, as before. */
START_TEST(test_apply_one_refused)
{
	int err = refusals[_i / SR_ATTR__COUNT];
	enum sr_vf_attr bad = (enum sr_vf_attr)(_i % SR_ATTR__COUNT);
	struct fake f = { .n_msgs = 0 };
	struct sr_nl nl = { .sock = NULL, .send = fake_send, .send_ctx = &f };
	int result[SR_ATTR__COUNT];

	f.errno_for[bad] = err;
	ck_assert_int_eq(sr_nl_apply_vf(&nl, PF_IFINDEX, VF, &all_set, result, NULL), -err);
	for (int a = 0; a < SR_ATTR__COUNT; a++)
		ck_assert_msg(result[a] == (a == (int)bad ? -err : 0),
			      "errno %d on %s: result[%s] = %d", err, sr_vf_attr_name(bad),
			      sr_vf_attr_name(a), result[a]);
	ck_assert_uint_eq(f.n_msgs, 1 + SR_ATTR__COUNT);
	check_msg(&f, 0, ALL_ATTRS);
	for (int a = 0; a < SR_ATTR__COUNT; a++)
		check_msg(&f, 1 + (size_t)a, 1u << a);
	ck_assert_uint_eq(f.applied, ALL_ATTRS & ~(1u << bad));
}
END_TEST

/* Table: settings, the kernel's refusals, the outcomes and the requests. */
struct apply_case {
	const char *name;
	struct sr_vf_settings in;
	int errno_for[SR_ATTR__COUNT];
	int want[SR_ATTR__COUNT];      /* SR_ATTR_NOT_TRIED, 0 or -errno */
	int ret;
	unsigned int msgs[SR_ATTR__COUNT + 1]; /* attribute mask per request */
	size_t n_msgs;
};

#define NT SR_ATTR_NOT_TRIED
#define B(a) (1u << (a))

static const struct apply_case apply_cases[] = {
	{ "vlan + trust: one request with both",
	  SETTINGS(.vlan = 0, .trust = 0), { 0 }, { NT, 0, NT, 0, NT, NT }, 0,
	  { B(SR_ATTR_VLAN) | B(SR_ATTR_TRUST) }, 1 },
	{ "one attribute: its own request, no fallback when refused",
	  SETTINGS(.max_tx_rate = 100), { [SR_ATTR_RATE] = EOPNOTSUPP },
	  { NT, NT, NT, NT, NT, -EOPNOTSUPP }, -EOPNOTSUPP, { B(SR_ATTR_RATE) }, 1 },
	{ "igb: mac, vlan, spoofchk, trust, rate; rate refused (EOPNOTSUPP)",
	  SETTINGS(.has_mac = true, .vlan = 100, .spoofchk = 0, .trust = 1, .max_tx_rate = 100),
	  { [SR_ATTR_RATE] = EOPNOTSUPP }, { 0, 0, 0, 0, NT, -EOPNOTSUPP }, -EOPNOTSUPP,
	  { B(SR_ATTR_MAC) | B(SR_ATTR_VLAN) | B(SR_ATTR_SPOOFCHK) | B(SR_ATTR_TRUST) |
		    B(SR_ATTR_RATE),
	    B(SR_ATTR_MAC), B(SR_ATTR_VLAN), B(SR_ATTR_SPOOFCHK), B(SR_ATTR_TRUST),
	    B(SR_ATTR_RATE) }, 6 },
	{ "mac + trust, trust refused (EINVAL)",
	  SETTINGS(.has_mac = true, .trust = 1), { [SR_ATTR_TRUST] = EINVAL },
	  { 0, NT, NT, -EINVAL, NT, NT }, -EINVAL,
	  { B(SR_ATTR_MAC) | B(SR_ATTR_TRUST), B(SR_ATTR_MAC), B(SR_ATTR_TRUST) }, 3 },
	/* igb-like: a bad VLAN proto and rate refused: the first error is
	 * returned, both recorded, the rest applied. */
	{ "vlan 802.1ad (EPROTONOSUPPORT) and rate (EOPNOTSUPP) refused",
	  SETTINGS(.has_mac = true, .vlan = 100, .qos = 2, .vlan_proto = SR_ETH_P_8021AD,
		   .spoofchk = 1, .trust = 1, .link_state = SR_LINK_STATE_ENABLE,
		   .min_tx_rate = 0, .max_tx_rate = 1000),
	  { [SR_ATTR_VLAN] = EPROTONOSUPPORT, [SR_ATTR_RATE] = EOPNOTSUPP },
	  { 0, -EPROTONOSUPPORT, 0, 0, 0, -EOPNOTSUPP }, -EPROTONOSUPPORT,
	  { ALL_ATTRS, B(0), B(1), B(2), B(3), B(4), B(5) }, 7 },
	/* A value with no encoding is recorded as -EINVAL and not sent; the
	 * rest go one request each. */
	{ "vlan 5000 has no encoding: not sent, trust alone",
	  SETTINGS(.vlan = 5000, .trust = 1), { 0 }, { NT, -EINVAL, NT, 0, NT, NT }, -EINVAL,
	  { B(SR_ATTR_TRUST) }, 1 },
	{ "nothing set: no request", SETTINGS(), { 0 }, { NT, NT, NT, NT, NT, NT }, 0, { 0 }, 0 },
};

START_TEST(test_apply_table)
{
	const struct apply_case *c = &apply_cases[_i];
	struct fake f = { .n_msgs = 0 };
	struct sr_nl nl = { .send = fake_send, .send_ctx = &f };
	int result[SR_ATTR__COUNT];

	memcpy(f.errno_for, c->errno_for, sizeof(f.errno_for));
	ck_assert_msg(sr_nl_apply_vf(&nl, PF_IFINDEX, VF, &c->in, result, NULL) == c->ret,
		      "%s: return", c->name);
	for (int a = 0; a < SR_ATTR__COUNT; a++)
		ck_assert_msg(result[a] == c->want[a], "%s: result[%s] = %d, want %d", c->name,
			      sr_vf_attr_name(a), result[a], c->want[a]);
	ck_assert_msg(f.n_msgs == c->n_msgs, "%s: %zu requests, want %zu", c->name, f.n_msgs,
		      c->n_msgs);
	for (size_t k = 0; k < c->n_msgs; k++)
		check_msg(&f, k, c->msgs[k]);
}
END_TEST

#undef NT
#undef B

/* Message count: one request per VF when the kernel takes everything. */
START_TEST(test_apply_count_per_vf)
{
	struct fake f = { .n_msgs = 0 };
	struct sr_nl nl = { .send = fake_send, .send_ctx = &f };
	int result[SR_ATTR__COUNT];

	for (int k = 0; k < 5; k++) {
		ck_assert_int_eq(sr_nl_apply_vf(&nl, PF_IFINDEX, VF, &all_set, result, NULL), 0);
		ck_assert_uint_eq(f.n_msgs, (size_t)k + 1);
	}
}
END_TEST

/* The builder appends to the caller's message: a round trip of every
 * attribute with the same payloads as the one-attribute requests. */
START_TEST(test_put_vf_roundtrip)
{
	struct sr_vf_settings s = all_set;
	struct nl_msg *msg = NULL, *one = NULL;
	struct nlattr *info, *leaf;
	unsigned int mask = 0;
	int rem, a = 0;

	s.vlan_proto = SR_ETH_P_8021AD;
	ck_assert_int_eq(sr_nl_build_vf(PF_IFINDEX, VF, &s, &mask, &msg), 0);
	ck_assert_uint_eq(mask, ALL_ATTRS);
	info = unwrap_vf_info(msg, PF_IFINDEX);
	ck_assert_int_eq(count_attrs(nla_data(info), nla_len(info)), SR_ATTR__COUNT);
	nla_for_each_nested(leaf, info, rem) {
		struct nlattr *want;

		ck_assert_int_eq(sr_nl_build_vf_attr(PF_IFINDEX, VF, (enum sr_vf_attr)a, &s, &one), 0);
		want = unwrap_vf_leaf(one, PF_IFINDEX);
		ck_assert_int_eq(leaf->nla_type, want->nla_type);
		ck_assert_int_eq(nla_len(leaf), nla_len(want));
		ck_assert(memcmp(nla_data(leaf), nla_data(want), (size_t)nla_len(want)) == 0);
		nlmsg_free(one);
		a++;
	}
	ck_assert_int_eq(a, SR_ATTR__COUNT);
	nlmsg_free(msg);

	s = (struct sr_vf_settings)SETTINGS();
	ck_assert_int_eq(sr_nl_build_vf(PF_IFINDEX, VF, &s, NULL, &msg), -ENODATA);
	s.vlan = 5000;
	ck_assert_int_eq(sr_nl_build_vf(PF_IFINDEX, VF, &s, NULL, &msg), -EINVAL);
	ck_assert_int_eq(sr_nl_put_vf(NULL, PF_IFINDEX, VF, &s, NULL), -EINVAL);
}
END_TEST

/* ---- RTM_NEWLINK parser ------------------------------------------------- */

/* What one hand-built IFLA_VF_INFO carries, kernel style. */
enum {
	K_MAC = 1 << 0,
	K_VLAN = 1 << 1,
	K_VLAN_LIST = 1 << 2,
	K_TX_RATE = 1 << 3,
	K_SPOOFCHK = 1 << 4,
	K_LINK_STATE = 1 << 5,
	K_RATE = 1 << 6,
	K_TRUST = 1 << 7,
	K_NOISE = 1 << 8, /* RSS_QUERY_EN and a STATS nest, ignored by the parser */
	K_ALL = 0x1ff,
};

struct kvf {
	unsigned int has;
	uint32_t vf;
	uint8_t mac[6];
	uint32_t vlan, qos;
	uint16_t proto;
	uint32_t spoofchk, trust, link_state;
	uint32_t min_rate, max_rate, tx_rate;
};

static void put_kvf(struct nl_msg *msg, const struct kvf *k)
{
	struct nlattr *info, *nest;

	if (!k->has) {
		/* nla_nest_end() drops empty nests: put the bare header. */
		ck_assert_int_eq(nla_put(msg, IFLA_VF_INFO, 0, NULL), 0);
		return;
	}
	info = nla_nest_start(msg, IFLA_VF_INFO);
	ck_assert_ptr_nonnull(info);
	if (k->has & K_MAC) {
		struct ifla_vf_mac m;

		memset(&m, 0, sizeof(m));
		m.vf = k->vf;
		memcpy(m.mac, k->mac, 6);
		ck_assert_int_eq(nla_put(msg, IFLA_VF_MAC, sizeof(m), &m), 0);
	}
	if (k->has & K_VLAN) {
		struct ifla_vf_vlan v = { .vf = k->vf, .vlan = k->vlan, .qos = k->qos };

		ck_assert_int_eq(nla_put(msg, IFLA_VF_VLAN, sizeof(v), &v), 0);
	}
	if (k->has & K_VLAN_LIST) {
		struct ifla_vf_vlan_info vi;

		memset(&vi, 0, sizeof(vi));
		vi.vf = k->vf;
		vi.vlan = k->vlan;
		vi.qos = k->qos;
		vi.vlan_proto = htons(k->proto);
		nest = nla_nest_start(msg, IFLA_VF_VLAN_LIST);
		ck_assert_int_eq(nla_put(msg, IFLA_VF_VLAN_INFO, sizeof(vi), &vi), 0);
		nla_nest_end(msg, nest);
	}
	if (k->has & K_TX_RATE) {
		struct ifla_vf_tx_rate r = { .vf = k->vf, .rate = k->tx_rate };

		ck_assert_int_eq(nla_put(msg, IFLA_VF_TX_RATE, sizeof(r), &r), 0);
	}
	if (k->has & K_SPOOFCHK) {
		struct ifla_vf_spoofchk sc = { .vf = k->vf, .setting = k->spoofchk };

		ck_assert_int_eq(nla_put(msg, IFLA_VF_SPOOFCHK, sizeof(sc), &sc), 0);
	}
	if (k->has & K_LINK_STATE) {
		struct ifla_vf_link_state ls = { .vf = k->vf, .link_state = k->link_state };

		ck_assert_int_eq(nla_put(msg, IFLA_VF_LINK_STATE, sizeof(ls), &ls), 0);
	}
	if (k->has & K_RATE) {
		struct ifla_vf_rate r = { .vf = k->vf, .min_tx_rate = k->min_rate,
					  .max_tx_rate = k->max_rate };

		ck_assert_int_eq(nla_put(msg, IFLA_VF_RATE, sizeof(r), &r), 0);
	}
	if (k->has & K_NOISE) {
		struct ifla_vf_rss_query_en rq = { .vf = k->vf, .setting = 1 };

		ck_assert_int_eq(nla_put(msg, IFLA_VF_RSS_QUERY_EN, sizeof(rq), &rq), 0);
		nest = nla_nest_start(msg, IFLA_VF_STATS);
		ck_assert_int_eq(nla_put_u64(msg, IFLA_VF_STATS_RX_PACKETS, 42), 0);
		nla_nest_end(msg, nest);
	}
	if (k->has & K_TRUST) {
		struct ifla_vf_trust t = { .vf = k->vf, .setting = k->trust };

		ck_assert_int_eq(nla_put(msg, IFLA_VF_TRUST, sizeof(t), &t), 0);
	}
	nla_nest_end(msg, info);
}

/* RTM_NEWLINK for ifindex PF_IFINDEX; num_vf < 0 leaves IFLA_NUM_VF out,
 * kvfs == NULL leaves IFLA_VFINFO_LIST out. */
static struct nl_msg *newlink(int num_vf, const struct kvf *kvfs, size_t n)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = PF_IFINDEX };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct nlattr *list;

	ck_assert_ptr_nonnull(msg);
	ck_assert_int_eq(nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO), 0);
	ck_assert_int_eq(nla_put_string(msg, IFLA_IFNAME, "pf0"), 0);
	if (num_vf >= 0)
		ck_assert_int_eq(nla_put_u32(msg, IFLA_NUM_VF, (uint32_t)num_vf), 0);
	if (kvfs) {
		list = nla_nest_start(msg, IFLA_VFINFO_LIST);
		for (size_t i = 0; i < n; i++)
			put_kvf(msg, &kvfs[i]);
		nla_nest_end(msg, list);
	}
	ck_assert_int_eq(nla_put_u32(msg, IFLA_MTU, 1500), 0);
	return msg;
}

static void assert_unset(const struct sr_vf_settings *s)
{
	struct sr_vf_settings none;

	sr_vf_settings_init(&none);
	ck_assert(sr_vf_settings_equal(s, &none));
}

static const struct kvf three[] = {
	{ .has = K_ALL, .vf = 0, .mac = { 0x02, 0, 0, 0, 0, 0x10 }, .vlan = 0, .qos = 0,
	  .proto = SR_ETH_P_8021Q, .spoofchk = 1, .trust = 0,
	  .link_state = IFLA_VF_LINK_STATE_AUTO },
	{ .has = K_ALL, .vf = 1, .mac = { 0x02, 0, 0, 0, 0, 0x11 }, .vlan = 100, .qos = 2,
	  .proto = SR_ETH_P_8021AD, .spoofchk = 0, .trust = 1,
	  .link_state = IFLA_VF_LINK_STATE_ENABLE, .min_rate = 10, .max_rate = 200,
	  .tx_rate = 200 },
	/* Older kernel style: no VLAN list, no IFLA_VF_RATE; driver reports
	 * neither spoofchk nor trust (-1). */
	{ .has = K_ALL & ~(K_VLAN_LIST | K_RATE), .vf = 2, .mac = { 0x02, 0, 0, 0, 0, 0x12 },
	  .vlan = 5, .qos = 0, .spoofchk = UINT32_MAX, .trust = UINT32_MAX,
	  .link_state = IFLA_VF_LINK_STATE_DISABLE, .tx_rate = 300 },
};

START_TEST(test_parse_three)
{
	struct nl_msg *msg = newlink(3, three, 3);
	struct sr_vf_settings *vfs = NULL;
	struct sr_err err = { "" };
	bool truncated = true;
	size_t n = 0;

	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, &err), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(!truncated);

	ck_assert(vfs[0].has_mac);
	ck_assert_mem_eq(vfs[0].mac, three[0].mac, 6);
	ck_assert_int_eq(vfs[0].vlan, 0);
	ck_assert_int_eq(vfs[0].qos, 0);
	ck_assert_int_eq(vfs[0].vlan_proto, SR_ETH_P_8021Q);
	ck_assert_int_eq(vfs[0].spoofchk, 1);
	ck_assert_int_eq(vfs[0].trust, 0);
	ck_assert_int_eq(vfs[0].link_state, SR_LINK_STATE_AUTO);
	ck_assert_int_eq(vfs[0].min_tx_rate, 0);
	ck_assert_int_eq(vfs[0].max_tx_rate, 0);

	ck_assert_mem_eq(vfs[1].mac, three[1].mac, 6);
	ck_assert_int_eq(vfs[1].vlan, 100);
	ck_assert_int_eq(vfs[1].qos, 2);
	ck_assert_int_eq(vfs[1].vlan_proto, SR_ETH_P_8021AD);
	ck_assert_int_eq(vfs[1].spoofchk, 0);
	ck_assert_int_eq(vfs[1].trust, 1);
	ck_assert_int_eq(vfs[1].link_state, SR_LINK_STATE_ENABLE);
	ck_assert_int_eq(vfs[1].min_tx_rate, 10);
	ck_assert_int_eq(vfs[1].max_tx_rate, 200);

	ck_assert_mem_eq(vfs[2].mac, three[2].mac, 6);
	ck_assert_int_eq(vfs[2].vlan, 5);
	ck_assert_int_eq(vfs[2].vlan_proto, SR_ETH_P_8021Q);
	ck_assert_int_eq(vfs[2].spoofchk, SR_UNSET);
	ck_assert_int_eq(vfs[2].trust, SR_UNSET);
	ck_assert_int_eq(vfs[2].link_state, SR_LINK_STATE_DISABLE);
	ck_assert_int_eq(vfs[2].min_tx_rate, SR_UNSET);
	ck_assert_int_eq(vfs[2].max_tx_rate, 300);

	free(vfs);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_parse_truncated)
{
	struct nl_msg *msg = newlink(3, three, 2);
	struct sr_vf_settings *vfs = NULL;
	bool truncated = false;
	size_t n = 0;

	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, NULL), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(truncated);
	ck_assert_int_eq(vfs[1].vlan, 100);
	assert_unset(&vfs[2]);
	free(vfs);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_parse_missing_subattrs)
{
	const struct kvf sparse[] = {
		{ .has = 0 },                          /* empty: index from position */
		{ .has = K_MAC, .vf = 1, .mac = { 0x02, 1, 2, 3, 4, 5 } },
		{ .has = K_LINK_STATE, .vf = 2, .link_state = 9 }, /* unknown state */
	};
	struct nl_msg *msg = newlink(3, sparse, 3);
	struct sr_vf_settings *vfs = NULL;
	bool truncated = true;
	size_t n = 0;

	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, NULL), 0);
	ck_assert_uint_eq(n, 3);
	ck_assert(!truncated);
	assert_unset(&vfs[0]);
	ck_assert(vfs[1].has_mac);
	ck_assert_mem_eq(vfs[1].mac, sparse[1].mac, 6);
	ck_assert_int_eq(vfs[1].vlan, SR_UNSET);
	ck_assert_int_eq(vfs[1].spoofchk, SR_UNSET);
	ck_assert_int_eq(vfs[1].max_tx_rate, SR_UNSET);
	assert_unset(&vfs[2]);
	free(vfs);
	nlmsg_free(msg);
}
END_TEST

/* Attributes shorter than their struct are treated as absent. */
START_TEST(test_parse_short_attrs)
{
	struct ifinfomsg ifi = { .ifi_index = PF_IFINDEX };
	struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, 0);
	struct nlattr *list, *info, *vl;
	uint8_t junk[2] = { 0xff, 0xff };
	struct sr_vf_settings *vfs = NULL;
	bool truncated = true;
	size_t n = 0;

	nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO);
	nla_put_u32(msg, IFLA_NUM_VF, 1);
	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	info = nla_nest_start(msg, IFLA_VF_INFO);
	nla_put(msg, IFLA_VF_MAC, sizeof(junk), junk);
	nla_put(msg, IFLA_VF_VLAN, sizeof(junk), junk);
	vl = nla_nest_start(msg, IFLA_VF_VLAN_LIST);
	nla_put(msg, IFLA_VF_VLAN_INFO, sizeof(junk), junk);
	nla_nest_end(msg, vl);
	nla_put(msg, IFLA_VF_RATE, sizeof(junk), junk);
	nla_put(msg, IFLA_VF_TRUST, 0, NULL);
	nla_nest_end(msg, info);
	nla_nest_end(msg, list);

	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, NULL), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert(!truncated);
	assert_unset(&vfs[0]);
	free(vfs);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_parse_no_sriov)
{
	struct nl_msg *msg = newlink(-1, NULL, 0);
	struct sr_vf_settings *vfs = (struct sr_vf_settings *)&msg;
	bool truncated = true;
	size_t n = 99;

	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, NULL), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(vfs);
	ck_assert(!truncated);
	nlmsg_free(msg);
}
END_TEST

/* IFLA_NUM_VF without a list (driver without ndo_get_vf_config). */
START_TEST(test_parse_num_without_list)
{
	struct nl_msg *msg = newlink(2, NULL, 0);
	struct sr_vf_settings *vfs = NULL;
	bool truncated = false;
	size_t n = 0;

	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, NULL), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(truncated);
	assert_unset(&vfs[0]);
	assert_unset(&vfs[1]);
	free(vfs);
	nlmsg_free(msg);
}
END_TEST

/* An entry naming a VF beyond IFLA_NUM_VF is dropped. */
START_TEST(test_parse_index_out_of_range)
{
	const struct kvf odd[] = {
		{ .has = K_TRUST, .vf = 0, .trust = 1 },
		{ .has = K_TRUST, .vf = 9, .trust = 1 },
	};
	struct nl_msg *msg = newlink(2, odd, 2);
	struct sr_vf_settings *vfs = NULL;
	bool truncated = false;
	size_t n = 0;

	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, NULL), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert(truncated);
	ck_assert_int_eq(vfs[0].trust, 1);
	assert_unset(&vfs[1]);
	free(vfs);
	nlmsg_free(msg);
}
END_TEST

START_TEST(test_parse_wrong_type)
{
	struct nl_msg *msg = newlink(3, three, 3);
	struct sr_vf_settings *vfs = (struct sr_vf_settings *)&msg;
	struct sr_err err = { "" };
	bool truncated = false;
	size_t n = 99;

	nlmsg_hdr(msg)->nlmsg_type = RTM_DELLINK;
	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, &err), -EPROTO);
	ck_assert_ptr_eq(vfs, (struct sr_vf_settings *)&msg);
	ck_assert_uint_eq(n, 99);
	ck_assert(strstr(err.msg, "RTM_NEWLINK"));
	nlmsg_free(msg);
}
END_TEST

/* A round trip through both halves: what the builders write for VF 1 is what
 * the parser reads back from a kernel-style report of the same values. */
START_TEST(test_parse_roundtrip_builder_values)
{
	struct sr_vf_settings want = SETTINGS(
		.has_mac = true, .mac = { 0x02, 9, 8, 7, 6, 5 }, .vlan = 300, .qos = 4,
		.vlan_proto = SR_ETH_P_8021AD, .spoofchk = 0, .trust = 1,
		.link_state = SR_LINK_STATE_ENABLE, .min_tx_rate = 0, .max_tx_rate = 750);
	struct kvf k = { .has = K_ALL, .vf = 0 };
	struct sr_vf_settings *vfs = NULL;
	struct nl_msg *msg;
	bool truncated;
	size_t n;

	memcpy(k.mac, want.mac, 6);
	k.vlan = (uint32_t)want.vlan;
	k.qos = (uint32_t)want.qos;
	k.proto = (uint16_t)want.vlan_proto;
	k.spoofchk = (uint32_t)want.spoofchk;
	k.trust = (uint32_t)want.trust;
	k.link_state = (uint32_t)want.link_state;
	k.min_rate = 0;
	k.max_rate = k.tx_rate = 750;
	msg = newlink(1, &k, 1);
	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, NULL), 0);
	ck_assert(sr_vf_settings_equal(&vfs[0], &want));
	free(vfs);
	nlmsg_free(msg);
}
END_TEST

/* ---- a fake kernel on the other end of the socket ----------------------- */

/* A fake kernel on a NETLINK_USERSOCK socket: the socket under test is
 * opened by sr_nl_open_peer, sends its requests there and reads the answers
 * with the same receive path as against the kernel. The answers are sent as
 * the kernel sends them (net/netlink/af_netlink.c netlink_unicast() with
 * MSG_DONTWAIT, from rtnl_unicast and netlink_ack): one that the socket does
 * not take is dropped, never waited for, and the socket is marked overrun
 * (netlink_overrun: ENOBUFS on the next receive). A user-space sender is
 * never marked so by the kernel; the fake does it by multicasting to a group
 * the socket under test joined until the socket drops a datagram (its
 * SK_MEMINFO_DROPS grows): netlink_broadcast_deliver() -> netlink_overrun().
 * The RTM_NEWLINK answer is what rtnl_fill_vfinfo writes, in its order. */
#define BIG_VFS 256
#define MANY_VFS 4096
#define FK_GROUP 5

enum big_kind {
	BIG_WRAPPED,  /* VF stats sent (a kernel that ignores SKIP_STATS for VFs):
		       * 296 bytes a VF, the list's nla_len wraps past 64 KiB */
	BIG_LONG_MSG, /* SKIP_STATS honoured: a 50 KiB list, other attributes
		       * take the message past 64 KiB */
	BIG_MANY,     /* MANY_VFS VFs without stats: 800 KB in one datagram */
};

/* What the fake kernel does with one request. */
enum fk_act {
	FK_ANSWER,   /* answers, and ACKs when asked (NLM_F_ACK) */
	FK_SILENT,   /* reads it and says nothing */
	FK_LATE,     /* says nothing until the next request, then answers this
		      * one (VLAN 4000 on every VF) before that one */
	FK_STALE,    /* sends an answer with the previous sequence number (VLAN
		      * 4000 on every VF; an ACK for RTM_SETLINK), then answers */
	FK_OVERRUN,  /* overruns the socket, then answers: the answer is dropped */
	FK_NOBUFS,   /* NLMSG_ERROR -ENOBUFS: rtnl_getlink's nlmsg_new() failed */
};

struct fake_kernel {
	enum big_kind kind;
	const enum fk_act *script;  /* per request; past its end: FK_ANSWER */
	size_t n_script;
	int setlink_err;      /* the answer to RTM_SETLINK: 0 (ACK) or -errno */
	int fd;
	uint32_t port;
	int agent_fd;         /* the socket under test, for its overrun */
	pthread_t reader;     /* the thread that reads it */
	int held;             /* fake_hold() depth */
	int stop[2];          /* the test writes here when it is done */
	pthread_t thread;
	bool late;            /* an FK_LATE answer is owed */
	uint32_t late_seq;
	size_t requests;      /* requests read */
	size_t drops;         /* answers the socket under test did not take */
	uint32_t ext_mask;    /* the last RTM_GETLINK's IFLA_EXT_MASK */
	size_t answer_len;    /* bytes of the last RTM_NEWLINK sent */
	uint16_t list_nla_len;
	char fail[160];       /* what went wrong, "" when nothing */
};

static uint32_t fk_n_vfs(const struct fake_kernel *fk)
{
	return fk->kind == BIG_MANY ? MANY_VFS : BIG_VFS;
}

static void big_vf(uint32_t i, struct kvf *k)
{
	*k = (struct kvf){ .vf = i, .mac = { 0x02, 0xbb, 0, 0, (uint8_t)(i >> 8), (uint8_t)i },
			   .vlan = i % 4000 + 1, .qos = i % 8, .proto = SR_ETH_P_8021Q,
			   .spoofchk = i % 2, .trust = (i / 2) % 2,
			   .link_state = i % 3, .max_rate = i * 10 };
}

#define PUT(msg, type, v) ck_assert_int_eq(nla_put(msg, type, sizeof(v), &(v)), 0)

/* One IFLA_VF_INFO as rtnl_fill_vfinfo writes it (6.1); stale: VLAN 4000. */
static void put_kernel_vf(struct nl_msg *msg, uint32_t i, bool stats, bool stale)
{
	struct kvf k;
	struct ifla_vf_mac mac = { .vf = i };
	struct ifla_vf_broadcast bc;
	struct ifla_vf_vlan vlan;
	struct ifla_vf_rate rate;
	struct ifla_vf_tx_rate txr;
	struct ifla_vf_spoofchk sc;
	struct ifla_vf_link_state ls;
	struct ifla_vf_rss_query_en rq = { .vf = i, .setting = 0 };
	struct ifla_vf_trust tr;
	struct ifla_vf_vlan_info vi = { .vf = i };
	struct nlattr *info, *nest;

	big_vf(i, &k);
	if (stale)
		k.vlan = 4000;
	memcpy(mac.mac, k.mac, 6);
	memset(&bc, 0xff, sizeof(bc));
	vlan = (struct ifla_vf_vlan){ .vf = i, .vlan = k.vlan, .qos = k.qos };
	rate = (struct ifla_vf_rate){ .vf = i, .max_tx_rate = k.max_rate };
	txr = (struct ifla_vf_tx_rate){ .vf = i, .rate = k.max_rate };
	sc = (struct ifla_vf_spoofchk){ .vf = i, .setting = k.spoofchk };
	ls = (struct ifla_vf_link_state){ .vf = i, .link_state = k.link_state };
	tr = (struct ifla_vf_trust){ .vf = i, .setting = k.trust };
	vi.vlan = k.vlan;
	vi.qos = k.qos;
	vi.vlan_proto = htons(k.proto);

	info = nla_nest_start(msg, IFLA_VF_INFO);
	ck_assert_ptr_nonnull(info);
	PUT(msg, IFLA_VF_MAC, mac);
	PUT(msg, IFLA_VF_BROADCAST, bc);
	PUT(msg, IFLA_VF_VLAN, vlan);
	PUT(msg, IFLA_VF_RATE, rate);
	PUT(msg, IFLA_VF_TX_RATE, txr);
	PUT(msg, IFLA_VF_SPOOFCHK, sc);
	PUT(msg, IFLA_VF_LINK_STATE, ls);
	PUT(msg, IFLA_VF_RSS_QUERY_EN, rq);
	PUT(msg, IFLA_VF_TRUST, tr);
	nest = nla_nest_start(msg, IFLA_VF_VLAN_LIST);
	PUT(msg, IFLA_VF_VLAN_INFO, vi);
	nla_nest_end(msg, nest);
	if (stats) {
		nest = nla_nest_start(msg, IFLA_VF_STATS);
		for (int t = IFLA_VF_STATS_RX_PACKETS; t <= IFLA_VF_STATS_TX_DROPPED; t++)
			if (t != IFLA_VF_STATS_PAD)
				ck_assert_int_eq(nla_put_u64(msg, t, 1000u * i + t), 0);
		nla_nest_end(msg, nest);
	}
	nla_nest_end(msg, info);
}

/* The RTM_NEWLINK answer. The list's nest is closed as the kernel closes
 * it: tail - start stored in 16 bits, unchecked (libnl's nla_nest_end
 * refuses a nest over 64 KiB). */
static struct nl_msg *big_answer_of(struct fake_kernel *fk, uint32_t seq, bool stale)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC, .ifi_index = PF_IFINDEX };
	uint32_t n = fk_n_vfs(fk);
	struct nl_msg *msg = nlmsg_alloc_size(n * 320 + 32 * 1024);
	static uint8_t filler[16 * 1024];
	struct nlattr *list, *spec;
	struct nlmsghdr *nlh;
	size_t len;

	ck_assert_ptr_nonnull(msg);
	nlh = nlmsg_put(msg, 0, seq, RTM_NEWLINK, sizeof(ifi), 0);
	ck_assert_ptr_nonnull(nlh);
	memcpy(nlmsg_data(nlh), &ifi, sizeof(ifi));
	ck_assert_int_eq(nla_put_string(msg, IFLA_IFNAME, "pf0"), 0);
	ck_assert_int_eq(nla_put_u32(msg, IFLA_MTU, 1500), 0);
	ck_assert_int_eq(nla_put_u32(msg, IFLA_NUM_VF, n), 0);
	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	for (uint32_t i = 0; i < n; i++)
		put_kernel_vf(msg, i, fk->kind == BIG_WRAPPED, stale);
	len = (size_t)((char *)nlmsg_tail(nlmsg_hdr(msg)) - (char *)list);
	list->nla_len = (uint16_t)len;
	fk->list_nla_len = list->nla_len;
	if (fk->kind == BIG_LONG_MSG) {
		spec = nla_nest_start(msg, IFLA_AF_SPEC);
		ck_assert_int_eq(nla_put(msg, AF_INET6, sizeof(filler), filler), 0);
		nla_nest_end(msg, spec);
	}
	ck_assert_int_eq(nla_put_u32(msg, IFLA_GROUP, 0), 0);
	return msg;
}

static struct nl_msg *big_answer(struct fake_kernel *fk, uint32_t seq)
{
	return big_answer_of(fk, seq, false);
}

static void fake_kernel_fail(struct fake_kernel *fk, const char *what)
{
	if (!fk->fail[0])
		snprintf(fk->fail, sizeof(fk->fail), "%s: %s", what, strerror(errno));
}

static uint32_t agent_drops(struct fake_kernel *fk)
{
	uint32_t mem[SK_MEMINFO_VARS] = { 0 };
	socklen_t len = sizeof(mem);

	if (getsockopt(fk->agent_fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		fake_kernel_fail(fk, "SO_MEMINFO");
	return mem[SK_MEMINFO_DROPS];
}

/* The reader (the test's thread, inside sr_nl) held in a signal handler
 * while the fake kernel fills its socket: a reader that is slow to read,
 * as the agent may be; without it the race between the two would decide. */
static int hold_in[2] = { -1, -1 }, hold_out[2] = { -1, -1 };

static void hold_reader(int sig)
{
	char c = 'h';

	(void)sig;
	if (write(hold_in[1], &c, 1) != 1 || read(hold_out[0], &c, 1) != 1)
		abort();
}

static void fake_hold(struct fake_kernel *fk)
{
	char c;

	if (fk->held++)
		return;
	if (pthread_kill(fk->reader, SIGUSR1) || read(hold_in[0], &c, 1) != 1)
		fake_kernel_fail(fk, "hold the reader");
}

static void fake_release(struct fake_kernel *fk)
{
	if (--fk->held == 0 && write(hold_out[1], "r", 1) != 1)
		fake_kernel_fail(fk, "release the reader");
}

/* netlink_overrun() of the socket under test, its reader held: multicast
 * datagrams as large as its receive buffer (at most 1 MiB: a multicast skb
 * is one kmalloc) until it drops one (the first is taken by an empty
 * queue). */
static void fake_overrun(struct fake_kernel *fk)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_groups = 1u << (FK_GROUP - 1) };
	uint32_t before = agent_drops(fk);
	socklen_t len = sizeof(int);
	struct nlmsghdr *nlh;
	int rcvbuf = 0;

	if (getsockopt(fk->agent_fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) || rcvbuf <= 0) {
		fake_kernel_fail(fk, "SO_RCVBUF");
		return;
	}
	if (rcvbuf > 1 << 20)
		rcvbuf = 1 << 20;
	nlh = calloc(1, (size_t)rcvbuf);
	ck_assert_ptr_nonnull(nlh);
	*nlh = (struct nlmsghdr){ .nlmsg_len = (uint32_t)rcvbuf, .nlmsg_type = NLMSG_NOOP };
	fake_hold(fk);
	/* ECONNREFUSED: sent to unicast peer 0 as well, which does not exist. */
	for (int i = 0; i < 100 && agent_drops(fk) == before; i++)
		if (sendto(fk->fd, nlh, (size_t)rcvbuf, 0, (struct sockaddr *)&to, sizeof(to)) < 0 &&
		    errno != ECONNREFUSED)
			fake_kernel_fail(fk, "multicast");
	fake_release(fk);
	free(nlh);
	if (agent_drops(fk) == before && !fk->fail[0])
		snprintf(fk->fail, sizeof(fk->fail), "no overrun after 100 multicasts");
}

/* netlink_unicast(..., MSG_DONTWAIT) from the kernel: what does not fit is
 * dropped and the socket marked overrun. */
static void fake_unicast(struct fake_kernel *fk, const void *buf, size_t len,
			 const struct sockaddr_nl *to)
{
	if (sendto(fk->fd, buf, len, MSG_DONTWAIT, (const struct sockaddr *)to, sizeof(*to)) == 0 ||
	    errno != EAGAIN) {
		return;
	}
	fk->drops++;
	fake_overrun(fk);
}

/* netlink_ack(): an NLMSG_ERROR with error (0: the ACK) for request seq. */
static void fake_ack(struct fake_kernel *fk, const struct nlmsghdr *req, uint32_t seq, int error,
		     const struct sockaddr_nl *to)
{
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} ack;

	ack.h = (struct nlmsghdr){ .nlmsg_len = sizeof(ack), .nlmsg_type = NLMSG_ERROR,
				   .nlmsg_seq = seq, .nlmsg_pid = to->nl_pid };
	ack.e = (struct nlmsgerr){ .error = error, .msg = *req };
	ack.e.msg.nlmsg_seq = seq;
	fake_unicast(fk, &ack, sizeof(ack), to);
}

/* The kernel's whole answer to req under sequence number seq. */
static void fake_answer(struct fake_kernel *fk, const struct nlmsghdr *req, uint32_t seq,
			bool stale, const struct sockaddr_nl *to)
{
	struct nl_msg *msg;

	if (req->nlmsg_type == RTM_SETLINK) {
		if (fk->setlink_err || (req->nlmsg_flags & NLM_F_ACK))
			fake_ack(fk, req, seq, stale ? 0 : fk->setlink_err, to);
		return;
	}
	msg = big_answer_of(fk, seq, stale);
	if (!stale)
		fk->answer_len = nlmsg_hdr(msg)->nlmsg_len;
	fake_unicast(fk, nlmsg_hdr(msg), nlmsg_hdr(msg)->nlmsg_len, to);
	nlmsg_free(msg);
	if (req->nlmsg_flags & NLM_F_ACK)
		fake_ack(fk, req, seq, 0, to);
}

static void fake_serve(struct fake_kernel *fk, const struct nlmsghdr *req,
		       const struct sockaddr_nl *from)
{
	enum fk_act act = fk->requests < fk->n_script ? fk->script[fk->requests] : FK_ANSWER;
	struct nlattr *tb[IFLA_MAX + 1];

	fk->requests++;
	if (req->nlmsg_type == RTM_GETLINK &&
	    nlmsg_parse((struct nlmsghdr *)req, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL) == 0 &&
	    tb[IFLA_EXT_MASK])
		fk->ext_mask = nla_get_u32(tb[IFLA_EXT_MASK]);
	if (fk->late) {
		fake_answer(fk, req, fk->late_seq, true, from);
		fk->late = false;
	}
	switch (act) {
	case FK_SILENT:
		break;
	case FK_LATE:
		fk->late = true;
		fk->late_seq = req->nlmsg_seq;
		break;
	case FK_STALE:
		fake_answer(fk, req, req->nlmsg_seq - 1, true, from);
		fake_answer(fk, req, req->nlmsg_seq, false, from);
		break;
	case FK_OVERRUN:
		fake_hold(fk);
		fake_overrun(fk);
		fake_answer(fk, req, req->nlmsg_seq, false, from);
		fake_release(fk);
		break;
	case FK_NOBUFS:
		fake_ack(fk, req, req->nlmsg_seq, -ENOBUFS, from);
		break;
	case FK_ANSWER:
		fake_answer(fk, req, req->nlmsg_seq, false, from);
		break;
	}
}

/* Serve requests until the test says stop (60 s at most). */
static void *fake_kernel_run(void *arg)
{
	struct fake_kernel *fk = arg;
	struct pollfd p[2] = { { .fd = fk->fd, .events = POLLIN },
			       { .fd = fk->stop[0], .events = POLLIN } };
	static uint8_t req[64 * 1024];
	struct sockaddr_nl from;
	socklen_t fromlen;
	ssize_t n;

	while (poll(p, 2, 60000) > 0 && !p[1].revents) {
		fromlen = sizeof(from);
		n = recvfrom(fk->fd, req, sizeof(req), MSG_DONTWAIT, (struct sockaddr *)&from,
			     &fromlen);
		if (n < 0 && errno == EAGAIN)
			continue;
		if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct ifinfomsg)) ||
		    (((struct nlmsghdr *)req)->nlmsg_type != RTM_GETLINK &&
		     ((struct nlmsghdr *)req)->nlmsg_type != RTM_SETLINK)) {
			fake_kernel_fail(fk, "no RTM_GETLINK or RTM_SETLINK");
			break;
		}
		fake_serve(fk, (struct nlmsghdr *)req, &from);
	}
	return NULL;
}

/* The fake kernel's socket and its thread, and nl opened to it, a member of
 * its multicast group (which takes CAP_NET_ADMIN on NETLINK_USERSOCK: as
 * root, else in a user namespace of our own). */
static void fake_kernel_start(struct fake_kernel *fk, struct sr_nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(sa);
	int size = 16 << 20, grp = FK_GROUP;

	if (geteuid() != 0)
		ck_assert_msg(unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0,
			      "the fake kernel takes root or a user namespace: %s", strerror(errno));
	fk->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK);
	ck_assert_msg(fk->fd >= 0, "NETLINK_USERSOCK: %s", strerror(errno));
	/* Room to send an answer of MANY_VFS VFs in one datagram. */
	if (setsockopt(fk->fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		ck_assert_int_eq(setsockopt(fk->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size)), 0);
	ck_assert_int_eq(bind(fk->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(getsockname(fk->fd, (struct sockaddr *)&sa, &len), 0);
	fk->port = sa.nl_pid;
	ck_assert_int_eq(pipe(fk->stop), 0);
	if (hold_in[0] < 0) {
		struct sigaction sa_hold = { .sa_handler = hold_reader };

		ck_assert_int_eq(pipe(hold_in), 0);
		ck_assert_int_eq(pipe(hold_out), 0);
		ck_assert_int_eq(sigaction(SIGUSR1, &sa_hold, NULL), 0);
	}
	fk->reader = pthread_self();

	ck_assert_int_eq(sr_nl_open_peer(nl, NETLINK_USERSOCK, fk->port), 0);
	fk->agent_fd = sr_nl_fd(nl);
	ck_assert_int_ge(fk->agent_fd, 0);
	ck_assert_msg(setsockopt(fk->agent_fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
				 sizeof(grp)) == 0,
		      "join group %d: %s", grp, strerror(errno));
	ck_assert_int_eq(pthread_create(&fk->thread, NULL, fake_kernel_run, fk), 0);
}

static void fake_kernel_stop(struct fake_kernel *fk, struct sr_nl *nl)
{
	ck_assert_int_eq(write(fk->stop[1], "x", 1), 1);
	pthread_join(fk->thread, NULL);
	sr_nl_close(nl);
	close(fk->fd);
	close(fk->stop[0]);
	close(fk->stop[1]);
	ck_assert_msg(!fk->fail[0], "fake kernel: %s", fk->fail);
}

/* Every VF of the answer read back, none from a stale one. */
static void check_big_vfs(const struct sr_vf_settings *vfs, size_t n, uint32_t want)
{
	ck_assert_uint_eq(n, want);
	for (uint32_t i = 0; i < want; i++) {
		struct kvf k;

		big_vf(i, &k);
		ck_assert_msg(vfs[i].has_mac && !memcmp(vfs[i].mac, k.mac, 6), "VF %u MAC", i);
		ck_assert_int_eq(vfs[i].vlan, (int)k.vlan);
		ck_assert_int_eq(vfs[i].qos, (int)k.qos);
		ck_assert_int_eq(vfs[i].spoofchk, (int)k.spoofchk);
		ck_assert_int_eq(vfs[i].trust, (int)k.trust);
		ck_assert_int_eq(vfs[i].link_state, (int)k.link_state);
		ck_assert_int_eq(vfs[i].max_tx_rate, (int64_t)k.max_rate);
	}
}

/* Answers over 64 KiB, and of MANY_VFS VFs (800 KB), larger than the
 * socket's default buffer: read whole, no answer dropped. */
START_TEST(test_read_large)
{
	struct fake_kernel fk = { .kind = (enum big_kind)_i };
	struct sr_vf_settings *vfs = NULL;
	struct sr_err err = { "" };
	bool truncated = true;
	struct sr_nl nl;
	size_t n = 0;
	int rc;

	fake_kernel_start(&fk, &nl);
	rc = sr_nl_read_vfs(&nl, PF_IFINDEX, &vfs, &n, &truncated, &err);
	fake_kernel_stop(&fk, &nl);

	ck_assert_msg(rc == 0, "sr_nl_read_vfs: %d %s", rc, err.msg);
	ck_assert_msg(fk.answer_len > (fk.kind == BIG_MANY ? 512 : 64) * 1024, "answer of %zu bytes",
		      fk.answer_len);
	if (fk.kind == BIG_WRAPPED)
		ck_assert_msg(fk.list_nla_len < 32 * 1024, "list nla_len %u did not wrap",
			      fk.list_nla_len);
	ck_assert_uint_eq(fk.ext_mask, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS);
	ck_assert_uint_eq(fk.requests, 1);
	ck_assert_uint_eq(fk.drops, 0);
	ck_assert(!truncated);
	check_big_vfs(vfs, n, fk_n_vfs(&fk));
	free(vfs);
}
END_TEST

/* The socket asks the kernel for a receive buffer of SR_NL_RCVBUF (the
 * kernel doubles it; as root past rmem_max) and never blocks. */
START_TEST(test_open_socket)
{
	struct sr_nl nl;
	socklen_t len = sizeof(int);
	int rcvbuf = 0;

	ck_assert_int_eq(sr_nl_open_peer(&nl, NETLINK_USERSOCK, 0), 0);
	ck_assert_int_ge(sr_nl_fd(&nl), 0);
	ck_assert(fcntl(sr_nl_fd(&nl), F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(getsockopt(sr_nl_fd(&nl), SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len), 0);
	if (geteuid() == 0)
		ck_assert_int_ge(rcvbuf, 2 * SR_NL_RCVBUF);
	sr_nl_close(&nl);
	ck_assert_int_eq(sr_nl_fd(&nl), -1);
}
END_TEST

/* A kernel that never answers: each request fails at its deadline with a
 * message naming the PF, no write is retried one attribute at a time, and
 * the socket serves the next request. */
START_TEST(test_no_answer)
{
	static const enum fk_act script[] = { FK_SILENT, FK_SILENT, FK_SILENT };
	struct fake_kernel fk = { .script = script, .n_script = ARRAY_LEN(script) };
	struct sr_vf_settings *vfs = NULL;
	struct sr_err err = { "" };
	int result[SR_ATTR__COUNT];
	bool truncated = true, was_down = false;
	struct sr_nl nl;
	size_t n = 0;
	int rc;

	fake_kernel_start(&fk, &nl);
	sr_nl_set_timeout(&nl, 100); /* nothing is ever answered in time */
	rc = sr_nl_read_vfs(&nl, PF_IFINDEX, &vfs, &n, &truncated, &err);
	ck_assert_int_eq(rc, -ETIMEDOUT);
	ck_assert_msg(strstr(err.msg, "RTM_GETLINK ifindex 7: no answer within 100 ms"), "%s",
		      err.msg);
	ck_assert(sr_nl_no_answer(rc));

	rc = sr_nl_apply_vf(&nl, PF_IFINDEX, VF, &all_set, result, &err);
	ck_assert_int_eq(rc, -ETIMEDOUT);
	for (int a = 0; a < SR_ATTR__COUNT; a++)
		ck_assert_int_eq(result[a], -ETIMEDOUT);
	ck_assert_msg(strstr(err.msg, "ifindex 7 VF 3: no answer"), "%s", err.msg);

	ck_assert_int_eq(sr_nl_link_up(&nl, PF_IFINDEX, &was_down, &err), -ETIMEDOUT);
	ck_assert_uint_eq(fk.requests, 3);

	/* The fourth is answered (a deadline for a loaded machine). */
	sr_nl_set_timeout(&nl, 60000);
	rc = sr_nl_read_vfs(&nl, PF_IFINDEX, &vfs, &n, &truncated, &err);
	fake_kernel_stop(&fk, &nl);
	ck_assert_msg(rc == 0, "sr_nl_read_vfs: %d %s", rc, err.msg);
	check_big_vfs(vfs, n, BIG_VFS);
	free(vfs);
}
END_TEST

/* The request with every attribute refused, the first one-attribute request
 * unanswered: the others are not sent (each would wait as long). */
START_TEST(test_no_answer_per_attr)
{
	static const enum fk_act script[] = { FK_ANSWER, FK_SILENT };
	struct fake_kernel fk = { .script = script, .n_script = 2, .setlink_err = -EOPNOTSUPP };
	struct sr_err err = { "" };
	int result[SR_ATTR__COUNT];
	struct sr_nl nl;
	int rc;

	fake_kernel_start(&fk, &nl);
	sr_nl_set_timeout(&nl, 300);
	rc = sr_nl_apply_vf(&nl, PF_IFINDEX, VF, &all_set, result, &err);
	fake_kernel_stop(&fk, &nl);
	ck_assert_int_eq(rc, -ETIMEDOUT);
	ck_assert_msg(strstr(err.msg, "ifindex 7 VF 3 mac: no answer"), "%s", err.msg);
	ck_assert_int_eq(result[SR_ATTR_MAC], -ETIMEDOUT);
	for (int a = SR_ATTR_MAC + 1; a < SR_ATTR__COUNT; a++)
		ck_assert_int_eq(result[a], SR_ATTR_NOT_TRIED);
	ck_assert_uint_eq(fk.requests, 2);
}
END_TEST

/* Answers to an earlier request are never taken for the current one: one
 * that comes after its request timed out, one that comes first with the
 * previous sequence number. */
START_TEST(test_late_answer)
{
	static const enum fk_act late[] = { FK_LATE, FK_ANSWER };
	static const enum fk_act stale[] = { FK_STALE };
	struct fake_kernel fk = { .script = _i ? stale : late, .n_script = _i ? 1 : 2 };
	struct sr_vf_settings *vfs = NULL;
	struct sr_err err = { "" };
	bool truncated = true;
	struct sr_nl nl;
	size_t n = 0;
	int rc;

	fake_kernel_start(&fk, &nl);
	sr_nl_set_timeout(&nl, 300);
	if (!_i)
		ck_assert_int_eq(sr_nl_read_vfs(&nl, PF_IFINDEX, &vfs, &n, &truncated, &err),
				 -ETIMEDOUT);
	sr_nl_set_timeout(&nl, 60000);
	rc = sr_nl_read_vfs(&nl, PF_IFINDEX, &vfs, &n, &truncated, &err);
	fake_kernel_stop(&fk, &nl);
	ck_assert_msg(rc == 0, "sr_nl_read_vfs: %d %s", rc, err.msg);
	check_big_vfs(vfs, n, BIG_VFS); /* no VLAN 4000 */
	free(vfs);
}
END_TEST

/* The same for a write: an ACK with the previous sequence number is not the
 * answer; the driver's refusal behind it is. */
START_TEST(test_late_ack)
{
	static const enum fk_act script[] = { FK_STALE };
	struct fake_kernel fk = { .script = script, .n_script = 1, .setlink_err = -EOPNOTSUPP };
	struct sr_vf_settings s = SETTINGS(.trust = 1);
	int result[SR_ATTR__COUNT];
	struct sr_nl nl;
	int rc;

	fake_kernel_start(&fk, &nl);
	sr_nl_set_timeout(&nl, 60000);
	rc = sr_nl_apply_vf(&nl, PF_IFINDEX, VF, &s, result, NULL);
	fake_kernel_stop(&fk, &nl);
	ck_assert_int_eq(rc, -EOPNOTSUPP);
	ck_assert_int_eq(result[SR_ATTR_TRUST], -EOPNOTSUPP);
	ck_assert_uint_eq(fk.requests, 1);
}
END_TEST

/* ENOBUFS, from an overrun socket or from a kernel that could not allocate
 * the answer: drained, asked once more; twice is an error that says so. */
static const struct overrun_case {
	enum fk_act first, second;
	int rc;
	const char *msg;
} overrun_cases[] = {
	{ FK_OVERRUN, FK_ANSWER, 0, "" },
	{ FK_OVERRUN, FK_OVERRUN, -ENOBUFS,
	  "RTM_GETLINK ifindex 7: the socket overran (ENOBUFS: the kernel dropped the answer), twice" },
	{ FK_NOBUFS, FK_ANSWER, 0, "" },
	{ FK_NOBUFS, FK_NOBUFS, -ENOBUFS,
	  "RTM_GETLINK ifindex 7: the kernel cannot build the answer: No buffer space available, twice" },
};

START_TEST(test_overrun)
{
	const struct overrun_case *c = &overrun_cases[_i];
	enum fk_act script[2] = { c->first, c->second };
	struct fake_kernel fk = { .script = script, .n_script = 2 };
	struct sr_vf_settings *vfs = NULL;
	struct sr_err err = { "" };
	bool truncated = true;
	struct sr_nl nl;
	size_t n = 0;
	int rc;

	fake_kernel_start(&fk, &nl);
	sr_nl_set_timeout(&nl, 60000);
	/* The smallest buffer (SOCK_MIN_RCVBUF): two datagrams overrun it. */
	ck_assert_int_eq(setsockopt(sr_nl_fd(&nl), SOL_SOCKET, SO_RCVBUF, &(int){ 1 },
				    sizeof(int)), 0);
	rc = sr_nl_read_vfs(&nl, PF_IFINDEX, &vfs, &n, &truncated, &err);
	fake_kernel_stop(&fk, &nl);
	ck_assert_msg(rc == c->rc, "case %d: %d %s", _i, rc, err.msg);
	ck_assert_uint_eq(fk.requests, 2);
	if (c->first == FK_OVERRUN)
		ck_assert_uint_ge(fk.drops, 1); /* the answer to the first */
	if (rc) {
		ck_assert_msg(strstr(err.msg, c->msg), "case %d: %s", _i, err.msg);
		ck_assert(sr_nl_no_answer(rc));
		ck_assert_ptr_null(vfs);
		return;
	}
	check_big_vfs(vfs, n, BIG_VFS);
	free(vfs);
}
END_TEST

/* The wrapped list alone, no socket: every VF is read. */
START_TEST(test_parse_wrapped_list)
{
	struct fake_kernel fk = { .kind = BIG_WRAPPED };
	struct nl_msg *msg = big_answer(&fk, 1);
	struct sr_vf_settings *vfs = NULL;
	bool truncated = true;
	size_t n = 0;

	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, NULL), 0);
	ck_assert_uint_eq(n, BIG_VFS);
	ck_assert(!truncated);
	ck_assert_int_eq(vfs[BIG_VFS - 1].vlan, BIG_VFS);
	free(vfs);

	/* A list whose declared length is not the true one modulo 64 KiB is
	 * read only as far as it says: the VFs past it are reported missing. */
	nla_find(nlmsg_attrdata(nlmsg_hdr(msg), sizeof(struct ifinfomsg)),
		 nlmsg_attrlen(nlmsg_hdr(msg), sizeof(struct ifinfomsg)), IFLA_VFINFO_LIST)
		->nla_len -= 296;
	ck_assert_int_eq(sr_nl_parse_vfs(nlmsg_hdr(msg), &vfs, &n, &truncated, NULL), 0);
	ck_assert_uint_eq(n, BIG_VFS);
	ck_assert(truncated);
	free(vfs);
	nlmsg_free(msg);
}
END_TEST

/* ---- real kernel, private network namespace ----------------------------- */

static bool enter_netns(void)
{
	if (unshare(CLONE_NEWNET) == 0)
		return true;
	fprintf(stderr, "test_netlink: unshare(CLONE_NEWNET): %s; kernel test skipped\n",
		strerror(errno));
	return false;
}

START_TEST(test_kernel_loopback)
{
	struct sr_nl nl;
	struct sr_vf_settings *vfs = NULL;
	struct sr_err err = { "" };
	int result[SR_ATTR__COUNT];
	bool truncated = true, was_down = false;
	size_t n = 99;
	int lo = 0, idx = 0;

	if (!enter_netns())
		return;
	ck_assert_int_eq(sr_nl_open(&nl), 0);
	ck_assert_ptr_nonnull(nl.sock);

	ck_assert_int_eq(sr_nl_ifindex(&nl, "lo", &lo, NULL), 0);
	ck_assert_int_gt(lo, 0);
	ck_assert_int_eq(sr_nl_ifindex(&nl, "nosuchdev0", &idx, NULL), -ENODEV);
	ck_assert_int_eq(idx, 0);
	ck_assert_int_eq(sr_nl_ifindex(&nl, "a-name-longer-than-15", &idx, NULL), -EINVAL);

	/* lo has no PCI parent: no IFLA_NUM_VF. */
	ck_assert_int_eq(sr_nl_read_vfs(&nl, lo, &vfs, &n, &truncated, &err), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(vfs);
	ck_assert(!truncated);

	/* The kernel's errno comes back, not a libnl code. */
	ck_assert_int_eq(sr_nl_read_vfs(&nl, 999999, &vfs, &n, &truncated, &err), -ENODEV);
	ck_assert_msg(strstr(err.msg, "999999"), "err: %s", err.msg);

	/* lo starts down in a new namespace. */
	ck_assert_int_eq(sr_nl_link_up(&nl, lo, &was_down, NULL), 0);
	ck_assert(was_down);
	ck_assert_int_eq(sr_nl_link_up(&nl, lo, &was_down, NULL), 0);
	ck_assert(!was_down);
	ck_assert_int_eq(sr_nl_link_up(&nl, 999999, &was_down, NULL), -ENODEV);

	/* lo has no VF ops: every attribute is refused on its own. */
	ck_assert_int_eq(sr_nl_apply_vf(&nl, lo, 0, &all_set, result, NULL), -EOPNOTSUPP);
	for (int a = 0; a < SR_ATTR__COUNT; a++)
		ck_assert_msg(result[a] == -EOPNOTSUPP, "%s: %d", sr_vf_attr_name(a), result[a]);
	ck_assert_int_eq(sr_nl_apply_vf(&nl, 999999, 0, &all_set, result, NULL), -ENODEV);

	sr_nl_close(&nl);
	ck_assert_ptr_null(nl.sock);
	sr_nl_close(&nl); /* twice is harmless */
}
END_TEST

START_TEST(test_no_socket)
{
	struct sr_nl nl = { .sock = NULL, .send = fake_send };
	struct sr_vf_settings *vfs = NULL;
	struct sr_err err = { "" };
	bool truncated, was_down;
	size_t n;

	ck_assert_int_eq(sr_nl_read_vfs(&nl, 1, &vfs, &n, &truncated, &err), -ENOTCONN);
	ck_assert_int_eq(sr_nl_link_up(&nl, 1, &was_down, NULL), -ENOTCONN);
}
END_TEST

/* ---- devlink: the family lookup and the one deadline ------------------ */

/* A peer standing in for the kernel on one end of a socketpair: answers the
 * family lookup with fam_err (0: family id 20), the eswitch get with mode;
 * noise: no answer, a message of another sequence every 50 ms instead,
 * until stop (or 30 s). */
struct dl_peer {
	int fd;
	int fam_err;
	uint16_t mode;
	bool noise;
	volatile bool stop;
	volatile bool ran_out;      /* noise: the 30 s passed */
};

static void dl_reply(int fd, const struct nlmsghdr *req, int error, uint16_t attr, uint16_t val)
{
	char buf[256] = { 0 };
	struct nlmsghdr *n = (struct nlmsghdr *)buf;

	n->nlmsg_seq = req->nlmsg_seq;
	if (error) {
		struct nlmsgerr *e = NLMSG_DATA(n);

		n->nlmsg_type = NLMSG_ERROR;
		n->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
		e->error = error;
		e->msg = *req;
	} else {
		struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(n) + GENL_HDRLEN);

		n->nlmsg_type = req->nlmsg_type;
		a->nla_type = attr;
		a->nla_len = NLA_HDRLEN + sizeof(val);
		memcpy((char *)a + NLA_HDRLEN, &val, sizeof(val));
		n->nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN) + NLA_ALIGN(a->nla_len);
	}
	ck_assert_int_eq(send(fd, buf, n->nlmsg_len, 0), (ssize_t)n->nlmsg_len);
}

static void *dl_peer_main(void *arg)
{
	struct dl_peer *p = arg;
	char buf[1024];
	const struct nlmsghdr *req = (const struct nlmsghdr *)buf;

	while (recv(p->fd, buf, sizeof(buf), 0) > 0) {
		if (p->noise) {
			struct nlmsghdr other = *req;

			other.nlmsg_seq += 100;
			for (int i = 0; i < 600 && !p->stop; i++) {
				dl_reply(p->fd, &other, -EPERM, 0, 0);
				usleep(50000);
			}
			p->ran_out = !p->stop;
			return NULL;
		}
		if (req->nlmsg_type == GENL_ID_CTRL)
			dl_reply(p->fd, req, p->fam_err, CTRL_ATTR_FAMILY_ID, 20);
		else
			dl_reply(p->fd, req, 0, DEVLINK_ATTR_ESWITCH_MODE, p->mode);
	}
	return NULL;
}

static int dl_ask(struct dl_peer *p, unsigned timeout_ms, char mode[SR_ESWITCH_MODE_LEN],
		  struct sr_err *err)
{
	int sv[2];
	pthread_t t;
	int rc;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	p->fd = sv[1];
	ck_assert_int_eq(pthread_create(&t, NULL, dl_peer_main, p), 0);
	rc = sr_devlink_eswitch_mode_on(sv[0], "0000:03:00.0", timeout_ms, mode, err);
	p->stop = true;
	shutdown(sv[0], SHUT_RDWR);
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	return rc;
}

START_TEST(test_devlink_mode)
{
	struct dl_peer p = { .mode = DEVLINK_ESWITCH_MODE_SWITCHDEV };
	struct sr_err err = { "" };
	char mode[SR_ESWITCH_MODE_LEN] = "";

	ck_assert_msg(dl_ask(&p, 60000, mode, &err) == 0, "%s", err.msg);
	ck_assert_str_eq(mode, "switchdev");
}
END_TEST

/* Only "family not found" (ctrl_getfamily's -ENOENT) means no devlink; any
 * other failure is itself, with its text. */
START_TEST(test_devlink_family_errors)
{
	struct dl_peer p = { .fam_err = -ENOENT };
	struct sr_err err = { "" };
	char mode[SR_ESWITCH_MODE_LEN];

	ck_assert_int_eq(dl_ask(&p, 60000, mode, &err), -ENOENT);
	ck_assert_msg(strstr(err.msg, "no devlink family"), "%s", err.msg);

	p = (struct dl_peer){ .fam_err = -EPERM };
	ck_assert_int_eq(dl_ask(&p, 60000, mode, &err), -EPERM);
	ck_assert_msg(!strstr(err.msg, "no devlink") && strstr(err.msg, strerror(EPERM)) &&
			      strstr(err.msg, "\"devlink\""),
		      "%s", err.msg);
}
END_TEST

/* Messages that are not the answer arrive every 50 ms: the wait still ends
 * at the request's deadline (250 ms: five of them), not a deadline after
 * the last of them. */
START_TEST(test_devlink_one_deadline)
{
	struct dl_peer p = { .noise = true };
	struct sr_err err = { "" };
	char mode[SR_ESWITCH_MODE_LEN];

	ck_assert_int_eq(dl_ask(&p, 250, mode, &err), -ETIMEDOUT);
	ck_assert_msg(!p.ran_out, "the wait outlasted 30 s of other messages");
	ck_assert_msg(strstr(err.msg, "no answer"), "%s", err.msg);
}
END_TEST

static Suite *netlink_suite(void)
{
	Suite *s = suite_create("netlink");
	TCase *tc;

	tc = tcase_create("build");
	tcase_add_loop_test(tc, test_build_roundtrip, 0, ARRAY_LEN(build_cases));
	tcase_add_loop_test(tc, test_build_unset_enodata, 0, SR_ATTR__COUNT);
	tcase_add_loop_test(tc, test_build_unencodable, 0, ARRAY_LEN(bad_cases));
	tcase_add_test(tc, test_build_link_up);
	suite_add_tcase(s, tc);

	tc = tcase_create("apply");
	tcase_add_loop_test(tc, test_apply_one_refused, 0,
			    ARRAY_LEN(refusals) * SR_ATTR__COUNT);
	tcase_add_loop_test(tc, test_apply_one_message, 0, 2);
	tcase_add_loop_test(tc, test_apply_table, 0, ARRAY_LEN(apply_cases));
	tcase_add_test(tc, test_apply_count_per_vf);
	tcase_add_test(tc, test_put_vf_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, test_parse_three);
	tcase_add_test(tc, test_parse_truncated);
	tcase_add_test(tc, test_parse_missing_subattrs);
	tcase_add_test(tc, test_parse_short_attrs);
	tcase_add_test(tc, test_parse_no_sriov);
	tcase_add_test(tc, test_parse_num_without_list);
	tcase_add_test(tc, test_parse_index_out_of_range);
	tcase_add_test(tc, test_parse_wrong_type);
	tcase_add_test(tc, test_parse_roundtrip_builder_values);
	suite_add_tcase(s, tc);

	tc = tcase_create("socket");
	tcase_add_test(tc, test_open_socket);
	tcase_add_loop_test(tc, test_read_large, BIG_WRAPPED, BIG_MANY + 1);
	tcase_add_test(tc, test_parse_wrapped_list);
	tcase_add_test(tc, test_no_answer);
	tcase_add_test(tc, test_no_answer_per_attr);
	tcase_add_loop_test(tc, test_late_answer, 0, 2);
	tcase_add_test(tc, test_late_ack);
	tcase_add_loop_test(tc, test_overrun, 0, ARRAY_LEN(overrun_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("devlink");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_devlink_mode);
	tcase_add_test(tc, test_devlink_family_errors);
	tcase_add_test(tc, test_devlink_one_deadline);
	suite_add_tcase(s, tc);

	tc = tcase_create("kernel");
	tcase_add_test(tc, test_no_socket);
	tcase_add_test(tc, test_kernel_loopback);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return sr_check_run(netlink_suite());
}
