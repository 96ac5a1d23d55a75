/* SPDX-License-Identifier: MIT */
/*
 * The agent's durable state: the VF table, reservations (with each VF's
 * saved original settings and attribute outcomes) and the apps, in
 * <state-dir>/state.pb (proto/state.proto). Written atomically: temp file,
 * fsync, rename, fsync of the directory; a reader never sees a torn file.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "model.h"

#define SR_STATE_FILE "state.pb"
#define SR_CONFIG_FILE "config.pb"   /* last accepted config, verbatim */
#define SR_STATE_VERSION 1

struct sr_state {
	struct sr_pf *pfs;             /* owned, each with its vfs */
	size_t n_pfs;
	struct sr_reservation *res;    /* owned */
	size_t n_res;
	struct sr_app *apps;           /* owned */
	size_t n_apps;
	int64_t applied_at;
	char last_result[SR_ERR_MAX];
};

void sr_state_free(struct sr_state *st);

/* Parse state bytes; -EINVAL with a message on corrupt or inconsistent data. */
int sr_state_decode(const uint8_t *buf, size_t len, struct sr_state *out, struct sr_err *err);
int sr_state_encode(const struct sr_state *st, uint8_t **buf, size_t *len, struct sr_err *err);
/* True when a and b encode to the same bytes (a saved as b's file was),
 * compared element by element with no buffer for the whole encoding; false
 * also when out of memory. */
bool sr_state_same(const struct sr_state *a, const struct sr_state *b);

/* Load dir/state.pb; a missing file is an empty state (returns 0). */
int sr_state_load(const char *dir, struct sr_state *out, struct sr_err *err);
/* The same, saying whether there was a file (*found, may be NULL). */
int sr_state_load_found(const char *dir, struct sr_state *out, bool *found,
			struct sr_err *err);
/* r, from a load, says the file itself was refused (corrupt, truncated, not
 * this agent's, not a regular file, too large), not that it could not be
 * read (-EIO, -EACCES, -ENOMEM): the case `sriov-agent recover` is for. */
static inline bool sr_state_is_refused(int r)
{
	return r == -EINVAL || r == -EFBIG;
}
int sr_state_save(const char *dir, const struct sr_state *st, struct sr_err *err);

/* CRC-32 (IEEE 802.3, as zlib's crc32()) of buf. */
uint32_t sr_crc32(const void *buf, size_t len);
