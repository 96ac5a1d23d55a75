/* SPDX-License-Identifier: MIT */
/*
 * Config decoding and validation (config.h): EVE EdgeDevConfig bytes to the
 * desired model, every field checked before anything is applied.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eveconfig.pb-c.h"
#include "pbcheck.h"
#include "set.h"
#include "text.h"
#include "vfdata.h"

/* How much of a config string a message shows (bytes, cut at a character). */
#define SHOW 64
#define Q(buf, str) sr_quote((buf), sizeof(buf), (str), SHOW)

typedef Org__Lfedge__Eve__Config__EdgeDevConfig PbConfig;
typedef Org__Lfedge__Eve__Config__PhysicalIO PbPhysicalIO;
typedef Org__Lfedge__Eve__Config__AppInstanceConfig PbApp;
typedef Org__Lfedge__Eve__Config__Adapter PbAdapter;
typedef Org__Lfedge__Eve__Config__EthVF PbEthVF;

#define PHYIO_NET_ETH_PF ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthPF
#define PHYIO_NET_ETH_VF ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthVF

void sr_config_free(struct sr_config *c)
{
	if (!c)
		return;
	free(c->pfs);
	free(c->apps);
	free(c->adapters);
	free(c->vfdata);
	memset(c, 0, sizeof(*c));
}

/* Copy a config string into a fixed field: too long, or a control
 * character in it, is an error. (UTF-8 was checked for the whole config.) */
static int copy_field(char *dst, size_t cap, const char *src, const char *field,
		      struct sr_err *err)
{
	size_t n = src ? strlen(src) : 0;
	char q[SR_QUOTE_CAP(40)];

	if (n >= cap)
		return sr_err_set(err, -EINVAL, "%s \"%s\": %zu bytes, allowed at most %zu",
				  field, sr_quote(q, sizeof(q), src, 40), n, cap - 1);
	if (n && !sr_text_printable(src))
		return sr_err_set(err, -EINVAL,
				  "%s \"%s\": control characters are not allowed in names",
				  field, sr_quote(q, sizeof(q), src, 40));
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

/* phyaddrs key k is name (case-insensitive); a second one is an error. */
static int addr_key(const char *k, const char *name, bool *seen, size_t idx,
		    const struct sr_pf_cfg *pf, struct sr_err *err)
{
	char q[SR_QUOTE_CAP(SHOW)];

	if (strcasecmp(k, name))
		return 0;
	if (*seen)
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%zu] (%s).phyaddrs[\"%s\"]: a second \"%s\" key (keys are case-insensitive): give it once",
				  idx, sr_pf_cfg_label(pf), Q(q, k), name);
	*seen = true;
	return 1;
}

static int decode_addrs(const PbPhysicalIO *io, size_t idx, struct sr_pf_cfg *pf,
			struct sr_err *err)
{
	bool seen_if = false, seen_pci = false;
	char q[SR_QUOTE_CAP(SHOW)];
	int r;

	for (size_t i = 0; i < io->n_phyaddrs; i++) {
		const char *k = io->phyaddrs[i]->key, *v = io->phyaddrs[i]->value;

		if (!k || !v)
			continue;
		if ((r = addr_key(k, "ifname", &seen_if, idx, pf, err)) < 0)
			return r;
		if (r) {
			if (!sr_valid_ifname(v))
				return sr_err_set(err, -EINVAL,
						  "deviceIoList[%zu] (%s).phyaddrs[ifname] \"%s\": allowed 1..15 bytes, no '/', ':' or blanks, not \".\" or \"..\"",
						  idx, sr_pf_cfg_label(pf), Q(q, v));
			strcpy(pf->ifname, v);
			continue;
		}
		if ((r = addr_key(k, "pcilong", &seen_pci, idx, pf, err)) < 0)
			return r;
		if (r) {
			char pci[SR_PCI_LEN] = "";

			for (size_t j = 0; v[j] && j < sizeof(pci) - 1; j++)
				pci[j] = (char)tolower((unsigned char)v[j]);
			if (strlen(v) >= sizeof(pci) || !sr_valid_pci(pci))
				return sr_err_set(err, -EINVAL,
						  "deviceIoList[%zu] (%s).phyaddrs[pcilong] \"%s\": allowed a PCI address dddd:bb:dd.f (device 00..1f, function 0..7)",
						  idx, sr_pf_cfg_label(pf), Q(q, v));
			strcpy(pf->pci, pci);
		}
	}
	if (!pf->ifname[0] && !pf->pci[0])
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%zu] (%s).phyaddrs: neither \"ifname\" nor \"pcilong\" given: one is required",
				  idx, sr_pf_cfg_label(pf));
	return 0;
}

