/* SPDX-License-Identifier: MIT */
/*
 * The unit tests' node (fake_node.h): real sysfs ops over a fake tree plus
 * an in-memory rtnetlink that applies VF attributes the way a driver does.
 */
#include "fake_node.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* linux-source-6.1, drivers/net/ethernet/intel/i40e/i40e_virtchnl_pf.c:
 * a VF made by i40e_pci_sriov_configure is set up by a reset; until
 * I40E_VF_STATE_INIT, i40e_ndo_set_vf_mac (after waiting 300 ms itself),
 * i40e_ndo_set_vf_port_vlan, i40e_ndo_set_vf_bw and i40e_ndo_set_vf_spoofchk
 * answer -EAGAIN "VF %d still in reset. Try again.". A VF reset later
 * (i40e_reset_vf) clears the bit again: -EAGAIN too. */
const struct sr_fake_profile sr_fake_i40e = {
	.driver = "i40e", .init_msgs = 3, .init_errno = -EAGAIN, .reset_errno = -EAGAIN,
};

/* drivers/net/ethernet/intel/ice/ice_vf_lib.c: ice_check_vf_ready_for_cfg
 * waits up to ~800 ms (ice_wait_on_vf_reset), then answers -EBUSY while
 * ICE_VF_STATE_INIT is clear (ice_check_vf_init); its callers in
 * ice_sriov.c are the VF ndo ops (ice_set_vf_mac, ice_set_vf_spoofchk,
 * ice_set_vf_trust, ice_set_vf_link_state, ...). */
const struct sr_fake_profile sr_fake_ice = {
	.driver = "ice", .init_msgs = 2, .init_errno = -EBUSY, .reset_errno = -EBUSY,
};

/* drivers/net/ethernet/broadcom/bnxt/bnxt_sriov.c: bnxt_sriov_configure
 * enables no VF while the PF is down (!netif_running: "Reject SRIOV config
 * request since if is down!", returns 0, and sriov_numvfs_store in
 * drivers/pci/iov.c still answers the write's length); the VF ndo ops then
 * fail bnxt_vf_ndo_prep ("vf ndo called though sriov is disabled"): -EINVAL.
 * systemd #40739 met it as "PF up before its VFs can be configured". */
const struct sr_fake_profile sr_fake_bnxt = {
	.driver = "bnxt_en", .down_errno = -EINVAL, .numvfs_needs_up = true,
};

/* Every op gets the real node's context (&f->real): the fake around it. */
static struct sr_fake_node *fake_of(void *c)
{
	return (struct sr_fake_node *)((char *)c - offsetof(struct sr_fake_node, real));
}

static struct sr_fake_link *by_index(struct sr_fake_node *f, int ifindex)
{
	for (size_t i = 0; i < f->n_links; i++)
		if (f->links[i].ifindex == ifindex)
			return &f->links[i];
	return NULL;
}

static struct sr_fake_link *by_pci(struct sr_fake_node *f, const char *pci)
{
	for (size_t i = 0; i < f->n_links; i++)
		if (!strcmp(f->links[i].pci, pci))
			return &f->links[i];
	return NULL;
}

/* One RTM_SETLINK request: seen by the fake, counted as the real node would. */
static void sent(struct sr_fake_node *f)
{
	f->messages++;
	f->real.counts.netlink_writes++;
}

struct sr_fake_link *sr_fake_node_link(struct sr_fake_node *f, const char *ifname)
{
	for (size_t i = 0; i < f->n_links; i++)
		if (!strcmp(f->links[i].ifname, ifname))
			return &f->links[i];
	return NULL;
}

static int fake_ifindex(void *c, const char *ifname, int *out, struct sr_err *err)
{
	struct sr_fake_link *l = sr_fake_node_link(fake_of(c), ifname);

	if (!l)
		return sr_err_set(err, -ENODEV, "fake netlink: no interface %s", ifname);
	*out = l->ifindex;
	return 0;
}

