/* SPDX-License-Identifier: MIT */
/*
 * agent/daemon/notify.h through libsystemd's sd_notify(), loaded with dlopen() the
 * first time there is something to send and $NOTIFY_SOCKET is set (without
 * it sd_notify() sends nothing). Linked at build time, libsystemd and the 6
 * libraries it pulls in (libgcrypt, liblzma, libzstd, liblz4, libcap,
 * libgpg-error) were loaded by every `sriov-agent apply`: 1.1 M of its
 * start's 1.9 M instructions and 73 syscalls.
 */
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

/* The status is one line (systemd shows it in `systemctl status`): a
 * control character in it (from a label in a config) could otherwise start
 * another assignment, so each one becomes a space. */
#define SR_LIBSYSTEMD "libsystemd.so.0"

static __typeof__(sd_watchdog_enabled) *watchdog_fn;

/* sd_notify from libsystemd, NULL when there is no $NOTIFY_SOCKET or the
 * library cannot be loaded (said once, at debug level). */
static __typeof__(sd_notify) *notify_fn(void)
{
	static __typeof__(sd_notify) *fn;
	static bool tried;
	void *h;

	if (tried || !getenv("NOTIFY_SOCKET"))
		return fn;
	tried = true;
	h = dlopen(SR_LIBSYSTEMD, RTLD_NOW | RTLD_LOCAL);
	if (h) {
		fn = (__typeof__(sd_notify) *)dlsym(h, "sd_notify");
		watchdog_fn = (__typeof__(sd_watchdog_enabled) *)dlsym(h, "sd_watchdog_enabled");
	}
	if (!fn)
		log_debug("sd_notify: %s: %s", SR_LIBSYSTEMD, dlerror());
	return fn;
}

static void notify_send(const char *head, const char *status)
{
	__typeof__(sd_notify) *fn = notify_fn();
	char line[512], msg[600];
	int r;

	if (!fn)
		return;
	snprintf(line, sizeof(line), "%s", status ? status : "");
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	snprintf(msg, sizeof(msg), "%s%s", head, line);
	r = fn(0, msg);
	if (r < 0)
		log_debug("sd_notify: %s", strerror(-r));
}

void agent_notify_ready(const char *status)
{
	notify_send("READY=1\nSTATUS=", status);
}

void agent_notify_reloading(void)
{
	notify_send("RELOADING=1\nSTATUS=reloading", NULL);
}

void agent_notify_status(const char *status)
{
	notify_send("STATUS=", status);
}

void agent_notify_stopping(void)
{
	notify_send("STOPPING=1\nSTATUS=stopping", NULL);
}

uint64_t agent_notify_watchdog_usec(void)
{
	uint64_t usec = 0;

	if (!notify_fn() || !watchdog_fn || watchdog_fn(0, &usec) <= 0)
		return 0;
	return usec;
}

void agent_notify_watchdog(void)
{
	__typeof__(sd_notify) *fn = notify_fn();

	if (fn)
		fn(0, "WATCHDOG=1");
}

const char *agent_notify_backend(void)
{
	return "libsystemd";
}
