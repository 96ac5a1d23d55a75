/* SPDX-License-Identifier: MIT */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eveconfig.pb-c.h"

typedef Org__Lfedge__Eve__Config__EdgeDevConfig PbConfig;
typedef Org__Lfedge__Eve__Config__PhysicalIO PbPhysicalIO;
typedef Org__Lfedge__Eve__Config__AppInstanceConfig PbApp;
typedef Org__Lfedge__Eve__Config__Adapter PbAdapter;
typedef Org__Lfedge__Eve__Config__EthVF PbEthVF;

#define PHYIO_NET_ETH_PF ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthPF
#define PHYIO_NET_ETH_VF ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthVF

const char *sr_pf_cfg_label(const struct sr_pf_cfg *pf)
{
	if (pf->logicallabel[0])
		return pf->logicallabel;
	if (pf->phylabel[0])
		return pf->phylabel;
	return pf->ifname;
}

void sr_config_free(struct sr_config *c)
{
	if (!c)
		return;
	free(c->pfs);
	free(c->apps);
	free(c->adapters);
	memset(c, 0, sizeof(*c));
}

/* Copy a config string into a fixed field; too long is an error. */
static int copy_field(char *dst, size_t cap, const char *src, const char *field,
		      struct sr_err *err)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		return sr_err_set(err, -EINVAL, "%s \"%.40s...\": %zu bytes, allowed at most %zu",
				  field, src, n, cap - 1);
	memcpy(dst, src ? src : "", n + 1);
	return 0;
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int decode_pf(const PbPhysicalIO *io, size_t idx, struct sr_pf_cfg *pf,
		     struct sr_err *err)
{
	char field[64];
	const char *cb_count = NULL;
	int r;

	memset(pf, 0, sizeof(*pf));
	pf->io_index = (uint32_t)idx;
	snprintf(field, sizeof(field), "deviceIoList[%zu].logicallabel", idx);
	if ((r = copy_field(pf->logicallabel, sizeof(pf->logicallabel), io->logicallabel, field, err)))
		return r;
	snprintf(field, sizeof(field), "deviceIoList[%zu].phylabel", idx);
	if ((r = copy_field(pf->phylabel, sizeof(pf->phylabel), io->phylabel, field, err)))
		return r;
	snprintf(field, sizeof(field), "deviceIoList[%zu].assigngrp", idx);
	if ((r = copy_field(pf->assigngrp, sizeof(pf->assigngrp), io->assigngrp, field, err)))
		return r;
	if (!pf->logicallabel[0] && !pf->phylabel[0])
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%zu]: PhyIoNetEthPF without logicallabel or phylabel: one is required",
				  idx);

	for (size_t i = 0; i < io->n_phyaddrs; i++) {
		const char *k = io->phyaddrs[i]->key, *v = io->phyaddrs[i]->value;

		if (!k || !v)
			continue;
		if (!strcasecmp(k, "ifname")) {
			if (!sr_valid_ifname(v))
				return sr_err_set(err, -EINVAL,
						  "deviceIoList[%zu] (%s).phyaddrs[ifname] \"%s\": allowed 1..15 bytes, no '/', ':' or blanks, not \".\" or \"..\"",
						  idx, sr_pf_cfg_label(pf), v);
			strcpy(pf->ifname, v);
		} else if (!strcasecmp(k, "pcilong")) {
			char pci[SR_PCI_LEN] = "";

			for (size_t j = 0; v[j] && j < sizeof(pci) - 1; j++)
				pci[j] = (char)tolower((unsigned char)v[j]);
			if (strlen(v) >= sizeof(pci) || !sr_valid_pci(pci))
				return sr_err_set(err, -EINVAL,
						  "deviceIoList[%zu] (%s).phyaddrs[pcilong] \"%s\": allowed a PCI address dddd:bb:dd.f (device 00..1f, function 0..7)",
						  idx, sr_pf_cfg_label(pf), v);
			strcpy(pf->pci, pci);
		}
	}
	if (!pf->ifname[0] && !pf->pci[0])
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%zu] (%s).phyaddrs: neither \"ifname\" nor \"pcilong\" given: one is required",
				  idx, sr_pf_cfg_label(pf));

	for (size_t i = 0; i < io->n_cbattr; i++)
		if (io->cbattr[i]->key && !strcmp(io->cbattr[i]->key, SR_VF_COUNT_CBATTR))
			cb_count = io->cbattr[i]->value;

	if (io->vflist && io->vflist->vf_count) {
		pf->vf_count = io->vflist->vf_count;
	} else if (io->vflist && !cb_count) {
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%zu] (%s).vflist.vf_count 0: allowed 1..sriov_totalvfs",
				  idx, sr_pf_cfg_label(pf));
	}
	if (cb_count) {
		uint32_t n;

		if (parse_u32(cb_count, &n) || n == 0 || (n & (n - 1)))
			return sr_err_set(err, -EINVAL,
					  "deviceIoList[%zu] (%s).cbattr[%s] \"%s\": allowed a power of two 1, 2, 4, ... up to sriov_totalvfs",
					  idx, sr_pf_cfg_label(pf), SR_VF_COUNT_CBATTR, cb_count);
		if (pf->vf_count && pf->vf_count != n)
			return sr_err_set(err, -EINVAL,
					  "deviceIoList[%zu] (%s): vflist.vf_count %u and cbattr[%s] %u differ: give one, or the same in both",
					  idx, sr_pf_cfg_label(pf), pf->vf_count, SR_VF_COUNT_CBATTR, n);
		pf->vf_count = n;
	}
	if (!pf->vf_count)
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%zu] (%s): no VF count: set vflist.vf_count (1..sriov_totalvfs) or cbattr[%s]",
				  idx, sr_pf_cfg_label(pf), SR_VF_COUNT_CBATTR);
	return 0;
}

