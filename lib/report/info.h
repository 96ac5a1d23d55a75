/* SPDX-License-Identifier: MIT */
/*
 * Info for the controller in EVE's wire format: org.lfedge.eve.info.ZInfoMsg
 * (proto/eveinfo.proto). Pure: built from the saved state and the config in
 * force, no I/O.
 *
 *   ZiDevice: ZInfoDevice.assignableAdapters = one ZioBundle per PF of the
 *             state (type PhyIoNetEthPF) and one per VF of its VF table
 *             (type PhyIoNetEthVF, name "<pf-label>vf<N>", usedByAppUUID of
 *             the app holding it, ioAddressList[0] = its MAC and vf_info,
 *             err when the VF is in error or the driver refused a setting).
 *   ZiApp:    ZInfoApp {AppID, AppName, assignedAdapters = the app's VFs,
 *             in adapter order, as above}.
 *   devId = EdgeDevConfig.id.uuid of the config in force.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "err.h"
#include "state.h"

#define SR_INFO_NO_TIME INT64_MIN   /* now_s: leave atTimeStamp out */

/* Build one ZInfoMsg. app_uuid NULL: ZiDevice; else ZiApp for that app
 * (-ENOENT when the state has no such app). cfg may be NULL (devId empty,
 * member names from the state's PF labels). *buf is malloc'd. */
int sr_info_build(const struct sr_state *st, const struct sr_config *cfg, const char *app_uuid,
		  int64_t now_s, uint8_t **buf, size_t *len, struct sr_err *err);

/* The protobuf JSON mapping (proto3: lowerCamelCase names, enums by name,
 * 64-bit integers as strings, Timestamp as RFC 3339, default values left
 * out) of a ZInfoMsg given as bytes, written to out as one line. */
int sr_info_to_json(const uint8_t *buf, size_t len, FILE *out, struct sr_err *err);
