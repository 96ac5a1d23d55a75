/* SPDX-License-Identifier: MIT */
/*
 * A fake sysfs tree and a PF driver emulator for tests (see fake_sysfs.h).
 *
 * Layout (the root replaces "/"):
 *   sys/devices/pci0000:00/0000:00:01.0/<pci>/     every device, PFs and VFs
 *   sys/bus/pci/devices/<pci> -> the device dir
 *   sys/bus/pci/drivers/<name>/{bind,unbind,<pci> links}, sys/bus/pci/drivers_probe
 *   sys/class/net/<if> -> <device>/net/<if>, whose "device" leads back
 *   sys/kernel/iommu_groups/<n>/devices/<pci>
 * Each device dir also holds ".fake", facts only the emulator needs
 * (which driver brings up a netdev and its name, the VF driver and the VF
 * netdev name pattern). The VF routing-ID arithmetic lives here only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "fake_sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sysfs.h"

#define DEV_PARENT "sys/devices/pci0000:00/0000:00:01.0"
#define DEV_FROM_SYS "devices/pci0000:00/0000:00:01.0"
#define INFO_FILE ".fake"
#define REFUSE_FILE ".fake-refuse"
#define VALUE_MAX 128

/* ---- file helpers ---------------------------------------------------- */

static int pathf(char buf[PATH_MAX], const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int pathf(char buf[PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, PATH_MAX, fmt, ap);
	va_end(ap);
	return (n < 0 || n >= PATH_MAX) ? -ENAMETOOLONG : 0;
}

static int write_fd_all(int fd, const char *content)
{
	size_t len = strlen(content);
	ssize_t n = write(fd, content, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Create or replace a plain file. */
static int put_file(const char *path, const char *content)
{
	int fd, rc;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	rc = write_fd_all(fd, content);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* Overwrite an existing file, as a write to a sysfs attribute. */
static int overwrite_file(const char *path, const char *content)
{
	int fd, rc;

	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	rc = write_fd_all(fd, content);
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

static void trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
}

static int get_u32(const char *path, int base, uint32_t *out)
{
	char buf[VALUE_MAX], *end;
	unsigned long v;
	int rc;

	rc = sr_sysfs_read_value(path, buf, sizeof(buf));
	if (rc)
		return rc;
	errno = 0;
	v = strtoul(buf, &end, base);
	if (errno || end == buf || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);

	if (len >= sizeof(buf))
		return -ENAMETOOLONG;
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int make_link(const char *target, const char *linkpath)
{
	return symlink(target, linkpath) < 0 ? -errno : 0;
}

static bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static int rm_rf(const char *path)
{
	if (!exists(path))
		return 0;
	return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) ? -EIO : 0;
}

/* "key=value" from a device's INFO_FILE; "" when absent. */
static void info_get(const char *devdir, const char *key, char *out, size_t size)
{
	char path[PATH_MAX], buf[1024];
	size_t klen = strlen(key);

	out[0] = '\0';
	if (pathf(path, "%s/%s", devdir, INFO_FILE) || sr_sysfs_read_value(path, buf, sizeof(buf)))
		return;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, key, klen) == 0 && line[klen] == '=') {
			snprintf(out, size, "%s", line + klen + 1);
			return;
		}
	}
}

static bool name_ok(const char *name, size_t max)
{
	size_t len = name ? strlen(name) : 0;

	return len > 0 && len < max && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && !strchr(name, '\n');
}

/* A netdev name pattern has exactly one "%u" and no other '%'. */
static bool ifname_fmt_ok(const char *fmt)
{
	const char *p = strchr(fmt, '%');

	if (!p || p[1] != 'u' || strchr(p + 2, '%'))
		return false;
	return strlen(fmt) - 2 + 3 < IF_NAMESIZE; /* up to 3 digits */
}

static void ifname_from_fmt(const char *fmt, uint32_t index, char out[IF_NAMESIZE])
{
	const char *p = strchr(fmt, '%');

	snprintf(out, IF_NAMESIZE, "%.*s%u%s", (int)(p - fmt), fmt, index, p + 2);
}

static int dev_dir(const char *root, const char *pci, char buf[PATH_MAX])
{
	return pathf(buf, "%s/" DEV_PARENT "/%s", root, pci);
}

/* ---- tree builder ---------------------------------------------------- */

int sr_fake_sysfs_init(const char *dir)
{
	static const char *const dirs[] = {
		DEV_PARENT,     "sys/bus/pci/devices", "sys/bus/pci/drivers",
		"sys/class/net", "sys/kernel/iommu_groups",
	};
	char path[PATH_MAX];
	int rc;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		rc = pathf(path, "%s/%s", dir, dirs[i]);
		if (rc == 0)
			rc = mkdir_p(path);
		if (rc)
			return rc;
	}
	rc = pathf(path, "%s/sys/bus/pci/drivers_probe", dir);
	if (rc == 0)
		rc = put_file(path, "");
	if (rc == 0)
		rc = pathf(path, "%s/sys/bus/pci/drivers_autoprobe", dir);
	if (rc == 0)
		rc = put_file(path, "1\n");
	return rc;
}

