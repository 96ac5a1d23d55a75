/* SPDX-License-Identifier: MIT */
/*
 * Hypervisor selection, the helpers both emitters share, and
 * sr_emit_domain(): pick an app's reservations, order them by adapter
 * position and hand their VF PCI addresses to the emitter.
 */
#include "hypervisor.h"

#include <ctype.h>
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

uint32_t sr_hv_memory_mib(const struct sr_app *app)
{
	if (app->memory_kib == 0)
		return SR_HV_DEFAULT_MEMORY_MIB;
	return (uint32_t)(((uint64_t)app->memory_kib + 1023) / 1024);
}

uint32_t sr_hv_vcpus(const struct sr_app *app)
{
	return app->vcpus ? app->vcpus : SR_HV_DEFAULT_VCPUS;
}

static bool pci_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int sr_hv_check(const struct sr_app *app, const char *const *vf_pci, size_t n_vf,
		uint32_t vcpus_max, FILE *out, struct sr_err *err)
{
	uuid_t u;

	if (!app)
		return sr_err_set(err, -EINVAL, "app: missing");
	if (!out)
		return sr_err_set(err, -EINVAL, "output file for app %.*s: missing",
				  SR_UUID_LEN - 1, app->uuid_str);
	if (strnlen(app->uuid_str, SR_UUID_LEN) != SR_UUID_LEN - 1 ||
	    uuid_parse(app->uuid_str, u))
		return sr_err_set(err, -EINVAL, "uuid \"%.*s\": allowed a UUID xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
				  SR_UUID_LEN - 1, app->uuid_str);
	if (app->vcpus > vcpus_max)
		return sr_err_set(err, -EINVAL, "vcpus %u for app %s: allowed 0..%u (0 means %u)",
				  app->vcpus, app->uuid_str, vcpus_max, SR_HV_DEFAULT_VCPUS);
	if (n_vf && !vf_pci)
		return sr_err_set(err, -EINVAL, "vf_pci for app %s: missing for %zu VFs",
				  app->uuid_str, n_vf);
	for (size_t i = 0; i < n_vf; i++) {
		if (!vf_pci[i] || !sr_valid_pci(vf_pci[i]))
			return sr_err_set(err, -EINVAL, "vf_pci[%zu] \"%s\" for app %s: allowed " PCI_ALLOWED,
					  i, vf_pci[i] ? vf_pci[i] : "(null)", app->uuid_str);
		for (size_t j = 0; j < i; j++)
			if (pci_equal(vf_pci[i], vf_pci[j]))
				return sr_err_set(err, -EINVAL, "vf_pci[%zu] \"%s\" for app %s: already given as vf_pci[%zu]; each VF at most once",
						  i, vf_pci[i], app->uuid_str, j);
	}
	return 0;
}

static bool xl_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

void sr_hv_xl_name(const struct sr_app *app, char out[SR_NAME_LEN])
{
	size_t n = strnlen(app->name, SR_NAME_LEN - 1);
	bool all_digits = true;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)app->name[i];

		if (!xl_name_char(c) || (i == 0 && (c == '-' || c == '.')))
			c = '_';
		if (c < '0' || c > '9')
			all_digits = false;
		out[i] = (char)c;
	}
	out[n] = '\0';
	if (n == 0 || all_digits)
		snprintf(out, SR_NAME_LEN, "%.*s", SR_UUID_LEN - 1, app->uuid_str);
}

void sr_hv_comment_text(const char *s, char *out, size_t cap)
{
	size_t i;

	if (!cap)
		return;
	for (i = 0; i + 1 < cap && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '_';
	}
	out[i] = '\0';
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
	r = select_reservations(app, res, n_res, &sel, &n, err);
	if (r)
		return r;
	if (n == 0) {
		r = sr_err_set(err, -ENOENT, "app %s: holds no VF", app->uuid_str);
		goto out_free_sel;
	}
	pci = calloc(n, sizeof(*pci));
	if (!pci) {
		r = sr_err_set(err, -ENOMEM, "app %s: out of memory", app->uuid_str);
		goto out_free_sel;
	}
	for (size_t i = 0; i < n; i++) {
		const struct sr_reservation *v = sel[i];

		if (strnlen(v->error, sizeof(v->error)) > 0) {
			/* The apply recorded why this VF cannot be passed through
			 * (missing, bind failed, no IOMMU group). */
			r = sr_err_set(err, -EINVAL,
				       "VF %u of PF %s (adapter %u) for app %s: %.*s: no domain config",
				       v->vf_index, v->pf_pci, v->adapter, app->uuid_str,
				       (int)sizeof(v->error), v->error);
			goto out_free_pci;
		}
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

int sr_domain_check_vfs(enum sr_hypervisor hv, const struct sr_app *app,
			const struct sr_reservation *res, size_t n_res, const struct sr_pf *pfs,
			size_t n_pfs, struct sr_err *err)
{
	for (size_t i = 0; i < n_res; i++) {
		const struct sr_reservation *r = &res[i];
		const struct sr_vf *vf = NULL;

		if (strncmp(r->app_uuid, app->uuid_str, SR_UUID_LEN))
			continue;
		for (size_t p = 0; p < n_pfs && !vf; p++)
			if (!strncmp(pfs[p].pci, r->pf_pci, SR_PCI_LEN))
				vf = sr_pf_find_vf(&pfs[p], r->vf_index);
		if (!vf)
			return sr_err_set(err, -ENODEV,
					  "app %s: VF %u of PF %s is not in the VF table: no domain config",
					  app->uuid_str, r->vf_index, r->pf_pci);
		if (hv == SR_HV_KVM && vf->iommu_group == SR_UNSET)
			return sr_err_set(err, -EINVAL,
					  "app %s: VF %u of PF %s (%s) has no IOMMU group, so vfio-pci cannot take it (IOMMU off? boot with intel_iommu=on): no KVM config",
					  app->uuid_str, r->vf_index, r->pf_pci, vf->pci);
	}
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
