/* SPDX-License-Identifier: MIT */
/*
 * ZInfoMsg for the agent and sriovctl (agent_info.h).
 */
#include "agent_info.h"
#include "fsafe.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "files.h"
#include "info.h"

#define CONFIG_MAX (16u << 20)

/* The config: cfg, or STATE-DIR/config.pb when cfg is NULL; false when
 * there is none or it does not decode (the info then has no config part). */
static bool decode_config(const char *state_dir, const uint8_t *cfg, size_t cfg_len,
			  struct sr_config *c)
{
	struct sr_err cerr;
	uint8_t *own = NULL;
	bool ok = false;

	if (!cfg) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", state_dir, SR_CONFIG_FILE);
		if (!sr_read_file(path, CONFIG_MAX, &own, &cfg_len, &cerr))
			cfg = own;
	}
	if (cfg)
		ok = !sr_config_decode(cfg, cfg_len, c, &cerr);
	free(own);
	return ok;
}

int agent_info_build(const char *state_dir, const struct sr_state *st, const uint8_t *cfg,
		     size_t cfg_len, const char *app, int64_t now_s, uint8_t **buf, size_t *len,
		     struct sr_err *err)
{
	struct sr_config c = { 0 };
	bool have_cfg = decode_config(state_dir, cfg, cfg_len, &c);
	int r;

	r = sr_info_build(st, have_cfg ? &c : NULL, app, now_s, buf, len, err);
	if (have_cfg)
		sr_config_free(&c);
	return r;
}

int agent_info_file_update(const char *path, const char *state_dir, const struct sr_state *st,
			   const uint8_t *cfg, size_t cfg_len, uint8_t **last, size_t *last_len,
			   struct sr_err *err)
{
	struct sr_config c = { 0 };
	uint8_t *plain = NULL, *stamped = NULL;
	size_t plain_len, stamped_len;
	char dir[PATH_MAX];
	const char *name;
	char *slash;
	bool have_cfg, changed;
	int r;

	/* One decode; the stamped message only when the content changed. */
	have_cfg = decode_config(state_dir, cfg, cfg_len, &c);
	r = sr_info_build(st, have_cfg ? &c : NULL, NULL, SR_INFO_NO_TIME, &plain, &plain_len,
			  err);
	changed = !r && !(*last && *last_len == plain_len && !memcmp(*last, plain, plain_len));
	if (changed)
		r = sr_info_build(st, have_cfg ? &c : NULL, NULL, (int64_t)time(NULL), &stamped,
				  &stamped_len, err);
	if (have_cfg)
		sr_config_free(&c);
	if (r || !changed)
		goto out_free;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash) {
		strcpy(dir, ".");
		name = path;
	} else {
		name = path + (slash - dir) + 1;
		if (slash == dir)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	/* 0644: its reader (EVE's uplink) need not be root; the directory
	 * must still be root's alone, or another user could redirect the
	 * write. */
	if ((r = sr_dir_trusted(dir, "--info-file directory", err)) ||
	    (r = sr_write_atomic_mode(dir, name, stamped, stamped_len, 0644, err)))
		goto out_free;
	free(*last);
	*last = plain;
	*last_len = plain_len;
	plain = NULL;
	r = 1;
out_free:
	free(plain);
	free(stamped);
	return r;
}
