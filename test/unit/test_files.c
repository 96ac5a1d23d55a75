/* SPDX-License-Identifier: MIT */
/*
 * The state dir's lock (lib/store/files.c): one agent per dir, also when
 * two start at once while an old lock file (0644, from an older agent) is
 * being replaced (issue 23, probe 2). Two lockers in two processes are run
 * in a set order through the lock's step hook (sr_state_lock_step): one
 * stops at a step and waits on a pipe while the other runs.
 */
#include <check.h>

#include "check_run.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "files.h"

#define WAIT_MS 60000 /* generous: a loaded machine, valgrind */

/* A locker in a child process: stops once at stop_at (if set) until told to
 * go on, then reports its result, then holds what it got until told to
 * exit. */
struct locker {
	pid_t pid;
	int cmd;    /* parent -> child: one byte per "go on" */
	int report; /* child -> parent: "P" at the pause, then a result */
};

struct result {
	int r;
	int at_path; /* its fd is the file now at dir/lock */
	char msg[SR_ERR_MAX];
};

static char dir[] = "/tmp/sr-lock-XXXXXX";
static char path[PATH_MAX];

static const char *pause_point;
static int pause_cmd = -1, pause_report = -1;

static void stop_here(const char *point)
{
	char c = 'P';

	if (!pause_point || strcmp(point, pause_point))
		return;
	pause_point = NULL; /* once */
	if (write(pause_report, &c, 1) != 1 || read(pause_cmd, &c, 1) != 1)
		_exit(3);
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, WAIT_MS) == 1;
}

static bool fd_at(int fd, const char *name)
{
	struct stat a, b;

	return !fstat(fd, &a) && !stat(name, &b) && a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void locker_start(struct locker *l, const char *stop_at)
{
	int cmd[2], rep[2];

	ck_assert_int_eq(pipe(cmd), 0);
	ck_assert_int_eq(pipe(rep), 0);
	l->pid = fork();
	ck_assert_int_ge(l->pid, 0);
	if (!l->pid) {
		struct result res = { 0 };
		struct sr_err err = { "" };
		char at[PATH_MAX], c;
		int fd = -1;

		close(cmd[1]);
		close(rep[0]);
		pause_point = stop_at;
		pause_cmd = cmd[0];
		pause_report = rep[1];
		sr_state_lock_step = stop_here;
		res.r = sr_state_lock(dir, &fd, &err);
		snprintf(at, sizeof(at), "%s/%s", dir, SR_LOCK_FILE);
		res.at_path = res.r >= 0 && fd_at(fd, at);
		snprintf(res.msg, sizeof(res.msg), "%s", err.msg);
		c = 'R';
		if (write(rep[1], &c, 1) != 1 || write(rep[1], &res, sizeof(res)) != sizeof(res))
			_exit(2);
		(void)read(cmd[0], &c, 1); /* hold the lock until told */
		_exit(0);
	}
	close(cmd[0]);
	close(rep[1]);
	l->cmd = cmd[1];
	l->report = rep[0];
}

/* The next byte from the locker: 'P' (paused) or 'R' (result in *res). */
static char locker_next(struct locker *l, struct result *res)
{
	char c = 0;

	ck_assert_msg(readable(l->report), "locker %ld: no word in %d ms", (long)l->pid, WAIT_MS);
	ck_assert_int_eq(read(l->report, &c, 1), 1);
	if (c == 'R') {
		ck_assert(readable(l->report));
		ck_assert_int_eq(read(l->report, res, sizeof(*res)), (ssize_t)sizeof(*res));
	}
	return c;
}

static void locker_go(struct locker *l)
{
	ck_assert_int_eq(write(l->cmd, "g", 1), 1);
}

static void locker_end(struct locker *l)
{
	int st;

	close(l->cmd); /* EOF: exit */
	close(l->report);
	ck_assert_int_eq(waitpid(l->pid, &st, 0), l->pid);
	ck_assert_msg(WIFEXITED(st) && !WEXITSTATUS(st), "locker exit status %d", st);
}

/* The state dir with the lock file an older agent left: mode 0644. */
static void old_lock_file(void)
{
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/sr-lock-XXXXXX")));
	snprintf(path, sizeof(path), "%s/%s", dir, SR_LOCK_FILE);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fchmod(fd, 0644), 0);
	close(fd);
}

static void remove_dir(void)
{
	char p[PATH_MAX + 8];

	unlink(path);
	snprintf(p, sizeof(p), "%s.new", path);
	unlink(p);
	ck_assert_int_eq(rmdir(dir), 0);
}

static bool in_use_by(const struct result *res, pid_t pid)
{
	char want[64];

	snprintf(want, sizeof(want), "in use by another sriov-agent (pid %ld)", (long)pid);
	return res->r == -EWOULDBLOCK && strstr(res->msg, want);
}

