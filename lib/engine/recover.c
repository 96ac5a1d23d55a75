/* SPDX-License-Identifier: MIT */
/*
 * Reservations rebuilt from the node (recover.h). Every lookup goes through
 * a set: a VF by PCI address, a VF by (PF, index), an app by UUID.
 */
#include "recover.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reserve.h"
#include "set.h"
#include "vfdata.h"

struct recover {
	const struct sr_config *cfg;
	const struct sr_pf *pfs;
	const struct sr_recover_claim *claims;
	size_t n_claims;
	const char *const *guest_drivers;
	const char *bind_driver;      /* guest_drivers[0] */
	struct sr_set vf_by_pci;      /* -> p << 32 | position in pfs[p].vfs */
	struct sr_set named;          /* VF key -> adapter naming it */
	struct sr_set claimed;        /* VF PCI -> first claim naming it */
	struct sr_set twice;          /* VF PCI -> second claim naming it */
	struct sr_set held;           /* VF key -> held reservation */
	struct sr_set apps;           /* UUID -> app */
	size_t *app_first;            /* app -> its first adapter (SIZE_MAX none) */
	size_t *app_claim;            /* app -> its claim (SIZE_MAX none) */
	struct sr_recovery *out;
	size_t notes_cap, conflicts_cap;
};

