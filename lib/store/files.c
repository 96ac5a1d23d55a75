/* SPDX-License-Identifier: MIT */
/*
 * Files the agent owns (files.h): whole reads of regular files, atomic
 * replacement, the state dir's lock, leftover temp files, free space.
 * Nothing here knows what the bytes mean; state.c is the codec.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "files.h"
#include "fsafe.h"

int sr_write_all(int fd, const uint8_t *p, size_t len, const char *path, struct sr_err *err)
{
	while (len > 0) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return sr_err_set(err, -errno, "%s: write: %s", path, strerror(errno));
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int read_file(const char *path, int flags, size_t max, uint8_t **buf, size_t *len,
		     struct sr_err *err)
{
	uint8_t *b = NULL;
	size_t n = 0, cap = 0, first = 4096;
	struct stat sb;
	int fd, r = 0;

	/* O_NONBLOCK: a FIFO with no writer must not block the open (the
	 * daemon would hang at start with its socket bound and the lock
	 * held); anything but a regular file is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | flags);
	if (fd < 0 && errno == ELOOP && (flags & O_NOFOLLOW))
		return sr_err_set(err, -ELOOP, "%s: a symlink: refused (not followed)", path);
	if (fd < 0)
		return sr_err_set(err, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &sb)) {
		r = sr_err_set(err, -errno, "%s: %s", path, strerror(errno));
		close(fd);
		return r;
	}
	if (!S_ISREG(sb.st_mode)) {
		r = sr_err_set(err, -EINVAL, "%s: not a regular file (%s): refused", path,
			       S_ISFIFO(sb.st_mode) ? "a FIFO" : S_ISDIR(sb.st_mode) ? "a directory"
			       : S_ISSOCK(sb.st_mode) ? "a socket" : "a device or other special file");
		close(fd);
		return r;
	}
	/* A regular file's size, plus one byte to see the end in the same
	 * buffer: one allocation of what the file holds (doubling from 4 KiB
	 * took 2 MiB, and 3 MiB during the last realloc, for a 1 MiB state). */
	if (sb.st_size > 0 && (uint64_t)sb.st_size < max)
		first = (size_t)sb.st_size + 1;
	for (;;) {
		ssize_t got;

		if (n == cap) {
			uint8_t *nb;

			if (cap >= max) {
				r = sr_err_set(err, -EFBIG, "%s: larger than %zu bytes", path, max);
				goto out;
			}
			cap = cap ? cap * 2 : first;
			if (cap > max)
				cap = max;
			nb = realloc(b, cap);
			if (!nb) {
				r = sr_err_set(err, -ENOMEM, "%s: out of memory", path);
				goto out;
			}
			b = nb;
		}
		got = read(fd, b + n, cap - n);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			r = sr_err_set(err, -errno, "%s: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	close(fd);
	return r;
}

int sr_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct sr_err *err)
{
	return read_file(path, 0, max, buf, len, err);
}

int sr_read_own_file(const char *path, size_t max, uint8_t **buf, size_t *len,
		     struct sr_err *err)
{
	return read_file(path, O_NOFOLLOW, max, buf, len, err);
}

