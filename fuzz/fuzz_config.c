/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: sr_config_decode (protobuf-c decode + validation) on
 * arbitrary bytes. Besides "no crash, no leak, no UB" it checks the
 * decoder's contract:
 *  - on error: a non-empty message, and *out untouched;
 *  - on success: a model that keeps the promises config.h and model.h make
 *    (VF counts >= 1, valid ifname/PCI, adapters pointing inside the arrays,
 *    explicit VF indexes below the PF's count, at most vf_count adapters per
 *    PF, settings inside their ranges, unique app UUIDs and MACs).
 * A broken promise aborts, which the fuzzer reports as a crash.
 *
 * SR_FUZZ_ENTRY renames the entry point so fuzz_regress can link both
 * targets into one program.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#ifndef SR_FUZZ_ENTRY
#define SR_FUZZ_ENTRY LLVMFuzzerTestOneInput
#endif

int SR_FUZZ_ENTRY(const uint8_t *data, size_t size);

static void broken(const char *what)
{
	fprintf(stderr, "fuzz_config: contract broken: %s\n", what);
	abort();
}

static bool nul_terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

static void check_settings(const struct sr_vf_settings *s)
{
	if (s->vlan != SR_UNSET && (s->vlan < SR_VLAN_MIN || s->vlan > SR_VLAN_MAX))
		broken("vlan out of 1..4094");
	if (s->qos != SR_UNSET && (s->qos < 0 || s->qos > SR_QOS_MAX))
		broken("qos out of 0..7");
	if ((s->qos != SR_UNSET || s->vlan_proto != SR_UNSET) && s->vlan == SR_UNSET)
		broken("qos or vlan_proto without a VLAN");
	if (s->vlan_proto != SR_UNSET && s->vlan_proto != SR_ETH_P_8021Q &&
	    s->vlan_proto != SR_ETH_P_8021AD)
		broken("vlan_proto neither 802.1Q nor 802.1ad");
	if (s->spoofchk != SR_UNSET && s->spoofchk != 0 && s->spoofchk != 1)
		broken("spoofchk not unset/0/1");
	if (s->trust != SR_UNSET && s->trust != 0 && s->trust != 1)
		broken("trust not unset/0/1");
	if (s->link_state != SR_UNSET &&
	    (s->link_state < SR_LINK_STATE_AUTO || s->link_state > SR_LINK_STATE_DISABLE))
		broken("link_state out of range");
	if (s->has_mac && !sr_mac_is_unicast(s->mac))
		broken("MAC not unicast");
	if (s->min_tx_rate > 0 && s->max_tx_rate > 0 && s->min_tx_rate > s->max_tx_rate)
		broken("min_tx_rate above max_tx_rate");
}

static void check_config(const struct sr_config *c)
{
	for (size_t i = 0; i < c->n_pfs; i++) {
		const struct sr_pf_cfg *pf = &c->pfs[i];

		if (!nul_terminated(pf->logicallabel, sizeof(pf->logicallabel)) ||
		    !nul_terminated(pf->phylabel, sizeof(pf->phylabel)) ||
		    !nul_terminated(pf->assigngrp, sizeof(pf->assigngrp)) ||
		    !nul_terminated(pf->ifname, sizeof(pf->ifname)) ||
		    !nul_terminated(pf->pci, sizeof(pf->pci)))
			broken("PF string not terminated");
		if (pf->vf_count < 1)
			broken("PF with VF count 0");
		if (!pf->ifname[0] && !pf->pci[0])
			broken("PF with neither ifname nor PCI address");
		if (pf->ifname[0] && !sr_valid_ifname(pf->ifname))
			broken("PF ifname invalid");
		if (pf->pci[0] && !sr_valid_pci(pf->pci))
			broken("PF PCI address invalid");
		if (!sr_pf_cfg_label(pf)[0])
			broken("PF without a label");
	}
	for (size_t i = 0; i < c->n_apps; i++) {
		if (!nul_terminated(c->apps[i].uuid_str, sizeof(c->apps[i].uuid_str)) ||
		    !nul_terminated(c->apps[i].name, sizeof(c->apps[i].name)))
			broken("app string not terminated");
		for (size_t j = 0; j < i; j++)
			if (!memcmp(c->apps[i].uuid, c->apps[j].uuid, sizeof(uuid_t)))
				broken("two apps with one UUID");
	}
	for (size_t i = 0; i < c->n_adapters; i++) {
		const struct sr_adapter_cfg *a = &c->adapters[i];

		if (a->app >= c->n_apps || a->pf >= c->n_pfs)
			broken("adapter points outside apps/pfs");
		if (a->vf_index != SR_UNSET &&
		    (a->vf_index < 0 || a->vf_index >= c->pfs[a->pf].vf_count))
			broken("explicit VF index out of the PF's range");
		check_settings(&a->settings);
		for (size_t j = 0; j < i; j++) {
			const struct sr_adapter_cfg *b = &c->adapters[j];

			if (a->vf_index != SR_UNSET && b->pf == a->pf && b->vf_index == a->vf_index)
				broken("one VF named by two adapters");
			if (a->settings.has_mac && b->settings.has_mac &&
			    !memcmp(a->settings.mac, b->settings.mac, 6))
				broken("one MAC on two adapters");
		}
	}
	for (size_t p = 0; p < c->n_pfs; p++) {
		size_t asked = 0;

		for (size_t i = 0; i < c->n_adapters; i++)
			asked += c->adapters[i].pf == p;
		if (asked > c->pfs[p].vf_count)
			broken("more adapters than VFs on a PF");
	}
}

int SR_FUZZ_ENTRY(const uint8_t *data, size_t size)
{
	struct sr_config c, pristine;
	struct sr_err err = { "" };
	int r;

	memset(&c, 0xa5, sizeof(c));
	memcpy(&pristine, &c, sizeof(c));
	r = sr_config_decode(data, size, &c, &err);
	if (r) {
		if (r >= 0)
			broken("error code not a negative errno");
		if (!err.msg[0] || !nul_terminated(err.msg, sizeof(err.msg)))
			broken("error without a message");
		if (memcmp(&c, &pristine, sizeof(c)))
			broken("*out written on error");
		return 0;
	}
	check_config(&c);
	sr_config_free(&c);
	return 0;
}
