/* SPDX-License-Identifier: MIT */
/*
 * Discovery: PFs by netdev or PCI address, their VF counts, the VF table
 * from the virtfnN links (VF PCI addresses come from the links only, never
 * from offset/stride arithmetic), every SR-IOV capable device, the IOMMU
 * groups. Reads only. PCI vendor/device names are not looked up here: only
 * sriovctl shows them (agent/cli/pci_names.c).
 */
#include "sysfs_io.h"

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Everything find_pf reports, for a validated PCI address. */
static int fill_pf(const struct sr_sysfs *s, const char *pci,
		   const char *ifname, struct sr_pf *out, struct sr_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct sr_pf pf = {0};
	int rc;

	rc = sysfs_device_exists(s, "PF", pci, dir, err);
	if (rc)
		return rc;
	rc = sysfs_read_count(pci, dir, "sriov_totalvfs", &pf.totalvfs, err);
	if (rc)
		return rc;
	rc = sysfs_read_count(pci, dir, "sriov_numvfs", &pf.numvfs, err);
	if (rc)
		return rc;
	if (sysfs_join(path, dir, "vendor") || sysfs_read_u32(path, 16, &pf.vendor))
		pf.vendor = 0;
	if (sysfs_join(path, dir, "device") || sysfs_read_u32(path, 16, &pf.device))
		pf.device = 0;
	if (sysfs_join(path, dir, "driver") || sr_sysfs_link_base(path, pf.driver, sizeof(pf.driver)))
		pf.driver[0] = '\0';
	if (ifname && ifname[0]) {
		snprintf(pf.ifname, sizeof(pf.ifname), "%s", ifname);
	} else if (sysfs_join(path, dir, "net") == 0) {
		sysfs_first_entry(path, pf.ifname, sizeof(pf.ifname));
	}
	{
		uint32_t ap;

		pf.autoprobe = sysfs_join(path, dir, "sriov_drivers_autoprobe") || sysfs_read_u32(path, 10, &ap)
				       ? SR_UNSET
				       : ap != 0;
	}

	memcpy(out->ifname, pf.ifname, sizeof(out->ifname));
	snprintf(out->pci, sizeof(out->pci), "%s", pci);
	memcpy(out->driver, pf.driver, sizeof(out->driver));
	out->vendor = pf.vendor;
	out->device = pf.device;
	memcpy(out->name, pf.name, sizeof(out->name));
	out->totalvfs = pf.totalvfs;
	out->numvfs = pf.numvfs;
	out->autoprobe = pf.autoprobe;
	return 0;
}

/* PCI address behind a netdev: basename of class/net/IF/device. */
static int ifname_to_pci(const struct sr_sysfs *s, const char *ifname, char pci[SR_PCI_LEN],
			 struct sr_err *err)
{
	char path[PATH_MAX], base[PATH_MAX];
	struct stat st;
	int rc;

	rc = sysfs_path(s, path, "class/net/%s", ifname);
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", ifname);
	if (lstat(path, &st) < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return sr_err_set(err, -ENODEV, "PF %s: no such network interface (%s)",
					  ifname, path);
		return sr_err_set(err, rc, "PF %s: %s: %s", ifname, path, strerror(-rc));
	}
	rc = sysfs_path(s, path, "class/net/%s/device", ifname);
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", ifname);
	rc = sr_sysfs_link_base(path, base, sizeof(base));
	if (rc == -ENOENT)
		return sr_err_set(err, -ENODEV, "PF %s: not a PCI device (no %s)", ifname, path);
	if (rc)
		return sr_err_set(err, rc, "PF %s: reading link %s: %s", ifname, path,
				  strerror(-rc));
	if (!sr_valid_pci(base))
		return sr_err_set(err, -ENODEV, "PF %s: device %s is not a PCI device", ifname,
				  base);
	strcpy(pci, base);
	return 0;
}

int sr_sysfs_find_pf(const struct sr_sysfs *s, const char *ifname, const char *pci,
		     struct sr_pf *out, struct sr_err *err)
{
	bool has_if = ifname && ifname[0], has_pci = pci && pci[0];
	char found[SR_PCI_LEN];
	int rc;

