/* SPDX-License-Identifier: MIT */
/* Error-message buffer owned by the caller. The library never prints. */
#pragma once

#include <stddef.h>

#define SR_ERR_MAX 512

struct sr_err {
	char msg[SR_ERR_MAX];
};

/* Format into err (if non-NULL) and return code unchanged, so callers can
 * write: return sr_err_set(err, -EINVAL, "vlan_id %u ...", v); */
int sr_err_set(struct sr_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefix an existing message: "ctx: <old message>". */
int sr_err_prefix(struct sr_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
