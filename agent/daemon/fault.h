/* SPDX-License-Identifier: MIT */
/* Fault injection for the crash tests: SR_FAULT, installed as the node's step hook. */
#pragma once

#include "node.h"

/* When SR_FAULT=POINT[:N] is set, make the Nth (default: the first) pass of
 * POINT in this process kill it with SIGKILL; with POINT:N:ERRNO (EIO,
 * ENOSPC, EROFS) make that pass and every later one fail with that error
 * instead (before-save: the state save fails, as on a full or failing
 * disk). Points: docs/daemon.md. SR_VF_IN_RESET=MS: every VF setting is
 * answered -EAGAIN for MS ms, as i40e does while a VF is in reset (fault.c).
 * Unset: installs nothing. 0, or -EINVAL with a message when malformed. */
int agent_fault_install(struct sr_node_ops *node, struct sr_err *err);
