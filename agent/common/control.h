/* SPDX-License-Identifier: MIT */
/*
 * The agent's control socket: framing shared by sriov-agent run and
 * sriovctl (docs/daemon.md).
 *
 *   frame = u32 big-endian N | type (1 byte) | payload (N - 1 bytes)
 *
 * Requests: 'P' push (payload: binary EdgeDevConfig), 'S' status (no
 * payload), 'I' info (payload: an app UUID, or empty for the device; the
 * 'O' reply carries one binary org.lfedge.eve.info.ZInfoMsg). Replies:
 * 'O' ok, 'F' failed / rejected / refused. The payload of a push reply
 * and of a status reply is key=value lines (struct control_outcome, the
 * status); of other refusals, text ("rejected: <reason>").
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "err.h"

/* Where sriov-agent keeps its state and listens, unless told otherwise;
 * sriovctl looks in the same places. */
#define SR_DEFAULT_STATE_DIR "/var/lib/sriov-agent"
#define SR_DEFAULT_SOCKET "/run/sriov-agent/sriov-agent.sock"

#define CONTROL_MAX_CONFIG SR_CONFIG_MAX_BYTES /* largest config a push may carry */
#define CONTROL_MAX_REPLY (1u << 20)
#define CONTROL_REQ_TIMEOUT_MS 5000         /* agent: a whole request must arrive in this */
#define CONTROL_REPLY_TIMEOUT_MS 300000     /* client: an apply may wait for VFs */

enum control_type {
	CONTROL_PUSH = 'P',
	CONTROL_STATUS = 'S',
	CONTROL_INFO = 'I',
	CONTROL_OK = 'O',
	CONTROL_FAIL = 'F',
};

/* The text of an apply's result starts with "applied: " or, when some app
 * could not be given its VF, with this. */
#define CONTROL_APPLIED_WITH_ERRORS "applied with errors"

/* What a push did, as data: the reply's key=value lines
 *   outcome=applied|applied-with-errors|rejected|failed-after-change
 *   exit=0|3|1   (sriovctl push's exit status: 3 applied with errors)
 *   errno=N      (0, or the errno of the failure)
 *   reservations= reservations_in_error= apps_without_vf=
 *   sysfs_writes= netlink_writes=   (counts of the apply)
 *   result=TEXT  (the one-line human text, as logged)
 * A client reads the fields; it never parses result. */
enum control_outcome_kind {
	CONTROL_OUTCOME_APPLIED,
	CONTROL_OUTCOME_APPLIED_WITH_ERRORS, /* some app has no VF */
	CONTROL_OUTCOME_REJECTED,            /* nothing changed */
	CONTROL_OUTCOME_FAILED_AFTER_CHANGE, /* the node changed, then it failed */
};

struct control_outcome {
	enum control_outcome_kind kind;
	int err;                        /* 0 or -errno */
	size_t reservations, in_error, apps_without_vf;
	size_t sysfs_writes, netlink_writes;
};

const char *control_outcome_name(enum control_outcome_kind kind);
/* sriovctl push's exit status for it: 0, 3 or 1. */
int control_outcome_exit(enum control_outcome_kind kind);
/* The reply's lines, result last. */
void control_outcome_write(FILE *f, const struct control_outcome *o, const char *result);

/* Send one frame; timeout_ms bounds the whole write. 0 or -errno
 * (-ETIMEDOUT, -EPIPE, ...). Never raises SIGPIPE. */
int control_send(int fd, uint8_t type, const void *payload, size_t len, int timeout_ms,
	      struct sr_err *err);

/* Receive one frame of at most max payload bytes; timeout_ms bounds the
 * whole read. *payload is malloc'd with a NUL after the data (text-safe).
 * -ECONNRESET on EOF before a whole frame, -EMSGSIZE when too large,
 * -ETIMEDOUT, or another -errno. */
int control_recv(int fd, size_t max, int timeout_ms, uint8_t *type, uint8_t **payload,
	      size_t *len, struct sr_err *err);

/* Incremental receive on a non-blocking socket, for a server that must
 * not wait on one client: call control_frame_read() whenever fd is readable. */
struct control_frame {
	uint8_t hdr[5];
	size_t got;                  /* bytes of header + payload so far */
	uint8_t *buf;                /* payload (malloc'd, NUL after it) */
	size_t len;                  /* payload length, once the header is in */
	uint8_t type;
};

/* 1 when the whole frame is in (f->type, f->buf, f->len), 0 when more
 * is needed, or -errno (-ECONNRESET, -EMSGSIZE, -EBADMSG) with a message. */
int control_frame_read(int fd, struct control_frame *f, size_t max, struct sr_err *err);
void control_frame_free(struct control_frame *f);

/* Status replies are key=value lines: values are escaped so that no
 * value can make a line or a key of its own ('\\' -> "\\\\", newline
 * -> "\\n", CR -> "\\r", other control bytes -> "\\xNN"). */
void control_kv_write(FILE *f, const char *key, const char *value);
/* The value of key in such lines, unescaped into buf; NULL when absent. */
const char *control_kv_lookup(const char *text, const char *key, char *buf, size_t cap);

/* Listening socket at path, mode 0600. A stale socket file (no listener)
 * is replaced; a live one is -EADDRINUSE. Returns the fd or -errno. */
int control_listen(const char *path, struct sr_err *err);

/* Connected client socket, or -errno with a message. The listener must
 * run as root or as this process's euid (SO_PEERCRED), else -EPERM with
 * a message naming path and the listener's uid and pid: no byte is sent
 * to another user's process. */
int control_connect(const char *path, struct sr_err *err);

/* Client: connect, send one request, read the reply. *text is malloc'd
 * (NUL-terminated). 0 or -errno with a message. */
int control_request(const char *path, uint8_t type, const void *payload, size_t len,
		 uint8_t *rtype, char **text, struct sr_err *err);

/* The same, for a binary reply: *reply malloc'd (NUL after the data),
 * *rlen its length. */
int control_request_buf(const char *path, uint8_t type, const void *payload, size_t len,
		     uint8_t *rtype, uint8_t **reply, size_t *rlen, struct sr_err *err);
