/* SPDX-License-Identifier: MIT */
/*
 * The plan's runner. One table (phases[]) maps each action type to the
 * function that runs it and the step point the run passes after it; sr_exec
 * walks the plan in its order, so what --dry-run prints is what runs.
 */
#include "exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <syslog.h>
#include <time.h>

#define LOG(run, level, ...)                                          \
	do {                                                          \
		if ((run)->log)                                       \
			(run)->log((run)->log_ctx, (level), __VA_ARGS__); \
	} while (0)

#define WARN(run, ...)                                  \
	do {                                            \
		LOG(run, LOG_WARNING, __VA_ARGS__);     \
		(run)->n_warnings++;                    \
	} while (0)

/* sr_exec's own records, per config PF: whether its link was checked up,
 * and its bind failures (reported once per PF); the bind deadline's start. */
struct exec_pf {
	bool link_checked;
	size_t bind_failed;         /* VFs of the PF not bound */
	size_t bind_first;          /* run->res of the first of them */
	char bind_why[SR_ERR_MAX];  /* its reason */
	bool busy;                  /* a kernel write to it is outstanding */
	bool vfs_change;            /* that write changes its VFs (sriov_numvfs) */
	char busy_why[SR_ERR_MAX];  /* which, since when */
};

struct exec_write;

struct sr_exec_own {
	bool vf_tables_changed;     /* VFs made, bound or unbound (sysfs) */
	uint64_t bind_started_ms;   /* the apply's first bind; 0: none yet */
	struct exec_pf *pf;         /* per config PF */
	struct exec_write *later;   /* settings answered "later", to try again */
	size_t n_later, cap_later;
	struct silent_pf *silent;   /* PF netdevs whose kernel did not answer */
	size_t n_silent;
};

/* A PF netdev whose kernel did not answer a write (sr_nl_no_answer): its
 * next writes would wait as long, so the apply writes it no more. */
struct silent_pf {
	int ifindex;
	int err;
};

/* The test hook at point: 0, or the failure it injects (with a message). */
static int step(const struct sr_run *run, const char *point, size_t nth, struct sr_err *err)
{
	struct sr_err why = { "" };
	int r = run->node->step ? run->node->step(run->node->step_ctx, point, nth, &why) : 0;

	if (!r)
		return 0;
	if (!why.msg[0])
		snprintf(why.msg, sizeof(why.msg), "%s:%zu", point, nth);
	return sr_err_set(err, r, "%s (fault injected at %s)", strerror(-r), why.msg);
}

static const struct sr_vf *res_vf(const struct sr_run *run, const struct sr_reservation *r)
{
	ssize_t pf = sr_plan_pf_by_pci(&run->in, r->pf_pci);

	return pf >= 0 ? sr_pf_find_vf(&run->pfs[pf], r->vf_index) : NULL;
}

/* The kernel could not answer a read of PF settings: it timed out, its
 * answer was dropped or could not be built twice (sr_nl_no_answer), or
 * would be too large (-EMSGSIZE, -ENOMEM). */
static bool read_unanswered(int r)
{
	return sr_nl_no_answer(r) || r == -EMSGSIZE || r == -ENOMEM;
}

/* PF i's kernel view of its VFs (netlink) into its VF table as read. A
 * failure is a warning, but when fatal, a kernel that could not answer
 * (read_unanswered) fails: its writes would fare no better, and no write
 * was made on the way to them. */
static int read_pf_settings(struct sr_run *run, size_t i, bool fatal, struct sr_err *err)
{
	const struct sr_node_ops *n = run->node;
	const struct sr_pf *pf = &run->pfs[i];
	struct sr_err e = { "" };
	bool truncated = false;
	int r;

	if (!n->read_vf_settings || run->ifindex[i] <= 0)
		return 0;
	if ((r = n->read_vf_settings(n->ctx, run->ifindex[i], &run->pfs[i], &truncated, &e))) {
		if (fatal && read_unanswered(r))
			return sr_err_set(err, r, "PF %s (%s, ifindex %d, %u VFs): cannot read VF settings: %s",
					  pf->pci, pf->ifname, run->ifindex[i], pf->numvfs, e.msg);
		WARN(run, "PF %s (%s, ifindex %d, %u VFs): cannot read VF settings: %s", pf->pci,
		     pf->ifname, run->ifindex[i], pf->numvfs, e.msg);
		return 0;
	}
	if (truncated)
		WARN(run, "PF %s: the kernel's VF list is truncated (fewer entries than IFLA_NUM_VF)",
		     run->pfs[i].pci);
	return 0;
}

static int read_pf(struct sr_run *run, size_t i, bool fatal, struct sr_err *err)
{
	const struct sr_node_ops *n = run->node;
	int r;

	if ((r = n->read_vfs(n->ctx, &run->pfs[i], err)))
		return r;
	return read_pf_settings(run, i, fatal, err);
}

int sr_exec_read_pf(struct sr_run *run, size_t i, struct sr_err *err)
{
	return read_pf(run, i, true, err);
}