int sr_fake_sysfs_create(char **root_out)
{
	const char *tmp = getenv("TMPDIR");
	char *root;
	int rc;

	if (!tmp || !tmp[0])
		tmp = "/tmp";
	if (asprintf(&root, "%s/sr-sysfs-XXXXXX", tmp) < 0)
		return -ENOMEM;
	if (!mkdtemp(root)) {
		rc = -errno;
		free(root);
		return rc;
	}
	rc = sr_fake_sysfs_init(root);
	if (rc) {
		sr_fake_sysfs_destroy(root);
		return rc;
	}
	*root_out = root;
	return 0;
}

void sr_fake_sysfs_destroy(char *root)
{
	if (!root)
		return;
	rm_rf(root);
	free(root);
}

int sr_fake_sysfs_add_driver(const char *root, const char *name, bool refuses)
{
	static const char *const files[] = {"bind", "unbind", "new_id", "remove_id"};
	char dir[PATH_MAX], path[PATH_MAX];
	int rc;

	if (!name_ok(name, 64))
		return -EINVAL;
	rc = pathf(dir, "%s/sys/bus/pci/drivers/%s", root, name);
	if (rc)
		return rc;
	rc = mkdir_p(dir);
	for (size_t i = 0; rc == 0 && i < sizeof(files) / sizeof(files[0]); i++) {
		rc = pathf(path, "%s/%s", dir, files[i]);
		if (rc == 0 && !exists(path))
			rc = put_file(path, "");
	}
	if (rc == 0 && refuses) {
		rc = pathf(path, "%s/%s", dir, REFUSE_FILE);
		if (rc == 0)
			rc = put_file(path, "");
	}
	return rc;
}

static bool driver_takes(const char *root, const char *driver)
{
	char path[PATH_MAX];

	if (!name_ok(driver, 64) || pathf(path, "%s/sys/bus/pci/drivers/%s", root, driver) ||
	    !exists(path))
		return false;
	return pathf(path, "%s/sys/bus/pci/drivers/%s/" REFUSE_FILE, root, driver) == 0 &&
	       !exists(path);
}

static int add_netdev(const char *root, const char *pci, const char *ifname)
{
	char path[PATH_MAX], target[PATH_MAX];
	int rc;

	rc = pathf(path, "%s/" DEV_PARENT "/%s/net/%s", root, pci, ifname);
	if (rc == 0)
		rc = mkdir_p(path);
	if (rc == 0)
		rc = pathf(path, "%s/" DEV_PARENT "/%s/net/%s/device", root, pci, ifname);
	if (rc == 0)
		rc = pathf(target, "../../../%s", pci);
	if (rc == 0)
		rc = make_link(target, path);
	if (rc == 0)
		rc = pathf(path, "%s/sys/class/net/%s", root, ifname);
	if (rc == 0)
		rc = pathf(target, "../../" DEV_FROM_SYS "/%s/net/%s", pci, ifname);
	if (rc == 0)
		rc = make_link(target, path);
	return rc;
}

static void remove_netdevs(const char *root, const char *devdir)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (pathf(dir, "%s/net", devdir))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (pathf(path, "%s/sys/class/net/%s", root, de->d_name) == 0)
			unlink(path);
	}
	closedir(d);
	rm_rf(dir);
}