static int fake_read(void *c, int ifindex, struct sr_pf *pf, bool *truncated, struct sr_err *err)
{
	struct sr_fake_link *l = by_index(fake_of(c), ifindex);

	if (!l)
		return sr_err_set(err, -ENODEV, "fake netlink: no ifindex %d", ifindex);
	*truncated = false;
	for (size_t j = 0; j < pf->n_vfs; j++) {
		pf->vfs[j].has_kernel = pf->vfs[j].index < SR_FAKE_LINK_VFS;
		if (pf->vfs[j].has_kernel)
			pf->vfs[j].kernel = l->vfs[pf->vfs[j].index];
	}
	return 0;
}

/* What the kernel then reports for attribute a set from s. */
static void take(struct sr_vf_settings *k, enum sr_vf_attr a, const struct sr_vf_settings *s)
{
	switch (a) {
	case SR_ATTR_MAC:
		memcpy(k->mac, s->mac, 6);
		break;
	case SR_ATTR_VLAN:
		k->vlan = s->vlan;
		k->qos = s->qos == SR_UNSET ? 0 : s->qos;
		k->vlan_proto = s->vlan_proto == SR_UNSET ? SR_ETH_P_8021Q : s->vlan_proto;
		break;
	case SR_ATTR_SPOOFCHK:
		k->spoofchk = s->spoofchk;
		break;
	case SR_ATTR_TRUST:
		k->trust = s->trust;
		break;
	case SR_ATTR_LINK_STATE:
		k->link_state = s->link_state;
		break;
	case SR_ATTR_RATE:
		k->min_tx_rate = s->min_tx_rate == SR_UNSET ? 0 : s->min_tx_rate;
		k->max_tx_rate = s->max_tx_rate == SR_UNSET ? 0 : s->max_tx_rate;
		break;
	default:
		break;
	}
}

/* The driver's answer to one settings message for VF vf now: 0, or its
 * "not now" (PF down, VF not initialized or in reset: the profile's). */
static int not_ready(struct sr_fake_node *f, struct sr_fake_link *l, uint32_t vf)
{
	int r = 0;

	if (!l || vf >= SR_FAKE_LINK_VFS)
		return 0;
	if (l->profile && l->profile->down_errno && !l->up) {
		r = l->profile->down_errno;
	} else if (l->not_ready[vf]) {
		l->not_ready[vf]--;
		r = l->not_ready_errno[vf];
	}
	f->not_ready_answers += r != 0;
	return r;
}

/* As sr_nl_apply_vf() sends: one request with every set attribute; when the
 * fake kernel refuses one of them, one more request per attribute. */
static int fake_set_vf(void *c, int ifindex, uint32_t vf, const struct sr_vf_settings *s,
		       int result[SR_ATTR__COUNT], struct sr_err *err)
{
	struct sr_fake_node *f = fake_of(c);
	struct sr_fake_link *l = by_index(f, ifindex);
	size_t n_set = 0;
	bool refused = false;
	int first = 0;

	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		result[a] = SR_ATTR_NOT_TRIED;
		if (sr_vf_attr_is_set(a, s)) {
			n_set++;
			refused |= !l || vf >= SR_FAKE_LINK_VFS || f->refuse[a];
		}
	}
	if (n_set > 1) {
		sent(f);
		refused |= not_ready(f, l, vf) != 0;
	}
	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		int later = 0;

		if (!sr_vf_attr_is_set(a, s))
			continue;
		if (refused || n_set == 1) {
			sent(f);
			later = not_ready(f, l, vf);
		}
		result[a] = !l || vf >= SR_FAKE_LINK_VFS ? -ENODEV
			    : f->refuse[a]                ? f->refuse[a]
							  : later;
		if (!result[a])
			take(&l->vfs[vf], a, s);
		else if (!first)
			first = sr_err_set(err, result[a], "fake netlink: VF %u %s refused", vf,
					   sr_vf_attr_name(a));
	}
	return first;
}

static int fake_link_up(void *c, int ifindex, bool *was_down, struct sr_err *err)
{
	struct sr_fake_node *f = fake_of(c);
	struct sr_fake_link *l = by_index(f, ifindex);

	if (!l)
		return sr_err_set(err, -ENODEV, "fake netlink: no ifindex %d", ifindex);
	*was_down = !l->up;
	if (!l->up) {
		l->up = true;
		sent(f);
	}
	return 0;
}

