/* SPDX-License-Identifier: MIT */
/*
 * Files the agent owns: whole reads, atomic replacement (temp file, fsync,
 * rename, fsync of the directory: a reader never sees a torn file), the
 * state dir's lock, leftover temp files, free space before a write.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* One agent per state dir: an exclusive POSIX lock on dir/lock (made,
 * with dir, when missing; the file stays empty, mode 0600). dir must be
 * one no other user can change (sr_dir_own: made 0700 when missing). A
 * lock file another user could have opened (mode other than 0600, another
 * owner) is replaced by a new one first, under a lock (dir/lock.new's, and
 * the old file's when no other user's read lock stops it), so that two
 * agents starting at once never lock two different files. 0 and *fd (keep
 * it open while working; sr_state_unlock() or exit releases it); 1 and *fd
 * with a note in err (the file was replaced); -EWOULDBLOCK with a message
 * naming the holder's pid; -EPERM when dir is not the agent's alone.
 * Readers (sriovctl) take no lock: every file is replaced atomically. */
#define SR_LOCK_FILE "lock"
int sr_state_lock(const char *dir, int *fd, struct sr_err *err);
/* Test hook, NULL outside tests: called at the lock's steps ("opened":
 * dir/lock is open, nothing locked; "staged": lock.new is held, the old
 * file not yet replaced), so a test can run two lockers in a set order. */
extern void (*sr_state_lock_step)(const char *point);
void sr_state_unlock(int fd);

/* Remove temp files an atomic write left behind when the process died
 * (".NAME.XXXXXX" with NAME ending in .pb or .cfg). Call with the lock
 * held. Returns how many were removed (or -errno). */
int sr_clean_temp_files(const char *dir);

/* dir (made 0700 when missing; sr_dir_own: no other user may change it)
 * takes writes: not on a read-only file system,
 * writable, at least need bytes and SR_MIN_FREE_INODES inodes free. Checked before an apply's first
 * kernel write, so a full or read-only state dir changes nothing. */
#define SR_MIN_FREE_INODES 8   /* temp files of an apply's atomic writes */
int sr_check_dir_writable(const char *dir, uint64_t need, const char *what, struct sr_err *err);

/* Atomically replace dir/name with buf (temp + fsync + rename + dir fsync),
 * mode 0600. */
int sr_write_atomic(const char *dir, const char *name, const void *buf, size_t len,
		    struct sr_err *err);
/* The same with another mode (a file meant for other readers). */
int sr_write_atomic_mode(const char *dir, const char *name, const void *buf, size_t len,
			 mode_t mode, struct sr_err *err);
/* Read a whole regular file (at most max bytes); *buf malloc'd. Anything
 * else (a FIFO, a directory, a device) is refused with -EINVAL, without
 * blocking. */
int sr_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct sr_err *err);
/* The same for a file the agent wrote in a directory it owns (a domain
 * config read back): a symlink there is refused (-ELOOP, "a symlink"), never
 * followed out of the directory (O_NOFOLLOW, as the writes are). */
int sr_read_own_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		     struct sr_err *err);

/* fill writes a file's bytes to fd (path: the temp file, for messages). */
typedef int (*sr_fill_fn)(void *arg, int fd, const char *path, struct sr_err *err);
/* sr_write_atomic with the bytes written by fill, streamed (state.pb is
 * encoded straight into the file). */
int sr_write_atomic_fill(const char *dir, const char *name, sr_fill_fn fill, void *arg,
			 mode_t mode, struct sr_err *err);
/* All of len bytes to fd, across short writes and EINTR. */
int sr_write_all(int fd, const uint8_t *p, size_t len, const char *path, struct sr_err *err);
