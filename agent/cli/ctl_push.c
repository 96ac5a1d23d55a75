/* SPDX-License-Identifier: MIT */
/* sriovctl push FILE: send an EdgeDevConfig to the running agent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"
#include "files.h"
#include "print.h"
#include "state.h"

int ctl_push(struct ctl *c, int argc, char **argv)
{
	struct sr_err err = { "" };
	uint8_t *cfg, rtype;
	size_t len;
	char *text, outcome[32], exit_s[8], num[16], result[SR_ERR_MAX + 512];
	bool ok;
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
	/* The reply's fields (control.h): never guessed from the text. */
	if (!control_kv_lookup(text, "outcome", outcome, sizeof(outcome)) ||
	    !control_kv_lookup(text, "exit", exit_s, sizeof(exit_s)) ||
	    !control_kv_lookup(text, "result", result, sizeof(result))) {
		ctl_err("push: the agent's reply has no outcome: %s\n", text);
		free(text);
		return 1;
	}
	ok = rtype == CONTROL_OK;
	rc = atoi(exit_s);
	pr_obj_open(NULL);
	pr_bool(PR_JSON, "ok", NULL, ok);
	pr_bool(PR_JSON, "app_errors", NULL, rc == 3);
	pr_str(PR_JSON, "outcome", NULL, outcome);
	pr_int(PR_JSON, "exit", NULL, rc);
	pr_int(PR_JSON, "errno", NULL,
	       atoi(control_kv_lookup(text, "errno", num, sizeof(num)) ? num : "0"));
	pr_str(PR_JSON, "result", NULL, result);
	pr_obj_close();
	pr_finish();
	if (!pr_is_json())
		fprintf(ok ? stdout : stderr, "%s\n", result);
	free(text);
	/* 3: applied, but some app has no VF (as sriov-agent apply). */
	return rc;
}
