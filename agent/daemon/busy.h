/* SPDX-License-Identifier: MIT */
/*
 * The daemon's slow kernel writes (lib/kernel/node_async.h): sriov_numvfs runs on
 * a thread of its own; an apply waits for it at most BUSY_INLINE_MS, then
 * its PF is "busy" and the daemon goes on answering. The write's end wakes
 * the daemon's poll() through an eventfd; busy_service reports it and asks
 * for a reconcile, which applies the PF.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "agent.h"

#define BUSY_INLINE_MS 2000

/* Turn env's node asynchronous for sriov_numvfs: the eventfd to poll, or
 * -errno. */
int busy_open(struct agent_env *env);
void busy_close(struct agent_env *env, int fd);
/* fd readable: log each write that ended; true when one did (reconcile). */
bool busy_service(struct agent_env *env, int fd);
/* The PFs busy now: how many, and one line naming each (status, replies);
 * "" when none. */
size_t busy_describe(struct agent_env *env, char *buf, size_t cap);
