/* SPDX-License-Identifier: MIT */
/*
 * The control socket between sriovctl and sriov-agent run (control.h):
 * framing, listen, connect, request/reply.
 */
#include "control.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline: 0, -ETIMEDOUT or -errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0)
			return 0; /* readable, writable or hung up: the I/O call tells */
	}
}

static int write_all(int fd, const uint8_t *p, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		int r;

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = wait_fd(fd, POLLOUT, deadline)))
				return r;
			continue;
		}
		if (w < 0)
			return -errno;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, uint8_t *p, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t got = recv(fd, p, len, MSG_DONTWAIT);
		int r;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if ((r = wait_fd(fd, POLLIN, deadline)))
				return r;
			continue;
		}
		if (got < 0)
			return -errno;
		if (got == 0)
			return -ECONNRESET;
		p += got;
		len -= (size_t)got;
	}
	return 0;
}

int control_send(int fd, uint8_t type, const void *payload, size_t len, int timeout_ms,
	      struct sr_err *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	uint8_t hdr[5];
	uint32_t n;
	int r;

	if (len > UINT32_MAX - 1)
		return sr_err_set(err, -EMSGSIZE, "control: message of %zu bytes is too large", len);
	n = (uint32_t)len + 1;
	hdr[0] = (uint8_t)(n >> 24);
	hdr[1] = (uint8_t)(n >> 16);
	hdr[2] = (uint8_t)(n >> 8);
	hdr[3] = (uint8_t)n;
	hdr[4] = type;
	if ((r = write_all(fd, hdr, sizeof(hdr), deadline)) ||
	    (r = write_all(fd, payload, len, deadline)))
		return sr_err_set(err, r, "control: send: %s", strerror(-r));
	return 0;
}

