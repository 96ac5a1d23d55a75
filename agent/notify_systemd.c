/* SPDX-License-Identifier: MIT */
/* agent/notify.h through libsystemd's sd_notify(). */
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

/* The status is one line (systemd shows it in `systemctl status`): a
 * control character in it (from a label in a config) could otherwise start
 * another assignment, so each one becomes a space. */
static void notify_send(const char *head, const char *status)
{
	char line[512];
	int r;

	snprintf(line, sizeof(line), "%s", status ? status : "");
	for (char *p = line; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	r = sd_notifyf(0, "%s%s", head, line);
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

const char *agent_notify_backend(void)
{
	return "libsystemd";
}
