/* SPDX-License-Identifier: MIT */
/*
 * A fake node for unit tests: the sysfs half is the real node over a fake
 * sysfs tree (with its PF driver emulator), the netlink half an in-memory
 * kernel that keeps each VF's settings per PF netdev, counts messages and
 * can refuse attributes, as a driver does.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "node.h"

#define SR_FAKE_LINKS 4
#define SR_FAKE_LINK_VFS 64

struct sr_fake_link {
	char ifname[IF_NAMESIZE];
	int ifindex;
	bool up;
	struct sr_vf_settings vfs[SR_FAKE_LINK_VFS];
};

struct sr_fake_node {
	struct sr_node_ops sysfs_ops;  /* the real node over the fake tree */
	struct sr_node_real real;
	struct sr_fake_link links[SR_FAKE_LINKS];
	size_t n_links;
	int refuse[SR_ATTR__COUNT];    /* -errno the "driver" answers, 0 = takes it */
	size_t messages;               /* RTM_SETLINK requests seen */
};

/* ops: the node's operations; netlink: with the in-memory kernel (else
 * none, as --no-netlink). sysfs stays the caller's. */
void sr_fake_node_init(struct sr_fake_node *f, struct sr_node_ops *ops,
		       const struct sr_sysfs *sysfs, bool netlink);
/* A PF netdev whose VFs start with the kernel's defaults (MAC 0, no VLAN,
 * spoofchk on, trust off, link auto, no rate). Returns its ifindex. */
int sr_fake_node_add_link(struct sr_fake_node *f, const char *ifname);
struct sr_fake_link *sr_fake_node_link(struct sr_fake_node *f, const char *ifname);