static int decode_count(const PbPhysicalIO *io, size_t idx, struct sr_pf_cfg *pf,
			struct sr_err *err)
{
	const char *cb_count = NULL;
	char q[SR_QUOTE_CAP(SHOW)];

	for (size_t i = 0; i < io->n_cbattr; i++) {
		const char *k = io->cbattr[i]->key;

		if (!k || strcasecmp(k, SR_VF_COUNT_CBATTR))
			continue;
		if (cb_count)
			return sr_err_set(err, -EINVAL,
					  "deviceIoList[%zu] (%s).cbattr[\"%s\"]: a second \"%s\" key (keys are case-insensitive): give it once",
					  idx, sr_pf_cfg_label(pf), Q(q, k), SR_VF_COUNT_CBATTR);
		cb_count = io->cbattr[i]->value ? io->cbattr[i]->value : "";
	}
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
					  idx, sr_pf_cfg_label(pf), SR_VF_COUNT_CBATTR, Q(q, cb_count));
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

static int decode_pf(const PbPhysicalIO *io, size_t idx, struct sr_pf_cfg *pf,
		     struct sr_err *err)
{
	char field[64];
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
	if ((r = decode_addrs(io, idx, pf, err)))
		return r;
	return decode_count(io, idx, pf, err);
}

/* ---- PF names: every label form, in hash sets ---- */

enum label_form { FORM_LOGICAL, FORM_PHY, FORM_ASSIGNGRP, FORM__COUNT };

static const char *const form_name[FORM__COUNT] = { "logicallabel", "phylabel", "assigngrp" };

static const char *pf_form(const struct sr_pf_cfg *pf, int f)
{
	return f == FORM_LOGICAL ? pf->logicallabel : f == FORM_PHY ? pf->phylabel : pf->assigngrp;
}

/* Which PF each label names: value = pf * FORM__COUNT + form. An
 * assigngrp may be shared by several PFs (EVE's assignment groups):
 * `shared` then holds the second one, and naming it in an adapter is an
 * error. */
struct names {
	struct sr_set labels, shared, ifnames, pcis;
};

static void names_free(struct names *n)
{
	sr_set_free(&n->labels);
	sr_set_free(&n->shared);
	sr_set_free(&n->ifnames);
	sr_set_free(&n->pcis);
}

static int oom(struct sr_err *err)
{
	return sr_err_set(err, -ENOMEM, "config: out of memory");
}

static int add_label(struct names *nm, const struct sr_pf_cfg *pfs, size_t i, int f,
		     struct sr_err *err)
{
	const char *l = pf_form(&pfs[i], f);
	size_t old;
	int r;

	if (!l[0])
		return 0;
	r = sr_set_add(&nm->labels, l, strlen(l), i * FORM__COUNT + (size_t)f, &old);
	if (r < 0)
		return r == -ENOMEM ? oom(err) : sr_err_set(err, r, "config: label too long");
	if (r == 0 || old / FORM__COUNT == i)
		return 0;
	if (f == FORM_ASSIGNGRP && old % FORM__COUNT == FORM_ASSIGNGRP) {
		if (sr_set_add(&nm->shared, l, strlen(l), i, NULL) < 0)
			return oom(err);
		return 0;
	}
	return sr_err_set(err, -EINVAL,
			  "deviceIoList[%u].%s \"%s\": already used by deviceIoList[%u].%s: each label names one PF",
			  pfs[i].io_index, form_name[f], l, pfs[old / FORM__COUNT].io_index,
			  form_name[old % FORM__COUNT]);
}

/* "<label>vf<N>": the label is everything before the last "vf", N is
 * decimal to the end. 0 with *len and *n set, or -ENOENT when name is not that. */
static int split_vf_name(const char *name, size_t *len, uint32_t *n)
{
	const char *p = NULL;

	for (const char *q = name; (q = strstr(q, "vf")); q++)
		p = q;
	if (!p || p == name || parse_u32(p + 2, n))
		return -ENOENT;
	*len = (size_t)(p - name);
	return 0;
}

/* A label that reads as "<other label>vf<N>" makes adapter names
 * ambiguous ("eth" + "ethvf0"): refused, whichever order they come in. */
static int check_vf_forms(const struct names *nm, const struct sr_pf_cfg *pfs, size_t n_pfs,
			  struct sr_err *err)
{
	for (size_t i = 0; i < n_pfs; i++) {
		for (int f = 0; f < FORM__COUNT; f++) {
			const char *l = pf_form(&pfs[i], f);
			size_t len, v;
			uint32_t vf;

			if (!l[0] || split_vf_name(l, &len, &vf) ||
			    !sr_set_find(&nm->labels, l, len, &v))
				continue;
			return sr_err_set(err, -EINVAL,
					  "deviceIoList[%u].%s \"%s\": reads as VF %u of the PF labelled \"%.*s\" (deviceIoList[%u].%s): adapter names would be ambiguous; rename one",
					  pfs[i].io_index, form_name[f], l, vf, (int)len, l,
					  pfs[v / FORM__COUNT].io_index, form_name[v % FORM__COUNT]);
		}
	}
	return 0;
}

