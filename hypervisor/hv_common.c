/* SPDX-License-Identifier: MIT */
/*
 * What both emitters (kvm.c, xen.c) share: defaults for unset values, the
 * checks every emitted config needs, and the text helpers. Depends on the
 * model only; domain.c and the emitters depend on it, never the reverse.
 */
#include "hv_common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#define PCI_ALLOWED "a PCI address dddd:bb:dd.f (hex, device 00..1f, function 0..7)"

uint32_t sr_hv_memory_mib(const struct sr_app *app)
{
	if (app->memory_kib == 0)
		return SR_HV_DEFAULT_MEMORY_MIB;
	return (uint32_t)(((uint64_t)app->memory_kib + 1023) / 1024);
}

uint32_t sr_hv_vcpus(const struct sr_app *app)
{
	return app->vcpus ? app->vcpus : SR_HV_DEFAULT_VCPUS;
}

static bool pci_equal(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

int sr_hv_check(const struct sr_app *app, const char *const *vf_pci, size_t n_vf,
		uint32_t vcpus_max, FILE *out, struct sr_err *err)
{
	uuid_t u;

	if (!app)
		return sr_err_set(err, -EINVAL, "app: missing");
	if (!out)
		return sr_err_set(err, -EINVAL, "output file for app %.*s: missing",
				  SR_UUID_LEN - 1, app->uuid_str);
	if (strnlen(app->uuid_str, SR_UUID_LEN) != SR_UUID_LEN - 1 ||
	    uuid_parse(app->uuid_str, u))
		return sr_err_set(err, -EINVAL, "uuid \"%.*s\": allowed a UUID xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx",
				  SR_UUID_LEN - 1, app->uuid_str);
	if (app->vcpus > vcpus_max)
		return sr_err_set(err, -EINVAL, "vcpus %u for app %s: allowed 0..%u (0 means %u)",
				  app->vcpus, app->uuid_str, vcpus_max, SR_HV_DEFAULT_VCPUS);
	if (n_vf && !vf_pci)
		return sr_err_set(err, -EINVAL, "vf_pci for app %s: missing for %zu VFs",
				  app->uuid_str, n_vf);
	for (size_t i = 0; i < n_vf; i++) {
		if (!vf_pci[i] || !sr_valid_pci(vf_pci[i]))
			return sr_err_set(err, -EINVAL, "vf_pci[%zu] \"%s\" for app %s: allowed " PCI_ALLOWED,
					  i, vf_pci[i] ? vf_pci[i] : "(null)", app->uuid_str);
		for (size_t j = 0; j < i; j++)
			if (pci_equal(vf_pci[i], vf_pci[j]))
				return sr_err_set(err, -EINVAL, "vf_pci[%zu] \"%s\" for app %s: already given as vf_pci[%zu]; each VF at most once",
						  i, vf_pci[i], app->uuid_str, j);
	}
	return 0;
}

static bool xl_name_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '.' || c == '-';
}

void sr_hv_xl_name(const struct sr_app *app, char out[SR_NAME_LEN])
{
	size_t n = strnlen(app->name, SR_NAME_LEN - 1);
	bool all_digits = true;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)app->name[i];

		if (!xl_name_char(c) || (i == 0 && (c == '-' || c == '.')))
			c = '_';
		if (c < '0' || c > '9')
			all_digits = false;
		out[i] = (char)c;
	}
	out[n] = '\0';
	if (n == 0 || all_digits)
		snprintf(out, SR_NAME_LEN, "%.*s", SR_UUID_LEN - 1, app->uuid_str);
}

void sr_hv_comment_text(const char *s, char *out, size_t cap)
{
	size_t i;

	if (!cap)
		return;
	for (i = 0; i + 1 < cap && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '_';
	}
	out[i] = '\0';
}

