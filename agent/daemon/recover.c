/* SPDX-License-Identifier: MIT */
/*
 * sriov-agent recover: a fresh state.pb from what is on the node, for a
 * state file that was refused (corrupt, torn, not this agent's) or lost.
 * The config in force says which app adapters there are; the domain
 * configs this agent wrote (--domain-dir, <uuid>.<hv>.cfg) say which VF
 * each running app holds; the node's VF tables say which VFs exist and
 * what they are bound to. The reservations kept (lib/engine/recover.c) are
 * printed with the VF every adapter gets at the next apply (sr_reserve:
 * the kept ones first, the rest on free VFs); then, unless --dry-run, the
 * refused file is kept under another name (never deleted) and the new one
 * written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "domains.h"
#include "files.h"
#include "fsafe.h"
#include "log.h"
#include "recover.h"
#include "reserve.h"
#include "state.h"
#include "xen.h"

#define CLAIM_MAX_BYTES (1u << 20)

struct recover_in {
	struct sr_config cfg;
	bool have_cfg;
	struct sr_pf *pfs;            /* per cfg PF, with VFs */
	struct sr_recover_claim *claims;
	char (*paths)[PATH_MAX];      /* the claims' sources */
	char (**vfs)[SR_PCI_LEN];     /* the claims' VF lists */
	char (*refused)[SR_ERR_MAX];  /* why a claim's file was not used */
	size_t n_claims;
};

static void in_free(struct recover_in *in)
{
	for (size_t i = 0; in->pfs && i < in->cfg.n_pfs; i++)
		sr_pf_clear(&in->pfs[i]);
	free(in->pfs);
	for (size_t i = 0; i < in->n_claims; i++)
		free(in->vfs[i]);
	free(in->vfs);
	free(in->paths);
	free(in->refused);
	free(in->claims);
	if (in->have_cfg)
		sr_config_free(&in->cfg);
}

/* The config the apps run with: --config, else the one in force. */
static int read_config(const struct agent_opts *o, struct recover_in *in, struct sr_err *err)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;
	int r;

	snprintf(path, sizeof(path), "%s/%s", o->state_dir, SR_CONFIG_FILE);
	if ((r = sr_read_file(o->config ? o->config : path, SR_CONFIG_MAX_BYTES, &buf, &len, err)))
		return o->config ? r : sr_err_prefix(err, r,
			"no config in force (give the config the apps run with: --config FILE)");
	r = sr_config_decode(buf, len, &in->cfg, err);
	free(buf);
	in->have_cfg = !r;
	return r;
}

