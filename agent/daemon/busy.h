/* SPDX-License-Identifier: MIT */
/*
 * The daemon's slow kernel writes (lib/kernel/node_async.h): sriov_numvfs and a
 * VF's driver bind or unbind run on a thread of their own; an apply waits
 * for one at most BUSY_INLINE_MS (a bind: at most --bind-timeout), then
 * its PF is "busy" and the daemon goes on answering. The write's end wakes
 * the daemon's poll() through an eventfd; busy_service reports it and asks
 * for a reconcile, which applies the PF.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "agent.h"

#define BUSY_INLINE_MS 2000

/* Turn env's node asynchronous for its slow writes: the eventfd to poll,
 * or -errno. */
int busy_open(struct agent_env *env, unsigned long bind_timeout_s);
void busy_close(struct agent_env *env, int fd);
/* fd readable: log each write that ended; true when one did (reconcile). */
bool busy_service(struct agent_env *env, int fd);
/* The PFs busy now: how many, and one line naming each (status, replies);
 * "" when none. */
size_t busy_describe(struct agent_env *env, char *buf, size_t cap);
