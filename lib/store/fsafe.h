/* SPDX-License-Identifier: MIT */
/*
 * Directories and files the agent owns, safe from other local users: a
 * directory it writes (state, domain configs, --info-file's) must not be
 * one another user can change, nor sit below one (they could swap it for a
 * symlink and redirect root's writes and deletes); files and locks it makes
 * are 0600, opened with O_NOFOLLOW. Issue 23, findings 1 and 11.
 */
#pragma once

#include <stdbool.h>

#include "err.h"

/* dir and every directory its lookup goes through, as given and as
 * resolved (symlinks followed): owned by root or by this process's euid,
 * and not writable by group or others, except an ancestor with the sticky
 * bit (/tmp), and every symlink the lookup meets owned by root or euid
 * (its owner could replace it). dir itself must be a directory owned by
 * euid, not writable by group or others. 0, or -EPERM / -ENOTDIR / -errno with a message
 * naming what (e.g. "state dir"), the path, its owner and mode. */
int sr_dir_trusted(const char *dir, const char *what, struct sr_err *err);

/* mkdir dir 0700 when missing (its parent must exist), then
 * sr_dir_trusted. */
int sr_dir_own(const char *dir, const char *what, struct sr_err *err);
