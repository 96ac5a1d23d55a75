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

void (*sr_state_lock_step)(const char *point);

static void lock_step(const char *point)
{
	if (sr_state_lock_step)
		sr_state_lock_step(point);
}

/* fd is still the file at path (not unlinked, not replaced): the check
 * after taking a lock on a name others may replace. */
static bool still_at(int fd, const char *path)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(path, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino &&
	       a.st_nlink > 0;
}

/* A write lock on fd: 0, or -EWOULDBLOCK with *holder (the pid of a
 * conflicting lock and its type, from F_GETLK), or another -errno. */
static int try_lock(int fd, pid_t *holder, short *type)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	struct flock who = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int e;

	if (!fcntl(fd, F_SETLK, &fl))
		return 0;
	e = errno;
	if (e != EAGAIN && e != EACCES && e != EBADF)
		return -e;
	/* EBADF: fd is read-only (another's file): ask who holds it. */
	if (fcntl(fd, F_GETLK, &who))
		return -errno;
	*holder = who.l_type == F_UNLCK ? 0 : who.l_pid;
	*type = who.l_type;
	return who.l_type == F_UNLCK && e == EBADF ? -EBADF : -EWOULDBLOCK;
}

static int in_use(const char *dir, pid_t pid, struct sr_err *err)
{
	return sr_err_set(err, -EWOULDBLOCK,
			  "state dir %s is in use by another sriov-agent (pid %ld): one agent (apply or run) per state dir at a time",
			  dir, (long)pid);
}

/* dir/SR_LOCK_FILE.new, made 0600, locked, and still at its name: the
 * right to replace the lock file (one agent at a time holds it). fd, 0
 * to try again (it was renamed away meanwhile), or -errno. */
static int stage_lock(const char *dir, const char *stage, struct sr_err *err)
{
	struct stat sb;
	pid_t pid = 0;
	short type;
	int fd, r;

	fd = open(stage, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
	if (fd < 0)
		return sr_err_set(err, -errno, "%s: cannot make it: %s", stage, strerror(errno));
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_uid != geteuid() || (sb.st_mode & 077)) {
		close(fd);
		return sr_err_set(err, -EPERM, "%s: not a 0600 file of uid %u: remove it", stage,
				  (unsigned)geteuid());
	}
	if ((r = try_lock(fd, &pid, &type))) {
		close(fd);
		return r == -EWOULDBLOCK ? in_use(dir, pid, err)
					 : sr_err_set(err, r, "%s: lock: %s", stage, strerror(-r));
	}
	if (!still_at(fd, stage)) {
		close(fd);
		return 0;
	}
	return fd;
}

/* The file at path (old_fd: one another user could have opened, made
 * 0644 by an older agent or not ours) replaced by a new 0600 file,
 * locked before it takes the name: renamed from dir/lock.new while this
 * process holds lock.new's lock, and the old file's when it can be had
 * (a read lock another user holds through the old file cannot stop it;
 * an agent's write lock does). The fd of the new file, 0 to start over
 * (another agent replaced it first), or -errno. */
static int lock_replace(const char *dir, const char *path, int old_fd, struct sr_err *err)
{
	char stage[PATH_MAX];
	pid_t pid = 0;
	short type = F_UNLCK;
	int fd, r;

	r = try_lock(old_fd, &pid, &type);
	if (r == -EWOULDBLOCK && type == F_WRLCK)
		return in_use(dir, pid, err);
	if (r && r != -EWOULDBLOCK && r != -EBADF)
		return sr_err_set(err, r, "%s: lock: %s", path, strerror(-r));
	if (snprintf(stage, sizeof(stage), "%s.new", path) >= (int)sizeof(stage))
		return sr_err_set(err, -ENAMETOOLONG, "state dir %s: path too long", dir);
	if ((fd = stage_lock(dir, stage, err)) <= 0)
		return fd;
	lock_step("staged");
	/* Only a holder of lock.new renames it: path is what we saw. */
	if (!still_at(old_fd, path)) {
		unlink(stage);
		close(fd);
		return 0;
	}
	if (rename(stage, path)) {
		r = -errno;
		unlink(stage);
		close(fd);
		return sr_err_set(err, r, "%s: cannot replace it: %s", path, strerror(-r));
	}
	return fd;
}

/* dir/lock opened: O_RDWR, or O_RDONLY for a file of another owner this
 * process may only read (it is replaced). */
static int lock_open(const char *dir, const char *path, struct stat *sb, struct sr_err *err)
{
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);

	if (fd < 0 && errno == EACCES)
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return sr_err_set(err, -errno, "state dir %s: cannot open %s to lock it: %s", dir,
				  SR_LOCK_FILE, strerror(errno));
	if (fstat(fd, sb) || !S_ISREG(sb->st_mode)) {
		close(fd);
		return sr_err_set(err, -EPERM, "%s: not a regular file: remove it", path);
	}
	return fd;
}

/* The classic pattern for a lock file that may be replaced: open, lock,
 * then check the name still leads to the locked file (else start over).
 * A lock file another user could ever have opened (mode above 0600, or
 * not ours) is replaced first (lock_replace): a read lock taken through
 * it would lock the agent out (issue 23, 1); the replacement is made
 * under a lock, so two agents starting at once never hold locks on two
 * different files (issue 23, probe 2). dir is trusted (sr_dir_own): no
 * one else can put a name in it. */
int sr_state_lock(const char *dir, int *fd_out, struct sr_err *err)
{
	char path[PATH_MAX];
	int old_mode = -1, r;

	if ((r = sr_dir_own(dir, "state dir", err)))
		return r;
	if (snprintf(path, sizeof(path), "%s/%s", dir, SR_LOCK_FILE) >= (int)sizeof(path))
		return sr_err_set(err, -ENAMETOOLONG, "state dir %s: path too long", dir);
	for (int tries = 0; tries < 16; tries++) {
		struct stat sb;
		pid_t pid = 0;
		short type;
		int fd;

		if ((fd = lock_open(dir, path, &sb, err)) < 0)
			return fd;
		lock_step("opened");
		if (sb.st_uid != geteuid() || (sb.st_mode & 0777) != 0600) {
			r = lock_replace(dir, path, fd, err);
			close(fd);
			if (r < 0)
				return r;
			if (!r)
				continue;
			old_mode = (int)(sb.st_mode & 07777);
			fd = r;
		} else if ((r = try_lock(fd, &pid, &type))) {
			close(fd);
			return r == -EWOULDBLOCK ? in_use(dir, pid, err)
						 : sr_err_set(err, r, "%s: lock: %s", path, strerror(-r));
		}
		if (!still_at(fd, path)) {
			close(fd);
			continue;
		}
		*fd_out = fd;
		if (old_mode >= 0)
			return sr_err_set(err, 1,
					  "%s had mode %04o (or another owner): replaced by a new file of mode 0600, so that no other user holds it open",
					  path, (unsigned)old_mode);
		return 0;
	}
	return sr_err_set(err, -EAGAIN, "%s: replaced again and again while locking it", path);
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