/* The ifname is a VF name base too ("eth1" + "vf0"): no label may equal
 * another PF's ifname (their VF names would be the same) or read as
 * "<another PF's ifname>vf<N>". */
static int check_ifname_forms(const struct names *nm, const struct sr_pf_cfg *pfs, size_t n_pfs,
			      struct sr_err *err)
{
	for (size_t i = 0; i < n_pfs; i++) {
		for (int f = 0; f < FORM__COUNT; f++) {
			const char *l = pf_form(&pfs[i], f);
			size_t len, j;
			uint32_t vf;

			if (!l[0])
				continue;
			if (sr_set_find(&nm->ifnames, l, strlen(l), &j) && j != i)
				return sr_err_set(err, -EINVAL,
						  "deviceIoList[%u].%s \"%s\": also the phyaddrs[ifname] of deviceIoList[%u]: VF names \"%svf<N>\" would be ambiguous; rename one",
						  pfs[i].io_index, form_name[f], l, pfs[j].io_index, l);
			if (!split_vf_name(l, &len, &vf) && sr_set_find(&nm->ifnames, l, len, &j))
				return sr_err_set(err, -EINVAL,
						  "deviceIoList[%u].%s \"%s\": reads as VF %u of the PF with phyaddrs[ifname] \"%.*s\" (deviceIoList[%u]): adapter names would be ambiguous; rename one",
						  pfs[i].io_index, form_name[f], l, vf, (int)len, l,
						  pfs[j].io_index);
		}
	}
	return 0;
}

static int check_pf_unique(struct names *nm, const struct sr_pf_cfg *pfs, size_t n,
			   struct sr_err *err)
{
	int r;

	if (sr_set_init(&nm->labels, n * FORM__COUNT) || sr_set_init(&nm->shared, 0) ||
	    sr_set_init(&nm->ifnames, n) || sr_set_init(&nm->pcis, n))
		return oom(err);
	for (size_t i = 0; i < n; i++) {
		const struct sr_pf_cfg *b = &pfs[i];
		const char *what = NULL, *val = NULL;
		size_t old = 0;

		if (b->ifname[0] &&
		    (r = sr_set_add(&nm->ifnames, b->ifname, strlen(b->ifname), i, &old)) != 0)
			what = "phyaddrs[ifname]", val = b->ifname;
		else if (b->pci[0] && (r = sr_set_add(&nm->pcis, b->pci, strlen(b->pci), i, &old)) != 0)
			what = "phyaddrs[pcilong]", val = b->pci;
		if (what && r < 0)
			return oom(err);
		if (what)
			return sr_err_set(err, -EINVAL,
					  "deviceIoList[%u].%s \"%s\": already used by deviceIoList[%u]: each PF must be named once",
					  b->io_index, what, val, pfs[old].io_index);
		for (int f = 0; f < FORM__COUNT; f++)
			if ((r = add_label(nm, pfs, i, f, err)))
				return r;
	}
	if ((r = check_vf_forms(nm, pfs, n, err)))
		return r;
	return check_ifname_forms(nm, pfs, n, err);
}

/* Adapter.name -> PF, and VF index when it is "<X>vf<N>" (EVE's
 * GetVfIfaceName) for X a label or the PF's ifname. -ENOENT:
 * no such PF; -EEXIST: a shared assigngrp (*pf: one PF, *other: another). */
static int resolve_adapter(const struct names *nm, const char *name, size_t *pf, int64_t *vf,
			   size_t *other)
{
	size_t v, len = strlen(name);
	uint32_t n = 0;
	bool indexed = false;

	if (!sr_set_find(&nm->labels, name, len, &v)) {
		if (split_vf_name(name, &len, &n))
			return -ENOENT;
		if (!sr_set_find(&nm->labels, name, len, &v)) {
			/* "<ifname>vf<N>" (the PF's phyaddrs[ifname]) */
			if (!sr_set_find(&nm->ifnames, name, len, &v))
				return -ENOENT;
			*pf = v;
			*vf = n;
			return 0;
		}
		indexed = true;
	}
	*pf = v / FORM__COUNT;
	if (sr_set_find(&nm->shared, name, len, other))
		return -EEXIST;
	*vf = indexed ? (int64_t)n : SR_UNSET;
	return 0;
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
	char q[SR_QUOTE_CAP(SHOW)];

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
					  where, Q(q, o->vlan_proto));
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
					  where, Q(q, o->link_state));
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

/* An EthVF: an adapter's eth_vf (sub "eth_vf.") or a vflist.data entry
 * (sub ""); messages name where + sub + the field. */
