/* SPDX-License-Identifier: MIT */
/*
 * The --config watch (inotify). The file's directory is watched for any
 * change of its entries (the file written, replaced by a rename, or a
 * symlink on its path swapped: a ConfigMap's "..data"), and the
 * directory's parent for the directory itself being removed, made again or
 * replaced by a rename; the directory's watch is then armed again on what
 * is there now. Whether the file changed is judged by its identity (stat
 * through symlinks: device, inode, size, mtime, ctime), not by event names.
 * A change is read once the file has been quiet for CFG_SETTLE_MS (a
 * writer that closes between two chunks faster than that is read whole);
 * writers should still write a temporary file and rename it into place.
 * The daemon's timer calls cfg_watch_tick: what inotify could not see
 * (the parent itself replaced) is found there, at --interval.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define CFG_SETTLE_MS 500

/* What a file is, as far as a change goes; known false when stat failed. */
struct cfg_id {
	bool known;
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns, ctime_ns;
};

struct cfg_watch {
	int fd;                        /* inotify, -1: none */
	const char *path;              /* --config as given */
	char dir[PATH_MAX];            /* its directory */
	char parent[PATH_MAX];         /* the directory's parent */
	char dir_name[NAME_MAX + 1];   /* the directory's name in parent ("" : none) */
	int wd_dir, wd_parent;         /* -1: not watched */
	dev_t dir_dev;                 /* the directory wd_dir watches */
	ino_t dir_ino;
	struct cfg_id taken;           /* the file as it was when last read */
	uint64_t due_ms;               /* a look is due then (0: none) */
	unsigned long rearms;          /* the directory's watch armed again */
};

/* Watch path's directory and its parent; records the file's identity.
 * 0, or -errno after logging (no inotify, path without a file name). A
 * directory missing at start is armed when it appears. */
int cfg_watch_open(struct cfg_watch *w, const char *path);
void cfg_watch_close(struct cfg_watch *w);

/* The inotify fd is readable: read its events, arm again what moved, and
 * schedule a look CFG_SETTLE_MS after the last one. */
void cfg_watch_read(struct cfg_watch *w);
/* timeout (ms, -1: none) lowered to when a look is due. */
int cfg_watch_timeout(const struct cfg_watch *w, int timeout);
/* A look is due and the file's identity is not the one taken: true (the
 * caller reads it and calls cfg_watch_taken first). */
bool cfg_watch_due(struct cfg_watch *w);
/* The timer: arm the directory's watch again if the directory at the path
 * is not the one watched; true when the file's identity is not the one
 * taken. */
bool cfg_watch_tick(struct cfg_watch *w);
/* The file is about to be read: its identity now is the one taken. */
void cfg_watch_taken(struct cfg_watch *w);
/* The file's identity now (stat through symlinks). */
void cfg_watch_id(const char *path, struct cfg_id *out);
