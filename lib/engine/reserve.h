/* SPDX-License-Identifier: MIT */
/*
 * VF reservations: which app adapter holds which VF. Pure: computed from
 * the validated config, the PFs found on the node and the previous
 * reservations, before anything is written.
 */
#pragma once

#include <stdint.h>

#include "config.h"
#include "model.h"
#include "set.h"

/* One reservation per VF adapter of cfg, in config order. pfs[i] is the
 * node's PF for cfg->pfs[i] (only pci and ifname are read). Rules, in
 * order: an adapter naming "<pf>vf<N>" gets VF N; an app adapter that held
 * a VF of the same PF before keeps it (same app UUID and adapter position);
 * the rest get the lowest free VF. Settings are the adapter's merged with
 * the VF's vflist.data entry (-EINVAL naming both fields when they differ),
 * with a MAC derived from the app UUID when neither gives one. After the
 * adapters' come the VF-config reservations (app_uuid "", adapter 0): one per vflist.data entry whose VF no app holds. A kept reservation
 * carries over its saved original state and binding. vf_pci is left empty:
 * the VF table fills it once the VFs exist.
 * -ENOSPC with a message when a PF has fewer VFs than adapters ask. */
int sr_reserve(const struct sr_config *cfg, const struct sr_pf *pfs,
	       const struct sr_reservation *old, size_t n_old,
	       struct sr_reservation **out, size_t *n_out, struct sr_err *err);

/* The reservation of app_uuid, or NULL. */
const struct sr_reservation *sr_reservation_find(const struct sr_reservation *res, size_t n,
						 const char *pf_pci, uint32_t vf_index);

/* The set key of a VF (PF PCI address and index) into key; its length. */
size_t sr_reservation_vf_key(uint8_t key[SR_SET_KEY_MAX], const char *pf_pci, uint32_t vf_index);
