/* SPDX-License-Identifier: MIT */
/* The daemon's slow kernel writes (busy.h). */
#include "busy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "node_async.h"

#define BUSY_MAX 64

int busy_open(struct agent_env *env, unsigned long bind_timeout_s)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* A bind shorter than the daemon's wait is waited for whole. */
	unsigned bind_inline = bind_timeout_s && bind_timeout_s * 1000 < BUSY_INLINE_MS
				       ? (unsigned)bind_timeout_s * 1000
				       : BUSY_INLINE_MS;
	int r;

	if (fd < 0)
		return -errno;
	sr_node_async_disable(&env->real);
	if ((r = sr_node_async_enable(&env->real, BUSY_INLINE_MS, bind_inline, fd))) {
		close(fd);
		return r;
	}
	return fd;
}

void busy_close(struct agent_env *env, int fd)
{
	sr_node_async_disable(&env->real);
	if (fd >= 0)
		close(fd);
}

bool busy_service(struct agent_env *env, int fd)
{
	struct sr_busy b[BUSY_MAX];
	uint64_t ticks;
	size_t n;

	if (read(fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
		return false;
	n = sr_node_async_reap(&env->real, b, BUSY_MAX);
	for (size_t i = 0; i < n; i++) {
		uint64_t s = (sr_sysfs_now_ms() - b[i].since_ms) / 1000;

		char what[128];

		sr_busy_what(&b[i], what, sizeof(what));
		/* bind_start's -EINPROGRESS: written, the VF not on the driver
		 * yet; the reconcile looks again. A wait for VFs that ends
		 * without them: the apply marks them missing. */
		if (b[i].rc && b[i].rc != -EINPROGRESS && b[i].kind != SR_BUSY_WAIT_VFS)
			log_warn("PF %s: %s ended after %" PRIu64 " s: %s", b[i].pci, what, s,
				 b[i].msg);
		else
			log_info("PF %s: %s ended after %" PRIu64 " s%s%s: applying the PF", b[i].pci,
				 what, s, b[i].rc ? ": " : "", b[i].rc ? b[i].msg : "");
	}
	return n > 0;
}

size_t busy_describe(struct agent_env *env, char *buf, size_t cap)
{
	struct sr_busy b[BUSY_MAX];
	size_t n = sr_node_async_busy(&env->real, b, BUSY_MAX), off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && i < BUSY_MAX && off < cap; i++) {
		char what[128];

		sr_busy_what(&b[i], what, sizeof(what));
		off += (size_t)snprintf(buf + off, cap - off,
					"%sPF %s %s since %" PRId64 " (%" PRIu64 " s)", i ? "; " : "",
					b[i].pci, what, (int64_t)b[i].since,
					(sr_sysfs_now_ms() - b[i].since_ms) / 1000);
	}
	return n;
}