/* PF i of the config has a kernel write outstanding: its own sriov_numvfs
 * went on past the apply's wait in this run, or an earlier one still runs
 * (the node's pf_busy). Nothing more is sent to it; its reservations wait. */
/* PF i's write of this run goes on past the apply's wait (why: which;
 * vfs_change: a sriov_numvfs). */
static void mark_busy(struct sr_run *run, size_t i, bool vfs_change, const char *why)
{
	struct exec_pf *f = &run->own->pf[i];

	f->busy = true;
	f->vfs_change = vfs_change;
	snprintf(f->busy_why, sizeof(f->busy_why), "%s", why);
	run->n_busy++;
	WARN(run, "%s: its VFs are set up once the driver returns", f->busy_why);
}

static bool pf_busy(struct sr_run *run, size_t i)
{
	struct exec_pf *f = &run->own->pf[i];
	const struct sr_node_ops *n = run->node;

	if (f->busy)
		return true;
	if (!n->pf_busy ||
	    !n->pf_busy(n->ctx, run->pfs[i].pci, &f->vfs_change, f->busy_why, sizeof(f->busy_why)))
		return false;
	f->busy = true;
	run->n_busy++;
	WARN(run, "%s: its VFs are set up once the driver returns", f->busy_why);
	return true;
}

/* Settings restricted to the attributes in mask. */
static struct sr_vf_settings masked(const struct sr_vf_settings *s, unsigned mask)
{
	struct sr_vf_settings m;

	sr_vf_settings_init(&m);
	if (mask & (1u << SR_ATTR_MAC)) {
		m.has_mac = s->has_mac;
		memcpy(m.mac, s->mac, 6);
	}
	if (mask & (1u << SR_ATTR_VLAN)) {
		m.vlan = s->vlan;
		m.qos = s->qos;
		m.vlan_proto = s->vlan_proto;
	}
	if (mask & (1u << SR_ATTR_SPOOFCHK))
		m.spoofchk = s->spoofchk;
	if (mask & (1u << SR_ATTR_TRUST))
		m.trust = s->trust;
	if (mask & (1u << SR_ATTR_LINK_STATE))
		m.link_state = s->link_state;
	if (mask & (1u << SR_ATTR_RATE)) {
		m.min_tx_rate = s->min_tx_rate;
		m.max_tx_rate = s->max_tx_rate;
	}
	return m;
}

static bool transient(int e)
{
	return sr_attr_result_later(e);
}

/* One settings write of a VF, kept to be tried again while its driver
 * answers "later". s points into run (desired or original settings). */
struct exec_write {
	int ifindex;
	const char *pf;
	struct sr_reservation *r;
	const struct sr_vf_settings *s;
	unsigned mask;              /* attributes still to write */
	const char *why;
	int last[SR_ATTR__COUNT];   /* the last "later" answer per attribute */
};

static int queue_later(struct sr_run *run, const struct exec_write *w);

/* The attribute's outcome, recorded and logged as final. */
static void attr_done(struct sr_run *run, const struct exec_write *w, int a, int result,
		      unsigned waited_ms)
{
	struct sr_reservation *r = w->r;

	r->attr_result[a] = result;
	LOG(run, LOG_DEBUG, "netlink PF %s VF %u %s (%s): %s", w->pf, r->vf_index,
	    sr_vf_attr_name(a), w->why, result ? strerror(-result) : "ok");
	if (result && waited_ms)
		WARN(run, "PF %s VF %u app %s: driver refused %s: %s (still after %u ms of retries)",
		     w->pf, r->vf_index, sr_reservation_owner(r), sr_vf_attr_name(a),
		     strerror(-result), waited_ms);
	else if (result)
		WARN(run, "PF %s VF %u app %s: driver refused %s: %s", w->pf, r->vf_index,
		     sr_reservation_owner(r), sr_vf_attr_name(a), strerror(-result));
}

/* The error ifindex's kernel left unanswered in this apply, else 0. */
static int silent_err(const struct sr_run *run, int ifindex)
{
	for (size_t i = 0; i < run->own->n_silent; i++)
		if (run->own->silent[i].ifindex == ifindex)
			return run->own->silent[i].err;
	return 0;
}

/* ifindex's kernel did not answer the write of r's VF: one warning, and no
 * more writes to it in this apply (the attributes not written are errors in
 * the state, so the next reconcile tries them again). */
static void mark_silent(struct sr_run *run, int ifindex, int err, const char *pf,
			const struct sr_reservation *r, const char *why)
{
	struct sr_exec_own *own = run->own;
	struct silent_pf *p = realloc(own->silent, (own->n_silent + 1) * sizeof(*p));

	if (p) {
		own->silent = p;
		own->silent[own->n_silent++] = (struct silent_pf){ .ifindex = ifindex, .err = err };
	}
	WARN(run, "PF %s (ifindex %d) VF %u app %s: %s: the PF's other VF settings are not written in this apply",
	     pf, ifindex, r->vf_index, sr_reservation_owner(r), why);
}

