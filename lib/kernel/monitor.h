/* SPDX-License-Identifier: MIT */
/*
 * Kernel event monitor for the daemon (docs/daemon.md "Events"): rtnetlink
 * link notifications (RTNLGRP_LINK) and kernel uevents
 * (NETLINK_KOBJECT_UEVENT). Two halves: the sockets (sr_mon_open,
 * sr_mon_recv), and pure functions the agent's loop and the Check suite
 * share: which message concerns a watched PF or VF (sr_mon_parse_link,
 * sr_mon_parse_uevent against a struct sr_mon_watch), when a burst of
 * events is due for a repair (debounce), and what the events that queued
 * during the agent's own apply mean (sr_mon_after_apply).
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "model.h"

/* What the agent manages: PCI addresses (PFs and their VFs) and PF netdev
 * names. Built by the agent from the config in force and the saved state;
 * sorted and deduplicated by sr_mon_watch_seal() before it is searched. */
struct sr_mon_watch {
	char (*pci)[SR_PCI_LEN];
	size_t n_pci, cap_pci;
	char (*ifname)[IF_NAMESIZE];
	size_t n_ifname, cap_ifname;
};

void sr_mon_watch_init(struct sr_mon_watch *w);
void sr_mon_watch_free(struct sr_mon_watch *w);
void sr_mon_watch_clear(struct sr_mon_watch *w);
/* Add a PCI address / a netdev name ("" and invalid names are skipped:
 * 0). -ENOMEM when it cannot grow. */
int sr_mon_watch_add_pci(struct sr_mon_watch *w, const char *pci);
int sr_mon_watch_add_ifname(struct sr_mon_watch *w, const char *ifname);
void sr_mon_watch_seal(struct sr_mon_watch *w);
bool sr_mon_watch_has_pci(const struct sr_mon_watch *w, const char *pci);
bool sr_mon_watch_has_ifname(const struct sr_mon_watch *w, const char *ifname);

/* One parsed message. ours: it concerns a watched PF or VF (a repair may be
 * due); desc names it for the log ("RTM_NEWLINK eth0", "pci bind
 * 0000:01:00.0", "net add eth1 on 0000:01:10.0"). */
struct sr_mon_event {
	bool ours;
	char desc[96];
};

/* The link state last seen of each watched netdev: a notification that
 * changes only that (carrier, operstate, IFF_RUNNING / IFF_LOWER_UP /
 * IFF_DORMANT: a cable, the link partner, the PF brought up a moment ago)
 * is not about SR-IOV. A VF setting changed through the PF sends a
 * notification that carries no VF list and leaves the link state as it
 * was: that one is ours. Kept across watch rebuilds. */
struct sr_mon_linkstate {
	char ifname[IF_NAMESIZE];
	uint32_t flags;              /* ifi_flags */
	int operstate, carrier;      /* -1 when the message had none */
};

struct sr_mon_links {
	struct sr_mon_linkstate *e;
	size_t n, cap;
};

void sr_mon_links_free(struct sr_mon_links *l);

/* True when cur differs from prev in its link state only. */
bool sr_mon_link_state_only(const struct sr_mon_linkstate *prev,
			    const struct sr_mon_linkstate *cur);

/* Events in one receive buffer of the rtnetlink socket: every RTM_NEWLINK
 * and RTM_DELLINK whose IFLA_IFNAME is watched counts as ours, but for an
 * RTM_NEWLINK that changes the link state only (links: the states seen so
 * far, updated; NULL: no such filter). Other messages (and malformed ones:
 * a length that overruns the buffer, an attribute past its message) are
 * not ours. *ours / *others get the counts; the first message that is ours
 * is described in *first (may be NULL). Returns the number of link
 * messages seen. */
size_t sr_mon_parse_link(const void *buf, size_t len, const struct sr_mon_watch *w,
			 struct sr_mon_links *links, size_t *ours, size_t *others,
			 struct sr_mon_event *first);

