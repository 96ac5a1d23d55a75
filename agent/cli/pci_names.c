/* SPDX-License-Identifier: MIT */
/*
 * PCI vendor/device names from pci.ids through libpci, for sriovctl only:
 * the apply path never shows names, so neither the library nor
 * sriov-agent links libpci (a lookup costs milliseconds and megabytes).
 */
#include "pci_names.h"

#include <limits.h>
#include <pci/pci.h>
#include <stdio.h>
#include <stdlib.h>

static void names_quiet(char *msg, ...)
{
	(void)msg;
}

/* libpci calls this only when its own allocation fails (we pick the access
 * method ourselves, so method detection cannot fail). It must not return. */
static void __attribute__((noreturn)) names_fatal(char *msg, ...)
{
	(void)msg;
	abort();
}

static struct pci_access *names_open(const char *root)
{
	char path[PATH_MAX];
	struct pci_access *pacc;
	const char *method;

	pacc = pci_alloc();
	if (!pacc)
		return NULL;
	pacc->error = names_fatal;
	pacc->warning = names_quiet;
	pacc->debug = names_quiet;
	pacc->debugging = 0;
	method = pci_get_method_name(PCI_ACCESS_SYS_BUS_PCI);
	if (method && method[0]) {
		pacc->method = PCI_ACCESS_SYS_BUS_PCI;
		if (snprintf(path, sizeof(path), "%s/sys/bus/pci", root) < (int)sizeof(path))
			pci_set_param(pacc, "sysfs.path", path);
		pci_init(pacc);
	}
	return pacc;
}

static void names_lookup(struct pci_access *pacc, uint32_t vendor, uint32_t device,
			 char name[SR_NAME_LEN])
{
	char buf[SR_NAME_LEN];
	const char *r;

	name[0] = '\0';
	if (!pacc || vendor == 0)
		return;
	r = pci_lookup_name(pacc, buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE,
			    (int)vendor, (int)device);
	if (r)
		snprintf(name, SR_NAME_LEN, "%s", r);
}

static void names_close(struct pci_access *pacc)
{
	if (pacc)
		pci_cleanup(pacc);
}

void ctl_pci_names(const char *sysfs_root, struct sr_pf *pfs, size_t n)
{
	struct sr_sysfs s;
	struct pci_access *pacc;

	if (!n)
		return;
	sr_sysfs_init(&s, sysfs_root); /* the root as the library spells it */
	pacc = names_open(s.root);
	for (size_t i = 0; i < n; i++)
		names_lookup(pacc, pfs[i].vendor, pfs[i].device, pfs[i].name);
	names_close(pacc);
}
