/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the domain config emitters (hv_common.c), exposed for
 * tests. Reads the model only.
 */
#pragma once

#include <stddef.h>
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