/* One kernel uevent datagram ("ACTION@DEVPATH\0KEY=VALUE\0..."). Ours:
 * SUBSYSTEM=pci with ACTION add, remove, bind, unbind or change on a
 * watched address (PCI_SLOT_NAME, else the devpath's last component), and
 * SUBSYSTEM=net with ACTION add, remove or move whose devpath goes through
 * a watched address (".../0000:01:00.0/net/eth0"). Anything else, udev's
 * own re-broadcasts ("libudev" header) and malformed buffers included, is
 * not ours. */
void sr_mon_parse_uevent(const void *buf, size_t len, const struct sr_mon_watch *w,
			 struct sr_mon_event *ev);

/* Debounce: a burst of events becomes one repair, run once no event came
 * for quiet_ms, or max_ms after the burst's first event if events keep
 * coming. Times in ms of a monotonic clock. */
struct sr_debounce {
	bool pending;
	int64_t first_ms, last_ms;
};

void sr_debounce_event(struct sr_debounce *d, int64_t now_ms);
/* ms until the repair is due: -1 when none is pending, 0 when due now. */
int64_t sr_debounce_wait(const struct sr_debounce *d, int64_t now_ms, int64_t quiet_ms,
			 int64_t max_ms);
void sr_debounce_clear(struct sr_debounce *d);

/* The agent's own writes make the kernel send events too (an RTM_NEWLINK
 * per VF write on the PF, uevents per VF created, bound, unbound). What the
 * events that queued while an apply ran mean, given how many kernel writes
 * that apply made, how many events concerned managed devices (echoes),
 * whether the socket overran (ENOBUFS: some were lost) and whether the
 * apply was itself a verifying reconcile. */
enum sr_mon_verdict {
	SR_MON_QUIET,   /* no event: nothing to do */
	SR_MON_ECHO,    /* the apply's own echoes: ignored */
	SR_MON_VERIFY,  /* the apply wrote and events came: they are most likely
			 * its own, but a change made by someone else during the
			 * apply would hide among them: one verifying reconcile
			 * (which writes nothing when they were all its own) */
	SR_MON_REPAIR,  /* the apply wrote nothing, so the events are not its
			 * own: a repair */
};

struct sr_mon_apply_seen {
	size_t kernel_writes;      /* the apply's */
	size_t echoes;             /* events about managed devices meanwhile */
	bool overrun;              /* the socket overran: some were lost */
	bool was_verify;           /* the apply was a verifying reconcile */
};

enum sr_mon_verdict sr_mon_after_apply(const struct sr_mon_apply_seen *seen);

/* The sockets. Either fd is -1 when not open. */
enum sr_mon_source { SR_MON_LINK, SR_MON_UEVENT };

struct sr_mon {
	int fd[2];                 /* indexed by enum sr_mon_source */
};

#define SR_MON_RCVBUF (1 << 20)    /* socket receive buffer asked for each */
#define SR_MON_MSG_MAX 32768       /* one datagram (uevents are <= 8 KiB; link
				    * notifications carry no VF list) */
#define SR_MON_DRAIN_MAX 4096      /* datagrams one drain reads at most: a
				    * kernel that keeps sending cannot hold the
				    * loop; the rest waits for the next poll() */

/* Open and subscribe to sources, a set of SR_MON_BIT(source): link
 * notifications (SR_MON_LINK, RTNLGRP_LINK), uevents (SR_MON_UEVENT, the
 * kernel's group 1). Non-blocking. 0 or -errno with a message; on error
 * nothing stays open. */
#define SR_MON_BIT(source) (1u << (source))
int sr_mon_open(struct sr_mon *m, unsigned sources, struct sr_err *err);
void sr_mon_close(struct sr_mon *m);

/* One datagram from source src into buf, never waiting (the sockets are
 * non-blocking and read with MSG_DONTWAIT): its length, -EAGAIN when none is
 * queued, -ENOBUFS when the kernel dropped messages (the socket overran;
 * the caller repairs everything), -EMSGSIZE when it was larger than cap
 * (dropped), or another -errno. Datagrams not sent by the kernel (nl_pid
 * != 0) are dropped: -EAGAIN when that was the last one queued. */
ssize_t sr_mon_recv(struct sr_mon *m, enum sr_mon_source src, void *buf, size_t cap);
