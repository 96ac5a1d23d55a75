/* SPDX-License-Identifier: MIT */
/*
 * ZInfoMsg builder. Every protobuf-c struct of one message lives in one
 * allocation per kind (bundles, pointer arrays), owned by struct info and
 * freed after packing: the packed bytes are the only output.
 */
#include "info.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eveinfo.pb-c.h"
#include "pbjson.h"
#include "reserve.h"

typedef Org__Lfedge__Eve__Info__ZInfoMsg PbMsg;
typedef Org__Lfedge__Eve__Info__ZInfoDevice PbDevice;
typedef Org__Lfedge__Eve__Info__ZInfoApp PbApp;
typedef Org__Lfedge__Eve__Info__ZioBundle PbBundle;
typedef Org__Lfedge__Eve__Info__IoAddresses PbAddr;
typedef Org__Lfedge__Eve__Info__VfPublishedInfo PbVfInfo;
typedef Org__Lfedge__Eve__Info__ErrorInfo PbErrorInfo;
typedef Google__Protobuf__Timestamp PbTimestamp;

#define VF_NAME_LEN (SR_LABEL_LEN + 16)   /* "<label>vf<N>" */
#define ERR_DESC_LEN (SR_NAME_LEN + 256)

/* One reported adapter and everything its ZioBundle points to. */
struct bundle {
	PbBundle zb;
	char name[VF_NAME_LEN];
	char member[VF_NAME_LEN];
	char *members[1];
	char app[SR_UUID_LEN];
	PbAddr addr;
	PbAddr *addrs[1];
	char mac[18];
	PbVfInfo vf_info;
	PbErrorInfo err;
	PbTimestamp err_time;
	char err_desc[ERR_DESC_LEN];
};

struct info {
	struct bundle *b;
	PbBundle **ptrs;
	size_t n, cap;
};

static void info_free(struct info *in)
{
	free(in->b);
	free(in->ptrs);
}

static int info_alloc(struct info *in, size_t cap, struct sr_err *err)
{
	in->b = calloc(cap ? cap : 1, sizeof(*in->b));
	in->ptrs = calloc(cap ? cap : 1, sizeof(*in->ptrs));
	in->cap = cap;
	in->n = 0;
	if (!in->b || !in->ptrs) {
		info_free(in);
		return sr_err_set(err, -ENOMEM, "info: out of memory");
	}
	return 0;
}

/* The config's PF for a state PF: same PCI address, else same ifname. */
static const struct sr_pf_cfg *cfg_pf(const struct sr_config *cfg, const struct sr_pf *pf)
{
	if (!cfg)
		return NULL;
	for (size_t i = 0; i < cfg->n_pfs; i++)
		if (cfg->pfs[i].pci[0] && !strcmp(cfg->pfs[i].pci, pf->pci))
			return &cfg->pfs[i];
	for (size_t i = 0; i < cfg->n_pfs; i++)
		if (cfg->pfs[i].ifname[0] && !strcmp(cfg->pfs[i].ifname, pf->ifname))
			return &cfg->pfs[i];
	return NULL;
}

/* Bundle name of a PF: its config label, else the state's, else ifname/PCI. */
static const char *pf_name(const struct sr_pf_cfg *pc, const struct sr_pf *pf)
{
	if (pc)
		return sr_pf_cfg_label(pc);
	if (pf->label[0])
		return pf->label;
	return pf->ifname[0] ? pf->ifname : pf->pci;
}

/* Member name of a PF, as EVE lists members: the logical label. */
static const char *pf_member(const struct sr_pf_cfg *pc, const struct sr_pf *pf)
{
	if (pc && pc->logicallabel[0])
		return pc->logicallabel;
	return pf_name(pc, pf);
}

static void set_time(PbTimestamp *ts, int64_t s)
{
	google__protobuf__timestamp__init(ts);
	ts->seconds = s;
}

/* err of a VF bundle: the VF's error, else the settings the driver refused. */
static void bundle_error(struct bundle *b, const struct sr_state *st,
			 const struct sr_reservation *r)
{
	size_t off = 0;

	if (!r)
		return;
	org__lfedge__eve__info__error_info__init(&b->err);
	if (r->error) {
		snprintf(b->err_desc, sizeof(b->err_desc), "%s", r->error);
		b->err.severity = ORG__LFEDGE__EVE__INFO__SEVERITY__SEVERITY_ERROR;
	} else {
		for (int a = 0; a < SR_ATTR__COUNT; a++) {
			if (r->attr_result[a] >= 0 || r->attr_result[a] == SR_ATTR_NOT_TRIED)
				continue;
			off += (size_t)snprintf(b->err_desc + off, off < sizeof(b->err_desc) ?
							sizeof(b->err_desc) - off : 0,
						"%s%s refused: %s", off ? "; " : "driver: ",
						sr_vf_attr_name(a), strerror(-r->attr_result[a]));
		}
		if (!off)
			return;
		b->err.severity = ORG__LFEDGE__EVE__INFO__SEVERITY__SEVERITY_WARNING;
	}
	b->err.description = b->err_desc;
	if (st->applied_at > 0) {
		set_time(&b->err_time, st->applied_at);
		b->err.timestamp = &b->err_time;
	}
	b->zb.err = &b->err;
}

