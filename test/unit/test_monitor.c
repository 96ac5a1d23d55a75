/* SPDX-License-Identifier: MIT */
/*
 * The kernel event monitor (lib/kernel/monitor.c): its pure half driven with
 * crafted messages and no socket (which rtnetlink link notifications and
 * uevents concern a watched PF or VF, the debounce of a burst, and what the
 * events that queue during the agent's own apply mean), and the link socket
 * on the real kernel in a private network namespace.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <string.h>

#include "monitor.h"

#define PF "0000:01:00.0"
#define VF0 "0000:01:10.0"
#define OTHER "0000:02:00.0"

/* The watch set of one PF (eth0 at PF) with VF0 (and its sibling .2). */
static void watch_pf(struct sr_mon_watch *w)
{
	sr_mon_watch_init(w);
	ck_assert_int_eq(sr_mon_watch_add_pci(w, VF0), 0);
	ck_assert_int_eq(sr_mon_watch_add_pci(w, PF), 0);
	ck_assert_int_eq(sr_mon_watch_add_pci(w, "0000:01:10.2"), 0);
	ck_assert_int_eq(sr_mon_watch_add_pci(w, PF), 0);          /* twice */
	ck_assert_int_eq(sr_mon_watch_add_pci(w, "../../etc"), 0);  /* skipped */
	ck_assert_int_eq(sr_mon_watch_add_ifname(w, "eth0"), 0);
	ck_assert_int_eq(sr_mon_watch_add_ifname(w, ""), 0);        /* skipped */
	sr_mon_watch_seal(w);
}

START_TEST(test_watch)
{
	struct sr_mon_watch w;

	watch_pf(&w);
	ck_assert_uint_eq(w.n_pci, 3);
	ck_assert_uint_eq(w.n_ifname, 1);
	ck_assert(sr_mon_watch_has_pci(&w, PF));
	ck_assert(sr_mon_watch_has_pci(&w, VF0));
	ck_assert(!sr_mon_watch_has_pci(&w, OTHER));
	ck_assert(sr_mon_watch_has_ifname(&w, "eth0"));
	ck_assert(!sr_mon_watch_has_ifname(&w, "eth1"));
	sr_mon_watch_clear(&w);
	ck_assert(!sr_mon_watch_has_pci(&w, PF));
	sr_mon_watch_free(&w);
	ck_assert(!sr_mon_watch_has_ifname(&w, "eth0")); /* empty after free */
}
END_TEST

/* Append one link message (type, ifindex, IFLA_IFNAME name of name_len
 * bytes, NUL included; NULL: none) to buf at *off. */
static void put_link(uint8_t *buf, size_t *off, uint16_t type, int ifindex, const char *name,
		     size_t name_len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)(buf + *off);
	struct ifinfomsg *ifi;
	size_t len = NLMSG_LENGTH(sizeof(*ifi));

	memset(nlh, 0, NLMSG_SPACE(sizeof(*ifi)) + RTA_SPACE(IF_NAMESIZE + 8));
	nlh->nlmsg_type = type;
	ifi = NLMSG_DATA(nlh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	if (name) {
		struct rtattr *rta = (struct rtattr *)((uint8_t *)nlh + NLMSG_ALIGN(len));

		rta->rta_type = IFLA_MTU; /* an attribute before the name */
		rta->rta_len = RTA_LENGTH(4);
		len = NLMSG_ALIGN(len) + RTA_ALIGN(rta->rta_len);
		rta = (struct rtattr *)((uint8_t *)nlh + len);
		rta->rta_type = IFLA_IFNAME;
		rta->rta_len = RTA_LENGTH(name_len);
		memcpy(RTA_DATA(rta), name, name_len);
		len += rta->rta_len;
	}
	nlh->nlmsg_len = len;
	*off += NLMSG_ALIGN(len);
}