/* w's attributes all answered err: no answer from the PF's kernel. */
static void write_silent(struct exec_write *w, int err)
{
	for (int a = 0; a < SR_ATTR__COUNT; a++)
		if (w->mask & (1u << a))
			w->r->attr_result[a] = err;
	w->mask = 0;
}

/* One try of w's attributes: each final answer recorded; w->mask keeps
 * those answered "later" (their answer in w->last). A PF whose kernel did
 * not answer is not written again in this apply. */
static void write_try(struct sr_run *run, struct exec_write *w)
{
	struct sr_vf_settings m = masked(w->s, w->mask);
	struct sr_err e = { "" };
	int result[SR_ATTR__COUNT];
	unsigned later = 0;
	int rc;

	if ((rc = silent_err(run, w->ifindex))) {
		write_silent(w, rc);
		return;
	}
	rc = run->node->set_vf(run->node->ctx, w->ifindex, w->r->vf_index, &m, result, &e);
	if (sr_nl_no_answer(rc)) {
		write_silent(w, rc);
		mark_silent(run, w->ifindex, rc, w->pf, w->r, e.msg);
		return;
	}
	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		if (!(w->mask & (1u << a)) || result[a] == SR_ATTR_NOT_TRIED)
			continue;
		if (transient(result[a])) {
			later |= 1u << a;
			w->last[a] = result[a];
			LOG(run, LOG_DEBUG, "netlink PF %s VF %u %s (%s): %s: again later", w->pf,
			    w->r->vf_index, sr_vf_attr_name(a), w->why, strerror(-result[a]));
			continue;
		}
		attr_done(run, w, a, result[a], 0);
	}
	w->mask = later;
}

static void write_attrs(struct sr_run *run, int ifindex, const char *pf, struct sr_reservation *r,
			const struct sr_vf_settings *s, unsigned mask, const char *why)
{
	struct exec_write w = { .ifindex = ifindex, .pf = pf, .r = r, .s = s, .mask = mask,
				.why = why };

	if (!sr_node_has_netlink(run->node))
		return;
	if (ifindex <= 0) {
		for (int a = 0; a < SR_ATTR__COUNT; a++)
			if (mask & (1u << a))
				r->attr_result[a] = -ENODEV;
		WARN(run, "PF %s VF %u app %s: PF has no netdev, VF settings not %s", pf,
		     r->vf_index, sr_reservation_owner(r), why);
		return;
	}
	write_try(run, &w);
	if (w.mask && queue_later(run, &w))
		for (int a = 0; a < SR_ATTR__COUNT; a++)
			if (w.mask & (1u << a))
				attr_done(run, &w, a, w.last[a], 0);
}