static int decode_ethvf(const PbEthVF *e, struct sr_vf_settings *s, const char *where,
			const char *sub, struct sr_err *err)
{
	char q[SR_QUOTE_CAP(SHOW)];

	sr_vf_settings_init(s);
	if (!e)
		return 0;
	if (e->mac && e->mac[0]) {
		if (sr_parse_mac(e->mac, s->mac))
			return sr_err_set(err, -EINVAL,
					  "%s.%smac \"%s\": allowed six hex octets aa:bb:cc:dd:ee:ff",
					  where, sub, Q(q, e->mac));
		if (!sr_mac_is_unicast(s->mac))
			return sr_err_set(err, -EINVAL,
					  "%s.%smac \"%s\": %s; allowed a unicast, non-zero MAC",
					  where, sub, Q(q, e->mac), (s->mac[0] & 1) ? "multicast" : "all-zero");
		s->has_mac = true;
	}
	if (e->vlan_id) {
		if (e->vlan_id < SR_VLAN_MIN || e->vlan_id > SR_VLAN_MAX)
			return sr_err_set(err, -EINVAL, "%s.%svlan_id %u: allowed %d..%d (0 = none)",
					  where, sub, e->vlan_id, SR_VLAN_MIN, SR_VLAN_MAX);
		s->vlan = (int32_t)e->vlan_id;
	}
	if (e->sriov_options)
		return decode_options(e->sriov_options, s, where, err);
	return 0;
}

static int decode_app(const PbApp *pa, size_t idx, struct sr_app *app, struct sr_err *err)
{
	const char *u = pa->uuidandversion ? pa->uuidandversion->uuid : NULL;
	char field[48], q[SR_QUOTE_CAP(SHOW)];
	int r;

	memset(app, 0, sizeof(*app));
	if (!u || !*u)
		return sr_err_set(err, -EINVAL,
				  "apps[%zu].uuidandversion.uuid missing: a UUID is required", idx);
	if (uuid_parse(u, app->uuid))
		return sr_err_set(err, -EINVAL,
				  "apps[%zu].uuidandversion.uuid \"%s\": allowed a UUID like 3f2a1c2e-8d4b-4c1a-9f0e-1b2c3d4e5f60",
				  idx, Q(q, u));
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

/* ---- checks over all adapters, each one pass with a hash set ---- */

/* Explicit "<pf>vf<N>" adapters: N < vf_count and no VF named twice. */
static int check_explicit(const struct sr_config *c, struct sr_err *err)
{
	struct sr_set seen;
	int r = 0;

	if (sr_set_init(&seen, c->n_adapters))
		return oom(err);
	for (size_t i = 0; i < c->n_adapters && !r; i++) {
		const struct sr_adapter_cfg *a = &c->adapters[i];
		const struct sr_pf_cfg *pf = &c->pfs[a->pf];
		uint64_t key[2] = { a->pf, (uint64_t)a->vf_index };
		size_t j;

		if (a->vf_index == SR_UNSET)
			continue;
		if (a->vf_index >= pf->vf_count) {
			r = sr_err_set(err, -EINVAL,
				       "apps[%zu] (%s).adapters[%u].name: VF %lld of PF %s: the PF has %u VFs, allowed 0..%u",
				       a->app, c->apps[a->app].uuid_str, a->adapter_index,
				       (long long)a->vf_index, sr_pf_cfg_label(pf), pf->vf_count,
				       pf->vf_count - 1);
			break;
		}
		r = sr_set_add(&seen, key, sizeof(key), i, &j);
		if (r < 0) {
			r = oom(err);
		} else if (r) {
			const struct sr_adapter_cfg *b = &c->adapters[j];

			r = sr_err_set(err, -EINVAL,
				       "apps[%zu] (%s).adapters[%u]: VF %lld of PF %s is already taken by apps[%zu] (%s).adapters[%u]: one adapter per VF",
				       a->app, c->apps[a->app].uuid_str, a->adapter_index,
				       (long long)a->vf_index, sr_pf_cfg_label(pf), b->app,
				       c->apps[b->app].uuid_str, b->adapter_index);
		}
	}
	sr_set_free(&seen);
	return r;
}

static int check_capacity(const struct sr_config *c, struct sr_err *err)
{
	size_t *asked = calloc(c->n_pfs ? c->n_pfs : 1, sizeof(*asked));
	int r = 0;

	if (!asked)
		return oom(err);
	for (size_t i = 0; i < c->n_adapters; i++)
		asked[c->adapters[i].pf]++;
	for (size_t p = 0; p < c->n_pfs && !r; p++)
		if (asked[p] > c->pfs[p].vf_count)
			r = sr_err_set(err, -ENOSPC,
				       "PF %s has %u VFs, %zu asked by app adapters: over-assignment refused",
				       sr_pf_cfg_label(&c->pfs[p]), c->pfs[p].vf_count, asked[p]);
	free(asked);
	return r;
}

#define DERIVE_TRIES 64

/* An adapter naming its VF ("<pf>vf<N>") and that VF's vflist.data entry
 * must agree; adapters given the lowest free VF are checked when reserved. */
static int check_explicit_vfdata(const struct sr_config *c, struct sr_err *err)
{
	struct sr_vf_settings m;
	int r;

	for (size_t i = 0; i < c->n_adapters; i++)
		if (c->adapters[i].vf_index != SR_UNSET &&
		    (r = sr_config_vf_settings(c, &c->adapters[i], (uint32_t)c->adapters[i].vf_index,
					       &m, err)))
			return r;
	return 0;
}

/* Set values above this mark are vflist.data entries, below it adapters. */
#define MAC_VFDATA ((size_t)1 << (sizeof(size_t) * 8 - 1))

/* vflist.data MACs go into seen first: unique among themselves. */
static int add_vfdata_macs(const struct sr_config *c, struct sr_set *seen, struct sr_err *err)
{
	char mac[18];
	size_t j;
	int r;

	for (size_t k = 0; k < c->n_vfdata; k++) {
		const struct sr_vfdata_cfg *d = &c->vfdata[k], *o;

		if (!d->settings.has_mac)
			continue;
		r = sr_set_add(seen, d->settings.mac, 6, MAC_VFDATA | k, &j);
		if (r < 0)
			return oom(err);
		if (!r)
			continue;
		o = &c->vfdata[j & ~MAC_VFDATA];
		sr_mac_format(d->settings.mac, mac);
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%u].vflist.data[%u].mac %s: already used by deviceIoList[%u].vflist.data[%u]: MACs must be unique",
				  c->pfs[d->pf].io_index, d->entry, mac, c->pfs[o->pf].io_index, o->entry);
	}
	return 0;
}

