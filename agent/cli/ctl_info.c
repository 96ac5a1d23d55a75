/* SPDX-License-Identifier: MIT */
/*
 * sriovctl info [--app UUID] [--format pb|json|text] [--from-agent]: the
 * VFs as EVE reports them to its controller, one org.lfedge.eve.info.
 * ZInfoMsg (ZiDevice, or ZiApp with --app). pb: the binary message on
 * stdout; json: its protobuf JSON mapping; text: a table. From the state
 * directory, or from the running agent over the control socket.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_info.h"
#include "control.h"
#include "ctl.h"
#include "eveinfo.pb-c.h"
#include "info.h"
#include "print.h"

enum fmt { FMT_TEXT, FMT_JSON, FMT_PB };

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v, char *buf, size_t cap)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);

	if (ev)
		return ev->name;
	snprintf(buf, cap, "%d", v);
	return buf;
}

static void text_time(const Google__Protobuf__Timestamp *ts, char *buf, size_t cap)
{
	time_t t;
	struct tm tm;

	if (!ts) {
		snprintf(buf, cap, "-");
		return;
	}
	t = (time_t)ts->seconds;
	gmtime_r(&t, &tm);
	strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void text_bundles(Org__Lfedge__Eve__Info__ZioBundle **b, size_t n)
{
	char num[16];

	printf("%-14s %-18s %-18s %-36s %-18s %-3s %-4s %s\n", "TYPE", "NAME", "MEMBERS", "USED BY",
	       "MAC", "VF", "VLAN", "ERROR");
	for (size_t i = 0; i < n; i++) {
		const Org__Lfedge__Eve__Info__IoAddresses *a =
			b[i]->n_ioaddresslist ? b[i]->ioaddresslist[0] : NULL;
		char members[128] = "", vf[12] = "-", vlan[12] = "-";
		size_t off = 0;

		for (size_t m = 0; m < b[i]->n_members && off < sizeof(members); m++)
			off += (size_t)snprintf(members + off, sizeof(members) - off, "%s%s",
						m ? "," : "", b[i]->members[m]);
		if (a && a->vf_info) {
			snprintf(vf, sizeof(vf), "%u", a->vf_info->index);
			if (a->vf_info->vlan_id)
				snprintf(vlan, sizeof(vlan), "%u", a->vf_info->vlan_id);
		}
		printf("%-14s %-18s %-18s %-36s %-18s %-3s %-4s ",
		       enum_name(&org__lfedge__eve__common__phy_io_type__descriptor, b[i]->type, num,
				 sizeof(num)),
		       b[i]->name, members[0] ? members : "-",
		       b[i]->usedbyappuuid[0] ? b[i]->usedbyappuuid : b[i]->usedbybaseos ? "(host)" : "-",
		       a && a->macaddress[0] ? a->macaddress : "-", vf, vlan);
		if (b[i]->err)
			printf("%s: %s\n",
			       enum_name(&org__lfedge__eve__info__severity__descriptor, b[i]->err->severity,
					 num, sizeof(num)),
			       b[i]->err->description);
		else
			printf("-\n");
	}
}

static int print_text(const uint8_t *buf, size_t len)
{
	Org__Lfedge__Eve__Info__ZInfoMsg *m = org__lfedge__eve__info__zinfo_msg__unpack(NULL, len, buf);
	char at[32], num[16];

	if (!m) {
		ctl_err("info: %zu bytes are not a ZInfoMsg\n", len);
		return 1;
	}
	text_time(m->attimestamp, at, sizeof(at));
	printf("ZInfoMsg %s devId %s at %s\n",
	       enum_name(&org__lfedge__eve__info__zinfo_types__descriptor, m->ztype, num, sizeof(num)),
	       m->devid[0] ? m->devid : "-", at);
	if (m->info_content_case == ORG__LFEDGE__EVE__INFO__ZINFO_MSG__INFO_CONTENT_DINFO) {
		printf("assignableAdapters: %zu\n", m->dinfo->n_assignableadapters);
		text_bundles(m->dinfo->assignableadapters, m->dinfo->n_assignableadapters);
	} else if (m->info_content_case == ORG__LFEDGE__EVE__INFO__ZINFO_MSG__INFO_CONTENT_AINFO) {
		printf("app %s (%s) assignedAdapters: %zu\n", m->ainfo->appid,
		       m->ainfo->appname[0] ? m->ainfo->appname : "-", m->ainfo->n_assignedadapters);
		text_bundles(m->ainfo->assignedadapters, m->ainfo->n_assignedadapters);
	}
	org__lfedge__eve__info__zinfo_msg__free_unpacked(m, NULL);
	return 0;
}

/* The message from the running agent. 0, or prints why and returns 1. */
static int from_agent(struct ctl *c, const char *app, uint8_t **buf, size_t *len)
{
	struct sr_err err = { "" };
	uint8_t rtype;

	if (control_request_buf(c->socket, CONTROL_INFO, app ? app : "", app ? strlen(app) : 0, &rtype,
			     buf, len, &err)) {
		ctl_err("%s\n", err.msg);
		return 1;
	}
	if (rtype != CONTROL_OK) {
		ctl_err("info: %.*s\n", (int)*len, (const char *)*buf);
		free(*buf);
		return CTL_NOT_FOUND;
	}
	return 0;
}

