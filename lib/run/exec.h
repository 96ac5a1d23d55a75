/* SPDX-License-Identifier: MIT */
/*
 * Running a plan: one table of phases, one runner per action type, in the
 * order the plan lists them. Every kernel access goes through the node ops;
 * the kernel writes of a run are counted from the node's counters.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "node.h"
#include "plan.h"
#include "set.h"
#include "state.h"

/* A PF of released reservations, read once per run (not once per VF). */
struct sr_old_pf {
	bool found;                     /* find_pf succeeded: pf is valid */
	bool vfs_read;                  /* pf.vfs read (first bound VF) */
	int ifindex;
	struct sr_pf pf;
};

/* Everything a run reads and changes. The caller fills the inputs; pfs,
 * ifindex and res are changed in place (VF tables, kernel view, outcomes). */
/* The apply's files beyond state.pb, which the caller writes (the agent:
 * its domain configs and the config in force). The plan's RETIRE_DOMAINS,
 * WRITE_DOMAINS and SAVE_CONFIG actions call them in plan order, each
 * followed by its step point, so --dry-run lists them and a fault point
 * can stop the apply after each. dry_run: log what would be done, change
 * nothing. Each returns 0 or -errno with err set. */
struct sr_outputs {
	/* Remove the domain configs of apps whose VFs are not all kept
	 * (same VF, same adapter) from old to res. *changed: a file was
	 * removed (also when it then fails: the failure is then "failed after
	 * changing the node", never "rejected"). */
	int (*retire)(void *ctx, const struct sr_reservation *old, size_t n_old,
		      const struct sr_reservation *res, size_t n_res, bool dry_run,
		      bool *changed, struct sr_err *err);
	/* Write the domain configs of st; *warnings counts apps given none. */
	int (*write)(void *ctx, const struct sr_state *st, bool dry_run, unsigned *warnings,
		     struct sr_err *err);
	/* buf is now the config in force. */
	int (*save_config)(void *ctx, const uint8_t *buf, size_t len, bool dry_run,
			   struct sr_err *err);
	void *ctx;
};

struct sr_run {
	const struct sr_node_ops *node;
	const char *state_dir;
	sr_log_fn log;                  /* may be NULL */
	void *log_ctx;
	bool log_debug;                 /* as sr_apply_ctx.log_debug */
	struct sr_plan_input in;        /* in.pfs and in.res alias pfs and res */
	struct sr_pf *pfs;              /* parallel to in.cfg->pfs */
	int *ifindex;                   /* parallel to pfs; 0: no netdev */
	struct sr_reservation *res;
	struct sr_state *old;           /* the saved state (releases update it) */
	struct sr_old_pf *old_pfs;      /* sr_exec's own, freed when it returns */
	size_t n_old_pfs, cap_old_pfs;
	struct sr_set old_pf_index;     /* PCI address -> old_pfs index */
	struct sr_exec_own *own;        /* sr_exec's own: per PF link checked, bind failures */
	const struct sr_outputs *outputs; /* for the plan's domain and config actions */
	const uint8_t *cfg_bytes;       /* the config, for SAVE_CONFIG */
	size_t cfg_len;
	bool dry_run;                   /* sr_exec_dry: only the outputs, saying what they would do */
	unsigned retry_later_ms;        /* 0: SR_RETRY_LATER_MS */
	/* out: */
	size_t n_warnings;              /* attributes refused, VFs missing, ... */
	size_t n_later;                 /* VFs whose driver still answered "later"
					 * (EAGAIN, EBUSY) after retry_later_ms */
	size_t n_busy;                  /* PFs left with a kernel write outstanding */
	struct sr_node_counts writes;   /* kernel writes of this run */
	size_t n_changes;               /* sr_exec's: the plan's node changes */
	bool state_saved;               /* the state file was written */
	bool intent_saved;              /* sr_exec's: the intent is on disk */
	bool began_changes;             /* an action that changes the node has begun */
	bool outputs_begun;             /* domain configs or the config are being written */
	int64_t saved_at;               /* the applied_at it was written with */
};

/* How long VF settings answered "later" (EAGAIN, EBUSY: a VF still being
 * made or in reset) are tried again, per apply: i40e's VF reset takes
 * ~200 ms (i40e_ndo_set_vf_mac waits 300 ms), ice's up to ~800 ms
 * (ice_wait_on_vf_reset). */
#define SR_RETRY_LATER_MS 1000

/* Run every action of plan in order. Stops at the first fatal error
 * (a VF count that cannot be set, a state that cannot be saved). */
int sr_exec(struct sr_run *run, const struct sr_plan *plan, struct sr_err *err);

/* A dry run: only the plan's domain and config actions run, in their
 * dry-run form (they say what they would do), on the state the apply
 * would make (sr_exec_map_present first). */
int sr_exec_dry(struct sr_run *run, const struct sr_plan *plan, struct sr_err *err);

/* Read PF i's VFs (sysfs) and their kernel settings (netlink) into
 * run->pfs[i]. A netlink read failure is a warning, but for a kernel that
 * could not answer (no answer within the deadline, the answer dropped or
 * not built twice, too large): then -errno, err naming the PF (PCI address,
 * netdev, ifindex, VF count). */
int sr_exec_read_pf(struct sr_run *run, size_t i, struct sr_err *err);

/* A dry run's view of MAP_VFS: each reservation whose VF is on the node
 * now gets its PCI address; nothing is marked missing. */
void sr_exec_map_present(struct sr_run *run);

/* The state a run leaves: points into run and cfg (not owned). */
void sr_exec_state(const struct sr_run *run, const char *result, struct sr_state *st);
