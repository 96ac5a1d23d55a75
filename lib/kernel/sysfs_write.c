/* SPDX-License-Identifier: MIT */
/*
 * sysfs writes that change the node and the waits that go with them:
 * sriov_numvfs (0 first when changing a non-zero count; wait for the
 * virtfn links), sriov_drivers_autoprobe, driver binding through
 * driver_override + drivers_probe. Every write goes through s->write.
 */
#include "sysfs_io.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
		if (!sysfs_parse_virtfn(de->d_name, &index))
			continue;
		(*present)++;
		if (sysfs_join(path, dir, de->d_name) == 0 && stat(path, &st) == 0)
			(*ready)++;
	}
	closedir(d);
	return 0;
}

uint64_t sr_sysfs_now_ms(void)
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

/* Until exactly n virtfn links exist, each leading to a device, or
 * numvfs_timeout_ms (else wait_timeout_ms) have passed. */
static int wait_vfs(const struct sr_sysfs *s0, const char *pci, const char *dir, uint32_t n,
		    struct sr_err *err)
{
	uint64_t start = sr_sysfs_now_ms(), elapsed;
	struct sr_sysfs bounded = *s0;
	const struct sr_sysfs *s = &bounded;
	unsigned step = 1;
	uint32_t present, ready;
	int rc;

	if (s0->numvfs_timeout_ms)
		bounded.wait_timeout_ms = s0->numvfs_timeout_ms;

