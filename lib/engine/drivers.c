/* SPDX-License-Identifier: MIT */
/* The per-driver order rules (drivers.h). Sources: linux 6.1. */
#include "drivers.h"

#include <string.h>

static const struct sr_driver_rules table[] = {
	{
		/* bnxt_sriov_configure: "Reject SRIOV config request since if
		 * is down!" returns 0 while !netif_running: the write of
		 * sriov_numvfs succeeds and no VF appears; every VF ndo then
		 * fails bnxt_vf_ndo_prep (-EINVAL). */
		.driver = "bnxt_en",
		.rules = SR_RULE_PF_UP_FIRST,
		.what = "PF up before sriov_numvfs (and so before VF settings)",
		.source = "drivers/net/ethernet/broadcom/bnxt/bnxt_sriov.c bnxt_sriov_configure; systemd #40739",
	},
	{
		/* mlx5_core_sriov_configure -> mlx5_sriov_enable ->
		 * mlx5_eswitch_enable(esw, num_vfs) makes the VFs' vports in
		 * the mode the eswitch is in; mlx5_devlink_eswitch_mode_set
		 * later tears the eswitch down and rebuilds it. */
		.driver = "mlx5_core",
		.rules = SR_RULE_ESWITCH_LEGACY,
		.what = "eswitch mode read from devlink before sriov_numvfs: must be legacy",
		.source = "drivers/net/ethernet/mellanox/mlx5/core/sriov.c mlx5_core_sriov_configure, eswitch.c mlx5_eswitch_enable; sriov-network-operator #1015, #1017",
	},
};

const struct sr_driver_rules *sr_driver_rules_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

const struct sr_driver_rules *sr_driver_rules_of(const char *driver)
{
	for (size_t i = 0; driver && i < sizeof(table) / sizeof(table[0]); i++)
		if (!strcmp(table[i].driver, driver))
			return &table[i];
	return NULL;
}
