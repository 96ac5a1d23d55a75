/* SPDX-License-Identifier: MIT */
/*
 * Kernel event monitor (monitor.h): the watch set, the parsers of
 * rtnetlink link notifications and kernel uevents, the debounce and echo
 * decisions (all pure), and the two netlink sockets.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "monitor.h"

void sr_mon_watch_init(struct sr_mon_watch *w)
{
	memset(w, 0, sizeof(*w));
}

void sr_mon_watch_free(struct sr_mon_watch *w)
{
	free(w->pci);
	free(w->ifname);
	sr_mon_watch_init(w);
}

void sr_mon_watch_clear(struct sr_mon_watch *w)
{
	w->n_pci = 0;
	w->n_ifname = 0;
}

/* Make room for one more element of size sz in *arr (n used, *cap held). */
static int grow(void **arr, size_t n, size_t *cap, size_t sz)
{
	void *p;
	size_t c;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	p = realloc(*arr, c * sz);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

int sr_mon_watch_add_pci(struct sr_mon_watch *w, const char *pci)
{
	if (!pci || !sr_valid_pci(pci))
		return 0;
	if (grow((void **)&w->pci, w->n_pci, &w->cap_pci, sizeof(*w->pci)))
		return -ENOMEM;
	strcpy(w->pci[w->n_pci++], pci);
	return 0;
}

int sr_mon_watch_add_ifname(struct sr_mon_watch *w, const char *ifname)
{
	if (!ifname || !sr_valid_ifname(ifname))
		return 0;
	if (grow((void **)&w->ifname, w->n_ifname, &w->cap_ifname, sizeof(*w->ifname)))
		return -ENOMEM;
	strcpy(w->ifname[w->n_ifname++], ifname);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Sort n strings of size sz and drop duplicates; returns the new count. */
static size_t sort_unique(void *arr, size_t n, size_t sz)
{
	char *p = arr;
	size_t out = 0;

	if (!n)
		return 0;
	qsort(arr, n, sz, cmp_str);
	for (size_t i = 1; i < n; i++)
		if (strcmp(p + i * sz, p + out * sz))
			memmove(p + ++out * sz, p + i * sz, sz);
	return out + 1;
}

void sr_mon_watch_seal(struct sr_mon_watch *w)
{
	w->n_pci = sort_unique(w->pci, w->n_pci, sizeof(*w->pci));
	w->n_ifname = sort_unique(w->ifname, w->n_ifname, sizeof(*w->ifname));
}

bool sr_mon_watch_has_pci(const struct sr_mon_watch *w, const char *pci)
{
	return w->n_pci && bsearch(pci, w->pci, w->n_pci, sizeof(*w->pci), cmp_str);
}

bool sr_mon_watch_has_ifname(const struct sr_mon_watch *w, const char *ifname)
{
	return w->n_ifname && bsearch(ifname, w->ifname, w->n_ifname, sizeof(*w->ifname), cmp_str);
}

/* IFLA_IFNAME ("" when absent or not a NUL-terminated name of at most
 * IF_NAMESIZE bytes), flags, IFLA_OPERSTATE and IFLA_CARRIER of one link
 * message. */
static void link_read(const struct nlmsghdr *nlh, struct sr_mon_linkstate *out)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	const struct rtattr *rta = IFLA_RTA(ifi);
	int left = (int)nlh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));

	out->ifname[0] = '\0';
	out->flags = ifi->ifi_flags;
	out->operstate = out->carrier = -1;
	for (; RTA_OK(rta, left); rta = RTA_NEXT(rta, left)) {
		size_t n = RTA_PAYLOAD(rta);

		if (rta->rta_type == IFLA_IFNAME && n && n <= IF_NAMESIZE &&
		    memchr(RTA_DATA(rta), '\0', n))
			memcpy(out->ifname, RTA_DATA(rta), n);
		else if (rta->rta_type == IFLA_OPERSTATE && n >= 1)
			out->operstate = *(const uint8_t *)RTA_DATA(rta);
		else if (rta->rta_type == IFLA_CARRIER && n >= 1)
			out->carrier = *(const uint8_t *)RTA_DATA(rta);
	}
}

void sr_mon_links_free(struct sr_mon_links *l)
{
	free(l->e);
	memset(l, 0, sizeof(*l));
}

/* <net/if.h> (in monitor.h) stops before these; <linux/if.h> clashes with it. */
#define SR_IFF_LOWER_UP 0x10000
#define SR_IFF_DORMANT 0x20000
#define LINK_STATE_FLAGS (IFF_RUNNING | SR_IFF_LOWER_UP | SR_IFF_DORMANT)

