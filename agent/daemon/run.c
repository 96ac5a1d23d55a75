/* SPDX-License-Identifier: MIT */
/*
 * sriov-agent run: the long-running agent. One poll() loop over the control
 * socket, a signalfd (TERM/INT: stop, HUP: reload --config), the --config
 * watch (cfgwatch.h) and a timerfd for the periodic reconcile.
 * Two more descriptors carry kernel events (events.c): link notifications
 * and uevents about the managed PFs and VFs schedule a debounced
 * reconcile, so drift is repaired at once and the timer is a long safety
 * net. Single-threaded: a signal or a client that arrives during an apply
 * waits until the apply (and its state write) is finished.
 *
 * Config durability: a config being applied is first written to
 * STATE-DIR/config.pending.pb; once accepted it replaces STATE-DIR/config.pb
 * and the pending copy is removed; a rejected one is removed. After a crash
 * the next start finishes the pending config, else reconciles config.pb,
 * before it answers any client.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "agent_info.h"
#include "clients.h"
#include "control.h"
#include "cfgwatch.h"
#include "events.h"
#include "busy.h"
#include "files.h"
#include "fsafe.h"
#include "log.h"
#include "notify.h"
#include "pfdown.h"
#include "state.h"

#define PENDING_FILE AGENT_PENDING_FILE
#define PENDING_TRIES_FILE AGENT_PENDING_TRIES_FILE
#define FAILED_FILE "config.failed.pb"
#define PENDING_MAX_STARTS 3
#define RESULT_MAX (SR_ERR_MAX + 128)
#define LATER_RETRY_S 5   /* a VF whose driver said "later": the next try */