/* sriov_numvfs through the real node; a profiled PF's new VFs start
 * uninitialized, and bnxt_en's makes none while the PF is down. */
static int fake_set_numvfs(void *c, const char *pf_pci, uint32_t n, struct sr_err *err)
{
	struct sr_fake_node *f = fake_of(c);
	struct sr_fake_link *l = by_pci(f, pf_pci);
	const struct sr_fake_profile *p = l ? l->profile : NULL;
	uint32_t before = 0;
	int r;

	if (p && p->numvfs_needs_up && !l->up && n > 0)
		/* What the real node answers after its wait for the VFs. */
		return sr_err_set(err, -ETIMEDOUT, "PF %s: %u VFs asked, 0 appeared (%s: PF down)",
				  pf_pci, n, p->driver);
	sr_sysfs_read_numvfs(&f->real.sysfs, pf_pci, &before);
	r = f->sysfs_ops.set_numvfs(c, pf_pci, n, err);
	if (r || !p || before == n)
		return r;
	for (uint32_t vf = 0; vf < n && vf < SR_FAKE_LINK_VFS; vf++) {
		l->not_ready[vf] = p->init_msgs;
		l->not_ready_errno[vf] = p->init_errno;
	}
	return 0;
}

static int fake_eswitch_mode(void *c, const char *pf_pci, char mode[16], struct sr_err *err)
{
	struct sr_fake_node *f = fake_of(c);

	if (!f->eswitch)
		return sr_err_set(err, -EOPNOTSUPP, "fake devlink: pci/%s has no eswitch", pf_pci);
	snprintf(mode, 16, "%s", f->eswitch);
	return 0;
}

void sr_fake_node_set_profile(struct sr_fake_node *f, const char *ifname, const char *pci,
			      const struct sr_fake_profile *p)
{
	struct sr_fake_link *l = sr_fake_node_link(f, ifname);

	if (!l)
		return;
	l->profile = p;
	snprintf(l->pci, sizeof(l->pci), "%s", pci);
}

void sr_fake_node_reset_vf(struct sr_fake_node *f, const char *ifname, uint32_t vf,
			   unsigned msgs)
{
	struct sr_fake_link *l = sr_fake_node_link(f, ifname);

	if (!l || vf >= SR_FAKE_LINK_VFS || !l->profile)
		return;
	l->not_ready[vf] = msgs;
	l->not_ready_errno[vf] = l->profile->reset_errno;
}

void sr_fake_node_init(struct sr_fake_node *f, struct sr_node_ops *ops,
		       const struct sr_sysfs *sysfs, bool netlink)
{
	memset(f, 0, sizeof(*f));
	sr_node_real_init(&f->sysfs_ops, &f->real, sysfs, NULL, NULL, NULL);
	*ops = f->sysfs_ops;
	if (!netlink)
		return;
	ops->ifindex = fake_ifindex;
	ops->read_vf_settings = fake_read;
	ops->set_vf = fake_set_vf;
	ops->link_up = fake_link_up;
	ops->set_numvfs = fake_set_numvfs;
	ops->eswitch_mode = fake_eswitch_mode;
}

int sr_fake_node_add_link(struct sr_fake_node *f, const char *ifname)
{
	struct sr_fake_link *l = &f->links[f->n_links];

	if (f->n_links >= SR_FAKE_LINKS)
		return -ENOSPC;
	snprintf(l->ifname, sizeof(l->ifname), "%s", ifname);
	l->ifindex = (int)(10 + f->n_links++);
	for (size_t v = 0; v < SR_FAKE_LINK_VFS; v++) {
		sr_vf_settings_init(&l->vfs[v]);
		l->vfs[v].has_mac = true;
		l->vfs[v].vlan = 0;
		l->vfs[v].qos = 0;
		l->vfs[v].vlan_proto = SR_ETH_P_8021Q;
		l->vfs[v].spoofchk = 1;
		l->vfs[v].trust = 0;
		l->vfs[v].link_state = SR_LINK_STATE_AUTO;
		l->vfs[v].min_tx_rate = 0;
		l->vfs[v].max_tx_rate = 0;
	}
	return l->ifindex;
}