static const struct {
	const char *what;
	uint16_t type;
	const char *name;     /* NULL: no IFLA_IFNAME */
	size_t name_len;      /* 0: strlen + 1 */
	size_t seen, ours;
} links[] = {
	{ "RTM_NEWLINK of the PF (a VF setting changed)", RTM_NEWLINK, "eth0", 0, 1, 1 },
	{ "RTM_DELLINK of the PF (driver unloaded)", RTM_DELLINK, "eth0", 0, 1, 1 },
	{ "another netdev", RTM_NEWLINK, "eth1", 0, 1, 0 },
	{ "no IFLA_IFNAME", RTM_NEWLINK, NULL, 0, 1, 0 },
	{ "a name without its NUL", RTM_NEWLINK, "eth0", 4, 1, 0 },
	{ "a name longer than IFNAMSIZ", RTM_NEWLINK, "eth0\0xxxxxxxxxxxxxxxxxx", 20, 1, 0 },
	{ "not a link message", RTM_NEWADDR, "eth0", 0, 0, 0 },
};

START_TEST(test_parse_link)
{
	uint8_t buf[512] __attribute__((aligned(8)));
	struct sr_mon_watch w;
	struct sr_mon_event first;
	size_t off = 0, ours = 9, others = 9, seen;
	size_t nl = links[_i].name_len ? links[_i].name_len
				       : (links[_i].name ? strlen(links[_i].name) + 1 : 0);

	watch_pf(&w);
	put_link(buf, &off, links[_i].type, 3, links[_i].name, nl);
	seen = sr_mon_parse_link(buf, off, &w, NULL, &ours, &others, &first);
	ck_assert_msg(seen == links[_i].seen && ours == links[_i].ours,
		      "%s: seen %zu ours %zu", links[_i].what, seen, ours);
	ck_assert_uint_eq(others, links[_i].seen - links[_i].ours);
	ck_assert(first.ours == (links[_i].ours > 0));
	if (first.ours)
		ck_assert_msg(strstr(first.desc, "eth0"), "%s", first.desc);
	sr_mon_watch_free(&w);
}
END_TEST

/* Several messages in one buffer; a truncated last one is not read. */
START_TEST(test_parse_link_batch)
{
	uint8_t buf[1024] __attribute__((aligned(8)));
	struct sr_mon_watch w;
	struct sr_mon_event first;
	size_t off = 0, ours, others, seen;

	watch_pf(&w);
	put_link(buf, &off, RTM_NEWLINK, 4, "eth1", 5);
	put_link(buf, &off, RTM_NEWLINK, 3, "eth0", 5);
	put_link(buf, &off, RTM_DELLINK, 3, "eth0", 5);
	seen = sr_mon_parse_link(buf, off, &w, NULL, &ours, &others, &first);
	ck_assert_uint_eq(seen, 3);
	ck_assert_uint_eq(ours, 2);
	ck_assert_uint_eq(others, 1);
	ck_assert_str_eq(first.desc, "RTM_NEWLINK eth0");
	/* The last message cut short: only the first two are whole. */
	seen = sr_mon_parse_link(buf, off - 4, &w, NULL, &ours, &others, &first);
	ck_assert_uint_eq(seen, 2);
	ck_assert_uint_eq(ours, 1);
	/* A length field that claims more than the buffer holds. */
	((struct nlmsghdr *)buf)->nlmsg_len = 4096;
	seen = sr_mon_parse_link(buf, off, &w, NULL, &ours, &others, &first);
	ck_assert_uint_eq(seen, 0);
	ck_assert_uint_eq(ours, 0);
	ck_assert(!first.ours);
	sr_mon_watch_free(&w);
}
END_TEST

/* One RTM_NEWLINK of eth0 with these flags, IFLA_OPERSTATE and
 * IFLA_CARRIER, as the kernel sends them (ifi_change 0) for a VF setting
 * and for a carrier change alike. */