/* An adapter MAC equal to a vflist.data MAC: fine on that very VF (an
 * adapter naming it), else a duplicate. */
static int adapter_vs_vfdata_mac(const struct sr_config *c, const struct sr_adapter_cfg *a,
				 size_t k, struct sr_err *err)
{
	const struct sr_vfdata_cfg *d = &c->vfdata[k];
	char mac[18];

	if (a->pf == d->pf && a->vf_index == (int64_t)d->index)
		return 0;
	sr_mac_format(a->settings.mac, mac);
	return sr_err_set(err, -EINVAL,
			  "apps[%zu] (%s).adapters[%u].eth_vf.mac %s: already the MAC of VF %u in deviceIoList[%u].vflist.data[%u]: MACs must be unique (name that VF, \"<pf-label>vf%u\", to give the app this MAC)",
			  a->app, c->apps[a->app].uuid_str, a->adapter_index, mac, d->index,
			  c->pfs[d->pf].io_index, d->entry, d->index);
}

/* MACs are unique over the config: explicit ones must differ; a derived
 * one that meets an explicit or an earlier derived one is derived again
 * (next attempt), so it stays a function of the config. */
static int check_macs(struct sr_config *c, struct sr_err *err)
{
	struct sr_set seen;
	char mac[18];
	size_t j;
	int r = 0;

	if (sr_set_init(&seen, c->n_adapters + c->n_vfdata))
		return oom(err);
	r = add_vfdata_macs(c, &seen, err);
	for (size_t i = 0; i < c->n_adapters && !r; i++) {
		const struct sr_adapter_cfg *a = &c->adapters[i], *b;

		if (!a->settings.has_mac)
			continue;
		r = sr_set_add(&seen, a->settings.mac, 6, i, &j);
		if (r < 0) {
			r = oom(err);
			break;
		}
		if (!r)
			continue;
		if (j & MAC_VFDATA) {
			r = adapter_vs_vfdata_mac(c, a, j & ~MAC_VFDATA, err);
			continue;
		}
		b = &c->adapters[j];
		sr_mac_format(a->settings.mac, mac);
		r = sr_err_set(err, -EINVAL,
			       "apps[%zu] (%s).adapters[%u].eth_vf.mac %s: already used by apps[%zu] (%s).adapters[%u]: MACs must be unique",
			       a->app, c->apps[a->app].uuid_str, a->adapter_index, mac, b->app,
			       c->apps[b->app].uuid_str, b->adapter_index);
	}
	for (size_t i = 0; i < c->n_adapters && !r; i++) {
		struct sr_adapter_cfg *a = &c->adapters[i];
		uint32_t t;

		if (a->settings.has_mac)
			continue;
		for (t = 0; t < DERIVE_TRIES; t++) {
			sr_derive_mac_try(c->apps[a->app].uuid, a->name, a->occurrence, t,
					  a->derived_mac);
			if ((r = sr_set_add(&seen, a->derived_mac, 6, i, NULL)) <= 0)
				break;
		}
		if (r < 0)
			r = oom(err);
		else if (t == DERIVE_TRIES)
			r = sr_err_set(err, -EINVAL,
				       "apps[%zu] (%s).adapters[%u]: no free MAC after %d derivations: set eth_vf.mac",
				       a->app, c->apps[a->app].uuid_str, a->adapter_index, DERIVE_TRIES);
	}
	sr_set_free(&seen);
	return r;
}