static bool pf_has_label(const struct sr_pf_cfg *pf, const char *label)
{
	return (pf->logicallabel[0] && !strcmp(pf->logicallabel, label)) ||
	       (pf->phylabel[0] && !strcmp(pf->phylabel, label)) ||
	       (pf->assigngrp[0] && !strcmp(pf->assigngrp, label));
}

static int check_pf_unique(const struct sr_pf_cfg *pfs, size_t n, struct sr_err *err)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct sr_pf_cfg *a = &pfs[j], *b = &pfs[i];
			const char *what = NULL, *val = NULL;

			if (a->ifname[0] && !strcmp(a->ifname, b->ifname))
				what = "phyaddrs[ifname]", val = a->ifname;
			else if (a->pci[0] && !strcmp(a->pci, b->pci))
				what = "phyaddrs[pcilong]", val = a->pci;
			else if (b->logicallabel[0] && pf_has_label(a, b->logicallabel))
				what = "logicallabel", val = b->logicallabel;
			else if (b->phylabel[0] && pf_has_label(a, b->phylabel))
				what = "phylabel", val = b->phylabel;
			if (what)
				return sr_err_set(err, -EINVAL,
						  "deviceIoList[%u].%s \"%s\": already used by deviceIoList[%u]: each PF must be named once",
						  b->io_index, what, val, a->io_index);
		}
	}
	return 0;
}

/* Adapter.name -> PF, and VF index when it is "<label>vf<N>". */
static int resolve_adapter(const struct sr_config *c, const char *name, size_t *pf,
			   int64_t *vf)
{
	for (size_t i = 0; i < c->n_pfs; i++) {
		if (pf_has_label(&c->pfs[i], name)) {
			*pf = i;
			*vf = SR_UNSET;
			return 0;
		}
	}
	/* "<label>vf<N>": the label is everything before the last "vf". */
	for (const char *p = name + strlen(name); p > name; p--) {
		uint32_t n;
		char label[SR_LABEL_LEN];
		size_t len = (size_t)(p - 1 - name);

		if (p[-1] != 'v' || p[0] != 'f')
			continue;
		if (len == 0 || len >= sizeof(label) || parse_u32(p + 1, &n))
			return -ENOENT;
		memcpy(label, name, len);
		label[len] = '\0';
		for (size_t i = 0; i < c->n_pfs; i++) {
			if (pf_has_label(&c->pfs[i], label)) {
				*pf = i;
				*vf = n;
				return 0;
			}
		}
		return -ENOENT;
	}
	return -ENOENT;
}

static void known_labels(const struct sr_config *c, char *buf, size_t cap)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < c->n_pfs && off < cap; i++)
		off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? ", " : "",
					sr_pf_cfg_label(&c->pfs[i]));
	if (!c->n_pfs)
		snprintf(buf, cap, "none: the config has no PhyIoNetEthPF");
}