struct daemon {
	const struct agent_opts *o;
	struct agent_env env;
	int lfd, sfd, tfd;
	int bfd;                       /* a slow sriov_numvfs write ended (busy.h) */
	int lock;                      /* the state dir's lock, held while running */
	struct control_clients clients;
	struct agent_events ev;
	struct cfg_watch cw;           /* --config's (cfgwatch.h) */
	uint8_t *cfg;                  /* last accepted config (owned) */
	size_t cfg_len;
	/* --config was refused because a PF it names is not on the node
	 * (-ENODEV: its driver may not be loaded yet at boot): the timer
	 * tries the file again until it applies or changes its reason. */
	bool retry_file;
	bool stop;
	bool env_open;
	bool later_armed;              /* the timer fires early once for "later" */
	/* health, for sriovctl status */
	int64_t started_at;
	const char *cfg_source;        /* "startup", "push", "file", "none" */
	char cfg_result[RESULT_MAX];
	struct control_outcome outcome; /* of the last apply or config taken */
	int64_t cfg_at;
	char rec_result[RESULT_MAX];
	int64_t rec_at;
	size_t n_res, n_res_err;
	unsigned long n_applies;
	/* STATE-DIR/state.pb, read once at start (state_model.h) */
	struct state_model model;
	/* --info-file: content of the last message written (no timestamp) */
	uint8_t *info_last;
	size_t info_last_len;
	struct pf_down_set down;       /* managed PFs down now (pfdown.h) */
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static int64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* Count reservations (and those in error) from the saved state; one line
 * naming the first reservation in error goes to note. */
static void count_reservations(struct daemon *d, char *note, size_t cap)
{
	const struct sr_state *st = &d->model.st;
	struct sr_err e = { "" };

	note[0] = '\0';
	if (state_model_get(&d->model, d->o->state_dir, &e)) {
		log_warn("%s", e.msg);
		return;
	}
	d->n_res = st->n_res;
	d->n_res_err = 0;
	for (size_t i = 0; i < st->n_res; i++) {
		if (!st->res[i].error)
			continue;
		if (!d->n_res_err++)
			snprintf(note, cap, "; PF %s VF %u app %s: %s", st->res[i].pf_pci,
				 st->res[i].vf_index, st->res[i].app_uuid, st->res[i].error);
	}
}

/* The events' watch set from the state in force (and the config's PFs). */
static void rewatch(struct daemon *d)
{
	struct sr_err e = { "" };

	if (state_model_get(&d->model, d->o->state_dir, &e))
		return;
	events_rewatch(&d->ev, &d->model.st);
}

/* Which managed PFs are down, after every apply (pfdown.h): told once
 * per change, shown by status. */
static void check_pf_links(struct daemon *d)
{
	struct sr_err e = { "" };

	if (state_model_get(&d->model, d->o->state_dir, &e))
		return;
	pf_down_update(&d->down, &d->env.sysfs, &d->model.st, d->o->interval);
}

/* A PF that vanished (hot-unplug) or lost its driver makes sr_apply fail before
 * it reserves anything: mark the reservations on it in error so that
 * `sriovctl list` shows it, keep everything else as it was. */
static void mark_missing_pfs(struct daemon *d)
{
	struct sr_state *st = &d->model.st;
	struct sr_err e = { "" };
	bool changed = false;

	if (state_model_get(&d->model, d->o->state_dir, &e))
		return;
	for (size_t i = 0; i < st->n_res; i++) {
		struct sr_reservation *res = &st->res[i];
		struct sr_pf pf = { 0 };
		int r = d->env.node.find_pf(d->env.node.ctx, NULL, res->pf_pci, &pf, &e);
		/* Without a driver the PF cannot make the reserved VF again. */
		const char *why = r == -ENODEV ? "is missing"
				  : !r && !pf.driver[0] && res->vf_index >= pf.numvfs
					  ? "has no driver bound"
					  : NULL;

		sr_pf_clear(&pf);
		if (!why || res->error)
			continue;
		sr_reservation_set_error(res, "PF %s %s", res->pf_pci, why);
		log_warn("PF %s VF %u app %s: PF %s", res->pf_pci, res->vf_index, res->app_uuid,
			 why);
		changed = true;
	}
	if (changed && state_model_save(&d->model, d->o->state_dir, &e))
		log_err("%s", e.msg);
}

/* --info-file: rewrite it when the device's info changed. */
static void update_info_file(struct daemon *d)
{
	struct sr_err err = { "" };
	int r;

	if (!d->o->info_file)
		return;
	if ((r = state_model_get(&d->model, d->o->state_dir, &err)) == 0)
		r = agent_info_file_update(d->o->info_file, d->o->state_dir, &d->model.st, d->cfg,
					   d->cfg_len, &d->info_last, &d->info_last_len, &err);
	if (r < 0)
		log_warn("--info-file %s: %s", d->o->info_file, err.msg);
	else if (r > 0)
		log_debug("--info-file %s: rewritten", d->o->info_file);
}

/* Kernel writes made through the node so far. */
static size_t node_writes(struct daemon *d)
{
	struct sr_node_counts c = { 0 };

	d->env.node.counts(d->env.node.ctx, &c);
	return c.sysfs_writes + c.netlink_writes;
}

/* What an apply is for. */
enum apply_kind {
	APPLY_NEW,       /* a config being taken: its PFs watched, saved once applied */
	APPLY_STARTUP,   /* the config in force at start: its PFs watched */
	APPLY_RECONCILE, /* the config in force again (timer, events, a write's end) */
	APPLY_VERIFY,    /* an event-driven reconcile that verifies the agent's echoes */
};

/* agent_apply_bytes, with the kernel events that its own writes cause
 * judged after it (events_after_apply). *writes: kernel writes it made. A
 * reconcile reads the node even when it fails. */
static int apply_judged(struct daemon *d, const uint8_t *buf, size_t len, enum apply_kind kind,
			size_t *writes, struct sr_err *err)
{
	unsigned flags = kind == APPLY_NEW ? AGENT_APPLY_NEW_CONFIG | AGENT_APPLY_WATCH
			 : kind == APPLY_STARTUP ? AGENT_APPLY_WATCH
			 : 0;
	struct sr_debounce saved;
	size_t before = node_writes(d);
	int r;

	events_before_apply(&d->ev, &saved);
	d->env.in_force = d->cfg;
	d->env.in_force_len = d->cfg_len;
	r = agent_apply_bytes(d->o, &d->env, buf, len, flags, err);
	*writes = node_writes(d) - before;
	check_pf_links(d);
	/* The echoes name the VFs this apply made: watch them first. */
	if (events_on(&d->ev))
		rewatch(d);
	events_after_apply(&d->ev, &saved,
			   &(struct events_applied){ .touched_node = kind != APPLY_NEW || !r || *writes,
						     .writes = *writes,
						     .was_verify = kind == APPLY_VERIFY });
	return r;
}

/* agent_env's decoded hook (AGENT_APPLY_WATCH): the PFs of a config being
 * taken, or of the one in force at start, are watched from the decode its
 * apply makes (the only one). */
static void config_decoded(void *arg, const struct sr_config *c)
{
	struct daemon *d = arg;

	events_set_config(&d->ev, c);
}

/* A driver still answered "later" (EAGAIN, EBUSY) to some VF settings after
 * the apply's own retries (a VF reset that outlasted them): the timer fires
 * once in LATER_RETRY_S, not at the next --interval tick, then keeps its
 * period. One early try per run of "later" answers: a driver that stays
 * busy waits for the interval. */
static void later_retry(struct daemon *d)
{
	struct itimerspec its = {
		.it_interval = { .tv_sec = (time_t)d->o->interval },
		.it_value = { .tv_sec = LATER_RETRY_S },
	};

	if (!d->env.last_later) {
		d->later_armed = false;
		return;
	}
	if (d->later_armed || d->o->interval <= LATER_RETRY_S)
		return;
	d->later_armed = true;
	if (timerfd_settime(d->tfd, 0, &its, NULL))
		log_warn("timerfd: %s", strerror(errno));
	else
		log_info("%zu VF(s) answered \"later\": reconcile again in %d s", d->env.last_later,
			 LATER_RETRY_S);
}

/* An apply failed after changing the node: what state.pb holds now is in
 * force (agent.c dropped the model: it is read again), and none of it is
 * reported clean until an apply succeeds (which records changed is in the
 * apply that failed, or in a save that did not happen). */
static void failed_after_change(struct daemon *d)
{
	char note[SR_NAME_LEN + 96];

	count_reservations(d, note, sizeof(note));
	d->n_res_err = d->n_res;
}

/* Apply buf: d->outcome, and its text into out ("applied: ...";
 * "rejected: ..." for a new config, "failed: ..." for the config in force
 * that did not apply again; "failed after changing the node: ..."). */
static int apply(struct daemon *d, const uint8_t *buf, size_t len, enum apply_kind kind,
		 size_t *writes, char *out, size_t cap)
{
	struct control_outcome *oc = &d->outcome;
	struct sr_err err = { "" };
	char note[SR_NAME_LEN + 96 + 512], busy[512];
	int r;

	d->n_applies++;
	r = apply_judged(d, buf, len, kind, writes, &err);
	*oc = (struct control_outcome){ .err = r, .sysfs_writes = d->env.last_sysfs_writes,
					.netlink_writes = d->env.last_netlink_writes };
	if (r) {
		oc->kind = d->env.last_node_changed ? CONTROL_OUTCOME_FAILED_AFTER_CHANGE
						    : CONTROL_OUTCOME_REJECTED;
		snprintf(out, cap, "%s: %s",
			 d->env.last_node_changed ? AGENT_FAILED_AFTER_CHANGE
			 : kind != APPLY_NEW	  ? "failed"
						  : "rejected",
			 err.msg);
		if (d->env.last_node_changed)
			failed_after_change(d);
		return r;
	}
	later_retry(d);
	count_reservations(d, note, sizeof(note));
	oc->kind = d->env.last_apps_failed ? CONTROL_OUTCOME_APPLIED_WITH_ERRORS
					   : CONTROL_OUTCOME_APPLIED;
	oc->reservations = d->n_res;
	oc->in_error = d->n_res_err;
	oc->apps_without_vf = d->env.last_apps_failed;
	if (busy_describe(&d->env, busy, sizeof(busy)))
		snprintf(note + strlen(note), sizeof(note) - strlen(note), "; busy: %s", busy);
	/* "applied with errors": the same distinction as sriov-agent apply's
	 * exit status 3 (sriovctl push exits 3 on it). */
	snprintf(out, cap, "%s: %zu reservation(s), %zu in error, %zu app(s) without their VF, %zu sysfs and %zu netlink write(s)%s",
		 d->env.last_apps_failed ? CONTROL_APPLIED_WITH_ERRORS : "applied", d->n_res, d->n_res_err,
		 d->env.last_apps_failed, d->env.last_sysfs_writes, d->env.last_netlink_writes, note);
	return 0;
}

/* Take a new config (pushed, from --config or pending at start). On
 * success it becomes the config in force; on failure the previous one
 * stays. result: the reply text. */
static int take_config(struct daemon *d, const uint8_t *buf, size_t len, const char *source,
		       char *result, size_t cap)
{
	char pending[PATH_MAX];
	struct sr_err err = { "" };
	uint8_t *copy;
	size_t writes;
	int r;

	snprintf(pending, sizeof(pending), "%s/%s", d->o->state_dir, PENDING_FILE);
	if ((r = sr_write_atomic(d->o->state_dir, PENDING_FILE, buf, len, &err))) {
		d->outcome = (struct control_outcome){ .kind = CONTROL_OUTCOME_REJECTED, .err = r };
		snprintf(result, cap, "rejected: cannot record the config: %s", err.msg);
		goto out_result;
	}
	/* Its PFs are watched (the file's even while they are missing); the
	 * plan's last action saves it as the config in force. */
	r = apply(d, buf, len, APPLY_NEW, &writes, result, cap);
	if (unlink(pending) && errno != ENOENT)
		log_warn("%s: %s", pending, strerror(errno));
	snprintf(pending, sizeof(pending), "%s/%s", d->o->state_dir, PENDING_TRIES_FILE);
	unlink(pending);
	if (r)
		goto out_result;
	copy = malloc(len ? len : 1);
	if (!copy) {
		r = -ENOMEM;
		d->outcome.kind = CONTROL_OUTCOME_FAILED_AFTER_CHANGE;
		d->outcome.err = r;
		snprintf(result, cap, "%s: out of memory", AGENT_FAILED_AFTER_CHANGE);
		goto out_result;
	}
	memcpy(copy, buf, len);
	free(d->cfg);
	d->cfg = copy;
	d->cfg_len = len;
	events_config_in_force(&d->ev);
	update_info_file(d);
out_result:
	/* Any config accepted since (a push) replaces the file's wait. */
	if (!r)
		d->retry_file = false;
	else if (!strcmp(source, "file") && (d->retry_file = r == -ENODEV))
		events_config_waits(&d->ev);
	/* A refused config's PFs are not watched, but a --config that waits
	 * for its PFs keeps them watched, through refused pushes too: their
	 * arrival retries it. */
	if (r && events_on(&d->ev)) {
		events_restore_config(&d->ev, d->retry_file);
		rewatch(d);
	}
	d->cfg_source = source;
	d->cfg_at = now_s();
	snprintf(d->cfg_result, sizeof(d->cfg_result), "%s", result);
	/* The last apply is also the node's latest reconcile. */
	if (!r) {
		d->rec_at = d->cfg_at;
		snprintf(d->rec_result, sizeof(d->rec_result), "%s", result);
	}
	if (r)
		log_warn("config from %s %s", source, result);
	else
		log_info("config from %s %s", source, result);
	agent_notify_status(result);
	return r;
}

/* Reconcile the config in force. by_event: started by kernel events (why
 * names them; verify: only to verify the agent's own echoes; first_ms:
 * when they began). */
static void reconcile_ev(struct daemon *d, const char *why, enum apply_kind kind, bool by_event,
			 int64_t first_ms)
{
	bool verify = kind == APPLY_VERIFY;
	char result[RESULT_MAX];
	size_t writes = 0;
	int r;

	if (!d->cfg)
		return;
	log_debug("reconcile (%s)", why);
	r = apply(d, d->cfg, d->cfg_len, kind, &writes, result, sizeof(result));
	events_reconciled(&d->ev, &(struct events_reconcile){ .by_event = by_event, .verify = verify,
							       .first_ms = first_ms, .applied = !r,
							       .writes = writes });
	if (writes && !r)
		log_info("repair (%s): %zu kernel write(s)%s", why, writes,
			 by_event ? "" : " (not started by an event)");
	if (r) {
		/* The config in force stays in force: keep trying. */
		if (r == -ENODEV) {
			char note[SR_NAME_LEN + 96];

			mark_missing_pfs(d);
			count_reservations(d, note, sizeof(note));
		} else if (d->env.last_node_changed) {
			/* The node was changed but its record could not be
			 * written (a full or failing state disk): state.pb no
			 * longer says what the node holds. Not reported clean:
			 * every reservation counts as in error until a save
			 * succeeds (which of them changed is in the lost
			 * record); apply() counted them so. */
			snprintf(result + strlen(result), sizeof(result) - strlen(result),
				 "; the state is not saved: all %zu reservation(s) counted in error until it is",
				 d->n_res);
		}
		log_warn("reconcile (%s) %s", why, result);
	}
	update_info_file(d);
	d->rec_at = now_s();
	snprintf(d->rec_result, sizeof(d->rec_result), "%s", result);
	agent_notify_status(result);
}

static void reconcile(struct daemon *d, const char *why)
{
	reconcile_ev(d, why, APPLY_RECONCILE, false, 0);
}

static int read_config_file(const char *path, uint8_t **buf, size_t *len)
{
	struct sr_err err = { "" };
	int r = sr_read_file(path, CONTROL_MAX_CONFIG, buf, len, &err);

	if (r)
		log_warn("--config %s", err.msg);
	return r;
}

/* --config changed (inotify) or SIGHUP. The agent's own rename of
 * config.pb (when --config is STATE-DIR/config.pb) also wakes the watch:
 * a file holding the config in force is not applied again, or every apply
 * would trigger the next (SIGHUP reconciles instead). */
static void load_config_file(struct daemon *d, const char *why, bool from_watch)
{
	char result[RESULT_MAX];
	uint8_t *buf;
	size_t len;

	if (!d->o->config) {
		log_info("%s: no --config file; reconciling the config in force", why);
		reconcile(d, why);
		return;
	}
	cfg_watch_taken(&d->cw);
	if (read_config_file(d->o->config, &buf, &len))
		return;
	if (d->cfg && len == d->cfg_len && !memcmp(buf, d->cfg, len)) {
		free(buf);
		if (d->retry_file) {
			/* The file waited for its PFs and now holds the config
			 * in force: nothing waits any more. */
			d->retry_file = false;
			if (events_on(&d->ev)) {
				events_restore_config(&d->ev, false);
				rewatch(d);
			}
			log_info("%s: %s is the config in force: no longer waiting for its PFs", why,
				 d->o->config);
		}
		if (from_watch) {
			log_debug("%s: %s is the config in force: nothing to do", why, d->o->config);
			return;
		}
		reconcile(d, why);
		return;
	}
	log_info("%s: applying %s", why, d->o->config);
	take_config(d, buf, len, "file", result, sizeof(result));
	free(buf);
}

/* How many starts tried the pending config: STATE-DIR/config.pending.tries. */
static unsigned pending_tries(struct daemon *d)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;
	struct sr_err err = { "" };
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/%s", d->o->state_dir, PENDING_TRIES_FILE);
	if (sr_read_file(path, 32, &buf, &len, &err))
		return 0;
	if (len && len < 16) {
		char t[16];

		memcpy(t, buf, len);
		t[len] = '\0';
		n = (unsigned)strtoul(t, NULL, 10);
	}
	free(buf);
	return n;
}

