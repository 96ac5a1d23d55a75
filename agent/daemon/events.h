/* SPDX-License-Identifier: MIT */
/*
 * The daemon's kernel events (events.c): the monitor's sockets in run.c's
 * poll() loop, the watch set kept from the config and the saved state,
 * debounced repairs, the agent's own echoes, and the counters status shows.
 */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent.h"
#include "monitor.h"
#include "state.h"

#define EVENTS_QUIET_MS 30     /* a burst ends after this much quiet */
#define EVENTS_MAX_WAIT_MS 500 /* a repair waits at most this after the first event */
#define EVENTS_NFDS 2

struct agent_events {
	struct sr_mon mon;
	char monitor[SR_ERR_MAX + 16]; /* status: "rtnetlink+uevent", "off: ..." */
	struct sr_mon_watch cfg_ids; /* PF names and addresses in the config */
	struct sr_mon_watch cfg_force; /* the same, of the config in force */
	struct sr_mon_watch cfg_wait; /* the same, of a --config waiting for its PFs */
	struct sr_mon_watch watch;  /* cfg_ids + the state's PFs and VFs */
	struct sr_mon_links links;  /* link state last seen per PF netdev */
	struct sr_debounce deb;
	bool verify;                /* the pending repair only verifies echoes */
	char why[96];               /* the pending burst's first event */
	size_t burst;               /* events in it */
	uint8_t *buf;               /* SR_MON_MSG_MAX */
	/* counters (status) */
	unsigned long received;     /* events about managed PFs and VFs */
	unsigned long own;          /* of those, the agent's own echoes */
	unsigned long overruns;     /* ENOBUFS: events lost, full repair */
	unsigned long reconciles;   /* reconciles started by events */
	unsigned long verifies;     /* of those, verifying the agent's echoes */
	unsigned long repairs;      /* reconciles that wrote to the kernel */
	int64_t repair_ms;          /* last event-driven repair: first event -> done */
	int64_t repair_done_us;     /* its end, CLOCK_REALTIME in us */
};

/* Opens the monitor when the node is the real one (--sysfs-root /): link
 * notifications unless --no-netlink, and uevents. Without it (a fake
 * sysfs, or the sockets cannot be opened: logged as a warning) the timer
 * alone reconciles. */
void events_open(struct agent_events *ev, const struct agent_opts *o);
void events_close(struct agent_events *ev);
/* The monitor is open (else nothing below does anything). */
static inline bool events_on(const struct agent_events *ev)
{
	return ev->buf != NULL;
}

/* The PF names and addresses to watch, from a config the daemon takes as
 * its apply decoded it (agent_env's decoded hook): a new config in force,
 * or the --config file that waits for its PFs. */
void events_set_config(struct agent_events *ev, const struct sr_config *c);
/* The config set last is now in force: events_restore_config returns to
 * its PFs. */
void events_config_in_force(struct agent_events *ev);
/* The config set last was refused because its PFs are missing, and is
 * tried again when they come: its PFs stay watched until events_restore_config
 * is told that nothing waits any more. */
void events_config_waits(struct agent_events *ev);
/* The config set last was refused: watch the PFs of the one in force, and
 * those of the config that waits for its PFs if waiting. */
void events_restore_config(struct agent_events *ev, bool waiting);
/* The watch set: the config's PFs, plus the PFs and VFs of st. */
void events_rewatch(struct agent_events *ev, const struct sr_state *st);

/* pollfds (EVENTS_NFDS, fd -1 when closed) and the poll timeout, lowered
 * to when the pending repair is due. */
void events_pollfds(const struct agent_events *ev, struct pollfd *p, int *timeout_ms);
/* After poll(): read what the sockets hold. */
void events_service(struct agent_events *ev, const struct pollfd *p);
/* A repair is due now: *verify says it only verifies echoes, *first_ms
 * when the burst began, why names it. Clears the pending repair. */
bool events_due(struct agent_events *ev, bool *verify, int64_t *first_ms, char *why, size_t cap);

/* Every apply: before (a pending repair is covered by it) and after, with
 * the kernel writes it made: the events that queued meanwhile are judged
 * (sr_mon_after_apply). applied_ok false for a config refused before any
 * write: a pending repair stays pending. */
void events_before_apply(struct agent_events *ev, struct sr_debounce *saved);
struct events_applied {
	bool touched_node;   /* false: refused before any kernel access */
	size_t writes;       /* kernel writes it made */
	bool was_verify;     /* it was a reconcile verifying echoes */
};
void events_after_apply(struct agent_events *ev, const struct sr_debounce *saved,
			const struct events_applied *a);
/* A reconcile finished (applied: it succeeded) with writes kernel writes:
 * by_event (and verify) as events_due said, first_ms when its burst
 * began. A repair is a reconcile that succeeded and wrote. */
struct events_reconcile {
	bool by_event;       /* started by kernel events */
	bool verify;         /* only to verify the agent's echoes */
	int64_t first_ms;    /* when its burst began (by_event) */
	bool applied;        /* it succeeded */
	size_t writes;       /* kernel writes it made */
};
void events_reconciled(struct agent_events *ev, const struct events_reconcile *rc);

int64_t events_now_ms(void);
