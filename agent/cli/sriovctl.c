/* SPDX-License-Identifier: MIT */
/*
 * sriovctl: inspect VFs and reservations, print domain configs, push
 * configs to a running agent. One subcommand table, a file per command.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <uuid/uuid.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "ctl.h"
#include "netlink.h"
#include "print.h"
#include "reserve.h"
#include "sysfs.h"
#include "text.h"

static const struct {
	const char *name;
	int (*fn)(struct ctl *c, int argc, char **argv);
	const char *args;
	const char *help;
} commands[] = {
	{ "pfs", ctl_pfs, "", "SR-IOV capable PFs on the node and whether the IOMMU is on" },
	{ "list", ctl_list, "", "every VF with its PCI address, driver, IOMMU group and app" },
	{ "show", ctl_show, "APP-UUID", "the VFs reserved for one app" },
	{ "domain-config", ctl_domain, "APP-UUID", "print the app's KVM or Xen domain config" },
	{ "status", ctl_status, "", "the running agent's health and last config result" },
	{ "push", ctl_push, "FILE", "send an EdgeDevConfig to the running agent" },
	{ "info", ctl_info, "",
	  "the VFs as EVE's ZInfoMsg: ZiDevice, or ZiApp with --app UUID;\n"
	  "                           --format pb|json|text, --from-agent: ask the running agent" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sriovctl [--state-dir DIR] [--sysfs-root DIR] [--socket PATH] [--json]\n"
		   "                [--hypervisor kvm|xen] COMMAND [ARGS]\n"
		   "       sriovctl [--json] --version\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-14s %-9s %s\n", commands[i].name, commands[i].args, commands[i].help);
	fprintf(f, "\nExit status: 0 ok, 1 not found or failed, 2 usage, 3 (push) applied, but some\n"
		   "app could not be given its VF.\n");
}

static char last_err[SR_ERR_MAX + 64];

void ctl_err(const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	vsnprintf(last_err, sizeof(last_err), fmt, ap);
	va_end(ap);
	n = strlen(last_err);
	if (n && last_err[n - 1] == '\n')
		last_err[n - 1] = '\0';
	fprintf(stderr, "sriovctl: %s\n", last_err);
}

int ctl_check_uuid(const char *cmd, const char *uuid)
{
	uuid_t u;
	char q[SR_QUOTE_CAP(64)];

	if (!uuid_parse(uuid, u))
		return CTL_OK;
	ctl_err("%s: \"%s\" is not a UUID (like 3f2a1c2e-8d4b-4c1a-9f0e-1b2c3d4e5f60)\n", cmd,
		sr_quote(q, sizeof(q), uuid, 64));
	return CTL_USAGE;
}

static int by_uuid(const void *x, const void *y)
{
	const struct sr_app *a = *(const struct sr_app *const *)x;
	const struct sr_app *b = *(const struct sr_app *const *)y;

	return strcasecmp(a->uuid_str, b->uuid_str);
}

/* The state's apps sorted by UUID, for ctl_find_app (list: one look-up
 * per VF, 4096 of each). */
static int index_apps(struct ctl *c)
{
	free(c->apps_by_uuid);
	c->apps_by_uuid = calloc(c->st.n_apps ? c->st.n_apps : 1, sizeof(*c->apps_by_uuid));
	if (!c->apps_by_uuid)
		return -ENOMEM;
	for (size_t i = 0; i < c->st.n_apps; i++)
		c->apps_by_uuid[i] = &c->st.apps[i];
	qsort(c->apps_by_uuid, c->st.n_apps, sizeof(*c->apps_by_uuid), by_uuid);
	return 0;
}

int ctl_load_state(struct ctl *c)
{
	struct sr_err err = { "" };
	struct stat sb;
	int r;

	if (stat(c->state_dir, &sb)) {
		ctl_err("state dir %s: %s (has sriov-agent applied a config here?)\n", c->state_dir,
			strerror(errno));
		return 1;
	}

	if ((r = sr_state_load(c->state_dir, &c->st, &err))) {
		if (sr_state_is_refused(r))
			ctl_err("%s; to rebuild it from the node: sriov-agent recover --state-dir %s --dry-run, then without --dry-run\n",
				err.msg, c->state_dir);
		else
			ctl_err("%s\n", err.msg);
		return 1;
	}
	if (index_apps(c)) {
		ctl_err("out of memory\n");
		return 1;
	}
	return 0;
}