bool sr_mon_link_state_only(const struct sr_mon_linkstate *prev,
			    const struct sr_mon_linkstate *cur)
{
	bool state_changed = (prev->flags ^ cur->flags) & LINK_STATE_FLAGS ||
			     prev->operstate != cur->operstate || prev->carrier != cur->carrier;

	return state_changed && !((prev->flags ^ cur->flags) & ~LINK_STATE_FLAGS);
}

/* Remember cur as its netdev's state; true when it changed the link state
 * only. A netdev seen for the first time (or no room to remember it) is
 * not a link-state change. */
static bool link_state_only(struct sr_mon_links *l, const struct sr_mon_linkstate *cur)
{
	bool only;
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].ifname, cur->ifname))
			break;
	if (i == l->n) {
		if (grow((void **)&l->e, l->n, &l->cap, sizeof(*l->e)))
			return false;
		l->e[l->n++] = *cur;
		return false;
	}
	only = sr_mon_link_state_only(&l->e[i], cur);
	l->e[i] = *cur;
	return only;
}

/* One whole message at nlh in left bytes (NLMSG_OK, without its signed
 * and unsigned comparison). */
static bool msg_ok(const struct nlmsghdr *nlh, int left)
{
	return left >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned int)left;
}

size_t sr_mon_parse_link(const void *buf, size_t len, const struct sr_mon_watch *w,
			 struct sr_mon_links *links, size_t *ours, size_t *others,
			 struct sr_mon_event *first)
{
	const struct nlmsghdr *nlh = buf;
	size_t seen = 0, mine = 0, other = 0;
	int left = len > (size_t)INT32_MAX ? INT32_MAX : (int)len;

	if (first)
		first->ours = false;
	for (; msg_ok(nlh, left); nlh = NLMSG_NEXT(nlh, left)) {
		struct sr_mon_linkstate ls;
		bool del = nlh->nlmsg_type == RTM_DELLINK;

		if (nlh->nlmsg_type != RTM_NEWLINK && !del)
			continue;
		seen++;
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
			other++;
			continue;
		}
		link_read(nlh, &ls);
		if (!ls.ifname[0] || !sr_mon_watch_has_ifname(w, ls.ifname) ||
		    (!del && links && link_state_only(links, &ls))) {
			other++;
			continue;
		}
		if (!mine++ && first) {
			first->ours = true;
			snprintf(first->desc, sizeof(first->desc), "%s %s",
				 del ? "RTM_DELLINK" : "RTM_NEWLINK", ls.ifname);
		}
	}
	*ours = mine;
	*others = other;
	return seen;
}

/* The value of key in a uevent's KEY=VALUE strings, or NULL. A last
 * string without its NUL inside the buffer is not read. */
static const char *uevent_get(const char *p, const char *end, const char *key)
{
	size_t kl = strlen(key);

	while (p < end) {
		size_t n = strnlen(p, (size_t)(end - p));

		if (n == (size_t)(end - p))
			return NULL;
		if (n > kl && p[kl] == '=' && !memcmp(p, key, kl))
			return p + kl + 1;
		p += n + 1;
	}
	return NULL;
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* The first component of devpath that is a watched PCI address, into out. */
static bool devpath_watched(const char *devpath, const struct sr_mon_watch *w,
			    char out[SR_PCI_LEN])
{
	const char *p = devpath;

	while (*p) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);

		if (n == SR_PCI_LEN - 1) {
			memcpy(out, p, n);
			out[n] = '\0';
			if (sr_mon_watch_has_pci(w, out))
				return true;
		}
		if (!slash)
			break;
		p = slash + 1;
	}
	return false;
}

void sr_mon_parse_uevent(const void *buf, size_t len, const struct sr_mon_watch *w,
			 struct sr_mon_event *ev)
{
	static const char *const pci_actions[] = { "add", "remove", "bind", "unbind", "change", NULL };
	static const char *const net_actions[] = { "add", "remove", "move", NULL };
	const char *p = buf, *end = p + len, *at, *action, *sub, *slot, *iface;
	char act[16], pci[SR_PCI_LEN];
	size_t hl;

