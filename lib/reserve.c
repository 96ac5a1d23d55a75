/* SPDX-License-Identifier: MIT */
#include "reserve.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const struct sr_reservation *sr_reservation_find(const struct sr_reservation *res, size_t n,
						 const char *pf_pci, uint32_t vf_index)
{
	for (size_t i = 0; i < n; i++)
		if (res[i].vf_index == vf_index && !strcmp(res[i].pf_pci, pf_pci))
			return &res[i];
	return NULL;
}

static const struct sr_reservation *previous(const struct sr_reservation *old, size_t n_old,
					     const char *app_uuid, uint32_t position,
					     const char *pf_pci)
{
	for (size_t i = 0; i < n_old; i++)
		if (old[i].adapter == position && !strcmp(old[i].app_uuid, app_uuid) &&
		    !strcmp(old[i].pf_pci, pf_pci))
			return &old[i];
	return NULL;
}

static int fill(struct sr_reservation *r, const struct sr_config *cfg,
		const struct sr_adapter_cfg *a, const struct sr_pf *pf, uint32_t vf,
		struct sr_err *err)
{
	const struct sr_app *app = &cfg->apps[a->app];

	sr_reservation_init(r);
	strcpy(r->app_uuid, app->uuid_str);
	strcpy(r->app_name, app->name);
	strcpy(r->pf_pci, pf->pci);
	strcpy(r->pf_ifname, pf->ifname);
	r->vf_index = vf;
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

int sr_reserve(const struct sr_config *cfg, const struct sr_pf *pfs,
	       const struct sr_reservation *old, size_t n_old,
	       struct sr_reservation **out, size_t *n_out, struct sr_err *err)
{
	struct sr_reservation *res;
	bool **taken;
	bool *done;
	size_t n;
	int r = 0;

	res = calloc(cfg->n_adapters + cfg->n_vfdata ? cfg->n_adapters + cfg->n_vfdata : 1,
		     sizeof(*res));
	done = calloc(cfg->n_adapters ? cfg->n_adapters : 1, sizeof(*done));
	taken = calloc(cfg->n_pfs ? cfg->n_pfs : 1, sizeof(*taken));
	if (!res || !done || !taken) {
		r = sr_err_set(err, -ENOMEM, "reserve: out of memory");
		goto out_free;
	}
	for (size_t p = 0; p < cfg->n_pfs; p++) {
		taken[p] = calloc(cfg->pfs[p].vf_count, sizeof(**taken));
		if (!taken[p]) {
			r = sr_err_set(err, -ENOMEM, "reserve: out of memory");
			goto out_free;
		}
	}

	/* 1: adapters naming their VF. Validation made them unique. */
	for (size_t i = 0; i < cfg->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &cfg->adapters[i];

		if (a->vf_index == SR_UNSET)
			continue;
		taken[a->pf][a->vf_index] = true;
		if ((r = fill(&res[i], cfg, a, &pfs[a->pf], (uint32_t)a->vf_index, err)))
			goto out_free;
		done[i] = true;
	}
	/* 2: the same app adapter keeps the VF it held. */
	for (size_t i = 0; i < cfg->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &cfg->adapters[i];
		const struct sr_reservation *prev;

		if (done[i])
			continue;
		prev = previous(old, n_old, cfg->apps[a->app].uuid_str, a->position,
				pfs[a->pf].pci);
		if (!prev || prev->vf_index >= cfg->pfs[a->pf].vf_count ||
		    taken[a->pf][prev->vf_index])
			continue;
		taken[a->pf][prev->vf_index] = true;
		if ((r = fill(&res[i], cfg, a, &pfs[a->pf], prev->vf_index, err)))
			goto out_free;
		done[i] = true;
	}
	/* 3: lowest free VF. */
	for (size_t i = 0; i < cfg->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &cfg->adapters[i];
		uint32_t vf = 0, count = cfg->pfs[a->pf].vf_count;

		if (done[i])
			continue;
		while (vf < count && taken[a->pf][vf])
			vf++;
		if (vf == count) {
			r = sr_err_set(err, -ENOSPC,
				       "PF %s has %u VFs, all reserved: app %s adapter %u asks one more",
				       sr_pf_cfg_label(&cfg->pfs[a->pf]), count,
				       cfg->apps[a->app].uuid_str, a->position);
			goto out_free;
		}
		taken[a->pf][vf] = true;
		if ((r = fill(&res[i], cfg, a, &pfs[a->pf], vf, err)))
			goto out_free;
		done[i] = true;
	}
	/* 4: VFs no app holds, with a vflist.data entry. */
	n = cfg->n_adapters;
	for (size_t k = 0; k < cfg->n_vfdata; k++) {
		const struct sr_vfdata_cfg *d = &cfg->vfdata[k];

		if (taken[d->pf][d->index])
			continue;
		fill_vf_config(&res[n++], d, &pfs[d->pf]);
	}
	/* Saved state follows the VF only when the same app adapter (or the
	 * VF config) keeps it. When a VF passes between its VF config and an
	 * app, the settings it had before the agent stay its original ones. */
	for (size_t i = 0; i < n; i++) {
		const struct sr_reservation *prev =
			sr_reservation_find(old, n_old, res[i].pf_pci, res[i].vf_index);

		if (!prev)
			continue;
		if (!strcmp(prev->app_uuid, res[i].app_uuid) &&
		    prev->adapter == res[i].adapter)
			carry_over(&res[i], prev);
		else if (sr_reservation_is_vf_config(prev) || sr_reservation_is_vf_config(&res[i]))
			carry_original(&res[i], prev);
	}
	*out = res;
	*n_out = n;
	res = NULL;

out_free:
	for (size_t p = 0; taken && p < cfg->n_pfs; p++)
		free(taken[p]);
	free(taken);
	free(done);
	free(res);
	return r;
}