int control_recv(int fd, size_t max, int timeout_ms, uint8_t *type, uint8_t **payload,
	      size_t *len, struct sr_err *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	uint8_t hdr[5], *buf;
	uint32_t n;
	int r;

	if ((r = read_all(fd, hdr, sizeof(hdr), deadline)))
		return sr_err_set(err, r, "control: receive: %s",
				  r == -ECONNRESET ? "connection closed before a whole message"
						   : strerror(-r));
	n = (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (n < 1)
		return sr_err_set(err, -EBADMSG, "control: frame length 0: allowed 1..%zu", max + 1);
	if (n - 1 > max)
		return sr_err_set(err, -EMSGSIZE, "control: message of %u bytes: allowed 0..%zu",
				  n - 1, max);
	buf = malloc(n);
	if (!buf)
		return sr_err_set(err, -ENOMEM, "control: out of memory");
	if ((r = read_all(fd, buf, n - 1, deadline))) {
		free(buf);
		return sr_err_set(err, r, "control: receive: %s",
				  r == -ECONNRESET ? "connection closed before a whole message"
						   : strerror(-r));
	}
	buf[n - 1] = '\0';
	*type = hdr[4];
	*payload = buf;
	*len = n - 1;
	return 0;
}

int control_frame_read(int fd, struct control_frame *f, size_t max, struct sr_err *err)
{
	for (;;) {
		uint8_t *dst;
		size_t want;
		ssize_t got;

		if (f->got < sizeof(f->hdr)) {
			dst = f->hdr + f->got;
			want = sizeof(f->hdr) - f->got;
		} else {
			if (f->got - sizeof(f->hdr) == f->len)
				break;
			dst = f->buf + (f->got - sizeof(f->hdr));
			want = f->len - (f->got - sizeof(f->hdr));
		}
		got = recv(fd, dst, want, MSG_DONTWAIT);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (got < 0)
			return sr_err_set(err, -errno, "control: receive: %s", strerror(errno));
		if (got == 0)
			return sr_err_set(err, -ECONNRESET,
					  "control: receive: connection closed before a whole message");
		f->got += (size_t)got;
		if (f->got == sizeof(f->hdr)) {
			uint32_t n = (uint32_t)f->hdr[0] << 24 | (uint32_t)f->hdr[1] << 16 |
				     (uint32_t)f->hdr[2] << 8 | f->hdr[3];

			if (n < 1)
				return sr_err_set(err, -EBADMSG,
						  "control: frame length 0: allowed 1..%zu", max + 1);
			if (n - 1 > max)
				return sr_err_set(err, -EMSGSIZE,
						  "control: message of %u bytes: allowed 0..%zu", n - 1, max);
			f->type = f->hdr[4];
			f->len = n - 1;
			f->buf = malloc(n);
			if (!f->buf)
				return sr_err_set(err, -ENOMEM, "control: out of memory");
		}
	}
	f->buf[f->len] = '\0';
	return 1;
}

void control_frame_free(struct control_frame *f)
{
	free(f->buf);
	memset(f, 0, sizeof(*f));
}

void control_kv_write(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s=", key);
	for (const unsigned char *p = (const unsigned char *)(value ? value : ""); *p; p++) {
		if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '\r')
			fputs("\\r", f);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('\n', f);
}

const char *control_outcome_name(enum control_outcome_kind kind)
{
	switch (kind) {
	case CONTROL_OUTCOME_APPLIED:
		return "applied";
	case CONTROL_OUTCOME_APPLIED_WITH_ERRORS:
		return "applied-with-errors";
	case CONTROL_OUTCOME_REJECTED:
		return "rejected";
	case CONTROL_OUTCOME_FAILED_AFTER_CHANGE:
		return "failed-after-change";
	}
	return "unknown";
}

int control_outcome_exit(enum control_outcome_kind kind)
{
	return kind == CONTROL_OUTCOME_APPLIED ? 0 : kind == CONTROL_OUTCOME_APPLIED_WITH_ERRORS ? 3 : 1;
}

void control_outcome_write(FILE *f, const struct control_outcome *o, const char *result)
{
	fprintf(f, "outcome=%s\n", control_outcome_name(o->kind));
	fprintf(f, "exit=%d\n", control_outcome_exit(o->kind));
	fprintf(f, "errno=%d\n", o->err < 0 ? -o->err : o->err);
	fprintf(f, "reservations=%zu\n", o->reservations);
	fprintf(f, "reservations_in_error=%zu\n", o->in_error);
	fprintf(f, "apps_without_vf=%zu\n", o->apps_without_vf);
	fprintf(f, "sysfs_writes=%zu\n", o->sysfs_writes);
	fprintf(f, "netlink_writes=%zu\n", o->netlink_writes);
	control_kv_write(f, "result", result);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
	       c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

const char *control_kv_lookup(const char *text, const char *key, char *buf, size_t cap)
{
	size_t kl = strlen(key);

	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t o = 0;

		if (strncmp(l, key, kl) || l[kl] != '=')
			continue;
		for (const char *p = l + kl + 1; *p && *p != '\n' && o + 1 < cap; p++) {
			char c = *p;

			if (c == '\\' && p[1] == 'n')
				c = '\n', p++;
			else if (c == '\\' && p[1] == 'r')
				c = '\r', p++;
			else if (c == '\\' && p[1] == '\\')
				p++;
			else if (c == '\\' && p[1] == 'x' && hexval(p[2]) >= 0 && hexval(p[3]) >= 0)
				c = (char)(hexval(p[2]) << 4 | hexval(p[3])), p += 3;
			buf[o++] = c;
		}
		buf[o] = '\0';
		return buf;
	}
	return NULL;
}

static int make_addr(const char *path, struct sockaddr_un *sa, struct sr_err *err)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (!path[0] || strlen(path) >= sizeof(sa->sun_path))
		return sr_err_set(err, -ENAMETOOLONG, "socket path \"%s\": allowed 1..%zu bytes", path,
				  sizeof(sa->sun_path) - 1);
	strcpy(sa->sun_path, path);
	return 0;
}

