/* SPDX-License-Identifier: MIT */
/*
 * nl-vfdump: the VM test bed's own witness of a PF's VF settings, read
 * straight from the kernel with one raw RTM_GETLINK. It shares no code with
 * the agent (lib/kernel/netlink.c): what it prints is what the kernel says.
 *
 *   nl-vfdump IFNAME [VF]
 *
 * prints "num_vf N", then one line per VF (or only VF):
 *   vf 3 mac 02:5e:00:00:00:03 vlan 4 qos 3 proto 802.1ad spoofchk on
 *        trust off link_state disable min_tx 0 max_tx 103
 * Exit 0, or 1 with a message on stderr.
 *
 * The request asks RTEXT_FILTER_VF|RTEXT_FILTER_SKIP_STATS; the answer is
 * one message of any size (the receive is sized with MSG_PEEK|MSG_TRUNC).
 * IFLA_VFINFO_LIST's 16-bit nla_len wraps past 64 KiB (rtnl_fill_vf nests
 * every VF in it; about 221 VFs with stats, 335 without): the list is
 * walked entry by entry for IFLA_NUM_VF entries, and its real length is
 * checked against the wrapped one. Every wait is bounded (10 s).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WAIT_MS 10000

struct vf {
	bool seen;
	uint32_t index;
	uint8_t mac[6];
	uint32_t vlan, qos;
	uint16_t proto; /* host order; 0 when the kernel gave none */
	int spoofchk, trust;
	uint32_t link_state, min_tx, max_tx;
};

static int fail(const char *what, int err)
{
	fprintf(stderr, "nl-vfdump: %s: %s\n", what, strerror(err));
	return 1;
}

static int send_request(int fd, int ifindex)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		struct rtattr rta;
		uint32_t mask;
	} req;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = sizeof(req);
	req.nh.nlmsg_type = RTM_GETLINK;
	req.nh.nlmsg_flags = NLM_F_REQUEST;
	req.nh.nlmsg_seq = 1;
	req.ifi.ifi_family = AF_UNSPEC;
	req.ifi.ifi_index = ifindex;
	req.rta.rta_type = IFLA_EXT_MASK;
	req.rta.rta_len = RTA_LENGTH(sizeof(uint32_t));
	req.mask = RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS;
	return send(fd, &req, sizeof(req), 0) == (ssize_t)sizeof(req) ? 0 : -errno;
}

/* One whole datagram, any size, within WAIT_MS; *buf malloc'd. */
static ssize_t recv_whole(int fd, char **buf)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;
	int rc;

	rc = poll(&p, 1, WAIT_MS);
	if (rc == 0)
		return -ETIMEDOUT;
	if (rc < 0)
		return -errno;
	n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (n < 0)
		return -errno;
	*buf = malloc((size_t)n + 1);
	if (!*buf)
		return -ENOMEM;
	n = recv(fd, *buf, (size_t)n, 0);
	if (n < 0) {
		rc = -errno;
		free(*buf);
		return rc;
	}
	return n;
}

static void parse_vf(const char *p, size_t len, struct vf *vf)
{
	const struct rtattr *a = (const void *)p;

	memset(vf, 0, sizeof(*vf));
	vf->spoofchk = vf->trust = -1;
	for (size_t left = len; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		const void *d = RTA_DATA(a);
		size_t dl = RTA_PAYLOAD(a);

		switch (a->rta_type) {
		case IFLA_VF_MAC:
			if (dl >= sizeof(struct ifla_vf_mac)) {
				const struct ifla_vf_mac *m = d;
				vf->seen = true;
				vf->index = m->vf;
				memcpy(vf->mac, m->mac, 6);
			}
			break;
		case IFLA_VF_VLAN_LIST: {
			const struct rtattr *v = d;
			size_t vl = dl;

			for (; RTA_OK(v, vl); v = RTA_NEXT(v, vl)) {
				const struct ifla_vf_vlan_info *vi = RTA_DATA(v);

				if (v->rta_type != IFLA_VF_VLAN_INFO || RTA_PAYLOAD(v) < sizeof(*vi))
					continue;
				vf->vlan = vi->vlan;
				vf->qos = vi->qos;
				vf->proto = ntohs(vi->vlan_proto);
				break;
			}
			break;
		}
		case IFLA_VF_SPOOFCHK:
			if (dl >= sizeof(struct ifla_vf_spoofchk))
				vf->spoofchk = (int)((const struct ifla_vf_spoofchk *)d)->setting;
			break;
		case IFLA_VF_TRUST:
			if (dl >= sizeof(struct ifla_vf_trust))
				vf->trust = (int)((const struct ifla_vf_trust *)d)->setting;
			break;
		case IFLA_VF_LINK_STATE:
			if (dl >= sizeof(struct ifla_vf_link_state))
				vf->link_state = ((const struct ifla_vf_link_state *)d)->link_state;
			break;
		case IFLA_VF_RATE:
			if (dl >= sizeof(struct ifla_vf_rate)) {
				vf->min_tx = ((const struct ifla_vf_rate *)d)->min_tx_rate;
				vf->max_tx = ((const struct ifla_vf_rate *)d)->max_tx_rate;
			}
			break;
		default:
			break;
		}
	}
}

static const char *onoff(int v)
{
	return v < 0 ? "unknown" : v ? "on" : "off";
}

