/* SPDX-License-Identifier: MIT */
/*
 * sr_apply: decode -> load the saved state -> read the node -> reserve ->
 * plan -> run the plan. Each arrow is a function of its own module; this
 * file only wires them and checks the config against the node it read.
 */
#include "apply.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "drivers.h"
#include "exec.h"
#include "reserve.h"

#define LOG(ctx, level, ...)                                          \
	do {                                                          \
		if ((ctx)->log)                                       \
			(ctx)->log((ctx)->log_ctx, (level), __VA_ARGS__); \
	} while (0)

struct sr_apply {
	struct sr_config cfg;
	const uint8_t *buf;            /* the config's bytes (the caller's) */
	size_t len;
	struct sr_state old;
	bool old_borrowed;             /* old is the caller's */
	struct sr_reservation *res;
	size_t n_res;
	struct sr_plan plan;
	struct sr_run run;
};

/* The config's PF i against the node: it exists, has that many VFs to give,
 * is not named twice and has a driver to change its VF count. */
static int check_pf(struct sr_apply *ap, size_t i, struct sr_err *err)
{
	const struct sr_pf_cfg *pc = &ap->cfg.pfs[i];
	const struct sr_pf *pfs = ap->run.pfs;

	if (pc->vf_count > pfs[i].totalvfs)
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%u] (%s) VF count %u: allowed 1..%u (sriov_totalvfs of %s)",
				  pc->io_index, sr_pf_cfg_label(pc), pc->vf_count, pfs[i].totalvfs,
				  pfs[i].pci);
	for (size_t j = 0; j < i; j++)
		if (!strcmp(pfs[j].pci, pfs[i].pci))
			return sr_err_set(err, -EINVAL,
					  "deviceIoList[%u] (%s) and deviceIoList[%u] (%s) are the same device %s",
					  ap->cfg.pfs[j].io_index, sr_pf_cfg_label(&ap->cfg.pfs[j]),
					  pc->io_index, sr_pf_cfg_label(pc), pfs[i].pci);
	/* The kernel changes the VF count only through the PF's driver
	 * (sriov_numvfs answers ENOENT without one; the count it has already
	 * is accepted). At boot the driver may not be loaded yet: -ENODEV,
	 * like a PF not there at all, so a --config waits for it. */
	if (!pfs[i].driver[0] && pc->vf_count != pfs[i].numvfs)
		return sr_err_set(err, -ENODEV,
				  "deviceIoList[%u] (%s): PF %s has no driver bound (not loaded yet?): its VF count (%u, %u asked) changes only through it",
				  pc->io_index, sr_pf_cfg_label(pc), pfs[i].pci, pfs[i].numvfs,
				  pc->vf_count);
	return 0;
}

/* A driver rule (drivers.h): mlx5_core makes the VFs in the eswitch mode it
 * is in when sriov_numvfs is written; this agent sets VFs through the PF
 * (legacy mode). Asked from devlink only when the count is to change. A
 * mode that cannot be read is a warning: the write goes ahead. */
static int check_eswitch(struct sr_apply *ap, const struct sr_apply_ctx *ctx, size_t i,
			 struct sr_err *err)
{
	const struct sr_node_ops *n = ctx->node;
	const struct sr_pf_cfg *pc = &ap->cfg.pfs[i];
	const struct sr_pf *pf = &ap->run.pfs[i];
	const struct sr_driver_rules *rules = sr_driver_rules_of(pf->driver);
	struct sr_err e = { "" };
	char mode[16];

	if (!rules || !(rules->rules & SR_RULE_ESWITCH_LEGACY) || pc->vf_count == pf->numvfs)
		return 0;
	if (!n->eswitch_mode || n->eswitch_mode(n->ctx, pf->pci, mode, &e)) {
		LOG(ctx, LOG_WARNING, "PF %s (%s): eswitch mode not known (%s): VFs made in the mode it is in",
		    pf->pci, pf->driver, n->eswitch_mode ? e.msg : "no devlink on this node");
		return 0;
	}
	if (strcmp(mode, "legacy"))
		return sr_err_set(err, -EINVAL,
				  "deviceIoList[%u] (%s): PF %s (%s) is in eswitch mode %s: allowed legacy (VF settings through the PF); run `devlink dev eswitch set pci/%s mode legacy` before its VFs are made (rule: %s)",
				  pc->io_index, sr_pf_cfg_label(pc), pf->pci, pf->driver, mode, pf->pci,
				  rules->source);
	return 0;
}

/* PF i has its asked count but fewer VFs (ctx->settle_vfs): wait for the
 * rest as after a write, then read it again. A wait that ends without them
 * is a warning: the reservations on the VFs still absent are marked
 * missing, the apply goes on. A wait that outlasts the apply's (the
 * daemon's async node) leaves the PF busy: its reservations wait. */
static int settle_pf(struct sr_apply *ap, const struct sr_apply_ctx *ctx, size_t i,
		     struct sr_err *err)
{
	const struct sr_node_ops *n = ctx->node;
	struct sr_pf *pf = &ap->run.pfs[i];
	struct sr_err e = { "" };
	size_t had = pf->n_vfs;
	int r;

