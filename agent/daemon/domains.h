/* SPDX-License-Identifier: MIT */
/*
 * Domain configs of an apply: written to the domain dir from the state.
 */
#pragma once

#include "err.h"
#include "hypervisor.h"
#include "state.h"

#define DOMAINS_MANIFEST_FILE "domains.manifest"   /* in the state dir */

/* Default file name of an app's domain config: <uuid>.<kvm|xen>.cfg */
void domain_file_name(const char *uuid, enum sr_hypervisor hv, char *buf, size_t cap);

/* What domains_write and domains_retire do: DOMAINS_WRITE changes the
 * domain dir; DOMAINS_DRY_RUN only logs "plan: would ..." lines (NOTICE)
 * for each file it would write or remove, and changes nothing. */
enum domains_mode { DOMAINS_WRITE, DOMAINS_DRY_RUN };

/* Write one domain config per app holding VFs into dir (created if needed),
 * atomically. Apps whose VF has an error get no config and a warning
 * (counted in *warnings). Files are recorded in STATE-DIR/domains.manifest;
 * only files named there and not written now are removed (an app that holds
 * no VF any more, or whose VF is in error): nothing else in dir is touched. */
int domains_write(const char *dir, const char *state_dir, enum sr_hypervisor hv,
		  const struct sr_state *st, enum domains_mode mode, unsigned *warnings,
		  struct sr_err *err);

/* Before an apply's first kernel write: remove (manifest-listed) domain
 * configs of apps whose VFs are not all kept (same VF, same adapter) in
 * res, so that no domain config ever names a VF held by another app, even
 * when the apply is killed before domains_write. */
int domains_retire(const char *dir, const char *state_dir, enum sr_hypervisor hv,
		   const struct sr_reservation *old, size_t n_old,
		   const struct sr_reservation *res, size_t n_res, enum domains_mode mode,
		   bool *changed, struct sr_err *err);
