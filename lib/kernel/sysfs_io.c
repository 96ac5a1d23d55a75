/* SPDX-License-Identifier: MIT */
/*
 * sysfs file I/O under a root: validated names into paths, small reads,
 * symlink targets, the one writer. Shared by discovery (sysfs_discover.c)
 * and the writes (sysfs_write.c) through sysfs_io.h. Nothing is printed.
 */
#include "sysfs_io.h"

#include <dirent.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYSFS_DEFAULT_TIMEOUT_MS 10000
#define SYSFS_DEFAULT_POLL_MS 20
#define SYSFS_VALUE_MAX 64

/* ---- validation ------------------------------------------------------ */

/* One path component: 1..max-1 bytes, no '/', not "." or "..". */
static bool component_valid(const char *name, size_t max)
{
	size_t len;

	if (!name)
		return false;
	len = strlen(name);
	if (len == 0 || len >= max || strchr(name, '/'))
		return false;
	return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int sysfs_check_pci(const char *field, const char *pci, struct sr_err *err)
{
	if (sr_valid_pci(pci))
		return 0;
	return sr_err_set(err, -EINVAL,
			  "%s \"%s\": expected a PCI address DDDD:BB:DD.F "
			  "(lowercase hex, device 00..1f, function 0..7)",
			  field, pci ? pci : "(null)");
}

int sysfs_check_ifname(const char *field, const char *ifname, struct sr_err *err)
{
	if (sr_valid_ifname(ifname))
		return 0;
	return sr_err_set(err, -EINVAL,
			  "%s \"%s\": allowed 1..%d bytes, no '/', not \".\" or \"..\"",
			  field, ifname ? ifname : "(null)", IF_NAMESIZE - 1);
}

int sysfs_check_driver(const char *driver, struct sr_err *err)
{
	if (component_valid(driver, SR_DRIVER_LEN))
		return 0;
	return sr_err_set(err, -EINVAL,
			  "driver \"%s\": allowed 1..%d bytes, no '/', not \".\" or \"..\"",
			  driver ? driver : "(null)", SR_DRIVER_LEN - 1);
}

/* ---- paths and small file helpers ----------------------------------- */

void sr_sysfs_init(struct sr_sysfs *s, const char *root)
{
	size_t len;

	memset(s, 0, sizeof(*s));
	if (root)
		snprintf(s->root, sizeof(s->root), "%s", root);
	len = strlen(s->root);
	while (len > 0 && s->root[len - 1] == '/')
		s->root[--len] = '\0';
	s->write = sr_sysfs_write_file;
	s->write_ctx = NULL;
	s->wait_timeout_ms = SYSFS_DEFAULT_TIMEOUT_MS;
	s->wait_poll_ms = SYSFS_DEFAULT_POLL_MS;
}

int sysfs_path(const struct sr_sysfs *s, char buf[PATH_MAX], const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(buf, PATH_MAX, "%s/sys/", s->root);
	if (n < 0 || n >= PATH_MAX)
		return -ENAMETOOLONG;
	va_start(ap, fmt);
	m = vsnprintf(buf + n, PATH_MAX - n, fmt, ap);
	va_end(ap);
	if (m < 0 || m >= PATH_MAX - n)
		return -ENAMETOOLONG;
	return 0;
}

/* Two copies, not snprintf: a VF read joins four paths, and the format
 * parsing was a seventh of a 4096-VF release's instructions. */
int sysfs_join(char buf[PATH_MAX], const char *dir, const char *name)
{
	size_t d = strlen(dir), n = strlen(name);

	if (d + 1 + n >= PATH_MAX)
		return -ENAMETOOLONG;
	memmove(buf, dir, d);
	buf[d] = '/';
	memcpy(buf + d + 1, name, n + 1);
	return 0;
}

int sysfs_dev_dir(const struct sr_sysfs *s, const char *pci, char buf[PATH_MAX])
{
	return sysfs_path(s, buf, "bus/pci/devices/%s", pci);
}

int sr_sysfs_read_value(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		rc = -errno;
	close(fd);
	if (rc)
		return rc;
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return 0;
}

int sysfs_parse_u32(const char *str, int base, uint32_t *out)
{
	unsigned long v;
	char *end;

	if (!isxdigit((unsigned char)str[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(str, &end, base);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

int sysfs_read_u32(const char *path, int base, uint32_t *out)
{
	char buf[SYSFS_VALUE_MAX];
	int rc;

	rc = sr_sysfs_read_value(path, buf, sizeof(buf));
	if (rc)
		return rc;
	return sysfs_parse_u32(buf, base, out) ? -EIO : 0;
}

int sr_sysfs_link_base(const char *path, char *out, size_t size)
{
	return sysfs_link_base_at(AT_FDCWD, path, out, size);
}

int sysfs_link_base_at(int dirfd, const char *path, char *out, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlinkat(dirfd, path, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (strlen(base) >= size)
		return -ENAMETOOLONG;
	strcpy(out, base);
	return 0;
}

/* Alphabetically first visible entry of dir; "" when none or no dir. */
void sysfs_first_entry(const char *dir, char *out, size_t size)
{
	struct dirent *de;
	DIR *d;

	out[0] = '\0';
	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) >= size)
			continue;
		if (!out[0] || strcmp(de->d_name, out) < 0)
			strcpy(out, de->d_name);
	}
	closedir(d);
}

/* "virtfnN" -> N. */
bool sysfs_parse_virtfn(const char *name, uint32_t *index)
{
	static const char prefix[] = "virtfn";

	if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
		return false;
	name += sizeof(prefix) - 1;
	if (!isdigit((unsigned char)name[0]) || (name[0] == '0' && name[1]))
		return false;
	return sysfs_parse_u32(name, 10, index) == 0;
}

int sr_sysfs_write_file(void *ctx, const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t n;
	int fd, rc = 0;

	(void)ctx;
	/* O_TRUNC as a shell's "echo v > file": ignored by sysfs attributes,
	 * keeps plain files (a fake tree driven by fake-sysfs run) exact. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, value, len);
	if (n < 0)
		rc = -errno;
	else if ((size_t)n != len)
		rc = -EIO;
	if (close(fd) < 0 && rc == 0)
		rc = -errno;
	return rc;
}

/* One write through the replaceable writer; message names what and where. */
int sysfs_write_attr(const struct sr_sysfs *s, const char *who, const char *path,
		      const char *value, struct sr_err *err)
{
	char shown[SYSFS_VALUE_MAX];
	size_t len;
	int rc;

	rc = s->write(s->write_ctx, path, value);
	if (rc == 0)
		return 0;
	if (rc > 0)
		rc = -EIO;
	snprintf(shown, sizeof(shown), "%s", value);
	len = strlen(shown);
	while (len > 0 && shown[len - 1] == '\n')
		shown[--len] = '\0';
	return sr_err_set(err, rc, "%s: writing \"%s\" to %s: %s", who, shown, path,
			  strerror(-rc));
}

/* ---- PFs ------------------------------------------------------------- */

int sysfs_device_exists(const struct sr_sysfs *s, const char *who, const char *pci,
			 char dir[PATH_MAX], struct sr_err *err)
{
	struct stat st;
	int rc;

	rc = sysfs_check_pci(strcmp(who, "VF") ? "pf_pci" : "vf_pci", pci, err);
	if (rc)
		return rc;
	rc = sysfs_dev_dir(s, pci, dir);
	if (rc)
		return sr_err_set(err, rc, "%s %s: path too long", who, pci);
	if (stat(dir, &st) < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return sr_err_set(err, -ENODEV, "%s %s: no such PCI device (%s)", who, pci,
					  dir);
		return sr_err_set(err, rc, "%s %s: %s: %s", who, pci, dir, strerror(-rc));
	}
	return 0;
}

int sysfs_read_count(const char *pci, const char *dir, const char *file, uint32_t *out,
		     struct sr_err *err)
{
	char path[PATH_MAX];
	int rc;

	rc = sysfs_join(path, dir, file);
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", pci);
	rc = sysfs_read_u32(path, 10, out);
	if (rc == -ENOENT && strcmp(file, "sriov_totalvfs") == 0)
		return sr_err_set(err, -EOPNOTSUPP, "PF %s: no SR-IOV (no %s)", pci, path);
	if (rc == -EIO)
		return sr_err_set(err, rc, "PF %s: %s: not a number", pci, path);
	if (rc)
		return sr_err_set(err, rc, "PF %s: reading %s: %s", pci, path, strerror(-rc));
	return 0;
}
