/* SPDX-License-Identifier: MIT */
/*
 * Hypervisor selection, the one eligibility rule (sr_domain_eligible) and
 * sr_emit_domain(): pick an app's reservations, order them by adapter
 * position and hand their VF PCI addresses to the emitter (kvm.c, xen.c).
 */
#include "hypervisor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#include "config.h"

#define PCI_ALLOWED "a PCI address dddd:bb:dd.f (hex, device 00..1f, function 0..7)"

int sr_hypervisor_parse(const char *name, enum sr_hypervisor *out)
{
	enum sr_hypervisor hv;

	if (!name)
		return -EINVAL;
	if (!strcmp(name, "kvm"))
		hv = SR_HV_KVM;
	else if (!strcmp(name, "xen"))
		hv = SR_HV_XEN;
	else
		return -EINVAL;
	*out = hv;
	return 0;
}

const char *sr_hypervisor_name(enum sr_hypervisor hv)
{
	switch (hv) {
	case SR_HV_KVM:
		return "kvm";
	case SR_HV_XEN:
		return "xen";
	}
	return "?";
}

/* The app's reservations, ordered by adapter position. *out is owned by
 * the caller; *n_out may be 0. */
static int select_reservations(const struct sr_app *app, const struct sr_reservation *res,
			       size_t n_res, const struct sr_reservation ***out, size_t *n_out,
			       struct sr_err *err)
{
	const struct sr_reservation **sel;
	size_t n = 0;

	sel = calloc(n_res ? n_res : 1, sizeof(*sel));
	if (!sel)
		return sr_err_set(err, -ENOMEM, "app %s: out of memory", app->uuid_str);
	for (size_t i = 0; i < n_res; i++) {
		const struct sr_reservation *r = &res[i];
		size_t j;

		if (strncmp(r->app_uuid, app->uuid_str, SR_UUID_LEN))
			continue;
		/* insertion sort: n is the number of VFs of one app */
		for (j = n; j > 0 && sel[j - 1]->adapter > r->adapter; j--)
			sel[j] = sel[j - 1];
		if (j > 0 && sel[j - 1]->adapter == r->adapter) {
			int code = sr_err_set(err, -EINVAL,
					      "app %s: adapter %u held by VF %u of PF %s and VF %u of PF %s; each adapter position at most once",
					      app->uuid_str, r->adapter, sel[j - 1]->vf_index,
					      sel[j - 1]->pf_pci, r->vf_index, r->pf_pci);
			free(sel);
			return code;
		}
		sel[j] = r;
		n++;
	}
	*out = sel;
	*n_out = n;
	return 0;
}

int sr_emit_domain(enum sr_hypervisor hv, const struct sr_app *app,
		   const struct sr_reservation *res, size_t n_res, FILE *out,
		   struct sr_err *err)
{
	const struct sr_reservation **sel = NULL;
	const char **pci = NULL;
	size_t n = 0;
	int r;

	/* app, its UUID and out first, so messages below can name the app */
	r = sr_hv_check(app, NULL, 0, UINT32_MAX, out, err);
	if (r)
		return r;
	if (n_res && !res)
		return sr_err_set(err, -EINVAL, "reservations for app %s: missing for %zu entries",
				  app->uuid_str, n_res);
	if (hv != SR_HV_KVM && hv != SR_HV_XEN)
		return sr_err_set(err, -EINVAL, "hypervisor %d for app %s: allowed kvm, xen",
				  (int)hv, app->uuid_str);
	if ((r = sr_domain_eligible(hv, app, res, n_res, NULL, 0, err)))
		return r;
	r = select_reservations(app, res, n_res, &sel, &n, err);
	if (r)
		return r;
	pci = calloc(n, sizeof(*pci));
	if (!pci) {
		r = sr_err_set(err, -ENOMEM, "app %s: out of memory", app->uuid_str);
		goto out_free_sel;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sr_reservation *v = sel[i];

		if (strnlen(v->vf_pci, SR_PCI_LEN) == SR_PCI_LEN || !sr_valid_pci(v->vf_pci)) {
			r = sr_err_set(err, -EINVAL,
				       "vf_pci \"%.*s\" of VF %u of PF %s (adapter %u) for app %s: allowed " PCI_ALLOWED,
				       SR_PCI_LEN - 1, v->vf_pci, v->vf_index, v->pf_pci,
				       v->adapter, app->uuid_str);
			goto out_free_pci;
		}
		pci[i] = v->vf_pci;
	}
	if (hv == SR_HV_KVM)
		r = sr_emit_kvm(app, pci, n, out, err);
	else
		r = sr_emit_xen(app, pci, n, out, err);

out_free_pci:
	free(pci);
out_free_sel:
	free(sel);
	return r;
}