void ctl_refresh_kernel(struct ctl *c)
{
	struct sr_nl nl;

	if (strcmp(c->sysfs_root, "/") || sr_nl_open(&nl))
		return;
	for (size_t i = 0; i < c->st.n_pfs; i++) {
		struct sr_vf_settings *vfs = NULL;
		size_t n = 0;
		bool truncated = false;
		int ifindex = 0;

		if (!c->st.pfs[i].ifname[0] ||
		    sr_nl_ifindex(&nl, c->st.pfs[i].ifname, &ifindex, NULL) ||
		    sr_nl_read_vfs(&nl, ifindex, &vfs, &n, &truncated, NULL))
			continue;
		if (truncated)
			fprintf(stderr, "sriovctl: PF %s: the kernel's VF list is truncated\n",
				c->st.pfs[i].ifname);
		for (size_t j = 0; j < c->st.pfs[i].n_vfs; j++) {
			uint32_t idx = c->st.pfs[i].vfs[j].index;

			if (idx < n) {
				c->st.pfs[i].vfs[j].kernel = vfs[idx];
				c->st.pfs[i].vfs[j].has_kernel = true;
			}
		}
		free(vfs);
		c->live = true;
	}
	sr_nl_close(&nl);
}

const struct sr_app *ctl_find_app(const struct ctl *c, const char *uuid)
{
	struct sr_app key;
	const struct sr_app *k = &key, *const *at;

	if (!uuid[0] || strlen(uuid) >= sizeof(key.uuid_str) || !c->apps_by_uuid)
		return NULL;
	strcpy(key.uuid_str, uuid);
	at = bsearch(&k, c->apps_by_uuid, c->st.n_apps, sizeof(*c->apps_by_uuid), by_uuid);
	return at ? *at : NULL;
}

int ctl_load_app(struct ctl *c, const char *uuid, const struct sr_app **app)
{
	if (ctl_load_state(c))
		return 1;
	*app = ctl_find_app(c, uuid);
	if (!*app) {
		ctl_err("app %s: not in the applied config\n", uuid);
		return CTL_NOT_FOUND;
	}
	return CTL_OK;
}

static const char *link_state_name(int s)
{
	switch (s) {
	case SR_LINK_STATE_AUTO:
		return "auto";
	case SR_LINK_STATE_ENABLE:
		return "enable";
	case SR_LINK_STATE_DISABLE:
		return "disable";
	default:
		return NULL;
	}
}

static const char *proto_name(int p)
{
	return p == SR_UNSET ? NULL : p == SR_ETH_P_8021AD ? "802.1ad" : "802.1Q";
}

/* A VF's settings: JSON object under key, or compact text columns. */
static void print_settings(const char *key, const struct sr_vf_settings *s, bool text)
{
	char mac[18];

	pr_obj_open(key);
	if (s && s->has_mac)
		sr_mac_format(s->mac, mac);
	pr_str(text ? PR_ANY : PR_JSON, "mac", "%-18s ", s && s->has_mac ? mac : NULL);
	if (s && s->vlan > 0)
		pr_int(text ? PR_ANY : PR_JSON, "vlan", "%-5" PRId64 " ", s->vlan);
	else
		pr_null(text ? PR_ANY : PR_JSON, "vlan", "%-5s ");
	if (s && s->vlan > 0 && s->qos != SR_UNSET)
		pr_int(text ? PR_ANY : PR_JSON, "qos", "%-4" PRId64 " ", s->qos);
	else
		pr_null(text ? PR_ANY : PR_JSON, "qos", "%-4s ");
	pr_str(text ? PR_ANY : PR_JSON, "vlan_proto", "%-8s ",
	       s && s->vlan > 0 ? proto_name(s->vlan_proto == SR_UNSET ? SR_ETH_P_8021Q : s->vlan_proto)
				: NULL);
	if (s && s->spoofchk != SR_UNSET)
		pr_bool(text ? PR_ANY : PR_JSON, "spoofchk", "%-6s ", s->spoofchk);
	else
		pr_null(text ? PR_ANY : PR_JSON, "spoofchk", "%-6s ");
	if (s && s->trust != SR_UNSET)
		pr_bool(text ? PR_ANY : PR_JSON, "trust", "%-6s ", s->trust);
	else
		pr_null(text ? PR_ANY : PR_JSON, "trust", "%-6s ");
	pr_str(text ? PR_ANY : PR_JSON, "link_state", "%-8s ", s ? link_state_name(s->link_state) : NULL);
	if (s && s->min_tx_rate != SR_UNSET)
		pr_int(PR_JSON, "min_tx_rate", NULL, s->min_tx_rate);
	else
		pr_null(PR_JSON, "min_tx_rate", NULL);
	if (s && s->max_tx_rate != SR_UNSET)
		pr_int(text ? PR_ANY : PR_JSON, "max_tx_rate", "%-5" PRId64 " ", s->max_tx_rate);
	else
		pr_null(text ? PR_ANY : PR_JSON, "max_tx_rate", "%-5s ");
	pr_obj_close();
}

