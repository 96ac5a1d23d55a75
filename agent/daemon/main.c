/* SPDX-License-Identifier: MIT */
/*
 * sriov-agent: applies EVE device-model and app configs to the node's
 * SR-IOV NICs.
 *
 *   sriov-agent apply --config FILE [options]
 *   sriov-agent run [--socket PATH] [--config FILE] [options]
 *   sriov-agent recover [--config FILE] [--dry-run] [options]
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "config.h"
#include "files.h"
#include "log.h"
#include "notify.h"
#include "state.h"


static void usage(FILE *f)
{
	fprintf(f,
		"Usage: sriov-agent apply --config FILE [OPTIONS]\n"
		"       sriov-agent run [--socket PATH] [--config FILE] [OPTIONS]\n"
		"       sriov-agent recover [--config FILE] [--dry-run] [OPTIONS]\n"
		"       sriov-agent --version\n"
		"\n"
		"apply: validate the EdgeDevConfig in FILE (binary protobuf), apply it, save\n"
		"       state and write domain configs, then exit.\n"
		"run:   stay running: take configs pushed on the socket (sriovctl push) and\n"
		"       from FILE when it changes, reconcile the node with the last accepted one.\n"
		"recover: STATE-DIR/state.pb refused or lost: rebuild it from the node (the\n"
		"       domain configs in DOMAIN-DIR say which VF each running app holds),\n"
		"       print what every app adapter gets, keep the refused file aside and\n"
		"       write the new one (not with --dry-run). FILE: the config the apps run\n"
		"       with (default STATE-DIR/config.pb). Stop the daemon first. A VF on\n"
		"       vfio-pci or pciback the domain configs do not say whose it is: exit 1,\n"
		"       nothing written (the conflict: lines say which and what to do).\n"
		"\n"
		"Options:\n"
		"  --config FILE         EdgeDevConfig to apply (run: watched for changes)\n"
		"  --sysfs-root DIR      root of sysfs paths (default /)\n"
		"  --state-dir DIR       state directory (default " SR_DEFAULT_STATE_DIR ")\n"
		"  --domain-dir DIR      domain configs (default STATE-DIR/domains)\n"
		"  --hypervisor H        kvm, xen or none (default kvm): passthrough driver\n"
		"                        binding (vfio-pci / pciback) and domain configs\n"
		"  --no-netlink          reserve VFs and record settings, write none with netlink\n"
		"  --dry-run             print the plan, change nothing (apply, recover)\n"
		"  --socket PATH         control socket (run; default " SR_DEFAULT_SOCKET ")\n"
		"  --interval SEC        reconcile period, a safety net behind kernel events\n"
		"                        (run; default 300)\n"
		"  --kernel-events       run: watch the kernel's events even with --sysfs-root\n"
		"                        (a test bed whose netdevs are real: test/vm netdevsim)\n"
		"  --numvfs-timeout SEC  how long a sriov_numvfs change may take (the write\n"
		"                        and its VFs appearing; default 300); run: past 2 s\n"
		"                        its PF is busy and applied when the write returns\n"
		"  --bind-timeout SEC    how long a VF's driver bind or unbind may take (the\n"
		"                        driver_override, unbind and drivers_probe writes;\n"
		"                        default 60, 1..3600); run: past 2 s its PF is busy\n"
		"  --info-file PATH      run: keep PATH holding the device's ZInfoMsg (EVE's\n"
		"                        info format), rewritten atomically when it changes\n"
		"  --log stderr|syslog   where logs go (default stderr)\n"
		"  --log-level LEVEL     error, warning, notice, info (default) or debug\n"
		"  -h, --help            this text\n"
		"\n"
		"Exit status (apply): 0 applied; 1 rejected (nothing changed) or failed;\n"
		"2 usage; 3 applied, but some app could not be given its VF (bind refused,\n"
		"VF missing, no IOMMU group: no domain config for it; the warnings say which).\n");
}

enum {
	OPT_CONFIG = 0x100,
	OPT_SYSFS,
	OPT_STATE,
	OPT_DOMAIN,
	OPT_HV,
	OPT_NO_NL,
	OPT_DRY,
	OPT_SOCKET,
	OPT_INTERVAL,
	OPT_LOG,
	OPT_LEVEL,
	OPT_INFO_FILE,
	OPT_KERNEL_EVENTS,
	OPT_NUMVFS_TIMEOUT,
	OPT_BIND_TIMEOUT,
};

/* The commands an option belongs to. */
enum { CMD_APPLY = 1 << 0, CMD_RUN = 1 << 1, CMD_RECOVER = 1 << 2,
       CMD_ANY = CMD_APPLY | CMD_RUN | CMD_RECOVER };

