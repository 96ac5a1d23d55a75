/* SPDX-License-Identifier: MIT */
/*
 * The daemon's control clients, served without waiting on any one of them:
 * every connection is non-blocking, its request is read as it arrives
 * (ctrl_frame_read) inside the one poll() loop, and a client that has not
 * sent a whole request within CTRL_REQ_TIMEOUT_MS is answered "rejected"
 * and closed. Silent clients delay neither other clients nor signals.
 */
#pragma once

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"

#define CTRL_MAX_CLIENTS 32

struct ctrl_client {
	int fd;
	long pid;
	int64_t deadline_ms;           /* CLOCK_MONOTONIC */
	struct ctrl_frame in;
};

struct ctrl_clients {
	struct ctrl_client c[CTRL_MAX_CLIENTS];
	size_t n;
	const char *socket;            /* for messages */
};

/* A whole request from a root client; the handler replies on fd. */
typedef void (*ctrl_request_fn)(void *ctx, int fd, long pid, const struct ctrl_frame *req);

void clients_init(struct ctrl_clients *cs, const char *socket);
/* Accept every waiting connection (root only; others are answered
 * "refused"). When the table is full the oldest pending client is dropped. */
void clients_accept(struct ctrl_clients *cs, int lfd);
/* pollfds for the clients into p (room for CTRL_MAX_CLIENTS); returns how
 * many, and lowers *timeout_ms to the nearest deadline. */
size_t clients_pollfds(const struct ctrl_clients *cs, struct pollfd *p, int *timeout_ms);
/* After poll(): read ready clients, hand whole requests to fn, expire
 * late ones. p/n as clients_pollfds() filled them. */
void clients_service(struct ctrl_clients *cs, const struct pollfd *p, size_t n, ctrl_request_fn fn,
		     void *ctx);
void clients_close_all(struct ctrl_clients *cs);

/* Reply text on fd (bounded wait); failures are logged at debug. */
void ctrl_reply(int fd, uint8_t type, const char *text);
