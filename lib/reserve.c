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

static void fill(struct sr_reservation *r, const struct sr_config *cfg,
		 const struct sr_adapter_cfg *a, const struct sr_pf *pf, uint32_t vf)
{
	const struct sr_app *app = &cfg->apps[a->app];

	sr_reservation_init(r);
	strcpy(r->app_uuid, app->uuid_str);
	strcpy(r->app_name, app->name);
	strcpy(r->pf_pci, pf->pci);
	strcpy(r->pf_ifname, pf->ifname);
	r->vf_index = vf;
	r->adapter = a->position;
	r->desired = a->settings;
	if (!r->desired.has_mac) {
		memcpy(r->desired.mac, a->derived_mac, 6);
		r->desired.has_mac = true;
	}
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

int sr_reserve(const struct sr_config *cfg, const struct sr_pf *pfs,
	       const struct sr_reservation *old, size_t n_old,
	       struct sr_reservation **out, size_t *n_out, struct sr_err *err)
{
	struct sr_reservation *res;
	bool **taken;
	bool *done;
	int r = 0;

	res = calloc(cfg->n_adapters ? cfg->n_adapters : 1, sizeof(*res));
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
		fill(&res[i], cfg, a, &pfs[a->pf], (uint32_t)a->vf_index);
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
		fill(&res[i], cfg, a, &pfs[a->pf], prev->vf_index);
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
		fill(&res[i], cfg, a, &pfs[a->pf], vf);
		done[i] = true;
	}
	/* Saved state follows the VF only when the same app keeps it. */
	for (size_t i = 0; i < cfg->n_adapters; i++) {
		const struct sr_reservation *prev =
			sr_reservation_find(old, n_old, res[i].pf_pci, res[i].vf_index);

		if (prev && !strcmp(prev->app_uuid, res[i].app_uuid) &&
		    prev->adapter == res[i].adapter)
			carry_over(&res[i], prev);
	}
	*out = res;
	*n_out = cfg->n_adapters;
	res = NULL;

out_free:
	for (size_t p = 0; taken && p < cfg->n_pfs; p++)
		free(taken[p]);
	free(taken);
	free(done);
	free(res);
	return r;
}
