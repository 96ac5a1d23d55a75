/* SPDX-License-Identifier: MIT */
/*
 * The --config watch (cfgwatch.h).
 */
#include "cfgwatch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* The directory: its entries changed (the file written, renamed over,
 * a symlink on the path swapped), or the directory itself went. */
#define DIR_MASK                                                                     \
	(IN_CLOSE_WRITE | IN_MODIFY | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
	 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
/* The parent: the directory's name made, removed or renamed over. */
#define PARENT_MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR)

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void cfg_watch_id(const char *path, struct cfg_id *out)
{
	struct stat st;

	*out = (struct cfg_id){ 0 };
	if (stat(path, &st))
		return;
	*out = (struct cfg_id){
		.known = true, .dev = st.st_dev, .ino = st.st_ino, .size = st.st_size,
		.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
		.ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 + st.st_ctim.tv_nsec,
	};
}

static bool same_id(const struct cfg_id *a, const struct cfg_id *b)
{
	if (!a->known || !b->known)
		return a->known == b->known;
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	       a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* Watch the directory now at w->dir (again); the watch of a directory
 * that is no longer there is dropped. */
static void arm_dir(struct cfg_watch *w)
{
	struct stat st;
	int wd;

	wd = inotify_add_watch(w->fd, w->dir, DIR_MASK);
	if (wd < 0 || stat(w->dir, &st)) {
		if (wd >= 0 && wd != w->wd_dir)
			inotify_rm_watch(w->fd, wd);
		if (w->wd_dir >= 0) {
			inotify_rm_watch(w->fd, w->wd_dir);
			log_notice("--config %s: directory %s is gone: watched again once it is there",
				   w->path, w->dir);
		}
		w->wd_dir = -1;
		return;
	}
	if (w->wd_dir >= 0 && w->wd_dir != wd)
		inotify_rm_watch(w->fd, w->wd_dir);
	if (w->dir_ino && (st.st_dev != w->dir_dev || st.st_ino != w->dir_ino)) {
		w->rearms++;
		log_info("--config %s: watching directory %s again (another one is there now)",
			 w->path, w->dir);
	}
	w->wd_dir = wd;
	w->dir_dev = st.st_dev;
	w->dir_ino = st.st_ino;
}

/* dir and its parent from path, as strings (no lookup). */
static int split(struct cfg_watch *w, const char *path)
{
	const char *slash = strrchr(path, '/');
	char *s;

	if (!slash) {
		snprintf(w->dir, sizeof(w->dir), ".");
	} else if (slash == path) {
		snprintf(w->dir, sizeof(w->dir), "/");
	} else if ((size_t)(slash - path) >= sizeof(w->dir)) {
		return -ENAMETOOLONG;
	} else {
		memcpy(w->dir, path, (size_t)(slash - path));
		w->dir[slash - path] = '\0';
	}
	if (!(slash ? slash[1] : path[0]))
		return -EINVAL;
	s = strrchr(w->dir, '/');
	w->dir_name[0] = '\0';
	if (!strcmp(w->dir, "/") || !strcmp(w->dir, ".") || (s && !strcmp(s + 1, "..")) ||
	    (s && !strcmp(s + 1, ".")))
		return 0; /* no parent to watch by name */
	{
		const char *base = s ? s + 1 : w->dir;

		if (strlen(base) >= sizeof(w->dir_name))
			return -ENAMETOOLONG;
		memcpy(w->dir_name, base, strlen(base) + 1);
	}
	if (!s)
		snprintf(w->parent, sizeof(w->parent), ".");
	else if (s == w->dir)
		snprintf(w->parent, sizeof(w->parent), "/");
	else
		snprintf(w->parent, sizeof(w->parent), "%.*s", (int)(s - w->dir), w->dir);
	return 0;
}

int cfg_watch_open(struct cfg_watch *w, const char *path)
{
	int r;

	*w = (struct cfg_watch){ .fd = -1, .path = path, .wd_dir = -1, .wd_parent = -1 };
	if ((r = split(w, path))) {
		log_err("--config %s: not a file name", path);
		return r;
	}
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->fd < 0) {
		r = -errno;
		log_err("--config %s: inotify: %s", path, strerror(-r));
		return r;
	}
	if (w->dir_name[0]) {
		w->wd_parent = inotify_add_watch(w->fd, w->parent, PARENT_MASK);
		if (w->wd_parent < 0)
			log_warn("--config %s: cannot watch %s (%s): a new directory %s is found at the next interval",
				 path, w->parent, strerror(errno), w->dir);
	}
	arm_dir(w);
	if (w->wd_dir < 0)
		log_warn("--config %s: cannot watch %s (%s): watched once it is there", path, w->dir,
			 strerror(errno));
	cfg_watch_id(path, &w->taken);
	return 0;
}

void cfg_watch_close(struct cfg_watch *w)
{
	if (w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

static void schedule(struct cfg_watch *w)
{
	w->due_ms = now_ms() + CFG_SETTLE_MS;
}

void cfg_watch_read(struct cfg_watch *w)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool rearm = false, look = false;
	ssize_t n;

	while ((n = read(w->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				rearm = look = true;
			} else if (ev->wd == w->wd_parent && w->wd_parent >= 0) {
				if (ev->len && !strcmp(ev->name, w->dir_name))
					rearm = look = true;
			} else if (ev->wd == w->wd_dir && w->wd_dir >= 0) {
				if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED))
					rearm = true;
				look = true;
			}
		}
	}
	if (rearm)
		arm_dir(w);
	if (look)
		schedule(w);
}

int cfg_watch_timeout(const struct cfg_watch *w, int timeout)
{
	uint64_t now = now_ms(), left;

	if (!w->due_ms)
		return timeout;
	left = w->due_ms > now ? w->due_ms - now : 0;
	if (timeout < 0 || left < (uint64_t)timeout)
		return (int)left;
	return timeout;
}

bool cfg_watch_due(struct cfg_watch *w)
{
	struct cfg_id now;

	if (!w->due_ms || now_ms() < w->due_ms)
		return false;
	w->due_ms = 0;
	cfg_watch_id(w->path, &now);
	return !same_id(&now, &w->taken);
}

bool cfg_watch_tick(struct cfg_watch *w)
{
	struct cfg_id now;
	struct stat st;

	if (w->fd < 0)
		return false;
	if (w->wd_dir < 0 || stat(w->dir, &st) || st.st_dev != w->dir_dev ||
	    st.st_ino != w->dir_ino)
		arm_dir(w);
	cfg_watch_id(w->path, &now);
	return !same_id(&now, &w->taken);
}

void cfg_watch_taken(struct cfg_watch *w)
{
	cfg_watch_id(w->path, &w->taken);
}
