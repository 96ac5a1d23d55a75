/* SPDX-License-Identifier: MIT */
/*
 * Apply a config: decode + validate -> read the node -> reserve -> plan ->
 * execute (plan.h, exec.h). Nothing is written to the kernel before the
 * whole config has been validated against the node, and the plan is
 * computed before the first write, so bad input changes nothing and an
 * unchanged config changes nothing.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "exec.h"
#include "model.h"
#include "node.h"
#include "plan.h"
#include "state.h"

struct sr_apply_ctx {
	const struct sr_node_ops *node; /* the kernel; without netlink ops VF
					 * settings are reserved, not written */
	const char *state_dir;
	const char *bind_driver;     /* NULL: no passthrough binding */
	bool dry_run;                /* compute and log the plan; write nothing */
	/* The process's first look at the node (a start, maybe after a kill
	 * between a sriov_numvfs write and its VFs): a PF whose count is the
	 * one asked but whose VFs are not all there yet is waited for
	 * (node->wait_vfs, the bound of a write) before the reservations are
	 * judged; VFs still absent then are marked missing. Later applies do
	 * not wait: a VF that vanished is missing at once. */
	bool settle_vfs;
	sr_log_fn log;               /* may be NULL */
	void *log_ctx;
	bool log_debug;              /* log takes LOG_DEBUG: sr_exec formats
				      * its "exec: <action>" lines only then */
	unsigned retry_later_ms;     /* 0: SR_RETRY_LATER_MS (exec.h) */
	/* May be NULL: no domain configs, no config saved. Its retire and
	 * write (both or neither) and save_config, each may be NULL, become
	 * the plan's RETIRE_DOMAINS, WRITE_DOMAINS and SAVE_CONFIG actions
	 * (exec.h). */
	const struct sr_outputs *outputs;
	/* May be NULL: the state in force, from the caller's memory (the
	 * daemon's model, as its file was loaded or saved); then state_dir
	 * is not read. The apply changes it (a release records
	 * its outcome there): afterwards the caller replaces it with st_out,
	 * or, after a failure, reads the file again (an apply that failed may
	 * have saved its intent). NULL: loaded from state_dir. */
	struct sr_state *old;
	/* out: */
	bool executed;               /* the plan began to run (old may have
				      * changed, the node too) */
	bool state_saved;            /* the state file was written; when not,
				      * st_out encodes as the state in force */
	size_t sysfs_writes;         /* kernel writes performed */
	size_t netlink_writes;
	size_t n_actions;            /* actions that change the node */
	size_t n_warnings;           /* attributes refused, VFs missing, ... */
	size_t n_later;              /* VFs whose driver still answered "later"
				      * (EAGAIN, EBUSY) after the retries: worth
				      * another apply soon */
	/* The plan ran (its first kernel write may have been made): a
	 * failure now is "failed after changing the node", never "rejected".
	 * Every check that can refuse a config comes before. */
	bool node_changed;
	size_t n_busy;               /* PFs left busy: a sriov_numvfs write went on
				      * past the wait (node_async.h); applied
				      * again when it ends */
};

/* An apply in two phases. sr_apply_prepare does everything that can refuse
 * a config, with no write: load the state in force, check the config
 * against the node it reads, reserve, plan. It takes cfg (decoded and
 * checked by the caller; *cfg is zeroed) and keeps buf (the config's bytes,
 * for SAVE_CONFIG) until sr_apply_free. The plan can then be inspected;
 * sr_apply_exec runs it (a dry run: logs it and runs only the outputs'
 * dry-run forms). A failure of exec after its first change to the node
 * (ctx->node_changed) is "failed after changing the node", never
 * "rejected". Both fill ctx's out fields. */
struct sr_apply;
int sr_apply_prepare(struct sr_apply_ctx *ctx, struct sr_config *cfg, const uint8_t *buf,
		     size_t len, struct sr_apply **out, struct sr_err *err);
const struct sr_plan *sr_apply_plan(const struct sr_apply *ap);
const struct sr_plan_input *sr_apply_plan_input(const struct sr_apply *ap);
int sr_apply_exec(struct sr_apply_ctx *ctx, struct sr_apply *ap, struct sr_state *st_out,
		  struct sr_err *err);
void sr_apply_free(struct sr_apply *ap);

/* Decode, prepare, exec, free. On success the new state is saved (unless nothing
 * changed) and, if st_out is non-NULL, handed to the caller; a dry run
 * hands over the state it would make (reservations as planned: VFs that
 * the plan creates have no PCI address yet). A dry run logs
 * every action of the plan at LOG_NOTICE as "plan: would <action>"; a real
 * run logs the plan at LOG_INFO ("plan: <action>") and each action again as
 * it runs at LOG_DEBUG ("exec: <action>"). */
int sr_apply(struct sr_apply_ctx *ctx, const uint8_t *cfg, size_t len, struct sr_state *st_out,
	     struct sr_err *err);