static size_t put_state(uint8_t *buf, uint16_t type, unsigned flags, uint8_t oper, uint8_t carrier)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	size_t len = NLMSG_ALIGN(NLMSG_LENGTH(sizeof(*ifi)));
	const struct {
		uint16_t type;
		const void *v;
		size_t n;
	} attrs[] = { { IFLA_IFNAME, "eth0", 5 }, { IFLA_OPERSTATE, &oper, 1 },
		      { IFLA_CARRIER, &carrier, 1 } };

	memset(buf, 0, 256);
	nlh->nlmsg_type = type;
	ifi->ifi_index = 3;
	ifi->ifi_flags = flags;
	for (size_t i = 0; i < 3; i++) {
		struct rtattr *rta = (struct rtattr *)(buf + len);

		rta->rta_type = attrs[i].type;
		rta->rta_len = RTA_LENGTH(attrs[i].n);
		memcpy(RTA_DATA(rta), attrs[i].v, attrs[i].n);
		len += RTA_ALIGN(rta->rta_len);
	}
	nlh->nlmsg_len = len;
	return len;
}

#define OPER_DOWN 2 /* IF_OPER_DOWN, IF_OPER_UP (RFC 2863, <linux/if.h>) */
#define OPER_UP 6
#define UP IFF_UP | IFF_BROADCAST | IFF_MULTICAST
#define RUN IFF_RUNNING | 0x10000 /* IFF_LOWER_UP */
/* In order, on one table of link states: a notification that changes the
 * link state only is not ours; one that leaves it as it was (a VF setting
 * changed) is. */
static const struct {
	const char *what;
	uint16_t type;
	unsigned flags;
	uint8_t oper, carrier;
	bool ours;
} states[] = {
	{ "first seen (PF up, no carrier yet)", RTM_NEWLINK, UP, OPER_DOWN, 0, true },
	{ "the same state again: a VF setting changed", RTM_NEWLINK, UP, OPER_DOWN, 0, true },
	{ "carrier up", RTM_NEWLINK, UP | RUN, OPER_UP, 1, false },
	{ "a VF setting changed", RTM_NEWLINK, UP | RUN, OPER_UP, 1, true },
	{ "carrier lost", RTM_NEWLINK, UP, OPER_DOWN, 0, false },
	{ "carrier back", RTM_NEWLINK, UP | RUN, OPER_UP, 1, false },
	{ "set down (IFF_UP cleared, carrier with it)", RTM_NEWLINK, IFF_BROADCAST | IFF_MULTICAST,
	  OPER_DOWN, 0, true },
	{ "promiscuous on: not link state", RTM_NEWLINK, IFF_BROADCAST | IFF_MULTICAST | IFF_PROMISC,
	  OPER_DOWN, 0, true },
	{ "removed", RTM_DELLINK, IFF_BROADCAST | IFF_MULTICAST | IFF_PROMISC, OPER_DOWN, 0, true },
};

START_TEST(test_link_state)
{
	uint8_t buf[256] __attribute__((aligned(8)));
	struct sr_mon_links seen = { NULL, 0, 0 };
	struct sr_mon_watch w;

	watch_pf(&w);
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		size_t ours, others,
			n = put_state(buf, states[i].type, states[i].flags, states[i].oper,
				      states[i].carrier);

		sr_mon_parse_link(buf, n, &w, &seen, &ours, &others, NULL);
		ck_assert_msg(ours == states[i].ours, "%s: ours %zu", states[i].what, ours);
		/* Without the table every one is ours. */
		sr_mon_parse_link(buf, n, &w, NULL, &ours, &others, NULL);
		ck_assert_uint_eq(ours, 1);
	}
	ck_assert_uint_eq(seen.n, 1);
	sr_mon_links_free(&seen);
	sr_mon_watch_free(&w);
}
END_TEST

