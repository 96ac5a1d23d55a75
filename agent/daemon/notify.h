/* SPDX-License-Identifier: MIT */
/*
 * systemd's service notification protocol (sd_notify(3)) for sriov-agent
 * run. Built from notify_systemd.c when libsystemd is found, else from
 * notify_none.c, where every call does nothing. Under systemd the messages
 * go to $NOTIFY_SOCKET; without it (EVE, a shell) libsystemd sends nothing.
 */
#pragma once

#include <stdint.h>

/* READY=1 with STATUS=status: the startup reconcile (or a reload) is done. */
void agent_notify_ready(const char *status);
/* RELOADING=1: a SIGHUP reload starts; agent_notify_ready() ends it. */
void agent_notify_reloading(void);
/* STATUS=status: the last config or reconcile result. */
void agent_notify_status(const char *status);
/* STOPPING=1 */
void agent_notify_stopping(void);
/* The unit's WatchdogSec= in microseconds when systemd asked for pings
 * (sd_watchdog_enabled: $WATCHDOG_USEC, for this pid), else 0. */
uint64_t agent_notify_watchdog_usec(void);
/* WATCHDOG=1: the poll loop is alive (sent by the loop itself, so a
 * worker thread stuck in the kernel does not stop it). */
void agent_notify_watchdog(void);
/* "libsystemd" or "none": what this build sends through. */
const char *agent_notify_backend(void);