	if (!has_if && !has_pci)
		return sr_err_set(err, -EINVAL, "PF: neither ifname nor PCI address given");
	if (has_if && (rc = sysfs_check_ifname("ifname", ifname, err)))
		return rc;
	if (has_pci && (rc = sysfs_check_pci("pci", pci, err)))
		return rc;
	if (has_if) {
		rc = ifname_to_pci(s, ifname, found, err);
		if (rc)
			return rc;
		if (has_pci && strcmp(found, pci) != 0)
			return sr_err_set(err, -EINVAL, "PF %s is PCI device %s, not %s", ifname,
					  found, pci);
	} else {
		strcpy(found, pci);
	}
	/* No pci.ids lookup here: it costs milliseconds and megabytes per call
	 * and the apply path never shows names (sr_sysfs_list_pfs does). */
	rc = fill_pf(s, found, has_if ? ifname : NULL, out, err);
	return rc;
}

static int read_pf_count(const struct sr_sysfs *s, const char *pf_pci, const char *file,
			 uint32_t *out)
{
	char dir[PATH_MAX];
	int rc;

	if (!sr_valid_pci(pf_pci))
		return -EINVAL;
	rc = sysfs_device_exists(s, "PF", pf_pci, dir, NULL);
	if (rc)
		return rc;
	rc = sysfs_read_count(pf_pci, dir, file, out, NULL);
	if (rc == -ENOENT)
		return -EOPNOTSUPP;
	return rc;
}

int sr_sysfs_read_totalvfs(const struct sr_sysfs *s, const char *pf_pci, uint32_t *out)
{
	return read_pf_count(s, pf_pci, "sriov_totalvfs", out);
}

int sr_sysfs_read_numvfs(const struct sr_sysfs *s, const char *pf_pci, uint32_t *out)
{
	return read_pf_count(s, pf_pci, "sriov_numvfs", out);
}

int sr_sysfs_read_netdev_flags(const struct sr_sysfs *s, const char *ifname, uint32_t *out)
{
	char path[PATH_MAX];

	if (!sr_valid_ifname(ifname))
		return -EINVAL;
	if (sysfs_path(s, path, "class/net/%s/flags", ifname))
		return -ENAMETOOLONG;
	return sysfs_read_u32(path, 16, out);
}

/* ---- VFs ------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

/* The VF indexes of the PF in dir, sorted; *dir_out is the directory, open
 * for the caller to read the VFs relative to it. */
static int list_virtfn(const char *pci, const char *dir, uint32_t **out, size_t *n_out,
		       DIR **dir_out, struct sr_err *err)
{
	uint32_t *idx = NULL, *grown, index;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc;

	d = opendir(dir);
	if (!d) {
		rc = -errno;
		return sr_err_set(err, rc, "PF %s: reading %s: %s", pci, dir, strerror(-rc));
	}
	while ((de = readdir(d))) {
		if (!sysfs_parse_virtfn(de->d_name, &index))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(idx, cap * sizeof(*idx));
			if (!grown) {
				closedir(d);
				free(idx);
				return sr_err_set(err, -ENOMEM, "PF %s: out of memory", pci);
			}
			idx = grown;
		}
		idx[n++] = index;
	}
	if (n)
		qsort(idx, n, sizeof(*idx), cmp_u32);
	*out = idx;
	*n_out = n;
	*dir_out = d;
	return 0;
}

/* VF index of the PF in dir (open as dirfd): its links read relative to
 * dirfd; the full paths only name them in messages. */
static int read_vf(const char *pci, const char *dir, int dirfd, uint32_t index, struct sr_vf *vf,
		   struct sr_err *err)
{
	char link[PATH_MAX], path[PATH_MAX], name[32], group[32];
	uint32_t g;
	int rc;

	memset(vf, 0, sizeof(*vf));
	vf->index = index;
	snprintf(name, sizeof(name), "virtfn%u", index);
	rc = sysfs_join(link, dir, name);
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", pci);
	rc = sysfs_link_base_at(dirfd, name, path, sizeof(path));
	if (rc)
		return sr_err_set(err, rc, "PF %s: reading link %s: %s", pci, link, strerror(-rc));
	if (!sr_valid_pci(path))
		return sr_err_set(err, -EIO, "PF %s: %s points to \"%s\", not a PCI address", pci,
				  link, path);
	strcpy(vf->pci, path);

	if (sysfs_join(path, link, "net") == 0)
		sysfs_first_entry(path, vf->ifname, sizeof(vf->ifname));
	if (sysfs_join(path, name, "driver") ||
	    sysfs_link_base_at(dirfd, path, vf->driver, sizeof(vf->driver)))
		vf->driver[0] = '\0';
	vf->iommu_group = SR_UNSET;
	if (sysfs_join(path, name, "iommu_group") == 0 &&
	    sysfs_link_base_at(dirfd, path, group, sizeof(group)) == 0 &&
	    sysfs_parse_u32(group, 10, &g) == 0 && g <= INT32_MAX)
		vf->iommu_group = (int32_t)g;
	return 0;
}