#define UE(s) s, sizeof(s) - 1
#define DEV "/devices/pci0000:00/0000:00:02.0/"
static const struct {
	const char *what;
	const char *buf;
	size_t len;
	bool ours;
	const char *desc;
} uevents[] = {
	{ "PF bound (modprobe igb)",
	  UE("bind@" DEV PF "\0ACTION=bind\0DEVPATH=" DEV PF "\0SUBSYSTEM=pci\0DRIVER=igb\0PCI_SLOT_NAME=" PF "\0SEQNUM=1\0"),
	  true, "pci bind " PF },
	{ "PF unbound (rmmod igb)",
	  UE("unbind@" DEV PF "\0ACTION=unbind\0SUBSYSTEM=pci\0PCI_SLOT_NAME=" PF "\0"), true,
	  "pci unbind " PF },
	{ "sriov_numvfs written (change on the PF)",
	  UE("change@" DEV PF "\0ACTION=change\0SUBSYSTEM=pci\0PCI_SLOT_NAME=" PF "\0"), true,
	  "pci change " PF },
	{ "VF removed", UE("remove@" DEV VF0 "\0ACTION=remove\0SUBSYSTEM=pci\0PCI_SLOT_NAME=" VF0 "\0"),
	  true, "pci remove " VF0 },
	{ "VF added, no PCI_SLOT_NAME: the devpath names it",
	  UE("add@" DEV VF0 "\0ACTION=add\0SUBSYSTEM=pci\0"), true, "pci add " VF0 },
	{ "the PF's netdev added",
	  UE("add@" DEV PF "/net/eth0\0ACTION=add\0SUBSYSTEM=net\0INTERFACE=eth0\0IFINDEX=3\0"), true,
	  "net add eth0 on " PF },
	{ "a VF's netdev removed",
	  UE("remove@" DEV VF0 "/net/eth1\0ACTION=remove\0SUBSYSTEM=net\0INTERFACE=eth1\0"), true,
	  "net remove eth1 on " VF0 },
	{ "a VF's netdev renamed (udev)",
	  UE("move@" DEV VF0 "/net/enp1s16\0ACTION=move\0SUBSYSTEM=net\0INTERFACE=enp1s16\0DEVPATH_OLD=x\0"),
	  true, "net move enp1s16 on " VF0 },
	{ "another device bound",
	  UE("bind@" DEV OTHER "\0ACTION=bind\0SUBSYSTEM=pci\0PCI_SLOT_NAME=" OTHER "\0"), false, "" },
	{ "another device's netdev",
	  UE("add@" DEV OTHER "/net/eth2\0ACTION=add\0SUBSYSTEM=net\0INTERFACE=eth2\0"), false, "" },
	{ "a queue of the PF's netdev (not net)",
	  UE("add@" DEV PF "/net/eth0/queues/rx-0\0ACTION=add\0SUBSYSTEM=queues\0"), false, "" },
	{ "net change (carrier) on the PF: not an add/remove/move",
	  UE("change@" DEV PF "/net/eth0\0ACTION=change\0SUBSYSTEM=net\0INTERFACE=eth0\0"), false, "" },
	{ "udev's re-broadcast",
	  UE("libudev\0\xfe\xed\xca\xfe\0\0\0\0ACTION=bind\0SUBSYSTEM=pci\0PCI_SLOT_NAME=" PF "\0"),
	  false, "" },
	{ "header and ACTION disagree",
	  UE("add@" DEV PF "\0ACTION=bind\0SUBSYSTEM=pci\0PCI_SLOT_NAME=" PF "\0"), false, "" },
	{ "no NUL at all", "bind@/devices/x", 15, false, "" },
	{ "no SUBSYSTEM", UE("bind@" DEV PF "\0ACTION=bind\0PCI_SLOT_NAME=" PF "\0"), false, "" },
	{ "a slot name that is no address",
	  UE("bind@" DEV "x\0ACTION=bind\0SUBSYSTEM=pci\0PCI_SLOT_NAME=" PF "x\0"), false, "" },
	{ "empty", "", 0, false, "" },
	{ "the last value runs to the end of the buffer, no NUL (found by fuzz_monitor)",
	  UE("bind@" DEV OTHER "\0ACTION=bind\0SUBSYSTEM=pci\0PCI_SLOT_NAME=" PF), false, "" },
};

