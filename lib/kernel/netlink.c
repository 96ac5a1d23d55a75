/* SPDX-License-Identifier: MIT */
/*
 * VF settings through the PF with rtnetlink.
 *
 * Writes: one RTM_SETLINK per VF, ifi_index = PF, IFLA_VFINFO_LIST >
 * IFLA_VF_INFO > every IFLA_VF_* attribute that must change, in enum order.
 * The kernel stops at the first attribute the driver refuses and answers
 * only an errno, so when that request fails the VF is written again one
 * attribute per request (IFLA_VF_INFO > exactly one IFLA_VF_*): a refused
 * attribute does not stop the others, and each gets its own outcome.
 *
 * Encoding. MAC, spoofchk, trust, link state and rate are encoded by
 * libnl-route's VF object (rtnl_link_vf_*) through
 * rtnl_link_build_change_request(), one attribute at a time; only the
 * attributes inside the IFLA_VF_INFO it produced are copied into our own
 * RTM_SETLINK message, so the request carries exactly the attributes asked
 * for whatever else a libnl version adds (libnl also builds
 * RTM_NEWLINK, not RTM_SETLINK). VLAN is encoded here: libnl 3.7 writes
 * IFLA_VF_VLAN_INFO.vlan_proto in host byte order where the kernel wants
 * network order, so its 802.1ad requests would be refused.
 *
 * VLAN attribute: 802.1Q (also when vlan_proto is unset) goes as IFLA_VF_VLAN
 * {vf, vlan, qos}, which every kernel and driver understands; 802.1ad goes as
 * IFLA_VF_VLAN_LIST > IFLA_VF_VLAN_INFO {vf, vlan, qos, htons(proto)}
 * (kernel >= 4.9). iproute2 and systemd-networkd split the same way.
 *
 * The socket and the receive are ours (libnl builds the messages): the
 * kernel's answers must be read under rules libnl's blocking nl_recvmsgs()
 * does not keep. From net/netlink/af_netlink.c (6.1):
 * - netlink_unicast() of an answer (rtnl_unicast, netlink_ack: MSG_DONTWAIT)
 *   never waits for room: netlink_attachskb() queues an skb when it is the
 *   only one queued, whatever its size, or when sk_rmem_alloc stays within
 *   sk_rcvbuf; else it drops it and netlink_overrun() sets sk_err = ENOBUFS
 *   and marks the socket congested, which drops everything after it until
 *   netlink_recvmsg() finds the queue empty (netlink_rcv_wake). The next
 *   receive reports the ENOBUFS before any queued datagram
 *   (__skb_try_recv_datagram checks sock_error first).
 * - rtnl_getlink() (net/core/rtnetlink.c) builds its answer in one skb of
 *   if_nlmsg_size(): with RTEXT_FILTER_VF, rtnl_vfinfo_size() counts about
 *   200 bytes a VF without stats, 300 with them.
 * With libnl's 32 KiB SO_RCVBUF (64 KiB sk_rcvbuf) and NLM_F_ACK the answer
 * for 200 VFs took the empty queue and the ACK behind it was dropped: the
 * receive said ENOBUFS (libnl: NLE_NOMEM, "Cannot allocate memory"), the
 * answer stayed queued, the next request's answers were dropped (congested),
 * and its wait read the stale answer (libnl's sequence check expects the
 * number after the last ACK seen) and then waited forever for an ACK.
 *
 * So: a read (RTM_GETLINK) asks no ACK: its answer, or an NLMSG_ERROR, is the
 * whole reply, one skb, which an empty queue always takes (iproute2's
 * rtnl_talk asks an ACK only when it expects no answer). The receive buffer
 * is SR_NL_RCVBUF besides. Each request has a fresh sequence number and only
 * messages carrying it count: a late answer to an earlier request is
 * dropped. Every receive is non-blocking, behind poll() with what is left of
 * the request's deadline. ENOBUFS (an overrun, or the kernel unable to
 * allocate the answer) drains the socket and sends the request once more
 * with a new number: writes set values, so sending one twice is harmless.
 * What no deadline here bounds: the kernel runs an rtnetlink request inside
 * the sender's sendmsg() (rtnetlink_rcv_msg takes rtnl_lock() for
 * RTM_GETLINK and RTM_SETLINK alike), so a driver holding rtnl_lock (a
 * sriov_configure that resets the PF) holds the send until it lets go; the
 * answer is queued by then, or lost.
 * The NLMSG_ERROR's error is the kernel's own -errno. Failures inside libnl
 * (building a message) are mapped from NLE_* to the nearest errno by
 * nle_to_errno().
 *
 * The library never prints: libnl objects are plain builders here.
 */
#include "netlink.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/sriov.h>

/* PCI SR-IOV counts VFs in 16 bits; anything larger is a broken message. */
#define SR_NL_MAX_VFS 0xffffu

