/* SPDX-License-Identifier: MIT */
/*
 * Domain config emitters. They read the model only: an app and the VFs
 * reserved for it. The PCI address comes from the reservation's VF table
 * entry, never from the VF index.
 */
#pragma once

#include <stdio.h>

#include "err.h"
#include "model.h"

enum sr_hypervisor {
	SR_HV_KVM,
	SR_HV_XEN,
};

int sr_hypervisor_parse(const char *name, enum sr_hypervisor *out);
const char *sr_hypervisor_name(enum sr_hypervisor hv);

/* QEMU -readconfig file for the app with one vfio-pci device per VF. */
int sr_emit_kvm(const struct sr_app *app, const char *const *vf_pci, size_t n_vf,
		FILE *out, struct sr_err *err);

/* xl.cfg for the app with pci = [ ... ]. */
int sr_emit_xen(const struct sr_app *app, const char *const *vf_pci, size_t n_vf,
		FILE *out, struct sr_err *err);

/* Emit for the app the reservations res[0..n) that belong to it (ordered by
 * adapter position) into out. -ENOENT when the app holds no VF. */
int sr_emit_domain(enum sr_hypervisor hv, const struct sr_app *app,
		   const struct sr_reservation *res, size_t n_res, FILE *out,
		   struct sr_err *err);