	ev->ours = false;
	ev->desc[0] = '\0';
	/* The header is "ACTION@DEVPATH", NUL-terminated inside the buffer. */
	if (!len || !memchr(p, '\0', len))
		return;
	hl = strlen(p);
	at = strchr(p, '@');
	if (!at || (size_t)(at - p) >= sizeof(act) || at[1] != '/')
		return;
	memcpy(act, p, (size_t)(at - p));
	act[at - p] = '\0';
	action = uevent_get(p + hl + 1, end, "ACTION");
	sub = uevent_get(p + hl + 1, end, "SUBSYSTEM");
	if (!action || !sub || strcmp(action, act))
		return;
	if (!strcmp(sub, "pci") && one_of(action, pci_actions)) {
		slot = uevent_get(p + hl + 1, end, "PCI_SLOT_NAME");
		if (!slot)
			slot = strrchr(at, '/') + 1;
		if (strlen(slot) != SR_PCI_LEN - 1 || !sr_mon_watch_has_pci(w, slot))
			return;
		ev->ours = true;
		snprintf(ev->desc, sizeof(ev->desc), "pci %s %s", action, slot);
	} else if (!strcmp(sub, "net") && one_of(action, net_actions)) {
		if (!devpath_watched(at + 1, w, pci))
			return;
		iface = uevent_get(p + hl + 1, end, "INTERFACE");
		ev->ours = true;
		snprintf(ev->desc, sizeof(ev->desc), "net %s %.16s on %s", action,
			 iface ? iface : "?", pci);
	}
}

void sr_debounce_event(struct sr_debounce *d, int64_t now_ms)
{
	if (!d->pending) {
		d->pending = true;
		d->first_ms = now_ms;
	}
	d->last_ms = now_ms;
}

int64_t sr_debounce_wait(const struct sr_debounce *d, int64_t now_ms, int64_t quiet_ms,
			 int64_t max_ms)
{
	int64_t due;

	if (!d->pending)
		return -1;
	due = d->last_ms + quiet_ms;
	if (due > d->first_ms + max_ms)
		due = d->first_ms + max_ms;
	return due > now_ms ? due - now_ms : 0;
}

void sr_debounce_clear(struct sr_debounce *d)
{
	d->pending = false;
}

enum sr_mon_verdict sr_mon_after_apply(const struct sr_mon_apply_seen *seen)
{
	if (!seen->echoes && !seen->overrun)
		return SR_MON_QUIET;
	/* A writeless apply has no echoes: the events are someone else's. */
	if (!seen->kernel_writes)
		return SR_MON_REPAIR;
	/* A verifying reconcile that wrote found a real change; its own echoes
	 * do not ask for a second one (no chain of verifications). */
	return seen->was_verify ? SR_MON_ECHO : SR_MON_VERIFY;
}

void sr_mon_close(struct sr_mon *m)
{
	for (int i = 0; i < 2; i++) {
		if (m->fd[i] >= 0)
			close(m->fd[i]);
		m->fd[i] = -1;
	}
}

/* A non-blocking netlink socket of protocol proto subscribed to groups,
 * with a receive buffer of SR_MON_RCVBUF (forced past rmem_max when the
 * agent may: it runs as root). */
static int mon_socket(int proto, uint32_t groups, const char *what, struct sr_err *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd, size = SR_MON_RCVBUF, r;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	if (fd < 0)
		return sr_err_set(err, -errno, "%s: cannot open a netlink socket: %s", what,
				  strerror(errno));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		close(fd);
		return sr_err_set(err, r, "%s: cannot subscribe (bind to group 0x%x): %s", what,
				  groups, strerror(-r));
	}
	return fd;
}

int sr_mon_open(struct sr_mon *m, unsigned sources, struct sr_err *err)
{
	int fd;

	m->fd[SR_MON_LINK] = m->fd[SR_MON_UEVENT] = -1;
	if (sources & SR_MON_BIT(SR_MON_LINK)) {
		fd = mon_socket(NETLINK_ROUTE, RTMGRP_LINK, "rtnetlink link notifications", err);
		if (fd < 0)
			return fd;
		m->fd[SR_MON_LINK] = fd;
	}
	if (sources & SR_MON_BIT(SR_MON_UEVENT)) {
		/* Group 1: the kernel's own uevents (udev re-broadcasts on 2). */
		fd = mon_socket(NETLINK_KOBJECT_UEVENT, 1, "kernel uevents", err);
		if (fd < 0) {
			sr_mon_close(m);
			return fd;
		}
		m->fd[SR_MON_UEVENT] = fd;
	}
	return 0;
}

ssize_t sr_mon_recv(struct sr_mon *m, enum sr_mon_source src, void *buf, size_t cap)
{
	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { buf, cap };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
				     .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(m->fd[src], &mh, MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		/* Only the kernel speaks on these groups. */
		if (mh.msg_namelen != sizeof(from) || from.nl_pid != 0)
			continue;
		return n;
	}
}