static int bind_device(const char *root, const char *pci, const char *driver)
{
	char devdir[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	char netdrv[VALUE_MAX], ifname[VALUE_MAX];
	int rc;

	rc = dev_dir(root, pci, devdir);
	if (rc == 0)
		rc = pathf(path, "%s/driver", devdir);
	if (rc == 0)
		rc = pathf(target, "../../../../bus/pci/drivers/%s", driver);
	if (rc == 0)
		rc = make_link(target, path);
	if (rc == 0)
		rc = pathf(path, "%s/sys/bus/pci/drivers/%s/%s", root, driver, pci);
	if (rc == 0)
		rc = pathf(target, "../../../../" DEV_FROM_SYS "/%s", pci);
	if (rc == 0)
		rc = make_link(target, path);
	if (rc)
		return rc;
	info_get(devdir, "netdev_driver", netdrv, sizeof(netdrv));
	info_get(devdir, "ifname", ifname, sizeof(ifname));
	if (ifname[0] && strcmp(netdrv, driver) == 0)
		rc = add_netdev(root, pci, ifname);
	return rc;
}

/* Unbind pci, which must be bound to driver (NULL: whatever it is on). */
static int unbind_device(const char *root, const char *pci, const char *driver)
{
	char devdir[PATH_MAX], path[PATH_MAX], cur[VALUE_MAX];
	int rc;

	rc = dev_dir(root, pci, devdir);
	if (rc == 0)
		rc = pathf(path, "%s/driver", devdir);
	if (rc)
		return rc;
	if (sr_sysfs_link_base(path, cur, sizeof(cur)) || (driver && strcmp(cur, driver) != 0))
		return -ENODEV;
	remove_netdevs(root, devdir);
	unlink(path);
	if (pathf(path, "%s/sys/bus/pci/drivers/%s/%s", root, cur, pci) == 0)
		unlink(path);
	return 0;
}

static bool is_bound(const char *devdir)
{
	char path[PATH_MAX];

	return pathf(path, "%s/driver", devdir) == 0 && exists(path);
}

/* drivers_probe: driver_override if set, else the device's own driver. */
static int probe_device(const char *root, const char *pci)
{
	char devdir[PATH_MAX], path[PATH_MAX], cand[VALUE_MAX];
	int rc;

	rc = dev_dir(root, pci, devdir);
	if (rc)
		return rc;
	if (!exists(devdir))
		return -ENODEV;
	if (is_bound(devdir))
		return 0;
	if (pathf(path, "%s/driver_override", devdir) || sr_sysfs_read_value(path, cand, sizeof(cand)) ||
	    strcmp(cand, "(null)") == 0)
		cand[0] = '\0';
	if (!cand[0])
		info_get(devdir, "netdev_driver", cand, sizeof(cand));
	if (!cand[0] || !driver_takes(root, cand))
		return 0;
	return bind_device(root, pci, cand);
}

static int add_iommu_group(const char *root, const char *pci)
{
	char dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	unsigned long next = 0, v;
	struct dirent *de;
	char *end;
	DIR *d;
	int rc;

	rc = pathf(dir, "%s/sys/kernel/iommu_groups", root);
	if (rc)
		return rc;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		v = strtoul(de->d_name, &end, 10);
		if (isdigit((unsigned char)de->d_name[0]) && !*end && v + 1 > next)
			next = v + 1;
	}
	closedir(d);
	rc = pathf(path, "%s/%lu/devices", dir, next);
	if (rc == 0)
		rc = mkdir_p(path);
	if (rc == 0)
		rc = pathf(path, "%s/%lu/devices/%s", dir, next, pci);
	if (rc == 0)
		rc = pathf(target, "../../../../../" DEV_FROM_SYS "/%s", pci);
	if (rc == 0)
		rc = make_link(target, path);
	if (rc == 0)
		rc = pathf(path, "%s/" DEV_PARENT "/%s/iommu_group", root, pci);
	if (rc == 0)
		rc = pathf(target, "../../../../kernel/iommu_groups/%lu", next);
	if (rc == 0)
		rc = make_link(target, path);
	return rc;
}

static void remove_iommu_group(const char *root, const char *devdir)
{
	char path[PATH_MAX], group[32];

	if (pathf(path, "%s/iommu_group", devdir) || sr_sysfs_link_base(path, group, sizeof(group)))
		return;
	if (pathf(path, "%s/sys/kernel/iommu_groups/%s", root, group) == 0)
		rm_rf(path);
}

/* The common part of a PF or VF device directory. */
static int add_device_dir(const char *root, const char *pci, uint16_t vendor, uint16_t device,
			  const char *info, char devdir[PATH_MAX])
{
	char path[PATH_MAX], target[PATH_MAX], value[32];
	int rc;

	rc = dev_dir(root, pci, devdir);
	if (rc)
		return rc;
	if (mkdir(devdir, 0755) < 0)
		return -errno;
	snprintf(value, sizeof(value), "0x%04x\n", vendor);
	rc = pathf(path, "%s/vendor", devdir);
	if (rc == 0)
		rc = put_file(path, value);
	snprintf(value, sizeof(value), "0x%04x\n", device);
	if (rc == 0)
		rc = pathf(path, "%s/device", devdir);
	if (rc == 0)
		rc = put_file(path, value);
	if (rc == 0)
		rc = pathf(path, "%s/class", devdir);
	if (rc == 0)
		rc = put_file(path, "0x020000\n");
	if (rc == 0)
		rc = pathf(path, "%s/driver_override", devdir);
	if (rc == 0)
		rc = put_file(path, "(null)\n");
	if (rc == 0)
		rc = pathf(path, "%s/" INFO_FILE, devdir);
	if (rc == 0)
		rc = put_file(path, info);
	if (rc == 0)
		rc = pathf(path, "%s/sys/bus/pci/devices/%s", root, pci);
	if (rc == 0)
		rc = pathf(target, "../../../" DEV_FROM_SYS "/%s", pci);
	if (rc == 0)
		rc = make_link(target, path);
	return rc;
}

