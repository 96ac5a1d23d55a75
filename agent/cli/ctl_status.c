/* SPDX-License-Identifier: MIT */
/*
 * sriovctl status: the running agent's health (pid, uptime, last config
 * result, reservations, last reconcile). The agent answers key=value
 * lines; this prints them as a table or JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "control.h"
#include "ctl.h"
#include "print.h"

enum kind { K_STR, K_INT, K_TIME };

static const struct {
	const char *key;
	enum kind kind;
	const char *label;
} fields[] = {
	{ "pid", K_INT, "pid" },
	{ "started_at", K_TIME, "started" },
	{ "uptime_s", K_INT, "uptime (s)" },
	{ "socket", K_STR, "socket" },
	{ "state_dir", K_STR, "state dir" },
	{ "config_file", K_STR, "config file" },
	{ "daemon_state", K_STR, "state" },
	{ "config_in_force", K_STR, "config in force" },
	{ "config_bytes", K_INT, "config bytes" },
	{ "config_source", K_STR, "config source" },
	{ "config_result", K_STR, "last config" },
	{ "config_at", K_TIME, "last config at" },
	{ "config_file_state", K_STR, "config on disk" },
	{ "reservations", K_INT, "reservations" },
	{ "reservations_in_error", K_INT, "in error" },
	{ "apps_without_vf", K_INT, "apps without VF" },
	{ "reconcile_result", K_STR, "last reconcile" },
	{ "reconcile_at", K_TIME, "last reconcile at" },
	{ "interval_s", K_INT, "interval (s)" },
	{ "applies", K_INT, "applies" },
	{ "state_loads", K_INT, "state file reads" },
	{ "events_monitor", K_STR, "event monitor" },
	{ "events", K_INT, "events" },
	{ "events_own", K_INT, "own echoes" },
	{ "events_overruns", K_INT, "event overruns" },
	{ "event_reconciles", K_INT, "event reconciles" },
	{ "event_verifies", K_INT, "verifying" },
	{ "repairs", K_INT, "repairs" },
	{ "repair_ms", K_INT, "last repair (ms)" },
	{ "repair_done_us", K_INT, "last repair at (us)" },
	{ "busy_pfs", K_INT, "busy PFs" },
	{ "busy", K_STR, "busy" },
	{ "down_pfs", K_INT, "PFs down" },
	{ "down", K_STR, "down" },
};

static void print_field(const char *text, size_t i)
{
	char val[1024], fmt[48], when[32];
	const char *v = control_kv_lookup(text, fields[i].key, val, sizeof(val));
	char *end;
	long long n;

	snprintf(fmt, sizeof(fmt), "%-18s %%s\n", fields[i].label);
	if (!v || (!*v && fields[i].kind == K_STR)) {
		pr_null(PR_ANY, fields[i].key, fmt);
		return;
	}
	if (fields[i].kind == K_STR) {
		pr_str(PR_ANY, fields[i].key, fmt, v);
		return;
	}
	n = strtoll(v, &end, 10);
	if (*end) {
		pr_str(PR_ANY, fields[i].key, fmt, v);
		return;
	}
	if (fields[i].kind == K_TIME) {
		time_t t = (time_t)n;
		struct tm tm;

		if (n <= 0) {
			pr_null(PR_ANY, fields[i].key, fmt);
			return;
		}
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S%z", localtime_r(&t, &tm));
		pr_int(PR_JSON, fields[i].key, NULL, n);
		pr_str(PR_TEXT, NULL, fmt, when);
		return;
	}
	snprintf(fmt, sizeof(fmt), "%-18s %%" PRId64 "\n", fields[i].label);
	pr_int(PR_ANY, fields[i].key, fmt, n);
}

int ctl_status(struct ctl *c, int argc, char **argv)
{
	struct sr_err err = { "" };
	uint8_t rtype;
	char *text;

	(void)argv;
	if (argc) {
		ctl_err("status takes no arguments\n");
		return CTL_USAGE;
	}
	if (control_request(c->socket, CONTROL_STATUS, NULL, 0, &rtype, &text, &err)) {
		ctl_err("agent not running? %s\n", err.msg);
		return 1;
	}
	if (rtype != CONTROL_OK) {
		ctl_err("%s\n", text);
		free(text);
		return 1;
	}
	pr_obj_open(NULL);
	pr_bool(PR_JSON, "running", NULL, true);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		print_field(text, i);
	pr_obj_close();
	pr_finish();
	free(text);
	return 0;
}