	if (!ctx->settle_vfs || !n->wait_vfs || pf->numvfs != ap->cfg.pfs[i].vf_count ||
	    pf->n_vfs >= pf->numvfs)
		return 0;
	LOG(ctx, LOG_NOTICE, "PF %s: sriov_numvfs is %u but %zu VFs are there: waiting for the rest",
	    pf->pci, pf->numvfs, had);
	r = n->wait_vfs(n->ctx, pf->pci, pf->numvfs, &e);
	if (r == -EINPROGRESS)
		return 0; /* busy: sr_exec says so (pf_busy) */
	if (r) {
		ap->run.n_warnings++;
		LOG(ctx, LOG_WARNING, "PF %s: %s: the reservations on VFs not there are marked missing",
		    pf->pci, e.msg);
	}
	if ((r = sr_exec_read_pf(&ap->run, i, err)))
		return r;
	if (pf->n_vfs > had)
		LOG(ctx, LOG_INFO, "PF %s: %zu of its %u VFs there after the wait", pf->pci,
		    pf->n_vfs, pf->numvfs);
	return 0;
}

/* Read every PF of the config with its VFs and their settings: no writes. */
static int read_node(struct sr_apply *ap, const struct sr_apply_ctx *ctx, struct sr_err *err)
{
	const struct sr_node_ops *n = ctx->node;
	size_t np = ap->cfg.n_pfs ? ap->cfg.n_pfs : 1;
	int r;

	ap->run.pfs = calloc(np, sizeof(*ap->run.pfs));
	ap->run.ifindex = calloc(np, sizeof(*ap->run.ifindex));
	if (!ap->run.pfs || !ap->run.ifindex)
		return sr_err_set(err, -ENOMEM, "out of memory");
	for (size_t i = 0; i < ap->cfg.n_pfs; i++) {
		const struct sr_pf_cfg *pc = &ap->cfg.pfs[i];

		if ((r = n->find_pf(n->ctx, pc->ifname, pc->pci, &ap->run.pfs[i], err)))
			return sr_err_prefix(err, r, "deviceIoList[%u] (%s)", pc->io_index,
					     sr_pf_cfg_label(pc));
		strcpy(ap->run.pfs[i].label, sr_pf_cfg_label(pc));
		if ((r = check_pf(ap, i, err)) || (r = check_eswitch(ap, ctx, i, err)))
			return r;
		ap->run.ifindex[i] = sr_node_pf_ifindex(n, &ap->run.pfs[i]);
		if ((r = sr_exec_read_pf(&ap->run, i, err)) || (r = settle_pf(ap, ctx, i, err)))
			return r;
	}
	return 0;
}

static int check_passthrough(const struct sr_apply_ctx *ctx, struct sr_err *err)
{
	if (!ctx->bind_driver)
		return 0;
	return ctx->node->check_passthrough(ctx->node->ctx, ctx->bind_driver, err);
}

static void log_plan(const struct sr_apply_ctx *ctx, const struct sr_apply *ap)
{
	for (size_t i = 0; i < ap->cfg.n_pfs; i++) {
		const struct sr_driver_rules *rules = sr_driver_rules_of(ap->run.pfs[i].driver);

		if (rules)
			LOG(ctx, ctx->dry_run ? LOG_NOTICE : LOG_INFO, "plan: PF %s (%s) rule: %s (%s)",
			    sr_pf_cfg_label(&ap->cfg.pfs[i]), rules->driver, rules->what,
			    rules->source);
	}
	for (size_t i = 0; i < ap->plan.n; i++) {
		char line[256];

		sr_action_format(&ap->plan.actions[i], &ap->run.in, line, sizeof(line));
		LOG(ctx, ctx->dry_run ? LOG_NOTICE : LOG_INFO, "plan: %s%s",
		    ctx->dry_run ? "would " : "", line);
	}
}

/* The state in force: the caller's (borrowed) or its file's. */
static int load_old(struct sr_apply *ap, const struct sr_apply_ctx *ctx, struct sr_err *err)
{
	if (!ctx->old)
		return sr_state_load(ctx->state_dir, &ap->old, err);
	ap->old = *ctx->old;
	ap->old_borrowed = true;
	return 0;
}

static int prepare(struct sr_apply *ap, struct sr_apply_ctx *ctx, size_t len, struct sr_err *err)
{
	const struct sr_outputs *o = ctx->outputs;
	int r;

	ap->run = (struct sr_run){ .node = ctx->node, .state_dir = ctx->state_dir,
				   .log = ctx->log, .log_ctx = ctx->log_ctx,
				   .log_debug = ctx->log_debug, .old = &ap->old, .outputs = o,
				   .retry_later_ms = ctx->retry_later_ms };
	if ((r = load_old(ap, ctx, err)) ||
	    (r = sr_config_check_release(&ap->cfg, len, ap->old.n_res, err)) ||
	    (r = read_node(ap, ctx, err)) || (r = check_passthrough(ctx, err)))
		return r;
	if ((r = sr_reserve(&ap->cfg, ap->run.pfs, ap->old.res, ap->old.n_res, &ap->res,
			    &ap->n_res, err)))
		return r;
	ap->run.res = ap->res;
	ap->run.in = (struct sr_plan_input){
		.cfg = &ap->cfg, .pfs = ap->run.pfs, .old = ap->old.res, .n_old = ap->old.n_res,
		.res = ap->res, .n_res = ap->n_res, .configure = sr_node_has_netlink(ctx->node),
		.bind_driver = ctx->bind_driver,
		.domains = o && o->retire && o->write,
		.save_config = o && o->save_config,
	};
	return sr_plan_compute(&ap->run.in, &ap->plan, err);
}

