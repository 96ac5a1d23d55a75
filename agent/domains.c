/* SPDX-License-Identifier: MIT */
#include "domains.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

void domain_file_name(const char *uuid, enum sr_hypervisor hv, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s.%s.cfg", uuid, sr_hypervisor_name(hv));
}

static bool app_has_error(const struct sr_state *st, const char *uuid)
{
	for (size_t i = 0; i < st->n_res; i++)
		if (!strcmp(st->res[i].app_uuid, uuid) && st->res[i].error[0]) {
			log_warn("app %s: PF %s VF %u: %s: no domain config written", uuid,
				 st->res[i].pf_pci, st->res[i].vf_index, st->res[i].error);
			return true;
		}
	return false;
}

static bool app_holds_vf(const struct sr_state *st, const char *uuid)
{
	for (size_t i = 0; i < st->n_res; i++)
		if (!strcmp(st->res[i].app_uuid, uuid))
			return true;
	return false;
}

/* True when dir/name already holds exactly buf. */
static bool same_content(const char *dir, const char *name, const char *buf, size_t len)
{
	char path[4096];
	uint8_t *old = NULL;
	size_t old_len = 0;
	bool same;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (sr_read_file(path, len + 1, &old, &old_len, NULL))
		return false;
	same = old_len == len && !memcmp(old, buf, len);
	free(old);
	return same;
}

static void remove_stale(const char *dir, enum sr_hypervisor hv, const struct sr_state *st)
{
	char suffix[16];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	snprintf(suffix, sizeof(suffix), ".%s.cfg", sr_hypervisor_name(hv));
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name), s = strlen(suffix);
		char uuid[SR_UUID_LEN];

		if (n != SR_UUID_LEN - 1 + s || strcmp(de->d_name + n - s, suffix))
			continue;
		memcpy(uuid, de->d_name, SR_UUID_LEN - 1);
		uuid[SR_UUID_LEN - 1] = '\0';
		if (app_holds_vf(st, uuid))
			continue;
		if (unlinkat(dirfd(d), de->d_name, 0) == 0)
			log_info("removed domain config %s/%s: app holds no VF", dir, de->d_name);
	}
	closedir(d);
}

int domains_write(const char *dir, enum sr_hypervisor hv, const struct sr_state *st,
		  unsigned *warnings, struct sr_err *err)
{
	int r = 0;

	if (mkdir(dir, 0755) && errno != EEXIST)
		return sr_err_set(err, -errno, "domain dir %s: %s", dir, strerror(errno));
	for (size_t i = 0; i < st->n_apps; i++) {
		const struct sr_app *app = &st->apps[i];
		char name[64], *buf = NULL;
		size_t len = 0;
		FILE *f;

		if (!app_holds_vf(st, app->uuid_str))
			continue;
		if (app_has_error(st, app->uuid_str)) {
			(*warnings)++;
			continue;
		}
		f = open_memstream(&buf, &len);
		if (!f)
			return sr_err_set(err, -ENOMEM, "out of memory");
		r = sr_emit_domain(hv, app, st->res, st->n_res, f, err);
		fclose(f);
		if (!r) {
			domain_file_name(app->uuid_str, hv, name, sizeof(name));
			if (!same_content(dir, name, buf, len)) {
				r = sr_write_atomic(dir, name, buf, len, err);
				if (!r)
					log_info("app %s: wrote %s/%s", app->uuid_str, dir, name);
			}
		}
		free(buf);
		if (r)
			return r;
	}
	remove_stale(dir, hv, st);
	return 0;
}
