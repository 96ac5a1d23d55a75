/* SPDX-License-Identifier: MIT */
/*
 * The daemon's non-blocking control clients (clients.h).
 */
#include "clients.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

/* A reply never waits long on a client that does not read. */
#define REPLY_TIMEOUT_MS 2000

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void control_reply(int fd, uint8_t type, const char *text)
{
	struct sr_err err;

	if (control_send(fd, type, text, strlen(text), REPLY_TIMEOUT_MS, &err))
		log_debug("reply: %s", err.msg);
}

void clients_init(struct control_clients *cs, const char *socket)
{
	memset(cs, 0, sizeof(*cs));
	cs->socket = socket;
}

static void drop(struct control_clients *cs, size_t i)
{
	close(cs->c[i].fd);
	control_frame_free(&cs->c[i].in);
	cs->c[i] = cs->c[--cs->n];
}

static void refuse(struct control_clients *cs, size_t i, const char *why)
{
	char msg[SR_ERR_MAX + 32];

	snprintf(msg, sizeof(msg), "rejected: %s", why);
	control_reply(cs->c[i].fd, CONTROL_FAIL, msg);
	drop(cs, i);
}

void clients_accept(struct control_clients *cs, int lfd)
{
	for (;;) {
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		char msg[128];
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("%s: accept: %s", cs->socket, strerror(errno));
			return;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl)) {
			log_warn("%s: SO_PEERCRED: %s", cs->socket, strerror(errno));
			close(fd);
			continue;
		}
		if (cred.uid != 0) {
			snprintf(msg, sizeof(msg),
				 "refused: sriov-agent takes requests from root (uid 0) only; you are uid %u",
				 (unsigned)cred.uid);
			log_warn("client pid %ld uid %u %s", (long)cred.pid, (unsigned)cred.uid, msg);
			control_reply(fd, CONTROL_FAIL, msg);
			close(fd);
			continue;
		}
		if (cs->n == CONTROL_MAX_CLIENTS) {
			size_t oldest = 0;

			for (size_t i = 1; i < cs->n; i++)
				if (cs->c[i].deadline_ms < cs->c[oldest].deadline_ms)
					oldest = i;
			log_warn("client pid %ld: %d clients pending, dropped the oldest (pid %ld)",
				 (long)cred.pid, CONTROL_MAX_CLIENTS, cs->c[oldest].pid);
			refuse(cs, oldest, "control: too many clients pending; yours was the oldest");
		}
		cs->c[cs->n++] = (struct control_client){ .fd = fd, .pid = (long)cred.pid,
						       .deadline_ms = mono_ms() + CONTROL_REQ_TIMEOUT_MS };
	}
}

size_t clients_pollfds(const struct control_clients *cs, struct pollfd *p, int *timeout_ms)
{
	int64_t now = mono_ms();

	for (size_t i = 0; i < cs->n; i++) {
		int64_t left = cs->c[i].deadline_ms - now;

		p[i] = (struct pollfd){ .fd = cs->c[i].fd, .events = POLLIN };
		if (left < 0)
			left = 0;
		if (*timeout_ms < 0 || left < *timeout_ms)
			*timeout_ms = (int)left;
	}
	return cs->n;
}

void clients_service(struct control_clients *cs, const struct pollfd *p, size_t n, control_request_fn fn,
		     void *ctx)
{
	int64_t now;

	/* Walk from the end: drop() moves the last entry into the slot. The
	 * pollfds match the table as it was, entries [0, n). */
	for (size_t i = n; i-- > 0;) {
		struct control_client *c = &cs->c[i];
		struct sr_err err = { "" };
		int r;

		if (c->fd != p[i].fd || !p[i].revents)
			continue;
		r = control_frame_read(c->fd, &c->in, CONTROL_MAX_CONFIG, &err);
		if (r == 0)
			continue;
		if (r < 0) {
			/* A bare connect (another agent probing the socket) is not news. */
			agent_log(NULL, r == -ECONNRESET ? LOG_DEBUG : LOG_WARNING, "client pid %ld: %s",
			       c->pid, err.msg);
			refuse(cs, i, err.msg);
			continue;
		}
		fn(ctx, c->fd, c->pid, &c->in);
		drop(cs, i);
	}
	now = mono_ms();
	for (size_t i = cs->n; i-- > 0;) {
		if (cs->c[i].deadline_ms > now)
			continue;
		log_warn("client pid %ld: no whole request within %d ms: closed", cs->c[i].pid,
			 CONTROL_REQ_TIMEOUT_MS);
		refuse(cs, i, "control: no whole request within the time allowed");
	}
}

void clients_close_all(struct control_clients *cs)
{
	while (cs->n)
		drop(cs, cs->n - 1);
}
