/* SPDX-License-Identifier: MIT */
/*
 * Recovery of the reservations from the node, for a state file that was
 * refused or lost. Pure: from the config in force, the node's PFs (with
 * their VF tables) and what the domain configs the agent wrote name (one
 * claim per file: an app and its VFs by adapter position), the
 * reservations of the app adapters whose VF is known. Given to sr_reserve
 * as the previous reservations, they keep every such adapter on the VF its
 * running guest holds; the others get a free VF after them.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "model.h"

#define SR_RECOVER_WHY_LEN 1024

/* What one domain config names. A file named as the agent names them that
 * could not be used (not in the emitter's layout, a symlink, ...) is a
 * claim too, with refused set and no VF: its app's adapters say why. */
struct sr_recover_claim {
	const char *source;                 /* the file, for messages */
	char app_uuid[SR_UUID_LEN];
	const char (*vf_pci)[SR_PCI_LEN];   /* by adapter position */
	size_t n_vf;
	const char *refused;                /* NULL, or why the file was not used */
};

enum sr_recover_how {
	SR_RECOVER_HELD,     /* a domain config names its VF: it keeps it */
	SR_RECOVER_NAMED,    /* the config names its VF (<pf>vf<N>) */
	SR_RECOVER_UNKNOWN,  /* not determined: a free VF, after the others */
};

struct sr_recover_adapter {
	enum sr_recover_how how;
	uint32_t vf_index;                  /* HELD */
	size_t claim;                       /* HELD: the claim that names it */
	char why[SR_RECOVER_WHY_LEN];       /* UNKNOWN: why; HELD: a note or "" */
};

/* A VF on a passthrough driver (a guest may hold it) that recovery cannot
 * say whose it is: given out, it could land in another app's domain config
 * while a guest holds it. */
struct sr_recover_conflict {
	size_t pf;                            /* index in cfg->pfs */
	uint32_t vf_index;
	char vf_pci[SR_PCI_LEN];
	char driver[SR_DRIVER_LEN];
	char why[SR_RECOVER_WHY_LEN];         /* who names it, and why it is kept for none */
};

struct sr_recovery {
	struct sr_recover_adapter *adapters;  /* one per cfg->adapters[i] */
	struct sr_reservation *held;          /* the reservations rebuilt */
	size_t n_held;
	char (*notes)[SR_RECOVER_WHY_LEN];    /* what was read and not used */
	size_t n_notes;
	struct sr_recover_conflict *conflicts;
	size_t n_conflicts;
};

/* pfs[i] is the node's PF for cfg->pfs[i] with its VFs (pci, driver).
 * guest_drivers: the drivers a VF passed to a guest is on, NULL-terminated,
 * the first the one this hypervisor binds (a held VF on another driver gets
 * a note: it is bound again). A VF named by two claims (or twice by one),
 * not a VF of the adapter's PF, beyond the PF's VF count, or named by the
 * config for another adapter, is kept for no one: its adapters are UNKNOWN
 * with the reason. Every VF on a guest driver that is neither kept nor the
 * VF the config names for an app that no other claim disputes is a
 * conflict: its guest is not known, and the caller must not give it out
 * (sriov-agent recover refuses). 0, or -ENOMEM. */
int sr_recover(const struct sr_config *cfg, const struct sr_pf *pfs,
	       const struct sr_recover_claim *claims, size_t n_claims,
	       const char *const *guest_drivers, struct sr_recovery *out, struct sr_err *err);
void sr_recovery_free(struct sr_recovery *rc);
