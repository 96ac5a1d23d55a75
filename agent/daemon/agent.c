/* SPDX-License-Identifier: MIT */
/*
 * The glue both agent commands share (apply, run): opening the node (sysfs,
 * netlink, fault hook) and applying config bytes then writing domain
 * configs. Kept out of main.c so run.c and tests link it without main().
 */
#include <errno.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "apply.h"
#include "domains.h"
#include "fault.h"
#include "files.h"
#include "log.h"
#include "node_async.h"
#include "set.h"
#include "state.h"
#include "xen.h"

/* Apps holding a reservation in error: they did not get their VF. The UUIDs
 * of reservations in error go in a set, then each app is looked up once
 * (apps x reservations string compares took 0.55 G instructions at 4096). */
static size_t apps_failed(const struct sr_state *st)
{
	struct sr_set failed = { 0 };
	size_t n = 0, v;

	for (size_t i = 0; i < st->n_res; i++) {
		const char *u = st->res[i].app_uuid;

		if (!st->res[i].error || !u[0])
			continue;
		if ((!failed.slots && sr_set_init(&failed, 16)) ||
		    sr_set_add(&failed, u, strlen(u), i, &v) < 0) {
			sr_set_free(&failed);
			return 0; /* out of memory: a count for status only */
		}
	}
	for (size_t a = 0; a < st->n_apps && failed.n; a++) {
		const char *u = st->apps[a].uuid_str;

		n += sr_set_find(&failed, u, strlen(u), &v) == 1;
	}
	sr_set_free(&failed);
	return n;
}

/* The apply's outputs (exec.h): domain configs and the config in force,
 * run by the plan as its RETIRE_DOMAINS, WRITE_DOMAINS and SAVE_CONFIG
 * actions, so --dry-run lists them and SR_FAULT can stop after each. */
struct outputs_arg {
	const struct agent_opts *o;
	bool in_force;                 /* the bytes are the config in force already */
};

static int retire_domains(void *arg, const struct sr_reservation *old, size_t n_old,
			  const struct sr_reservation *res, size_t n_res, bool dry_run,
			  bool *changed, struct sr_err *err)
{
	const struct agent_opts *o = ((struct outputs_arg *)arg)->o;

	return domains_retire(o->domain_dir, o->state_dir, o->hv, old, n_old, res, n_res,
			      dry_run ? DOMAINS_DRY_RUN : DOMAINS_WRITE, changed, err);
}

static int write_domains(void *arg, const struct sr_state *st, bool dry_run, unsigned *warnings,
			 struct sr_err *err)
{
	const struct agent_opts *o = ((struct outputs_arg *)arg)->o;

	return domains_write(o->domain_dir, o->state_dir, o->hv, st,
			     dry_run ? DOMAINS_DRY_RUN : DOMAINS_WRITE, warnings, err);
}

/* The config in force, for sriovctl info (devId, labels), a restarted
 * daemon and the next reconcile. */
static int save_config(void *arg, const uint8_t *buf, size_t len, bool dry_run,
		       struct sr_err *err)
{
	const struct outputs_arg *a = arg;
	int r;

	if (a->in_force || dry_run)
		return 0;
	if ((r = sr_write_atomic(a->o->state_dir, SR_CONFIG_FILE, buf, len, err)))
		return sr_err_prefix(err, r, "applied, but cannot save the config");
	return 0;
}

/* buf is the config in force (STATE/config.pb): applying it again is a
 * reconcile, whose repairs need no new file. The daemon knows it (env);
 * apply reads the file. */
static bool config_in_force(const struct agent_opts *o, const struct agent_env *env,
			    const uint8_t *buf, size_t len)
{
	char path[PATH_MAX];
	uint8_t *cur;
	size_t n;
	bool same;

	if (env->model)
		return env->in_force && env->in_force_len == len &&
		       !memcmp(env->in_force, buf, len);
	snprintf(path, sizeof(path), "%s/%s", o->state_dir, SR_CONFIG_FILE);
	if (sr_read_file(path, len + 1, &cur, &n, NULL))
		return false;
	same = n == len && !memcmp(cur, buf, len);
	free(cur);
	return same;
}