/* A pending config that already failed PENDING_MAX_STARTS starts (the
 * agent died applying it each time: OOM, a crash) is set aside as
 * config.failed.pb instead of killing every start. true when set aside. */
static bool pending_set_aside(struct daemon *d)
{
	char from[PATH_MAX], to[PATH_MAX], n[16];
	struct sr_err err = { "" };
	unsigned tries = pending_tries(d);

	snprintf(from, sizeof(from), "%s/%s", d->o->state_dir, PENDING_FILE);
	if (tries < PENDING_MAX_STARTS) {
		int len = snprintf(n, sizeof(n), "%u\n", tries + 1);

		if (sr_write_atomic(d->o->state_dir, PENDING_TRIES_FILE, n, (size_t)len, &err))
			log_warn("%s", err.msg);
		return false;
	}
	snprintf(to, sizeof(to), "%s/%s", d->o->state_dir, FAILED_FILE);
	if (rename(from, to))
		log_err("rename %s -> %s: %s", from, to, strerror(errno));
	snprintf(from, sizeof(from), "%s/%s", d->o->state_dir, PENDING_TRIES_FILE);
	unlink(from);
	snprintf(d->cfg_result, sizeof(d->cfg_result),
		 "rejected: the pending config failed %u starts (the agent stopped while applying it each time): set aside as %s/%s",
		 tries, d->o->state_dir, FAILED_FILE);
	d->cfg_source = "startup";
	d->cfg_at = now_s();
	log_err("%s", d->cfg_result);
	return true;
}