static int put_u32(const char *devdir, const char *file, bool hex, uint32_t v)
{
	char path[PATH_MAX], value[32];
	int rc;

	if (hex)
		snprintf(value, sizeof(value), "%x\n", v);
	else
		snprintf(value, sizeof(value), "%u\n", v);
	rc = pathf(path, "%s/%s", devdir, file);
	return rc ? rc : put_file(path, value);
}

int sr_fake_sysfs_add_pf(const char *root, const struct sr_fake_pf *pf)
{
	char devdir[PATH_MAX], info[768];
	uint32_t offset = pf->offset ? pf->offset : 128, stride = pf->stride ? pf->stride : 2;
	int rc;

	if (!sr_valid_pci(pf->pci) || (pf->ifname && !sr_valid_ifname(pf->ifname)) ||
	    (pf->driver && !name_ok(pf->driver, 64)) ||
	    (pf->vf_driver && !name_ok(pf->vf_driver, 64)) ||
	    (pf->vf_ifname_fmt && !ifname_fmt_ok(pf->vf_ifname_fmt)) || pf->totalvfs > 0xffff ||
	    (pf->numvfs_mirror && (pf->numvfs_mirror[0] != '/' || strlen(pf->numvfs_mirror) >= VALUE_MAX ||
				   strchr(pf->numvfs_mirror, '\n'))))
		return -EINVAL;
	snprintf(info, sizeof(info),
		 "netdev_driver=%s\nifname=%s\nvf_driver=%s\nvf_ifname_fmt=%s\nnumvfs_mirror=%s\n",
		 pf->driver ? pf->driver : "", pf->ifname ? pf->ifname : "",
		 pf->vf_driver ? pf->vf_driver : "", pf->vf_ifname_fmt ? pf->vf_ifname_fmt : "",
		 pf->numvfs_mirror ? pf->numvfs_mirror : "");
	rc = add_device_dir(root, pf->pci, pf->vendor ? pf->vendor : 0x8086,
			    pf->device ? pf->device : 0x10c9, info, devdir);
	if (rc)
		return rc;
	if (pf->totalvfs) {
		rc = put_u32(devdir, "sriov_totalvfs", false, pf->totalvfs);
		if (rc == 0)
			rc = put_u32(devdir, "sriov_numvfs", false, 0);
		if (rc == 0)
			rc = put_u32(devdir, "sriov_offset", false, offset);
		if (rc == 0)
			rc = put_u32(devdir, "sriov_stride", false, stride);
		if (rc == 0)
			rc = put_u32(devdir, "sriov_vf_device", true,
				     pf->vf_device ? pf->vf_device : 0x10ca);
		if (rc == 0)
			rc = put_u32(devdir, "sriov_drivers_autoprobe", false, 1);
		if (rc)
			return rc;
	}
	if (pf->iommu && (rc = add_iommu_group(root, pf->pci)))
		return rc;
	if (pf->vf_driver && (rc = sr_fake_sysfs_add_driver(root, pf->vf_driver, false)))
		return rc;
	if (pf->driver) {
		rc = sr_fake_sysfs_add_driver(root, pf->driver, false);
		if (rc == 0)
			rc = bind_device(root, pf->pci, pf->driver);
	}
	return rc;
}

/* ---- VFs (the driver's side of sriov_numvfs) -------------------------- */

static int vf_address(const char *pf_dir, const char *pf_pci, uint32_t index, char vf[SR_PCI_LEN])
{
	unsigned domain, bus, dev, fn;
	uint32_t offset, stride, rid;
	char path[PATH_MAX];
	int rc;

	if (sscanf(pf_pci, "%4x:%2x:%2x.%1x", &domain, &bus, &dev, &fn) != 4)
		return -EINVAL;
	rc = pathf(path, "%s/sriov_offset", pf_dir);
	if (rc == 0)
		rc = get_u32(path, 10, &offset);
	if (rc == 0)
		rc = pathf(path, "%s/sriov_stride", pf_dir);
	if (rc == 0)
		rc = get_u32(path, 10, &stride);
	if (rc)
		return rc;
	/* Routing ID: bus << 8 | devfn; VF i sits at PF + offset + i * stride. */
	rid = (bus << 8 | dev << 3 | fn) + offset + index * stride;
	if (rid > 0xffff)
		return -ERANGE;
	snprintf(vf, SR_PCI_LEN, "%04x:%02x:%02x.%x", domain, rid >> 8, (rid >> 3) & 0x1f, rid & 7);
	return 0;
}