START_TEST(test_parse_uevent)
{
	struct sr_mon_watch w;
	struct sr_mon_event ev;

	watch_pf(&w);
	sr_mon_parse_uevent(uevents[_i].buf, uevents[_i].len, &w, &ev);
	ck_assert_msg(ev.ours == uevents[_i].ours, "%s: ours %d", uevents[_i].what, ev.ours);
	if (ev.ours)
		ck_assert_str_eq(ev.desc, uevents[_i].desc);
	sr_mon_watch_free(&w);
}
END_TEST

/* Events at these times (ms; -1 ends), then the wait asked at now. */
static const struct {
	const char *what;
	int64_t at[6];
	int64_t now, wait;
} debounces[] = {
	{ "nothing pending", { -1 }, 100, -1 },
	{ "one event, quiet not over", { 100, -1 }, 110, 20 },
	{ "one event, quiet over", { 100, -1 }, 130, 0 },
	{ "a burst: the quiet counts from the last", { 100, 110, 120, -1 }, 125, 25 },
	{ "a burst that never pauses: due max after the first", { 0, 20, 40, 480, 495, -1 }, 496, 4 },
	{ "due at max exactly", { 0, 20, 40, 480, 495, -1 }, 500, 0 },
	{ "long overdue", { 100, -1 }, 10000, 0 },
};

START_TEST(test_debounce)
{
	struct sr_debounce d = { .pending = false };

	for (int k = 0; k < 6 && debounces[_i].at[k] >= 0; k++)
		sr_debounce_event(&d, debounces[_i].at[k]);
	ck_assert_msg(sr_debounce_wait(&d, debounces[_i].now, 30, 500) == debounces[_i].wait,
		      "%s: %lld", debounces[_i].what,
		      (long long)sr_debounce_wait(&d, debounces[_i].now, 30, 500));
	sr_debounce_clear(&d);
	ck_assert_int_eq(sr_debounce_wait(&d, debounces[_i].now, 30, 500), -1);
}
END_TEST

static const struct {
	const char *what;
	size_t writes, echoes;
	bool overrun, verify;
	enum sr_mon_verdict v;
} verdicts[] = {
	{ "idle apply, no event", 0, 0, false, false, SR_MON_QUIET },
	{ "apply wrote, no event (PF down: no notification)", 3, 0, false, false, SR_MON_QUIET },
	{ "repair wrote 1, its RTM_NEWLINK came back", 1, 1, false, false, SR_MON_VERIFY },
	{ "VFs created: many uevents", 8, 40, false, false, SR_MON_VERIFY },
	{ "overrun during an apply that wrote", 64, 0, true, false, SR_MON_VERIFY },
	{ "the verifying reconcile wrote nothing, no event", 0, 0, false, true, SR_MON_QUIET },
	{ "the verifying reconcile found drift: its echoes end the chain", 1, 1, false, true,
	  SR_MON_ECHO },
	{ "events during an apply that wrote nothing are not its own", 0, 2, false, false,
	  SR_MON_REPAIR },
	{ "... also during a verifying one", 0, 1, false, true, SR_MON_REPAIR },
	{ "overrun, nothing written", 0, 0, true, false, SR_MON_REPAIR },
};

START_TEST(test_after_apply)
{
	struct sr_mon_apply_seen seen = {
		.kernel_writes = verdicts[_i].writes,
		.echoes = verdicts[_i].echoes,
		.overrun = verdicts[_i].overrun,
		.was_verify = verdicts[_i].verify,
	};

	ck_assert_msg(sr_mon_after_apply(&seen) == verdicts[_i].v, "%s", verdicts[_i].what);
}
END_TEST

