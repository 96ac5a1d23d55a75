/* SPDX-License-Identifier: MIT */
/*
 * Domain configs of an apply (domains.h): one file per app that holds VFs,
 * stale ones removed.
 */
#include "domains.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "fsafe.h"
#include "log.h"
#include "reserve.h"
#include "set.h"

void domain_file_name(const char *uuid, enum sr_hypervisor hv, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s.%s.cfg", uuid, sr_hypervisor_name(hv));
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

/* ---- the manifest: which files of the domain dir this agent wrote ----
 *
 * STATE-DIR/domains.manifest: "dir <domain dir>" then one file name per
 * line. Only files named there are ever removed; anything else in the
 * domain dir (another tool's files, a name that merely looks like ours) is
 * left alone. */

#define MANIFEST_FILE DOMAINS_MANIFEST_FILE

struct names {
	char (*v)[64];
	size_t n, cap;
	struct sr_set idx;             /* name -> position, for names_has */
};

static int names_add(struct names *ns, const char *name)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? ns->cap * 2 : 16;
		char (*v)[64] = realloc(ns->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	snprintf(ns->v[ns->n], sizeof(ns->v[0]), "%s", name);
	if ((!ns->idx.slots && sr_set_init(&ns->idx, 16)) ||
	    sr_set_add(&ns->idx, ns->v[ns->n], strlen(ns->v[ns->n]), ns->n, NULL) < 0)
		return -ENOMEM;
	ns->n++;
	return 0;
}

/* (A name made "" by domains_retire is not looked up again.) */
static bool names_has(const struct names *ns, const char *name)
{
	if (strlen(name) >= sizeof(ns->v[0]))
		return false; /* never stored whole */
	return sr_set_find(&ns->idx, name, strnlen(name, sizeof(ns->v[0]) - 1), NULL) == 1;
}

static void names_free(struct names *ns)
{
	free(ns->v);
	sr_set_free(&ns->idx);
}

/* A file name the manifest may hold: no path, not "." or "..". */
/* Only a name the agent writes (domain_file_name: <uuid>.kvm.cfg or
 * <uuid>.xen.cfg): a manifest line is a file the agent may remove, and a
 * corrupted or planted manifest must not name any other file of the dir
 * (this round's probe removed "important.txt" through one). */
static bool manifest_name_ok(const char *line)
{
	char uuid[SR_UUID_LEN];
	uint8_t bin[16];
	size_t n = strlen(line);

	if (n != SR_UUID_LEN - 1 + strlen(".kvm.cfg") ||
	    (strcmp(line + SR_UUID_LEN - 1, ".kvm.cfg") && strcmp(line + SR_UUID_LEN - 1, ".xen.cfg")))
		return false;
	memcpy(uuid, line, SR_UUID_LEN - 1);
	uuid[SR_UUID_LEN - 1] = '\0';
	return sr_parse_uuid(uuid, bin) == 0;
}

/* The names the last runs wrote into dir into ns; when rest is not NULL,
 * the sections of other directories (an earlier --domain-dir) verbatim
 * into *rest (malloc'd, NULL when none): their configs are retired by
 * domains_retire, and kept in the manifest until they are. */
static void manifest_read(const char *state_dir, const char *dir, struct names *ns, char **rest)
{
	char path[4096], *text, *line, *save = NULL;
	FILE *other = NULL;
	size_t other_len = 0;
	uint8_t *buf;
	size_t len;
	bool same_dir = false;

	if (rest)
		*rest = NULL;
	snprintf(path, sizeof(path), "%s/%s", state_dir, MANIFEST_FILE);
	if (sr_read_file(path, 16u << 20, &buf, &len, NULL))
		return;
	text = realloc(buf, len + 1);
	if (!text) {
		free(buf);
		return;
	}
	text[len] = '\0';
	if (rest)
		other = open_memstream(rest, &other_len);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "dir ", 4)) {
			same_dir = !strcmp(line + 4, dir);
			if (!same_dir && other)
				fprintf(other, "%s\n", line);
		} else if (manifest_name_ok(line)) {
			if (same_dir)
				names_add(ns, line);
			else if (other)
				fprintf(other, "%s\n", line);
		}
	}
	if (other && fclose(other) == 0 && !other_len) {
		free(*rest);
		*rest = NULL;
	}
	free(text);
}