static int queue_later(struct sr_run *run, const struct exec_write *w)
{
	struct sr_exec_own *own = run->own;

	if (own->n_later == own->cap_later) {
		size_t cap = own->cap_later ? own->cap_later * 2 : 8;
		struct exec_write *grown = realloc(own->later, cap * sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		own->later = grown;
		own->cap_later = cap;
	}
	own->later[own->n_later++] = *w;
	return 0;
}

static void pause_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Every VF whose driver answered "later", tried again together after a
 * pause of 10 ms, doubling, until all took their settings or
 * run->retry_later_ms (SR_RETRY_LATER_MS) have passed since the first
 * pause: a VF in reset makes
 * the others wait at most that, once per apply, not once per VF. What is
 * still "later" then is refused with the driver's errno, as a permanent
 * answer is, and counted in run->n_later (the daemon tries it again soon). */
static void retry_later(struct sr_run *run)
{
	struct sr_exec_own *own = run->own;
	uint64_t start = sr_sysfs_now_ms(), waited = 0;
	uint64_t budget = run->retry_later_ms ? run->retry_later_ms : SR_RETRY_LATER_MS;
	unsigned pause = 10;
	size_t left = own->n_later;

	while (left && waited < budget) {
		pause_ms((unsigned)(pause < budget - waited ? pause : budget - waited));
		pause *= 2;
		left = 0;
		for (size_t i = 0; i < own->n_later; i++) {
			if (own->later[i].mask)
				write_try(run, &own->later[i]);
			left += own->later[i].mask != 0;
		}
		waited = sr_sysfs_now_ms() - start;
	}
	for (size_t i = 0; i < own->n_later; i++) {
		struct exec_write *w = &own->later[i];

		for (int a = 0; a < SR_ATTR__COUNT; a++)
			if (w->mask & (1u << a))
				attr_done(run, w, a, w->last[a], (unsigned)waited);
		run->n_later += w->mask != 0;
	}
	own->n_later = 0;
}

/* Unbind a released VF from the passthrough driver and give it back. */
static void release_binding(struct sr_run *run, struct sr_reservation *o, bool have_pf,
			    const struct sr_pf *pf)
{
	const struct sr_node_ops *n = run->node;
	struct sr_err e = { "" };
	char prev[SR_DRIVER_LEN];
	/* A VF created while autoprobe was off had no driver before the bind.
	 * The unbind's reprobe gives it to the PF's VF driver, as without
	 * passthrough, only with autoprobe on: on for that, then off again for
	 * the VFs still reserved. */
	bool probe_host = have_pf && !o->original_driver[0] && pf->autoprobe == 0 &&
			  !n->set_autoprobe(n->ctx, o->pf_pci, true, &e);
	int r = n->unbind_driver(n->ctx, o->vf_pci, &e);

	if (r == -EALREADY)
		/* Still in the driver's remove (vfio-pci waits for the VF's
		 * user): the PF is busy; the unbind ends by itself, and its
		 * reprobe gives the VF to the host as autoprobe says then. */
		WARN(run, "PF %s VF %u app %s: released, the unbind from %s goes on: %s", o->pf_pci,
		     o->vf_index, o->app_uuid, o->bound_driver, e.msg);
	else if (r)
		WARN(run, "PF %s VF %u app %s: unbind from %s: %s", o->pf_pci, o->vf_index,
		     o->app_uuid, o->bound_driver, e.msg);
	else if (o->original_driver[0] &&
		 n->bind_driver(n->ctx, o->vf_pci, o->original_driver, prev, &e))
		/* With autoprobe off the host driver takes a VF back only by
		 * override. */
		WARN(run, "PF %s VF %u app %s: give back to %s: %s", o->pf_pci, o->vf_index,
		     o->app_uuid, o->original_driver, e.msg);
	/* Busy: nothing more to the PF; the next apply turns autoprobe off. */
	if (probe_host && r != -EALREADY && n->set_autoprobe(n->ctx, o->pf_pci, false, &e))
		WARN(run, "PF %s: sriov_drivers_autoprobe back to 0: %s", o->pf_pci, e.msg);
}

/* The VF is no longer on the driver the reservation bound it to: given
 * back already (an apply killed after its release phase) or taken by the
 * host. Unbinding again would wait the whole timeout for it to leave a
 * driver it is meant to stay on (driver_override names the host driver).
 * The PF's VF table is read at its first bound VF: releasing one VF changes
 * only that VF's driver. */
static bool vf_left_driver(struct sr_run *run, const struct sr_reservation *o,
			   struct sr_old_pf *op)
{
	struct sr_err e = { "" };
	const struct sr_vf *vf;
	const char *cur;

	if (!op->found || (!op->vfs_read && run->node->read_vfs(run->node->ctx, &op->pf, &e)))
		return false;
	op->vfs_read = true;
	vf = sr_pf_find_vf(&op->pf, o->vf_index);
	cur = vf ? vf->driver : "";
	if (!strcmp(cur, o->bound_driver))
		return false;
	LOG(run, LOG_INFO, "PF %s VF %u app %s: already off %s (on %s): no unbind", o->pf_pci,
	    o->vf_index, sr_reservation_owner(o), o->bound_driver, cur[0] ? cur : "no driver");
	return true;
}

/* The old PF named pci, read at its first release (releasing N VFs of a PF
 * read the PF N times, and its VF table N times when they were bound).
 * Found by a hash of the PCI address, the table grown by doubling: a
 * linear search and a realloc per new PF made releasing from many PFs
 * quadratic. */
static struct sr_old_pf *old_pf(struct sr_run *run, const char *pci)
{
	size_t len = strnlen(pci, SR_PCI_LEN - 1), at;
	struct sr_old_pf *op;
	struct sr_err e = { "" };

	if (sr_set_find(&run->old_pf_index, pci, len, &at))
		return &run->old_pfs[at];
	if (run->n_old_pfs == run->cap_old_pfs) {
		size_t cap = run->cap_old_pfs ? run->cap_old_pfs * 2 : 8;
		struct sr_old_pf *grown = realloc(run->old_pfs, cap * sizeof(*grown));

		if (!grown)
			return NULL;
		run->old_pfs = grown;
		run->cap_old_pfs = cap;
	}
	if ((!run->old_pf_index.cap && sr_set_init(&run->old_pf_index, 16)) ||
	    sr_set_add(&run->old_pf_index, pci, len, run->n_old_pfs, NULL) < 0)
		return NULL;
	op = &run->old_pfs[run->n_old_pfs++];
	*op = (struct sr_old_pf){ 0 };
	op->found = !run->node->find_pf(run->node->ctx, NULL, pci, &op->pf, &e);
	/* The key even when not found: looked up once. */
	snprintf(op->pf.pci, sizeof(op->pf.pci), "%s", pci);
	if (op->found)
		op->ifindex = sr_node_pf_ifindex(run->node, &op->pf);
	return op;
}

static void old_pfs_free(struct sr_run *run)
{
	for (size_t i = 0; i < run->n_old_pfs; i++)
		sr_pf_clear(&run->old_pfs[i].pf);
	free(run->old_pfs);
	sr_set_free(&run->old_pf_index);
	run->old_pfs = NULL;
	run->n_old_pfs = run->cap_old_pfs = 0;
}

static int run_release(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	struct sr_reservation *o = &run->old->res[a->res];
	struct sr_old_pf *op = old_pf(run, o->pf_pci);
	unsigned mask = 0;

	if (!op)
		return sr_err_set(err, -ENOMEM, "out of memory");
	if (run->node->pf_busy && run->node->pf_busy(run->node->ctx, o->pf_pci, NULL, NULL, 0)) {
		WARN(run, "PF %s VF %u app %s: not released yet: the PF has a write outstanding",
		     o->pf_pci, o->vf_index, o->app_uuid);
		return 0;
	}
	/* Restore only what this agent changed successfully. */
	for (int i = 0; i < SR_ATTR__COUNT; i++)
		if (o->attr_result[i] == 0 && sr_vf_attr_is_set(i, &o->original))
			mask |= 1u << i;
	if (o->bound_driver[0] && o->vf_pci[0] && !vf_left_driver(run, o, op)) {
		release_binding(run, o, op->found, &op->pf);
		run->own->vf_tables_changed = true;
	}
	if (mask && o->has_original)
		write_attrs(run, op->found ? op->ifindex : 0, o->pf_pci, o, &o->original, mask,
			    "restore");
	LOG(run, LOG_INFO, "released PF %s VF %u from app %s", o->pf_pci, o->vf_index,
	    o->app_uuid);
	return 0;
}

static int run_no_autoprobe(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	int r;

	if (pf_busy(run, a->pf))
		return 0;
	r = run->node->set_autoprobe(run->node->ctx, run->pfs[a->pf].pci, false, err);

	if (!r)
		run->pfs[a->pf].autoprobe = 0;
	return r;
}

/* A driver rule (drivers.h): the PF up before its VF count (bnxt_en makes
 * no VF while it is down). Checked once per PF and apply, as for CONFIGURE. */
static int run_pf_up(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	const struct sr_node_ops *n = run->node;
	const struct sr_pf *pf = &run->pfs[a->pf];
	struct sr_err e = { "" };
	bool was_down = false;

	(void)err;
	if (pf_busy(run, a->pf))
		return 0;
	if (!n->link_up || run->ifindex[a->pf] <= 0) {
		WARN(run, "PF %s (%s): cannot bring it up before its VF count (no netlink or no netdev): its driver makes no VF while it is down",
		     pf->pci, pf->driver);
		return 0;
	}
	if (n->link_up(n->ctx, run->ifindex[a->pf], &was_down, &e)) {
		WARN(run, "PF %s (%s): bringing it up before its VF count: %s", pf->pci, pf->driver,
		     e.msg);
		return 0;
	}
	run->own->pf[a->pf].link_checked = true;
	if (was_down)
		LOG(run, LOG_INFO, "PF %s was down: brought it up before its VF count (%s)", pf->pci,
		    pf->driver);
	return 0;
}

static int run_set_numvfs(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	struct sr_pf *pf = &run->pfs[a->pf];
	int r;

	if (pf_busy(run, a->pf))
		return 0;
	r = run->node->set_numvfs(run->node->ctx, pf->pci, a->value, err);
	if (r == -EINPROGRESS) {
		/* The write goes on past the apply's wait: the other PFs are
		 * applied, this one when it returns. */
		mark_busy(run, a->pf, true, err->msg);
		err->msg[0] = '\0';
		return 0;
	}
	if (r)
		return sr_err_prefix(err, r, "PF %s", sr_pf_cfg_label(&run->in.cfg->pfs[a->pf]));
	LOG(run, LOG_INFO, "PF %s: %u VFs", pf->pci, a->value);
	pf->numvfs = a->value;
	return sr_exec_read_pf(run, a->pf, err);
}

/* r's PF is busy: r waits, with no VF address (no domain config). */
static void busy_res(struct sr_reservation *r)
{
	sr_reservation_set_error(r, "PF %s busy: VF %u waits for its driver", r->pf_pci,
				 r->vf_index);
	r->vf_pci[0] = '\0';
}

static int run_map_vfs(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	(void)a;
	(void)err;
	for (size_t i = 0; i < run->in.n_res; i++) {
		struct sr_reservation *r = &run->res[i];
		const struct sr_vf *vf = res_vf(run, r);
		ssize_t pf = sr_plan_pf_by_pci(&run->in, r->pf_pci);

		/* A VF count being written: the VFs come and go. A binding
		 * leaves the PF's other VFs as they are: kept, only the
		 * reservations that need a write wait (run_configure, run_bind). */
		if (pf >= 0 && pf_busy(run, (size_t)pf) && run->own->pf[pf].vfs_change) {
			busy_res(r);
			continue;
		}
		if (!vf) {
			sr_reservation_set_error(r, "VF %u of PF %s is missing", r->vf_index,
						 r->pf_pci);
			r->vf_pci[0] = '\0';
			WARN(run, "PF %s VF %u app %s: VF is missing", r->pf_pci, r->vf_index,
			     r->app_uuid);
			continue;
		}
		sr_reservation_clear_error(r);
		strcpy(r->vf_pci, vf->pci);
	}
	return 0;
}

void sr_exec_map_present(struct sr_run *run)
{
	for (size_t i = 0; i < run->in.n_res; i++) {
		struct sr_reservation *r = &run->res[i];
		const struct sr_vf *vf = res_vf(run, r);

		if (vf && !r->vf_pci[0])
			strcpy(r->vf_pci, vf->pci);
	}
}

/* The original settings, before the first change to a VF; saved durably
 * with the intent before any VF write. */
static int run_capture(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	(void)a;
	(void)err;
	for (size_t i = 0; i < run->in.n_res; i++) {
		struct sr_reservation *r = &run->res[i];
		const struct sr_vf *vf = r->has_original ? NULL : res_vf(run, r);

		if (!vf || !vf->has_kernel)
			continue;
		r->original = vf->kernel;
		r->has_original = true;
	}
	return 0;
}

void sr_exec_state(const struct sr_run *run, const char *result, struct sr_state *st)
{
	*st = (struct sr_state){
		.pfs = run->pfs,
		.n_pfs = run->in.cfg->n_pfs,
		.res = run->res,
		.n_res = run->in.n_res,
		.apps = run->in.cfg->apps,
		.n_apps = run->in.cfg->n_apps,
		.applied_at = time(NULL),
	};
	snprintf(st->last_result, sizeof(st->last_result), "%s", result);
}

/* The intent: the new reservations (with the originals just read) are
 * durable before the first VF write (netlink or driver binding), so a
 * restart after a crash knows which app holds which VF. */
static bool state_unchanged(const struct sr_state *a, const struct sr_run *run);

/* A repair that keeps every reservation as saved (a VF rebound, VFs made
 * again, attributes rewritten) needs no intent: the saved state already
 * says which app holds which VF, and writing it would need room on a
 * state file system that may be full (issue 23, finding 2). */
static int run_save_intent(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	struct sr_state st;
	int r;

	(void)a;
	/* The reservations and apps as saved (the VF table is read again
	 * after the writes, and saved then if it changed). */
	sr_exec_state(run, run->old->last_result, &st);
	st.pfs = run->old->pfs;
	st.n_pfs = run->old->n_pfs;
	if (state_unchanged(&st, run))
		return 0;
	sr_exec_state(run, "applying", &st);
	if ((r = sr_state_save(run->state_dir, &st, err)))
		return r;
	run->intent_saved = true;
	run->state_saved = true;
	run->saved_at = st.applied_at;
	return 0;
}

static int run_configure(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	const struct sr_node_ops *n = run->node;
	struct sr_reservation *r = &run->res[a->res];
	struct sr_err e = { "" };
	bool was_down = false;

	(void)err;
	if (!r->vf_pci[0])
		return 0;
	if (pf_busy(run, a->pf)) {
		busy_res(r);
		return 0;
	}
	/* Once per PF and apply: an RTM_GETLINK each VF doubled the messages. */
	if (n->link_up && run->ifindex[a->pf] > 0 && !run->own->pf[a->pf].link_checked &&
	    !n->link_up(n->ctx, run->ifindex[a->pf], &was_down, &e)) {
		run->own->pf[a->pf].link_checked = true;
		if (was_down)
			LOG(run, LOG_INFO, "PF %s was down: brought it up", run->pfs[a->pf].pci);
	}
	write_attrs(run, run->ifindex[a->pf], run->pfs[a->pf].pci, r, &r->desired, a->attrs, "set");
	return 0;
}

/* ---- binding: one look per VF, one deadline for the apply --------------- */

/* The VF's error state, a debug line, and the PF's first reason. */
static void bind_failed(struct sr_run *run, size_t pf, struct sr_reservation *r,
			const char *why)
{
	struct exec_pf *f = &run->own->pf[pf];

	sr_reservation_set_error(r, "bind to %s failed", run->in.bind_driver);
	LOG(run, LOG_DEBUG, "PF %s VF %u app %s: not bound: %s", r->pf_pci, r->vf_index,
	    r->app_uuid, why);
	run->n_warnings++;
	if (!f->bind_failed++) {
		f->bind_first = (size_t)(r - run->res);
		snprintf(f->bind_why, sizeof(f->bind_why), "%s", why);
	}
}

/* On a kernel the first look after drivers_probe sees the VF bound (the probe
 * is synchronous): no wait. A VF not on the driver yet is waited for until the
 * apply's one deadline, so a driver that never takes them costs the deadline
 * once, not once per VF. */
static int run_bind(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	const struct sr_node_ops *n = run->node;
	struct sr_exec_own *own = run->own;
	struct sr_reservation *r = &run->res[a->res];
	const char *driver = run->in.bind_driver;
	const struct sr_vf *vf = res_vf(run, r);
	char prev[SR_DRIVER_LEN] = "";
	struct sr_err e = { "" };
	int rc;

	(void)err;
	if (!r->vf_pci[0])
		return 0;
	if (pf_busy(run, a->pf)) {
		busy_res(r);
		return 0;
	}
	/* vfio-pci takes a device only in an IOMMU group (none: IOMMU off, or
	 * not isolated); probing it would fail after the unbind from the host
	 * driver, and only show as a bind timeout. */
	if (!strcmp(driver, "vfio-pci") && (!vf || vf->iommu_group == SR_UNSET)) {
		sr_reservation_set_error(r, "VF %s has no IOMMU group: vfio-pci refused",
					 r->vf_pci);
		WARN(run, "PF %s VF %u app %s: VF %s has no IOMMU group (no iommu_group link): not bound to vfio-pci, no domain config",
		     r->pf_pci, r->vf_index, r->app_uuid, r->vf_pci);
		return 0;
	}
	if (!own->bind_started_ms)
		own->bind_started_ms = sr_sysfs_now_ms();
	rc = n->bind_start(n->ctx, r->vf_pci, driver, prev, &e);
	if (rc == -EALREADY) {
		/* The driver has not returned from the writes (node_async.h):
		 * the PF is busy, this VF and the PF's next ones wait for it.
		 * Bound once it returns, the next apply finds the VF on driver;
		 * the driver it had then is not known (as for a VF made with
		 * autoprobe off, its release gives it back by a reprobe). */
		mark_busy(run, a->pf, false, e.msg);
		busy_res(r);
		return 0;
	}
	if (rc == -EINPROGRESS)
		rc = n->bind_wait(n->ctx, r->vf_pci, driver, own->bind_started_ms, &e);
	if (rc) {
		bind_failed(run, a->pf, r, e.msg);
		return 0;
	}
	if (!r->original_driver[0] && strcmp(prev, driver))
		strcpy(r->original_driver, prev);
	strcpy(r->bound_driver, driver);
	return 0;
}

/* After the last BIND action: one warning per PF whose VFs were not all
 * bound, with the first one's reason (each VF has its error state). */
static void bind_report(struct sr_run *run)
{
	for (size_t pf = 0; pf < run->in.cfg->n_pfs; pf++) {
		struct exec_pf *f = &run->own->pf[pf];
		const struct sr_reservation *r;

		if (!f->bind_failed)
			continue;
		r = &run->res[f->bind_first];
		LOG(run, LOG_WARNING, "PF %s: %zu VF(s) not bound to %s (the first: VF %u, app %s): %s",
		    run->pfs[pf].pci, f->bind_failed, run->in.bind_driver, r->vf_index, r->app_uuid,
		    f->bind_why);
		f->bind_failed = 0;
	}
}

static void own_free(struct sr_run *run)
{
	if (run->own) {
		free(run->own->pf);
		free(run->own->later);
		free(run->own->silent);
	}
	free(run->own);
	run->own = NULL;
}

static int own_alloc(struct sr_run *run, struct sr_err *err)
{
	size_t n = run->in.cfg->n_pfs ? run->in.cfg->n_pfs : 1;

	run->own = calloc(1, sizeof(*run->own));
	if (run->own)
		run->own->pf = calloc(n, sizeof(*run->own->pf));
	if (!run->own || !run->own->pf) {
		own_free(run);
		return sr_err_set(err, -ENOMEM, "exec: records for %zu PFs: out of memory", n);
	}
	return 0;
}

static int run_reread(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	int r;

	(void)a;
	for (size_t i = 0; i < run->in.cfg->n_pfs; i++) {
		/* VF settings alone changed: the VF tables (sysfs) are as read,
		 * only the kernel view is read again (one RTM_GETLINK a PF). */
		if (!run->own->vf_tables_changed)
			read_pf_settings(run, i, false, err);
		else if ((r = read_pf(run, i, false, err)))
			return r;
	}
	return 0;
}

/* a (with the old state's applied_at) encodes as the state in force does,
 * so the file would be written with the bytes it has. The state in force
 * changed in place only by a release, whose reservation a lacks. No file:
 * changed (a run's state always has a last_result, the empty state loaded
 * without a file has none, so they never encode alike). */
static bool state_unchanged(const struct sr_state *a, const struct sr_run *run)
{
	struct sr_state x = *a;

	x.applied_at = run->old->applied_at;
	return sr_state_same(&x, run->old);
}

static int run_save(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	struct sr_state st;
	int r;

	(void)a;
	sr_exec_state(run, run->n_warnings ? "applied with warnings" : "applied", &st);
	/* Kernel writes alone (a repair) leave the record as it was. */
	if (!run->intent_saved && state_unchanged(&st, run))
		return 0;
	if ((r = step(run, "before-save", 1, err))) {
		sr_err_prefix(err, r, "%s/%s: not saved", run->state_dir, SR_STATE_FILE);
		return r;
	}
	if ((r = sr_state_save(run->state_dir, &st, err)))
		return r;
	run->state_saved = true;
	run->saved_at = st.applied_at;
	return step(run, "after-save", 1, err);
}

static int run_retire_domains(struct sr_run *run, const struct sr_action *a,
			      struct sr_err *err)
{
	bool changed = false;
	int r;

	(void)a;
	r = run->outputs->retire(run->outputs->ctx, run->old->res, run->old->n_res, run->res,
				 run->in.n_res, run->dry_run, &changed, err);
	if (changed && !run->dry_run)
		run->outputs_begun = true;
	return r;
}

static int run_write_domains(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	struct sr_state st;
	unsigned warnings = 0;
	int r;

	(void)a;
	run->outputs_begun = !run->dry_run;
	sr_exec_state(run, run->n_warnings ? "applied with warnings" : "applied", &st);
	r = run->outputs->write(run->outputs->ctx, &st, run->dry_run, &warnings, err);
	run->n_warnings += warnings;
	return r;
}

static int run_save_config(struct sr_run *run, const struct sr_action *a, struct sr_err *err)
{
	(void)a;
	run->outputs_begun = !run->dry_run;
	return run->outputs->save_config(run->outputs->ctx, run->cfg_bytes, run->cfg_len,
					 run->dry_run, err);
}

struct phase {
	int (*run)(struct sr_run *run, const struct sr_action *a, struct sr_err *err);
	const char *step;       /* passed after each action of the type; NULL: none */
};

/* In execution order (enum sr_action_type is declared in that order). */
static const struct phase phases[SR_ACT__COUNT] = {
	[SR_ACT_RETIRE_DOMAINS] = { run_retire_domains, "after-retire-domains" },
	[SR_ACT_RELEASE] = { run_release, "after-release" },
	[SR_ACT_NO_AUTOPROBE] = { run_no_autoprobe, NULL },
	[SR_ACT_PF_UP] = { run_pf_up, NULL },
	[SR_ACT_SET_NUMVFS] = { run_set_numvfs, "after-numvfs" },
	[SR_ACT_MAP_VFS] = { run_map_vfs, NULL },
	[SR_ACT_CAPTURE] = { run_capture, NULL },
	[SR_ACT_SAVE_INTENT] = { run_save_intent, "after-save-intent" },
	[SR_ACT_CONFIGURE] = { run_configure, "after-configure" },
	[SR_ACT_BIND] = { run_bind, "after-bind" },
	[SR_ACT_REREAD] = { run_reread, NULL },
	[SR_ACT_SAVE] = { run_save, NULL }, /* passes before-save, after-save itself */
	[SR_ACT_WRITE_DOMAINS] = { run_write_domains, "after-domains" },
	[SR_ACT_SAVE_CONFIG] = { run_save_config, "after-save-config" },
};

static bool is_output(enum sr_action_type t)
{
	return t == SR_ACT_RETIRE_DOMAINS || t == SR_ACT_WRITE_DOMAINS || t == SR_ACT_SAVE_CONFIG;
}

int sr_exec_dry(struct sr_run *run, const struct sr_plan *plan, struct sr_err *err)
{
	int r = 0;

	run->dry_run = true;
	for (size_t i = 0; i < plan->n && !r; i++)
		if (is_output(plan->actions[i].type) && run->outputs)
			r = phases[plan->actions[i].type].run(run, &plan->actions[i], err);
	return r;
}

int sr_exec(struct sr_run *run, const struct sr_plan *plan, struct sr_err *err)
{
	size_t nth[SR_ACT__COUNT] = { 0 };
	struct sr_node_counts c0 = { 0 }, c1 = { 0 };
	int r;

	run->n_changes = plan->n_changes;
	run->n_later = run->n_busy = 0;
	if ((r = own_alloc(run, err)))
		return r;
	if (run->node->counts)
		run->node->counts(run->node->ctx, &c0);
	for (size_t i = 0; i < plan->n && !r; i++) {
		const struct sr_action *a = &plan->actions[i];
		const struct phase *ph = (unsigned)a->type < SR_ACT__COUNT ? &phases[a->type] : NULL;
		char line[256];

		if (!ph || (is_output(a->type) && !run->outputs)) {
			r = sr_err_set(err, -EINVAL, "plan: %s action %d", ph ? "no outputs for" : "unknown",
				       (int)a->type);
			break;
		}
		if (run->log_debug) {
			sr_action_format(a, &run->in, line, sizeof(line));
			LOG(run, LOG_DEBUG, "exec: %s", line);
		}
		/* A release changes a VF table only when it unbinds (run_release
		 * says so); restoring settings is netlink, like CONFIGURE. */
		if (a->type != SR_ACT_CONFIGURE && a->type != SR_ACT_RELEASE &&
		    sr_action_changes_node(a->type))
			run->own->vf_tables_changed = true;
		if (sr_action_changes_node(a->type))
			run->began_changes = true;
		r = ph->run(run, a, err);
		nth[a->type]++;
		if (!r && ph->step)
			r = step(run, ph->step, nth[a->type], err);
		if (a->type == SR_ACT_BIND &&
		    (i + 1 == plan->n || plan->actions[i + 1].type != SR_ACT_BIND))
			bind_report(run);
		/* The settings a driver answered "later" to: once the phase
		 * that wrote them is over (restores, then settings). */
		if (run->own->n_later && (i + 1 == plan->n || plan->actions[i + 1].type != a->type))
			retry_later(run);
	}
	old_pfs_free(run);
	own_free(run);
	if (run->node->counts)
		run->node->counts(run->node->ctx, &c1);
	run->writes.sysfs_writes = c1.sysfs_writes - c0.sysfs_writes;
	run->writes.netlink_writes = c1.netlink_writes - c0.netlink_writes;
	return r;
}
