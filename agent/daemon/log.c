/* SPDX-License-Identifier: MIT */
/*
 * The agent's logger (log.h): stderr or syslog, with a level filter.
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static bool use_syslog;
static int max_level = LOG_INFO;

static const struct {
	const char *name;
	int level;
} levels[] = {
	{ "error", LOG_ERR }, { "warning", LOG_WARNING }, { "notice", LOG_NOTICE },
	{ "info", LOG_INFO }, { "debug", LOG_DEBUG },
};

int agent_log_setup(const char *target, const char *level)
{
	if (target) {
		if (!strcmp(target, "syslog"))
			use_syslog = true;
		else if (!strcmp(target, "stderr"))
			use_syslog = false;
		else
			return -EINVAL;
	}
	if (level) {
		size_t i;

		for (i = 0; i < sizeof(levels) / sizeof(levels[0]); i++)
			if (!strcmp(levels[i].name, level))
				break;
		if (i == sizeof(levels) / sizeof(levels[0]))
			return -EINVAL;
		max_level = levels[i].level;
	}
	if (use_syslog)
		openlog("sriov-agent", LOG_PID, LOG_DAEMON);
	return 0;
}

bool agent_log_wants(int level)
{
	return level <= max_level;
}

/* s appended to buf at off (buf has room): the new end. */
static size_t append(char *buf, size_t off, const char *s)
{
	size_t n = strlen(s);

	memcpy(buf + off, s, n);
	return off + n;
}

void agent_log(void *ctx, int level, const char *fmt, ...)
{
	static const char *const tag[] = { "emerg", "alert", "crit", "error", "warning",
					   "notice", "info", "debug" };
	va_list ap;

	if (level > max_level)
		return;
	va_start(ap, fmt);
	if (use_syslog) {
		vsyslog(level, fmt, ap);
	} else {
		/* One write per line (stderr is unbuffered: three calls were
		 * three writes, 24k for a 4096-VF release), whole lines when
		 * several processes share the stream. The prefix is copied and
		 * the message formatted once, in place (an fprintf of the
		 * formatted line formatted it twice). */
		char line[1024 + 32];
		size_t p = 0;
		int n;

		p = append(line, p, "sriov-agent: ");
		p = append(line, p, tag[level & 7]);
		p = append(line, p, ": ");
		n = vsnprintf(line + p, 1024, fmt, ap);
		if (n >= 0 && n < 1024) {
			line[p + (size_t)n] = '\n';
			fwrite(line, 1, p + (size_t)n + 1, stderr);
		} else {
			va_end(ap);
			va_start(ap, fmt);
			fprintf(stderr, "sriov-agent: %s: ", tag[level & 7]);
			vfprintf(stderr, fmt, ap);
			fputc('\n', stderr);
		}
	}
	va_end(ap);
}