static int create_vf(const char *root, const char *pf_pci, uint32_t index)
{
	char pf_dir[PATH_MAX], vf_dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX];
	char vf[SR_PCI_LEN], vf_driver[VALUE_MAX], fmt[VALUE_MAX], ifname[IF_NAMESIZE] = "";
	char info[512], autoprobe[16];
	uint32_t vendor, vf_device;
	int rc;

	rc = dev_dir(root, pf_pci, pf_dir);
	if (rc == 0)
		rc = vf_address(pf_dir, pf_pci, index, vf);
	if (rc == 0)
		rc = pathf(path, "%s/vendor", pf_dir);
	if (rc == 0)
		rc = get_u32(path, 16, &vendor);
	if (rc == 0)
		rc = pathf(path, "%s/sriov_vf_device", pf_dir);
	if (rc == 0)
		rc = get_u32(path, 16, &vf_device);
	if (rc)
		return rc;
	info_get(pf_dir, "vf_driver", vf_driver, sizeof(vf_driver));
	info_get(pf_dir, "vf_ifname_fmt", fmt, sizeof(fmt));
	if (fmt[0] && ifname_fmt_ok(fmt))
		ifname_from_fmt(fmt, index, ifname);
	snprintf(info, sizeof(info), "netdev_driver=%s\nifname=%s\nvf_index=%u\n", vf_driver,
		 ifname, index);

	rc = add_device_dir(root, vf, (uint16_t)vendor, (uint16_t)vf_device, info, vf_dir);
	if (rc == 0)
		rc = pathf(path, "%s/physfn", vf_dir);
	if (rc == 0)
		rc = pathf(target, "../%s", pf_pci);
	if (rc == 0)
		rc = make_link(target, path);
	if (rc == 0 && pathf(path, "%s/iommu_group", pf_dir) == 0 && exists(path))
		rc = add_iommu_group(root, vf);
	if (rc)
		return rc;
	if (pathf(path, "%s/sriov_drivers_autoprobe", pf_dir) == 0 &&
	    sr_sysfs_read_value(path, autoprobe, sizeof(autoprobe)) == 0 && strcmp(autoprobe, "1") == 0) {
		rc = probe_device(root, vf);
		if (rc)
			return rc;
	}
	/* The kernel adds the virtfn link once the VF device exists. */
	rc = pathf(path, "%s/virtfn%u", pf_dir, index);
	if (rc == 0)
		rc = pathf(target, "../%s", vf);
	return rc ? rc : make_link(target, path);
}

static void remove_vf(const char *root, const char *pf_dir, uint32_t index)
{
	char link[PATH_MAX], vf_dir[PATH_MAX], path[PATH_MAX], vf[SR_PCI_LEN];

	if (pathf(link, "%s/virtfn%u", pf_dir, index) || sr_sysfs_link_base(link, vf, sizeof(vf)))
		return;
	unlink(link);
	if (dev_dir(root, vf, vf_dir))
		return;
	unbind_device(root, vf, NULL);
	remove_iommu_group(root, vf_dir);
	if (pathf(path, "%s/sys/bus/pci/devices/%s", root, vf) == 0)
		unlink(path);
	rm_rf(vf_dir);
}

static bool parse_virtfn(const char *name, uint32_t *index)
{
	char *end;
	unsigned long v;

	if (strncmp(name, "virtfn", 6) != 0 || !isdigit((unsigned char)name[6]))
		return false;
	v = strtoul(name + 6, &end, 10);
	if (*end || v > UINT32_MAX)
		return false;
	*index = (uint32_t)v;
	return true;
}

/* The PF's real twin (numvfs_mirror) takes count n first; its VFs are the
 * kernel's (netdevsim's nsim_bus_dev_numvfs_store: EBUSY from n to m, both
 * non-zero, which the emulator's own check has refused already). */
static int mirror_numvfs(const char *pf_dir, uint32_t n)
{
	char mirror[VALUE_MAX], value[16];
	int fd, rc = 0;

	info_get(pf_dir, "numvfs_mirror", mirror, sizeof(mirror));
	if (!mirror[0])
		return 0;
	fd = open(mirror, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		rc = -errno;
	else {
		snprintf(value, sizeof(value), "%u\n", n);
		rc = write_fd_all(fd, value);
		close(fd);
	}
	if (rc)
		fprintf(stderr, "fake-sysfs: %u to %s: %s\n", n, mirror, strerror(-rc));
	return rc;
}

/* Make the PF have exactly VFs 0..n-1. */
static void reconcile_vfs(const char *root, const char *pf_pci, uint32_t n)
{
	char pf_dir[PATH_MAX], path[PATH_MAX];
	uint32_t index, *drop = NULL, *grown;
	size_t n_drop = 0;
	struct dirent *de;
	DIR *d;

	if (dev_dir(root, pf_pci, pf_dir) || mirror_numvfs(pf_dir, n))
		return;
	d = opendir(pf_dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!parse_virtfn(de->d_name, &index) || index < n)
			continue;
		grown = realloc(drop, (n_drop + 1) * sizeof(*drop));
		if (!grown)
			break;
		drop = grown;
		drop[n_drop++] = index;
	}
	closedir(d);
	for (size_t i = 0; i < n_drop; i++)
		remove_vf(root, pf_dir, drop[i]);
	free(drop);
	for (index = 0; index < n; index++) {
		if (pathf(path, "%s/virtfn%u", pf_dir, index) == 0 && !exists(path))
			create_vf(root, pf_pci, index);
	}
}