/* One lock, a second locker refused with the holder's pid; a new file is
 * made 0600. */
START_TEST(test_lock_one_holder)
{
	struct sr_err err = { "" };
	struct locker b;
	struct result res;
	struct stat sb;
	int fd = -1;

	ck_assert_ptr_nonnull(mkdtemp(strcpy(dir, "/tmp/sr-lock-XXXXXX")));
	snprintf(path, sizeof(path), "%s/%s", dir, SR_LOCK_FILE);
	ck_assert_msg(sr_state_lock(dir, &fd, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	locker_start(&b, NULL);
	ck_assert_int_eq(locker_next(&b, &res), 'R');
	ck_assert_msg(in_use_by(&res, getpid()), "second locker: %d %s", res.r, res.msg);
	locker_end(&b);
	sr_state_unlock(fd);
	remove_dir();
}
END_TEST

/* B opens the old 0644 file, then A replaces it and holds the lock; B
 * goes on. Replacing without a lock, B removed A's new file and locked
 * one of its own: two agents on one dir. */
START_TEST(test_lock_replace_race_opened)
{
	struct sr_err err = { "" };
	struct locker b;
	struct result res;
	int fd = -1, r;

	old_lock_file();
	locker_start(&b, "opened");
	ck_assert_int_eq(locker_next(&b, &res), 'P');
	r = sr_state_lock(dir, &fd, &err);
	ck_assert_msg(r == 1, "A: %d %s", r, err.msg);
	ck_assert(fd_at(fd, path));
	locker_go(&b);
	ck_assert_int_eq(locker_next(&b, &res), 'R');
	ck_assert_msg(in_use_by(&res, getpid()),
		      "B, after A replaced the old lock file: %d (at path: %d) %s", res.r,
		      res.at_path, res.msg);
	ck_assert_msg(fd_at(fd, path), "A's lock file is no longer dir/lock");
	locker_end(&b);
	sr_state_unlock(fd);
	remove_dir();
}
END_TEST

/* A stops while it holds the right to replace (lock.new); B is refused,
 * naming A; A then finishes the replacement. */
START_TEST(test_lock_replace_race_staged)
{
	struct sr_err err = { "" };
	struct locker a;
	struct result res;
	struct stat sb;
	int fd = -1, r;

	old_lock_file();
	locker_start(&a, "staged");
	ck_assert_int_eq(locker_next(&a, &res), 'P');
	r = sr_state_lock(dir, &fd, &err);
	ck_assert_msg(r == -EWOULDBLOCK && strstr(err.msg, "in use by another sriov-agent"),
		      "B while A replaces: %d %s", r, err.msg);
	locker_go(&a);
	ck_assert_int_eq(locker_next(&a, &res), 'R');
	ck_assert_msg(res.r == 1 && res.at_path, "A: %d (at path: %d) %s", res.r, res.at_path,
		      res.msg);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	locker_end(&a);
	remove_dir();
}
END_TEST

/* A read lock another process holds through the old 0644 file stops
 * nothing (issue 23, 1): the file is replaced, the new one locked. */
START_TEST(test_lock_replace_read_locked)
{
	struct flock rd = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	struct sr_err err = { "" };
	struct stat old, sb;
	int pipefd[2], fd = -1, r;
	pid_t holder;
	char c;

	old_lock_file();
	ck_assert_int_eq(stat(path, &old), 0);
	ck_assert_int_eq(pipe(pipefd), 0);
	holder = fork();
	ck_assert_int_ge(holder, 0);
	if (!holder) {
		int hfd = open(path, O_RDONLY);

		close(pipefd[0]);
		if (hfd < 0 || fcntl(hfd, F_SETLK, &rd) || write(pipefd[1], "L", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]);
	ck_assert(readable(pipefd[0]));
	ck_assert_int_eq(read(pipefd[0], &c, 1), 1);
	r = sr_state_lock(dir, &fd, &err);
	ck_assert_msg(r == 1, "%d %s", r, err.msg);
	ck_assert_msg(strstr(err.msg, "had mode 0644"), "%s", err.msg);
	ck_assert(fd_at(fd, path));
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_ne(sb.st_ino, old.st_ino);
	ck_assert_uint_eq(sb.st_mode & 07777, 0600);
	kill(holder, SIGKILL);
	waitpid(holder, NULL, 0);
	close(pipefd[0]);
	sr_state_unlock(fd);
	remove_dir();
}
END_TEST

int main(void)
{
	Suite *s = suite_create("files");
	TCase *tc = tcase_create("lock");

	tcase_add_test(tc, test_lock_one_holder);
	tcase_add_test(tc, test_lock_replace_race_opened);
	tcase_add_test(tc, test_lock_replace_race_staged);
	tcase_add_test(tc, test_lock_replace_read_locked);
	suite_add_tcase(s, tc);
	return sr_check_run(s);
}