static int note(struct recover *rv, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int note(struct recover *rv, const char *fmt, ...)
{
	struct sr_recovery *o = rv->out;
	va_list ap;

	if (o->n_notes == rv->notes_cap) {
		size_t cap = rv->notes_cap ? rv->notes_cap * 2 : 8;
		char (*v)[SR_RECOVER_WHY_LEN] = realloc(o->notes, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->notes = v;
		rv->notes_cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(o->notes[o->n_notes++], SR_RECOVER_WHY_LEN, fmt, ap);
	va_end(ap);
	return 0;
}

static void unknown(struct sr_recover_adapter *ad, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void unknown(struct sr_recover_adapter *ad, const char *fmt, ...)
{
	va_list ap;

	ad->how = SR_RECOVER_UNKNOWN;
	va_start(ap, fmt);
	vsnprintf(ad->why, sizeof(ad->why), fmt, ap);
	va_end(ap);
}

static size_t pci_len(const char *pci)
{
	return strnlen(pci, SR_PCI_LEN - 1);
}

/* The node's VFs by PCI address; the VFs the config names by (PF, index). */
static int index_node(struct recover *rv)
{
	const struct sr_config *cfg = rv->cfg;
	uint8_t key[SR_SET_KEY_MAX];
	size_t n = 0;

	for (size_t p = 0; p < cfg->n_pfs; p++)
		n += rv->pfs[p].n_vfs;
	if (sr_set_init(&rv->vf_by_pci, n) || sr_set_init(&rv->named, 16) ||
	    sr_set_init(&rv->held, n) || sr_set_init(&rv->claimed, n) ||
	    sr_set_init(&rv->twice, 16) || sr_set_init(&rv->apps, cfg->n_apps))
		return -ENOMEM;
	for (size_t p = 0; p < cfg->n_pfs; p++)
		for (size_t v = 0; v < rv->pfs[p].n_vfs; v++) {
			const char *pci = rv->pfs[p].vfs[v].pci;

			if (pci[0] && sr_set_add(&rv->vf_by_pci, pci, pci_len(pci),
						 (size_t)p << 32 | v, NULL) < 0)
				return -ENOMEM;
		}
	for (size_t i = 0; i < cfg->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &cfg->adapters[i];

		if (a->vf_index != SR_UNSET &&
		    sr_set_add(&rv->named, key,
			       sr_reservation_vf_key(key, rv->pfs[a->pf].pci, (uint32_t)a->vf_index),
			       i, NULL) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Apps by UUID with their first adapter (adapters are grouped by app). */
static int index_apps(struct recover *rv)
{
	const struct sr_config *cfg = rv->cfg;
	size_t na = cfg->n_apps ? cfg->n_apps : 1;

	rv->app_first = malloc(na * sizeof(*rv->app_first));
	rv->app_claim = malloc(na * sizeof(*rv->app_claim));
	if (!rv->app_first || !rv->app_claim)
		return -ENOMEM;
	for (size_t a = 0; a < cfg->n_apps; a++) {
		rv->app_first[a] = rv->app_claim[a] = SIZE_MAX;
		if (sr_set_add(&rv->apps, cfg->apps[a].uuid_str,
			       strnlen(cfg->apps[a].uuid_str, SR_UUID_LEN - 1), a, NULL) < 0)
			return -ENOMEM;
	}
	for (size_t i = cfg->n_adapters; i-- > 0;)
		rv->app_first[cfg->adapters[i].app] = i;
	return 0;
}

/* Which claim is each app's, and which VFs more than one claim names. */
static int index_claims(struct recover *rv)
{
	for (size_t c = 0; c < rv->n_claims; c++) {
		const struct sr_recover_claim *cl = &rv->claims[c];
		size_t a, first;
		int r;

		if (sr_set_find(&rv->apps, cl->app_uuid, strnlen(cl->app_uuid, SR_UUID_LEN - 1),
				&a) != 1) {
			if (note(rv, "%s: app %s is not in the config: the VFs it names are not kept",
				 cl->source, cl->app_uuid))
				return -ENOMEM;
		} else if (rv->app_claim[a] != SIZE_MAX) {
			if (note(rv, "%s: app %s has another domain config (%s): not used", cl->source,
				 cl->app_uuid, rv->claims[rv->app_claim[a]].source))
				return -ENOMEM;
			continue;
		} else {
			rv->app_claim[a] = c;
		}
		if (cl->refused) {
			if (note(rv, "%s: not used: %s", cl->source, cl->refused))
				return -ENOMEM;
			continue;
		}
		for (size_t k = 0; k < cl->n_vf; k++) {
			const char *pci = cl->vf_pci[k];

			r = sr_set_add(&rv->claimed, pci, pci_len(pci), c, &first);
			if (r == 1 && sr_set_add(&rv->twice, pci, pci_len(pci), c, NULL) < 0)
				return -ENOMEM;
			if (r < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* The reservation adapter i of the config held on VF v of PF p. */
static void hold(struct recover *rv, size_t i, size_t p, const struct sr_vf *vf, size_t claim)
{
	const struct sr_config *cfg = rv->cfg;
	const struct sr_adapter_cfg *a = &cfg->adapters[i];
	const struct sr_app *app = &cfg->apps[a->app];
	struct sr_reservation *r = &rv->out->held[rv->out->n_held++];
	struct sr_recover_adapter *ad = &rv->out->adapters[i];
	uint8_t key[SR_SET_KEY_MAX];

	sr_reservation_init(r);
	strcpy(r->app_uuid, app->uuid_str);
	strcpy(r->pf_pci, rv->pfs[p].pci);
	strcpy(r->pf_ifname, rv->pfs[p].ifname);
	r->vf_index = vf->index;
	strcpy(r->vf_pci, vf->pci);
	strcpy(r->adapter_name, a->name);
	r->occurrence = a->occurrence;
	r->adapter = a->position;
	if (sr_config_vf_settings(cfg, a, vf->index, &r->desired, NULL))
		sr_vf_settings_init(&r->desired);
	/* Bound already: the apply that follows does not bind it again. */
	if (!strcmp(vf->driver, rv->bind_driver))
		strcpy(r->bound_driver, vf->driver);
	ad->how = SR_RECOVER_HELD;
	ad->vf_index = vf->index;
	ad->claim = claim;
	if (strcmp(vf->driver, rv->bind_driver))
		snprintf(ad->why, sizeof(ad->why), "VF %s is on %s, not %s: kept, bound again",
			 vf->pci, vf->driver[0] ? vf->driver : "no driver", rv->bind_driver);
	sr_set_add(&rv->held, key, sr_reservation_vf_key(key, r->pf_pci, r->vf_index),
		   rv->out->n_held - 1, NULL);
}

/* Why VF pci, named by claim c for adapter i, cannot be kept: false and
 * *at (the VF in vf_by_pci) when it can. */
static bool refused(struct recover *rv, size_t i, size_t c, const char *pci, size_t *at)
{
	const struct sr_config *cfg = rv->cfg;
	const struct sr_adapter_cfg *a = &cfg->adapters[i];
	struct sr_recover_adapter *ad = &rv->out->adapters[i];
	const char *src = rv->claims[c].source;
	uint8_t key[SR_SET_KEY_MAX];
	const struct sr_vf *vf;
	size_t first, other, p;

	if (sr_set_find(&rv->twice, pci, pci_len(pci), &other) == 1) {
		sr_set_find(&rv->claimed, pci, pci_len(pci), &first);
		if (first == other)
			unknown(ad, "VF %s is named twice by %s: kept for none of its adapters", pci,
				src);
		else
			unknown(ad, "VF %s is named by two domain configs (%s and %s): kept for neither",
				pci, rv->claims[first].source, rv->claims[other].source);
		return true;
	}
	if (sr_set_find(&rv->vf_by_pci, pci, pci_len(pci), at) != 1) {
		unknown(ad, "VF %s named by %s is not a VF of the config's PFs on this node (gone, or its PF's VF count changed)",
			pci, src);
		return true;
	}
	p = *at >> 32;
	vf = &rv->pfs[p].vfs[*at & 0xffffffffu];
	if (p != a->pf)
		unknown(ad, "VF %s named by %s is a VF of PF %s, the adapter asks PF %s", pci, src,
			sr_pf_cfg_label(&cfg->pfs[p]), sr_pf_cfg_label(&cfg->pfs[a->pf]));
	else if (vf->index >= cfg->pfs[p].vf_count)
		unknown(ad, "VF %s named by %s is VF %u of PF %s, which the config gives %u VF(s)", pci,
			src, vf->index, sr_pf_cfg_label(&cfg->pfs[p]), cfg->pfs[p].vf_count);
	else if (sr_set_find(&rv->named, key,
			     sr_reservation_vf_key(key, rv->pfs[p].pci, vf->index), &other) == 1)
		unknown(ad, "VF %s named by %s is named in the config for app %s (%s)", pci, src,
			cfg->apps[cfg->adapters[other].app].uuid_str, cfg->adapters[other].name);
	else
		return false;
	return true;
}

/* Adapter i: the VF pci its app's domain config (claim c) names for it. */
static void adapter_from(struct recover *rv, size_t i, size_t c, const char *pci)
{
	size_t at;

	if (!refused(rv, i, c, pci, &at))
		hold(rv, i, at >> 32, &rv->pfs[at >> 32].vfs[at & 0xffffffffu], c);
}

static int recover_apps(struct recover *rv)
{
	const struct sr_config *cfg = rv->cfg;

	for (size_t app = 0; app < cfg->n_apps; app++) {
		size_t c = rv->app_claim[app], n_vf = 0;

		for (size_t i = rv->app_first[app]; i < cfg->n_adapters && cfg->adapters[i].app == app;
		     i++) {
			const struct sr_adapter_cfg *a = &cfg->adapters[i];
			struct sr_recover_adapter *ad = &rv->out->adapters[i];

			n_vf++;
			if (a->vf_index != SR_UNSET) {
				ad->how = SR_RECOVER_NAMED;
				snprintf(ad->why, sizeof(ad->why), "the config names VF %lld",
					 (long long)a->vf_index);
			} else if (c == SIZE_MAX) {
				unknown(ad, "no domain config of app %s was found", cfg->apps[app].uuid_str);
			} else if (rv->claims[c].refused) {
				unknown(ad, "its domain config %s was not used: %s",
					rv->claims[c].source, rv->claims[c].refused);
			} else if (a->position >= rv->claims[c].n_vf) {
				unknown(ad, "%s names %zu VF(s), none at position %u",
					rv->claims[c].source, rv->claims[c].n_vf, a->position);
			} else {
				adapter_from(rv, i, c, rv->claims[c].vf_pci[a->position]);
			}
		}
		if (c != SIZE_MAX && rv->claims[c].n_vf > n_vf &&
		    note(rv, "%s names %zu VF(s), app %s has %zu VF adapter(s): the VF(s) from position %zu on are not kept",
			 rv->claims[c].source, rv->claims[c].n_vf, cfg->apps[app].uuid_str, n_vf, n_vf))
			return -ENOMEM;
	}
	return 0;
}

static bool guest_driver(const struct recover *rv, const char *driver)
{
	for (const char *const *d = rv->guest_drivers; *d; d++)
		if (!strcmp(driver, *d))
			return true;
	return false;
}

static int conflict(struct recover *rv, size_t p, const struct sr_vf *vf, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int conflict(struct recover *rv, size_t p, const struct sr_vf *vf, const char *fmt, ...)
{
	struct sr_recovery *o = rv->out;
	struct sr_recover_conflict *k;
	va_list ap;

	if (o->n_conflicts == rv->conflicts_cap) {
		size_t cap = rv->conflicts_cap ? rv->conflicts_cap * 2 : 4;
		struct sr_recover_conflict *v = realloc(o->conflicts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		o->conflicts = v;
		rv->conflicts_cap = cap;
	}
	k = &o->conflicts[o->n_conflicts++];
	k->pf = p;
	k->vf_index = vf->index;
	snprintf(k->vf_pci, sizeof(k->vf_pci), "%s", vf->pci);
	snprintf(k->driver, sizeof(k->driver), "%s", vf->driver);
	va_start(ap, fmt);
	vsnprintf(k->why, sizeof(k->why), fmt, ap);
	va_end(ap);
	return 0;
}

/* The app of claim c, or SIZE_MAX when it is not in the config. */
static size_t claim_app(const struct recover *rv, size_t c)
{
	const char *u = rv->claims[c].app_uuid;
	size_t a;

	return sr_set_find(&rv->apps, u, strnlen(u, SR_UUID_LEN - 1), &a) == 1 ? a : SIZE_MAX;
}

/* Why the one claim c that names VF pci did not keep it for its app. */
static int single_claim(struct recover *rv, size_t p, const struct sr_vf *vf, size_t c)
{
	const struct sr_config *cfg = rv->cfg;
	const struct sr_recover_claim *cl = &rv->claims[c];
	size_t app = claim_app(rv, c), pos = 0;

	if (app == SIZE_MAX)
		return conflict(rv, p, vf, "named by %s, the domain config of app %s, which is not in the config",
				cl->source, cl->app_uuid);
	while (pos < cl->n_vf && strcmp(cl->vf_pci[pos], vf->pci))
		pos++;
	for (size_t i = rv->app_first[app]; i < cfg->n_adapters && cfg->adapters[i].app == app;
	     i++) {
		const struct sr_adapter_cfg *a = &cfg->adapters[i];
		const struct sr_recover_adapter *ad = &rv->out->adapters[i];

		if (a->position != pos)
			continue;
		if (ad->how == SR_RECOVER_NAMED)
			return conflict(rv, p, vf, "named by %s for app %s adapter %s#%u, to which the config gives VF %lld",
					cl->source, cl->app_uuid, a->name, a->occurrence,
					(long long)a->vf_index);
		return conflict(rv, p, vf, "named by %s for app %s adapter %s#%u, not kept for it: %s",
				cl->source, cl->app_uuid, a->name, a->occurrence, ad->why);
	}
	return conflict(rv, p, vf, "named by %s at VF position %zu, beyond app %s's VF adapters",
			cl->source, pos, cl->app_uuid);
}

/* VF v of PF p, on a guest driver and kept for no adapter: whose is it? */
static int contested(struct recover *rv, size_t p, const struct sr_vf *vf)
{
	const char *pci = vf->pci;
	size_t first, second;

	if (sr_set_find(&rv->claimed, pci, pci_len(pci), &first) != 1)
		return conflict(rv, p, vf, "named by no domain config");
	if (sr_set_find(&rv->twice, pci, pci_len(pci), &second) != 1)
		return single_claim(rv, p, vf, first);
	if (first == second)
		return conflict(rv, p, vf, "named twice by %s (app %s)", rv->claims[first].source,
				rv->claims[first].app_uuid);
	return conflict(rv, p, vf, "named by %s (app %s) and by %s (app %s)",
			rv->claims[first].source, rv->claims[first].app_uuid,
			rv->claims[second].source, rv->claims[second].app_uuid);
}

/* The VF the config names for adapter i: a conflict when a domain config
 * of another app names it too (that app's guest may hold it). */
static int named_disputed(struct recover *rv, size_t p, const struct sr_vf *vf, size_t i)
{
	const struct sr_config *cfg = rv->cfg;
	const struct sr_adapter_cfg *a = &cfg->adapters[i];
	const char *uuid = cfg->apps[a->app].uuid_str, *pci = vf->pci;
	size_t c[2], n = 0;

	if (sr_set_find(&rv->claimed, pci, pci_len(pci), &c[n]) == 1)
		n++;
	if (sr_set_find(&rv->twice, pci, pci_len(pci), &c[n]) == 1)
		n++;
	for (size_t k = 0; k < n; k++)
		if (strcmp(rv->claims[c[k]].app_uuid, uuid))
			return conflict(rv, p, vf, "the config gives it to app %s adapter %s#%u, and %s (app %s) names it",
					uuid, a->name, a->occurrence, rv->claims[c[k]].source,
					rv->claims[c[k]].app_uuid);
	return 0;
}

/* Every VF on a guest driver (vfio-pci, pciback: a guest may hold it) must
 * be kept for the app whose domain config alone names it, or be the VF the
 * config names for an app. Any other is a conflict: given out, it could
 * land in another app's domain config while a guest holds it. */
static int find_conflicts(struct recover *rv)
{
	uint8_t key[SR_SET_KEY_MAX];
	size_t i;
	int r;

	for (size_t p = 0; p < rv->cfg->n_pfs; p++)
		for (size_t v = 0; v < rv->pfs[p].n_vfs; v++) {
			const struct sr_vf *vf = &rv->pfs[p].vfs[v];
			size_t k = sr_reservation_vf_key(key, rv->pfs[p].pci, vf->index);

			if (!guest_driver(rv, vf->driver) || sr_set_find(&rv->held, key, k, NULL) == 1)
				continue;
			if (sr_set_find(&rv->named, key, k, &i) == 1)
				r = named_disputed(rv, p, vf, i);
			else
				r = contested(rv, p, vf);
			if (r)
				return r;
		}
	return 0;
}

static void recover_free(struct recover *rv)
{
	sr_set_free(&rv->vf_by_pci);
	sr_set_free(&rv->named);
	sr_set_free(&rv->claimed);
	sr_set_free(&rv->twice);
	sr_set_free(&rv->held);
	sr_set_free(&rv->apps);
	free(rv->app_first);
	free(rv->app_claim);
}

int sr_recover(const struct sr_config *cfg, const struct sr_pf *pfs,
	       const struct sr_recover_claim *claims, size_t n_claims,
	       const char *const *guest_drivers, struct sr_recovery *out, struct sr_err *err)
{
	struct sr_recovery rc = { 0 };
	struct recover rv = { .cfg = cfg, .pfs = pfs, .claims = claims, .n_claims = n_claims,
			      .guest_drivers = guest_drivers, .bind_driver = guest_drivers[0],
			      .out = &rc };
	size_t na = cfg->n_adapters ? cfg->n_adapters : 1;
	int r = -ENOMEM;

	rc.adapters = calloc(na, sizeof(*rc.adapters));
	rc.held = calloc(na, sizeof(*rc.held));
	if (!rc.adapters || !rc.held || index_node(&rv) || index_apps(&rv) || index_claims(&rv) ||
	    recover_apps(&rv) || find_conflicts(&rv))
		goto out;
	*out = rc;
	rc = (struct sr_recovery){ 0 };
	r = 0;
out:
	recover_free(&rv);
	sr_recovery_free(&rc);
	return r ? sr_err_set(err, r, "recover: out of memory") : 0;
}

void sr_recovery_free(struct sr_recovery *rc)
{
	free(rc->adapters);
	free(rc->held);
	free(rc->notes);
	free(rc->conflicts);
	*rc = (struct sr_recovery){ 0 };
}