int sr_write_atomic_fill(const char *dir, const char *name, sr_fill_fn fill, void *arg,
			mode_t mode, struct sr_err *err)
{
	char tmp[PATH_MAX], dst[PATH_MAX];
	int fd, dfd, r = 0;

	if (snprintf(dst, sizeof(dst), "%s/%s", dir, name) >= (int)sizeof(dst) ||
	    snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= (int)sizeof(tmp))
		return sr_err_set(err, -ENAMETOOLONG, "%s/%s: path too long", dir, name);
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return sr_err_set(err, -errno, "%s: cannot create temporary file: %s", dir,
				  strerror(errno));
	if ((r = fill(arg, fd, tmp, err)))
		goto out_unlink;
	if (fchmod(fd, mode) || fsync(fd)) {
		r = sr_err_set(err, -errno, "%s: fsync: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	if (close(fd)) {
		fd = -1;
		r = sr_err_set(err, -errno, "%s: close: %s", tmp, strerror(errno));
		goto out_unlink;
	}
	fd = -1;
	if (rename(tmp, dst)) {
		r = sr_err_set(err, -errno, "rename %s -> %s: %s", tmp, dst, strerror(errno));
		goto out_unlink;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		r = sr_err_set(err, -errno, "%s: fsync of directory: %s", dir, strerror(errno));
	if (dfd >= 0)
		close(dfd);
	return r;

out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return r;
}

struct bytes {
	const void *buf;
	size_t len;
};

static int fill_bytes(void *arg, int fd, const char *path, struct sr_err *err)
{
	const struct bytes *b = arg;

	return sr_write_all(fd, b->buf, b->len, path, err);
}

int sr_write_atomic(const char *dir, const char *name, const void *buf, size_t len,
		    struct sr_err *err)
{
	struct bytes b = { buf, len };

	return sr_write_atomic_fill(dir, name, fill_bytes, &b, 0600, err);
}

int sr_write_atomic_mode(const char *dir, const char *name, const void *buf, size_t len,
			 mode_t mode, struct sr_err *err)
{
	struct bytes b = { buf, len };

	return sr_write_atomic_fill(dir, name, fill_bytes, &b, mode, err);
}

/* ---- one agent per state dir ---- */

/* dir/lock opened for the lock: a regular file owned by euid, mode 0600.
 * One another user could ever have opened (an older agent made it 0644,
 * or it is not ours) is replaced by a new inode first: a read lock taken
 * through such a descriptor would lock the agent out (issue 23, 1). dir is
 * trusted (sr_dir_own): no one else can put a name in it. *replaced: the
 * old file's mode, or -1. */
static int lock_open(const char *dir, const char *path, int *mode_replaced, struct sr_err *err)
{
	struct stat sb;
	int fd;

	*mode_replaced = -1;
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return sr_err_set(err, -errno, "state dir %s: cannot open %s to lock it: %s", dir,
				  SR_LOCK_FILE, strerror(errno));
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		close(fd);
		return sr_err_set(err, -EPERM, "%s: not a regular file: remove it", path);
	}
	if (sb.st_uid == geteuid() && !(sb.st_mode & 077))
		return fd;
	close(fd);
	*mode_replaced = (int)(sb.st_mode & 07777);
	if (unlink(path) && errno != ENOENT)
		return sr_err_set(err, -errno, "%s: cannot replace it: %s", path, strerror(errno));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return sr_err_set(err, -errno, "%s: cannot make it: %s", path, strerror(errno));
	return fd;
}

int sr_state_lock(const char *dir, int *fd_out, struct sr_err *err)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX];
	int fd, r, old_mode;

	if ((r = sr_dir_own(dir, "state dir", err)))
		return r;
	if (snprintf(path, sizeof(path), "%s/%s", dir, SR_LOCK_FILE) >= (int)sizeof(path))
		return sr_err_set(err, -ENAMETOOLONG, "state dir %s: path too long", dir);
	if ((fd = lock_open(dir, path, &old_mode, err)) < 0)
		return fd;
	/* A POSIX record lock: the kernel tells a loser the holder's pid
	 * (F_GETLK), so the file itself is never written. */
	if (fcntl(fd, F_SETLK, &fl)) {
		int e = errno;
		struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };

		if (e != EAGAIN && e != EACCES) {
			close(fd);
			return sr_err_set(err, -e, "%s: lock: %s", path, strerror(e));
		}
		if (fcntl(fd, F_GETLK, &who) || who.l_type == F_UNLCK)
			who.l_pid = 0;
		close(fd);
		return sr_err_set(err, -EWOULDBLOCK,
				  "state dir %s is in use by another sriov-agent (pid %ld): one agent (apply or run) per state dir at a time",
				  dir, (long)who.l_pid);
	}
	*fd_out = fd;
	if (old_mode >= 0)
		return sr_err_set(err, 1,
				  "%s had mode %04o (or another owner): replaced by a new file of mode 0600, so that no other user holds it open",
				  path, (unsigned)old_mode);
	return 0;
}

void sr_state_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* ".NAME.XXXXXX" as mkostemp makes it in sr_write_atomic(), NAME ending
 * in .pb or .cfg. */
static bool is_temp_name(const char *n)
{
	size_t len = strlen(n);
	const char *dot;

	if (n[0] != '.' || len < 1 + 3 + 7)
		return false;
	dot = n + len - 7;
	if (*dot != '.')
		return false;
	for (const char *p = dot + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
			return false;
	return (dot - n >= 4 && !strncmp(dot - 3, ".pb", 3)) ||
	       (dot - n >= 5 && !strncmp(dot - 4, ".cfg", 4));
}

int sr_clean_temp_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)))
		if (de->d_type == DT_REG && is_temp_name(de->d_name) &&
		    !unlinkat(dirfd(d), de->d_name, 0))
			n++;
	closedir(d);
	return n;
}

int sr_check_dir_writable(const char *dir, uint64_t need, const char *what, struct sr_err *err)
{
	struct statvfs vfs;
	uint64_t avail;
	int r;

	if ((r = sr_dir_own(dir, what, err)))
		return r;
	if (statvfs(dir, &vfs))
		return sr_err_set(err, -errno, "%s %s: %s", what, dir, strerror(errno));
	if ((vfs.f_flag & ST_RDONLY) || access(dir, W_OK))
		return sr_err_set(err, (vfs.f_flag & ST_RDONLY) ? -EROFS : -errno,
				  "%s %s: not writable (%s): nothing applied",
				  what, dir, (vfs.f_flag & ST_RDONLY) ? strerror(EROFS) : strerror(errno));
	/* Every file written is a new inode first (temp + rename): a file
	 * system out of inodes fails the writes as one out of blocks does.
	 * f_files 0: no inode count (some file systems). */
	if (vfs.f_files && vfs.f_favail < SR_MIN_FREE_INODES)
		return sr_err_set(err, -ENOSPC,
				  "%s %s: %llu inodes free, the apply needs %u: nothing applied",
				  what, dir, (unsigned long long)vfs.f_favail, SR_MIN_FREE_INODES);
	avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
	if (avail < need)
		return sr_err_set(err, -ENOSPC,
				  "%s %s: %llu bytes free, the apply needs %llu: nothing applied",
				  what, dir, (unsigned long long)avail, (unsigned long long)need);
	return 0;
}
