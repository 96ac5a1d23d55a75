/* SPDX-License-Identifier: MIT */
/*
 * Domain config emitters. They read the model only: an app and the VFs
 * reserved for it. The PCI address comes from the reservation's VF table
 * entry, never from the VF index.
 */
#pragma once

#include <stdint.h>
#include <stdio.h>

#include "err.h"
#include "hv_common.h"
#include "model.h"

/* EVE VmMode values (app->virt_mode). */
#define SR_VM_MODE_PV 0u
#define SR_VM_MODE_HVM 1u
#define SR_VM_MODE_FML 3u

enum sr_hypervisor {
	SR_HV_KVM,
	SR_HV_XEN,
};

int sr_hypervisor_parse(const char *name, enum sr_hypervisor *out);
const char *sr_hypervisor_name(enum sr_hypervisor hv);

/* QEMU -readconfig file for the app with one vfio-pci device per VF, each
 * behind its own pcie-root-port (layout in kvm.c); vf_pci[i] is the VF of
 * the app's i-th VF adapter. */
int sr_emit_kvm(const struct sr_app *app, const char *const *vf_pci, size_t n_vf,
		FILE *out, struct sr_err *err);

/* xl.cfg for the app with pci = [ ... ]. */
int sr_emit_xen(const struct sr_app *app, const char *const *vf_pci, size_t n_vf,
		FILE *out, struct sr_err *err);

/* Emit for the app the reservations res[0..n) that belong to it (ordered by
 * adapter position) into out. -ENOENT when the app holds no VF. Whether the
 * app may get a config at all is sr_domain_eligible()'s to say. */
int sr_emit_domain(enum sr_hypervisor hv, const struct sr_app *app,
		   const struct sr_reservation *res, size_t n_res, FILE *out,
		   struct sr_err *err);

/* The one rule for "may this app get a domain config": it holds a VF
 * (else -ENOENT), none of its reservations carries an error (VF missing,
 * bind refused, no IOMMU group: -EINVAL naming VF, PF and the reason) and,
 * when pfs is given (n_pfs > 0), every VF it holds is in that VF table
 * (-ENODEV) and, for KVM, in an IOMMU group, since vfio-pci takes no other
 * device (-EINVAL). The apply's domain writer and sriovctl domain-config
 * both ask it. */
int sr_domain_eligible(enum sr_hypervisor hv, const struct sr_app *app,
		       const struct sr_reservation *res, size_t n_res, const struct sr_pf *pfs,
		       size_t n_pfs, struct sr_err *err);

/* Every limit the emitter for hv applies to an app with n_vf VFs (vcpus,
 * virtualizationMode, VFs per app), from the config alone: the apply
 * checks it before its first kernel write, so a config the emitter would
 * refuse changes nothing. -EINVAL / -E2BIG naming the value and the range. */
int sr_domain_check_app(enum sr_hypervisor hv, const struct sr_app *app, size_t n_vf,
			struct sr_err *err);

