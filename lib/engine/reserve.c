/* SPDX-License-Identifier: MIT */
/*
 * VF reservations (reserve.h): which app adapter holds which VF, computed
 * from the config, the node's PFs and the previous reservations. The old
 * reservations are indexed once, so every lookup is O(1).
 */
#include "reserve.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "set.h"
#include "vfdata.h"

const struct sr_reservation *sr_reservation_find(const struct sr_reservation *res, size_t n,
						 const char *pf_pci, uint32_t vf_index)
{
	for (size_t i = 0; i < n; i++)
		if (res[i].vf_index == vf_index && !strcmp(res[i].pf_pci, pf_pci))
			return &res[i];
	return NULL;
}

/* The old reservations indexed three ways: by app adapter identity on a
 * PF (who held what), by adapter position for reservations saved before
 * adapters had names, and by VF (what a VF carried). Keys are fixed-size,
 * zero-padded. */
struct old_index {
	struct sr_set by_adapter;
	struct sr_set by_position;
	struct sr_set by_vf;
};

/* FNV-1a of the adapter name: the key holds the hash (a name is up to 75
 * bytes, too long for a set key), so a match is confirmed by the name. */
static uint64_t name_hash(const char *name)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

/* (app UUID, number, PF, name hash): number is the occurrence for the
 * identity key, the position for the legacy one (name NULL). */
static size_t adapter_key(uint8_t key[SR_SET_KEY_MAX], const char *app_uuid, uint32_t number,
			  const char *pf_pci, const char *name)
{
	uint64_t h = name ? name_hash(name) : 0;
	size_t o = 0;

	memset(key, 0, SR_UUID_LEN + sizeof(number) + SR_PCI_LEN + sizeof(h));
	memcpy(key, app_uuid, strnlen(app_uuid, SR_UUID_LEN - 1));
	o += SR_UUID_LEN;
	memcpy(key + o, &number, sizeof(number));
	o += sizeof(number);
	memcpy(key + o, pf_pci, strnlen(pf_pci, SR_PCI_LEN - 1));
	o += SR_PCI_LEN;
	memcpy(key + o, &h, sizeof(h));
	return o + sizeof(h);
}

size_t sr_reservation_vf_key(uint8_t key[SR_SET_KEY_MAX], const char *pf_pci, uint32_t vf_index)
{
	memset(key, 0, SR_PCI_LEN + sizeof(vf_index));
	memcpy(key, pf_pci, strnlen(pf_pci, SR_PCI_LEN - 1));
	memcpy(key + SR_PCI_LEN, &vf_index, sizeof(vf_index));
	return SR_PCI_LEN + sizeof(vf_index);
}

static int index_old(struct old_index *ix, const struct sr_reservation *old, size_t n_old,
		     struct sr_err *err)
{
	uint8_t key[SR_SET_KEY_MAX];
	size_t dup, k;

	if (sr_set_init(&ix->by_adapter, n_old) || sr_set_init(&ix->by_position, 0) ||
	    sr_set_init(&ix->by_vf, n_old))
		return sr_err_set(err, -ENOMEM, "reserve: out of memory");
	/* The first of equal keys wins, as in the linear search it replaces. */
	for (size_t i = 0; i < n_old; i++) {
		const struct sr_reservation *o = &old[i];

		if (!o->adapter_name[0])
			k = adapter_key(key, o->app_uuid, o->adapter, o->pf_pci, NULL);
		else
			k = adapter_key(key, o->app_uuid, o->occurrence, o->pf_pci, o->adapter_name);
		if (sr_set_add(o->adapter_name[0] ? &ix->by_adapter : &ix->by_position, key, k, i,
			       &dup) < 0 ||
		    sr_set_add(&ix->by_vf, key, sr_reservation_vf_key(key, o->pf_pci, o->vf_index), i,
			       &dup) < 0)
			return sr_err_set(err, -ENOMEM, "reserve: out of memory");
	}
	return 0;
}

static void index_free(struct old_index *ix)
{
	sr_set_free(&ix->by_adapter);
	sr_set_free(&ix->by_position);
	sr_set_free(&ix->by_vf);
}

/* What this app adapter held on this PF: by its identity, else (a state
 * saved before adapters had names) by its position. */
