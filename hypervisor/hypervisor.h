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
#include "model.h"

/* What the emitters accept and the defaults for unset ("0") values. */
#define SR_HV_DEFAULT_MEMORY_MIB 512u /* app->memory_kib == 0 */
#define SR_HV_DEFAULT_VCPUS 1u        /* app->vcpus == 0 */
#define SR_HV_KVM_VCPUS_MAX 255u      /* q35 without an IOMMU: xAPIC ids 0..254 */
#define SR_HV_XEN_VCPUS_MAX 128u      /* Xen's HVM vCPU limit */
#define SR_HV_KVM_FIRST_SLOT 0x10u    /* pcie.0 slot of the first VF root port */
#define SR_HV_KVM_VFS_MAX 120u        /* root ports on slots 0x10..0x1e, 8 functions each */

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
 * adapter position) into out. -ENOENT when the app holds no VF; -EINVAL
 * when one of them carries an error (the VF is missing, its bind failed or
 * it has no IOMMU group). */
int sr_emit_domain(enum sr_hypervisor hv, const struct sr_app *app,
		   const struct sr_reservation *res, size_t n_res, FILE *out,
		   struct sr_err *err);

/* Before emitting from a saved state: every VF the app holds is in the VF
 * table pfs[0..n_pfs) and, for KVM, in an IOMMU group (vfio-pci takes no
 * other device). -ENODEV / -EINVAL with a message naming app, VF and PF.
 * sr_emit_domain() itself refuses a reservation that carries an error. */
int sr_domain_check_vfs(enum sr_hypervisor hv, const struct sr_app *app,
			const struct sr_reservation *res, size_t n_res, const struct sr_pf *pfs,
			size_t n_pfs, struct sr_err *err);

/* Every limit the emitter for hv applies to an app with n_vf VFs (vcpus,
 * virtualizationMode, VFs per app), from the config alone: the apply
 * checks it before its first kernel write, so a config the emitter would
 * refuse changes nothing. -EINVAL / -E2BIG naming the value and the range. */
int sr_domain_check_app(enum sr_hypervisor hv, const struct sr_app *app, size_t n_vf,
			struct sr_err *err);

/*
 * Helpers shared by the emitters, exposed for tests.
 */

/* Guest memory in MiB: memory_kib rounded up, SR_HV_DEFAULT_MEMORY_MIB for 0. */
uint32_t sr_hv_memory_mib(const struct sr_app *app);
/* vCPU count: app->vcpus, SR_HV_DEFAULT_VCPUS for 0. */
uint32_t sr_hv_vcpus(const struct sr_app *app);

/* Check what both emitters need: app and out given, uuid_str a UUID, vcpus
 * within 0..vcpus_max, every vf_pci[i] a PCI address, no address twice. */
int sr_hv_check(const struct sr_app *app, const char *const *vf_pci, size_t n_vf,
		uint32_t vcpus_max, FILE *out, struct sr_err *err);

/* The xl domain name: app->name with every byte outside [A-Za-z0-9_.-]
 * replaced by '_' and a leading '-' or '.' by '_'; the UUID when the name
 * is empty or all digits (xl would take it for a domain id). */
void sr_hv_xl_name(const struct sr_app *app, char out[SR_NAME_LEN]);

/* s made safe for a one-line '#' comment: bytes outside printable ASCII
 * become '_'. Truncates to cap - 1 bytes. */
void sr_hv_comment_text(const char *s, char *out, size_t cap);


