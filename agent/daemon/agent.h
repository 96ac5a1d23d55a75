/* SPDX-License-Identifier: MIT */
/* Shared between the agent's commands (apply, run): agent.c, run.c. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "control.h"
#include "err.h"
#include "hypervisor.h"
#include "netlink.h"
#include "node.h"
#include "state_model.h"
#include "sysfs.h"

/* run: a config being applied, and how many starts tried it */
#define AGENT_PENDING_FILE "config.pending.pb"
#define AGENT_PENDING_TRIES_FILE "config.pending.tries"

struct agent_opts {
	const char *config;
	const char *sysfs_root;
	const char *state_dir;
	const char *domain_dir;
	char domain_dir_buf[PATH_MAX];
	const char *socket;
	const char *info_file;   /* run: ZiDevice ZInfoMsg rewritten on change */
	unsigned long interval;
	unsigned long numvfs_timeout; /* s: a sriov_numvfs change (write + VFs) */
	unsigned long bind_timeout;   /* s: a VF's driver bind or unbind */
	enum sr_hypervisor hv;
	bool passthrough;       /* bind VFs + write domain configs (--hypervisor != none) */
	bool no_netlink;
	bool dry_run;
	bool kernel_events;     /* run: the event monitor on with --sysfs-root too */
};

struct agent_env {
	struct sr_sysfs sysfs;
	struct sr_nl nl;
	struct sr_node_ops node;      /* every kernel access of an apply */
	struct sr_node_real real;
	size_t last_sysfs_writes;
	size_t last_netlink_writes;
	size_t last_apps_failed;  /* apps of the last apply left without a VF */
	size_t last_later;        /* VFs whose driver still answered "later" */
	/* The last apply failed after its first change to the node (kernel
	 * or domain configs): "failed after changing the node", not
	 * "rejected". */
	bool last_node_changed;
	/* An apply has read the node: later ones do not wait for VFs still
	 * appearing (sr_apply_ctx.settle_vfs). */
	bool vfs_settled;
	/* May be NULL: given the config an apply decodes (AGENT_APPLY_WATCH),
	 * before the agent's own checks; the config is freed when the apply
	 * returns (run.c takes the PFs to watch from it). */
	void (*decoded)(void *arg, const struct sr_config *c);
	void *decoded_arg;
	/* May be NULL (apply: sr_apply reads the file). The daemon's model of
	 * the state file: each apply starts from it and leaves its result
	 * there. */
	struct state_model *model;
	/* With model: the config in force (the daemon's copy), NULL: none. */
	const uint8_t *in_force;
	size_t in_force_len;
};

/* Opens netlink (unless --no-netlink), the node and the SR_FAULT hook. */
int agent_env_open(const struct agent_opts *o, struct agent_env *env, struct sr_err *err);
void agent_env_close(const struct agent_opts *o, struct agent_env *env);

/* Exit status of `sriovctl push` and `sriov-agent apply` when the config
 * was applied but some app could not be given its VF (VF missing, bind
 * refused, no IOMMU group: no domain config for it). */
#define AGENT_EXIT_APP_ERRORS 3

/* Validate + apply config bytes, then write domain configs. 0 also when
 * some apps got no VF: env->last_apps_failed counts them. On failure
 * env->last_node_changed says whether it came after the first change
 * (AGENT_FAILED_AFTER_CHANGE) or before it (rejected: nothing changed). */
#define AGENT_FAILED_AFTER_CHANGE "failed after changing the node"
/* flags: AGENT_APPLY_NEW_CONFIG, a config being taken: once applied it is
 * saved as the config in force (the plan's last action); without, the
 * config in force again (a reconcile). AGENT_APPLY_WATCH: env->decoded is
 * given the decoded config. */
#define AGENT_APPLY_NEW_CONFIG 1u
#define AGENT_APPLY_WATCH 2u
int agent_apply_bytes(const struct agent_opts *o, struct agent_env *env, const uint8_t *buf,
		      size_t len, unsigned flags, struct sr_err *err);

/* Before sr_apply's first kernel write, on the config it decoded (len: its
 * size in bytes): every limit a later stage applies (domain emitter,
 * passthrough driver, room in the state and domain dirs; not for the
 * config in force (in_force): a repair writes a file only when a record
 * changes, and a full /persist must not stop it). 0 or -errno with
 * a message. precheck.c */
int agent_precheck(const struct agent_opts *o, const struct sr_sysfs *sysfs,
		   const struct sr_config *c, size_t len, bool in_force, struct sr_err *err);

/* Take the state dir's lock (the loser logs the holder's pid) and remove
 * temp files interrupted writes left in the state and domain dirs.
 * 0 and *fd, or -1 after logging why. */
int agent_lock_state(const struct agent_opts *o, int *fd);

/* After a failed state load (r): when the file was refused, append to err
 * what to do (the recover command for these options). */
void agent_state_hint(const struct agent_opts *o, int r, struct sr_err *err);

/* sriov-agent recover (recover.c): a new state.pb from the node's domain
 * configs and VF tables. Returns the process exit code. */
int agent_recover(const struct agent_opts *o);

/* The long-running daemon (run.c). Returns the process exit code. */
int agent_run(const struct agent_opts *o);
