/* SPDX-License-Identifier: MIT */
/*
 * vflist.data (EVE's EthVF per VF): look-up, and the settings an app
 * adapter ends up with on a VF that has an entry. Pure.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "vfdata.h"

const struct sr_vfdata_cfg *sr_config_vfdata(const struct sr_config *c, size_t pf, uint32_t vf)
{
	size_t lo = 0, hi = c->n_vfdata;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct sr_vfdata_cfg *d = &c->vfdata[mid];

		if (d->pf == pf && d->index == vf)
			return d;
		if (d->pf < pf || (d->pf == pf && d->index < vf))
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* One attribute both sources may set: its name in the config (as
 * "<field>" after "vflist.data[j]." / "eth_vf.") and its value as text. */
struct attr_view {
	const char *field;
	bool set_a, set_b;
	bool same;
	char a[24], b[24];
};

static void view_i64(struct attr_view *v, const char *field, int64_t a, int64_t b)
{
	v->field = field;
	v->set_a = a != SR_UNSET;
	v->set_b = b != SR_UNSET;
	v->same = a == b;
	snprintf(v->a, sizeof(v->a), "%" PRId64, a);
	snprintf(v->b, sizeof(v->b), "%" PRId64, b);
}

/* Fill views[] for d (vflist.data) and s (adapter); returns the count. */
static size_t views(const struct sr_vf_settings *d, const struct sr_vf_settings *s,
		    struct attr_view *v)
{
	size_t n = 0;

	v[n].field = "mac";
	v[n].set_a = d->has_mac;
	v[n].set_b = s->has_mac;
	v[n].same = !memcmp(d->mac, s->mac, 6);
	sr_mac_format(d->mac, v[n].a);
	sr_mac_format(s->mac, v[n].b);
	n++;
	view_i64(&v[n++], "vlan_id", d->vlan, s->vlan);
	view_i64(&v[n++], "sriov_options.qos", d->qos, s->qos);
	view_i64(&v[n++], "sriov_options.vlan_proto", d->vlan_proto, s->vlan_proto);
	view_i64(&v[n++], "sriov_options.spoofchk", d->spoofchk, s->spoofchk);
	view_i64(&v[n++], "sriov_options.trust", d->trust, s->trust);
	view_i64(&v[n++], "sriov_options.link_state", d->link_state, s->link_state);
	view_i64(&v[n++], "sriov_options.min_tx_rate", d->min_tx_rate, s->min_tx_rate);
	view_i64(&v[n++], "sriov_options.max_tx_rate", d->max_tx_rate, s->max_tx_rate);
	return n;
}

int sr_config_vf_settings(const struct sr_config *c, const struct sr_adapter_cfg *a, uint32_t vf,
			  struct sr_vf_settings *out, struct sr_err *err)
{
	const struct sr_vfdata_cfg *d = sr_config_vfdata(c, a->pf, vf);
	struct sr_vf_settings m = a->settings;
	struct attr_view v[9];
	size_t n;

	if (d) {
		const struct sr_vf_settings *ds = &d->settings;
		const struct sr_pf_cfg *pf = &c->pfs[a->pf];

		n = views(ds, &a->settings, v);
		for (size_t i = 0; i < n; i++)
			if (v[i].set_a && v[i].set_b && !v[i].same)
				return sr_err_set(err, -EINVAL,
						  "deviceIoList[%u] (%s).vflist.data[%u].%s %s vs apps[%zu] (%s).adapters[%u].eth_vf.%s %s: both set VF %u; give the same value or leave one out",
						  pf->io_index, sr_pf_cfg_label(pf), d->entry, v[i].field,
						  v[i].a, a->app, c->apps[a->app].uuid_str,
						  a->adapter_index, v[i].field, v[i].b, vf);
		if (!m.has_mac && ds->has_mac) {
			m.has_mac = true;
			memcpy(m.mac, ds->mac, 6);
		}
		if (m.vlan == SR_UNSET)
			m.vlan = ds->vlan;
		if (m.qos == SR_UNSET)
			m.qos = ds->qos;
		if (m.vlan_proto == SR_UNSET)
			m.vlan_proto = ds->vlan_proto;
		if (m.spoofchk == SR_UNSET)
			m.spoofchk = ds->spoofchk;
		if (m.trust == SR_UNSET)
			m.trust = ds->trust;
		if (m.link_state == SR_UNSET)
			m.link_state = ds->link_state;
		if (m.min_tx_rate == SR_UNSET)
			m.min_tx_rate = ds->min_tx_rate;
		if (m.max_tx_rate == SR_UNSET)
			m.max_tx_rate = ds->max_tx_rate;
	}
	if (!m.has_mac) {
		memcpy(m.mac, a->derived_mac, 6);
		m.has_mac = true;
	}
	*out = m;
	return 0;
}
