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

#define SR_RECOVER_WHY_LEN 256

/* What one domain config names. */
struct sr_recover_claim {
	const char *source;                 /* the file, for messages */
	char app_uuid[SR_UUID_LEN];
	const char (*vf_pci)[SR_PCI_LEN];   /* by adapter position */
	size_t n_vf;
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

struct sr_recovery {
	struct sr_recover_adapter *adapters;  /* one per cfg->adapters[i] */
	struct sr_reservation *held;          /* the reservations rebuilt */
	size_t n_held;
	char (*notes)[SR_RECOVER_WHY_LEN];    /* what was read and not used */
	size_t n_notes;
};

/* pfs[i] is the node's PF for cfg->pfs[i] with its VFs (pci, driver).
 * bind_driver: the passthrough driver (a held VF on another driver gets a
 * note; a VF on it that no claim names too). A VF named by two claims (or
 * twice by one), not a VF of the adapter's PF, beyond the PF's VF count, or
 * named by the config for another adapter, is kept for no one: its
 * adapters are UNKNOWN with the reason. 0, or -ENOMEM. */
int sr_recover(const struct sr_config *cfg, const struct sr_pf *pfs,
	       const struct sr_recover_claim *claims, size_t n_claims, const char *bind_driver,
	       struct sr_recovery *out, struct sr_err *err);
void sr_recovery_free(struct sr_recovery *rc);
