/* SPDX-License-Identifier: MIT */
/* sriovctl domain-config APP-UUID [--hypervisor kvm|xen] */
#include <errno.h>
#include <stdio.h>

#include "ctl.h"

int ctl_domain(struct ctl *c, int argc, char **argv)
{
	const struct sr_app *app;
	struct sr_err err = { "" };
	int r;

	if (argc != 1) {
		fprintf(stderr, "sriovctl: domain-config takes one APP-UUID\n");
		return CTL_USAGE;
	}
	if ((r = ctl_load_app(c, argv[0], &app)))
		return r;
	r = sr_domain_check_vfs(c->hv, app, c->st.res, c->st.n_res, c->st.pfs, c->st.n_pfs, &err);
	if (!r)
		r = sr_emit_domain(c->hv, app, c->st.res, c->st.n_res, stdout, &err);
	if (r) {
		fprintf(stderr, "sriovctl: %s\n", err.msg);
		return r == -ENOENT ? CTL_NOT_FOUND : 1;
	}
	return 0;
}