static const struct sr_reservation *previous(const struct old_index *ix,
					     const struct sr_reservation *old,
					     const char *app_uuid, const struct sr_adapter_cfg *a,
					     const char *pf_pci)
{
	uint8_t key[SR_SET_KEY_MAX];
	size_t i;

	if (sr_set_find(&ix->by_adapter, key,
			adapter_key(key, app_uuid, a->occurrence, pf_pci, a->name), &i) == 1)
		return strcmp(old[i].adapter_name, a->name) ? NULL : &old[i];
	if (sr_set_find(&ix->by_position, key, adapter_key(key, app_uuid, a->position, pf_pci, NULL),
			&i) == 1)
		return &old[i];
	return NULL;
}

static const struct sr_reservation *held_by(const struct old_index *ix,
					    const struct sr_reservation *old, const char *pf_pci,
					    uint32_t vf_index)
{
	uint8_t key[SR_SET_KEY_MAX];
	size_t i;

	return sr_set_find(&ix->by_vf, key, sr_reservation_vf_key(key, pf_pci, vf_index), &i) == 1
		       ? &old[i]
		       : NULL;
}

static int fill(struct sr_reservation *r, const struct sr_config *cfg,
		const struct sr_adapter_cfg *a, const struct sr_pf *pf, uint32_t vf,
		struct sr_err *err)
{
	const struct sr_app *app = &cfg->apps[a->app];

	sr_reservation_init(r);
	strcpy(r->app_uuid, app->uuid_str);
	strcpy(r->pf_pci, pf->pci);
	strcpy(r->pf_ifname, pf->ifname);
	r->vf_index = vf;
	strcpy(r->adapter_name, a->name);
	r->occurrence = a->occurrence;
	r->adapter = a->position;
	/* the adapter's settings with the VF's vflist.data entry, if any */
	return sr_config_vf_settings(cfg, a, vf, &r->desired, err);
}

/* A VF no app holds that has a vflist.data entry: a reservation with no
 * app (app_uuid "") carrying the entry's settings. */
static void fill_vf_config(struct sr_reservation *r, const struct sr_vfdata_cfg *d,
			   const struct sr_pf *pf)
{
	sr_reservation_init(r);
	strcpy(r->pf_pci, pf->pci);
	strcpy(r->pf_ifname, pf->ifname);
	r->vf_index = d->index;
	r->adapter = 0;
	r->desired = d->settings;
}

/* Carry over what the node already has for this VF under this app. */
static void carry_over(struct sr_reservation *r, const struct sr_reservation *prev)
{
	r->has_original = prev->has_original;
	r->original = prev->original;
	memcpy(r->bound_driver, prev->bound_driver, sizeof(r->bound_driver));
	memcpy(r->original_driver, prev->original_driver, sizeof(r->original_driver));
	if (sr_vf_settings_equal(&r->desired, &prev->desired))
		memcpy(r->attr_result, prev->attr_result, sizeof(r->attr_result));
}

/* Only the settings the VF had before the agent changed it. */
static void carry_original(struct sr_reservation *r, const struct sr_reservation *prev)
{
	r->has_original = prev->has_original;
	r->original = prev->original;
}

struct reserve {
	const struct sr_config *cfg;
	const struct sr_pf *pfs;
	const struct sr_reservation *old;
	struct old_index ix;
	struct sr_reservation *res;
	size_t n;                      /* reservations made */
	bool **taken;                  /* [pf][vf] */
	bool *done;                    /* per adapter */
	uint32_t *next;                /* per PF: no free VF below it */
};

static int take(struct reserve *rv, size_t i, uint32_t vf, struct sr_err *err)
{
	const struct sr_adapter_cfg *a = &rv->cfg->adapters[i];

	rv->taken[a->pf][vf] = true;
	rv->done[i] = true;
	return fill(&rv->res[i], rv->cfg, a, &rv->pfs[a->pf], vf, err);
}

/* 1: adapters naming their VF (validation made them unique); 2: the same
 * app adapter keeps the VF it held. */
static int take_named_and_kept(struct reserve *rv, struct sr_err *err)
{
	const struct sr_config *cfg = rv->cfg;
	int r;

	for (size_t i = 0; i < cfg->n_adapters; i++)
		if (cfg->adapters[i].vf_index != SR_UNSET &&
		    (r = take(rv, i, (uint32_t)cfg->adapters[i].vf_index, err)))
			return r;
	for (size_t i = 0; i < cfg->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &cfg->adapters[i];
		const struct sr_reservation *prev;

		if (rv->done[i])
			continue;
		prev = previous(&rv->ix, rv->old, cfg->apps[a->app].uuid_str, a, rv->pfs[a->pf].pci);
		if (prev && prev->vf_index < cfg->pfs[a->pf].vf_count &&
		    !rv->taken[a->pf][prev->vf_index] && (r = take(rv, i, prev->vf_index, err)))
			return r;
	}
	return 0;
}

