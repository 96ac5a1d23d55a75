/* SPDX-License-Identifier: MIT */
/*
 * VF configuration through the PF with rtnetlink (libnl-route).
 * Builders are pure: they append to a message the caller owns, so tests
 * round-trip them without a socket. All writes go through one sender.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h"

struct nl_msg;
struct nlmsghdr;
struct sr_nl_sock;

/* Sends one request and waits for its ACK; returns 0 or -errno. */
typedef int (*sr_nl_send_fn)(void *ctx, struct nl_msg *msg);

struct sr_nl {
	struct sr_nl_sock *sock;      /* sr_nl_open's; NULL when a test replaced send */
	sr_nl_send_fn send;
	void *send_ctx;               /* sr_nl_open: sock */
};

/* How long a request waits for its answer unless sr_nl_set_timeout says. */
#define SR_NL_TIMEOUT_MS 5000u
/* The receive buffer asked for (SO_RCVBUFFORCE, else SO_RCVBUF, which the
 * kernel caps at net.core.rmem_max): the largest RTM_GETLINK answer the
 * kernel can build (one kmalloc, at most 4 MiB) with room for an ACK. */
#define SR_NL_RCVBUF (4 << 20)

/* A NETLINK_ROUTE socket to the kernel. Non-blocking: every receive waits
 * in poll() for at most the request's deadline; an answer is one whose
 * sequence number is the request's (late answers to an earlier request are
 * dropped); an overrun (ENOBUFS) is answered by draining the socket and
 * asking once more. 0 or -errno. */
int sr_nl_open(struct sr_nl *nl);
/* The same socket on protocol, sending to peer_port: sr_nl_open is
 * (NETLINK_ROUTE, 0: the kernel). Tests use NETLINK_USERSOCK with a
 * user-space peer that answers as the kernel would. */
int sr_nl_open_peer(struct sr_nl *nl, int protocol, uint32_t peer_port);
void sr_nl_close(struct sr_nl *nl);
/* Each request's deadline from now on: ms (0: SR_NL_TIMEOUT_MS). Nothing
 * without a socket. */
void sr_nl_set_timeout(struct sr_nl *nl, unsigned int ms);
/* The socket's fd (-1 without one): for poll() and for tests. */
int sr_nl_fd(const struct sr_nl *nl);
/* True for the errors that say the kernel did not answer a request: none
 * within the deadline (-ETIMEDOUT), or the answer dropped twice (-ENOBUFS:
 * the socket overran, or the kernel could not allocate it). The PF's next
 * requests would wait the same: callers stop there. */
bool sr_nl_no_answer(int err);

int sr_nl_ifindex(struct sr_nl *nl, const char *ifname, int *out, struct sr_err *err);

/* Build the RTM_SETLINK request for one attribute of VF vf on PF ifindex
 * from s. -ENODATA when s leaves that attribute unset. */
int sr_nl_build_vf_attr(int pf_ifindex, uint32_t vf, enum sr_vf_attr attr,
			const struct sr_vf_settings *s, struct nl_msg **out);

/* Append to msg (the caller's RTM_SETLINK) one IFLA_VFINFO_LIST for VF vf
 * with every attribute s sets, in enum order; *attrs (may be NULL) gets the
 * bit (1 << attr) of each. -ENODATA when s sets none, -EINVAL when a set
 * value has no encoding (nothing appended then). */
int sr_nl_put_vf(struct nl_msg *msg, int pf_ifindex, uint32_t vf,
		 const struct sr_vf_settings *s, unsigned int *attrs);

/* sr_nl_put_vf into a new RTM_SETLINK request for PF pf_ifindex. */
int sr_nl_build_vf(int pf_ifindex, uint32_t vf, const struct sr_vf_settings *s,
		   unsigned int *attrs, struct nl_msg **out);

/* Write every set attribute of s: one request with all of them; only when
 * that fails (or a value has no encoding), one request per attribute in enum
 * order, as the kernel says nothing of which attribute it refused. Each
 * outcome goes to result[attr] (SR_ATTR_NOT_TRIED when unset). Returns 0
 * when all attempted succeeded, else the first error. */
int sr_nl_apply_vf(struct sr_nl *nl, int pf_ifindex, uint32_t vf,
		   const struct sr_vf_settings *s, int result[SR_ATTR__COUNT], struct sr_err *err);

/* Read every VF's settings of the PF: one RTM_GETLINK with IFLA_EXT_MASK
 * RTEXT_FILTER_VF | RTEXT_FILTER_SKIP_STATS, whatever the answer's size.
 * *out is indexed by VF number, *n_out = IFLA_NUM_VF. *truncated is set when
 * the VF list held fewer entries than IFLA_NUM_VF. */
int sr_nl_read_vfs(struct sr_nl *nl, int pf_ifindex, struct sr_vf_settings **out,
		   size_t *n_out, bool *truncated, struct sr_err *err);

/* The pure half of sr_nl_read_vfs: parse one RTM_NEWLINK message (IFLA_NUM_VF,
 * IFLA_VFINFO_LIST). *out (NULL when IFLA_NUM_VF is 0 or absent) is owned by
 * the caller; fields the message does not carry stay SR_UNSET. A VF list
 * over 64 KiB, whose 16-bit nla_len the kernel wrapped, is read whole. */
int sr_nl_parse_vfs(struct nlmsghdr *nlh, struct sr_vf_settings **out, size_t *n_out,
		    bool *truncated, struct sr_err *err);

/* Bring the link up if it is down (IFF_UP). *was_down set accordingly. */
int sr_nl_link_up(struct sr_nl *nl, int ifindex, bool *was_down, struct sr_err *err);

/* Build the RTM_SETLINK request that sets IFF_UP (and only IFF_UP). */
int sr_nl_build_link_up(int ifindex, struct nl_msg **out);