static const struct agent_option {
	struct option lo;
	unsigned int cmds;
} agent_options[] = {
	{ { "config", required_argument, NULL, OPT_CONFIG }, CMD_ANY },
	{ { "sysfs-root", required_argument, NULL, OPT_SYSFS }, CMD_ANY },
	{ { "state-dir", required_argument, NULL, OPT_STATE }, CMD_ANY },
	{ { "domain-dir", required_argument, NULL, OPT_DOMAIN }, CMD_ANY },
	{ { "hypervisor", required_argument, NULL, OPT_HV }, CMD_ANY },
	{ { "no-netlink", no_argument, NULL, OPT_NO_NL }, CMD_APPLY | CMD_RUN },
	{ { "dry-run", no_argument, NULL, OPT_DRY }, CMD_APPLY | CMD_RECOVER },
	{ { "socket", required_argument, NULL, OPT_SOCKET }, CMD_RUN },
	{ { "interval", required_argument, NULL, OPT_INTERVAL }, CMD_RUN },
	{ { "log", required_argument, NULL, OPT_LOG }, CMD_ANY },
	{ { "log-level", required_argument, NULL, OPT_LEVEL }, CMD_ANY },
	{ { "info-file", required_argument, NULL, OPT_INFO_FILE }, CMD_RUN },
	{ { "kernel-events", no_argument, NULL, OPT_KERNEL_EVENTS }, CMD_RUN },
	{ { "numvfs-timeout", required_argument, NULL, OPT_NUMVFS_TIMEOUT }, CMD_APPLY | CMD_RUN },
	{ { "bind-timeout", required_argument, NULL, OPT_BIND_TIMEOUT }, CMD_APPLY | CMD_RUN },
	{ { "help", no_argument, NULL, 'h' }, CMD_ANY },
};
#define N_AGENT_OPTIONS (sizeof(agent_options) / sizeof(agent_options[0]))

/* getopt_long's table for one command: only its own options, so another
 * command's option is "unrecognized" instead of silently accepted. */
static void command_longopts(unsigned int cmd, struct option *out)
{
	size_t n = 0;

	for (size_t i = 0; i < N_AGENT_OPTIONS; i++)
		if (agent_options[i].cmds & cmd)
			out[n++] = agent_options[i].lo;
	out[n] = (struct option){ 0 };
}

/* "--interval is an option of run" for an option of the other command. */
static void explain_foreign(const char *cmd_name, const char *arg)
{
	const char *name = arg + 2, *eq = strchr(name, '=');
	size_t len = eq ? (size_t)(eq - name) : strlen(name);

	if (strncmp(arg, "--", 2))
		return;
	for (size_t i = 0; i < N_AGENT_OPTIONS; i++) {
		const struct agent_option *ao = &agent_options[i];

		if (strlen(ao->lo.name) == len && !strncmp(ao->lo.name, name, len))
			fprintf(stderr, "sriov-agent: --%s is an option of %s, not of %s\n",
				ao->lo.name, ao->cmds & CMD_RUN ? "run" : "apply", cmd_name);
	}
}

static int parse_opts(const char *cmd_name, unsigned int cmd, int argc, char **argv,
		      struct agent_opts *o)
{
	struct option longopts[N_AGENT_OPTIONS + 1];
	const char *log_target = NULL, *log_level = NULL;
	char *end;
	int c;