/* 3: the lowest free VF (taken only grows: the search goes on from next). */
static int take_free(struct reserve *rv, struct sr_err *err)
{
	const struct sr_config *cfg = rv->cfg;
	int r;

	for (size_t i = 0; i < cfg->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &cfg->adapters[i];
		uint32_t count = cfg->pfs[a->pf].vf_count, *vf = &rv->next[a->pf];

		if (rv->done[i])
			continue;
		while (*vf < count && rv->taken[a->pf][*vf])
			(*vf)++;
		if (*vf == count)
			return sr_err_set(err, -ENOSPC,
					  "PF %s has %u VFs, all reserved: app %s adapter %u asks one more",
					  sr_pf_cfg_label(&cfg->pfs[a->pf]), count,
					  cfg->apps[a->app].uuid_str, a->position);
		if ((r = take(rv, i, *vf, err)))
			return r;
	}
	return 0;
}

/* 4: VFs no app holds, with a vflist.data entry. */
static void take_vf_configs(struct reserve *rv)
{
	rv->n = rv->cfg->n_adapters;
	for (size_t k = 0; k < rv->cfg->n_vfdata; k++) {
		const struct sr_vfdata_cfg *d = &rv->cfg->vfdata[k];

		if (!rv->taken[d->pf][d->index])
			fill_vf_config(&rv->res[rv->n++], d, &rv->pfs[d->pf]);
	}
}

/* Saved state follows the VF only when the same app adapter (or the VF
 * config) keeps it. When a VF passes between its VF config and an app, the
 * settings it had before the agent stay its original ones. */
static void carry(struct reserve *rv)
{
	for (size_t i = 0; i < rv->n; i++) {
		struct sr_reservation *r = &rv->res[i];
		const struct sr_reservation *prev = held_by(&rv->ix, rv->old, r->pf_pci, r->vf_index);

		if (!prev)
			continue;
		if (sr_reservation_same_adapter(prev, r))
			carry_over(r, prev);
		else if (sr_reservation_is_vf_config(prev) || sr_reservation_is_vf_config(r))
			carry_original(r, prev);
	}
}

static int reserve_alloc(struct reserve *rv, struct sr_err *err)
{
	const struct sr_config *cfg = rv->cfg;
	size_t n_res = cfg->n_adapters + cfg->n_vfdata;

	rv->res = calloc(n_res ? n_res : 1, sizeof(*rv->res));
	rv->done = calloc(cfg->n_adapters ? cfg->n_adapters : 1, sizeof(*rv->done));
	rv->taken = calloc(cfg->n_pfs ? cfg->n_pfs : 1, sizeof(*rv->taken));
	rv->next = calloc(cfg->n_pfs ? cfg->n_pfs : 1, sizeof(*rv->next));
	if (!rv->res || !rv->done || !rv->taken || !rv->next)
		return sr_err_set(err, -ENOMEM, "reserve: out of memory");
	for (size_t p = 0; p < cfg->n_pfs; p++)
		if (!(rv->taken[p] = calloc(cfg->pfs[p].vf_count ? cfg->pfs[p].vf_count : 1,
					    sizeof(**rv->taken))))
			return sr_err_set(err, -ENOMEM, "reserve: out of memory");
	return 0;
}

int sr_reserve(const struct sr_config *cfg, const struct sr_pf *pfs,
	       const struct sr_reservation *old, size_t n_old,
	       struct sr_reservation **out, size_t *n_out, struct sr_err *err)
{
	struct reserve rv = { .cfg = cfg, .pfs = pfs, .old = old };
	int r;

	if ((r = reserve_alloc(&rv, err)) || (r = index_old(&rv.ix, old, n_old, err)) ||
	    (r = take_named_and_kept(&rv, err)) || (r = take_free(&rv, err)))
		goto out_free;
	take_vf_configs(&rv);
	carry(&rv);
	*out = rv.res;
	*n_out = rv.n;
	rv.res = NULL;

out_free:
	index_free(&rv.ix);
	for (size_t p = 0; rv.taken && p < cfg->n_pfs; p++)
		free(rv.taken[p]);
	free(rv.taken);
	free(rv.done);
	free(rv.next);
	free(rv.res);
	return r;
}
