/* SPDX-License-Identifier: MIT */
/*
 * Managed PFs that are down. The kernel notifies a VF setting change on a
 * PF (an RTM_NEWLINK) only while the PF is up: do_setlink ends in
 * netdev_state_change(), which sends nothing unless dev->flags has IFF_UP
 * (net/core/rtnetlink.c, net/core/dev.c). A change made through a PF that
 * is down is found by the reconcile timer only (docs/daemon.md, Events):
 * the daemon says so when a PF goes down, and again when it is back up,
 * and status names the PFs down now.
 */
#pragma once

#include <stddef.h>

#include "model.h"
#include "state.h"
#include "sysfs.h"

struct pf_down {
	char pci[SR_PCI_LEN];
	char ifname[IF_NAMESIZE];
};

struct pf_down_set {
	struct pf_down *e;             /* the PFs down now (owned) */
	size_t n;
};

/* Read IFF_UP of each PF in st (sysfs class/net/IF/flags) and log each
 * change against s: "down" (a warning naming the PF and the reconcile
 * interval) and "up again" (info). A PF whose flags cannot be read keeps
 * what was known of it; one no longer in st is dropped without a word. */
void pf_down_update(struct pf_down_set *s, const struct sr_sysfs *sys, const struct sr_state *st,
		    unsigned long interval_s);
/* How many PFs are down, and one line naming each ("eth1 (0000:03:00.0)"),
 * "" when none. */
size_t pf_down_describe(const struct pf_down_set *s, char *buf, size_t cap);
void pf_down_free(struct pf_down_set *s);