void ctl_print_vf_header(void)
{
	pr_text("%-10s %-3s %-13s %-10s %-9s %-5s %-36s %-18s %-5s | %-18s %-5s %-4s %-8s %-6s %-6s %-8s %-5s %s\n",
		"PF", "VF", "PCI", "NETDEV", "DRIVER", "GROUP", "APP", "MAC", "VLAN", "KERNEL MAC",
		"VLAN", "QOS", "PROTO", "SPOOF", "TRUST", "STATE", "RATE", "REFUSED");
}

void ctl_print_vf(const struct ctl *c, const struct sr_pf *pf, const struct sr_vf *vf,
		  const struct sr_reservation *res, const struct sr_vf_settings *kernel)
{
	const struct sr_app *app = res ? ctl_find_app(c, res->app_uuid) : NULL;
	char mac[18];
	bool refused = false;

	pr_obj_open(NULL);
	pr_str(PR_ANY, "pf", "%-10s ", pf->ifname[0] ? pf->ifname : pf->pci);
	pr_str(PR_JSON, "pf_pci", NULL, pf->pci);
	pr_uint(PR_ANY, "vf", "%-3" PRIu64 " ", vf->index);
	pr_str(PR_ANY, "pci", "%-13s ", vf->pci);
	pr_str(PR_ANY, "netdev", "%-10s ", vf->ifname[0] ? vf->ifname : NULL);
	pr_str(PR_ANY, "driver", "%-9s ", vf->driver[0] ? vf->driver : NULL);
	if (vf->iommu_group != SR_UNSET)
		pr_int(PR_ANY, "iommu_group", "%-5" PRId64 " ", vf->iommu_group);
	else
		pr_null(PR_ANY, "iommu_group", "%-5s ");
	pr_str(PR_ANY, "app", "%-36s ", res && res->app_uuid[0] ? res->app_uuid : NULL);
	pr_str(PR_JSON, "app_name", NULL, app && app->name[0] ? app->name : NULL);
	/* the app adapter's identity (null: a VF config, or a state saved
	 * before adapters had names) */
	pr_str(PR_JSON, "adapter", NULL, res && res->adapter_name[0] ? res->adapter_name : NULL);
	if (res && res->adapter_name[0])
		pr_uint(PR_JSON, "occurrence", NULL, res->occurrence);
	else
		pr_null(PR_JSON, "occurrence", NULL);
	if (res && res->desired.has_mac)
		sr_mac_format(res->desired.mac, mac);
	pr_str(PR_ANY, "mac", "%-18s ", res && res->desired.has_mac ? mac : NULL);
	if (res && res->desired.vlan > 0)
		pr_int(PR_ANY, "vlan", "%-5" PRId64 " ", res->desired.vlan);
	else
		pr_null(PR_ANY, "vlan", "%-5s ");
	pr_text("| ");
	if (res)
		print_settings("desired", &res->desired, false);
	else
		pr_null(PR_JSON, "desired", NULL);
	if (kernel && (kernel->has_mac || kernel->vlan != SR_UNSET)) {
		print_settings("kernel", kernel, true);
	} else {
		pr_null(PR_JSON, "kernel", NULL);
		pr_text("%-18s %-5s %-4s %-8s %-6s %-6s %-8s %-5s ", "-", "-", "-", "-", "-", "-", "-", "-");
	}
	pr_obj_open("attrs");
	for (int a = 0; a < SR_ATTR__COUNT; a++) {
		int v = res ? res->attr_result[a] : SR_ATTR_NOT_TRIED;

		if (v == SR_ATTR_NOT_TRIED)
			pr_null(PR_JSON, sr_vf_attr_name(a), NULL);
		else
			pr_str(PR_JSON, sr_vf_attr_name(a), NULL, v == 0 ? "ok" : strerror(-v));
		if (v < 0) {
			pr_text("%s%s(%s)", refused ? "," : "", sr_vf_attr_name(a), strerror(-v));
			refused = true;
		}
	}
	pr_obj_close();
	if (!refused)
		pr_text("-");
	pr_str(PR_JSON, "error", NULL, res ? res->error : NULL);
	if (res && res->error)
		pr_text("  ERROR: %s", res->error);
	pr_str(PR_JSON, "bound_driver", NULL, res && res->bound_driver[0] ? res->bound_driver : NULL);
	pr_text("\n");
	pr_obj_close();
}