static int decode_adapter(const struct sr_config *c, const struct names *nm, const PbAdapter *ad,
			  size_t app, size_t k, struct sr_adapter_cfg *a, struct sr_err *err)
{
	char where[160], labels[256], q[SR_QUOTE_CAP(SHOW)];
	size_t other;
	int r;

	snprintf(where, sizeof(where), "apps[%zu] (%s).adapters[%zu]", app, c->apps[app].uuid_str,
		 k);
	if (!ad->name || !*ad->name)
		return sr_err_set(err, -EINVAL,
				  "%s.name empty: a PhyIoNetEthVF adapter names its PF label or \"<pf-label>vf<N>\"",
				  where);
	if (strlen(ad->name) >= sizeof(a->name))
		return sr_err_set(err, -EINVAL,
				  "%s.name \"%s\": %zu bytes, allowed 1..%zu (a PF label or \"<pf-label>vf<N>\")",
				  where, Q(q, ad->name), strlen(ad->name), sizeof(a->name) - 1);
	r = resolve_adapter(nm, ad->name, &a->pf, &a->vf_index, &other);
	if (r == -EEXIST)
		return sr_err_set(err, -EINVAL,
				  "%s.name \"%s\": the assigngrp of deviceIoList[%u] and deviceIoList[%u]: ambiguous; name the PF by its logicallabel or phylabel",
				  where, Q(q, ad->name), c->pfs[a->pf].io_index, c->pfs[other].io_index);
	if (r) {
		known_labels(c, labels, sizeof(labels));
		return sr_err_set(err, -EINVAL,
				  "%s.name \"%s\": no PF with that label; allowed a PF label or \"<pf-label>vf<N>\" (PFs: %s)",
				  where, Q(q, ad->name), labels);
	}
	a->app = app;
	a->adapter_index = (uint32_t)k;
	strcpy(a->name, ad->name);
	return decode_ethvf(ad->eth_vf, &a->settings, where, "eth_vf.", err);
}

static int decode_apps(const PbConfig *pb, struct sr_config *c, const struct names *nm,
		       struct sr_err *err)
{
	struct sr_set uuids;
	int r = 0;

	if (sr_set_init(&uuids, pb->n_apps))
		return oom(err);
	for (size_t i = 0; i < pb->n_apps && !r; i++) {
		const PbApp *pa = pb->apps[i];
		uint32_t position = 0;
		size_t j;

		if ((r = decode_app(pa, i, &c->apps[i], err)))
			break;
		r = sr_set_add(&uuids, c->apps[i].uuid, sizeof(uuid_t), i, &j);
		if (r < 0) {
			r = oom(err);
			break;
		}
		if (r) {
			r = sr_err_set(err, -EINVAL,
				       "apps[%zu].uuidandversion.uuid %s: already used by apps[%zu]: app UUIDs must be unique",
				       i, c->apps[i].uuid_str, j);
			break;
		}
		c->n_apps++;
		for (size_t k = 0; k < pa->n_adapters && !r; k++) {
			struct sr_adapter_cfg *a = &c->adapters[c->n_adapters];

			if (pa->adapters[k]->type != PHYIO_NET_ETH_VF)
				continue;
			if ((r = decode_adapter(c, nm, pa->adapters[k], i, k, a, err)))
				break;
			a->position = position++;
			c->n_adapters++;
		}
	}
	sr_set_free(&uuids);
	return r;
}

static int by_app_name_position(const void *x, const void *y)
{
	const struct sr_adapter_cfg *a = *(const struct sr_adapter_cfg *const *)x;
	const struct sr_adapter_cfg *b = *(const struct sr_adapter_cfg *const *)y;
	int d;

	if (a->app != b->app)
		return a->app < b->app ? -1 : 1;
	if ((d = strcmp(a->name, b->name)))
		return d;
	return a->position < b->position ? -1 : a->position > b->position;
}

/* Each adapter's occurrence among its app's VF adapters of the same name:
 * one sort, O(n log n) over all adapters. */