/* ---- the emulator ---------------------------------------------------- */

struct fake_job {
	struct fake_job *next;
	char pf_pci[SR_PCI_LEN];
	uint32_t numvfs;
	struct timespec due;
};

/* The count the driver accepted last, per PF (the file itself may already
 * hold someone else's new value when reacting to another process). */
struct fake_pf_state {
	struct fake_pf_state *next;
	char pci[SR_PCI_LEN];
	uint32_t committed;
	unsigned pending;           /* sriov_numvfs writes still answered -EAGAIN */
	bool held;                  /* sriov_numvfs writes block */
};

struct sr_fake_driver {
	char root[PATH_MAX];        /* realpath of the tree */
	unsigned delay_ms;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t worker;
	struct fake_job *head, *tail;
	struct fake_pf_state *pfs;
	bool stopping;
	unsigned writes;            /* atomic */
	unsigned blocked;           /* writes waiting on a held PF */
};

static uint32_t count_virtfn(const char *pf_dir)
{
	struct dirent *de;
	uint32_t index, n = 0;
	DIR *d = opendir(pf_dir);

	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += parse_virtfn(de->d_name, &index);
	closedir(d);
	return n;
}

static struct fake_pf_state *pf_state(struct sr_fake_driver *drv, const char *pci)
{
	struct fake_pf_state *st;
	char path[PATH_MAX];

	for (st = drv->pfs; st; st = st->next)
		if (strcmp(st->pci, pci) == 0)
			return st;
	st = calloc(1, sizeof(*st));
	if (!st)
		return NULL;
	snprintf(st->pci, sizeof(st->pci), "%s", pci);
	/* What the driver has: the VFs present, not the file, which may
	 * hold a write made before the emulator started. */
	if (dev_dir(drv->root, pci, path) == 0)
		st->committed = count_virtfn(path);
	st->next = drv->pfs;
	drv->pfs = st;
	return st;
}

static void timespec_add_ms(struct timespec *ts, unsigned ms)
{
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
}

static bool timespec_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static int enqueue(struct sr_fake_driver *drv, const char *pci, uint32_t n)
{
	struct fake_job *job = calloc(1, sizeof(*job));

	if (!job)
		return -ENOMEM;
	snprintf(job->pf_pci, sizeof(job->pf_pci), "%s", pci);
	job->numvfs = n;
	clock_gettime(CLOCK_MONOTONIC, &job->due);
	timespec_add_ms(&job->due, drv->delay_ms);
	if (drv->tail)
		drv->tail->next = job;
	else
		drv->head = job;
	drv->tail = job;
	pthread_cond_broadcast(&drv->cond);
	return 0;
}

static void *worker_main(void *arg)
{
	struct sr_fake_driver *drv = arg;
	struct fake_job *job;
	struct timespec now;

	pthread_mutex_lock(&drv->lock);
	for (;;) {
		if (!drv->head) {
			if (drv->stopping)
				break;
			pthread_cond_wait(&drv->cond, &drv->lock);
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timespec_before(&now, &drv->head->due)) {
			pthread_cond_timedwait(&drv->cond, &drv->lock, &drv->head->due);
			continue;
		}
		job = drv->head;
		drv->head = job->next;
		if (!drv->head)
			drv->tail = NULL;
		reconcile_vfs(drv->root, job->pf_pci, job->numvfs);
		free(job);
	}
	pthread_mutex_unlock(&drv->lock);
	return NULL;
}

static int numvfs_store(struct sr_fake_driver *drv, const char *pci, const char *value,
			bool external);

/* Track every SR-IOV PF present now with the VFs it has, and act on a
 * sriov_numvfs written before the emulator started (as if written now). */
static void track_pfs(struct sr_fake_driver *drv)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	if (pathf(dir, "%s/sys/bus/pci/devices", drv->root))
		return;
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char value[32];
		struct fake_pf_state *st;
		uint32_t n;

		if (!sr_valid_pci(de->d_name) ||
		    pathf(path, "%s/%s/sriov_numvfs", dir, de->d_name) || !exists(path))
			continue;
		st = pf_state(drv, de->d_name);
		if (st && get_u32(path, 10, &n) == 0 && n != st->committed) {
			snprintf(value, sizeof(value), "%u", n);
			numvfs_store(drv, de->d_name, value, true);
		}
	}
	closedir(d);
}

