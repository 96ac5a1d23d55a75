/* SPDX-License-Identifier: MIT */
/*
 * fake-sysfs: build a fake sysfs tree and emulate the PF driver for a
 * separate process (the agent, the CLI, shell tests, benchmarks).
 *
 *   fake-sysfs create DIR --pf pci=0000:03:00.0,ifname=eth1,driver=igb,totalvfs=7,
 *                              offset=128,stride=2,vfdriver=igbvf [--pf ...]
 *                              [--iommu] [--driver NAME]...
 *   fake-sysfs run DIR [--delay-ms N]
 *
 * run watches sriov_numvfs of every PF, the drivers' bind/unbind and
 * drivers_probe with inotify and reacts as the in-process emulator does.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include "fake_sysfs.h"
#include "sysfs.h"

#define MAX_PFS 64
#define MAX_DRIVERS 16
#define MAX_WATCHES 256
#define PID_FILE ".fake-driver.pid"
#define HOLD_FILE ".fake-hold"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fake-sysfs create DIR --pf KEY=VALUE[,KEY=VALUE...] [--pf ...]\n"
		"                         [--iommu] [--driver NAME]...\n"
		"       fake-sysfs run DIR [--delay-ms N]\n"
		"\n"
		"--pf keys: pci (required), ifname, driver, totalvfs (0: no SR-IOV),\n"
		"           offset, stride, vfdriver, vfifname (pattern with one %%u, or\n"
		"           \"none\"; default IFNAMEv%%u), vendor, device, vfdevice (hex),\n"
		"           mirror (a real sriov_numvfs, absolute path, that run writes\n"
		"           each new VF count to before it makes the VFs)\n"
		"--iommu    one IOMMU group per device, and the vfio-pci driver\n"
		"--driver   an extra loaded driver (NAME:refuse: one that never binds)\n"
		"run        emulates the driver until SIGTERM; writes DIR/" PID_FILE "\n"
		"           when ready; --delay-ms: VF creation/removal delay (default 0);\n"
		"           a sriov_numvfs write is held while its device dir has a\n"
		"           " HOLD_FILE " file (a hung driver), acted on once it is removed\n");
}

static int bad_args(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int bad_args(const char *fmt, ...)
{
	va_list ap;

	fputs("fake-sysfs: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	return 2;
}

static bool parse_num(const char *s, int base, unsigned long max, unsigned long *out)
{
	char *end;

	if (!s[0] || s[0] == '-')
		return false;
	errno = 0;
	*out = strtoul(s, &end, base);
	return !errno && !*end && *out <= max;
}

/* One --pf spec, parsed in place (spec must outlive pf). */
static int parse_pf(char *spec, struct sr_fake_pf *pf, char vf_fmt[IF_NAMESIZE + 2])
{
	unsigned long v;
	bool fmt_given = false;

	memset(pf, 0, sizeof(*pf));
	for (char *item = strtok(spec, ","); item; item = strtok(NULL, ",")) {
		char *val = strchr(item, '=');

		if (!val)
			return bad_args("--pf: \"%s\" is not KEY=VALUE", item);
		*val++ = '\0';
		if (strcmp(item, "pci") == 0) {
			pf->pci = val;
		} else if (strcmp(item, "ifname") == 0) {
			pf->ifname = val;
		} else if (strcmp(item, "driver") == 0) {
			pf->driver = val;
		} else if (strcmp(item, "vfdriver") == 0) {
			pf->vf_driver = val;
		} else if (strcmp(item, "vfifname") == 0) {
			fmt_given = true;
			pf->vf_ifname_fmt = strcmp(val, "none") == 0 ? NULL : val;
		} else if (strcmp(item, "mirror") == 0 && val[0] == '/') {
			pf->numvfs_mirror = val;
		} else if (strcmp(item, "totalvfs") == 0 && parse_num(val, 10, 0xffff, &v)) {
			pf->totalvfs = (uint32_t)v;
		} else if (strcmp(item, "offset") == 0 && parse_num(val, 10, 0xffff, &v)) {
			pf->offset = (uint32_t)v;
		} else if (strcmp(item, "stride") == 0 && parse_num(val, 10, 0xffff, &v)) {
			pf->stride = (uint32_t)v;
		} else if (strcmp(item, "vendor") == 0 && parse_num(val, 16, 0xffff, &v)) {
			pf->vendor = (uint16_t)v;
		} else if (strcmp(item, "device") == 0 && parse_num(val, 16, 0xffff, &v)) {
			pf->device = (uint16_t)v;
		} else if (strcmp(item, "vfdevice") == 0 && parse_num(val, 16, 0xffff, &v)) {
			pf->vf_device = (uint16_t)v;
		} else {
			return bad_args("--pf: bad key or value \"%s\"", item);
		}
	}
	if (!pf->pci)
		return bad_args("--pf: pci= is required");
	if (!sr_valid_pci(pf->pci))
		return bad_args("--pf: pci \"%s\": expected DDDD:BB:DD.F", pf->pci);
	if (pf->ifname && !sr_valid_ifname(pf->ifname))
		return bad_args("--pf: ifname \"%s\": 1..15 bytes, no '/'", pf->ifname);
	if (!fmt_given && pf->ifname && pf->vf_driver &&
	    strlen(pf->ifname) + 4 < IF_NAMESIZE) {
		snprintf(vf_fmt, IF_NAMESIZE + 2, "%sv%%u", pf->ifname);
		pf->vf_ifname_fmt = vf_fmt;
	}
	return 0;
}

