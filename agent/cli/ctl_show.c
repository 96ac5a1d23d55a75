/* SPDX-License-Identifier: MIT */
/* sriovctl show APP-UUID: one app and the VFs it holds. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "print.h"

int ctl_show(struct ctl *c, int argc, char **argv)
{
	const struct sr_app *app;
	size_t held = 0;
	int rc;

	if (argc != 1) {
		ctl_err("show takes one APP-UUID\n");
		return CTL_USAGE;
	}
	if ((rc = ctl_check_uuid("show", argv[0])) || (rc = ctl_load_app(c, argv[0], &app)))
		return rc;
	ctl_refresh_kernel(c);
	pr_obj_open(NULL);
	pr_str(PR_ANY, "app", "app %s", app->uuid_str);
	pr_str(PR_ANY, "name", " (%s)", app->name[0] ? app->name : NULL);
	pr_uint(PR_ANY, "memory_kib", " memory %" PRIu64 " KiB", app->memory_kib);
	pr_uint(PR_ANY, "vcpus", " vcpus %" PRIu64 "\n", app->vcpus);
	pr_arr_open("vfs");
	ctl_print_vf_header();
	for (size_t i = 0; i < c->st.n_pfs; i++) {
		const struct sr_pf *pf = &c->st.pfs[i];

		for (size_t j = 0; j < c->st.n_res; j++) {
			const struct sr_reservation *r = &c->st.res[j];
			const struct sr_vf *vf;
			struct sr_vf missing = { .index = r->vf_index, .iommu_group = SR_UNSET };

			if (strcasecmp(r->app_uuid, app->uuid_str) || strcmp(r->pf_pci, pf->pci))
				continue;
			vf = sr_pf_find_vf(pf, r->vf_index);
			held++;
			ctl_print_vf(c, pf, vf ? vf : &missing, r, vf ? &vf->kernel : NULL);
		}
	}
	pr_arr_close();
	if (!held)
		pr_text("(no VF)\n");
	pr_obj_close();
	pr_finish();
	return 0;
}