static struct bundle *bundle_new(struct info *in, int type, const char *name, const char *member)
{
	struct bundle *b = &in->b[in->n];

	org__lfedge__eve__info__zio_bundle__init(&b->zb);
	b->zb.type = type;
	snprintf(b->name, sizeof(b->name), "%s", name);
	snprintf(b->member, sizeof(b->member), "%s", member);
	b->zb.name = b->name;
	b->members[0] = b->member;
	b->zb.members = b->members;
	b->zb.n_members = 1;
	in->ptrs[in->n++] = &b->zb;
	return b;
}

/* The ZioBundle of VF index of state PF i; vf is its VF table entry, NULL
 * when the VF is not in the table (its reservation still reports it). */
static void add_vf(struct info *in, const struct sr_state *st, const struct sr_config *cfg,
		   size_t i, uint32_t index, const struct sr_vf *vf)
{
	const struct sr_pf *pf = &st->pfs[i];
	const struct sr_pf_cfg *pc = cfg_pf(cfg, pf);
	const struct sr_reservation *r = sr_reservation_find(st->res, st->n_res, pf->pci, index);
	const struct sr_vf_settings *k = NULL, *want = r ? &r->desired : NULL;
	char name[VF_NAME_LEN], member[VF_NAME_LEN];
	struct bundle *b;

	if (vf && vf->has_kernel)
		k = &vf->kernel;
	snprintf(name, sizeof(name), "%svf%u", pf_name(pc, pf), index);
	snprintf(member, sizeof(member), "%svf%u", pf_member(pc, pf), index);
	b = bundle_new(in, ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthVF, name, member);
	if (r && !sr_reservation_is_vf_config(r)) {
		snprintf(b->app, sizeof(b->app), "%s", r->app_uuid);
		b->zb.usedbyappuuid = b->app;
	}
	org__lfedge__eve__info__io_addresses__init(&b->addr);
	org__lfedge__eve__info__vf_published_info__init(&b->vf_info);
	/* What the VF has: the kernel's view when known, else what was asked. */
	if (k && k->has_mac)
		sr_mac_format(k->mac, b->mac);
	else if (want && want->has_mac)
		sr_mac_format(want->mac, b->mac);
	b->addr.macaddress = b->mac;
	b->vf_info.index = index;
	if (k && k->vlan != SR_UNSET)
		b->vf_info.vlan_id = k->vlan > 0 ? (uint32_t)k->vlan : 0;
	else if (want && want->vlan > 0)
		b->vf_info.vlan_id = (uint32_t)want->vlan;
	b->addr.vf_info = &b->vf_info;
	b->addrs[0] = &b->addr;
	b->zb.ioaddresslist = b->addrs;
	b->zb.n_ioaddresslist = 1;
	bundle_error(b, st, r);
}

static int build_device(struct info *in, const struct sr_state *st, const struct sr_config *cfg,
			struct sr_err *err)
{
	size_t n = 0;
	int r;

	for (size_t i = 0; i < st->n_pfs; i++)
		n += 1 + st->pfs[i].n_vfs;
	if ((r = info_alloc(in, n, err)))
		return r;
	for (size_t i = 0; i < st->n_pfs; i++) {
		const struct sr_pf *pf = &st->pfs[i];
		const struct sr_pf_cfg *pc = cfg_pf(cfg, pf);

		bundle_new(in, ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthPF, pf_name(pc, pf),
			   pf_member(pc, pf));
		for (size_t j = 0; j < pf->n_vfs; j++)
			add_vf(in, st, cfg, i, pf->vfs[j].index, &pf->vfs[j]);
	}
	return 0;
}

/* A VF held on a PF that is not in the state's PF table. */
static void add_orphan(struct info *in, const struct sr_state *st,
		       const struct sr_reservation *res)
{
	struct bundle *b = bundle_new(in, ORG__LFEDGE__EVE__COMMON__PHY_IO_TYPE__PhyIoNetEthVF, "", "");

	snprintf(b->name, sizeof(b->name), "%svf%u",
		 res->pf_ifname[0] ? res->pf_ifname : res->pf_pci, res->vf_index);
	snprintf(b->member, sizeof(b->member), "%s", b->name);
	snprintf(b->app, sizeof(b->app), "%s", res->app_uuid);
	b->zb.usedbyappuuid = b->app;
	bundle_error(b, st, res);
}