/* Hand the new state's pieces to the caller. */
static void hand_over(struct sr_apply *ap, struct sr_state *st_out)
{
	sr_exec_state(&ap->run, ap->run.n_warnings ? "applied with warnings" : "applied", st_out);
	/* The file's time: the one this run saved (the clock may have
	 * ticked since), else that of the apply that wrote it. */
	st_out->applied_at = ap->run.state_saved ? ap->run.saved_at : ap->old.applied_at;
	ap->cfg.apps = NULL;
	ap->run.pfs = NULL;
	ap->res = NULL;
}

void sr_apply_free(struct sr_apply *ap)
{
	if (!ap)
		return;
	sr_plan_free(&ap->plan);
	for (size_t i = 0; ap->run.pfs && i < ap->cfg.n_pfs; i++)
		sr_pf_clear(&ap->run.pfs[i]);
	free(ap->run.pfs);
	free(ap->run.ifindex);
	sr_reservations_free(ap->res, ap->n_res);
	if (!ap->old_borrowed)
		sr_state_free(&ap->old);
	sr_config_free(&ap->cfg);
	free(ap);
}

static void counts_reset(struct sr_apply_ctx *ctx)
{
	ctx->sysfs_writes = ctx->netlink_writes = ctx->n_actions = ctx->n_warnings = 0;
	ctx->n_later = ctx->n_busy = 0;
	ctx->node_changed = false;
	ctx->executed = ctx->state_saved = false;
}

int sr_apply_prepare(struct sr_apply_ctx *ctx, struct sr_config *cfg, const uint8_t *buf,
		     size_t len, struct sr_apply **out, struct sr_err *err)
{
	struct sr_apply *ap = calloc(1, sizeof(*ap));
	int r;

	counts_reset(ctx);
	if (!ap) {
		sr_config_free(cfg);
		return sr_err_set(err, -ENOMEM, "out of memory");
	}
	ap->cfg = *cfg;
	memset(cfg, 0, sizeof(*cfg));
	ap->buf = buf;
	ap->len = len;
	r = prepare(ap, ctx, len, err);
	ctx->n_warnings = ap->run.n_warnings;
	if (r) {
		sr_apply_free(ap);
		return r;
	}
	ctx->n_actions = ap->plan.n_changes;
	*out = ap;
	return 0;
}

const struct sr_plan *sr_apply_plan(const struct sr_apply *ap)
{
	return &ap->plan;
}

const struct sr_plan_input *sr_apply_plan_input(const struct sr_apply *ap)
{
	return &ap->run.in;
}

int sr_apply_exec(struct sr_apply_ctx *ctx, struct sr_apply *ap, struct sr_state *st_out,
		  struct sr_err *err)
{
	int r;

	log_plan(ctx, ap);
	ap->run.cfg_bytes = ap->buf;
	ap->run.cfg_len = ap->len;
	if (ctx->dry_run) {
		sr_exec_map_present(&ap->run);
		r = sr_exec_dry(&ap->run, &ap->plan, err);
		ctx->n_warnings = ap->run.n_warnings;
		if (!r && st_out)
			hand_over(ap, st_out);
		return r;
	}
	ctx->executed = true;
	r = sr_exec(&ap->run, &ap->plan, err);
	/* What a failure leaves: "rejected" only when nothing was touched
	 * (a retirement of domain configs that failed before removing a file
	 * changed nothing). */
	ctx->node_changed = ap->run.began_changes || ap->run.writes.sysfs_writes ||
			    ap->run.writes.netlink_writes || ap->run.state_saved ||
			    ap->run.outputs_begun;
	ctx->sysfs_writes = ap->run.writes.sysfs_writes;
	ctx->netlink_writes = ap->run.writes.netlink_writes;
	ctx->n_warnings = ap->run.n_warnings;
	ctx->n_later = ap->run.n_later;
	ctx->n_busy = ap->run.n_busy;
	ctx->state_saved = ap->run.state_saved;
	if (!r && st_out)
		hand_over(ap, st_out);
	return r;
}

int sr_apply(struct sr_apply_ctx *ctx, const uint8_t *buf, size_t len, struct sr_state *st_out,
	     struct sr_err *err)
{
	struct sr_config cfg;
	struct sr_apply *ap;
	int r;

	counts_reset(ctx);
	if ((r = sr_config_decode(buf, len, &cfg, err)) ||
	    (r = sr_apply_prepare(ctx, &cfg, buf, len, &ap, err)))
		return r;
	r = sr_apply_exec(ctx, ap, st_out, err);
	sr_apply_free(ap);
	return r;
}
