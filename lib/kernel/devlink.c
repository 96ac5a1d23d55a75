/* SPDX-License-Identifier: MIT */
/*
 * The eswitch mode through devlink: resolve the "devlink" generic netlink
 * family, then one DEVLINK_CMD_ESWITCH_GET (what `devlink dev eswitch show
 * pci/ADDR` sends). A socket of its own, opened per call: asked once per PF
 * whose driver has the rule, before its VF count is written.
 */
#include "devlink.h"

#include <errno.h>
#include <linux/devlink.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "model.h"

#define MSG_MAX 8192

struct req {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[256];
};

static void put_attr(struct req *r, uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void req_init(struct req *r, uint16_t family, uint8_t cmd, uint32_t seq)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->n.nlmsg_type = family;
	r->n.nlmsg_flags = NLM_F_REQUEST;
	r->n.nlmsg_seq = seq;
	r->g.cmd = cmd;
	r->g.version = 1;
}

/* The attribute type of answer n (a generic netlink message); NULL: none. */
static const struct nlattr *find_attr(const struct nlmsghdr *n, uint16_t type)
{
	const char *p = (const char *)NLMSG_DATA(n) + GENL_HDRLEN;
	size_t left;

	if (n->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
		return NULL;
	left = n->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
	while (left >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)p;
		size_t step = NLA_ALIGN(a->nla_len);

		if (a->nla_len < NLA_HDRLEN || a->nla_len > left)
			return NULL;
		if ((a->nla_type & NLA_TYPE_MASK) == type)
			return a;
		if (step >= left)
			return NULL;
		p += step;
		left -= step;
	}
	return NULL;
}

/* Send r, receive its answer into buf: 0 and *out, or the kernel's -errno. */
static int ask(int fd, struct req *r, char *buf, const struct nlmsghdr **out)
{
	const struct nlmsghdr *n;
	ssize_t len;

	if (send(fd, r, r->n.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		len = recv(fd, buf, MSG_MAX, 0);
		if (len < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		for (n = (const struct nlmsghdr *)buf; NLMSG_OK(n, (size_t)len);
		     n = NLMSG_NEXT(n, len)) {
			if (n->nlmsg_seq != r->n.nlmsg_seq)
				continue;
			if (n->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(n);

				return e->error ? e->error : -ENODATA;
			}
			*out = n;
			return 0;
		}
	}
}

static int family_id(int fd, char *buf, uint16_t *id)
{
	const struct nlmsghdr *n;
	const struct nlattr *a;
	struct req r;
	int rc;

	req_init(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	put_attr(&r, CTRL_ATTR_FAMILY_NAME, DEVLINK_GENL_NAME, sizeof(DEVLINK_GENL_NAME));
	if ((rc = ask(fd, &r, buf, &n)))
		return rc;
	a = find_attr(n, CTRL_ATTR_FAMILY_ID);
	if (!a || a->nla_len < NLA_HDRLEN + sizeof(uint16_t))
		return -EPROTO;
	memcpy(id, (const char *)a + NLA_HDRLEN, sizeof(*id));
	return 0;
}

static int eswitch_get(int fd, char *buf, uint16_t family, const char *pci, uint16_t *mode)
{
	const struct nlmsghdr *n;
	const struct nlattr *a;
	struct req r;
	int rc;

	req_init(&r, family, DEVLINK_CMD_ESWITCH_GET, 2);
	r.n.nlmsg_flags |= NLM_F_ACK;
	put_attr(&r, DEVLINK_ATTR_BUS_NAME, "pci", 4);
	put_attr(&r, DEVLINK_ATTR_DEV_NAME, pci, strlen(pci) + 1);
	if ((rc = ask(fd, &r, buf, &n)))
		return rc;
	a = find_attr(n, DEVLINK_ATTR_ESWITCH_MODE);
	if (!a || a->nla_len < NLA_HDRLEN + sizeof(uint16_t))
		return -EOPNOTSUPP;
	memcpy(mode, (const char *)a + NLA_HDRLEN, sizeof(*mode));
	return 0;
}

int sr_devlink_eswitch_mode(const char *pci, char mode[SR_ESWITCH_MODE_LEN], struct sr_err *err)
{
	struct timeval tv = { .tv_sec = 2 };
	char buf[MSG_MAX];
	uint16_t family, m;
	int fd, rc;

	if (!sr_valid_pci(pci))
		return sr_err_set(err, -EINVAL, "devlink: PCI address \"%s\" is not DDDD:BB:DD.F", pci);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return sr_err_set(err, -errno, "devlink: generic netlink socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	rc = family_id(fd, buf, &family);
	if (rc) {
		close(fd);
		return sr_err_set(err, rc == -ENOENT ? -ENOENT : rc,
				  "devlink: the kernel has no devlink family: %s", strerror(-rc));
	}
	rc = eswitch_get(fd, buf, family, pci, &m);
	close(fd);
	if (rc)
		return sr_err_set(err, rc, "devlink: eswitch mode of pci/%s: %s", pci, strerror(-rc));
	if (m == DEVLINK_ESWITCH_MODE_LEGACY)
		snprintf(mode, SR_ESWITCH_MODE_LEN, "legacy");
	else if (m == DEVLINK_ESWITCH_MODE_SWITCHDEV)
		snprintf(mode, SR_ESWITCH_MODE_LEN, "switchdev");
	else
		snprintf(mode, SR_ESWITCH_MODE_LEN, "mode %u", m);
	return 0;
}