/* Before any new work: finish a config that was being applied when the
 * agent died, else reconcile the node with the config in force. */
static void startup(struct daemon *d)
{
	char path[PATH_MAX], result[RESULT_MAX];
	uint8_t *buf;
	size_t len;
	struct sr_err err = { "" };
	bool aside;

	snprintf(path, sizeof(path), "%s/%s", d->o->state_dir, SR_CONFIG_FILE);
	if (!sr_read_file(path, CONTROL_MAX_CONFIG, &buf, &len, &err)) {
		d->cfg = buf;
		d->cfg_len = len;
		d->cfg_source = "startup";
	}
	snprintf(path, sizeof(path), "%s/%s", d->o->state_dir, PENDING_FILE);
	aside = !access(path, F_OK) && pending_set_aside(d);
	if (!aside && !sr_read_file(path, CONTROL_MAX_CONFIG, &buf, &len, &err)) {
		log_warn("%s: a config was being applied when the agent stopped: finishing it", path);
		if (!take_config(d, buf, len, "startup", result, sizeof(result))) {
			free(buf);
			return;
		}
		free(buf);
	}
	if (!d->cfg) {
		log_info("no config in force yet (%s/%s)", d->o->state_dir, SR_CONFIG_FILE);
		return;
	}
	/* config.pb's PFs are watched from the startup reconcile's decode. */
	reconcile_ev(d, "startup", APPLY_STARTUP, false, 0);
	events_config_in_force(&d->ev);
	if (aside)
		return; /* cfg_result keeps saying why the pending config was set aside */
	d->cfg_at = d->rec_at;
	snprintf(d->cfg_result, sizeof(d->cfg_result), "%s", d->rec_result);
}