/* dir's section, then rest (other dirs' sections, may be NULL). */
static int manifest_write(const char *state_dir, const char *dir, const struct names *ns,
			  const char *rest, struct sr_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int r;

	if (!f)
		return sr_err_set(err, -ENOMEM, "out of memory");
	fprintf(f, "dir %s\n", dir);
	for (size_t i = 0; i < ns->n; i++)
		if (ns->v[i][0])
			fprintf(f, "%s\n", ns->v[i]);
	if (rest)
		fputs(rest, f);
	fclose(f);
	r = same_content(state_dir, MANIFEST_FILE, buf, len) ? 0 :
	    sr_write_atomic(state_dir, MANIFEST_FILE, buf, len, err);
	free(buf);
	return r;
}

/* Remove what the last run wrote and this one did not: configs of apps
 * that hold no VF any more, or whose VF is in error. */
static void remove_stale(const char *dir, const struct names *old, const struct names *now,
			 enum domains_mode mode)
{
	for (size_t i = 0; i < old->n; i++) {
		char path[4096];

		if (names_has(now, old->v[i]))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, old->v[i]);
		if (mode == DOMAINS_DRY_RUN)
			log_notice("plan: would remove domain config %s: the app holds no VF, or its VF is in error",
				   path);
		else if (!unlink(path))
			log_info("removed domain config %s: the app holds no VF, or its VF is in error",
				 path);
		else if (errno != ENOENT)
			log_warn("%s: %s", path, strerror(errno));
	}
}

/* The reservations by app, in their order: next[i] is the app's next
 * reservation after i, first[a] app a's first (SIZE_MAX: none). The
 * eligibility rule and the emitter look at one app's reservations, so each
 * is handed only those (three passes over every reservation per app
 * before). */
struct by_app {
	size_t *first, *next;
	struct sr_reservation *mine;   /* scratch: one app's, copied */
};

static int group_by_app(const struct sr_state *st, struct by_app *g)
{
	struct sr_set apps = { 0 };
	size_t *last = calloc(st->n_apps ? st->n_apps : 1, sizeof(*last)), max = 0;
	int r = -ENOMEM;

	g->first = malloc((st->n_apps ? st->n_apps : 1) * sizeof(*g->first));
	g->next = malloc((st->n_res ? st->n_res : 1) * sizeof(*g->next));
	if (!last || !g->first || !g->next || sr_set_init(&apps, st->n_apps))
		goto out;
	for (size_t a = 0; a < st->n_apps; a++) {
		g->first[a] = SIZE_MAX;
		if (sr_set_add(&apps, st->apps[a].uuid_str,
			       strnlen(st->apps[a].uuid_str, SR_UUID_LEN), a, NULL) < 0)
			goto out;
	}
	for (size_t i = 0; i < st->n_res; i++) {
		size_t a;

		g->next[i] = SIZE_MAX;
		if (sr_set_find(&apps, st->res[i].app_uuid, strnlen(st->res[i].app_uuid, SR_UUID_LEN),
				&a) != 1)
			continue;
		if (g->first[a] == SIZE_MAX)
			g->first[a] = i;
		else
			g->next[last[a]] = i;
		last[a] = i;
	}
	/* Room for the app holding the most. */
	for (size_t a = 0, k; a < st->n_apps; a++) {
		k = 0;
		for (size_t i = g->first[a]; i != SIZE_MAX; i = g->next[i])
			k++;
		if (k > max)
			max = k;
	}
	if (!(g->mine = malloc((max ? max : 1) * sizeof(*g->mine))))
		goto out;
	r = 0;
out:
	sr_set_free(&apps);
	free(last);
	return r;
}

/* App a's reservations, copied into g->mine in their order; how many. */
static size_t app_res(const struct sr_state *st, const struct by_app *g, size_t a)
{
	size_t n = 0;

	for (size_t i = g->first[a]; i != SIZE_MAX; i = g->next[i])
		g->mine[n++] = st->res[i];
	return n;
}

static void by_app_free(struct by_app *g)
{
	free(g->first);
	free(g->next);
	free(g->mine);
}

/* One app's config in a dry run: what a real run would do with it. */
static void dry_write(const char *dir, const char *name, const struct sr_app *app, int eligible,
		      const char *buf, size_t len)
{
	if (eligible == -ENODEV)
		log_notice("plan: would write domain config %s/%s for app %s once its VFs exist",
			   dir, name, app->uuid_str);
	else if (!same_content(dir, name, buf, len))
		log_notice("plan: would write domain config %s/%s for app %s", dir, name,
			   app->uuid_str);
}

