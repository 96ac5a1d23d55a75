/* SPDX-License-Identifier: MIT */
/*
 * vflist.data on top of a decoded config: the entry of a VF, and what an
 * app adapter gets on a VF that has one. The decoder (config.c) uses it to
 * check explicit adapters, the reserver to fill each reservation; it uses
 * only the config's types, so the two are not a circle.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "model.h"

/* The vflist.data entry of VF vf of PF pf, or NULL. */
const struct sr_vfdata_cfg *sr_config_vfdata(const struct sr_config *c, size_t pf, uint32_t vf);

/* The settings adapter a gets on VF vf: its own, plus what the VF's
 * vflist.data entry sets (the MAC, VLAN, ...). An attribute both set to
 * different values is -EINVAL naming both fields; without any MAC the
 * adapter's derived MAC. *out written on success only. */
int sr_config_vf_settings(const struct sr_config *c, const struct sr_adapter_cfg *a, uint32_t vf,
			  struct sr_vf_settings *out, struct sr_err *err);