/* The daemon's state (docs/architecture.md), from what it holds. */
static const char *daemon_state(struct daemon *d)
{
	char busy[512];

	if (d->retry_file)
		return "waiting-for-pfs";
	if (!d->cfg)
		return "no-config";
	/* In force, but a PF's kernel write outstanding (busy.h): that PF
	 * is applied when it returns, the others are in force. */
	if (busy_describe(&d->env, busy, sizeof(busy)))
		return "busy";
	if (!strncmp(d->ev.monitor, "degraded", 8))
		return "degraded";
	return "in-force";
}

/* --config on disk against the config in force, for status: "" without
 * --config; "in force"; "differs from the config in force" and why it is
 * not in force; "unreadable: ...". And the watch, when its directory is
 * gone. */
static void config_file_state(struct daemon *d, char *out, size_t cap)
{
	struct sr_err err = { "" };
	const char *watch = d->cw.wd_dir < 0 ? "; not watched: its directory is gone (looked at every interval)" : "";
	uint8_t *buf;
	size_t len;

	out[0] = '\0';
	if (!d->o->config)
		return;
	if (sr_read_file(d->o->config, CONTROL_MAX_CONFIG, &buf, &len, &err)) {
		snprintf(out, cap, "unreadable: %s%s", err.msg, watch);
		return;
	}
	if (d->cfg && len == d->cfg_len && !memcmp(buf, d->cfg, len))
		snprintf(out, cap, "in force%s", watch);
	else if (d->retry_file)
		snprintf(out, cap, "differs from the config in force: waiting for its PFs%s", watch);
	else if (d->cw.due_ms)
		snprintf(out, cap, "differs from the config in force: read once quiet for %u ms%s",
			 CFG_SETTLE_MS, watch);
	else
		snprintf(out, cap, "differs from the config in force: not taken (see the log; SIGHUP reads it again)%s",
			 watch);
	free(buf);
}

static void status_text(struct daemon *d, char **out, size_t *len)
{
	FILE *f = open_memstream(out, len);

	if (!f) {
		*out = NULL;
		return;
	}
	fprintf(f, "pid=%ld\n", (long)getpid());
	fprintf(f, "started_at=%" PRId64 "\n", d->started_at);
	fprintf(f, "uptime_s=%" PRId64 "\n", now_s() - d->started_at);
	control_kv_write(f, "socket", d->o->socket);
	control_kv_write(f, "state_dir", d->o->state_dir);
	control_kv_write(f, "config_file", d->o->config ? d->o->config : "");
	fprintf(f, "daemon_state=%s\n", daemon_state(d));
	fprintf(f, "config_in_force=%s\n", d->cfg ? "yes" : "no");
	fprintf(f, "config_bytes=%zu\n", d->cfg_len);
	control_kv_write(f, "config_source", d->cfg_source);
	control_kv_write(f, "config_result", d->cfg_result);
	fprintf(f, "config_at=%" PRId64 "\n", d->cfg_at);
	{
		char cf[RESULT_MAX];

		config_file_state(d, cf, sizeof(cf));
		control_kv_write(f, "config_file_state", cf);
	}
	fprintf(f, "reservations=%zu\n", d->n_res);
	fprintf(f, "reservations_in_error=%zu\n", d->n_res_err);
	fprintf(f, "apps_without_vf=%zu\n", d->env.last_apps_failed);
	control_kv_write(f, "reconcile_result", d->rec_result);
	fprintf(f, "reconcile_at=%" PRId64 "\n", d->rec_at);
	fprintf(f, "interval_s=%lu\n", d->o->interval);
	fprintf(f, "applies=%lu\n", d->n_applies);
	fprintf(f, "state_loads=%lu\n", d->model.loads);
	control_kv_write(f, "events_monitor", d->ev.monitor);
	fprintf(f, "events=%lu\n", d->ev.received);
	fprintf(f, "events_own=%lu\n", d->ev.own);
	fprintf(f, "events_overruns=%lu\n", d->ev.overruns);
	fprintf(f, "event_reconciles=%lu\n", d->ev.reconciles);
	fprintf(f, "event_verifies=%lu\n", d->ev.verifies);
	fprintf(f, "repairs=%lu\n", d->ev.repairs);
	fprintf(f, "repair_ms=%" PRId64 "\n", d->ev.repair_ms);
	fprintf(f, "repair_done_us=%" PRId64 "\n", d->ev.repair_done_us);
	{
		char busy[1024];

		fprintf(f, "busy_pfs=%zu\n", busy_describe(&d->env, busy, sizeof(busy)));
		control_kv_write(f, "busy", busy);
	}
	{
		char down[1024];

		fprintf(f, "down_pfs=%zu\n", pf_down_describe(&d->down, down, sizeof(down)));
		control_kv_write(f, "down", down);
	}
	fclose(f);
}

