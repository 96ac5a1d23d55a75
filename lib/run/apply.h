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
	/* May be NULL. Called as soon as the config decodes, before the
	 * state and the node are read (also in a dry run): the agent checks
	 * its own limits against the decoded config, so one decode serves
	 * both. A non-zero return stops the apply, nothing changed. */
	int (*after_decode)(void *arg, const struct sr_config *cfg, size_t len, struct sr_err *err);
	void *after_decode_arg;
	/* May be NULL. Called once the plan is made, before its first kernel
	 * write, with the reservations before and after: the agent retires
	 * domain configs that would name a VF about to go to another app. A
	 * non-zero return stops the apply, nothing changed. Also called in a
	 * dry run, where it must change nothing (it says what it would do). */
	int (*before_exec)(void *arg, const struct sr_reservation *old, size_t n_old,
			   const struct sr_reservation *res, size_t n_res, struct sr_err *err);
	void *before_exec_arg;
	/* May be NULL: the state in force, from the caller's memory (the
	 * daemon's model), with its file's bytes (old_bytes NULL: no file);
	 * then state_dir is not read. The apply changes it (a release records
	 * its outcome there): afterwards the caller replaces it with st_out,
	 * or, after a failure, reads the file again (an apply that failed may
	 * have saved its intent). NULL: loaded from state_dir. */
	struct sr_state *old;
	const uint8_t *old_bytes;
	size_t old_len;
	/* out: */
	bool executed;               /* the plan began to run (old may have
				      * changed, the node too) */
	bool state_saved;            /* the state file was written; when not,
				      * st_out encodes to its bytes as they were */
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

/* Apply config bytes. On success the new state is saved (unless nothing
 * changed) and, if st_out is non-NULL, handed to the caller; a dry run
 * hands over the state it would make (reservations as planned: VFs that
 * the plan creates have no PCI address yet). A dry run logs
 * every action of the plan at LOG_NOTICE as "plan: would <action>"; a real
 * run logs the plan at LOG_INFO ("plan: <action>") and each action again as
 * it runs at LOG_DEBUG ("exec: <action>"). */
int sr_apply(struct sr_apply_ctx *ctx, const uint8_t *cfg, size_t len, struct sr_state *st_out,
	     struct sr_err *err);
