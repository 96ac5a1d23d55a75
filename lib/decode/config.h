/* SPDX-License-Identifier: MIT */
/*
 * Config decoding: EVE EdgeDevConfig bytes -> validated desired model.
 * Pure: no I/O. Everything that can be checked without the kernel is
 * checked here, all of it before anything is applied; checks that need the
 * node (sriov_totalvfs) happen in the planner.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "model.h"

#define SR_VF_COUNT_CBATTR "sriov-vf-count"

/* Bounds on what one config may ask, checked on the wire before protobuf-c
 * allocates (README "Limits"). A config or push over them is refused with
 * a message naming the limit. */
#define SR_CONFIG_MAX_BYTES (16u << 20)     /* file, push and pending copy */
#define SR_CONFIG_MAX_APPS 131072u          /* apps */
#define SR_CONFIG_MAX_IO 65536u             /* deviceIoList entries */
#define SR_CONFIG_MAX_ADAPTERS 262144u      /* adapters over all apps */
#define SR_CONFIG_MAX_MESSAGES (1u << 20)   /* nested messages, map entries too */
#define SR_CONFIG_MAX_FIELDS (1u << 22)     /* every field, unknown ones too */

struct sr_pf_cfg {
	char logicallabel[SR_LABEL_LEN];
	char phylabel[SR_LABEL_LEN];
	char assigngrp[SR_LABEL_LEN];
	char ifname[IF_NAMESIZE];     /* phyaddrs["ifname"], "" if absent */
	char pci[SR_PCI_LEN];         /* phyaddrs["pcilong"], "" if absent */
	uint32_t vf_count;            /* 1..; checked against totalvfs later */
	uint32_t io_index;            /* position in deviceIoList, for messages */
};

struct sr_adapter_cfg {
	size_t app;                   /* index into sr_config.apps */
	size_t pf;                    /* index into sr_config.pfs */
	int64_t vf_index;             /* SR_UNSET: lowest free VF */
	uint32_t position;            /* among the app's VF adapters, from 0 */
	char name[SR_ADAPTER_NAME_LEN]; /* Adapter.name as written */
	uint32_t occurrence;          /* among the app's VF adapters with this name, from 0 */
	uint32_t adapter_index;       /* position in the app's adapters list */
	struct sr_vf_settings settings; /* has_mac false: derived_mac is used */
	uint8_t derived_mac[6];       /* when !settings.has_mac: unique in the config */
};

/* One PhysicalIO.vflist.data entry (EVE's EthVF): settings that belong to
 * VF `index` of a PF, applied whether or not an app holds the VF. */
struct sr_vfdata_cfg {
	size_t pf;                    /* index into sr_config.pfs */
	uint32_t index;               /* VF index, < the PF's vf_count */
	uint32_t entry;               /* position in vflist.data, for messages */
	struct sr_vf_settings settings;
};

struct sr_config {
	char dev_uuid[SR_UUID_LEN];       /* EdgeDevConfig.id.uuid, "" if absent */
	struct sr_vfdata_cfg *vfdata;     /* sorted by (pf, index) */
	size_t n_vfdata;
	struct sr_pf_cfg *pfs;
	size_t n_pfs;
	struct sr_app *apps;
	size_t n_apps;
	/* grouped by app, in config order; an adapter's identity is (app UUID,
	 * name, occurrence): it holds its VF and derived MAC whatever other
	 * adapters the app gains or loses, except an earlier one of the same
	 * name (then the occurrences shift) */
	struct sr_adapter_cfg *adapters;
	size_t n_adapters;
};

/* Decode and validate. On error returns -EINVAL (or -ENOMEM) with a
 * message naming the field, the value and what is allowed; *out untouched. */
int sr_config_decode(const uint8_t *buf, size_t len, struct sr_config *out,
		     struct sr_err *err);
void sr_config_free(struct sr_config *c);

/* Refuse a config that would release every reservation by accident: 0
 * bytes, or no PhyIoNetEthPF and no device id (id.uuid) while n_reserved
 * VFs are held. To release every VF on purpose, apply a config with the
 * device id, or one that lists the PFs with no app adapters. 0 or -EINVAL
 * with a message saying that. */
int sr_config_check_release(const struct sr_config *c, size_t len, size_t n_reserved,
			    struct sr_err *err);

/* Best label of a PF for messages: logicallabel, else phylabel, else ifname. */
static inline const char *sr_pf_cfg_label(const struct sr_pf_cfg *pf)
{
	if (pf->logicallabel[0])
		return pf->logicallabel;
	if (pf->phylabel[0])
		return pf->phylabel;
	return pf->ifname;
}
