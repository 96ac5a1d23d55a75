/* SPDX-License-Identifier: MIT */
/*
 * Directories other local users cannot change (fsafe.h). The rule is
 * OpenSSH's safe_path() (auth.c) applied to every directory a lookup of
 * the path goes through: a name in a directory another user may write can
 * be replaced by that user (a symlink to /etc, a directory of their own).
 */
#include "fsafe.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Another user may change entries of a directory with this stat. */
static bool others_may_write(const struct stat *sb, bool sticky_ok)
{
	if ((sb->st_mode & S_IWOTH) && !(sticky_ok && (sb->st_mode & S_ISVTX)))
		return true;
	return (sb->st_mode & S_IWGRP) && sb->st_gid != 0 && sb->st_gid != getegid() &&
	       !(sticky_ok && (sb->st_mode & S_ISVTX));
}

static int refuse(const char *what, const char *dir, const char *path, const struct stat *sb,
		  const char *why, struct sr_err *err)
{
	return sr_err_set(err, -EPERM,
			  "%s %s: %s%s (owner uid %u, mode %04o): %s; the agent writes only below directories that root (or uid %u) owns and no one else may write",
			  what, dir, strcmp(path, dir) ? "its path goes through " : "", path,
			  (unsigned)sb->st_uid,
			  (unsigned)(sb->st_mode & 07777), why, (unsigned)geteuid());
}

/* One directory a lookup goes through: owned by root or euid, not
 * writable by other users (sticky ok). */
static int check_one(const char *what, const char *dir, const char *p, struct sr_err *err)
{
	struct stat sb;

	if (stat(p, &sb))
		return sr_err_set(err, -errno, "%s %s: %s: %s", what, dir, p, strerror(errno));
	if (sb.st_uid != 0 && sb.st_uid != geteuid())
		return refuse(what, dir, p, &sb, "owned by another user", err);
	if (others_may_write(&sb, true))
		return refuse(what, dir, p, &sb, "writable by other users", err);
	return 0;
}

/* "/" and each directory of abs (an absolute path) up to, not including,
 * its last component. */
static int check_ancestors(const char *what, const char *dir, const char *abs,
			   struct sr_err *err)
{
	char p[PATH_MAX];
	size_t n = strlen(abs);
	int r;

	if (n >= sizeof(p))
		return sr_err_set(err, -ENAMETOOLONG, "%s %s: path too long", what, dir);
	memcpy(p, abs, n + 1);
	while (n > 1 && p[n - 1] == '/')
		p[--n] = '\0';
	if ((r = check_one(what, dir, "/", err)))
		return r;
	for (size_t i = 1; i < n; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		r = check_one(what, dir, p, err);
		p[i] = '/';
		if (r)
			return r;
	}
	return 0;
}

/* The lookup of abs (an absolute path) the way the kernel makes it, one
 * name at a time: a symlink met on the way (as given, or in a symlink's
 * target) is refused unless root or euid owns it. Its owner may replace it
 * at any time where the directory holding it is sticky (/tmp), whatever
 * it points to now: the directory checks see only where it leads today
 * (the probe of issue 23: uid 65534's /tmp/state -> /etc was taken as
 * root's state dir). The rule of fs.protected_symlinks, which is off on
 * some systems, made for every directory. */
static int check_symlinks(const char *what, const char *dir, const char *abs,
			  struct sr_err *err)
{
	char cur[PATH_MAX] = "", todo[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	unsigned links = 0;
	struct stat sb;

	if (snprintf(todo, sizeof(todo), "%s", abs) >= (int)sizeof(todo))
		return sr_err_set(err, -ENAMETOOLONG, "%s %s: path too long", what, dir);
	for (char *name = todo; *name;) {
		char *end = strchr(name, '/');
		size_t rest;
		ssize_t n;

		if (end)
			*end = '\0';
		if (!*name || !strcmp(name, ".")) {
			name = end ? end + 1 : name + strlen(name);
			continue;
		}
		if (!strcmp(name, "..")) {
			char *slash = strrchr(cur, '/');

			if (slash)
				*slash = '\0';
			name = end ? end + 1 : name + strlen(name);
			continue;
		}
		if (snprintf(next, sizeof(next), "%s/%s", cur, name) >= (int)sizeof(next))
			return sr_err_set(err, -ENAMETOOLONG, "%s %s: path too long", what, dir);
		if (lstat(next, &sb))
			return sr_err_set(err, -errno, "%s %s: %s: %s", what, dir, next,
					  strerror(errno));
		if (!S_ISLNK(sb.st_mode)) {
			snprintf(cur, sizeof(cur), "%s", next);
			name = end ? end + 1 : name + strlen(name);
			continue;
		}
		if (sb.st_uid != 0 && sb.st_uid != geteuid())
			return refuse(what, dir, next, &sb, "a symlink owned by another user", err);
		if (++links > 40)
			return sr_err_set(err, -ELOOP, "%s %s: %s", what, dir, strerror(ELOOP));
		n = readlink(next, target, sizeof(target) - 1);
		if (n < 0)
			return sr_err_set(err, -errno, "%s %s: %s: %s", what, dir, next,
					  strerror(errno));
		target[n] = '\0';
		/* The target, then what is left of the path after the link. */
		rest = end ? strlen(end + 1) : 0;
		if ((size_t)n + 1 + rest >= sizeof(next))
			return sr_err_set(err, -ENAMETOOLONG, "%s %s: path too long", what, dir);
		memcpy(next, target, (size_t)n);
		next[n] = '/';
		memcpy(next + n + 1, end ? end + 1 : "", rest + 1);
		memcpy(todo, next, (size_t)n + rest + 2);
		if (target[0] == '/')
			cur[0] = '\0';
		name = todo;
	}
	return 0;
}

int sr_dir_trusted(const char *dir, const char *what, struct sr_err *err)
{
	char abs[PATH_MAX], real[PATH_MAX];
	struct stat sb;
	int r;

	if (stat(dir, &sb))
		return sr_err_set(err, -errno, "%s %s: %s", what, dir, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return sr_err_set(err, -ENOTDIR, "%s %s: not a directory", what, dir);
	if (sb.st_uid != geteuid())
		return refuse(what, dir, dir, &sb, "owned by another user", err);
	if (sb.st_mode & (S_IWGRP | S_IWOTH))
		return refuse(what, dir, dir, &sb, "writable by other users", err);
	/* As given (each symlink is looked up in the directory holding it)... */
	if (dir[0] == '/') {
		snprintf(abs, sizeof(abs), "%s", dir);
	} else {
		if (!getcwd(abs, sizeof(abs)))
			return sr_err_set(err, -errno, "%s %s: getcwd: %s", what, dir, strerror(errno));
		if (strlen(abs) + 1 + strlen(dir) >= sizeof(abs))
			return sr_err_set(err, -ENAMETOOLONG, "%s %s: path too long", what, dir);
		strcat(abs, "/");
		strcat(abs, dir);
	}
	if ((r = check_ancestors(what, dir, abs, err)) || (r = check_symlinks(what, dir, abs, err)))
		return r;
	/* ...and resolved (where the symlinks lead). */
	if (!realpath(dir, real))
		return sr_err_set(err, -errno, "%s %s: %s", what, dir, strerror(errno));
	return check_ancestors(what, dir, real, err);
}

int sr_dir_own(const char *dir, const char *what, struct sr_err *err)
{
	if (mkdir(dir, 0700) && errno != EEXIST)
		return sr_err_set(err, -errno, "%s %s: %s", what, dir, strerror(errno));
	return sr_dir_trusted(dir, what, err);
}