	command_longopts(cmd, longopts);
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			o->config = optarg;
			break;
		case OPT_SYSFS:
			o->sysfs_root = optarg;
			break;
		case OPT_STATE:
			o->state_dir = optarg;
			break;
		case OPT_DOMAIN:
			o->domain_dir = optarg;
			break;
		case OPT_HV:
			if (!strcmp(optarg, "none")) {
				o->passthrough = false;
			} else if (sr_hypervisor_parse(optarg, &o->hv)) {
				fprintf(stderr, "sriov-agent: --hypervisor \"%s\": allowed kvm, xen or none\n",
					optarg);
				return -EINVAL;
			} else {
				o->passthrough = true;
			}
			break;
		case OPT_NO_NL:
			o->no_netlink = true;
			break;
		case OPT_DRY:
			o->dry_run = true;
			break;
		case OPT_SOCKET:
			o->socket = optarg;
			break;
		case OPT_INTERVAL:
			errno = 0;
			o->interval = strtoul(optarg, &end, 10);
			if (errno || *end || o->interval < 1 || o->interval > 86400) {
				fprintf(stderr, "sriov-agent: --interval \"%s\": allowed 1..86400 seconds\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_NUMVFS_TIMEOUT:
			errno = 0;
			o->numvfs_timeout = strtoul(optarg, &end, 10);
			if (errno || *end || o->numvfs_timeout < 1 || o->numvfs_timeout > 3600) {
				fprintf(stderr, "sriov-agent: --numvfs-timeout \"%s\": allowed 1..3600 seconds\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_BIND_TIMEOUT:
			errno = 0;
			o->bind_timeout = strtoul(optarg, &end, 10);
			if (errno || *end || o->bind_timeout < 1 || o->bind_timeout > 3600) {
				fprintf(stderr, "sriov-agent: --bind-timeout \"%s\": allowed 1..3600 seconds\n",
					optarg);
				return -EINVAL;
			}
			break;
		case OPT_LOG:
			log_target = optarg;
			break;
		case OPT_LEVEL:
			log_level = optarg;
			break;
		case OPT_INFO_FILE:
			o->info_file = optarg;
			break;
		case OPT_KERNEL_EVENTS:
			o->kernel_events = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			explain_foreign(cmd_name, argv[optind - 1]);
			usage(stderr);
			return -EINVAL;
		}
	}
	if (agent_log_setup(log_target, log_level)) {
		fprintf(stderr,
			"sriov-agent: --log \"%s\" / --log-level \"%s\": allowed stderr|syslog and error|warning|notice|info|debug\n",
			log_target ? log_target : "", log_level ? log_level : "");
		return -EINVAL;
	}
	if (optind != argc) {
		fprintf(stderr, "sriov-agent: unexpected argument \"%s\"\n", argv[optind]);
		return -EINVAL;
	}
	if (!o->domain_dir) {
		snprintf(o->domain_dir_buf, sizeof(o->domain_dir_buf), "%s/domains", o->state_dir);
		o->domain_dir = o->domain_dir_buf;
	}
	return 0;
}

static int cmd_apply(struct agent_opts *o)
{
	struct agent_env env;
	struct sr_err err = { "" };
	uint8_t *buf = NULL;
	size_t len = 0;
	int status = 1, lock = -1;

	if (!o->config) {
		fprintf(stderr, "sriov-agent: apply needs --config FILE\n");
		return 2;
	}
	/* A dry run writes nothing: it takes no lock. */
	if (!o->dry_run && agent_lock_state(o, &lock))
		return 1;
	if (sr_read_file(o->config, SR_CONFIG_MAX_BYTES, &buf, &len, &err)) {
		log_err("%s", err.msg);
		goto out_unlock;
	}
	if (agent_env_open(o, &env, &err)) {
		log_err("%s", err.msg);
		goto out_free_buf;
	}
	if (agent_apply_bytes(o, &env, buf, len, AGENT_APPLY_NEW_CONFIG, &err))
		log_err("config %s %s: %s", o->config,
			env.last_node_changed ? AGENT_FAILED_AFTER_CHANGE : "rejected", err.msg);
	else if (env.last_apps_failed) {
		log_err("config %s applied, but %zu app(s) could not be given their VF (see the warnings above; exit %d)",
			o->config, env.last_apps_failed, AGENT_EXIT_APP_ERRORS);
		status = AGENT_EXIT_APP_ERRORS;
	} else {
		status = 0;
	}
	agent_env_close(o, &env);
out_free_buf:
	free(buf);
out_unlock:
	sr_state_unlock(lock);
	return status;
}

int main(int argc, char **argv)
{
	struct agent_opts o = {
		.sysfs_root = "/",
		.state_dir = SR_DEFAULT_STATE_DIR,
		.socket = SR_DEFAULT_SOCKET,
		.interval = 300,
		.numvfs_timeout = 300,
		.bind_timeout = 60,
		.hv = SR_HV_KVM,
		.passthrough = true,
	};
	const char *cmd;

	if (argc == 2 && !strcmp(argv[1], "--version")) {
		printf("sriov-agent %s\nsd_notify: %s\n", SR_VERSION, agent_notify_backend());
		return 0;
	}
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "apply")) {
		if (parse_opts(cmd, CMD_APPLY, argc - 1, argv + 1, &o))
			return 2;
		return cmd_apply(&o);
	}
	if (!strcmp(cmd, "run")) {
		if (parse_opts(cmd, CMD_RUN, argc - 1, argv + 1, &o))
			return 2;
		return agent_run(&o);
	}
	if (!strcmp(cmd, "recover")) {
		if (parse_opts(cmd, CMD_RECOVER, argc - 1, argv + 1, &o))
			return 2;
		return agent_recover(&o);
	}
	fprintf(stderr, "sriov-agent: unknown command \"%s\": allowed apply, run, recover\n", cmd);
	usage(stderr);
	return 2;
}