static const struct sr_vf *table_vf(const struct sr_pf *pfs, size_t n_pfs,
				    const struct sr_reservation *r)
{
	for (size_t p = 0; p < n_pfs; p++)
		if (!strncmp(pfs[p].pci, r->pf_pci, SR_PCI_LEN))
			return sr_pf_find_vf(&pfs[p], r->vf_index);
	return NULL;
}

int sr_domain_eligible(enum sr_hypervisor hv, const struct sr_app *app,
		       const struct sr_reservation *res, size_t n_res, const struct sr_pf *pfs,
		       size_t n_pfs, struct sr_err *err)
{
	size_t held = 0;

	for (size_t i = 0; i < n_res; i++) {
		const struct sr_reservation *r = &res[i];
		const struct sr_vf *vf;

		if (strncmp(r->app_uuid, app->uuid_str, SR_UUID_LEN))
			continue;
		held++;
		/* The apply recorded why this VF cannot be passed through. */
		if (r->error)
			return sr_err_set(err, -EINVAL,
					  "VF %u of PF %s (adapter %u) for app %s: %s: no domain config",
					  r->vf_index, r->pf_pci, r->adapter, app->uuid_str, r->error);
		if (!n_pfs)
			continue;
		if (!(vf = table_vf(pfs, n_pfs, r)))
			return sr_err_set(err, -ENODEV,
					  "app %s: VF %u of PF %s is not in the VF table: no domain config",
					  app->uuid_str, r->vf_index, r->pf_pci);
		if (hv == SR_HV_KVM && vf->iommu_group == SR_UNSET)
			return sr_err_set(err, -EINVAL,
					  "app %s: VF %u of PF %s (%s) has no IOMMU group, so vfio-pci cannot take it (IOMMU off? boot with intel_iommu=on): no KVM config",
					  app->uuid_str, r->vf_index, r->pf_pci, vf->pci);
	}
	if (!held)
		return sr_err_set(err, -ENOENT, "app %s: holds no VF", app->uuid_str);
	return 0;
}

int sr_domain_check_app(enum sr_hypervisor hv, const struct sr_app *app, size_t n_vf,
			struct sr_err *err)
{
	uint32_t max = hv == SR_HV_XEN ? SR_HV_XEN_VCPUS_MAX : SR_HV_KVM_VCPUS_MAX;

	if (app->vcpus > max)
		return sr_err_set(err, -EINVAL,
				  "fixedresources.vcpus %u: allowed 0..%u with %s (0 means %u)",
				  app->vcpus, max, sr_hypervisor_name(hv), SR_HV_DEFAULT_VCPUS);
	if (hv == SR_HV_XEN && app->virt_mode != SR_VM_MODE_PV && app->virt_mode != SR_VM_MODE_HVM &&
	    app->virt_mode != SR_VM_MODE_FML)
		return sr_err_set(err, -EINVAL,
				  "fixedresources.virtualizationMode %u: allowed %u (PV), %u (HVM) or %u (FML) with xen",
				  app->virt_mode, SR_VM_MODE_PV, SR_VM_MODE_HVM, SR_VM_MODE_FML);
	if (hv == SR_HV_KVM && n_vf > SR_HV_KVM_VFS_MAX)
		return sr_err_set(err, -E2BIG, "%zu VF adapters: allowed at most %u per app with kvm",
				  n_vf, SR_HV_KVM_VFS_MAX);
	return 0;
}