static int number_occurrences(struct sr_config *c, struct sr_err *err)
{
	struct sr_adapter_cfg **p = calloc(c->n_adapters ? c->n_adapters : 1, sizeof(*p));

	if (!p)
		return oom(err);
	for (size_t i = 0; i < c->n_adapters; i++)
		p[i] = &c->adapters[i];
	qsort(p, c->n_adapters, sizeof(*p), by_app_name_position);
	for (size_t i = 0; i < c->n_adapters; i++)
		p[i]->occurrence = i && p[i - 1]->app == p[i]->app &&
						   !strcmp(p[i - 1]->name, p[i]->name)
					   ? p[i - 1]->occurrence + 1
					   : 0;
	free(p);
	return 0;
}

/* ---- vflist.data: settings that belong to a VF ---- */

static int vfdata_cmp(const void *x, const void *y)
{
	const struct sr_vfdata_cfg *a = x, *b = y;

	if (a->pf != b->pf)
		return a->pf < b->pf ? -1 : 1;
	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	return a->entry < b->entry ? -1 : a->entry > b->entry;
}

/* Entries of one PF: at most one per VF, each index < vf_count. */
static int decode_vfdata_pf(const PbPhysicalIO *io, size_t pf, struct sr_config *c,
			    struct sr_err *err)
{
	const struct sr_pf_cfg *p = &c->pfs[pf];
	const Org__Lfedge__Eve__Config__VfList *l = io->vflist;
	char where[128];
	int r;

	if (!l || !l->n_data)
		return 0;
	if (l->n_data > p->vf_count)
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%u] (%s).vflist.data: %zu entries for %u VFs: at most one per VF",
				  p->io_index, sr_pf_cfg_label(p), l->n_data, p->vf_count);
	for (size_t j = 0; j < l->n_data; j++) {
		struct sr_vfdata_cfg *d = &c->vfdata[c->n_vfdata];

		snprintf(where, sizeof(where), "deviceIoList[%u] (%s).vflist.data[%zu]", p->io_index,
			 sr_pf_cfg_label(p), j);
		if (l->data[j]->index >= p->vf_count)
			return sr_err_set(err, -EINVAL, "%s.index %u: the PF has %u VFs, allowed 0..%u",
					  where, l->data[j]->index, p->vf_count, p->vf_count - 1);
		d->pf = pf;
		d->index = l->data[j]->index;
		d->entry = (uint32_t)j;
		if ((r = decode_ethvf(l->data[j], &d->settings, where, "", err)))
			return r;
		c->n_vfdata++;
	}
	return 0;
}

static int decode_vfdata(const PbConfig *pb, struct sr_config *c, struct sr_err *err)
{
	size_t n = 0, pf = 0;
	int r;

	for (size_t i = 0; i < pb->n_deviceiolist; i++)
		if (pb->deviceiolist[i]->ptype == PHYIO_NET_ETH_PF && pb->deviceiolist[i]->vflist)
			n += pb->deviceiolist[i]->vflist->n_data;
	c->vfdata = calloc(n ? n : 1, sizeof(*c->vfdata));
	if (!c->vfdata)
		return oom(err);
	for (size_t i = 0; i < pb->n_deviceiolist; i++) {
		if (pb->deviceiolist[i]->ptype != PHYIO_NET_ETH_PF)
			continue;
		if ((r = decode_vfdata_pf(pb->deviceiolist[i], pf++, c, err)))
			return r;
	}
	qsort(c->vfdata, c->n_vfdata, sizeof(*c->vfdata), vfdata_cmp);
	for (size_t k = 1; k < c->n_vfdata; k++) {
		const struct sr_vfdata_cfg *a = &c->vfdata[k - 1], *b = &c->vfdata[k];

		if (a->pf == b->pf && a->index == b->index)
			return sr_err_set(err, -EINVAL,
					  "deviceIoList[%u] (%s).vflist.data[%u].index %u: already given by vflist.data[%u]: one entry per VF",
					  c->pfs[b->pf].io_index, sr_pf_cfg_label(&c->pfs[b->pf]),
					  b->entry, b->index, a->entry);
	}
	return 0;
}

/* EdgeDevConfig.id.uuid: absent or a UUID (reported as ZInfoMsg.devId). */
static int decode_device_id(const PbConfig *pb, struct sr_config *c, struct sr_err *err)
{
	const char *u = pb->id ? pb->id->uuid : NULL;
	char q[SR_QUOTE_CAP(SHOW)];
	uuid_t id;

	if (!u || !*u)
		return 0;
	if (strnlen(u, SR_UUID_LEN) != SR_UUID_LEN - 1 || uuid_parse(u, id))
		return sr_err_set(err, -EINVAL,
				  "id.uuid \"%s\": allowed a UUID like 3f2a1c2e-8d4b-4c1a-9f0e-1b2c3d4e5f60",
				  Q(q, u));
	uuid_unparse_lower(id, c->dev_uuid);
	return 0;
}