static int prepare_dir(const char *dir)
{
	struct dirent *de;
	DIR *d;

	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST) {
		fprintf(stderr, "fake-sysfs: mkdir %s: %s\n", dir, strerror(errno));
		return 1;
	}
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "fake-sysfs: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
			closedir(d);
			fprintf(stderr, "fake-sysfs: %s: not empty\n", dir);
			return 1;
		}
	}
	closedir(d);
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pf", required_argument, NULL, 'p'},
		{"iommu", no_argument, NULL, 'i'},
		{"driver", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char *specs[MAX_PFS], vf_fmt[MAX_PFS][IF_NAMESIZE + 2];
	struct sr_fake_pf pfs[MAX_PFS];
	const char *drivers[MAX_DRIVERS], *dir;
	size_t n_pfs = 0, n_drivers = 0;
	bool iommu = false;
	int c, rc = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (n_pfs == MAX_PFS)
				return bad_args("too many --pf (at most %d)", MAX_PFS);
			specs[n_pfs++] = optarg;
			break;
		case 'i':
			iommu = true;
			break;
		case 'd':
			if (n_drivers == MAX_DRIVERS)
				return bad_args("too many --driver (at most %d)", MAX_DRIVERS);
			drivers[n_drivers++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1)
		return bad_args("create: expected one DIR");
	if (n_pfs == 0)
		return bad_args("create: at least one --pf");
	dir = argv[optind];
	for (size_t i = 0; i < n_pfs; i++) {
		rc = parse_pf(specs[i], &pfs[i], vf_fmt[i]);
		if (rc)
			return rc;
		pfs[i].iommu = iommu;
	}
	if (prepare_dir(dir))
		return 1;
	rc = sr_fake_sysfs_init(dir);
	if (rc == 0 && iommu)
		rc = sr_fake_sysfs_add_driver(dir, "vfio-pci", false);
	for (size_t i = 0; rc == 0 && i < n_drivers; i++) {
		char name[64];
		const char *colon = strchr(drivers[i], ':');
		bool refuses = colon && strcmp(colon, ":refuse") == 0;

		snprintf(name, sizeof(name), "%.*s",
			 (int)(colon ? (size_t)(colon - drivers[i]) : strlen(drivers[i])), drivers[i]);
		rc = sr_fake_sysfs_add_driver(dir, name, refuses);
		if (rc)
			fprintf(stderr, "fake-sysfs: driver %s: %s\n", drivers[i], strerror(-rc));
	}
	for (size_t i = 0; rc == 0 && i < n_pfs; i++) {
		rc = sr_fake_sysfs_add_pf(dir, &pfs[i]);
		if (rc)
			fprintf(stderr, "fake-sysfs: PF %s: %s\n", pfs[i].pci, strerror(-rc));
	}
	return rc ? 1 : 0;
}