static int decode_options(const SriovAgent__VfOptions *o, struct sr_vf_settings *s,
			  const char *where, struct sr_err *err)
{
	if (o->has_qos) {
		if (o->qos > SR_QOS_MAX)
			return sr_err_set(err, -EINVAL, "%s.sriov_options.qos %u: allowed 0..%d",
					  where, o->qos, SR_QOS_MAX);
		s->qos = (int32_t)o->qos;
	}
	if (o->vlan_proto) {
		if (!strcasecmp(o->vlan_proto, "802.1Q"))
			s->vlan_proto = SR_ETH_P_8021Q;
		else if (!strcasecmp(o->vlan_proto, "802.1ad"))
			s->vlan_proto = SR_ETH_P_8021AD;
		else
			return sr_err_set(err, -EINVAL,
					  "%s.sriov_options.vlan_proto \"%s\": allowed \"802.1Q\" or \"802.1ad\"",
					  where, o->vlan_proto);
	}
	if ((s->qos != SR_UNSET || s->vlan_proto != SR_UNSET) && s->vlan == SR_UNSET)
		return sr_err_set(err, -EINVAL,
				  "%s: sriov_options.qos/vlan_proto given without vlan_id: they need a VLAN 1..4094",
				  where);
	if (o->has_spoofchk)
		s->spoofchk = o->spoofchk ? 1 : 0;
	if (o->has_trust)
		s->trust = o->trust ? 1 : 0;
	if (o->link_state) {
		if (!strcmp(o->link_state, "auto"))
			s->link_state = SR_LINK_STATE_AUTO;
		else if (!strcmp(o->link_state, "enable"))
			s->link_state = SR_LINK_STATE_ENABLE;
		else if (!strcmp(o->link_state, "disable"))
			s->link_state = SR_LINK_STATE_DISABLE;
		else
			return sr_err_set(err, -EINVAL,
					  "%s.sriov_options.link_state \"%s\": allowed \"auto\", \"enable\" or \"disable\"",
					  where, o->link_state);
	}
	if (o->has_min_tx_rate)
		s->min_tx_rate = o->min_tx_rate;
	if (o->has_max_tx_rate)
		s->max_tx_rate = o->max_tx_rate;
	if (s->min_tx_rate > 0 && s->max_tx_rate > 0 && s->min_tx_rate > s->max_tx_rate)
		return sr_err_set(err, -EINVAL,
				  "%s.sriov_options.min_tx_rate %lld: allowed at most max_tx_rate %lld",
				  where, (long long)s->min_tx_rate, (long long)s->max_tx_rate);
	return 0;
}

static int decode_ethvf(const PbEthVF *e, struct sr_vf_settings *s, const char *where,
			struct sr_err *err)
{
	sr_vf_settings_init(s);
	if (!e)
		return 0;
	if (e->mac && e->mac[0]) {
		if (sr_parse_mac(e->mac, s->mac))
			return sr_err_set(err, -EINVAL,
					  "%s.eth_vf.mac \"%s\": allowed six hex octets aa:bb:cc:dd:ee:ff",
					  where, e->mac);
		if (!sr_mac_is_unicast(s->mac))
			return sr_err_set(err, -EINVAL,
					  "%s.eth_vf.mac \"%s\": %s; allowed a unicast, non-zero MAC",
					  where, e->mac, (s->mac[0] & 1) ? "multicast" : "all-zero");
		s->has_mac = true;
	}
	if (e->vlan_id) {
		if (e->vlan_id < SR_VLAN_MIN || e->vlan_id > SR_VLAN_MAX)
			return sr_err_set(err, -EINVAL, "%s.eth_vf.vlan_id %u: allowed %d..%d (0 = none)",
					  where, e->vlan_id, SR_VLAN_MIN, SR_VLAN_MAX);
		s->vlan = (int32_t)e->vlan_id;
	}
	if (e->sriov_options)
		return decode_options(e->sriov_options, s, where, err);
	return 0;
}