	for (;;) {
		rc = count_virtfn(dir, &present, &ready);
		if (rc)
			return sr_err_set(err, rc, "PF %s: reading %s: %s", pci, dir, strerror(-rc));
		if (present == n && ready == n)
			return 0;
		elapsed = sr_sysfs_now_ms() - start;
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

int sr_sysfs_wait_vfs(const struct sr_sysfs *s, const char *pf_pci, uint32_t n,
		      struct sr_err *err)
{
	char dir[PATH_MAX];
	int rc;

	rc = sysfs_device_exists(s, "PF", pf_pci, dir, err);
	if (rc)
		return rc;
	return wait_vfs(s, pf_pci, dir, n, err);
}

/* sriov_numvfs, tried again while the driver answers -EAGAIN, for up to
 * s->numvfs_again_ms (SR_NUMVFS_AGAIN_MS): i40e_pci_sriov_configure (drivers/net/ethernet/intel/
 * i40e/i40e_virtchnl_pf.c) answers it, "Unable to configure VFs, other
 * operation is pending.", while a VF setting or another VF operation holds
 * __I40E_VIRTCHNL_OP_PENDING (a VF MAC set waits up to 300 ms in it). */
static int write_again(const struct sr_sysfs *s, const char *who, const char *path,
		       const char *value, struct sr_err *err)
{
	uint64_t start = sr_sysfs_now_ms(), waited;
	uint64_t budget = s->numvfs_again_ms ? s->numvfs_again_ms : SR_NUMVFS_AGAIN_MS;
	unsigned pause = 10;
	int rc;

	for (;;) {
		rc = sysfs_write_attr(s, who, path, value, err);
		waited = sr_sysfs_now_ms() - start;
		if (rc != -EAGAIN || waited >= budget)
			break;
		sleep_ms(pause < budget - waited ? pause : (unsigned)(budget - waited));
		pause *= 2;
	}
	if (rc == -EAGAIN)
		return sr_err_set(err, rc,
				  "%s: writing %s to %s: %s (the driver had another VF operation pending; still after %u ms)",
				  who, value, path, strerror(EAGAIN), (unsigned)waited);
	return rc;
}

static int write_numvfs(const struct sr_sysfs *s, const char *pci, const char *dir, uint32_t n,
			struct sr_err *err)
{
	char path[PATH_MAX], value[16], who[SR_PCI_LEN + 4];
	int rc;

	rc = sysfs_join(path, dir, "sriov_numvfs");
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", pci);
	snprintf(value, sizeof(value), "%u", n);
	snprintf(who, sizeof(who), "PF %s", pci);
	rc = write_again(s, who, path, value, err);
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

	rc = sysfs_device_exists(s, "PF", pf_pci, dir, err);
	if (rc)
		return rc;
	rc = sysfs_read_count(pf_pci, dir, "sriov_totalvfs", &total, err);
	if (rc)
		return rc;
	if (n > total)
		return sr_err_set(err, -ERANGE, "sriov_numvfs %u for PF %s: allowed 0..%u", n,
				  pf_pci, total);
	rc = sysfs_read_count(pf_pci, dir, "sriov_numvfs", &cur, err);
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

/* ---- driver binding -------------------------------------------------- */

int sr_sysfs_set_autoprobe(const struct sr_sysfs *s, const char *pf_pci, bool on,
			   struct sr_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX], who[SR_PCI_LEN + 4];
	int rc;

	rc = sysfs_device_exists(s, "PF", pf_pci, dir, err);
	if (rc)
		return rc;
	rc = sysfs_join(path, dir, "sriov_drivers_autoprobe");
	if (rc)
		return sr_err_set(err, rc, "PF %s: path too long", pf_pci);
	snprintf(who, sizeof(who), "PF %s", pf_pci);
	return sysfs_write_attr(s, who, path, on ? "1" : "0", err);
}

static void current_driver(const char *dir, char out[SR_DRIVER_LEN])
{
	char path[PATH_MAX];

	if (sysfs_join(path, dir, "driver") || sr_sysfs_link_base(path, out, SR_DRIVER_LEN))
		out[0] = '\0';
}

/* Until the device is (bound) or is not (!bound) on driver, or the timeout
 * counted from start (sr_sysfs_now_ms) is over; now is what it is on at the
 * end. drivers_probe is synchronous on a kernel, so this returns at once
 * there; an emulator in another process (fake-sysfs run) may lag. */
static bool wait_driver(const struct sr_sysfs *s, const char *dir, const char *driver,
			bool bound, uint64_t start, char now[SR_DRIVER_LEN])
{
	uint64_t elapsed;
	unsigned step = 1;

	for (;;) {
		current_driver(dir, now);
		if ((strcmp(now, driver) == 0) == bound)
			return true;
		elapsed = sr_sysfs_now_ms() - start;
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
		rc = sysfs_path(s, path, "bus/pci/drivers/%s/unbind", cur);
		if (rc)
			return sr_err_set(err, rc, "%s: path too long", who);
		rc = sysfs_write_attr(s, who, path, vf_pci, err);
		if (rc)
			return rc;
	}
	rc = sysfs_path(s, path, "bus/pci/drivers_probe");
	if (rc)
		return sr_err_set(err, rc, "%s: path too long", who);
	return sysfs_write_attr(s, who, path, vf_pci, err);
}

int sr_sysfs_bind_start(const struct sr_sysfs *s, const char *vf_pci, const char *driver,
			char prev[SR_DRIVER_LEN], struct sr_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX], who[SR_PCI_LEN + 4];
	char cur[SR_DRIVER_LEN], now[SR_DRIVER_LEN];
	struct stat st;
	int rc;

	rc = sysfs_check_driver(driver, err);
	if (rc)
		return rc;
	rc = sysfs_device_exists(s, "VF", vf_pci, dir, err);
	if (rc)
		return rc;
	rc = sysfs_path(s, path, "bus/pci/drivers/%s", driver);
	if (rc)
		return sr_err_set(err, rc, "VF %s: path too long", vf_pci);
	if (stat(path, &st) < 0)
		return sr_err_set(err, -ENOENT, "VF %s: driver %s is not loaded (no %s)", vf_pci,
				  driver, path);
	snprintf(who, sizeof(who), "VF %s", vf_pci);
	current_driver(dir, cur);

	rc = sysfs_join(path, dir, "driver_override");
	if (rc)
		return sr_err_set(err, rc, "VF %s: path too long", vf_pci);
	rc = sysfs_write_attr(s, who, path, driver, err);
	if (rc)
		return rc;
	if (strcmp(cur, driver) != 0) {
		rc = reprobe(s, who, vf_pci, cur, err);
		if (rc)
			return rc;
	}
	if (prev)
		memcpy(prev, cur, SR_DRIVER_LEN);
	/* drivers_probe returned: on a kernel the probe is over. */
	current_driver(dir, now);
	return strcmp(now, driver) ? -EINPROGRESS : 0;
}

/* The message of a VF that is not on driver at the deadline. */
static int not_taken(struct sr_err *err, const char *vf_pci, const char *driver,
		     const char *now)
{
	return sr_err_set(err, -EIO,
			  "VF %s: driver %s did not take the device after drivers_probe "
			  "(bound to: %s)",
			  vf_pci, driver, now[0] ? now : "none");
}

int sr_sysfs_bind_wait(const struct sr_sysfs *s, const char *vf_pci, const char *driver,
		       uint64_t started_ms, struct sr_err *err)
{
	char dir[PATH_MAX], now[SR_DRIVER_LEN];
	int rc;

	rc = sysfs_device_exists(s, "VF", vf_pci, dir, err);
	if (rc)
		return rc;
	if (wait_driver(s, dir, driver, true, started_ms, now))
		return 0;
	return not_taken(err, vf_pci, driver, now);
}

int sr_sysfs_bind_driver(const struct sr_sysfs *s, const char *vf_pci, const char *driver,
			 char prev[SR_DRIVER_LEN], struct sr_err *err)
{
	char cur[SR_DRIVER_LEN];
	int rc;

	rc = sr_sysfs_bind_start(s, vf_pci, driver, cur, err);
	if (rc == -EINPROGRESS)
		rc = sr_sysfs_bind_wait(s, vf_pci, driver, sr_sysfs_now_ms(), err);
	if (!rc && prev)
		memcpy(prev, cur, SR_DRIVER_LEN);
	return rc;
}

int sr_sysfs_unbind_driver(const struct sr_sysfs *s, const char *vf_pci, struct sr_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX], who[SR_PCI_LEN + 4];
	char cur[SR_DRIVER_LEN], now[SR_DRIVER_LEN], override[SR_DRIVER_LEN];
	int rc;

	rc = sysfs_device_exists(s, "VF", vf_pci, dir, err);
	if (rc)
		return rc;
	snprintf(who, sizeof(who), "VF %s", vf_pci);
	current_driver(dir, cur);

	rc = sysfs_join(path, dir, "driver_override");
	if (rc)
		return sr_err_set(err, rc, "VF %s: path too long", vf_pci);
	/* The kernel shows an unset override as "(null)". */
	if (sr_sysfs_read_value(path, override, sizeof(override)) || strcmp(override, "(null)") == 0)
		override[0] = '\0';
	/* A lone newline clears the override (an empty write never reaches it). */
	rc = sysfs_write_attr(s, who, path, "\n", err);
	if (rc)
		return rc;
	rc = reprobe(s, who, vf_pci, cur, err);
	if (rc)
		return rc;
	if (override[0] && !wait_driver(s, dir, override, false, sr_sysfs_now_ms(), now))
		return sr_err_set(err, -EIO, "VF %s: still bound to %s after unbind", vf_pci,
				  override);
	return 0;
}