int sr_sysfs_read_vfs(const struct sr_sysfs *s, struct sr_pf *pf, struct sr_err *err)
{
	struct sr_vf *vfs = NULL;
	char dir[PATH_MAX];
	uint32_t *idx = NULL;
	size_t n = 0;
	DIR *d = NULL;
	int rc;

	rc = sysfs_device_exists(s, "PF", pf->pci, dir, err);
	if (rc)
		return rc;
	rc = list_virtfn(pf->pci, dir, &idx, &n, &d, err);
	if (rc)
		return rc;
	if (n) {
		vfs = calloc(n, sizeof(*vfs));
		if (!vfs) {
			rc = sr_err_set(err, -ENOMEM, "PF %s: out of memory", pf->pci);
			goto out_free_idx;
		}
	}
	for (size_t i = 0; i < n; i++) {
		rc = read_vf(pf->pci, dir, dirfd(d), idx[i], &vfs[i], err);
		if (rc)
			goto out_free_vfs;
	}
	sr_pf_clear(pf);
	pf->vfs = vfs;
	pf->n_vfs = n;
	free(idx);
	closedir(d);
	return 0;

out_free_vfs:
	free(vfs);
out_free_idx:
	free(idx);
	closedir(d);
	return rc;
}

static int cmp_pci(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

/* Names of SR-IOV capable devices under bus/pci/devices, sorted. */
static int list_sriov_devices(const struct sr_sysfs *s, char (**out)[SR_PCI_LEN],
			      size_t *n_out, struct sr_err *err)
{
	char (*names)[SR_PCI_LEN] = NULL, (*grown)[SR_PCI_LEN];
	char dir[PATH_MAX], path[PATH_MAX];
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d;
	int rc;

	rc = sysfs_path(s, dir, "bus/pci/devices");
	if (rc)
		return sr_err_set(err, rc, "sysfs root too long");
	d = opendir(dir);
	if (!d) {
		rc = -errno;
		if (rc == -ENOENT) {
			*out = NULL;
			*n_out = 0;
			return 0;
		}
		return sr_err_set(err, rc, "reading %s: %s", dir, strerror(-rc));
	}
	while ((de = readdir(d))) {
		if (!sr_valid_pci(de->d_name))
			continue;
		if (sysfs_path(s, path, "bus/pci/devices/%s/sriov_totalvfs", de->d_name) ||
		    access(path, F_OK) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				closedir(d);
				free(names);
				return sr_err_set(err, -ENOMEM, "listing PFs: out of memory");
			}
			names = grown;
		}
		strcpy(names[n++], de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_pci);
	*out = names;
	*n_out = n;
	return 0;
}

int sr_sysfs_list_pfs(const struct sr_sysfs *s, struct sr_pf **out, size_t *n_out,
		      struct sr_err *err)
{
	char (*names)[SR_PCI_LEN] = NULL;
	struct sr_pf *pfs = NULL;
	size_t n = 0, done = 0;
	int rc;

	rc = list_sriov_devices(s, &names, &n, err);
	if (rc)
		return rc;
	if (n) {
		pfs = calloc(n, sizeof(*pfs));
		if (!pfs) {
			rc = sr_err_set(err, -ENOMEM, "listing PFs: out of memory");
			goto out_free_names;
		}
	}
	for (; done < n; done++) {
		rc = fill_pf(s, names[done], NULL, &pfs[done], err);
		if (rc == 0)
			rc = sr_sysfs_read_vfs(s, &pfs[done], err);
		if (rc)
			break;
	}
	if (rc) {
		sr_sysfs_free_pfs(pfs, n);
		goto out_free_names;
	}
	free(names);
	*out = pfs;
	*n_out = n;
	return 0;

out_free_names:
	free(names);
	return rc;
}

void sr_sysfs_free_pfs(struct sr_pf *pfs, size_t n)
{
	if (!pfs)
		return;
	for (size_t i = 0; i < n; i++)
		sr_pf_clear(&pfs[i]);
	free(pfs);
}

bool sr_sysfs_iommu_enabled(const struct sr_sysfs *s)
{
	char dir[PATH_MAX];
	struct dirent *de;
	bool found = false;
	DIR *d;

	if (sysfs_path(s, dir, "kernel/iommu_groups"))
		return false;
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return found;
}