static void print_vf(const struct vf *vf)
{
	static const char *const states[] = {"auto", "enable", "disable"};
	char proto[16];

	if (vf->proto == ETH_P_8021Q)
		snprintf(proto, sizeof(proto), "802.1Q");
	else if (vf->proto == ETH_P_8021AD)
		snprintf(proto, sizeof(proto), "802.1ad");
	else
		snprintf(proto, sizeof(proto), "0x%04x", vf->proto);
	printf("vf %u mac %02x:%02x:%02x:%02x:%02x:%02x vlan %u qos %u proto %s spoofchk %s "
	       "trust %s link_state %s min_tx %u max_tx %u\n",
	       vf->index, vf->mac[0], vf->mac[1], vf->mac[2], vf->mac[3], vf->mac[4], vf->mac[5],
	       vf->vlan, vf->qos, proto, onoff(vf->spoofchk), onoff(vf->trust),
	       vf->link_state < 3 ? states[vf->link_state] : "unknown", vf->min_tx, vf->max_tx);
}

/* The VF list at p (payload of IFLA_VFINFO_LIST), n_vf entries, within end.
 * Returns the list's real payload length, or -1 when it is malformed. */
static long walk_list(const char *p, const char *end, uint32_t n_vf, long only)
{
	const char *q = p;
	struct vf vf;

	for (uint32_t i = 0; i < n_vf; i++) {
		const struct rtattr *a = (const void *)q;

		if (end - q < (long)sizeof(*a) || a->rta_len < sizeof(*a) || a->rta_len > end - q ||
		    a->rta_type != IFLA_VF_INFO)
			return -1;
		parse_vf((const char *)RTA_DATA(a), RTA_PAYLOAD(a), &vf);
		if (!vf.seen)
			return -1;
		if (only < 0 || vf.index == (uint32_t)only)
			print_vf(&vf);
		q += RTA_ALIGN(a->rta_len);
		if (q > end)
			q = end;
	}
	return q - p;
}

static int parse_link(const struct nlmsghdr *nh, long only)
{
	const char *p = (const char *)NLMSG_DATA(nh) + NLMSG_ALIGN(sizeof(struct ifinfomsg));
	const char *end = (const char *)nh + nh->nlmsg_len;
	uint32_t n_vf = 0;
	bool have_num = false, have_list = false;

	while (end - p >= (long)sizeof(struct rtattr)) {
		const struct rtattr *a = (const void *)p;
		long len;

		if (a->rta_type == IFLA_NUM_VF && a->rta_len >= RTA_LENGTH(4)) {
			memcpy(&n_vf, RTA_DATA(a), 4);
			have_num = true;
			printf("num_vf %u\n", n_vf);
		} else if (a->rta_type == IFLA_VFINFO_LIST) {
			if (!have_num) {
				fprintf(stderr, "nl-vfdump: IFLA_VFINFO_LIST before IFLA_NUM_VF\n");
				return 1;
			}
			have_list = true;
			len = walk_list((const char *)RTA_DATA(a), end, n_vf, only);
			if (len < 0) {
				fprintf(stderr, "nl-vfdump: malformed VF list (%u VFs announced)\n", n_vf);
				return 1;
			}
			len += RTA_LENGTH(0);
			/* nla_len is 16 bits: the kernel's nla_nest_end wraps it. */
			if ((len & 0xffff) != a->rta_len) {
				fprintf(stderr, "nl-vfdump: VF list is %ld bytes, its nla_len %u\n", len,
					a->rta_len);
				return 1;
			}
			p += RTA_ALIGN(len);
			continue;
		}
		if (a->rta_len < sizeof(*a))
			break;
		p += RTA_ALIGN(a->rta_len);
	}
	if (!have_num) {
		fprintf(stderr, "nl-vfdump: no IFLA_NUM_VF (no VFs, or RTEXT_FILTER_VF ignored)\n");
		return 1;
	}
	if (n_vf && !have_list) {
		fprintf(stderr, "nl-vfdump: %u VFs but no IFLA_VFINFO_LIST\n", n_vf);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int fd, ifindex, rcvbuf = 64 << 20, rc = 1;
	long only = -1;
	char *buf = NULL;
	ssize_t n;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: nl-vfdump IFNAME [VF]\n");
		return 2;
	}
	if (argc == 3)
		only = strtol(argv[2], NULL, 10);
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex)
		return fail(argv[1], errno);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return fail("socket", errno);
	/* Room for the one big answer (root may pass rmem_max). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	n = send_request(fd, ifindex);
	if (n < 0) {
		close(fd);
		return fail("send RTM_GETLINK", (int)-n);
	}
	for (;;) {
		const struct nlmsghdr *nh;

		n = recv_whole(fd, &buf);
		if (n < 0) {
			rc = fail("receive RTM_GETLINK's answer", (int)-n);
			break;
		}
		nh = (const void *)buf;
		if (!NLMSG_OK(nh, (size_t)n) || nh->nlmsg_seq != 1) {
			free(buf);
			buf = NULL;
			continue;
		}
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);
			rc = fail("RTM_GETLINK", e->error ? -e->error : EPROTO);
		} else if (nh->nlmsg_type == RTM_NEWLINK) {
			rc = parse_link(nh, only);
		} else {
			fprintf(stderr, "nl-vfdump: unexpected message type %u\n", nh->nlmsg_type);
		}
		break;
	}
	free(buf);
	close(fd);
	return rc;
}
