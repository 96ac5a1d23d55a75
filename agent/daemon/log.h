/* SPDX-License-Identifier: MIT */
/* Logging for the binaries: stderr or syslog, with a level filter. */
#pragma once

#include <stdbool.h>
#include <syslog.h>

int agent_log_setup(const char *target, const char *level);  /* 0 or -EINVAL */
bool agent_log_wants(int level);                             /* passes the filter */
void agent_log(void *ctx, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
#define log_err(...) agent_log(NULL, LOG_ERR, __VA_ARGS__)
#define log_warn(...) agent_log(NULL, LOG_WARNING, __VA_ARGS__)
#define log_notice(...) agent_log(NULL, LOG_NOTICE, __VA_ARGS__)
#define log_info(...) agent_log(NULL, LOG_INFO, __VA_ARGS__)
#define log_debug(...) agent_log(NULL, LOG_DEBUG, __VA_ARGS__)