static int from_state(struct ctl *c, const char *app, uint8_t **buf, size_t *len)
{
	struct sr_err err = { "" };
	int r;

	if (ctl_load_state(c))
		return 1;
	ctl_refresh_kernel(c);
	r = agent_info_build(c->state_dir, &c->st, NULL, 0, app, (int64_t)time(NULL), buf, len, &err);
	if (r) {
		ctl_err("info: %s\n", err.msg);
		return r == -ENOENT ? CTL_NOT_FOUND : 1;
	}
	return 0;
}

static int parse_args(struct ctl *c, int argc, char **argv, enum fmt *fmt)
{
	if (argc) {
		ctl_err("info: unexpected \"%s\"; usage: info [--app UUID] [--format pb|json|text] [--from-agent]\n",
			argv[0]);
		return CTL_USAGE;
	}
	*fmt = c->json ? FMT_JSON : FMT_TEXT;
	if (!c->format)
		return 0;
	if (!strcmp(c->format, "pb"))
		*fmt = FMT_PB;
	else if (!strcmp(c->format, "json"))
		*fmt = FMT_JSON;
	else if (!strcmp(c->format, "text"))
		*fmt = FMT_TEXT;
	else {
		ctl_err("info --format \"%s\": allowed pb, json or text\n", c->format);
		return CTL_USAGE;
	}
	if (c->json && *fmt != FMT_JSON) {
		ctl_err("--json and --format %s disagree: give one\n", c->format);
		return CTL_USAGE;
	}
	return 0;
}

int ctl_info(struct ctl *c, int argc, char **argv)
{
	struct sr_err err = { "" };
	const char *app = c->app;
	enum fmt fmt;
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = parse_args(c, argc, argv, &fmt)))
		return rc;
	rc = c->from_agent ? from_agent(c, app, &buf, &len) : from_state(c, app, &buf, &len);
	if (rc)
		return rc;
	switch (fmt) {
	case FMT_PB:
		if (fwrite(buf, 1, len, stdout) != len || fflush(stdout)) {
			ctl_err("info: write to stdout failed\n");
			rc = 1;
		}
		break;
	case FMT_JSON:
		if (sr_info_to_json(buf, len, stdout, &err)) {
			ctl_err("%s\n", err.msg);
			rc = 1;
		}
		putchar('\n');
		break;
	case FMT_TEXT:
		rc = print_text(buf, len);
		break;
	}
	free(buf);
	return rc;
}