/* The app's VFs in adapter order. */
static int build_app(struct info *in, const struct sr_state *st, const struct sr_config *cfg,
		     const char *uuid, struct sr_err *err)
{
	const struct sr_reservation **sel;
	size_t n = 0;
	int r;

	sel = calloc(st->n_res ? st->n_res : 1, sizeof(*sel));
	if (!sel)
		return sr_err_set(err, -ENOMEM, "info: out of memory");
	for (size_t j = 0; j < st->n_res; j++) {
		size_t k;

		if (strcasecmp(st->res[j].app_uuid, uuid))
			continue;
		for (k = n; k > 0 && sel[k - 1]->adapter > st->res[j].adapter; k--)
			sel[k] = sel[k - 1];
		sel[k] = &st->res[j];
		n++;
	}
	if ((r = info_alloc(in, n, err)))
		goto out_free_sel;
	for (size_t j = 0; j < n; j++) {
		size_t i;

		for (i = 0; i < st->n_pfs && strcmp(st->pfs[i].pci, sel[j]->pf_pci); i++)
			;
		if (i == st->n_pfs)
			add_orphan(in, st, sel[j]);
		else
			add_vf(in, st, cfg, i, sel[j]->vf_index,
			       sr_pf_find_vf(&st->pfs[i], sel[j]->vf_index));
	}
out_free_sel:
	free(sel);
	return r;
}

static const struct sr_app *find_app(const struct sr_state *st, const char *uuid)
{
	for (size_t i = 0; i < st->n_apps; i++)
		if (!strcasecmp(st->apps[i].uuid_str, uuid))
			return &st->apps[i];
	return NULL;
}

int sr_info_build(const struct sr_state *st, const struct sr_config *cfg, const char *app_uuid,
		  int64_t now_s, uint8_t **buf, size_t *len, struct sr_err *err)
{
	PbMsg msg = ORG__LFEDGE__EVE__INFO__ZINFO_MSG__INIT;
	PbDevice dev = ORG__LFEDGE__EVE__INFO__ZINFO_DEVICE__INIT;
	PbApp app = ORG__LFEDGE__EVE__INFO__ZINFO_APP__INIT;
	PbTimestamp at = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
	struct sr_app app_copy;
	struct info in = { 0 };
	uint8_t *out;
	size_t n;
	int r;

	if (cfg && cfg->dev_uuid[0])
		msg.devid = (char *)cfg->dev_uuid;
	if (now_s != SR_INFO_NO_TIME) {
		at.seconds = now_s;
		msg.attimestamp = &at;
	}
	if (!app_uuid) {
		if ((r = build_device(&in, st, cfg, err)))
			return r;
		dev.assignableadapters = in.ptrs;
		dev.n_assignableadapters = in.n;
		msg.ztype = ORG__LFEDGE__EVE__INFO__ZINFO_TYPES__ZiDevice;
		msg.info_content_case = ORG__LFEDGE__EVE__INFO__ZINFO_MSG__INFO_CONTENT_DINFO;
		msg.dinfo = &dev;
	} else {
		const struct sr_app *a = find_app(st, app_uuid);

		if (!a)
			return sr_err_set(err, -ENOENT, "app %.40s: not in the applied config", app_uuid);
		app_copy = *a;
		if ((r = build_app(&in, st, cfg, a->uuid_str, err)))
			return r;
		app.appid = app_copy.uuid_str;
		app.appname = app_copy.name;
		app.assignedadapters = in.ptrs;
		app.n_assignedadapters = in.n;
		msg.ztype = ORG__LFEDGE__EVE__INFO__ZINFO_TYPES__ZiApp;
		msg.info_content_case = ORG__LFEDGE__EVE__INFO__ZINFO_MSG__INFO_CONTENT_AINFO;
		msg.ainfo = &app;
	}
	n = org__lfedge__eve__info__zinfo_msg__get_packed_size(&msg);
	out = malloc(n ? n : 1);
	if (!out) {
		info_free(&in);
		return sr_err_set(err, -ENOMEM, "info: out of memory");
	}
	org__lfedge__eve__info__zinfo_msg__pack(&msg, out);
	info_free(&in);
	*buf = out;
	*len = n;
	return 0;
}

int sr_info_to_json(const uint8_t *buf, size_t len, FILE *out, struct sr_err *err)
{
	PbMsg *m = org__lfedge__eve__info__zinfo_msg__unpack(NULL, len, buf);

	if (!m)
		return sr_err_set(err, -EINVAL, "info: %zu bytes are not a ZInfoMsg", len);
	sr_pb_json(&m->base, out);
	org__lfedge__eve__info__zinfo_msg__free_unpacked(m, NULL);
	if (fflush(out) || ferror(out))
		return sr_err_set(err, -EIO, "info: write failed");
	return 0;
}
