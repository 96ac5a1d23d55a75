/* SPDX-License-Identifier: MIT */
/*
 * The daemon's kernel events (events.h): lib/kernel/monitor.c's sockets and pure
 * decisions wired into run.c's loop, with the agent's log and counters.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "events.h"
#include "log.h"

int64_t events_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void events_open(struct agent_events *ev, const struct agent_opts *o)
{
	struct sr_err err = { "" };
	bool link = !o->no_netlink;

	memset(ev, 0, sizeof(*ev));
	ev->mon.fd[0] = ev->mon.fd[1] = -1;
	sr_mon_watch_init(&ev->cfg_ids);
	sr_mon_watch_init(&ev->cfg_force);
	sr_mon_watch_init(&ev->cfg_wait);
	sr_mon_watch_init(&ev->watch);
	if (strcmp(o->sysfs_root, "/") && o->sysfs_root[0] && !o->kernel_events) {
		/* A fake node sends no kernel events (and the host's are not
		 * about it): the timer alone reconciles. --kernel-events: a
		 * fake PCI tree paired with real netdevs (test/vm netdevsim),
		 * whose rtnetlink events are the kernel's. */
		snprintf(ev->monitor, sizeof(ev->monitor), "off: --sysfs-root %.400s is not the kernel's",
			 o->sysfs_root);
		log_info("events: %s; reconcile every %lus only", ev->monitor, o->interval);
		return;
	}
	ev->buf = malloc(SR_MON_MSG_MAX);
	if (!ev->buf || sr_mon_open(&ev->mon, (link ? SR_MON_BIT(SR_MON_LINK) : 0) | SR_MON_BIT(SR_MON_UEVENT), &err)) {
		snprintf(ev->monitor, sizeof(ev->monitor), "off: %s",
			 ev->buf ? err.msg : "out of memory");
		log_warn("events: %s; reconcile every %lus only", ev->monitor, o->interval);
		free(ev->buf);
		ev->buf = NULL;
		return;
	}
	snprintf(ev->monitor, sizeof(ev->monitor), "%s", link ? "rtnetlink+uevent" : "uevent");
	log_info("events: %s monitor on", ev->monitor);
}

void events_close(struct agent_events *ev)
{
	sr_mon_close(&ev->mon);
	sr_mon_watch_free(&ev->cfg_ids);
	sr_mon_watch_free(&ev->cfg_force);
	sr_mon_watch_free(&ev->cfg_wait);
	sr_mon_watch_free(&ev->watch);
	sr_mon_links_free(&ev->links);
	free(ev->buf);
	ev->buf = NULL;
}

/* dst gets every entry of src (besides its own). */
static int watch_add_all(struct sr_mon_watch *dst, const struct sr_mon_watch *src)
{
	int r = 0;

	for (size_t i = 0; !r && i < src->n_pci; i++)
		r = sr_mon_watch_add_pci(dst, src->pci[i]);
	for (size_t i = 0; !r && i < src->n_ifname; i++)
		r = sr_mon_watch_add_ifname(dst, src->ifname[i]);
	return r;
}

void events_set_config(struct agent_events *ev, const struct sr_config *c)
{
	int r = 0;

	if (!ev->buf)
		return;
	sr_mon_watch_clear(&ev->cfg_ids);
	for (size_t i = 0; !r && i < c->n_pfs; i++)
		r = sr_mon_watch_add_pci(&ev->cfg_ids, c->pfs[i].pci) ?:
		    sr_mon_watch_add_ifname(&ev->cfg_ids, c->pfs[i].ifname);
	if (r)
		log_warn("events: cannot record the config's PFs: %s", strerror(-r));
}

/* dst = src; warns (what names the set) when it cannot grow. */
static void watch_copy(struct sr_mon_watch *dst, const struct sr_mon_watch *src, const char *what)
{
	int r;

	sr_mon_watch_clear(dst);
	if ((r = watch_add_all(dst, src)))
		log_warn("events: cannot record %s: %s", what, strerror(-r));
}

void events_config_in_force(struct agent_events *ev)
{
	if (ev->buf)
		watch_copy(&ev->cfg_force, &ev->cfg_ids, "the PFs of the config in force");
}