/* ---- run ------------------------------------------------------------- */

struct watches {
	int fd;
	size_t n;
	int wd[MAX_WATCHES];
	char dir[MAX_WATCHES][PATH_MAX];
};

static int watch_dir(struct watches *w, const char *dir)
{
	int wd;

	if (w->n == MAX_WATCHES) {
		fprintf(stderr, "fake-sysfs: too many directories to watch\n");
		return -ENOSPC;
	}
	wd = inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE);
	if (wd < 0) {
		fprintf(stderr, "fake-sysfs: watching %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	w->wd[w->n] = wd;
	snprintf(w->dir[w->n], PATH_MAX, "%s", dir);
	w->n++;
	return 0;
}

/* Every entry of dir (resolved) that has file (NULL: any), watched. */
static int watch_entries(struct watches *w, const char *dir, const char *file)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct dirent *de;
	int rc = 0;
	DIR *d;

	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "fake-sysfs: %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	while (rc == 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "%s/%s/%s", dir, de->d_name, file ? file : ".") >=
		    (int)sizeof(path))
			continue;
		if (access(path, F_OK) < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (realpath(path, real))
			rc = watch_dir(w, real);
	}
	closedir(d);
	return rc;
}

static const char *watch_lookup(const struct watches *w, int wd)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->wd[i] == wd)
			return w->dir[i];
	return NULL;
}

static bool reacts_to(const char *name)
{
	return strcmp(name, "sriov_numvfs") == 0 || strcmp(name, "bind") == 0 ||
	       strcmp(name, "unbind") == 0 || strcmp(name, "drivers_probe") == 0;
}

/* A hung or slow driver: a write of sriov_numvfs in a device dir holding
 * HOLD_FILE is acted on only once that file is gone (the kernel's write
 * runs the driver's sriov_configure synchronously; i40e_pci_sriov_configure
 * resets the PF, ixgbe with 125 VFs took ~65 s). Other PFs go on. */
#define MAX_HELD 16

struct held {
	char path[PATH_MAX];        /* the sriov_numvfs written */
	char hold[PATH_MAX];        /* its HOLD_FILE */
};

static struct held held[MAX_HELD];
static size_t n_held;

static void react(struct sr_fake_driver *drv, const char *path)
{
	char value[64] = "";
	int fd, rc;
	ssize_t n;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, value, sizeof(value) - 1);
		value[n > 0 ? n : 0] = '\0';
		value[strcspn(value, "\n")] = '\0';
		close(fd);
	}
	rc = sr_fake_driver_react(drv, path);
	if (rc)
		fprintf(stderr, "fake-sysfs: write \"%s\" to %s refused: %s\n", value, path,
			strerror(-rc));
}

/* True when path's write waits for its device's HOLD_FILE to go. */
static bool hold(const char *dir, const char *path)
{
	char hf[PATH_MAX];

	if (snprintf(hf, sizeof(hf), "%s/" HOLD_FILE, dir) >= (int)sizeof(hf) ||
	    access(hf, F_OK) < 0)
		return false;
	for (size_t i = 0; i < n_held; i++)
		if (!strcmp(held[i].path, path))
			return true;
	if (n_held == MAX_HELD)
		return false;
	snprintf(held[n_held].path, PATH_MAX, "%s", path);
	snprintf(held[n_held].hold, PATH_MAX, "%s", hf);
	n_held++;
	fprintf(stderr, "fake-sysfs: %s held until %s is removed\n", path, hf);
	return true;
}

/* Act on the held writes whose HOLD_FILE is gone. */
static void release_held(struct sr_fake_driver *drv)
{
	for (size_t i = 0; i < n_held;) {
		if (access(held[i].hold, F_OK) == 0) {
			i++;
			continue;
		}
		react(drv, held[i].path);
		held[i] = held[--n_held];
	}
}