/* The config's PFs on the node, with their VF tables. */
static int read_node(const struct agent_opts *o, struct recover_in *in, struct sr_err *err)
{
	struct sr_sysfs sysfs;
	int r;

	sr_sysfs_init(&sysfs, o->sysfs_root);
	if (!(in->pfs = calloc(in->cfg.n_pfs ? in->cfg.n_pfs : 1, sizeof(*in->pfs))))
		return sr_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < in->cfg.n_pfs; i++) {
		const struct sr_pf_cfg *pc = &in->cfg.pfs[i];

		if ((r = sr_sysfs_find_pf(&sysfs, pc->ifname, pc->pci, &in->pfs[i], err)) ||
		    (r = sr_sysfs_read_vfs(&sysfs, &in->pfs[i], err)))
			return sr_err_prefix(err, r, "deviceIoList[%u] (%s)", pc->io_index,
					     sr_pf_cfg_label(pc));
		snprintf(in->pfs[i].label, sizeof(in->pfs[i].label), "%s", sr_pf_cfg_label(pc));
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "<uuid>.<hv>.cfg": a name the agent gives its domain configs. */
static bool ours(const char *name, enum sr_hypervisor hv)
{
	char want[64];
	uint8_t u[16];
	char uuid[SR_UUID_LEN];

	if (strlen(name) < SR_UUID_LEN - 1)
		return false;
	memcpy(uuid, name, SR_UUID_LEN - 1);
	uuid[SR_UUID_LEN - 1] = '\0';
	domain_file_name(uuid, hv, want, sizeof(want));
	return !strcmp(name, want) && !sr_parse_uuid(uuid, u);
}

/* The domain config of --domain-dir named name: a claim, with the VFs it
 * names, or (a symlink, not in the emitter's layout, for another app than
 * its name says) with why it is not used, so its app's adapters say so. */
static int add_claim(const struct agent_opts *o, struct recover_in *in, const char *name)
{
	size_t n = in->n_claims;
	struct sr_recover_claim *cl = &in->claims[n];
	struct sr_err e = { "" };
	char uuid[SR_UUID_LEN];
	uint8_t *buf;
	size_t len;
	int r;

	snprintf(in->paths[n], PATH_MAX, "%s/%s", o->domain_dir, name);
	cl->source = in->paths[n];
	snprintf(cl->app_uuid, sizeof(cl->app_uuid), "%.*s", SR_UUID_LEN - 1, name);
	in->n_claims++;
	/* Never followed out of the directory: a symlink is refused. */
	if ((r = sr_read_own_file(in->paths[n], CLAIM_MAX_BYTES, &buf, &len, &e))) {
		/* the message starts with the path, which cl->source says */
		const char *m = !strncmp(e.msg, in->paths[n], strlen(in->paths[n])) ?
					e.msg + strlen(in->paths[n]) + 2 : e.msg;

		snprintf(in->refused[n], sizeof(in->refused[n]), "%s", m);
		goto refused;
	}
	r = sr_domain_read(o->hv, (const char *)buf, len, uuid, &in->vfs[n], &cl->n_vf, &e);
	free(buf);
	if (r) {
		snprintf(in->refused[n], sizeof(in->refused[n]), "%s", e.msg);
		goto refused;
	}
	if (strcmp(cl->app_uuid, uuid)) {
		snprintf(in->refused[n], sizeof(in->refused[n]),
			 "its first line names app %s, not the one its name says", uuid);
		free(in->vfs[n]);
		in->vfs[n] = NULL;
		cl->n_vf = 0;
		goto refused;
	}
	cl->vf_pci = (const char (*)[SR_PCI_LEN])in->vfs[n];
	return 0;
refused:
	cl->refused = in->refused[n];
	return r == -ENOMEM ? r : 0;
}

/* Every domain config of --domain-dir named as the agent names them, in
 * name order (the first of two claims on one VF is then stable). */
static int read_claims(const struct agent_opts *o, struct recover_in *in, struct sr_err *err)
{
	DIR *d = opendir(o->domain_dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : sr_err_set(err, -errno, "domain dir %s: %s",
							o->domain_dir, strerror(errno));
	/* Files another user could have put there say nothing about the
	 * apps: the same rule as for writing them (lib/store/fsafe.h). */
	if ((r = sr_dir_trusted(o->domain_dir, "domain dir", err))) {
		closedir(d);
		return sr_err_prefix(err, r, "its domain configs cannot say which VF an app holds");
	}
	while ((de = readdir(d)) && !r) {
		if (!ours(de->d_name, o->hv))
			continue;
		if (n == cap) {
			char **v = realloc(names, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!v) {
				r = -ENOMEM;
				break;
			}
			names = v;
		}
		if (!(names[n] = strdup(de->d_name)))
			r = -ENOMEM;
		else
			n++;
	}
	closedir(d);
	if (!r && n) {
		qsort(names, n, sizeof(*names), by_name);
		in->claims = calloc(n, sizeof(*in->claims));
		in->paths = calloc(n, sizeof(*in->paths));
		in->vfs = calloc(n, sizeof(*in->vfs));
		in->refused = calloc(n, sizeof(*in->refused));
		if (!in->claims || !in->paths || !in->vfs || !in->refused)
			r = -ENOMEM;
	}
	for (size_t i = 0; i < n && !r; i++)
		r = add_claim(o, in, names[i]);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r ? sr_err_set(err, r, "out of memory") : 0;
}

/* One line per app adapter: the VF it gets at the next apply, and why
 * (res NULL: recovery refuses, an adapter whose VF is not known gets none). */
static void print_proposal(const struct recover_in *in, const struct sr_recovery *rc,
			   const struct sr_reservation *res, size_t *kept, size_t *free_vf)
{
	const struct sr_config *cfg = &in->cfg;

	for (size_t i = 0; i < cfg->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &cfg->adapters[i];
		const struct sr_recover_adapter *ad = &rc->adapters[i];
		const char *pf = sr_pf_cfg_label(&cfg->pfs[a->pf]);
		char where[SR_LABEL_LEN + 64];

		if (!res && ad->how == SR_RECOVER_UNKNOWN) {
			(*free_vf)++;
			printf("app %s adapter %s#%u: PF %s: no VF: its VF is not known: %s\n",
			       cfg->apps[a->app].uuid_str, a->name, a->occurrence, pf, ad->why);
			continue;
		}
		if (res) {
			const struct sr_vf *vf = sr_pf_find_vf(&in->pfs[a->pf], res[i].vf_index);

			snprintf(where, sizeof(where), "PF %s VF %u (%s)", pf, res[i].vf_index,
				 vf && vf->pci[0] ? vf->pci : "not made yet");
		} else if (ad->how == SR_RECOVER_HELD) {
			const struct sr_vf *vf = sr_pf_find_vf(&in->pfs[a->pf], ad->vf_index);

			snprintf(where, sizeof(where), "PF %s VF %u (%s)", pf, ad->vf_index,
				 vf ? vf->pci : "");
		} else {
			snprintf(where, sizeof(where), "PF %s VF %lld", pf, (long long)a->vf_index);
		}
		printf("app %s adapter %s#%u: %s: ", cfg->apps[a->app].uuid_str, a->name,
		       a->occurrence, where);
		switch (ad->how) {
		case SR_RECOVER_HELD:
			(*kept)++;
			printf("kept: named by %s%s%s\n", in->claims[ad->claim].source,
			       ad->why[0] ? "; " : "", ad->why);
			break;
		case SR_RECOVER_NAMED:
			printf("%s\n", ad->why);
			break;
		case SR_RECOVER_UNKNOWN:
			(*free_vf)++;
			printf("a free VF: its VF is not known: %s\n", ad->why);
			break;
		}
	}
}

/* The refused state.pb kept as STATE/state.pb.refused-<UTC time>[-N], for
 * a look, never deleted (*moved: that name, "" when there was no file). A
 * regular file gets a second name (a hard link): state.pb stays until the
 * new one replaces it atomically, so a save that fails (a full or failing
 * disk) leaves the refused file, never no file, which an apply would take
 * for "no VF held" and reserve in config order; run again, recover finds
 * that name and adds none (kept_already). Anything else (a
 * directory) is renamed (*renamed): the new file cannot replace it. */
/* A name STATE/state.pb.refused-* that is already a link to the file sb
 * (a recover whose save failed kept it): its name in moved, true. */
static bool kept_already(const struct agent_opts *o, const struct stat *sb, char *moved,
			 size_t cap)
{
	static const char prefix[] = SR_STATE_FILE ".refused-";
	DIR *d = opendir(o->state_dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		struct stat ls;

		if (strncmp(de->d_name, prefix, sizeof(prefix) - 1) ||
		    fstatat(dirfd(d), de->d_name, &ls, AT_SYMLINK_NOFOLLOW))
			continue;
		if (S_ISREG(ls.st_mode) && ls.st_dev == sb->st_dev && ls.st_ino == sb->st_ino) {
			snprintf(moved, cap, "%s/%s", o->state_dir, de->d_name);
			found = true;
		}
	}
	closedir(d);
	return found;
}

static int set_aside(const struct agent_opts *o, char *from, char *moved, size_t cap,
		     bool *renamed, struct sr_err *err)
{
	char stamp[32];
	time_t now = time(NULL);
	struct stat sb;
	struct tm tm;

	moved[0] = '\0';
	*renamed = false;
	snprintf(from, PATH_MAX, "%s/%s", o->state_dir, SR_STATE_FILE);
	if (lstat(from, &sb))
		return errno == ENOENT ? 0 : sr_err_set(err, -errno, "%s: %s", from, strerror(errno));
	/* Run again after a failed save: the file has its second name. */
	if (S_ISREG(sb.st_mode) && sb.st_nlink > 1 && kept_already(o, &sb, moved, cap))
		return 0;
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	for (unsigned n = 0; n < 1000; n++) {
		if (n)
			snprintf(moved, cap, "%s.refused-%s-%u", from, stamp, n);
		else
			snprintf(moved, cap, "%s.refused-%s", from, stamp);
		if (lstat(moved, &sb) && errno == ENOENT)
			break;
	}
	if (S_ISREG(sb.st_mode)) {
		if (link(from, moved))
			return sr_err_set(err, -errno, "link %s -> %s: %s", from, moved,
					  strerror(errno));
		return 0;
	}
	if (rename(from, moved))
		return sr_err_set(err, -errno, "rename %s -> %s: %s", from, moved, strerror(errno));
	*renamed = true;
	return 0;
}

/* The state the next apply starts from: the kept reservations, the node's
 * VF tables, the config's apps. */
static int save_state(const struct agent_opts *o, struct recover_in *in,
		      const struct sr_recovery *rc, struct sr_err *err)
{
	struct sr_state st = {
		.pfs = in->pfs,
		.n_pfs = in->cfg.n_pfs,
		.res = rc->held,
		.n_res = rc->n_held,
		.apps = in->cfg.apps,
		.n_apps = in->cfg.n_apps,
		.applied_at = (int64_t)time(NULL),
	};

	snprintf(st.last_result, sizeof(st.last_result),
		 "recovered from the node (sriov-agent recover): %zu reservation(s) kept",
		 rc->n_held);
	return sr_state_save(o->state_dir, &st, err);
}

/* Is there anything to recover? 1: yes (refused or missing: *why says), 0:
 * the file is accepted, -errno: it cannot be read at all. */
static int state_refused(const struct agent_opts *o, char *why, size_t cap, struct sr_err *err)
{
	struct sr_state st = { 0 };
	bool found;
	int r = sr_state_load_found(o->state_dir, &st, &found, err);

	if (!r && found) {
		printf("%s/%s is accepted (%zu reservation(s)): nothing to recover\n", o->state_dir,
		       SR_STATE_FILE, st.n_res);
		sr_state_free(&st);
		return 0;
	}
	sr_state_free(&st);
	if (!r) {
		snprintf(why, cap, "%s/%s: no such file", o->state_dir, SR_STATE_FILE);
		return 1;
	}
	if (sr_state_is_refused(r)) {
		snprintf(why, cap, "%s", err->msg);
		return 1;
	}
	return r;
}

/* The drivers a VF given to a guest is on, this hypervisor's first:
 * vfio-pci (drivers/vfio/pci/vfio_pci.c) and Xen's pciback
 * (drivers/xen/xen-pciback/pci_stub.c). */
static const char *const kvm_guest[] = { "vfio-pci", SR_XEN_PCIBACK_DRIVER, NULL };
static const char *const xen_guest[] = { SR_XEN_PCIBACK_DRIVER, "vfio-pci", NULL };

/* VFs on a guest driver whose app is not known: given out, one could land
 * in another app's domain config while a guest holds it. Nothing is
 * written; the lines say which VFs, who names them, and what to do. */
static int refuse_conflicts(const struct agent_opts *o, const struct recover_in *in,
			    const struct sr_recovery *rc, size_t kept, size_t unknown,
			    struct sr_err *err)
{
	for (size_t i = 0; i < rc->n_conflicts; i++) {
		const struct sr_recover_conflict *k = &rc->conflicts[i];

		printf("conflict: VF %s (PF %s VF %u) is on %s (a guest may hold it) and kept for no app: %s\n",
		       k->vf_pci, sr_pf_cfg_label(&in->cfg.pfs[k->pf]), k->vf_index, k->driver,
		       k->why);
	}
	printf("%zu adapter(s) keep the VF they hold, %zu have no VF: their VF is not known\n",
	       kept, unknown);
	printf("what to do: find the app whose guest holds each VF above (%s); make that app's domain config in %s name it, and no other app's; or stop the apps named and give the VF back to the host (echo <VF> > /sys/bus/pci/drivers/%s/unbind); then run recover again\n",
	       o->hv == SR_HV_XEN ? "Xen: xl pci-list DOMAIN"
				  : "KVM: the QEMU process that has /dev/vfio/<the VF's iommu_group> open",
	       o->domain_dir, rc->conflicts[0].driver);
	return sr_err_set(err, -EBUSY,
			  "refused: %zu VF(s) on a passthrough driver kept for no app (the conflict: lines): giving one out could put a VF a guest holds in another app's domain config; %s",
			  rc->n_conflicts, o->dry_run ? "dry run: nothing written" : "nothing written");
}

static int recover(const struct agent_opts *o, struct sr_err *err)
{
	struct recover_in in = { 0 };
	struct sr_recovery rc = { 0 };
	struct sr_reservation *res = NULL;
	size_t n_res = 0, kept = 0, free_vf = 0;
	char why[SR_ERR_MAX], moved[PATH_MAX + 64], cfg[PATH_MAX], from[PATH_MAX];
	bool renamed;
	int r;

	if ((r = state_refused(o, why, sizeof(why), err)) <= 0)
		return r;
	if (o->config)
		snprintf(cfg, sizeof(cfg), "%s", o->config);
	else
		snprintf(cfg, sizeof(cfg), "%s/%s (the config in force)", o->state_dir, SR_CONFIG_FILE);
	printf("refused: %s\nrecovering from the node: config %s, domain configs in %s\n", why, cfg,
	       o->domain_dir);
	if ((r = read_config(o, &in, err)) || (r = read_node(o, &in, err)) ||
	    (r = read_claims(o, &in, err)) ||
	    (r = sr_recover(&in.cfg, in.pfs, in.claims, in.n_claims,
			    o->hv == SR_HV_XEN ? xen_guest : kvm_guest, &rc, err)) ||
	    (!rc.n_conflicts &&
	     (r = sr_reserve(&in.cfg, in.pfs, rc.held, rc.n_held, &res, &n_res, err))))
		goto out;
	print_proposal(&in, &rc, res, &kept, &free_vf);
	if (!in.n_claims)
		printf("note: no domain config (<uuid>.%s.cfg) was read in %s: are --domain-dir and --hypervisor the ones the agent ran with?\n",
		       sr_hypervisor_name(o->hv), o->domain_dir);
	for (size_t i = 0; i < rc.n_notes; i++)
		printf("note: %s\n", rc.notes[i]);
	if (rc.n_conflicts) {
		r = refuse_conflicts(o, &in, &rc, kept, free_vf, err);
		goto out;
	}
	printf("%zu adapter(s) keep the VF they hold, %zu get a free VF after them\n", kept,
	       free_vf);
	/* The limit, said when it applies (docs/daemon.md, Recovery). */
	if (rc.n_held)
		printf("note: the settings the kept VFs had before the agent (restored when a VF is released) are not known: the next apply records their settings now as those\n");
	if (o->dry_run) {
		printf("dry run: nothing written\n");
		goto out;
	}
	if ((r = set_aside(o, from, moved, sizeof(moved), &renamed, err)))
		goto out;
	if ((r = save_state(o, &in, &rc, err))) {
		if (renamed && rename(moved, from))
			log_warn("%s is left as %s: %s", from, moved, strerror(errno));
		goto out;
	}
	if (moved[0])
		printf("kept the refused file as %s\n", moved);
	printf("wrote %s/%s: %zu reservation(s) kept; apply the config again (sriov-agent apply, or start sriov-agent run) to give the rest their VF\n",
	       o->state_dir, SR_STATE_FILE, rc.n_held);
out:
	free(res);
	sr_recovery_free(&rc);
	in_free(&in);
	return r;
}

int agent_recover(const struct agent_opts *o)
{
	struct sr_err err = { "" };
	int lock = -1, status = 1;

	if (!o->passthrough) {
		log_err("recover reads the domain configs the agent wrote: with --hypervisor none there are none, so no VF can be told apart (stop the apps, remove %s/%s and %s, and apply again)",
			o->state_dir, SR_STATE_FILE, SR_CONFIG_FILE);
		return 1;
	}
	if (!o->dry_run && agent_lock_state(o, &lock))
		return 1;
	if (recover(o, &err))
		log_err("recover: %s", err.msg);
	else
		status = 0;
	sr_state_unlock(lock);
	return status;
}
