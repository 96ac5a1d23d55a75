/* SPDX-License-Identifier: MIT */
/*
 * Internal to the sysfs layer (sysfs_io.c, sysfs_discover.c,
 * sysfs_write.c): path building under the root, validated names, small
 * reads and the one writer. Not for use outside lib/sysfs_*.c.
 */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sysfs.h"

/* Messages name the field and what is allowed: 0 or -EINVAL. */
int sysfs_check_pci(const char *field, const char *pci, struct sr_err *err);
int sysfs_check_ifname(const char *field, const char *ifname, struct sr_err *err);
int sysfs_check_driver(const char *driver, struct sr_err *err);

/* buf = root + "/sys/" + formatted rest: 0 or -ENAMETOOLONG. */
int sysfs_path(const struct sr_sysfs *s, char buf[PATH_MAX], const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int sysfs_join(char buf[PATH_MAX], const char *dir, const char *name);
int sysfs_dev_dir(const struct sr_sysfs *s, const char *pci, char buf[PATH_MAX]);

int sysfs_parse_u32(const char *str, int base, uint32_t *out);
int sysfs_read_u32(const char *path, int base, uint32_t *out);
/* sr_sysfs_link_base of path relative to dirfd (readlinkat): a PF's VFs
 * are read relative to its device directory, not by walking the whole
 * path from the root for each link. */
int sysfs_link_base_at(int dirfd, const char *path, char *out, size_t size);
/* The first entry of dir (not . or ..), "" when none. */
void sysfs_first_entry(const char *dir, char *out, size_t size);
/* "virtfnN" -> N. */
bool sysfs_parse_virtfn(const char *name, uint32_t *index);

/* Write value to path through s->write; the message names who. */
int sysfs_write_attr(const struct sr_sysfs *s, const char *who, const char *path,
		     const char *value, struct sr_err *err);
/* The device directory of a PCI device who ("PF"/"VF") that must exist:
 * -ENODEV when it does not. */
int sysfs_device_exists(const struct sr_sysfs *s, const char *who, const char *pci,
			char dir[PATH_MAX], struct sr_err *err);

/* A PF's count file (sriov_totalvfs, sriov_numvfs) in its device dir;
 * -EOPNOTSUPP when sriov_totalvfs is missing (no SR-IOV). */
int sysfs_read_count(const char *pci, const char *dir, const char *file, uint32_t *out,
		     struct sr_err *err);