static int build(const PbConfig *pb, struct sr_config *c, struct sr_err *err)
{
	struct names nm = { 0 };
	size_t n_vf_adapters = 0;
	int r;

	c->pfs = calloc(pb->n_deviceiolist ? pb->n_deviceiolist : 1, sizeof(*c->pfs));
	c->apps = calloc(pb->n_apps ? pb->n_apps : 1, sizeof(*c->apps));
	for (size_t i = 0; i < pb->n_apps; i++)
		n_vf_adapters += pb->apps[i]->n_adapters;
	c->adapters = calloc(n_vf_adapters ? n_vf_adapters : 1, sizeof(*c->adapters));
	if (!c->pfs || !c->apps || !c->adapters)
		return oom(err);
	if ((r = decode_device_id(pb, c, err)))
		return r;

	for (size_t i = 0; i < pb->n_deviceiolist; i++) {
		if (pb->deviceiolist[i]->ptype != PHYIO_NET_ETH_PF)
			continue;
		if ((r = decode_pf(pb->deviceiolist[i], i, &c->pfs[c->n_pfs], err)))
			return r;
		c->n_pfs++;
	}
	if (!(r = check_pf_unique(&nm, c->pfs, c->n_pfs, err)) &&
	    !(r = decode_vfdata(pb, c, err)) &&
	    !(r = decode_apps(pb, c, &nm, err)) && !(r = number_occurrences(c, err)) &&
	    !(r = check_explicit(c, err)) &&
	    !(r = check_explicit_vfdata(c, err)) &&
	    !(r = check_capacity(c, err)))
		r = check_macs(c, err);
	names_free(&nm);
	return r;
}

static const struct sr_pb_limit config_limits[] = {
	{ &org__lfedge__eve__config__edge_dev_config__descriptor, 4, SR_CONFIG_MAX_APPS, "apps" },
	{ &org__lfedge__eve__config__edge_dev_config__descriptor, 13, SR_CONFIG_MAX_IO,
	  "deviceIoList entries" },
	{ &org__lfedge__eve__config__app_instance_config__descriptor, 7, SR_CONFIG_MAX_ADAPTERS,
	  "app adapters" },
};

int sr_config_decode(const uint8_t *buf, size_t len, struct sr_config *out,
		     struct sr_err *err)
{
	static const struct sr_pb_limits lim = {
		.fields = config_limits,
		.n_fields = sizeof(config_limits) / sizeof(config_limits[0]),
		.max_messages = SR_CONFIG_MAX_MESSAGES,
		.max_fields = SR_CONFIG_MAX_FIELDS,
		.max_depth = 16,
	};
	struct sr_config c = { 0 };
	struct sr_pb_arena arena;
	PbConfig *pb;
	int r;

	if (len > SR_CONFIG_MAX_BYTES)
		return sr_err_set(err, -E2BIG, "config: %zu bytes: allowed at most %u (limit of the agent)",
				  len, SR_CONFIG_MAX_BYTES);
	if ((r = sr_pb_prescan(&org__lfedge__eve__config__edge_dev_config__descriptor, buf, len,
			       &lim, err)))
		return r == -EINVAL ? sr_err_set(err, r,
						 "config: %zu bytes are not a valid EdgeDevConfig protobuf (truncated or corrupt)",
						 len)
				    : r;
	sr_pb_arena_init(&arena);
	pb = org__lfedge__eve__config__edge_dev_config__unpack(&arena.base, len, buf);
	if (!pb) {
		sr_pb_arena_free(&arena);
		return sr_err_set(err, -EINVAL,
				  "config: %zu bytes are not a valid EdgeDevConfig protobuf (truncated or corrupt)",
				  len);
	}
	r = sr_pb_check_utf8(&pb->base, err);
	if (!r)
		r = build(pb, &c, err);
	/* The message's objects go all at once, before the model is used. */
	sr_pb_arena_free(&arena);
	if (r) {
		sr_config_free(&c);
		return r;
	}
	*out = c;
	return 0;
}

int sr_config_check_release(const struct sr_config *c, size_t len, size_t n_reserved,
			    struct sr_err *err)
{
	if (len == 0)
		return sr_err_set(err, -EINVAL,
				  "config: 0 bytes (an empty file): refused, it would release every VF by accident; to release them on purpose, apply a config that lists the PFs (deviceIoList) with no app adapters");
	if (c->n_pfs == 0 && n_reserved > 0 && !c->dev_uuid[0])
		return sr_err_set(err, -EINVAL,
				  "config: no PhyIoNetEthPF in deviceIoList and no device id (id.uuid): refused, it would release all %zu reserved VF(s) by accident; to release them on purpose, apply a config that carries the device id, or lists the PFs with no app adapters",
				  n_reserved);
	return 0;
}