static int nle_to_errno(int nle)
{
	switch (nle < 0 ? -nle : nle) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
		return -EINTR;
	case NLE_BAD_SOCK:
		return -EBADF;
	case NLE_AGAIN:
		return -EAGAIN;
	case NLE_NOMEM:
		return -ENOMEM;
	case NLE_EXIST:
		return -EEXIST;
	case NLE_INVAL:
		return -EINVAL;
	case NLE_RANGE:
		return -ERANGE;
	case NLE_MSGSIZE:
	case NLE_MSG_TRUNC:
		return -EMSGSIZE;
	case NLE_OPNOTSUPP:
		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case NLE_NOATTR:
	case NLE_MISSING_ATTR:
		return -ENODATA;
	case NLE_SEQ_MISMATCH:
	case NLE_MSG_TOOSHORT:
	case NLE_MSGTYPE_NOSUPPORT:
	case NLE_PARSE_ERR:
		return -EPROTO;
	case NLE_MSG_OVERFLOW:
		return -EOVERFLOW;
	case NLE_NOADDR:
		return -EADDRNOTAVAIL;
	case NLE_BUSY:
		return -EBUSY;
	case NLE_PROTO_MISMATCH:
		return -EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return -EACCES;
	case NLE_PERM:
		return -EPERM;
	case NLE_NODEV:
		return -ENODEV;
	case NLE_DUMP_INTR:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

/* ---- request / reply ---------------------------------------------------- */

/* Datagrams one drain drops at most: a peer that keeps sending cannot hold
 * it. */
#define SR_NL_DRAIN_MAX 4096
#define SR_NL_BUF_MIN (16 * 1024)

struct sr_nl_sock {
	int fd;                     /* AF_NETLINK, non-blocking */
	uint32_t port;              /* ours */
	uint32_t peer;              /* who answers: 0, the kernel */
	uint32_t seq;               /* of the last request sent */
	unsigned int timeout_ms;    /* each request's deadline */
	uint8_t *buf;               /* as large as the largest datagram read */
	size_t cap;
};

/* One request's wait. */
struct reply_wait {
	int (*on_msg)(struct nlmsghdr *nlh, void *arg);
	void *arg;
	uint32_t seq;
	bool ack;                   /* NLM_F_ACK asked: an NLMSG_ERROR ends it */
	bool done;
	size_t delivered;           /* messages passed to on_msg */
	int msg_err;                /* on_msg's first error */
	int kernel_err;             /* nlmsgerr.error: 0 or -errno */
};

/* How a request ended, for its message. */
struct req_outcome {
	unsigned int tries;
	unsigned int timeout_ms;
	bool overrun;               /* the socket's ENOBUFS ended the last try */
	bool kernel;                /* the kernel's NLMSG_ERROR ended it */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Number msg as a new request from our port and send it to the peer. */
static int sock_send(struct sr_nl_sock *s, struct nl_msg *msg, uint32_t *seq)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK, .nl_pid = s->peer };
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	ssize_t n;

	nlh->nlmsg_seq = ++s->seq;
	nlh->nlmsg_pid = s->port;
	nlh->nlmsg_flags |= NLM_F_REQUEST;
	do
		n = sendto(s->fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	*seq = nlh->nlmsg_seq;
	return 0;
}

/* Wait until fd is readable or the deadline (ms of now_ms) has passed. */
static int sock_poll(int fd, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		int64_t left = deadline - now_ms();
		int r;

		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r > 0)
			return 0; /* POLLERR too: the receive reports it */
		if (r == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* The next datagram into s->buf, sized by a peek (MSG_TRUNC gives its whole
 * length). Its length; 0 for one that is not the peer's (another sender, a
 * multicast group); -EAGAIN when none is queued; -ENOBUFS after an overrun. */
static ssize_t sock_recv(struct sr_nl_sock *s)
{
	struct sockaddr_nl from;
	struct iovec iov;
	struct msghdr mh = { .msg_name = &from, .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	do
		n = recv(s->fd, NULL, 0, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if ((size_t)n > s->cap) {
		size_t cap = (size_t)n < SR_NL_BUF_MIN ? SR_NL_BUF_MIN : (size_t)n;
		uint8_t *p = realloc(s->buf, cap);

		if (!p)
			return -ENOMEM;
		s->buf = p;
		s->cap = cap;
	}
	iov = (struct iovec){ s->buf, s->cap };
	do {
		mh.msg_namelen = sizeof(from);
		n = recvmsg(s->fd, &mh, MSG_DONTWAIT);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (mh.msg_namelen != sizeof(from) || from.nl_pid != s->peer || from.nl_groups)
		return 0;
	return n;
}

/* The messages of one datagram that answer request w->seq; the others are
 * late answers to earlier requests. */
static void reply_dispatch(struct reply_wait *w, uint8_t *buf, size_t len)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)buf;
	int left = len > INT_MAX ? INT_MAX : (int)len;

	for (; !w->done && nlmsg_ok(nlh, left); nlh = nlmsg_next(nlh, &left)) {
		struct nlmsgerr *e = nlmsg_data(nlh);

		if (nlh->nlmsg_seq != w->seq || nlh->nlmsg_type == NLMSG_NOOP)
			continue;
		switch (nlh->nlmsg_type) {
		case NLMSG_ERROR:
			if (nlh->nlmsg_len < (uint32_t)nlmsg_size(sizeof(*e)))
				w->kernel_err = -EBADMSG;
			else
				w->kernel_err = e->error > 0 ? -e->error : e->error;
			w->done = true;
			break;
		case NLMSG_DONE:
			w->done = true;
			break;
		default:
			if (w->on_msg && !w->msg_err)
				w->msg_err = w->on_msg(nlh, w->arg);
			w->delivered++;
			if (!w->ack && !(nlh->nlmsg_flags & NLM_F_MULTI))
				w->done = true;
		}
	}
}

/* Read until request w is answered, within s->timeout_ms. */
static int reply_await(struct sr_nl_sock *s, struct reply_wait *w)
{
	int64_t deadline = now_ms() + s->timeout_ms;
	ssize_t n;
	int r;

	while (!w->done) {
		n = sock_recv(s);
		if (n == -EAGAIN) {
			if ((r = sock_poll(s->fd, deadline)))
				return r;
			continue;
		}
		if (n < 0)
			return (int)n;
		reply_dispatch(w, s->buf, (size_t)n);
		/* Datagrams that keep coming but never answer do not hold it. */
		if (!w->done && now_ms() >= deadline)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Drop what is queued: the rest of what came with an overrun. Reading the
 * queue empty also ends the kernel's congestion mark (netlink_rcv_wake). */
static void sock_drain(struct sr_nl_sock *s)
{
	for (int i = 0; i < SR_NL_DRAIN_MAX; i++)
		if (recv(s->fd, NULL, 0, MSG_TRUNC | MSG_DONTWAIT) < 0 && errno != EINTR &&
		    errno != ENOBUFS)
			return;
}

/* The kernel dropped an answer (the socket's ENOBUFS), or could not
 * allocate one: worth one more try. */
static bool reply_retry(int rc, const struct reply_wait *w)
{
	if (w->delivered)
		return false;
	if (w->kernel_err)
		return w->kernel_err == -ENOBUFS || w->kernel_err == -ENOMEM;
	return rc == -ENOBUFS;
}

/* Send msg and pass every message answering it to on_msg (may be NULL)
 * until it is answered: an NLMSG_ERROR (the ACK, 0) when it asks NLM_F_ACK,
 * else its one answer. Returns the kernel's -errno, else on_msg's first
 * error. out (may be NULL): how it ended. */
static int sr_nl_transact(struct sr_nl_sock *s, struct nl_msg *msg,
			  int (*on_msg)(struct nlmsghdr *, void *), void *arg,
			  struct req_outcome *out)
{
	struct req_outcome o = { .timeout_ms = s->timeout_ms };
	struct reply_wait w;
	int rc;

	for (;;) {
		w = (struct reply_wait){ .on_msg = on_msg, .arg = arg,
					 .ack = nlmsg_hdr(msg)->nlmsg_flags & NLM_F_ACK };
		o.tries++;
		rc = sock_send(s, msg, &w.seq);
		if (!rc)
			rc = reply_await(s, &w);
		o.overrun = rc == -ENOBUFS;
		o.kernel = !rc && w.kernel_err;
		if (!rc)
			rc = w.kernel_err ? w.kernel_err : w.msg_err;
		if (o.tries > 1 || !reply_retry(rc, &w))
			break;
		sock_drain(s);
	}
	if (out)
		*out = o;
	return rc;
}

static int sr_nl_send_sock(void *ctx, struct nl_msg *msg)
{
	return sr_nl_transact(ctx, msg, NULL, NULL, NULL);
}

bool sr_nl_no_answer(int err)
{
	return err == -ETIMEDOUT || err == -ENOBUFS;
}

/* err for request req on ifindex, which ended in rc as o says. */
static int req_fail(struct sr_err *err, int rc, const char *req, int ifindex,
		    const struct req_outcome *o)
{
	const char *twice = o->tries > 1 ? ", twice" : "";

	if (rc == -ETIMEDOUT && !o->kernel)
		return sr_err_set(err, rc, "netlink: %s ifindex %d: no answer within %u ms", req,
				  ifindex, o->timeout_ms);
	if (o->overrun)
		return sr_err_set(err, rc,
				  "netlink: %s ifindex %d: the socket overran (ENOBUFS: the kernel dropped the answer)%s",
				  req, ifindex, twice);
	if (o->kernel && (rc == -ENOBUFS || rc == -ENOMEM || rc == -EMSGSIZE))
		return sr_err_set(err, rc,
				  "netlink: %s ifindex %d: the kernel cannot build the answer: %s%s",
				  req, ifindex, strerror(-rc), twice);
	return sr_err_set(err, rc, "netlink: %s ifindex %d: %s", req, ifindex, strerror(-rc));
}

int sr_nl_open_peer(struct sr_nl *nl, int protocol, uint32_t peer_port)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(sa);
	int size = SR_NL_RCVBUF, rc;
	struct sr_nl_sock *s;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
	if (s->fd < 0) {
		rc = -errno;
		goto out_free_sock;
	}
	/* Past net.core.rmem_max when the agent may (CAP_NET_ADMIN), else as
	 * far as rmem_max goes: a read is one datagram and needs none of it. */
	if (setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		(void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &len)) {
		rc = -errno;
		goto out_close;
	}
	s->port = sa.nl_pid;
	s->peer = peer_port;
	s->seq = (uint32_t)time(NULL);
	s->timeout_ms = SR_NL_TIMEOUT_MS;

	*nl = (struct sr_nl){ .sock = s, .send = sr_nl_send_sock, .send_ctx = s };
	return 0;

out_close:
	close(s->fd);
out_free_sock:
	free(s);
	return rc;
}

int sr_nl_open(struct sr_nl *nl)
{
	return sr_nl_open_peer(nl, NETLINK_ROUTE, 0);
}

void sr_nl_close(struct sr_nl *nl)
{
	if (!nl)
		return;
	if (nl->sock) {
		close(nl->sock->fd);
		free(nl->sock->buf);
		free(nl->sock);
	}
	*nl = (struct sr_nl){ 0 };
}

void sr_nl_set_timeout(struct sr_nl *nl, unsigned int ms)
{
	if (nl && nl->sock)
		nl->sock->timeout_ms = ms ? ms : SR_NL_TIMEOUT_MS;
}

int sr_nl_fd(const struct sr_nl *nl)
{
	return nl && nl->sock ? nl->sock->fd : -1;
}

int sr_nl_ifindex(struct sr_nl *nl, const char *ifname, int *out, struct sr_err *err)
{
	unsigned int idx;
	int rc;

	(void)nl;
	if (!ifname || !ifname[0] || strlen(ifname) >= IF_NAMESIZE)
		return sr_err_set(err, -EINVAL, "netlink: ifname \"%s\": allowed 1..%d bytes",
				  ifname ? ifname : "(null)", IF_NAMESIZE - 1);
	errno = 0;
	idx = if_nametoindex(ifname);
	if (!idx) {
		rc = errno ? -errno : -ENODEV;
		return sr_err_set(err, rc, "netlink: no interface %s: %s", ifname, strerror(-rc));
	}
	*out = (int)idx;
	return 0;
}

/* ---- message builders --------------------------------------------------- */

static struct nl_msg *link_msg_alloc(int type, int ifindex, unsigned int flags,
				     unsigned int change)
{
	struct ifinfomsg ifi = {
		.ifi_family = AF_UNSPEC,
		.ifi_index = ifindex,
		.ifi_flags = flags,
		.ifi_change = change,
	};
	struct nl_msg *msg;

	msg = nlmsg_alloc_simple(type, NLM_F_REQUEST | NLM_F_ACK);
	if (!msg)
		return NULL;
	if (nlmsg_append(msg, &ifi, sizeof(ifi), NLMSG_ALIGNTO) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static bool rate_encodable(int64_t r)
{
	return r == SR_UNSET || (r >= 0 && r <= UINT32_MAX);
}

/* Not validation (that is done on the config): only refuses values that have
 * no encoding in the kernel attribute. */
static bool vf_attr_encodable(enum sr_vf_attr attr, const struct sr_vf_settings *s)
{
	switch (attr) {
	case SR_ATTR_VLAN:
		/* 0 clears the VLAN, so it is allowed here. */
		return s->vlan >= 0 && s->vlan <= SR_VLAN_MAX &&
		       (s->qos == SR_UNSET || (s->qos >= 0 && s->qos <= SR_QOS_MAX)) &&
		       (s->vlan_proto == SR_UNSET || s->vlan_proto == SR_ETH_P_8021Q ||
			s->vlan_proto == SR_ETH_P_8021AD);
	case SR_ATTR_SPOOFCHK:
		return s->spoofchk == 0 || s->spoofchk == 1;
	case SR_ATTR_TRUST:
		return s->trust == 0 || s->trust == 1;
	case SR_ATTR_LINK_STATE:
		return s->link_state >= SR_LINK_STATE_AUTO &&
		       s->link_state <= SR_LINK_STATE_DISABLE;
	case SR_ATTR_RATE:
		return rate_encodable(s->min_tx_rate) && rate_encodable(s->max_tx_rate);
	default:
		return true;
	}
}

static uint32_t rate_or_zero(int64_t r)
{
	return r == SR_UNSET ? 0 : (uint32_t)r;
}

/* Load the one attribute into a libnl VF object. */
static int libnl_vf_set(struct rtnl_link_vf *lvf, enum sr_vf_attr attr,
			const struct sr_vf_settings *s)
{
	struct nl_addr *addr;
	struct nl_vf_rate rate;

	switch (attr) {
	case SR_ATTR_MAC:
		addr = nl_addr_build(AF_LLC, s->mac, sizeof(s->mac));
		if (!addr)
			return -ENOMEM;
		rtnl_link_vf_set_addr(lvf, addr); /* takes its own reference */
		nl_addr_put(addr);
		return 0;
	case SR_ATTR_SPOOFCHK:
		rtnl_link_vf_set_spoofchk(lvf, (uint32_t)s->spoofchk);
		return 0;
	case SR_ATTR_TRUST:
		rtnl_link_vf_set_trust(lvf, (uint32_t)s->trust);
		return 0;
	case SR_ATTR_LINK_STATE:
		rtnl_link_vf_set_linkstate(lvf, (uint32_t)s->link_state);
		return 0;
	case SR_ATTR_RATE:
		/* IFLA_VF_RATE {vf, min, max}; an unset bound is written as 0. */
		memset(&rate, 0, sizeof(rate));
		rate.api = RTNL_LINK_VF_RATE_API_NEW;
		rate.min_tx_rate = rate_or_zero(s->min_tx_rate);
		rate.max_tx_rate = rate_or_zero(s->max_tx_rate);
		rtnl_link_vf_set_rate(lvf, &rate);
		return 0;
	default:
		return -EINVAL;
	}
}

/* Encode one attribute with libnl's VF API and append the attributes of the
 * IFLA_VF_INFO it produced to msg, inside the IFLA_VF_INFO nest the caller
 * has open. */
static int put_vf_attr_libnl(struct nl_msg *msg, int pf_ifindex, uint32_t vf,
			     enum sr_vf_attr attr, const struct sr_vf_settings *s)
{
	struct rtnl_link *orig, *changes;
	struct rtnl_link_vf *lvf;
	struct nl_msg *scratch;
	struct nlattr *list, *info, *a;
	int rc = -ENOMEM, rem;

	orig = rtnl_link_alloc();
	changes = rtnl_link_alloc();
	lvf = rtnl_link_vf_alloc();
	if (!orig || !changes || !lvf)
		goto out_put_objects;

	rtnl_link_set_ifindex(orig, pf_ifindex);
	rtnl_link_vf_set_index(lvf, vf);
	rc = libnl_vf_set(lvf, attr, s);
	if (rc < 0)
		goto out_put_objects;
	rc = rtnl_link_vf_add(changes, lvf);
	if (rc < 0) {
		rc = nle_to_errno(rc);
		goto out_put_objects;
	}
	rc = rtnl_link_build_change_request(orig, changes, 0, &scratch);
	if (rc < 0) {
		rc = nle_to_errno(rc);
		goto out_put_objects;
	}

	list = nlmsg_find_attr(nlmsg_hdr(scratch), sizeof(struct ifinfomsg),
			       IFLA_VFINFO_LIST);
	info = list ? nla_find(nla_data(list), nla_len(list), IFLA_VF_INFO) : NULL;
	rc = info ? 0 : -EPROTO;
	if (info) {
		/* nla_type keeps libnl's NLA_F_NESTED on nested ones */
		nla_for_each_nested(a, info, rem) {
			if (nla_put(msg, a->nla_type, nla_len(a), nla_data(a)) < 0) {
				rc = -EMSGSIZE;
				break;
			}
		}
	}

	nlmsg_free(scratch);
out_put_objects:
	rtnl_link_vf_put(lvf);
	rtnl_link_put(changes);
	rtnl_link_put(orig);
	return rc;
}

/* The VLAN attribute, inside the IFLA_VF_INFO nest the caller has open. */
static int put_vf_vlan(struct nl_msg *msg, uint32_t vf, const struct sr_vf_settings *s)
{
	uint16_t proto = s->vlan_proto == SR_UNSET ? SR_ETH_P_8021Q : (uint16_t)s->vlan_proto;
	uint32_t qos = s->qos == SR_UNSET ? 0 : (uint32_t)s->qos;
	struct nlattr *vlans;

	if (proto == SR_ETH_P_8021Q) {
		struct ifla_vf_vlan v;

		memset(&v, 0, sizeof(v));
		v.vf = vf;
		v.vlan = (uint32_t)s->vlan;
		v.qos = qos;
		if (nla_put(msg, IFLA_VF_VLAN, sizeof(v), &v) < 0)
			return -EMSGSIZE;
	} else {
		struct ifla_vf_vlan_info vi;

		memset(&vi, 0, sizeof(vi)); /* the struct has tail padding */
		vi.vf = vf;
		vi.vlan = (uint32_t)s->vlan;
		vi.qos = qos;
		vi.vlan_proto = htons(proto);
		vlans = nla_nest_start(msg, IFLA_VF_VLAN_LIST);
		if (!vlans)
			return -EMSGSIZE;
		if (nla_put(msg, IFLA_VF_VLAN_INFO, sizeof(vi), &vi) < 0)
			return -EMSGSIZE;
		nla_nest_end(msg, vlans);
	}
	return 0;
}

/* IFLA_VFINFO_LIST > IFLA_VF_INFO > the attributes of mask, in enum order. */
static int put_vf_info(struct nl_msg *msg, int pf_ifindex, uint32_t vf, unsigned int mask,
		       const struct sr_vf_settings *s)
{
	struct nlattr *list, *info;
	int rc;

	list = nla_nest_start(msg, IFLA_VFINFO_LIST);
	if (!list)
		return -EMSGSIZE;
	info = nla_nest_start(msg, IFLA_VF_INFO);
	if (!info)
		return -EMSGSIZE;
	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		if (!(mask & (1u << a)))
			continue;
		if (a == SR_ATTR_VLAN)
			rc = put_vf_vlan(msg, vf, s);
		else
			rc = put_vf_attr_libnl(msg, pf_ifindex, vf, (enum sr_vf_attr)a, s);
		if (rc < 0)
			return rc;
	}
	nla_nest_end(msg, info);
	nla_nest_end(msg, list);
	return 0;
}

int sr_nl_put_vf(struct nl_msg *msg, int pf_ifindex, uint32_t vf,
		 const struct sr_vf_settings *s, unsigned int *attrs)
{
	unsigned int mask = 0;

	if (!msg || pf_ifindex <= 0 || !s)
		return -EINVAL;
	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		if (!sr_vf_attr_is_set((enum sr_vf_attr)a, s))
			continue;
		if (!vf_attr_encodable((enum sr_vf_attr)a, s))
			return -EINVAL;
		mask |= 1u << a;
	}
	if (!mask)
		return -ENODATA;
	if (attrs)
		*attrs = mask;
	return put_vf_info(msg, pf_ifindex, vf, mask, s);
}

int sr_nl_build_vf(int pf_ifindex, uint32_t vf, const struct sr_vf_settings *s,
		   unsigned int *attrs, struct nl_msg **out)
{
	struct nl_msg *msg;
	int rc;

	if (pf_ifindex <= 0 || !s || !out)
		return -EINVAL;
	msg = link_msg_alloc(RTM_SETLINK, pf_ifindex, 0, 0);
	if (!msg)
		return -ENOMEM;
	rc = sr_nl_put_vf(msg, pf_ifindex, vf, s, attrs);
	if (rc < 0) {
		nlmsg_free(msg);
		return rc;
	}
	*out = msg;
	return 0;
}

int sr_nl_build_vf_attr(int pf_ifindex, uint32_t vf, enum sr_vf_attr attr,
			const struct sr_vf_settings *s, struct nl_msg **out)
{
	struct nl_msg *msg;
	int rc;

	if (pf_ifindex <= 0 || (unsigned int)attr >= SR_ATTR__COUNT || !s || !out)
		return -EINVAL;
	if (!sr_vf_attr_is_set(attr, s))
		return -ENODATA;
	if (!vf_attr_encodable(attr, s))
		return -EINVAL;

	msg = link_msg_alloc(RTM_SETLINK, pf_ifindex, 0, 0);
	if (!msg)
		return -ENOMEM;
	rc = put_vf_info(msg, pf_ifindex, vf, 1u << attr, s);
	if (rc < 0) {
		nlmsg_free(msg);
		return rc;
	}
	*out = msg;
	return 0;
}

int sr_nl_build_link_up(int ifindex, struct nl_msg **out)
{
	struct nl_msg *msg;

	if (ifindex <= 0 || !out)
		return -EINVAL;
	/* ifi_change = IFF_UP: the kernel touches no other flag. */
	msg = link_msg_alloc(RTM_SETLINK, ifindex, IFF_UP, IFF_UP);
	if (!msg)
		return -ENOMEM;
	*out = msg;
	return 0;
}

/* ---- writes ------------------------------------------------------------- */

/* Today's path: one request per set attribute, each outcome its own. */
static int apply_vf_each(struct sr_nl *nl, int pf_ifindex, uint32_t vf,
			 const struct sr_vf_settings *s, int result[SR_ATTR__COUNT],
			 struct sr_err *err)
{
	int first = 0;

	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		struct nl_msg *msg;
		int rc;

		rc = sr_nl_build_vf_attr(pf_ifindex, vf, (enum sr_vf_attr)a, s, &msg);
		if (rc == -ENODATA)
			continue;
		if (rc == 0) {
			rc = nl->send(nl->send_ctx, msg);
			nlmsg_free(msg);
		}
		result[a] = rc;
		if (sr_nl_no_answer(rc)) {
			/* The next would wait as long: not tried. */
			return sr_err_set(err, rc, "netlink: ifindex %d VF %u %s: no answer from the kernel: %s",
					  pf_ifindex, vf, sr_vf_attr_name(a), strerror(-rc));
		}
		if (rc < 0 && !first)
			first = sr_err_set(err, rc, "netlink: ifindex %d VF %u %s: %s", pf_ifindex, vf,
					   sr_vf_attr_name(a), strerror(-rc));
	}
	return first;
}

int sr_nl_apply_vf(struct sr_nl *nl, int pf_ifindex, uint32_t vf,
		   const struct sr_vf_settings *s, int result[SR_ATTR__COUNT], struct sr_err *err)
{
	struct nl_msg *msg;
	unsigned int mask = 0;
	int rc;

	for (int a = 0; a < SR_ATTR__COUNT; a++)
		result[a] = SR_ATTR_NOT_TRIED;
	if (!nl || !nl->send || !s)
		return sr_err_set(err, -EINVAL, "netlink: no sender or no settings for VF %u", vf);

	/* One request with every attribute. A value with no encoding, or a
	 * single attribute (the same request either way), goes the
	 * per-attribute way directly. */
	rc = sr_nl_build_vf(pf_ifindex, vf, s, &mask, &msg);
	if (rc == -ENODATA)
		return 0;
	if (rc < 0 || (mask & (mask - 1)) == 0) {
		if (rc == 0)
			nlmsg_free(msg);
		return apply_vf_each(nl, pf_ifindex, vf, s, result, err);
	}
	rc = nl->send(nl->send_ctx, msg);
	nlmsg_free(msg);
	if (rc == 0 || sr_nl_no_answer(rc)) {
		for (int a = 0; a < SR_ATTR__COUNT; a++)
			if (mask & (1u << a))
				result[a] = rc;
		if (rc)
			return sr_err_set(err, rc,
					  "netlink: ifindex %d VF %u: no answer from the kernel: %s",
					  pf_ifindex, vf, strerror(-rc));
		return 0;
	}
	/* The kernel stops at the first refusal and says which errno, not
	 * which attribute: ask again one attribute at a time. Those before the
	 * refused one were already applied; writing them again is harmless. */
	return apply_vf_each(nl, pf_ifindex, vf, s, result, err);
}

/* ---- reads -------------------------------------------------------------- */

/* Copy attribute a into dst when it is present and long enough. */
static bool attr_get(const struct nlattr *a, void *dst, size_t len)
{
	if (!a || nla_len(a) < 0 || (size_t)nla_len(a) < len)
		return false;
	memcpy(dst, nla_data(a), len);
	return true;
}

/* The VF number: every IFLA_VF_* struct starts with __u32 vf. Falls back to
 * the entry's position when no attribute carries one. */
static uint32_t vf_info_index(struct nlattr *t[], uint32_t position)
{
	static const int carriers[] = {
		IFLA_VF_MAC, IFLA_VF_VLAN, IFLA_VF_TX_RATE, IFLA_VF_SPOOFCHK,
		IFLA_VF_LINK_STATE, IFLA_VF_RATE, IFLA_VF_TRUST,
	};
	uint32_t vf;

	for (size_t i = 0; i < sizeof(carriers) / sizeof(carriers[0]); i++)
		if (attr_get(t[carriers[i]], &vf, sizeof(vf)))
			return vf;
	return position;
}

static void parse_vf_vlan(struct nlattr *t[], struct sr_vf_settings *s)
{
	struct ifla_vf_vlan_info vi;
	struct ifla_vf_vlan v;
	uint32_t vlan = 0, qos = 0, proto = 0;
	struct nlattr *a;
	bool found = false;
	int rem;

	if (t[IFLA_VF_VLAN_LIST]) {
		nla_for_each_nested(a, t[IFLA_VF_VLAN_LIST], rem) {
			if (nla_type(a) == IFLA_VF_VLAN_INFO && attr_get(a, &vi, sizeof(vi))) {
				vlan = vi.vlan;
				qos = vi.qos;
				proto = ntohs(vi.vlan_proto);
				found = true;
				break;
			}
		}
	}
	if (!found && attr_get(t[IFLA_VF_VLAN], &v, sizeof(v))) {
		vlan = v.vlan;
		qos = v.qos;
		proto = SR_ETH_P_8021Q;
		found = true;
	}
	if (!found || vlan > SR_VLAN_MAX || qos > SR_QOS_MAX)
		return;
	s->vlan = (int32_t)vlan;
	s->qos = (int32_t)qos;
	s->vlan_proto = proto ? (int32_t)proto : SR_ETH_P_8021Q;
}

/* Kernel reports -1 when the driver does not say. */
static int8_t parse_onoff(uint32_t setting)
{
	if (setting == UINT32_MAX)
		return SR_UNSET;
	return setting ? 1 : 0;
}

/* Parse one IFLA_VF_INFO into vfs[]. Returns 0 when placed, -ERANGE when its
 * VF number is outside 0..num-1. */
static int parse_vf_info(struct nlattr *vfi, uint32_t position,
			 struct sr_vf_settings *vfs, uint32_t num)
{
	struct nlattr *t[IFLA_VF_MAX + 1];
	struct ifla_vf_mac mac;
	struct ifla_vf_spoofchk sc;
	struct ifla_vf_trust tr;
	struct ifla_vf_link_state ls;
	struct ifla_vf_rate rate;
	struct ifla_vf_tx_rate txr;
	struct sr_vf_settings *s;
	uint32_t idx;

	if (nla_parse_nested(t, IFLA_VF_MAX, vfi, NULL) < 0)
		return -EBADMSG;
	idx = vf_info_index(t, position);
	if (idx >= num)
		return -ERANGE;
	s = &vfs[idx];

	if (attr_get(t[IFLA_VF_MAC], &mac, sizeof(mac))) {
		s->has_mac = true;
		memcpy(s->mac, mac.mac, sizeof(s->mac));
	}
	parse_vf_vlan(t, s);
	if (attr_get(t[IFLA_VF_SPOOFCHK], &sc, sizeof(sc)))
		s->spoofchk = parse_onoff(sc.setting);
	if (attr_get(t[IFLA_VF_TRUST], &tr, sizeof(tr)))
		s->trust = parse_onoff(tr.setting);
	if (attr_get(t[IFLA_VF_LINK_STATE], &ls, sizeof(ls)) &&
	    ls.link_state <= SR_LINK_STATE_DISABLE)
		s->link_state = (int8_t)ls.link_state;
	if (attr_get(t[IFLA_VF_RATE], &rate, sizeof(rate))) {
		s->min_tx_rate = rate.min_tx_rate;
		s->max_tx_rate = rate.max_tx_rate;
	} else if (attr_get(t[IFLA_VF_TX_RATE], &txr, sizeof(txr))) {
		s->max_tx_rate = txr.rate;
	}
	return 0;
}

/* The IFLA_VFINFO_LIST's payload length. The kernel closes a nest by
 * storing its length in the 16-bit nla_len without a check, so a list over
 * 64 KiB (256 VFs with IFLA_VF_BROADCAST and IFLA_VF_STATS, from a kernel
 * that sends VF stats despite RTEXT_FILTER_SKIP_STATS) arrives with its
 * length modulo 65536 and its entries running on past that. The true
 * length is taken when the IFLA_VF_INFO entries that follow one another in
 * the rem bytes left in the message span exactly that modulo 65536; else
 * the declared length. -1: neither fits in rem (no usable list). */
static ssize_t vf_list_len(struct nlattr *list, int rem)
{
	struct nlattr *e = nla_data(list);
	int left = rem - NLA_HDRLEN;
	size_t walked = 0;

	while (nla_ok(e, left) && nla_type(e) == IFLA_VF_INFO) {
		walked += NLA_ALIGN(e->nla_len);
		e = nla_next(e, &left);
	}
	if (walked + NLA_HDRLEN > UINT16_MAX &&
	    ((walked + NLA_HDRLEN) & UINT16_MAX) == list->nla_len)
		return (ssize_t)walked;
	if (list->nla_len < NLA_HDRLEN || list->nla_len > rem)
		return -1;
	return list->nla_len - NLA_HDRLEN;
}

/* The two top-level attributes the parser reads; list_len: vf_list_len.
 * Walked by hand so that a wrapped list is stepped over whole and its tail
 * is not taken for top-level attributes. */
static void find_vf_attrs(struct nlmsghdr *nlh, struct nlattr **num, struct nlattr **list,
			  size_t *list_len)
{
	struct nlattr *a = nlmsg_attrdata(nlh, sizeof(struct ifinfomsg));
	int rem = nlmsg_attrlen(nlh, sizeof(struct ifinfomsg));
	ssize_t len;
	size_t step;

	*num = *list = NULL;
	*list_len = 0;
	while (rem >= NLA_HDRLEN) {
		if (nla_type(a) == IFLA_VFINFO_LIST && !*list) {
			len = vf_list_len(a, rem);
			if (len < 0)
				return;
			*list = a;
			*list_len = (size_t)len;
			step = NLA_ALIGN((size_t)len + NLA_HDRLEN);
			if ((size_t)rem < step)
				return;
			rem -= (int)step;
			a = (struct nlattr *)((char *)a + step);
			continue;
		}
		if (!nla_ok(a, rem))
			return;
		if (nla_type(a) == IFLA_NUM_VF && !*num)
			*num = a;
		a = nla_next(a, &rem);
	}
}

int sr_nl_parse_vfs(struct nlmsghdr *nlh, struct sr_vf_settings **out, size_t *n_out,
		    bool *truncated, struct sr_err *err)
{
	struct sr_vf_settings *vfs = NULL;
	uint32_t num = 0, placed = 0, position = 0;
	struct nlattr *num_attr, *list, *vfi;
	size_t list_len;
	int rem;

	if (!nlh || !out || !n_out || !truncated)
		return sr_err_set(err, -EINVAL, "netlink: no message to parse");
	if (nlh->nlmsg_type != RTM_NEWLINK)
		return sr_err_set(err, -EPROTO, "netlink: message type %u, expected RTM_NEWLINK",
				  nlh->nlmsg_type);
	if (!nlmsg_valid_hdr(nlh, sizeof(struct ifinfomsg)))
		return sr_err_set(err, -EBADMSG, "netlink: RTM_NEWLINK shorter than ifinfomsg");
	find_vf_attrs(nlh, &num_attr, &list, &list_len);

	if (attr_get(num_attr, &num, sizeof(num)) && num > SR_NL_MAX_VFS)
		return sr_err_set(err, -EBADMSG, "netlink: IFLA_NUM_VF %u: allowed 0..%u",
				  num, SR_NL_MAX_VFS);
	if (num) {
		vfs = calloc(num, sizeof(*vfs));
		if (!vfs)
			return sr_err_set(err, -ENOMEM, "netlink: %u VF settings: out of memory",
					  num);
		for (uint32_t i = 0; i < num; i++)
			sr_vf_settings_init(&vfs[i]);
	}

	if (num && list) {
		nla_for_each_attr(vfi, (struct nlattr *)nla_data(list), (int)list_len, rem) {
			if (nla_type(vfi) != IFLA_VF_INFO)
				continue;
			if (parse_vf_info(vfi, position, vfs, num) == 0)
				placed++;
			position++;
		}
	}

	*out = vfs;
	*n_out = num;
	*truncated = placed < num;
	return 0;
}

struct read_vfs_ctx {
	int ifindex;
	bool got;
	struct sr_vf_settings *vfs;
	size_t n;
	bool truncated;
	int parse_err;  /* the parser's error: it wrote err */
	struct sr_err *err;
};

static int read_vfs_reply(struct nlmsghdr *nlh, void *arg)
{
	struct read_vfs_ctx *c = arg;
	struct ifinfomsg *ifi;

	if (c->got || nlh->nlmsg_type != RTM_NEWLINK ||
	    !nlmsg_valid_hdr(nlh, sizeof(*ifi)))
		return 0;
	ifi = nlmsg_data(nlh);
	if (ifi->ifi_index != c->ifindex)
		return 0;
	c->got = true;
	c->parse_err = sr_nl_parse_vfs(nlh, &c->vfs, &c->n, &c->truncated, c->err);
	return c->parse_err;
}

/* A read asks no ACK: its answer (or an NLMSG_ERROR) is the whole reply. */
static int getlink_alloc(int ifindex, uint32_t ext_mask, struct nl_msg **out)
{
	struct nl_msg *msg;

	msg = link_msg_alloc(RTM_GETLINK, ifindex, 0, 0);
	if (!msg)
		return -ENOMEM;
	nlmsg_hdr(msg)->nlmsg_flags &= ~NLM_F_ACK;
	if (ext_mask && nla_put_u32(msg, IFLA_EXT_MASK, ext_mask) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	*out = msg;
	return 0;
}

int sr_nl_read_vfs(struct sr_nl *nl, int pf_ifindex, struct sr_vf_settings **out,
		   size_t *n_out, bool *truncated, struct sr_err *err)
{
	struct read_vfs_ctx c = { .ifindex = pf_ifindex, .err = err };
	struct req_outcome o;
	struct nl_msg *msg;
	int rc;

	if (!nl || !nl->sock)
		return sr_err_set(err, -ENOTCONN, "netlink: no socket to read ifindex %d",
				  pf_ifindex);
	if (pf_ifindex <= 0 || !out || !n_out || !truncated)
		return sr_err_set(err, -EINVAL, "netlink: ifindex %d: allowed 1..%d",
				  pf_ifindex, INT32_MAX);

	/* SKIP_STATS: the VF list without IFLA_VF_STATS (a third of each
	 * entry, and no driver stats call per VF) on kernels that honour it
	 * for VFs; older ones ignore the bit. */
	rc = getlink_alloc(pf_ifindex, RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS, &msg);
	if (rc < 0)
		return sr_err_set(err, rc, "netlink: RTM_GETLINK ifindex %d: %s", pf_ifindex,
				  strerror(-rc));
	rc = sr_nl_transact(nl->sock, msg, read_vfs_reply, &c, &o);
	nlmsg_free(msg);
	if (rc < 0 && c.parse_err == rc)
		goto out_free_vfs; /* the parser wrote err */
	if (rc < 0) {
		req_fail(err, rc, "RTM_GETLINK", pf_ifindex, &o);
		goto out_free_vfs;
	}
	if (!c.got) {
		rc = sr_err_set(err, -EPROTO, "netlink: RTM_GETLINK ifindex %d: no RTM_NEWLINK reply",
				pf_ifindex);
		goto out_free_vfs;
	}

	*out = c.vfs;
	*n_out = c.n;
	*truncated = c.truncated;
	return 0;

out_free_vfs:
	free(c.vfs);
	return rc;
}

struct read_flags_ctx {
	int ifindex;
	bool got;
	unsigned int flags;
};

static int read_flags_reply(struct nlmsghdr *nlh, void *arg)
{
	struct read_flags_ctx *c = arg;
	struct ifinfomsg *ifi;

	if (c->got || nlh->nlmsg_type != RTM_NEWLINK || !nlmsg_valid_hdr(nlh, sizeof(*ifi)))
		return 0;
	ifi = nlmsg_data(nlh);
	if (ifi->ifi_index != c->ifindex)
		return 0;
	c->flags = ifi->ifi_flags;
	c->got = true;
	return 0;
}

int sr_nl_link_up(struct sr_nl *nl, int ifindex, bool *was_down, struct sr_err *err)
{
	struct read_flags_ctx c = { .ifindex = ifindex };
	struct req_outcome o;
	struct nl_msg *msg;
	bool down;
	int rc;

	if (!nl || !nl->sock || !nl->send)
		return sr_err_set(err, -ENOTCONN, "netlink: no socket to bring ifindex %d up",
				  ifindex);
	if (ifindex <= 0 || !was_down)
		return sr_err_set(err, -EINVAL, "netlink: ifindex %d: allowed 1..%d", ifindex,
				  INT32_MAX);

	rc = getlink_alloc(ifindex, 0, &msg);
	if (rc < 0)
		return sr_err_set(err, rc, "netlink: RTM_GETLINK ifindex %d: %s", ifindex,
				  strerror(-rc));
	rc = sr_nl_transact(nl->sock, msg, read_flags_reply, &c, &o);
	nlmsg_free(msg);
	if (rc < 0)
		return req_fail(err, rc, "RTM_GETLINK", ifindex, &o);
	if (!c.got)
		return sr_err_set(err, -EPROTO, "netlink: RTM_GETLINK ifindex %d: no RTM_NEWLINK reply",
				  ifindex);

	down = !(c.flags & IFF_UP);
	if (down) {
		rc = sr_nl_build_link_up(ifindex, &msg);
		if (rc < 0)
			return sr_err_set(err, rc, "netlink: ifindex %d: cannot build IFF_UP: %s",
					  ifindex, strerror(-rc));
		rc = nl->send(nl->send_ctx, msg);
		nlmsg_free(msg);
		if (rc < 0)
			return sr_err_set(err, rc, "netlink: ifindex %d: set IFF_UP: %s", ifindex,
					  strerror(-rc));
	}
	*was_down = down;
	return 0;
}
