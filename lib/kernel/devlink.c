/* SPDX-License-Identifier: MIT */
/*
 * The eswitch mode through devlink: resolve the "devlink" generic netlink
 * family, then one DEVLINK_CMD_ESWITCH_GET (what `devlink dev eswitch show
 * pci/ADDR` sends). A socket of its own, opened per call: asked once per PF
 * whose driver has the rule, before its VF count is written. Both requests
 * share one deadline: every receive is non-blocking behind poll() with what
 * is left of it (as lib/kernel/netlink.c), so messages that are not the
 * answer cannot stretch the wait.
 */
#include "devlink.h"

#include <errno.h>
#include <limits.h>
#include <linux/devlink.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
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

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Until fd is readable: 0, or -ETIMEDOUT once deadline (now_ms) passed. */
static int wait_readable(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
}

/* Send r, receive its answer into buf by deadline: 0 and *out, or the
 * kernel's -errno, or -ETIMEDOUT. */
static int ask(int fd, struct req *r, char *buf, int64_t deadline, const struct nlmsghdr **out)
{
	const struct nlmsghdr *n;
	ssize_t len;
	int rc;

	if (send(fd, r, r->n.nlmsg_len, 0) < 0)
		return -errno;
	for (;;) {
		if ((rc = wait_readable(fd, deadline)))
			return rc;
		len = recv(fd, buf, MSG_MAX, MSG_DONTWAIT);
		if (len < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (len < 0)
			return -errno;
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

static int family_id(int fd, char *buf, int64_t deadline, uint16_t *id)
{
	const struct nlmsghdr *n;
	const struct nlattr *a;
	struct req r;
	int rc;

	req_init(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	put_attr(&r, CTRL_ATTR_FAMILY_NAME, DEVLINK_GENL_NAME, sizeof(DEVLINK_GENL_NAME));
	if ((rc = ask(fd, &r, buf, deadline, &n)))
		return rc;
	a = find_attr(n, CTRL_ATTR_FAMILY_ID);
	if (!a || a->nla_len < NLA_HDRLEN + sizeof(uint16_t))
		return -EPROTO;
	memcpy(id, (const char *)a + NLA_HDRLEN, sizeof(*id));
	return 0;
}

static int eswitch_get(int fd, char *buf, int64_t deadline, uint16_t family, const char *bus,
		       const char *dev, uint16_t *mode)
{
	const struct nlmsghdr *n;
	const struct nlattr *a;
	struct req r;
	int rc;

	req_init(&r, family, DEVLINK_CMD_ESWITCH_GET, 2);
	r.n.nlmsg_flags |= NLM_F_ACK;
	put_attr(&r, DEVLINK_ATTR_BUS_NAME, bus, strlen(bus) + 1);
	put_attr(&r, DEVLINK_ATTR_DEV_NAME, dev, strlen(dev) + 1);
	if ((rc = ask(fd, &r, buf, deadline, &n)))
		return rc;
	a = find_attr(n, DEVLINK_ATTR_ESWITCH_MODE);
	if (!a || a->nla_len < NLA_HDRLEN + sizeof(uint16_t))
		return -EOPNOTSUPP;
	memcpy(mode, (const char *)a + NLA_HDRLEN, sizeof(*mode));
	return 0;
}

/* "BUS/DEV" as devlink names a device (pci/0000:03:00.0,
 * netdevsim/netdevsim1): both parts 1..63 printable characters, no '/'. */
static int split_handle(const char *handle, char bus[64], char dev[64], struct sr_err *err)
{
	const char *slash = strchr(handle, '/');
	size_t nb = slash ? (size_t)(slash - handle) : 0, nd = slash ? strlen(slash + 1) : 0;

	for (const char *p = handle; *p; p++)
		if (*p <= ' ' || *p > '~')
			slash = NULL;
	if (!slash || !nb || !nd || nb > 63 || nd > 63 || strchr(slash + 1, '/'))
		return sr_err_set(err, -EINVAL,
				  "devlink: handle \"%.80s\": allowed BUS/DEV (e.g. pci/0000:03:00.0), each 1..63 printable characters",
				  handle);
	memcpy(bus, handle, nb);
	bus[nb] = '\0';
	memcpy(dev, slash + 1, nd + 1);
	return 0;
}

int sr_devlink_eswitch_mode_handle_on(int fd, const char *handle, unsigned timeout_ms,
				      char mode[SR_ESWITCH_MODE_LEN], struct sr_err *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	char buf[MSG_MAX], bus[64], dev[64];
	uint16_t family, m;
	int rc;

	if ((rc = split_handle(handle, bus, dev, err)))
		return rc;
	rc = family_id(fd, buf, deadline, &family);
	/* ctrl_getfamily (net/netlink/genetlink.c) answers -ENOENT for a
	 * family it does not know: that alone means no devlink. */
	if (rc == -ENOENT)
		return sr_err_set(err, rc, "devlink: the kernel has no devlink family: %s",
				  strerror(-rc));
	if (rc)
		return sr_err_set(err, rc,
				  "devlink: looking up the generic netlink family \"%s\"%s: %s",
				  DEVLINK_GENL_NAME, rc == -ETIMEDOUT ? " (no answer)" : "",
				  strerror(-rc));
	rc = eswitch_get(fd, buf, deadline, family, bus, dev, &m);
	if (rc)
		return sr_err_set(err, rc, "devlink: eswitch mode of %s/%s: %s", bus, dev,
				  strerror(-rc));
	if (m == DEVLINK_ESWITCH_MODE_LEGACY)
		snprintf(mode, SR_ESWITCH_MODE_LEN, "legacy");
	else if (m == DEVLINK_ESWITCH_MODE_SWITCHDEV)
		snprintf(mode, SR_ESWITCH_MODE_LEN, "switchdev");
	else
		snprintf(mode, SR_ESWITCH_MODE_LEN, "mode %u", m);
	return 0;
}

int sr_devlink_eswitch_mode_handle(const char *handle, char mode[SR_ESWITCH_MODE_LEN],
				   struct sr_err *err)
{
	int fd, rc;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return sr_err_set(err, -errno, "devlink: generic netlink socket: %s", strerror(errno));
	rc = sr_devlink_eswitch_mode_handle_on(fd, handle, SR_DEVLINK_TIMEOUT_MS, mode, err);
	close(fd);
	return rc;
}

int sr_devlink_eswitch_mode_on(int fd, const char *pci, unsigned timeout_ms,
				char mode[SR_ESWITCH_MODE_LEN], struct sr_err *err)
{
	char handle[4 + SR_PCI_LEN];

	if (!sr_valid_pci(pci))
		return sr_err_set(err, -EINVAL, "devlink: PCI address \"%s\" is not DDDD:BB:DD.F", pci);
	snprintf(handle, sizeof(handle), "pci/%s", pci);
	return sr_devlink_eswitch_mode_handle_on(fd, handle, timeout_ms, mode, err);
}

int sr_devlink_eswitch_mode(const char *pci, char mode[SR_ESWITCH_MODE_LEN], struct sr_err *err)
{
	char handle[4 + SR_PCI_LEN];

	if (!sr_valid_pci(pci))
		return sr_err_set(err, -EINVAL, "devlink: PCI address \"%s\" is not DDDD:BB:DD.F", pci);
	snprintf(handle, sizeof(handle), "pci/%s", pci);
	return sr_devlink_eswitch_mode_handle(handle, mode, err);
}
