/* SPDX-License-Identifier: MIT */
/* agent/daemon/notify.h without libsystemd: nothing is sent. */
#include "notify.h"

void agent_notify_ready(const char *status)
{
}

void agent_notify_reloading(void)
{
}

void agent_notify_status(const char *status)
{
}

void agent_notify_stopping(void)
{
}

uint64_t agent_notify_watchdog_usec(void)
{
	return 0;
}

void agent_notify_watchdog(void)
{
}

const char *agent_notify_backend(void)
{
	return "none";
}