/* 'I': one binary ZInfoMsg built from the saved state and the config in
 * force; app NULL for the device. */
static void serve_info(struct daemon *d, int fd, const char *app)
{
	struct sr_err err = { "" };
	uint8_t *msg = NULL;
	size_t n = 0;
	int r;

	r = state_model_get(&d->model, d->o->state_dir, &err);
	if (!r)
		r = agent_info_build(d->o->state_dir, &d->model.st, d->cfg, d->cfg_len, app,
				     now_s(), &msg, &n, &err);
	if (r) {
		control_reply(fd, CONTROL_FAIL, err.msg);
		return;
	}
	if (control_send(fd, CONTROL_OK, msg, n, CONTROL_REQ_TIMEOUT_MS, &err))
		log_debug("reply: %s", err.msg);
	free(msg);
}

/* A push's reply: its outcome as key=value lines (control.h). */
static void push_reply(int fd, int r, const struct control_outcome *oc, const char *result)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f) {
		control_reply(fd, CONTROL_FAIL, "error: out of memory");
		return;
	}
	control_outcome_write(f, oc, result);
	fclose(f);
	control_reply(fd, r ? CONTROL_FAIL : CONTROL_OK, text);
	free(text);
}

/* One whole request from a root client (clients.c read it). */
static void serve_request(void *ctx, int fd, long pid, const struct control_frame *req)
{
	struct daemon *d = ctx;
	char result[RESULT_MAX];

	switch (req->type) {
	case CONTROL_PUSH:
		log_info("client pid %ld pushed a config of %zu bytes", pid, req->len);
		push_reply(fd, take_config(d, req->buf, req->len, "push", result, sizeof(result)),
			   &d->outcome, result);
		break;
	case CONTROL_STATUS: {
		char *text;
		size_t tl;

		status_text(d, &text, &tl);
		control_reply(fd, text ? CONTROL_OK : CONTROL_FAIL, text ? text : "error: out of memory");
		free(text);
		break;
	}
	case CONTROL_INFO:
		serve_info(d, fd, req->len ? (const char *)req->buf : NULL);
		break;
	default:
		snprintf(result, sizeof(result),
			 "rejected: unknown request type 0x%02x: allowed 'P' (push), 'S' (status), 'I' (info)",
			 req->type);
		log_warn("client pid %ld: %s", pid, result);
		control_reply(fd, CONTROL_FAIL, result);
	}
}

/* A documented limit, said when it applies: a slow write (sriov_numvfs, a
 * VF's bind) still in the kernel cannot be cancelled (docs/daemon.md,
 * Slow, busy and hung drivers). */
static void warn_busy_at_stop(struct daemon *d)
{
	char busy[512];

	if (d->env_open && busy_describe(&d->env, busy, sizeof(busy)))
		log_warn("stopping while %s: a kernel write cannot be cancelled, the process ends when the kernel returns it",
			 busy);
}

static void on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			agent_notify_reloading();
			load_config_file(d, "SIGHUP", false);
			agent_notify_ready(d->cfg_result);
		} else {
			log_info("%s: stopping", strsignal((int)si.ssi_signo));
			warn_busy_at_stop(d);
			agent_notify_stopping();
			d->stop = true;
		}
	}
}

/* A look at --config is due (the file quiet for CFG_SETTLE_MS after a
 * change) and the file is not the one read last. */
static void on_config_due(struct daemon *d)
{
	if (d->o->config && cfg_watch_due(&d->cw))
		load_config_file(d, "--config changed", true);
}