/* The listener on a client's socket is the agent only if it runs as root
 * or as this client: in a directory other users may write, a user's own
 * listener could take a push (a config, which names every app) and answer
 * "applied" (issue 23, probe 1). Checked before the first byte is sent. */
static int peer_trusted(int fd, const char *path, struct sr_err *err)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl))
		return sr_err_set(err, -errno, "%s: SO_PEERCRED: %s", path, strerror(errno));
	if (cred.uid == 0 || cred.uid == geteuid())
		return 0;
	return sr_err_set(err, -EPERM,
			  "%s: the process listening there (pid %ld) runs as uid %u, not as root or as you (uid %u): not sriov-agent; nothing sent",
			  path, (long)cred.pid, (unsigned)cred.uid, (unsigned)geteuid());
}

int control_connect(const char *path, struct sr_err *err)
{
	struct sockaddr_un sa;
	int fd, r;

	if ((r = make_addr(path, &sa, err)))
		return r;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return sr_err_set(err, -errno, "socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		r = -errno;
		close(fd);
		return sr_err_set(err, r, "%s: %s%s", path, strerror(-r),
				  r == -ENOENT || r == -ECONNREFUSED ? " (is sriov-agent running?)"
				  : r == -EACCES ? " (the agent accepts root only)" : "");
	}
	if ((r = peer_trusted(fd, path, err))) {
		close(fd);
		return r;
	}
	return fd;
}

/* Is something listening on path? */
static bool live(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool up;

	if (fd < 0)
		return false;
	up = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return up;
}

int control_listen(const char *path, struct sr_err *err)
{
	struct sockaddr_un sa;
	struct stat st;
	mode_t old_mask;
	int fd, r;

	if ((r = make_addr(path, &sa, err)))
		return r;
	if (!lstat(path, &st)) {
		if (!S_ISSOCK(st.st_mode))
			return sr_err_set(err, -EEXIST, "%s exists and is not a socket", path);
		if (live(&sa))
			return sr_err_set(err, -EADDRINUSE, "%s: another agent is listening", path);
		if (unlink(path) && errno != ENOENT)
			return sr_err_set(err, -errno, "%s: cannot remove stale socket: %s", path,
					  strerror(errno));
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sr_err_set(err, -errno, "socket: %s", strerror(errno));
	old_mask = umask(0177);
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ? -errno : 0;
	umask(old_mask);
	if (r) {
		sr_err_set(err, r, "%s: bind: %s", path, strerror(-r));
		goto out_close;
	}
	if (chmod(path, 0600) || listen(fd, 16)) {
		r = sr_err_set(err, -errno, "%s: %s", path, strerror(errno));
		goto out_unlink;
	}
	return fd;

out_unlink:
	unlink(path);
out_close:
	close(fd);
	return r;
}

int control_request_buf(const char *path, uint8_t type, const void *payload, size_t len,
		     uint8_t *rtype, uint8_t **reply, size_t *rlen, struct sr_err *err)
{
	struct sr_err serr = { "" };
	uint8_t *buf;
	size_t n;
	int fd, sr, r;

	fd = control_connect(path, err);
	if (fd < 0)
		return fd;
	/* The agent may answer (refuse) before it reads everything: read its
	 * reply even when the send broke off. */
	sr = control_send(fd, type, payload, len, CONTROL_REPLY_TIMEOUT_MS, &serr);
	r = control_recv(fd, CONTROL_MAX_REPLY, CONTROL_REPLY_TIMEOUT_MS, rtype, &buf, &n, err);
	close(fd);
	if (r) {
		if (sr)
			*err = serr;
		return sr_err_prefix(err, r, "%s", path);
	}
	*reply = buf;
	*rlen = n;
	return 0;
}

int control_request(const char *path, uint8_t type, const void *payload, size_t len,
		 uint8_t *rtype, char **text, struct sr_err *err)
{
	uint8_t *buf;
	size_t n;
	int r = control_request_buf(path, type, payload, len, rtype, &buf, &n, err);

	if (!r)
		*text = (char *)buf;
	return r;
}
