/* SPDX-License-Identifier: MIT */
/*
 * sriovctl domain-config APP-UUID [--hypervisor kvm|xen]: the app's QEMU
 * -readconfig file or xl.cfg. As text the config itself; with --json one
 * object that carries it as a string.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "ctl.h"
#include "print.h"

static int emit(struct ctl *c, const struct sr_app *app, char **text, struct sr_err *err)
{
	size_t len;
	FILE *f = open_memstream(text, &len);
	int r;

	if (!f)
		return sr_err_set(err, -ENOMEM, "out of memory");
	r = sr_emit_domain(c->hv, app, c->st.res, c->st.n_res, f, err);
	if (fclose(f) && !r)
		r = sr_err_set(err, -ENOMEM, "out of memory");
	return r;
}

int ctl_domain(struct ctl *c, int argc, char **argv)
{
	const struct sr_app *app;
	struct sr_err err = { "" };
	char *text = NULL;
	int r;

	if (argc != 1) {
		ctl_err("domain-config takes one APP-UUID\n");
		return CTL_USAGE;
	}
	if ((r = ctl_check_uuid("domain-config", argv[0])) || (r = ctl_load_app(c, argv[0], &app)))
		return r;
	r = sr_domain_eligible(c->hv, app, c->st.res, c->st.n_res, c->st.pfs, c->st.n_pfs, &err);
	if (!r)
		r = emit(c, app, &text, &err);
	if (r) {
		free(text);
		ctl_err("%s\n", err.msg);
		return r == -ENOENT ? CTL_NOT_FOUND : 1;
	}
	pr_obj_open(NULL);
	pr_str(PR_JSON, "app", NULL, app->uuid_str);
	pr_str(PR_JSON, "app_name", NULL, app->name[0] ? app->name : NULL);
	pr_str(PR_JSON, "hypervisor", NULL, sr_hypervisor_name(c->hv));
	pr_str(PR_ANY, "config", "%s", text);
	pr_obj_close();
	pr_finish();
	free(text);
	return 0;
}