static void on_timer(struct daemon *d)
{
	uint64_t ticks;

	if (read(d->tfd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
		return;
	/* What the watch could not see (the directory's parent replaced). */
	if (d->o->config && !d->retry_file && cfg_watch_tick(&d->cw))
		load_config_file(d, "interval: --config changed on disk", true);
	if (d->retry_file) {
		load_config_file(d, "interval: --config waits for its PFs", false);
		if (!d->retry_file)
			return; /* applied (or refused for good): that was the reconcile */
	}
	reconcile(d, "interval");
}

/* Kernel events asked for a repair and it is due. */
static void on_events_due(struct daemon *d)
{
	char why[160];
	int64_t first_ms;
	bool verify;

	if (!events_due(&d->ev, &verify, &first_ms, why, sizeof(why)))
		return;
	if (d->retry_file && !verify) {
		/* A PF appeared (driver bound, netdev added): try the file now. */
		load_config_file(d, why, false);
		if (!d->retry_file)
			return;
	}
	reconcile_ev(d, why, verify ? APPLY_VERIFY : APPLY_RECONCILE, true, first_ms);
}

/* path's directory, resolved, into real (PATH_MAX); 0 or -errno. */
static int real_dir_of(const char *path, char *real)
{
	char copy[PATH_MAX];

	snprintf(copy, sizeof(copy), "%s", path);
	return realpath(dirname(copy), real) ? 0 : -errno;
}

/* --info-file must not name a file the agent keeps for itself: none in the
 * state or domain dir, nor the --config file (it would overwrite it and
 * wedge the agent, also after a restart; issue 23, finding 7). */
static int check_info_file(const struct agent_opts *o)
{
	char info_dir[PATH_MAX], other[PATH_MAX], name[PATH_MAX], cname[PATH_MAX];
	const char *dirs[2] = { o->state_dir, o->domain_dir };
	struct stat a, b;
	int r;

	if ((r = real_dir_of(o->info_file, info_dir))) {
		log_err("--info-file %s: its directory: %s", o->info_file, strerror(-r));
		return r;
	}
	for (int i = 0; i < 2; i++) {
		if (!realpath(dirs[i], other) || strcmp(info_dir, other))
			continue;
		log_err("--info-file %s: in the %s dir %s, whose files are the agent's own: choose a path elsewhere",
			o->info_file, i ? "domain" : "state", dirs[i]);
		return -EINVAL;
	}
	if (!o->config)
		return 0;
	snprintf(name, sizeof(name), "%s", o->info_file);
	snprintf(cname, sizeof(cname), "%s", o->config);
	if ((!stat(o->info_file, &a) && !stat(o->config, &b) && a.st_dev == b.st_dev &&
	     a.st_ino == b.st_ino) ||
	    (!real_dir_of(o->config, other) && !strcmp(info_dir, other) &&
	     !strcmp(basename(name), basename(cname)))) {
		log_err("--info-file %s is the --config file %s: choose another path", o->info_file,
			o->config);
		return -EINVAL;
	}
	return 0;
}

/* The socket's directory (/run/sriov-agent): systemd makes it from
 * RuntimeDirectory=; elsewhere (EVE, a shell) the agent does. It must be
 * the agent's own (sr_dir_trusted, the rule of the state and domain dirs):
 * in a directory another user may write, that user could bind the name
 * first (a listener of theirs stops the agent's start: "another agent is
 * listening") and take sriovctl's pushes (issue 23, probe 1). */
static int socket_dir_own(const char *path)
{
	struct sr_err err = { "" };
	char dir[PATH_MAX];
	char *slash;
	int r;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		log_err("--socket %s: path too long", path);
		return -ENAMETOOLONG;
	}
	slash = strrchr(dir, '/');
	if (!slash)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (mkdir(dir, 0755) && errno != EEXIST) {
		r = -errno;
		log_err("socket dir %s: %s", dir, strerror(-r));
		return r;
	}
	if ((r = sr_dir_trusted(dir, "socket dir", &err))) {
		log_err("%s", err.msg);
		return r;
	}
	return 0;
}

static int setup(struct daemon *d, sigset_t *mask)
{
	struct itimerspec its = { 0 };
	struct sr_err err = { "" };
	int r;

	if (mkdir(d->o->state_dir, 0700) && errno != EEXIST) {
		log_err("state dir %s: %s", d->o->state_dir, strerror(errno));
		return -errno;
	}
	/* One agent per state dir, even on another socket. */
	if (agent_lock_state(d->o, &d->lock))
		return -EWOULDBLOCK;
	if (d->o->info_file && (r = check_info_file(d->o)))
		return r;
	if ((r = socket_dir_own(d->o->socket)))
		return r;
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, mask, NULL) ||
	    (d->sfd = signalfd(-1, mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
		log_err("signalfd: %s", strerror(errno));
		return -errno;
	}
	/* Listen first: a second agent on the same socket stops here, before
	 * it touches the kernel. Clients wait in the backlog until the
	 * startup reconcile is done. */
	d->lfd = control_listen(d->o->socket, &err);
	if (d->lfd < 0) {
		log_err("%s", err.msg);
		return d->lfd;
	}
	if (d->o->config && cfg_watch_open(&d->cw, d->o->config))
		return -EINVAL;
	d->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	its.it_value.tv_sec = (time_t)d->o->interval;
	its.it_interval.tv_sec = (time_t)d->o->interval;
	if (d->tfd < 0 || timerfd_settime(d->tfd, 0, &its, NULL)) {
		log_err("timerfd: %s", strerror(errno));
		return -errno;
	}
	if (agent_env_open(d->o, &d->env, &err)) {
		log_err("%s", err.msg);
		return -EIO;
	}
	d->env_open = true;
	d->bfd = busy_open(&d->env, d->o->bind_timeout);
	if (d->bfd < 0)
		log_warn("sriov_numvfs writes and driver binds run in the daemon's thread: %s",
			 strerror(-d->bfd));
	d->env.decoded = config_decoded;
	d->env.decoded_arg = d;
	d->env.model = &d->model;
	events_open(&d->ev, d->o);
	return 0;
}

/* The poll() loop, until a stop signal: 0, or -errno when poll fails. */
/* WATCHDOG=1 from the poll loop itself, every half of WatchdogSec= (when
 * systemd asked for it): a worker thread stuck in a kernel write does not
 * stop it, a frozen loop does. *timeout shortened to the next ping. */
static void watchdog_ping(uint64_t period_ms, uint64_t *next_ms, int *timeout)
{
	uint64_t now = sr_sysfs_now_ms();

	if (!period_ms)
		return;
	if (now >= *next_ms) {
		agent_notify_watchdog();
		*next_ms = now + period_ms;
	}
	if (*timeout < 0 || (uint64_t)*timeout > *next_ms - now)
		*timeout = (int)(*next_ms - now);
}

static int serve(struct daemon *d)
{
	uint64_t wd_ms = agent_notify_watchdog_usec() / 2000, wd_next = 0;

	if (wd_ms)
		log_info("systemd watchdog: WATCHDOG=1 every %" PRIu64 " ms from the poll loop", wd_ms);
	while (!d->stop) {
		struct pollfd p[5 + EVENTS_NFDS + CONTROL_MAX_CLIENTS] = {
			{ .fd = d->sfd, .events = POLLIN },
			{ .fd = d->lfd, .events = POLLIN },
			{ .fd = d->tfd, .events = POLLIN },
			{ .fd = d->cw.fd, .events = POLLIN },
			{ .fd = d->bfd, .events = POLLIN },
		};
		struct pollfd *pc = p + 5 + EVENTS_NFDS;
		int timeout = -1;
		size_t nc = clients_pollfds(&d->clients, pc, &timeout);

		events_pollfds(&d->ev, p + 5, &timeout);
		if (d->o->config)
			timeout = cfg_watch_timeout(&d->cw, timeout);
		watchdog_ping(wd_ms, &wd_next, &timeout);
		if (poll(p, 5 + EVENTS_NFDS + nc, timeout) < 0) {
			if (errno == EINTR)
				continue;
			log_err("poll: %s", strerror(errno));
			return -errno;
		}
		/* Signals first: a stop request is not delayed by new work. */
		if (p[0].revents)
			on_signal(d);
		if (d->stop)
			break;
		clients_service(&d->clients, pc, nc, serve_request, d);
		if (p[1].revents)
			clients_accept(&d->clients, d->lfd);
		if (p[2].revents)
			on_timer(d);
		if (d->cw.fd >= 0 && p[3].revents)
			cfg_watch_read(&d->cw);
		on_config_due(d);
		if (d->bfd >= 0 && p[4].revents && busy_service(&d->env, d->bfd))
			reconcile(d, "a slow kernel write returned");
		events_service(&d->ev, p + 5);
		on_events_due(d);
	}
	return 0;
}

int agent_run(const struct agent_opts *o)
{
	struct daemon d = {
		.o = o, .lfd = -1, .sfd = -1, .tfd = -1, .bfd = -1, .lock = -1,
		.cw = { .fd = -1, .wd_dir = -1, .wd_parent = -1 },
		.ev.mon.fd = { -1, -1 },
		.cfg_source = "none", .cfg_result = "", .rec_result = "",
	};
	sigset_t mask;
	int64_t t0 = mono_s();
	int rc = 1;

	if (o->dry_run) {
		fprintf(stderr, "sriov-agent: --dry-run is for apply, not run\n");
		return 2;
	}
	d.started_at = now_s();
	clients_init(&d.clients, o->socket);
	memset(&d.env, 0, sizeof(d.env));
	if (setup(&d, &mask))
		goto out;
	log_info("started: pid %ld, socket %s, state %s, reconcile every %lus", (long)getpid(),
		 o->socket, o->state_dir, o->interval);
	startup(&d);
	if (o->config) {
		uint8_t *buf;
		size_t len;

		/* --config wins over the saved config, unless it is the same. */
		if (!read_config_file(o->config, &buf, &len)) {
			if (!d.cfg || len != d.cfg_len || memcmp(buf, d.cfg, len)) {
				char result[RESULT_MAX];

				take_config(&d, buf, len, "file", result, sizeof(result));
			}
			free(buf);
		}
	}
	/* Ready only now: units ordered after this one (the guests) start on
	 * a node that has been reconciled. */
	agent_notify_ready(d.cfg_result[0] ? d.cfg_result : "no config in force");
	if (serve(&d))
		goto out;
	log_info("stopped after %" PRId64 "s; state in %s", mono_s() - t0, o->state_dir);
	rc = 0;
out:
	clients_close_all(&d.clients);
	if (d.lfd >= 0) {
		close(d.lfd);
		unlink(o->socket);
	}
	if (d.sfd >= 0)
		close(d.sfd);
	cfg_watch_close(&d.cw);
	pf_down_free(&d.down);
	if (d.tfd >= 0)
		close(d.tfd);
	events_close(&d.ev);
	if (d.env_open) {
		busy_close(&d.env, d.bfd);
		agent_env_close(o, &d.env);
	}
	free(d.cfg);
	free(d.info_last);
	state_model_free(&d.model);
	sr_state_unlock(d.lock);
	return rc;
}
