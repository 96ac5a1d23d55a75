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

/* A PF driver's manners, each from its source (linux 6.1, drivers/net/
 * ethernet/). No profile: igb's, which takes every write at once. The fake
 * counts settings messages instead of time: "the first N after creation" is
 * what a driver that needs ~200 ms answers to an agent that writes at once. */
struct sr_fake_profile {
	const char *driver;
	/* Settings messages per VF answered init_errno after sriov_numvfs made
	 * the VF. i40e: i40e_ndo_set_vf_mac waits up to 15 x 20 ms for
	 * I40E_VF_STATE_INIT, then "VF %d still in reset. Try again." -EAGAIN;
	 * i40e_ndo_set_vf_port_vlan, _bw, _spoofchk answer -EAGAIN at once. */
	unsigned init_msgs;
	int init_errno;
	/* What a VF in reset (sr_fake_node_reset_vf) answers. ice:
	 * ice_check_vf_ready_for_cfg -> ice_check_vf_init: -EBUSY, from
	 * ice_set_vf_mac, ice_set_vf_spoofchk, ice_set_vf_trust,
	 * ice_set_vf_link_state, ice_set_vf_port_vlan, ice_set_vf_bw. */
	int reset_errno;
	/* VF settings while the PF link is down; 0: taken. bnxt_en:
	 * bnxt_sriov_configure enables no VF while !netif_running ("Reject
	 * SRIOV config request since if is down!"), and every VF ndo then
	 * fails bnxt_vf_ndo_prep: -EINVAL. */
	int down_errno;
	/* sriov_numvfs enables no VF while the PF is down (bnxt_sriov_configure
	 * returns 0; sriov_numvfs_store in drivers/pci/iov.c still answers the
	 * write's count): the VFs never appear. */
	bool numvfs_needs_up;
};

extern const struct sr_fake_profile sr_fake_i40e, sr_fake_ice, sr_fake_bnxt;

struct sr_fake_link {
	char ifname[IF_NAMESIZE];
	int ifindex;
	bool up;
	struct sr_vf_settings vfs[SR_FAKE_LINK_VFS];
	const struct sr_fake_profile *profile;  /* NULL: igb's manners */
	char pci[SR_PCI_LEN];                   /* the PF, for sriov_numvfs */
	unsigned not_ready[SR_FAKE_LINK_VFS];   /* messages still refused */
	int not_ready_errno[SR_FAKE_LINK_VFS];  /* ... with this */
};

struct sr_fake_node {
	struct sr_node_ops sysfs_ops;  /* the real node over the fake tree */
	struct sr_node_real real;
	struct sr_fake_link links[SR_FAKE_LINKS];
	size_t n_links;
	int refuse[SR_ATTR__COUNT];    /* -errno the "driver" answers, 0 = takes it */
	size_t messages;               /* RTM_SETLINK requests seen */
	size_t not_ready_answers;      /* of them answered "not ready" */
	const char *eswitch;           /* devlink's eswitch mode of every PF;
					* NULL: -EOPNOTSUPP (no eswitch) */
};

/* ops: the node's operations; netlink: with the in-memory kernel (else
 * none, as --no-netlink). sysfs stays the caller's. */
void sr_fake_node_init(struct sr_fake_node *f, struct sr_node_ops *ops,
		       const struct sr_sysfs *sysfs, bool netlink);
/* A PF netdev whose VFs start with the kernel's defaults (MAC 0, no VLAN,
 * spoofchk on, trust off, link auto, no rate). Returns its ifindex. */
int sr_fake_node_add_link(struct sr_fake_node *f, const char *ifname);
struct sr_fake_link *sr_fake_node_link(struct sr_fake_node *f, const char *ifname);
/* Give link ifname (the netdev of PF pci) a driver's manners. */
void sr_fake_node_set_profile(struct sr_fake_node *f, const char *ifname, const char *pci,
			      const struct sr_fake_profile *p);
/* VF vf of ifname is in reset for its next msgs settings messages (a VFLR,
 * a VF driver reload): answered with the profile's reset_errno. */
void sr_fake_node_reset_vf(struct sr_fake_node *f, const char *ifname, uint32_t vf,
			   unsigned msgs);