int domains_write(const char *dir, const char *state_dir, enum sr_hypervisor hv,
		  const struct sr_state *st, enum domains_mode mode, unsigned *warnings,
		  struct sr_err *err)
{
	struct names old = { 0 }, now = { 0 };
	struct by_app g = { 0 };
	bool dry = mode == DOMAINS_DRY_RUN;
	char *rest = NULL;
	int r = 0;

	if (!dry && (r = sr_dir_own(dir, "domain dir", err)))
		return r;
	if (group_by_app(st, &g)) {
		by_app_free(&g);
		return sr_err_set(err, -ENOMEM, "out of memory");
	}
	manifest_read(state_dir, dir, &old, &rest);
	for (size_t i = 0; i < st->n_apps && !r; i++) {
		const struct sr_app *app = &st->apps[i];
		char name[64], *buf = NULL;
		size_t len = 0, n_mine = app_res(st, &g, i);
		struct sr_err why = { "" };
		int e = sr_domain_eligible(hv, app, g.mine, n_mine, st->pfs, st->n_pfs, &why);
		FILE *f;

		if (e == -ENOENT)
			continue;
		domain_file_name(app->uuid_str, hv, name, sizeof(name));
		/* A dry run plans VFs the apply has not made yet: no table
		 * entry, no PCI address. */
		if (dry && e == -ENODEV) {
			dry_write(dir, name, app, e, NULL, 0);
			if (names_add(&now, name))
				r = sr_err_set(err, -ENOMEM, "out of memory");
			continue;
		}
		if (e) {
			log_warn("%s", why.msg);
			(*warnings)++;
			continue;
		}
		f = open_memstream(&buf, &len);
		if (!f) {
			r = sr_err_set(err, -ENOMEM, "out of memory");
			break;
		}
		r = sr_emit_domain(hv, app, g.mine, n_mine, f, err);
		fclose(f);
		if (!r && dry) {
			dry_write(dir, name, app, 0, buf, len);
			r = names_add(&now, name) ? sr_err_set(err, -ENOMEM, "out of memory") : 0;
		} else if (!r) {
			/* In the manifest before the file exists: a crash in
			 * between leaves a name to remove, never an orphan. */
			if (names_add(&now, name))
				r = sr_err_set(err, -ENOMEM, "out of memory");
			else if (!same_content(dir, name, buf, len)) {
				if (!names_has(&old, name) && !names_add(&old, name))
					r = manifest_write(state_dir, dir, &old, rest, err);
				if (!r)
					r = sr_write_atomic(dir, name, buf, len, err);
				if (!r)
					log_info("app %s: wrote %s/%s", app->uuid_str, dir, name);
			}
		}
		free(buf);
	}
	if (!r) {
		remove_stale(dir, &old, &now, mode);
		if (!dry)
			r = manifest_write(state_dir, dir, &now, rest, err);
	}
	free(rest);
	names_free(&old);
	names_free(&now);
	by_app_free(&g);
	return r;
}

/* Does the new set keep old reservation o (same VF, same app adapter)?
 * by_vf: the new reservations by VF (sr_reservation_vf_key); the first of
 * equal keys, as the linear search it replaces. */
static bool kept(const struct sr_reservation *o, const struct sr_reservation *res,
		 const struct sr_set *by_vf)
{
	uint8_t key[SR_SET_KEY_MAX];
	size_t i;

	if (sr_set_find(by_vf, key, sr_reservation_vf_key(key, o->pf_pci, o->vf_index), &i) != 1)
		return false;
	return sr_reservation_same_adapter(o, &res[i]);
}

static int index_by_vf(const struct sr_reservation *res, size_t n_res, struct sr_set *by_vf)
{
	uint8_t key[SR_SET_KEY_MAX];

	if (sr_set_init(by_vf, n_res))
		return -ENOMEM;
	for (size_t i = 0; i < n_res; i++)
		if (sr_set_add(by_vf, key, sr_reservation_vf_key(key, res[i].pf_pci, res[i].vf_index),
			       i, NULL) < 0)
			return -ENOMEM;
	return 0;
}

/* The manifest's sections of other directories (rest: an earlier
 * --domain-dir's): each config listed there is removed, as the agent now
 * writes them in dir, and a name stays in rest only while its removal
 * fails (tried again at the next apply). A directory that is dir itself
 * under another name gives its names to listed. One that is gone, or no
 * longer the agent's own (sr_dir_trusted: another user could have swapped
 * it), is not touched and is forgotten. *changed when rest or listed
 * changed. */
static int retire_elsewhere(const char *dir, char **rest, struct names *listed,
			    enum domains_mode mode, bool *changed)
{
	char *text = *rest, *line, *save = NULL, *keep = NULL, path[4096];
	const char *odir = NULL;
	bool usable = false, same = false, header = false;
	struct stat cur, st;
	size_t keep_len = 0;
	bool have_cur;
	FILE *f;