static void on_event(struct sr_fake_driver *drv, const struct watches *w,
		     const struct inotify_event *ev)
{
	char path[PATH_MAX];
	const char *dir;

	if (!(ev->mask & IN_CLOSE_WRITE) || !ev->len || !reacts_to(ev->name))
		return;
	dir = watch_lookup(w, ev->wd);
	if (!dir || snprintf(path, sizeof(path), "%s/%s", dir, ev->name) >= (int)sizeof(path))
		return;
	if (!strcmp(ev->name, "sriov_numvfs") && hold(dir, path))
		return;
	react(drv, path);
}

static int write_pid_file(const char *dir, char pid_path[PATH_MAX])
{
	char tmp[PATH_MAX];
	FILE *f;

	if (snprintf(pid_path, PATH_MAX, "%s/" PID_FILE, dir) >= PATH_MAX ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp", pid_path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		return -errno;
	return rename(tmp, pid_path) < 0 ? -errno : 0;
}

static int run_loop(struct sr_fake_driver *drv, struct watches *w, int sfd)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd pfd[2] = {{.fd = w->fd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
	const struct inotify_event *ev;
	ssize_t len;

	for (;;) {
		if (poll(pfd, 2, n_held ? 20 : -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "fake-sysfs: poll: %s\n", strerror(errno));
			return 1;
		}
		if (pfd[1].revents & POLLIN)
			return 0;
		release_held(drv);
		if (!(pfd[0].revents & POLLIN))
			continue;
		len = read(w->fd, buf, sizeof(buf));
		if (len < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			fprintf(stderr, "fake-sysfs: inotify: %s\n", strerror(errno));
			return 1;
		}
		for (char *p = buf; p < buf + len; p += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)p;
			on_event(drv, w, ev);
		}
	}
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{"delay-ms", required_argument, NULL, 'd'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char root[PATH_MAX], path[PATH_MAX], pid_path[PATH_MAX];
	struct sr_fake_driver *drv;
	struct watches *w;
	unsigned long delay = 0;
	sigset_t mask;
	int c, sfd, rc = 1;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			if (!parse_num(optarg, 10, 3600000, &delay))
				return bad_args("--delay-ms: bad value \"%s\"", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1)
		return bad_args("run: expected one DIR");
	if (!realpath(argv[optind], root) ||
	    snprintf(path, sizeof(path), "%s/sys/bus/pci", root) >= (int)sizeof(path) ||
	    access(path, F_OK) < 0) {
		fprintf(stderr, "fake-sysfs: %s: not a fake sysfs tree\n", argv[optind]);
		return 1;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "fake-sysfs: signalfd: %s\n", strerror(errno));
		return 1;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		goto out_close_sfd;
	w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (w->fd < 0) {
		fprintf(stderr, "fake-sysfs: inotify: %s\n", strerror(errno));
		goto out_free_w;
	}
	/* Watches first, then the emulator reads the counts: nothing is lost. */
	if (watch_dir(w, path) ||
	    snprintf(path, sizeof(path), "%s/sys/bus/pci/drivers", root) >= (int)sizeof(path) ||
	    watch_entries(w, path, NULL) ||
	    snprintf(path, sizeof(path), "%s/sys/bus/pci/devices", root) >= (int)sizeof(path) ||
	    watch_entries(w, path, "sriov_numvfs"))
		goto out_close_ino;
	drv = sr_fake_driver_new(root, (unsigned)delay);
	if (!drv) {
		fprintf(stderr, "fake-sysfs: cannot start the emulator\n");
		goto out_close_ino;
	}
	c = write_pid_file(root, pid_path);
	if (c) {
		fprintf(stderr, "fake-sysfs: writing %s: %s\n", pid_path, strerror(-c));
		goto out_free_drv;
	}
	rc = run_loop(drv, w, sfd);
	unlink(pid_path);

out_free_drv:
	sr_fake_driver_free(drv);
out_close_ino:
	close(w->fd);
out_free_w:
	free(w);
out_close_sfd:
	close(sfd);
	return rc;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "create") == 0)
		return cmd_create(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "fake-sysfs: unknown command \"%s\"\n", argv[1]);
	usage(stderr);
	return 2;
}
