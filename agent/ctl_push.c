/* SPDX-License-Identifier: MIT */
/* sriovctl push FILE: send an EdgeDevConfig to the running agent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"
#include "print.h"
#include "state.h"

int ctl_push(struct ctl *c, int argc, char **argv)
{
	struct sr_err err = { "" };
	uint8_t *cfg, rtype;
	size_t len;
	char *text;
	bool ok, app_errors;
	int rc;

	if (argc != 1) {
		ctl_err("push takes one FILE (a binary EdgeDevConfig)\n");
		return CTL_USAGE;
	}
	if (sr_read_file(argv[0], CONTROL_MAX_CONFIG, &cfg, &len, &err)) {
		ctl_err("%s\n", err.msg);
		return 1;
	}
	if (control_request(c->socket, CONTROL_PUSH, cfg, len, &rtype, &text, &err)) {
		ctl_err("%s\n", err.msg);
		free(cfg);
		return 1;
	}
	free(cfg);
	ok = rtype == CONTROL_OK;
	app_errors = ok && !strncmp(text, CONTROL_APPLIED_WITH_ERRORS ":",
				    strlen(CONTROL_APPLIED_WITH_ERRORS ":"));
	pr_obj_open(NULL);
	pr_bool(PR_JSON, "ok", NULL, ok);
	pr_bool(PR_JSON, "app_errors", NULL, app_errors);
	pr_str(PR_JSON, "result", NULL, text);
	pr_obj_close();
	pr_finish();
	if (!pr_is_json())
		fprintf(ok ? stdout : stderr, "%s\n", text);
	free(text);
	/* 3: applied, but some app has no VF (as sriov-agent apply). */
	rc = !ok ? 1 : app_errors ? 3 : 0;
	return rc;
}
