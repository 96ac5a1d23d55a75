/* SPDX-License-Identifier: MIT */
/* sriovctl: shared context and the per-VF printer. */
#pragma once

#include <stdbool.h>

#include "hypervisor.h"
#include "model.h"
#include "state.h"

enum { CTL_OK = 0, CTL_NOT_FOUND = 1, CTL_USAGE = 2 };

struct ctl {
	const char *state_dir;
	const char *sysfs_root;
	const char *socket;
	bool json;
	enum sr_hypervisor hv;
	const char *app;        /* info --app */
	const char *format;     /* info --format */
	bool from_agent;        /* info --from-agent */
	struct sr_state st;
	const struct sr_app **apps_by_uuid; /* st's apps, sorted */
	bool live;              /* kernel view refreshed through netlink */
};

/* An error for the user: "sriovctl: MSG" on stderr; with --json, main
 * also prints {"error": MSG, "exit": N} on stdout when the command printed
 * nothing. */
void ctl_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Load the state file (a missing one is empty; a missing state dir is an
 * error: nothing was ever applied there). 0 or prints and returns 1. */
int ctl_load_state(struct ctl *c);

/* Refresh the kernel's VF view of every PF in the state via netlink, when
 * the sysfs root is the real one. Silent when it cannot. */
void ctl_refresh_kernel(struct ctl *c);

/* Print one VF (with its reservation, if any) as a JSON object / table row. */
void ctl_print_vf(const struct ctl *c, const struct sr_pf *pf, const struct sr_vf *vf,
		  const struct sr_reservation *res, const struct sr_vf_settings *kernel);
void ctl_print_vf_header(void);

/* The loaded state's app with that UUID, or NULL. */
const struct sr_app *ctl_find_app(const struct ctl *c, const char *uuid);

/* Load the state and find the app: CTL_OK, or prints why and returns
 * CTL_NOT_FOUND / 1. */
int ctl_load_app(struct ctl *c, const char *uuid, const struct sr_app **app);

/* uuid is a UUID, else prints why: CTL_OK or CTL_USAGE. */
int ctl_check_uuid(const char *cmd, const char *uuid);

int ctl_pfs(struct ctl *c, int argc, char **argv);
int ctl_list(struct ctl *c, int argc, char **argv);
int ctl_show(struct ctl *c, int argc, char **argv);
int ctl_domain(struct ctl *c, int argc, char **argv);
int ctl_status(struct ctl *c, int argc, char **argv);
int ctl_push(struct ctl *c, int argc, char **argv);
int ctl_info(struct ctl *c, int argc, char **argv);
