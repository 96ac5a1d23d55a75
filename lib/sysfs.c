/* SPDX-License-Identifier: MIT */
/*
 * sysfs access for SR-IOV PFs and VFs. Paths are built under s->root, every
 * write goes through s->write, nothing is printed. VF PCI addresses are taken
 * from the virtfnN links only: the routing-ID arithmetic (offset/stride) is
 * the kernel's business, not ours.
 */
#include "sysfs.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pci/pci.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

static int check_pci(const char *field, const char *pci, struct sr_err *err)
{
	if (sr_valid_pci(pci))
		return 0;
	return sr_err_set(err, -EINVAL,
			  "%s \"%s\": expected a PCI address DDDD:BB:DD.F "
			  "(lowercase hex, device 00..1f, function 0..7)",
			  field, pci ? pci : "(null)");
}

static int check_ifname(const char *field, const char *ifname, struct sr_err *err)
{
	if (sr_valid_ifname(ifname))
		return 0;
	return sr_err_set(err, -EINVAL,
			  "%s \"%s\": allowed 1..%d bytes, no '/', not \".\" or \"..\"",
			  field, ifname ? ifname : "(null)", IF_NAMESIZE - 1);
}

static int check_driver(const char *driver, struct sr_err *err)
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

/* buf = root + "/sys/" + formatted rest. */
static int sys_path(const struct sr_sysfs *s, char buf[PATH_MAX], const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int sys_path(const struct sr_sysfs *s, char buf[PATH_MAX], const char *fmt, ...)
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

static int join(char buf[PATH_MAX], const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	return (n < 0 || n >= PATH_MAX) ? -ENAMETOOLONG : 0;
}

static int dev_dir(const struct sr_sysfs *s, const char *pci, char buf[PATH_MAX])
{
	return sys_path(s, buf, "bus/pci/devices/%s", pci);
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

static int parse_u32(const char *str, int base, uint32_t *out)
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

static int read_u32(const char *path, int base, uint32_t *out)
{
	char buf[SYSFS_VALUE_MAX];
	int rc;

	rc = sr_sysfs_read_value(path, buf, sizeof(buf));
	if (rc)
		return rc;
	return parse_u32(buf, base, out) ? -EIO : 0;
}

int sr_sysfs_link_base(const char *path, char *out, size_t size)
{
	char target[PATH_MAX];
	const char *base;
	ssize_t n;

	n = readlink(path, target, sizeof(target) - 1);
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
static void first_entry(const char *dir, char *out, size_t size)
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
static bool parse_virtfn(const char *name, uint32_t *index)
{
	static const char prefix[] = "virtfn";

	if (strncmp(name, prefix, sizeof(prefix) - 1) != 0)
		return false;
	name += sizeof(prefix) - 1;
	if (!isdigit((unsigned char)name[0]) || (name[0] == '0' && name[1]))
		return false;
	return parse_u32(name, 10, index) == 0;
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
static int write_attr(const struct sr_sysfs *s, const char *who, const char *path,
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

/* ---- PCI names (display only) --------------------------------------- */

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

static struct pci_access *names_open(const struct sr_sysfs *s)
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
		if (sys_path(s, path, "bus/pci") == 0)
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

/* ---- PFs ------------------------------------------------------------- */

static int device_exists(const struct sr_sysfs *s, const char *who, const char *pci,
			 char dir[PATH_MAX], struct sr_err *err)
{
	struct stat st;
	int rc;

	rc = check_pci(strcmp(who, "VF") ? "pf_pci" : "vf_pci", pci, err);
	if (rc)
		return rc;
	rc = dev_dir(s, pci, dir);
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

static int read_count(const char *pci, const char *dir, const char *file, uint32_t *out,
		      struct sr_err *err)
{
	char path[PATH_MAX];
	int rc;

	rc = join(path, dir, file);
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", pci);
	rc = read_u32(path, 10, out);
	if (rc == -ENOENT && strcmp(file, "sriov_totalvfs") == 0)
		return sr_err_set(err, -EOPNOTSUPP, "PF %s: no SR-IOV (no %s)", pci, path);
	if (rc == -EIO)
		return sr_err_set(err, rc, "PF %s: %s: not a number", pci, path);
	if (rc)
		return sr_err_set(err, rc, "PF %s: reading %s: %s", pci, path, strerror(-rc));
	return 0;
}

/* Everything find_pf reports, for a validated PCI address. */
static int fill_pf(const struct sr_sysfs *s, struct pci_access *pacc, const char *pci,
		   const char *ifname, struct sr_pf *out, struct sr_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct sr_pf pf = {0};
	int rc;

	rc = device_exists(s, "PF", pci, dir, err);
	if (rc)
		return rc;
	rc = read_count(pci, dir, "sriov_totalvfs", &pf.totalvfs, err);
	if (rc)
		return rc;
	rc = read_count(pci, dir, "sriov_numvfs", &pf.numvfs, err);
	if (rc)
		return rc;
	if (join(path, dir, "vendor") || read_u32(path, 16, &pf.vendor))
		pf.vendor = 0;
	if (join(path, dir, "device") || read_u32(path, 16, &pf.device))
		pf.device = 0;
	if (join(path, dir, "driver") || sr_sysfs_link_base(path, pf.driver, sizeof(pf.driver)))
		pf.driver[0] = '\0';
	if (ifname && ifname[0]) {
		snprintf(pf.ifname, sizeof(pf.ifname), "%s", ifname);
	} else if (join(path, dir, "net") == 0) {
		first_entry(path, pf.ifname, sizeof(pf.ifname));
	}
	names_lookup(pacc, pf.vendor, pf.device, pf.name);
	{
		uint32_t ap;

		pf.autoprobe = join(path, dir, "sriov_drivers_autoprobe") || read_u32(path, 10, &ap)
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

	rc = sys_path(s, path, "class/net/%s", ifname);
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", ifname);
	if (lstat(path, &st) < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			return sr_err_set(err, -ENODEV, "PF %s: no such network interface (%s)",
					  ifname, path);
		return sr_err_set(err, rc, "PF %s: %s: %s", ifname, path, strerror(-rc));
	}
	rc = sys_path(s, path, "class/net/%s/device", ifname);
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
	if (has_if && (rc = check_ifname("ifname", ifname, err)))
		return rc;
	if (has_pci && (rc = check_pci("pci", pci, err)))
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
	rc = fill_pf(s, NULL, found, has_if ? ifname : NULL, out, err);
	return rc;
}

static int read_pf_count(const struct sr_sysfs *s, const char *pf_pci, const char *file,
			 uint32_t *out)
{
	char dir[PATH_MAX];
	int rc;

	if (!sr_valid_pci(pf_pci))
		return -EINVAL;
	rc = device_exists(s, "PF", pf_pci, dir, NULL);
	if (rc)
		return rc;
	rc = read_count(pf_pci, dir, file, out, NULL);
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

/* ---- sriov_numvfs ---------------------------------------------------- */

/* virtfn links in dir: how many, and how many lead to an existing device. */
static int count_virtfn(const char *dir, uint32_t *present, uint32_t *ready)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	uint32_t index;
	DIR *d;

	*present = *ready = 0;
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!parse_virtfn(de->d_name, &index))
			continue;
		(*present)++;
		if (join(path, dir, de->d_name) == 0 && stat(path, &st) == 0)
			(*ready)++;
	}
	closedir(d);
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* The pause before a wait loop's next look: 1 ms, doubling up to
 * wait_poll_ms, never past the deadline. An emulator in another process
 * (fake-sysfs run) answers within a millisecond or two; a flat 20 ms per PF
 * was most of a 64-PF apply on the fake sysfs (bench/). */
static void wait_pause(const struct sr_sysfs *s, uint64_t elapsed, unsigned *step)
{
	unsigned poll = s->wait_poll_ms ? s->wait_poll_ms : 1;
	unsigned ms = *step < poll ? *step : poll;

	if (s->wait_timeout_ms - elapsed < ms)
		ms = (unsigned)(s->wait_timeout_ms - elapsed);
	sleep_ms(ms);
	*step = ms * 2;
}

/* Until exactly n virtfn links exist, each leading to a device. */
static int wait_vfs(const struct sr_sysfs *s, const char *pci, const char *dir, uint32_t n,
		    struct sr_err *err)
{
	uint64_t start = now_ms(), elapsed;
	unsigned step = 1;
	uint32_t present, ready;
	int rc;

	for (;;) {
		rc = count_virtfn(dir, &present, &ready);
		if (rc)
			return sr_err_set(err, rc, "PF %s: reading %s: %s", pci, dir, strerror(-rc));
		if (present == n && ready == n)
			return 0;
		elapsed = now_ms() - start;
		if (elapsed >= s->wait_timeout_ms)
			break;
		wait_pause(s, elapsed, &step);
	}
	if (n == 0)
		return sr_err_set(err, -ETIMEDOUT, "PF %s: 0 VFs asked, %u still present after %u ms",
				  pci, present, s->wait_timeout_ms);
	return sr_err_set(err, -ETIMEDOUT, "PF %s: %u VFs asked, %u appeared after %u ms", pci, n,
			  ready, s->wait_timeout_ms);
}

static int write_numvfs(const struct sr_sysfs *s, const char *pci, const char *dir, uint32_t n,
			struct sr_err *err)
{
	char path[PATH_MAX], value[16], who[SR_PCI_LEN + 4];
	int rc;

	rc = join(path, dir, "sriov_numvfs");
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", pci);
	snprintf(value, sizeof(value), "%u", n);
	snprintf(who, sizeof(who), "PF %s", pci);
	rc = write_attr(s, who, path, value, err);
	if (rc == -EBUSY)
		return sr_err_set(err, rc,
				  "PF %s: writing %u to %s: %s (the driver refused: VFs in use, "
				  "or the count was not 0 first)",
				  pci, n, path, strerror(EBUSY));
	if (rc == -ERANGE)
		return sr_err_set(err, rc, "PF %s: writing %u to %s: %s (above sriov_totalvfs)",
				  pci, n, path, strerror(ERANGE));
	if (rc)
		return rc;
	return wait_vfs(s, pci, dir, n, err);
}

int sr_sysfs_set_numvfs(const struct sr_sysfs *s, const char *pf_pci, uint32_t n,
			struct sr_err *err)
{
	char dir[PATH_MAX];
	uint32_t total, cur;
	int rc;

	rc = device_exists(s, "PF", pf_pci, dir, err);
	if (rc)
		return rc;
	rc = read_count(pf_pci, dir, "sriov_totalvfs", &total, err);
	if (rc)
		return rc;
	if (n > total)
		return sr_err_set(err, -ERANGE, "sriov_numvfs %u for PF %s: allowed 0..%u", n,
				  pf_pci, total);
	rc = read_count(pf_pci, dir, "sriov_numvfs", &cur, err);
	if (rc)
		return rc;
	if (cur == n)
		return wait_vfs(s, pf_pci, dir, n, err);
	if (cur != 0) {
		rc = write_numvfs(s, pf_pci, dir, 0, err);
		if (rc || n == 0)
			return rc;
	}
	return write_numvfs(s, pf_pci, dir, n, err);
}

/* ---- VFs ------------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int list_virtfn(const char *pci, const char *dir, uint32_t **out, size_t *n_out,
		       struct sr_err *err)
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
		if (!parse_virtfn(de->d_name, &index))
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
	closedir(d);
	if (n)
		qsort(idx, n, sizeof(*idx), cmp_u32);
	*out = idx;
	*n_out = n;
	return 0;
}

static int read_vf(const char *pci, const char *dir, uint32_t index, struct sr_vf *vf,
		   struct sr_err *err)
{
	char link[PATH_MAX], path[PATH_MAX], name[32], group[32];
	uint32_t g;
	int rc;

	memset(vf, 0, sizeof(*vf));
	vf->index = index;
	snprintf(name, sizeof(name), "virtfn%u", index);
	rc = join(link, dir, name);
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", pci);
	rc = sr_sysfs_link_base(link, path, sizeof(path));
	if (rc)
		return sr_err_set(err, rc, "PF %s: reading link %s: %s", pci, link, strerror(-rc));
	if (!sr_valid_pci(path))
		return sr_err_set(err, -EIO, "PF %s: %s points to \"%s\", not a PCI address", pci,
				  link, path);
	strcpy(vf->pci, path);

	if (join(path, link, "net") == 0)
		first_entry(path, vf->ifname, sizeof(vf->ifname));
	if (join(path, link, "driver") || sr_sysfs_link_base(path, vf->driver, sizeof(vf->driver)))
		vf->driver[0] = '\0';
	vf->iommu_group = SR_UNSET;
	if (join(path, link, "iommu_group") == 0 &&
	    sr_sysfs_link_base(path, group, sizeof(group)) == 0 && parse_u32(group, 10, &g) == 0 &&
	    g <= INT32_MAX)
		vf->iommu_group = (int32_t)g;
	return 0;
}

int sr_sysfs_read_vfs(const struct sr_sysfs *s, struct sr_pf *pf, struct sr_err *err)
{
	struct sr_vf *vfs = NULL;
	char dir[PATH_MAX];
	uint32_t *idx = NULL;
	size_t n = 0;
	int rc;

	rc = device_exists(s, "PF", pf->pci, dir, err);
	if (rc)
		return rc;
	rc = list_virtfn(pf->pci, dir, &idx, &n, err);
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
		rc = read_vf(pf->pci, dir, idx[i], &vfs[i], err);
		if (rc)
			goto out_free_vfs;
	}
	sr_pf_clear(pf);
	pf->vfs = vfs;
	pf->n_vfs = n;
	free(idx);
	return 0;

out_free_vfs:
	free(vfs);
out_free_idx:
	free(idx);
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

	rc = sys_path(s, dir, "bus/pci/devices");
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
		if (sys_path(s, path, "bus/pci/devices/%s/sriov_totalvfs", de->d_name) ||
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
	struct pci_access *pacc;
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
	pacc = n ? names_open(s) : NULL;
	for (; done < n; done++) {
		rc = fill_pf(s, pacc, names[done], NULL, &pfs[done], err);
		if (rc == 0)
			rc = sr_sysfs_read_vfs(s, &pfs[done], err);
		if (rc)
			break;
	}
	names_close(pacc);
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

	if (sys_path(s, dir, "kernel/iommu_groups"))
		return false;
	d = opendir(dir);
	if (!d)
		return false;
	while (!found && (de = readdir(d)))
		found = strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	closedir(d);
	return found;
}

/* ---- driver binding -------------------------------------------------- */

int sr_sysfs_set_autoprobe(const struct sr_sysfs *s, const char *pf_pci, bool on,
			   struct sr_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX], who[SR_PCI_LEN + 4];
	int rc;

	rc = device_exists(s, "PF", pf_pci, dir, err);
	if (rc)
		return rc;
	rc = join(path, dir, "sriov_drivers_autoprobe");
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", pf_pci);
	snprintf(who, sizeof(who), "PF %s", pf_pci);
	return write_attr(s, who, path, on ? "1" : "0", err);
}

static void current_driver(const char *dir, char out[SR_DRIVER_LEN])
{
	char path[PATH_MAX];

	if (join(path, dir, "driver") || sr_sysfs_link_base(path, out, SR_DRIVER_LEN))
		out[0] = '\0';
}

/* Until the device is (bound) or is not (!bound) on driver; now is what it
 * is on at the end. drivers_probe is synchronous on a kernel, so this returns
 * at once there; an emulator in another process (fake-sysfs run) may lag. */
static bool wait_driver(const struct sr_sysfs *s, const char *dir, const char *driver,
			bool bound, char now[SR_DRIVER_LEN])
{
	uint64_t start = now_ms(), elapsed;
	unsigned step = 1;

	for (;;) {
		current_driver(dir, now);
		if ((strcmp(now, driver) == 0) == bound)
			return true;
		elapsed = now_ms() - start;
		if (elapsed >= s->wait_timeout_ms)
			return false;
		wait_pause(s, elapsed, &step);
	}
}

/* unbind from cur (if any), then drivers_probe. */
static int reprobe(const struct sr_sysfs *s, const char *who, const char *vf_pci,
		   const char *cur, struct sr_err *err)
{
	char path[PATH_MAX];
	int rc;

	if (cur[0]) {
		rc = sys_path(s, path, "bus/pci/drivers/%s/unbind", cur);
		if (rc)
			return sr_err_set(err, rc, "%s: path too long", who);
		rc = write_attr(s, who, path, vf_pci, err);
		if (rc)
			return rc;
	}
	rc = sys_path(s, path, "bus/pci/drivers_probe");
	if (rc)
		return sr_err_set(err, rc, "%s: path too long", who);
	return write_attr(s, who, path, vf_pci, err);
}

int sr_sysfs_bind_driver(const struct sr_sysfs *s, const char *vf_pci, const char *driver,
			 char prev[SR_DRIVER_LEN], struct sr_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX], who[SR_PCI_LEN + 4];
	char cur[SR_DRIVER_LEN], now[SR_DRIVER_LEN];
	struct stat st;
	int rc;

	rc = check_driver(driver, err);
	if (rc)
		return rc;
	rc = device_exists(s, "VF", vf_pci, dir, err);
	if (rc)
		return rc;
	rc = sys_path(s, path, "bus/pci/drivers/%s", driver);
	if (rc)
		return sr_err_set(err, rc, "VF %s: path too long", vf_pci);
	if (stat(path, &st) < 0)
		return sr_err_set(err, -ENOENT, "VF %s: driver %s is not loaded (no %s)", vf_pci,
				  driver, path);
	snprintf(who, sizeof(who), "VF %s", vf_pci);
	current_driver(dir, cur);

	rc = join(path, dir, "driver_override");
	if (rc)
		return sr_err_set(err, rc, "VF %s: path too long", vf_pci);
	rc = write_attr(s, who, path, driver, err);
	if (rc)
		return rc;
	if (strcmp(cur, driver) != 0) {
		rc = reprobe(s, who, vf_pci, cur, err);
		if (rc)
			return rc;
	}
	if (!wait_driver(s, dir, driver, true, now))
		return sr_err_set(err, -EIO,
				  "VF %s: driver %s did not take the device after drivers_probe "
				  "(bound to: %s)",
				  vf_pci, driver, now[0] ? now : "none");
	if (prev)
		memcpy(prev, cur, SR_DRIVER_LEN);
	return 0;
}

int sr_sysfs_unbind_driver(const struct sr_sysfs *s, const char *vf_pci, struct sr_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX], who[SR_PCI_LEN + 4];
	char cur[SR_DRIVER_LEN], now[SR_DRIVER_LEN], override[SR_DRIVER_LEN];
	int rc;

	rc = device_exists(s, "VF", vf_pci, dir, err);
	if (rc)
		return rc;
	snprintf(who, sizeof(who), "VF %s", vf_pci);
	current_driver(dir, cur);

	rc = join(path, dir, "driver_override");
	if (rc)
		return sr_err_set(err, rc, "VF %s: path too long", vf_pci);
	/* The kernel shows an unset override as "(null)". */
	if (sr_sysfs_read_value(path, override, sizeof(override)) || strcmp(override, "(null)") == 0)
		override[0] = '\0';
	/* A lone newline clears the override (an empty write never reaches it). */
	rc = write_attr(s, who, path, "\n", err);
	if (rc)
		return rc;
	rc = reprobe(s, who, vf_pci, cur, err);
	if (rc)
		return rc;
	if (override[0] && !wait_driver(s, dir, override, false, now))
		return sr_err_set(err, -EIO, "VF %s: still bound to %s after unbind", vf_pci,
				  override);
	return 0;
}