void events_config_waits(struct agent_events *ev)
{
	if (ev->buf)
		watch_copy(&ev->cfg_wait, &ev->cfg_ids, "the PFs --config waits for");
}

void events_restore_config(struct agent_events *ev, bool waiting)
{
	int r;

	if (!ev->buf)
		return;
	watch_copy(&ev->cfg_ids, &ev->cfg_force, "the config's PFs");
	if (!waiting)
		sr_mon_watch_clear(&ev->cfg_wait);
	else if ((r = watch_add_all(&ev->cfg_ids, &ev->cfg_wait)))
		log_warn("events: cannot record the PFs --config waits for: %s", strerror(-r));
}

void events_rewatch(struct agent_events *ev, const struct sr_state *st)
{
	struct sr_mon_watch *w = &ev->watch;
	int r;

	if (!ev->buf)
		return;
	sr_mon_watch_clear(w);
	r = watch_add_all(w, &ev->cfg_ids);
	for (size_t i = 0; !r && st && i < st->n_pfs; i++) {
		r = sr_mon_watch_add_pci(w, st->pfs[i].pci) ?:
		    sr_mon_watch_add_ifname(w, st->pfs[i].ifname);
		for (size_t v = 0; !r && v < st->pfs[i].n_vfs; v++)
			r = sr_mon_watch_add_pci(w, st->pfs[i].vfs[v].pci);
	}
	if (r)
		log_warn("events: cannot record the managed PFs and VFs: %s", strerror(-r));
	sr_mon_watch_seal(w);
	log_debug("events: watching %zu PCI address(es), %zu netdev name(s)", w->n_pci,
		  w->n_ifname);
}

void events_pollfds(const struct agent_events *ev, struct pollfd *p, int *timeout_ms)
{
	int64_t wait = sr_debounce_wait(&ev->deb, events_now_ms(), EVENTS_QUIET_MS,
					EVENTS_MAX_WAIT_MS);

	for (int i = 0; i < EVENTS_NFDS; i++) {
		p[i].fd = ev->mon.fd[i];
		p[i].events = POLLIN;
		p[i].revents = 0;
	}
	if (wait >= 0 && (*timeout_ms < 0 || wait < *timeout_ms))
		*timeout_ms = (int)wait;
}

/* Read what is queued on src, SR_MON_DRAIN_MAX datagrams at most: *ours
 * counts the messages about managed devices (the first described in first),
 * *overrun is set on ENOBUFS. */
static void drain(struct agent_events *ev, enum sr_mon_source src, size_t *ours, bool *overrun,
		  struct sr_mon_event *first)
{
	size_t reads = 0;
	ssize_t n;

	if (ev->mon.fd[src] < 0)
		return;
	while (reads++ < SR_MON_DRAIN_MAX &&
	       (n = sr_mon_recv(&ev->mon, src, ev->buf, SR_MON_MSG_MAX)) != -EAGAIN) {
		struct sr_mon_event e;
		size_t mine = 0, others = 0;

		if (n == -ENOBUFS) {
			*overrun = true;
			continue;
		}
		if (n < 0) {
			if (n != -EMSGSIZE) {
				/* A socket that fails would wake poll() forever:
				 * close it; the timer still reconciles. */
				log_warn("events: receive: %s: %s closed, a full repair is due",
					 strerror((int)-n), src == SR_MON_LINK ? "link notifications" : "uevents");
				close(ev->mon.fd[src]);
				ev->mon.fd[src] = -1;
				snprintf(ev->monitor, sizeof(ev->monitor), "degraded: %s closed after %s",
					 src == SR_MON_LINK ? "rtnetlink" : "uevent", strerror((int)-n));
				*overrun = true;
				return;
			}
			continue;
		}
		if (src == SR_MON_LINK) {
			sr_mon_parse_link(ev->buf, (size_t)n, &ev->watch, &ev->links, &mine, &others,
					  &e);
		} else {
			sr_mon_parse_uevent(ev->buf, (size_t)n, &ev->watch, &e);
			mine = e.ours;
		}
		if (mine && !*ours && first)
			*first = e;
		*ours += mine;
	}
}