static int decode_app(const PbApp *pa, size_t idx, struct sr_app *app, struct sr_err *err)
{
	const char *u = pa->uuidandversion ? pa->uuidandversion->uuid : NULL;
	char field[48];
	int r;

	memset(app, 0, sizeof(*app));
	if (!u || !*u)
		return sr_err_set(err, -EINVAL,
				  "apps[%zu].uuidandversion.uuid missing: a UUID is required", idx);
	if (uuid_parse(u, app->uuid))
		return sr_err_set(err, -EINVAL,
				  "apps[%zu].uuidandversion.uuid \"%.64s\": allowed a UUID like 3f2a1c2e-8d4b-4c1a-9f0e-1b2c3d4e5f60",
				  idx, u);
	uuid_unparse_lower(app->uuid, app->uuid_str);
	snprintf(field, sizeof(field), "apps[%zu].displayname", idx);
	if ((r = copy_field(app->name, sizeof(app->name), pa->displayname, field, err)))
		return r;
	if (pa->fixedresources) {
		app->memory_kib = pa->fixedresources->memory;
		app->vcpus = pa->fixedresources->vcpus;
		app->virt_mode = (uint32_t)pa->fixedresources->virtualizationmode;
	}
	app->activate = pa->activate;
	return 0;
}

/* Explicit "<pf>vf<N>" adapters: N < vf_count and no VF named twice. */
static int check_explicit(const struct sr_config *c, struct sr_err *err)
{
	for (size_t i = 0; i < c->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &c->adapters[i];
		const struct sr_pf_cfg *pf = &c->pfs[a->pf];

		if (a->vf_index == SR_UNSET)
			continue;
		if (a->vf_index >= pf->vf_count)
			return sr_err_set(err, -EINVAL,
					  "apps[%zu] (%s).adapters[%u].name: VF %lld of PF %s: the PF has %u VFs, allowed 0..%u",
					  a->app, c->apps[a->app].uuid_str, a->adapter_index,
					  (long long)a->vf_index, sr_pf_cfg_label(pf), pf->vf_count,
					  pf->vf_count - 1);
		for (size_t j = 0; j < i; j++) {
			const struct sr_adapter_cfg *b = &c->adapters[j];

			if (b->pf == a->pf && b->vf_index == a->vf_index)
				return sr_err_set(err, -EINVAL,
						  "apps[%zu] (%s).adapters[%u]: VF %lld of PF %s is already taken by apps[%zu] (%s).adapters[%u]: one adapter per VF",
						  a->app, c->apps[a->app].uuid_str, a->adapter_index,
						  (long long)a->vf_index, sr_pf_cfg_label(pf), b->app,
						  c->apps[b->app].uuid_str, b->adapter_index);
		}
	}
	return 0;
}

static int check_capacity(const struct sr_config *c, struct sr_err *err)
{
	for (size_t p = 0; p < c->n_pfs; p++) {
		size_t asked = 0;

		for (size_t i = 0; i < c->n_adapters; i++)
			asked += c->adapters[i].pf == p;
		if (asked > c->pfs[p].vf_count)
			return sr_err_set(err, -ENOSPC,
					  "PF %s has %u VFs, %zu asked by app adapters: over-assignment refused",
					  sr_pf_cfg_label(&c->pfs[p]), c->pfs[p].vf_count, asked);
	}
	return 0;
}

static int check_macs(const struct sr_config *c, struct sr_err *err)
{
	for (size_t i = 0; i < c->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &c->adapters[i];

		if (!a->settings.has_mac)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct sr_adapter_cfg *b = &c->adapters[j];
			char mac[18];

			if (!b->settings.has_mac || memcmp(a->settings.mac, b->settings.mac, 6))
				continue;
			sr_mac_format(a->settings.mac, mac);
			return sr_err_set(err, -EINVAL,
					  "apps[%zu] (%s).adapters[%u].eth_vf.mac %s: already used by apps[%zu] (%s).adapters[%u]: MACs must be unique",
					  a->app, c->apps[a->app].uuid_str, a->adapter_index, mac,
					  b->app, c->apps[b->app].uuid_str, b->adapter_index);
		}
	}
	return 0;
}

/* EdgeDevConfig.id.uuid: absent or a UUID (reported as ZInfoMsg.devId). */
static int decode_device_id(const PbConfig *pb, struct sr_config *c, struct sr_err *err)
{
	const char *u = pb->id ? pb->id->uuid : NULL;
	uuid_t id;

	if (!u || !*u)
		return 0;
	if (strnlen(u, SR_UUID_LEN) != SR_UUID_LEN - 1 || uuid_parse(u, id))
		return sr_err_set(err, -EINVAL,
				  "id.uuid \"%.64s\": allowed a UUID like 3f2a1c2e-8d4b-4c1a-9f0e-1b2c3d4e5f60",
				  u);
	uuid_unparse_lower(id, c->dev_uuid);
	return 0;
}

