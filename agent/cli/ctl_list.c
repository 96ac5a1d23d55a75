/* SPDX-License-Identifier: MIT */
/* sriovctl list: every VF of every configured PF, with its reservation. */
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "print.h"
#include "reserve.h"

int ctl_list(struct ctl *c, int argc, char **argv)
{
	if (argc) {
		ctl_err("list takes no arguments\n");
		return CTL_USAGE;
	}
	if (ctl_load_state(c))
		return 1;
	ctl_refresh_kernel(c);
	pr_arr_open(NULL);
	ctl_print_vf_header();
	for (size_t i = 0; i < c->st.n_pfs; i++) {
		const struct sr_pf *pf = &c->st.pfs[i];

		for (size_t j = 0; j < pf->n_vfs; j++) {
			const struct sr_vf *vf = &pf->vfs[j];

			ctl_print_vf(c, pf, vf, sr_reservation_find(c->st.res, c->st.n_res, pf->pci, vf->index),
				     &vf->kernel);
		}
		/* Reservations whose VF vanished (driver reload, hot-unplug) are
		 * listed too, with their error, not dropped. */
		for (size_t k = 0; k < c->st.n_res; k++) {
			const struct sr_reservation *r = &c->st.res[k];
			struct sr_vf missing = { .index = r->vf_index, .iommu_group = SR_UNSET };

			if (!strcmp(r->pf_pci, pf->pci) && !sr_pf_find_vf(pf, r->vf_index))
				ctl_print_vf(c, pf, &missing, r, NULL);
		}
	}
	pr_arr_close();
	pr_finish();
	return 0;
}