/* The storm bound, as the daemon runs it: a repair that writes, the echo
 * verdicts of every apply that follows, until nothing is pending. Each
 * apply after the first writes nothing unless drift is still there. */
START_TEST(test_no_storm)
{
	const struct sr_mon_apply_seen repair = { .kernel_writes = 1, .echoes = 1 };
	enum sr_mon_verdict v = sr_mon_after_apply(&repair);
	int applies = 1;

	while (v == SR_MON_VERIFY || v == SR_MON_REPAIR) {
		/* The verifying reconcile: the node matches, no write, no echo. */
		v = sr_mon_after_apply(&(struct sr_mon_apply_seen){ .was_verify = v == SR_MON_VERIFY });
		ck_assert_int_lt(++applies, 10);
	}
	ck_assert_int_eq(applies, 2);
	/* Even a node that "drifts" at every apply (a write that never sticks)
	 * stops after the verification. */
	v = sr_mon_after_apply(&repair);
	ck_assert_int_eq(v, SR_MON_VERIFY);
	ck_assert_int_eq(sr_mon_after_apply(&(struct sr_mon_apply_seen){ .kernel_writes = 1,
									 .echoes = 1,
									 .was_verify = true }),
			 SR_MON_ECHO);
}
END_TEST

/* The link notification socket on the real kernel, in a private network
 * namespace: a receive never waits (-EAGAIN at once when nothing is
 * queued); an overrun (the smallest receive buffer, lo flapped ten times)
 * reads as -ENOBUFS once, and the socket goes on: what is queued is read,
 * then -EAGAIN again. */
START_TEST(test_socket)
{
	static uint8_t buf[SR_MON_MSG_MAX];
	struct sr_err err = { "" };
	struct ifreq ifr;
	struct sr_mon m;
	int ioc, msgs = 0;
	ssize_t n;

	ck_assert_msg(unshare(CLONE_NEWNET) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0,
		      "a private network namespace: %s", strerror(errno));
	ck_assert_msg(sr_mon_open(&m, SR_MON_BIT(SR_MON_LINK), &err) == 0, "%s", err.msg);
	ck_assert_int_eq(m.fd[SR_MON_UEVENT], -1);
	ck_assert_int_eq(sr_mon_recv(&m, SR_MON_LINK, buf, sizeof(buf)), -EAGAIN);

	ck_assert_int_eq(setsockopt(m.fd[SR_MON_LINK], SOL_SOCKET, SO_RCVBUF, &(int){ 1 },
				    sizeof(int)), 0);
	ioc = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(ioc, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	for (int i = 0; i < 20; i++) {
		ifr.ifr_flags = i % 2 ? 0 : IFF_UP;
		ck_assert_int_eq(ioctl(ioc, SIOCSIFFLAGS, &ifr), 0);
	}
	close(ioc);
	ck_assert_int_eq(sr_mon_recv(&m, SR_MON_LINK, buf, sizeof(buf)), -ENOBUFS);
	while ((n = sr_mon_recv(&m, SR_MON_LINK, buf, sizeof(buf))) > 0 && msgs < 100)
		msgs++;
	ck_assert_int_eq(n, -EAGAIN);
	ck_assert_int_ge(msgs, 1);
	sr_mon_close(&m);
}
END_TEST

#define N(x) ((int)(sizeof(x) / sizeof((x)[0])))

int main(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("monitor");

	tcase_add_test(tc, test_watch);
	tcase_add_loop_test(tc, test_parse_link, 0, N(links));
	tcase_add_test(tc, test_parse_link_batch);
	tcase_add_test(tc, test_link_state);
	tcase_add_loop_test(tc, test_parse_uevent, 0, N(uevents));
	tcase_add_loop_test(tc, test_debounce, 0, N(debounces));
	tcase_add_loop_test(tc, test_after_apply, 0, N(verdicts));
	tcase_add_test(tc, test_no_storm);
	tcase_add_test(tc, test_socket);
	suite_add_tcase(s, tc);
	return sr_check_run(s);
}
