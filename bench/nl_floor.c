/* SPDX-License-Identifier: MIT */
/*
 * The kernel floor for bench/vm_bench.sh: sends exactly the RTM_SETLINK
 * messages sriov-agent sends for the settings case and nothing else, one per
 * VF, IFLA_VFINFO_LIST > IFLA_VF_INFO > IFLA_VF_MAC, IFLA_VF_VLAN,
 * IFLA_VF_SPOOFCHK, IFLA_VF_TRUST (the agent's attribute order), each with
 * NLM_F_ACK and waited for. Raw netlink, libc only: what is left is the
 * kernel's and the driver's work plus the start of a minimal process.
 *
 *   nl-floor PF N MAC_PREFIX VLAN_BASE [--mac-vlan]
 *     VF i gets MAC MAC_PREFIX:00 + i (five bytes given; the MAC as a 48-bit
 *     number plus i: the sixth byte is i for i < 256), VLAN VLAN_BASE + i,
 *     spoofchk on, trust on; exit 0 when every ACK is 0. --mac-vlan: only
 *     IFLA_VF_MAC and IFLA_VF_VLAN (the netdevsim rows: MAC + VLAN).
 */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#define BUF 1024

struct req {
	char buf[BUF];
	size_t len;
};

/* Append attribute type with len bytes of data; returns its offset. */
static size_t put(struct req *r, unsigned short type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)(r->buf + r->len);
	size_t at = r->len;

	a->nla_type = type;
	a->nla_len = (unsigned short)(NLA_HDRLEN + len);
	if (len)
		memcpy(r->buf + r->len + NLA_HDRLEN, data, len);
	r->len += NLA_ALIGN(NLA_HDRLEN + len);
	return at;
}

static void end(struct req *r, size_t at)
{
	((struct nlattr *)(r->buf + at))->nla_len = (unsigned short)(r->len - at);
}

static void build(struct req *r, int ifindex, unsigned vf, const unsigned char mac[6],
		  unsigned vlan, unsigned seq, int mac_vlan)
{
	struct nlmsghdr *h = (struct nlmsghdr *)r->buf;
	struct ifinfomsg *ifi;
	struct ifla_vf_mac m = { .vf = vf };
	struct ifla_vf_vlan v = { .vf = vf, .vlan = vlan, .qos = 0 };
	struct ifla_vf_spoofchk sc = { .vf = vf, .setting = 1 };
	struct ifla_vf_trust tr = { .vf = vf, .setting = 1 };
	size_t list, info;

	memset(r->buf, 0, sizeof(r->buf));
	r->len = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(*ifi));
	h->nlmsg_type = RTM_SETLINK;
	h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = seq;
	ifi = NLMSG_DATA(h);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	memcpy(m.mac, mac, 6);
	list = put(r, IFLA_VFINFO_LIST, NULL, 0);
	info = put(r, IFLA_VF_INFO, NULL, 0);
	put(r, IFLA_VF_MAC, &m, sizeof(m));
	put(r, IFLA_VF_VLAN, &v, sizeof(v));
	if (!mac_vlan) {
		put(r, IFLA_VF_SPOOFCHK, &sc, sizeof(sc));
		put(r, IFLA_VF_TRUST, &tr, sizeof(tr));
	}
	end(r, info);
	end(r, list);
	h->nlmsg_len = (unsigned)r->len;
}

/* Send r and read its ACK: 0 or the kernel's -errno. */
static int transact(int fd, struct req *r)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	char ack[BUF];
	struct nlmsghdr *h = (struct nlmsghdr *)ack;
	ssize_t n;

	if (sendto(fd, r->buf, r->len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
		return -errno;
	n = recv(fd, ack, sizeof(ack), 0);
	if (n < 0)
		return -errno;
	if ((size_t)n < NLMSG_HDRLEN + sizeof(struct nlmsgerr) || h->nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
}

int main(int argc, char **argv)
{
	unsigned char mac[6], base[6];
	unsigned n, vlan_base;
	struct req r;
	int fd, ifindex, rc, mac_vlan = argc == 6 && !strcmp(argv[5], "--mac-vlan");

	if ((argc != 5 && !mac_vlan) || sscanf(argv[3], "%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2],
				&mac[3], &mac[4]) != 5) {
		fprintf(stderr, "usage: nl-floor PF N MAC_PREFIX(5 bytes) VLAN_BASE [--mac-vlan]\n");
		return 2;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	n = (unsigned)strtoul(argv[2], NULL, 10);
	vlan_base = (unsigned)strtoul(argv[4], NULL, 10);
	if (!ifindex) {
		fprintf(stderr, "nl-floor: no interface %s\n", argv[1]);
		return 1;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0) {
		perror("nl-floor: socket");
		return 1;
	}
	memcpy(base, mac, 5);
	base[5] = 0;
	for (unsigned i = 0; i < n; i++) {
		unsigned carry = i;

		/* mac = base + i, as 48-bit numbers */
		for (int b = 5; b >= 0; b--) {
			carry += base[b];
			mac[b] = (unsigned char)carry;
			carry >>= 8;
		}
		build(&r, ifindex, i, mac, vlan_base + i, i + 1, mac_vlan);
		rc = transact(fd, &r);
		if (rc) {
			fprintf(stderr, "nl-floor: VF %u: %s\n", i, strerror(-rc));
			close(fd);
			return 1;
		}
	}
	close(fd);
	return 0;
}
