/* SPDX-License-Identifier: MIT */
/*
 * Limits that later stages of an apply enforce, checked before its first
 * kernel write: the domain emitter's (vcpus, virtualizationMode, VFs per
 * app), the passthrough driver being there, and room in the state and
 * domain dirs. Without this a config the emitter refuses was applied to the
 * kernel first and then reported "rejected" (issue 13, defect 1).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent.h"
#include "config.h"
#include "domains.h"
#include "files.h"
#include "fsafe.h"
#include "hypervisor.h"
#include "state.h"
#include "sysfs.h"

/* Bytes a write of the state may need: the new file next to the old one
 * until the rename, the config copy, and some slack. */
static uint64_t state_need(const struct agent_opts *o, size_t cfg_len, size_t n_adapters)
{
	char path[PATH_MAX];
	struct stat sb;
	uint64_t old = 0;

	snprintf(path, sizeof(path), "%s/%s", o->state_dir, SR_STATE_FILE);
	if (!stat(path, &sb))
		old = (uint64_t)sb.st_size;
	return 2 * (old + 512u * (uint64_t)n_adapters) + 2 * (uint64_t)cfg_len + (64u << 10);
}

static int check_apps(const struct agent_opts *o, const struct sr_config *c, size_t *with_vf,
		      struct sr_err *err)
{
	size_t *n_vf = calloc(c->n_apps ? c->n_apps : 1, sizeof(*n_vf));
	int r = 0;

	if (!n_vf)
		return sr_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < c->n_adapters; i++)
		n_vf[c->adapters[i].app]++;
	*with_vf = 0;
	for (size_t i = 0; i < c->n_apps && !r; i++) {
		if (!n_vf[i])
			continue;
		(*with_vf)++;
		if ((r = sr_domain_check_app(o->hv, &c->apps[i], n_vf[i], err)))
			sr_err_prefix(err, r, "apps[%zu] (%s)", i, c->apps[i].uuid_str);
	}
	free(n_vf);
	return r;
}

/* dir/name, which the apply will replace by a rename, is a regular file
 * or absent: rename() onto a directory fails only after the kernel writes
 * (issue 23, finding 3). */
static int check_replaceable(const char *dir, const char *name, const char *what,
			     struct sr_err *err)
{
	char path[PATH_MAX + 64];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &sb)) {
		if (errno == ENOENT)
			return 0;
		return sr_err_set(err, -errno, "%s %s: %s: nothing applied", what, path,
				  strerror(errno));
	}
	if (S_ISREG(sb.st_mode))
		return 0;
	return sr_err_set(err, S_ISDIR(sb.st_mode) ? -EISDIR : -EEXIST,
			  "%s %s: a %s where the agent writes a file: remove it; nothing applied",
			  what, path, S_ISDIR(sb.st_mode) ? "directory" : S_ISLNK(sb.st_mode) ? "symlink" : "special file");
}

/* Every file the apply writes (state dir; the domain configs of apps that
 * hold VFs) can be replaced. */
static int check_targets(const struct agent_opts *o, const struct sr_config *c,
			 struct sr_err *err)
{
	static const char *const state_files[] = { SR_STATE_FILE, SR_CONFIG_FILE,
						   DOMAINS_MANIFEST_FILE, AGENT_PENDING_FILE,
						   AGENT_PENDING_TRIES_FILE };
	bool *has_vf;
	int r = 0;

	for (size_t i = 0; i < sizeof(state_files) / sizeof(state_files[0]) && !r; i++)
		r = check_replaceable(o->state_dir, state_files[i], "state file", err);
	if (r || !o->passthrough || !c->n_apps)
		return r;
	if (!(has_vf = calloc(c->n_apps, sizeof(*has_vf))))
		return sr_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < c->n_adapters; i++)
		has_vf[c->adapters[i].app] = true;
	for (size_t i = 0; i < c->n_apps && !r; i++) {
		char name[64];

		if (!has_vf[i])
			continue;
		domain_file_name(c->apps[i].uuid_str, o->hv, name, sizeof(name));
		r = check_replaceable(o->domain_dir, name, "domain config", err);
	}
	free(has_vf);
	return r;
}

int agent_precheck(const struct agent_opts *o, const struct sr_sysfs *sysfs,
		   const struct sr_config *c, size_t len, bool in_force, struct sr_err *err)
{
	size_t with_vf = 0;
	int r;

	r = o->passthrough ? check_apps(o, c, &with_vf, err) : 0;
	if (!r && o->passthrough && o->hv == SR_HV_KVM && c->n_adapters &&
	    sr_sysfs_iommu_enabled(sysfs)) {
		char path[PATH_MAX + 64];
		struct stat sb;

		/* (IOMMU off is sr_apply's message.) */
		snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers/vfio-pci", sysfs->root);
		if (stat(path, &sb))
			r = sr_err_set(err, -ENODEV,
				       "passthrough to vfio-pci asked but the driver is not loaded (%s missing): modprobe vfio-pci",
				       path);
	}
	/* A dry run writes nothing, not even the dirs. The config in force
	 * again (a reconcile) is not gated on room: its repairs (a VF
	 * rebound, VFs made again) write no file unless a record changes. */
	if (!r && !o->dry_run)
		r = in_force ? sr_dir_own(o->state_dir, "state dir", err)
			     : sr_check_dir_writable(o->state_dir,
						     state_need(o, len, c->n_adapters), "state dir",
						     err);
	if (!r && !o->dry_run && o->passthrough)
		r = in_force ? sr_dir_own(o->domain_dir, "domain dir", err)
			     : sr_check_dir_writable(o->domain_dir,
						     (uint64_t)with_vf * 8192u + (64u << 10),
						     "domain dir", err);
	if (!r && !o->dry_run)
		r = check_targets(o, c, err);
	return r;
}