struct sr_fake_driver *sr_fake_driver_new(const char *root, unsigned delay_ms)
{
	struct sr_fake_driver *drv;
	pthread_condattr_t attr;

	drv = calloc(1, sizeof(*drv));
	if (!drv)
		return NULL;
	if (!realpath(root, drv->root))
		goto out_free;
	drv->delay_ms = delay_ms;
	pthread_mutex_init(&drv->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&drv->cond, &attr);
	pthread_condattr_destroy(&attr);
	track_pfs(drv);
	if (pthread_create(&drv->worker, NULL, worker_main, drv) != 0)
		goto out_destroy;
	return drv;

out_destroy:
	pthread_cond_destroy(&drv->cond);
	pthread_mutex_destroy(&drv->lock);
	while (drv->pfs) {
		struct fake_pf_state *next = drv->pfs->next;

		free(drv->pfs);
		drv->pfs = next;
	}
out_free:
	free(drv);
	return NULL;
}

void sr_fake_driver_free(struct sr_fake_driver *drv)
{
	struct fake_pf_state *st;

	if (!drv)
		return;
	pthread_mutex_lock(&drv->lock);
	drv->stopping = true;
	pthread_cond_broadcast(&drv->cond);
	pthread_mutex_unlock(&drv->lock);
	pthread_join(drv->worker, NULL);
	while ((st = drv->pfs)) {
		drv->pfs = st->next;
		free(st);
	}
	pthread_cond_destroy(&drv->cond);
	pthread_mutex_destroy(&drv->lock);
	free(drv);
}

unsigned sr_fake_driver_writes(const struct sr_fake_driver *drv)
{
	return __atomic_load_n(&drv->writes, __ATOMIC_SEQ_CST);
}

enum fake_target {
	FAKE_PLAIN,
	FAKE_NUMVFS,    /* arg: PF pci */
	FAKE_BIND,      /* arg: driver */
	FAKE_UNBIND,    /* arg: driver */
	FAKE_PROBE,
};

/* What the write at path means to the driver. */
static enum fake_target classify(const struct sr_fake_driver *drv, const char *path,
				 char arg[VALUE_MAX])
{
	char dir[PATH_MAX], real[PATH_MAX], want[PATH_MAX];
	const char *base = strrchr(path, '/'), *name;
	size_t len;

	if (!base || (size_t)(base - path) >= sizeof(dir))
		return FAKE_PLAIN;
	len = (size_t)(base - path);
	memcpy(dir, path, len);
	dir[len] = '\0';
	base++;
	if (!realpath(dir, real))
		return FAKE_PLAIN;
	name = strrchr(real, '/') + 1;
	len = (size_t)(name - real - 1);

	if (strcmp(base, "sriov_numvfs") == 0 && sr_valid_pci(name) &&
	    pathf(want, "%s/" DEV_PARENT, drv->root) == 0 && strlen(want) == len &&
	    strncmp(real, want, len) == 0) {
		snprintf(arg, VALUE_MAX, "%s", name);
		return FAKE_NUMVFS;
	}
	if ((strcmp(base, "bind") == 0 || strcmp(base, "unbind") == 0) &&
	    pathf(want, "%s/sys/bus/pci/drivers", drv->root) == 0 && strlen(want) == len &&
	    strncmp(real, want, len) == 0) {
		snprintf(arg, VALUE_MAX, "%s", name);
		return base[0] == 'b' ? FAKE_BIND : FAKE_UNBIND;
	}
	if (strcmp(base, "drivers_probe") == 0 &&
	    pathf(want, "%s/sys/bus/pci", drv->root) == 0 && strcmp(real, want) == 0)
		return FAKE_PROBE;
	return FAKE_PLAIN;
}

