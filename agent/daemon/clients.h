/* SPDX-License-Identifier: MIT */
/*
 * The daemon's control clients, served without waiting on any one of them:
 * every connection is non-blocking, its request is read as it arrives
 * (control_frame_read) inside the one poll() loop, and a client that has not
 * sent a whole request within CONTROL_REQ_TIMEOUT_MS is answered "rejected"
 * and closed. Silent clients delay neither other clients nor signals.
 */
#pragma once

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "control.h"

#define CONTROL_MAX_CLIENTS 32

struct control_client {
	int fd;
	long pid;
	int64_t deadline_ms;           /* CLOCK_MONOTONIC */
	struct control_frame in;
};

struct control_clients {
	struct control_client c[CONTROL_MAX_CLIENTS];
	size_t n;
	const char *socket;            /* for messages */
};

/* A whole request from a root client; the handler replies on fd. */
typedef void (*control_request_fn)(void *ctx, int fd, long pid, const struct control_frame *req);

void clients_init(struct control_clients *cs, const char *socket);
/* Accept every waiting connection (root only; others are answered
 * "refused"). When the table is full the oldest pending client is dropped. */
void clients_accept(struct control_clients *cs, int lfd);
/* pollfds for the clients into p (room for CONTROL_MAX_CLIENTS); returns how
 * many, and lowers *timeout_ms to the nearest deadline. */
size_t clients_pollfds(const struct control_clients *cs, struct pollfd *p, int *timeout_ms);
/* After poll(): read ready clients, hand whole requests to fn, expire
 * late ones. p/n as clients_pollfds() filled them. */
void clients_service(struct control_clients *cs, const struct pollfd *p, size_t n, control_request_fn fn,
		     void *ctx);
void clients_close_all(struct control_clients *cs);

/* Reply text on fd (bounded wait); failures are logged at debug. */
void control_reply(int fd, uint8_t type, const char *text);