	if (!text)
		return 0;
	have_cur = stat(dir, &cur) == 0;
	f = open_memstream(&keep, &keep_len);
	if (!f)
		return -ENOMEM;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct sr_err e = { "" };

		if (!strncmp(line, "dir ", 4)) {
			odir = line + 4;
			same = have_cur && stat(odir, &st) == 0 && st.st_dev == cur.st_dev &&
			       st.st_ino == cur.st_ino;
			usable = same || sr_dir_trusted(odir, "earlier domain dir", &e) == 0;
			header = false;
			if (!usable) {
				log_warn("%s: the domain configs the agent wrote there are left and forgotten",
					 e.msg);
				*changed = true;
			}
			continue;
		}
		if (!odir || !usable)
			continue;
		if (same) {
			if (!names_has(listed, line) && names_add(listed, line))
				break;
			*changed = true;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", odir, line);
		if (mode == DOMAINS_DRY_RUN) {
			log_notice("plan: would remove domain config %s: written for an earlier --domain-dir (now %s)",
				   path, dir);
		} else if (!unlink(path) || errno == ENOENT) {
			log_info("removed domain config %s: written for an earlier --domain-dir (now %s)",
				 path, dir);
			*changed = true;
			continue;
		} else {
			log_warn("%s: %s: still in the manifest, removed at a later apply", path,
				 strerror(errno));
		}
		if (!header)
			fprintf(f, "dir %s\n", odir);
		header = true;
		fprintf(f, "%s\n", line);
	}
	if (fclose(f)) {
		free(keep);
		return -ENOMEM;
	}
	free(*rest);
	*rest = keep_len ? keep : NULL;
	if (!keep_len)
		free(keep);
	return 0;
}

int domains_retire(const char *dir, const char *state_dir, enum sr_hypervisor hv,
		   const struct sr_reservation *old, size_t n_old,
		   const struct sr_reservation *res, size_t n_res, enum domains_mode mode,
		   bool *changed, struct sr_err *err)
{
	struct names listed = { 0 };
	struct sr_set by_vf = { 0 };
	char name[64], *rest = NULL;
	bool removed = false;
	int r = 0;

	if (n_old && index_by_vf(res, n_res, &by_vf)) {
		sr_set_free(&by_vf);
		return sr_err_set(err, -ENOMEM, "out of memory: nothing applied");
	}
	manifest_read(state_dir, dir, &listed, &rest);
	if (retire_elsewhere(dir, &rest, &listed, mode, &removed)) {
		r = sr_err_set(err, -ENOMEM, "out of memory: nothing applied");
		goto out;
	}
	for (size_t i = 0; i < n_old && !r; i++) {
		if (!old[i].app_uuid[0] || kept(&old[i], res, &by_vf))
			continue;
		domain_file_name(old[i].app_uuid, hv, name, sizeof(name));
		for (size_t k = 0; k < listed.n; k++) {
			char path[4096];

			if (strcmp(listed.v[k], name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			if (mode == DOMAINS_DRY_RUN) {
				log_notice("plan: would remove domain config %s before the apply: app %s's VF %s VF %u changes hands",
					   path, old[i].app_uuid, old[i].pf_pci, old[i].vf_index);
				listed.v[k][0] = '\0';
				continue;
			}
			if (unlink(path) && errno != ENOENT) {
				/* After a removal the apply is no longer "nothing
				 * applied": *changed says so (exec.h). */
				r = sr_err_set(err, -errno, "%s: %s%s", path, strerror(errno),
					       removed ? "" : ": nothing applied");
				break;
			}
			log_info("removed domain config %s before the apply: app %s's VF %s VF %u changes hands",
				 path, old[i].app_uuid, old[i].pf_pci, old[i].vf_index);
			listed.v[k][0] = '\0';
			removed = true;
		}
	}
	if (!r && removed && mode == DOMAINS_WRITE) {
		size_t n = 0;

		/* The manifest without the names removed above. */
		for (size_t k = 0; k < listed.n; k++)
			if (listed.v[k][0])
				memmove(listed.v[n++], listed.v[k], sizeof(listed.v[0]));
		listed.n = n;
		r = manifest_write(state_dir, dir, &listed, rest, err);
	}
out:
	*changed = removed && mode == DOMAINS_WRITE;
	free(rest);
	names_free(&listed);
	sr_set_free(&by_vf);
	return r;
}
