/* SPDX-License-Identifier: MIT */
/*
 * Parse an xl.cfg with Xen's own libxlutil, the parser xl uses, and print
 * what it understood:
 *
 *   name=<name>
 *   uuid=<uuid>
 *   type=<type>
 *   memory=<MiB>
 *   vcpus=<n>
 *   pci=<dddd:bb:dd.f>     one line per pci list entry, as libxlutil parsed it
 *
 * Exits 1 on any parse failure or missing key (libxlutil reports details on
 * stderr), 2 on bad usage. libxlutil's parsers need no libxl context (the
 * XLU_Config is only used for error reports), so this runs without Xen.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxl.h>
#include <libxlutil.h>

static int get_string(XLU_Config *cfg, const char *key, const char *file)
{
	const char *v;

	if (xlu_cfg_get_string(cfg, key, &v, 0)) {
		fprintf(stderr, "%s: \"%s\" missing or not a string\n", file, key);
		return 1;
	}
	printf("%s=%s\n", key, v);
	return 0;
}

static int get_long(XLU_Config *cfg, const char *key, const char *file)
{
	long v;

	if (xlu_cfg_get_long(cfg, key, &v, 0)) {
		fprintf(stderr, "%s: \"%s\" missing or not a number\n", file, key);
		return 1;
	}
	printf("%s=%ld\n", key, v);
	return 0;
}

static int check_pci(XLU_Config *cfg, const char *file)
{
	XLU_ConfigList *list;
	int n = 0, bad = 0, r;

	/* no pci list at all is a domain without passthrough, which is valid */
	r = xlu_cfg_get_list(cfg, "pci", &list, &n, 0);
	if (r == ESRCH)
		return 0;
	if (r) {
		fprintf(stderr, "%s: \"pci\": not a list: %s\n", file, strerror(r));
		return 1;
	}
	for (int i = 0; i < n; i++) {
		const char *spec = xlu_cfg_get_listitem(list, i);
		libxl_device_pci pci;

		if (!spec) {
			fprintf(stderr, "%s: pci[%d] is not a string\n", file, i);
			bad = 1;
			continue;
		}
		libxl_device_pci_init(&pci);
		if (xlu_pci_parse_spec_string(cfg, &pci, spec)) {
			fprintf(stderr, "%s: pci[%d] \"%s\": rejected by xlu_pci_parse_spec_string\n",
				file, i, spec);
			bad = 1;
		} else {
			printf("pci=%04x:%02x:%02x.%x\n", (unsigned)pci.domain, pci.bus, pci.dev,
			       pci.func);
		}
		libxl_device_pci_dispose(&pci);
	}
	return bad;
}

int main(int argc, char **argv)
{
	XLU_Config *cfg;
	int r, bad = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s XL_CFG\n", argv[0]);
		return 2;
	}
	cfg = xlu_cfg_init(stderr, argv[1]);
	if (!cfg) {
		fprintf(stderr, "%s: xlu_cfg_init: %s\n", argv[1], strerror(errno));
		return 1;
	}
	r = xlu_cfg_readfile(cfg, argv[1]);
	if (r) {
		fprintf(stderr, "%s: xlu_cfg_readfile: %s\n", argv[1], strerror(r));
		xlu_cfg_destroy(cfg);
		return 1;
	}
	bad |= get_string(cfg, "name", argv[1]);
	bad |= get_string(cfg, "uuid", argv[1]);
	bad |= get_string(cfg, "type", argv[1]);
	bad |= get_long(cfg, "memory", argv[1]);
	bad |= get_long(cfg, "vcpus", argv[1]);
	bad |= check_pci(cfg, argv[1]);
	xlu_cfg_destroy(cfg);
	return bad ? 1 : 0;
}