static int parse_count(const char *value, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isdigit((unsigned char)value[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(value, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || v > 0xffff)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

/* sriov_numvfs, as the kernel's sriov_numvfs_store plus the driver. */
static int numvfs_store(struct sr_fake_driver *drv, const char *pci, const char *value,
			bool external)
{
	char path[PATH_MAX], buf[32];
	struct fake_pf_state *st;
	uint32_t n, total;
	int rc;

	rc = pathf(path, "%s/" DEV_PARENT "/%s/sriov_totalvfs", drv->root, pci);
	if (rc == 0)
		rc = get_u32(path, 10, &total);
	if (rc)
		return rc == -ENOENT ? -EOPNOTSUPP : rc;
	st = pf_state(drv, pci);
	if (!st)
		return -ENOMEM;
	rc = parse_count(value, &n);
	if (rc == 0 && n > total)
		rc = -ERANGE;
	if (rc == 0 && n == st->committed)
		return 0;
	/* The kernel: "no driver bound to device; cannot configure SR-IOV". */
	if (rc == 0 && (dev_dir(drv->root, pci, path) || !is_bound(path)))
		rc = -ENOENT;
	if (rc == 0 && st->committed != 0 && n != 0)
		rc = -EBUSY;
	/* The driver's sriov_configure, called past the kernel's checks. */
	if (rc == 0 && st->pending) {
		st->pending--;
		rc = -EAGAIN;
	}
	if (pathf(path, "%s/" DEV_PARENT "/%s/sriov_numvfs", drv->root, pci))
		return -ENAMETOOLONG;
	if (rc) {
		if (external) {
			snprintf(buf, sizeof(buf), "%u\n", st->committed);
			overwrite_file(path, buf);
		}
		return rc;
	}
	if (!external) {
		snprintf(buf, sizeof(buf), "%u\n", n);
		rc = overwrite_file(path, buf);
		if (rc)
			return rc;
	}
	st->committed = n;
	return enqueue(drv, pci, n);
}

/* A held device's write waits, lock released, until let go: a PF's
 * sriov_numvfs, a VF's bind, unbind or drivers_probe (sr_fake_driver_hold). */
static void hold_wait(struct sr_fake_driver *drv, const char *pci)
{
	struct fake_pf_state *st = pf_state(drv, pci);

	if (!st || !st->held)
		return;
	drv->blocked++;
	while (st->held && !drv->stopping)
		pthread_cond_wait(&drv->cond, &drv->lock);
	drv->blocked--;
}

void sr_fake_driver_pending(struct sr_fake_driver *drv, const char *pci, unsigned writes)
{
	struct fake_pf_state *st;

	pthread_mutex_lock(&drv->lock);
	st = pf_state(drv, pci);
	if (st)
		st->pending = writes;
	pthread_mutex_unlock(&drv->lock);
}

void sr_fake_driver_hold(struct sr_fake_driver *drv, const char *pci, bool hold)
{
	struct fake_pf_state *st;

	pthread_mutex_lock(&drv->lock);
	st = pf_state(drv, pci);
	if (st)
		st->held = hold;
	pthread_cond_broadcast(&drv->cond);
	pthread_mutex_unlock(&drv->lock);
}

unsigned sr_fake_driver_blocked(struct sr_fake_driver *drv)
{
	unsigned n;

	pthread_mutex_lock(&drv->lock);
	n = drv->blocked;
	pthread_mutex_unlock(&drv->lock);
	return n;
}

static int handle_write(struct sr_fake_driver *drv, const char *path, const char *raw,
			bool external)
{
	char arg[VALUE_MAX] = "", value[VALUE_MAX], devdir[PATH_MAX];
	enum fake_target target;
	int rc;

	snprintf(value, sizeof(value), "%s", raw);
	trim(value);
	pthread_mutex_lock(&drv->lock);
	target = classify(drv, path, arg);
	if (target != FAKE_PLAIN && target != FAKE_NUMVFS &&
	    (!sr_valid_pci(value) || dev_dir(drv->root, value, devdir) || !exists(devdir))) {
		rc = -ENODEV;
		goto out_unlock;
	}
	switch (target) {
	case FAKE_NUMVFS:
		hold_wait(drv, arg);
		rc = numvfs_store(drv, arg, value, external);
		break;
	case FAKE_UNBIND:
		hold_wait(drv, value);
		rc = unbind_device(drv->root, value, arg);
		break;
	case FAKE_BIND:
		hold_wait(drv, value);
		if (is_bound(devdir))
			rc = -EBUSY;
		else if (!driver_takes(drv->root, arg))
			rc = -ENODEV;
		else
			rc = bind_device(drv->root, value, arg);
		break;
	case FAKE_PROBE:
		hold_wait(drv, value);
		rc = probe_device(drv->root, value);
		break;
	case FAKE_PLAIN:
	default:
		rc = external ? 0 : overwrite_file(path, raw);
		break;
	}
out_unlock:
	pthread_mutex_unlock(&drv->lock);
	return rc;
}

int sr_fake_driver_write(void *ctx, const char *path, const char *value)
{
	struct sr_fake_driver *drv = ctx;

	__atomic_add_fetch(&drv->writes, 1, __ATOMIC_SEQ_CST);
	return handle_write(drv, path, value, false);
}

int sr_fake_driver_react(struct sr_fake_driver *drv, const char *path)
{
	char value[VALUE_MAX];
	int rc;

	__atomic_add_fetch(&drv->writes, 1, __ATOMIC_SEQ_CST);
	rc = sr_sysfs_read_value(path, value, sizeof(value));
	if (rc)
		return rc;
	return handle_write(drv, path, value, true);
}
