/* SPDX-License-Identifier: MIT */
/* Fault injection for the crash tests: SR_FAULT, installed as the node's step hook. */
#pragma once

#include "node.h"

/* When SR_FAULT=POINT[:N] is set, make the Nth (default: the first) pass of
 * POINT in an apply kill the process with SIGKILL; with POINT:N:ERRNO (EIO,
 * ENOSPC, EROFS) make it fail with that error instead (before-save: the
 * state save fails, as on a full or failing disk). Points: after-release,
 * after-numvfs, after-save-intent, after-configure, after-bind, before-save,
 * after-save (docs/daemon.md). Unset: installs nothing. 0, or -EINVAL with
 * a message when SR_FAULT is malformed. */
int agent_fault_install(struct sr_node_ops *node, struct sr_err *err);