static int build(const PbConfig *pb, struct sr_config *c, struct sr_err *err)
{
	size_t n_vf_adapters = 0;
	int r;

	c->pfs = calloc(pb->n_deviceiolist ? pb->n_deviceiolist : 1, sizeof(*c->pfs));
	c->apps = calloc(pb->n_apps ? pb->n_apps : 1, sizeof(*c->apps));
	for (size_t i = 0; i < pb->n_apps; i++)
		n_vf_adapters += pb->apps[i]->n_adapters;
	c->adapters = calloc(n_vf_adapters ? n_vf_adapters : 1, sizeof(*c->adapters));
	if (!c->pfs || !c->apps || !c->adapters)
		return sr_err_set(err, -ENOMEM, "config: out of memory");
	if ((r = decode_device_id(pb, c, err)))
		return r;

	for (size_t i = 0; i < pb->n_deviceiolist; i++) {
		if (pb->deviceiolist[i]->ptype != PHYIO_NET_ETH_PF)
			continue;
		if ((r = decode_pf(pb->deviceiolist[i], i, &c->pfs[c->n_pfs], err)))
			return r;
		c->n_pfs++;
	}
	if ((r = check_pf_unique(c->pfs, c->n_pfs, err)))
		return r;

	for (size_t i = 0; i < pb->n_apps; i++) {
		const PbApp *pa = pb->apps[i];
		uint32_t position = 0;

		if ((r = decode_app(pa, i, &c->apps[i], err)))
			return r;
		for (size_t j = 0; j < i; j++)
			if (!uuid_compare(c->apps[j].uuid, c->apps[i].uuid))
				return sr_err_set(err, -EINVAL,
						  "apps[%zu].uuidandversion.uuid %s: already used by apps[%zu]: app UUIDs must be unique",
						  i, c->apps[i].uuid_str, j);
		c->n_apps++;

		for (size_t k = 0; k < pa->n_adapters; k++) {
			const PbAdapter *ad = pa->adapters[k];
			struct sr_adapter_cfg *a = &c->adapters[c->n_adapters];
			char where[160], labels[256];

			if (ad->type != PHYIO_NET_ETH_VF)
				continue;
			snprintf(where, sizeof(where), "apps[%zu] (%s).adapters[%zu]", i,
				 c->apps[i].uuid_str, k);
			if (!ad->name || !*ad->name)
				return sr_err_set(err, -EINVAL,
						  "%s.name empty: a PhyIoNetEthVF adapter names its PF label or \"<pf-label>vf<N>\"",
						  where);
			if (resolve_adapter(c, ad->name, &a->pf, &a->vf_index)) {
				known_labels(c, labels, sizeof(labels));
				return sr_err_set(err, -EINVAL,
						  "%s.name \"%.64s\": no PF with that label; allowed a PF label or \"<pf-label>vf<N>\" (PFs: %s)",
						  where, ad->name, labels);
			}
			a->app = i;
			a->position = position++;
			a->adapter_index = (uint32_t)k;
			if ((r = decode_ethvf(ad->eth_vf, &a->settings, where, err)))
				return r;
			c->n_adapters++;
		}
	}
	if ((r = check_explicit(c, err)) || (r = check_capacity(c, err)) ||
	    (r = check_macs(c, err)))
		return r;
	return 0;
}

int sr_config_decode(const uint8_t *buf, size_t len, struct sr_config *out,
		     struct sr_err *err)
{
	struct sr_config c = { 0 };
	PbConfig *pb;
	int r;

	pb = org__lfedge__eve__config__edge_dev_config__unpack(NULL, len, buf);
	if (!pb)
		return sr_err_set(err, -EINVAL,
				  "config: %zu bytes are not a valid EdgeDevConfig protobuf (truncated or corrupt)",
				  len);
	r = build(pb, &c, err);
	org__lfedge__eve__config__edge_dev_config__free_unpacked(pb, NULL);
	if (r) {
		sr_config_free(&c);
		return r;
	}
	*out = c;
	return 0;
}