/* A usage error: the usage on stderr and, with --json, one JSON document
 * {"error", "exit": 2} on stdout like every other outcome. */
static int usage_error(bool json)
{
	usage(stderr);
	if (json) {
		pr_init(stdout, true);
		pr_obj_open(NULL);
		pr_str(PR_JSON, "error", NULL, last_err[0] ? last_err : "usage");
		pr_int(PR_JSON, "exit", NULL, CTL_USAGE);
		pr_obj_close();
		pr_finish();
	}
	return CTL_USAGE;
}

/* --json anywhere before "--" (getopt permutes): known before an option
 * error stops the parse. */
static bool wants_json(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-j"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, NULL, 's' },
		{ "sysfs-root", required_argument, NULL, 'r' },
		{ "socket", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "hypervisor", required_argument, NULL, 'H' },
		{ "app", required_argument, NULL, 'A' },
		{ "format", required_argument, NULL, 'F' },
		{ "from-agent", no_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	bool version = false;
	struct ctl c = {
		.state_dir = SR_DEFAULT_STATE_DIR,
		.sysfs_root = "/",
		.socket = SR_DEFAULT_SOCKET,
		.hv = SR_HV_KVM,
	};
	int opt, r;

	c.json = wants_json(argc, argv);
	opterr = 0; /* our own message, also in the JSON document */
	while ((opt = getopt_long(argc, argv, ":hj", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			c.state_dir = optarg;
			break;
		case 'r':
			c.sysfs_root = optarg;
			break;
		case 'S':
			c.socket = optarg;
			break;
		case 'j':
			c.json = true;
			break;
		case 'H':
			if (sr_hypervisor_parse(optarg, &c.hv)) {
				ctl_err("--hypervisor \"%s\": allowed kvm or xen\n", optarg);
				return usage_error(c.json);
			}
			break;
		case 'A':
			c.app = optarg;
			break;
		case 'F':
			c.format = optarg;
			break;
		case 'G':
			c.from_agent = true;
			break;
		case 'h':
			usage(stdout);
			return CTL_OK;
		case 'V':
			version = true;
			break;
		case ':':
			ctl_err("option \"%s\" needs a value\n", argv[optind - 1]);
			return usage_error(c.json);
		default:
			ctl_err("unknown option \"%s\"\n", argv[optind - 1]);
			return usage_error(c.json);
		}
	}
	if (version) {
		pr_init(stdout, c.json);
		pr_obj_open(NULL);
		pr_str(PR_ANY, "version", "sriovctl %s\n", SR_VERSION);
		pr_obj_close();
		pr_finish();
		return CTL_OK;
	}
	if (optind >= argc) {
		ctl_err("no command given\n");
		return usage_error(c.json);
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[optind], commands[i].name))
			continue;
		pr_init(stdout, c.json);
		r = commands[i].fn(&c, argc - optind - 1, argv + optind + 1);
		sr_state_free(&c.st);
		free(c.apps_by_uuid);
		if (r && c.json && !pr_started()) {
			/* --json: every outcome is one JSON document on stdout. */
			pr_obj_open(NULL);
			pr_str(PR_JSON, "error", NULL, last_err[0] ? last_err : "failed");
			pr_int(PR_JSON, "exit", NULL, r);
			pr_obj_close();
			pr_finish();
		}
		return r;
	}
	ctl_err("unknown command \"%s\"\n", argv[optind]);
	return usage_error(c.json);
}