/* Decode, the agent's own limits, prepare (everything that can refuse the
 * config), then exec the plan. */
/* Decoding the state and the config builds protobuf-c trees of many small
 * blocks (~2 MB each at 4096 apps), freed once decoded; the pages they
 * leave between live blocks stay resident, and the reservations that
 * follow do not fit in them. Give them back to the kernel before the
 * apply's peak (bench/rss.sh: 1.2 MiB of the re-apply's peak RSS at
 * 64x64). malloc_trim is glibc's; with another libc nothing is done. */
static void give_back_freed(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

static int apply_phases(const struct agent_opts *o, struct agent_env *env,
			struct sr_apply_ctx *ctx, const uint8_t *buf, size_t len,
			unsigned flags, struct sr_state *st, struct sr_err *err)
{
	bool in_force = config_in_force(o, env, buf, len);
	struct outputs_arg oa = { .o = o, .in_force = in_force };
	struct sr_outputs out = {
		.retire = o->passthrough ? retire_domains : NULL,
		.write = o->passthrough ? write_domains : NULL,
		.save_config = (flags & AGENT_APPLY_NEW_CONFIG) ? save_config : NULL,
		.ctx = &oa,
	};
	struct sr_config cfg;
	struct sr_apply *ap;
	int r;

	ctx->outputs = &out;
	if ((r = sr_config_decode(buf, len, &cfg, err)))
		return r;
	give_back_freed();
	if ((flags & AGENT_APPLY_WATCH) && env->decoded)
		env->decoded(env->decoded_arg, &cfg);
	if ((r = agent_precheck(o, &env->sysfs, &cfg, len, in_force, err)) ||
	    (r = sr_apply_prepare(ctx, &cfg, buf, len, &ap, err))) {
		sr_config_free(&cfg);
		return r;
	}
	r = sr_apply_exec(ctx, ap, st, err);
	sr_apply_free(ap);
	ctx->outputs = NULL;
	return r;
}

void agent_state_hint(const struct agent_opts *o, int r, struct sr_err *err)
{
	size_t n = strlen(err->msg);
	char dd[PATH_MAX + 16] = "";

	if (!sr_state_is_refused(r))
		return;
	if (strcmp(o->domain_dir, o->domain_dir_buf))
		snprintf(dd, sizeof(dd), " --domain-dir %s", o->domain_dir);
	snprintf(err->msg + n, sizeof(err->msg) - n,
		 "; nothing is applied until it is replaced: to rebuild it from the node, stop the agent and run `sriov-agent recover --state-dir %s%s%s --dry-run`, then without --dry-run (docs/daemon.md, Recovery)",
		 o->state_dir, dd, o->hv == SR_HV_XEN ? " --hypervisor xen" : "");
}

/* The state in force for an apply without the daemon's model (apply, a
 * dry run): loaded here, so a refused file says how to recover. */
static int load_old_state(const struct agent_opts *o, struct sr_state *old,
			  struct sr_apply_ctx *ctx, struct sr_err *err)
{
	int r = sr_state_load(o->state_dir, old, err);

	if (r) {
		agent_state_hint(o, r, err);
		return r;
	}
	ctx->old = old;
	return 0;
}

int agent_apply_bytes(const struct agent_opts *o, struct agent_env *env, const uint8_t *buf,
		      size_t len, unsigned flags, struct sr_err *err)
{
	struct sr_state local = { 0 };
	struct sr_apply_ctx ctx = {
		.node = &env->node,
		.state_dir = o->state_dir,
		.bind_driver = o->passthrough ? (o->hv == SR_HV_XEN ? SR_XEN_PCIBACK_DRIVER : "vfio-pci")
					      : NULL,
		.dry_run = o->dry_run,
		.settle_vfs = !env->vfs_settled,
		.log = agent_log,
		.log_debug = agent_log_wants(LOG_DEBUG),
	};
	struct sr_state st = { 0 };
	int r;

	env->last_apps_failed = 0;
	env->last_later = 0;
	env->last_node_changed = false;
	if (env->model && !o->dry_run) {
		if ((r = state_model_get(env->model, o->state_dir, err))) {
			agent_state_hint(o, r, err);
			return r;
		}
		ctx.old = &env->model->st;
	} else if ((r = load_old_state(o, &local, &ctx, err))) {
		return r;
	}
	r = apply_phases(o, env, &ctx, buf, len, flags, &st, err);
	if (!r || ctx.executed)
		env->vfs_settled = true;
	sr_state_free(&local);
	if (r) {
		env->last_node_changed = ctx.node_changed;
		/* It may have saved its intent, or changed the old state
		 * in place: the file says what is in force. */
		if (env->model && ctx.executed)
			state_model_invalidate(env->model);
		return r;
	}
	if (o->dry_run) {
		sr_state_free(&st);
		log_info("dry run: %zu action(s), nothing changed", ctx.n_actions);
		return 0;
	}
	log_info("applied: %zu action(s), %zu sysfs and %zu netlink writes, %zu reservation(s), %zu warning(s)",
		 ctx.n_actions, ctx.sysfs_writes, ctx.netlink_writes, st.n_res, ctx.n_warnings);
	env->last_sysfs_writes = ctx.sysfs_writes;
	env->last_netlink_writes = ctx.netlink_writes;
	env->last_apps_failed = apps_failed(&st);
	env->last_later = ctx.n_later;
	if (env->model)
		state_model_set(env->model, &st);
	sr_state_free(&st);
	return 0;
}

int agent_env_open(const struct agent_opts *o, struct agent_env *env, struct sr_err *err)
{
	int r;

	memset(env, 0, sizeof(*env));
	sr_sysfs_init(&env->sysfs, o->sysfs_root);
	/* A driver may take minutes (ixgbe with 125 VFs: ~65 s). */
	env->sysfs.numvfs_timeout_ms = (unsigned)(o->numvfs_timeout ? o->numvfs_timeout : 300) * 1000;
	if (!o->no_netlink && (r = sr_nl_open(&env->nl)))
		return sr_err_set(err, r, "netlink: cannot open a NETLINK_ROUTE socket: %s",
				  strerror(-r));
	sr_node_real_init(&env->node, &env->real, &env->sysfs, o->no_netlink ? NULL : &env->nl,
			  agent_log, NULL);
	if ((r = agent_fault_install(&env->node, err))) {
		agent_env_close(o, env);
		return r;
	}
	/* A write that does not return within its deadline (sriov_numvfs:
	 * plus the 5 s the wait may overrun) leaves its PF busy: apply
	 * reports it (exit 3) instead of hanging. The daemon waits less
	 * (busy.h). */
	if ((r = sr_node_async_enable(&env->real, env->sysfs.numvfs_timeout_ms + 5000,
				      (unsigned)(o->bind_timeout ? o->bind_timeout : 60) * 1000,
				      -1))) {
		agent_env_close(o, env);
		return sr_err_set(err, r, "cannot set up the slow writes: %s", strerror(-r));
	}
	return 0;
}

void agent_env_close(const struct agent_opts *o, struct agent_env *env)
{
	sr_node_async_disable(&env->real);
	if (!o->no_netlink)
		sr_nl_close(&env->nl);
}

int agent_lock_state(const struct agent_opts *o, int *fd)
{
	struct sr_err err = { "" };
	int n, r;

	if ((r = sr_state_lock(o->state_dir, fd, &err)) < 0) {
		log_err("%s", err.msg);
		return -1;
	}
	if (r > 0)
		log_warn("%s", err.msg);
	/* With the lock held, a temp file of an atomic write is a leftover of
	 * a process that died (kill -9, power loss). */
	for (int i = 0; i < 2; i++) {
		const char *dir = i ? o->domain_dir : o->state_dir;

		if ((n = sr_clean_temp_files(dir)) > 0)
			log_info("%s: removed %d temp file(s) left by an interrupted write", dir, n);
		else if (n < 0)
			log_warn("%s: cannot clean temp files: %s", dir, strerror(-n));
	}
	return 0;
}
