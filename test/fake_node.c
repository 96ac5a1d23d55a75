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
	if (n_set > 1)
		sent(f);
	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		if (!sr_vf_attr_is_set(a, s))
			continue;
		if (refused || n_set == 1)
			sent(f);
		result[a] = !l || vf >= SR_FAKE_LINK_VFS ? -ENODEV : f->refuse[a];
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