/* Events (or an overrun) that ask for a repair. */
static void schedule(struct agent_events *ev, bool verify, const char *why, size_t n)
{
	if (!ev->deb.pending) {
		ev->verify = verify;
		snprintf(ev->why, sizeof(ev->why), "%s", why);
		ev->burst = 0;
	} else if (!verify) {
		ev->verify = false; /* a real event makes it a repair */
	}
	ev->burst += n;
	sr_debounce_event(&ev->deb, events_now_ms());
}

void events_service(struct agent_events *ev, const struct pollfd *p)
{
	for (int src = 0; src < EVENTS_NFDS; src++) {
		struct sr_mon_event first = { .ours = false };
		size_t ours = 0;
		bool overrun = false;

		if (!p[src].revents)
			continue;
		drain(ev, (enum sr_mon_source)src, &ours, &overrun, &first);
		ev->received += ours;
		if (overrun) {
			ev->overruns++;
			log_warn("events: the kernel dropped %s (socket overrun): a full repair is due",
				 src == SR_MON_LINK ? "link notifications" : "uevents");
			schedule(ev, false, "event overrun", 1);
		}
		if (ours) {
			log_debug("events: %zu about managed devices, first: %s", ours, first.desc);
			schedule(ev, false, first.desc, ours);
		}
	}
}

bool events_due(struct agent_events *ev, bool *verify, int64_t *first_ms, char *why, size_t cap)
{
	if (sr_debounce_wait(&ev->deb, events_now_ms(), EVENTS_QUIET_MS, EVENTS_MAX_WAIT_MS))
		return false;
	*verify = ev->verify;
	*first_ms = ev->deb.first_ms;
	snprintf(why, cap, "%s%s, %zu event(s)", ev->verify ? "verify: " : "", ev->why, ev->burst);
	sr_debounce_clear(&ev->deb);
	return true;
}

void events_before_apply(struct agent_events *ev, struct sr_debounce *saved)
{
	*saved = ev->deb;
	sr_debounce_clear(&ev->deb);
}

void events_after_apply(struct agent_events *ev, const struct sr_debounce *saved,
			const struct events_applied *a)
{
	size_t writes = a->writes;
	struct sr_mon_event first = { .ours = false };
	size_t echoes = 0;
	bool overrun = false;

	/* A config refused before any kernel access left the node as it
	 * was: a repair that was pending still is. */
	if (!a->touched_node && saved->pending)
		ev->deb = *saved;
	for (int src = 0; src < EVENTS_NFDS; src++)
		drain(ev, (enum sr_mon_source)src, &echoes, &overrun, &first);
	ev->received += echoes;
	ev->overruns += overrun;
	switch (sr_mon_after_apply(&(struct sr_mon_apply_seen){ .kernel_writes = writes,
								 .echoes = echoes,
								 .overrun = overrun,
								 .was_verify = a->was_verify })) {
	case SR_MON_QUIET:
		break;
	case SR_MON_ECHO:
		ev->own += echoes;
		log_debug("events: %zu echo(es) of the agent's own writes ignored", echoes);
		break;
	case SR_MON_VERIFY:
		ev->own += echoes;
		log_debug("events: %zu echo(es) of %zu kernel write(s)%s: one verifying reconcile",
			  echoes, writes, overrun ? " (overrun)" : "");
		schedule(ev, true, overrun ? "echo overrun" : "echoes", echoes);
		break;
	case SR_MON_REPAIR:
		log_debug("events: %zu event(s) during an apply that wrote nothing: a repair", echoes);
		schedule(ev, false, overrun ? "event overrun" : first.desc, echoes);
		break;
	}
}

void events_reconciled(struct agent_events *ev, const struct events_reconcile *rc)
{
	if (rc->by_event) {
		ev->reconciles++;
		ev->verifies += rc->verify;
	}
	if (!rc->applied || !rc->writes)
		return;
	ev->repairs++;
	if (rc->by_event) {
		ev->repair_ms = events_now_ms() - rc->first_ms;
		ev->repair_done_us = realtime_us();
	}
}
