/* SPDX-License-Identifier: MIT */
/* ZInfoMsg for the agent and sriovctl: from a state and the config in force. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "state.h"

/* Build a ZInfoMsg (ZiDevice, or ZiApp when app is non-NULL) from st and
 * the config bytes cfg (NULL: read STATE-DIR/config.pb; a missing or
 * undecodable one gives an empty devId). *buf malloc'd. */
int agent_info_build(const char *state_dir, const struct sr_state *st, const uint8_t *cfg,
		     size_t cfg_len, const char *app, int64_t now_s, uint8_t **buf, size_t *len,
		     struct sr_err *err);

/* The daemon's --info-file: rebuild the ZiDevice message from the state
 * in force st and cfg; when its content (all but atTimeStamp) differs from
 * *last (a malloc'd copy, updated), rewrite path atomically. Returns 1
 * when written, 0 when unchanged, -errno. */
int agent_info_file_update(const char *path, const char *state_dir, const struct sr_state *st,
			   const uint8_t *cfg, size_t cfg_len, uint8_t **last, size_t *last_len,
			   struct sr_err *err);
