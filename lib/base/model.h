/* SPDX-License-Identifier: MIT */
/*
 * The in-memory model: PFs, VFs, VF settings, apps, reservations. Plain
 * data, no I/O. Every "optional" value has an explicit unset marker: a VLAN
 * of 0, a VF index of 0 and a missing field are different things.
 */
#pragma once

#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uuid/uuid.h>

#define SR_PCI_LEN 13      /* "0000:01:10.2" + NUL */
#define SR_UUID_LEN 37     /* canonical text form + NUL */
#define SR_LABEL_LEN 64
#define SR_NAME_LEN 128
#define SR_RES_ERROR_MAX 128   /* a reservation's error, NUL included */
/* An app adapter's name as the config spells it: a PF label (< SR_LABEL_LEN)
 * or "<label>vf<N>" with N a uint32 in decimal, + NUL. */
#define SR_ADAPTER_NAME_LEN 76
#define SR_DRIVER_LEN 64
#define SR_UNSET (-1)

/* Ranges, next to each other so validation has one source of truth. */
#define SR_VLAN_MIN 1
#define SR_VLAN_MAX 4094
#define SR_QOS_MAX 7
#define SR_ETH_P_8021Q 0x8100
#define SR_ETH_P_8021AD 0x88a8

/* VF attributes, in the order they are written (MAC first). One netlink
 * request per VF carries all of them; when the driver refuses it, one
 * request per attribute so a refused one does not block the rest. */
enum sr_vf_attr {
	SR_ATTR_MAC,
	SR_ATTR_VLAN,       /* vlan + qos + proto, one kernel attribute */
	SR_ATTR_SPOOFCHK,
	SR_ATTR_TRUST,
	SR_ATTR_LINK_STATE,
	SR_ATTR_RATE,       /* min + max tx rate, one kernel attribute */
	SR_ATTR__COUNT
};

/* Result of one attribute write: SR_ATTR_NOT_TRIED, 0, or -errno. */
#define SR_ATTR_NOT_TRIED 1

/* Link state values, as the kernel's IFLA_VF_LINK_STATE_*. */
#define SR_LINK_STATE_AUTO 0
#define SR_LINK_STATE_ENABLE 1
#define SR_LINK_STATE_DISABLE 2

struct sr_vf_settings {
	bool has_mac;
	uint8_t mac[6];
	int32_t vlan;        /* SR_UNSET; 0 = no VLAN; 1..4094 */
	int32_t qos;         /* SR_UNSET; 0..7 */
	int32_t vlan_proto;  /* SR_UNSET; SR_ETH_P_8021Q or SR_ETH_P_8021AD */
	int8_t spoofchk;     /* SR_UNSET, 0, 1 */
	int8_t trust;        /* SR_UNSET, 0, 1 */
	int8_t link_state;   /* SR_UNSET or SR_LINK_STATE_* */
	int64_t min_tx_rate; /* SR_UNSET or Mbit/s (0 = no limit) */
	int64_t max_tx_rate; /* SR_UNSET or Mbit/s (0 = no limit) */
};

struct sr_vf {
	uint32_t index;
	char pci[SR_PCI_LEN];          /* from the virtfnN link target only */
	char ifname[IF_NAMESIZE];      /* "" when the VF has no netdev */
	char driver[SR_DRIVER_LEN];    /* "" when unbound */
	int32_t iommu_group;           /* SR_UNSET when none */
	bool has_kernel;               /* the kernel's view below is known */
	struct sr_vf_settings kernel;  /* as the kernel reports it (netlink) */
};

struct sr_pf {
	char label[SR_LABEL_LEN];      /* config label; "" when only discovered */
	char ifname[IF_NAMESIZE];
	char pci[SR_PCI_LEN];
	char driver[SR_DRIVER_LEN];
	uint32_t vendor, device;       /* PCI ids, 0 when unknown */
	char name[SR_NAME_LEN];        /* libpci vendor/device name, display only */
	uint32_t totalvfs;
	uint32_t numvfs;
	int8_t autoprobe;              /* sriov_drivers_autoprobe: SR_UNSET, 0, 1 */
	struct sr_vf *vfs;             /* owned; sorted by index */
	size_t n_vfs;
};

struct sr_app {
	uuid_t uuid;
	char uuid_str[SR_UUID_LEN];
	char name[SR_NAME_LEN];
	uint32_t memory_kib;
	uint32_t vcpus;
	uint32_t virt_mode;            /* EVE VmMode: 0 PV, 1 HVM, ... */
	bool activate;
};

struct sr_reservation {
	char app_uuid[SR_UUID_LEN];    /* its app (name and the rest: sr_app) */
	char pf_pci[SR_PCI_LEN];
	char pf_ifname[IF_NAMESIZE];
	uint32_t vf_index;
	char vf_pci[SR_PCI_LEN];
	/* The app adapter holding the VF (adapter identity): the app UUID, the
	 * adapter's name and its occurrence among the app's VF adapters with
	 * that name (0 for the first). adapter_name "" with an app UUID: a
	 * reservation saved before adapters had names (matched by position). */
	char adapter_name[SR_ADAPTER_NAME_LEN];
	uint32_t occurrence;
	uint32_t adapter;              /* position among the app's VF adapters (domain order) */
	struct sr_vf_settings desired;
	bool has_original;
	struct sr_vf_settings original;
	int attr_result[SR_ATTR__COUNT];
	/* NULL = healthy. Owned (sr_reservation_set_error; freed by
	 * sr_reservations_free): 4096 reservations of 128-byte arrays that
	 * are mostly empty cost 1 MiB of an apply's peak. */
	char *error;
	char bound_driver[SR_DRIVER_LEN];
	char original_driver[SR_DRIVER_LEN];
};

void sr_vf_settings_init(struct sr_vf_settings *s);
bool sr_vf_settings_equal(const struct sr_vf_settings *a, const struct sr_vf_settings *b);
const char *sr_vf_attr_name(enum sr_vf_attr a);
void sr_pf_clear(struct sr_pf *pf);   /* frees vfs */
/* The VF with that index (pf->vfs is sorted by index), or NULL. */
const struct sr_vf *sr_pf_find_vf(const struct sr_pf *pf, uint32_t index);
/* The kernel's view of VF index of pf, or NULL when not known. */
const struct sr_vf_settings *sr_pf_vf_kernel(const struct sr_pf *pf, uint32_t index);
void sr_reservation_init(struct sr_reservation *r);
/* The reservation's error (at most SR_RES_ERROR_MAX - 1 bytes, cut there);
 * out of memory leaves a fixed "out of memory" rather than none. */
void sr_reservation_set_error(struct sr_reservation *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sr_reservation_clear_error(struct sr_reservation *r);
/* Frees each reservation's error, then res. */
void sr_reservations_free(struct sr_reservation *res, size_t n);
/* A reservation with no app: a VF's own settings (vflist.data), kept on a
 * VF no app holds. */
static inline bool sr_reservation_is_vf_config(const struct sr_reservation *r)
{
	return r->app_uuid[0] == '\0';
}
/* Who a reservation is for, in messages: the app UUID, or "none
 * (vflist.data)" for a VF config. */
static inline const char *sr_reservation_owner(const struct sr_reservation *r)
{
	return sr_reservation_is_vf_config(r) ? "none (vflist.data)" : r->app_uuid;
}

/* True when have already carries what want asks for attribute a (want's
 * unset sub-fields take the kernel defaults: qos 0, proto 802.1Q, rate 0). */
bool sr_vf_attr_matches(enum sr_vf_attr a, const struct sr_vf_settings *want,
			const struct sr_vf_settings *have);
/* True when want sets attribute a at all. */
bool sr_vf_attr_is_set(enum sr_vf_attr a, const struct sr_vf_settings *want);
/* An attribute's result that means "later", not "no": a VF that is still
 * being made or is in reset. i40e answers -EAGAIN ("VF %d still in reset.
 * Try again.", i40e_ndo_set_vf_mac, i40e_ndo_set_vf_port_vlan in
 * drivers/net/ethernet/intel/i40e/i40e_virtchnl_pf.c), ice -EBUSY
 * (ice_check_vf_ready_for_cfg in drivers/net/ethernet/intel/ice/
 * ice_vf_lib.c). EOPNOTSUPP, EINVAL and the rest are the driver's final
 * word. */
static inline bool sr_attr_result_later(int result)
{
	return result == -EAGAIN || result == -EBUSY;
}

/* Do old and now stand for the same app adapter? Same app UUID, and the
 * same adapter name and occurrence; an old reservation saved without a
 * name (an older state file) is matched by adapter position instead. */
bool sr_reservation_same_adapter(const struct sr_reservation *old,
				 const struct sr_reservation *now);

/* A stable locally administered unicast MAC for an app adapter: the same
 * adapter identity (UUID, name, occurrence) gives the same MAC on every
 * node and every boot, whatever other adapters the app has. */
void sr_derive_mac(const uuid_t app, const char *name, uint32_t occurrence, uint8_t mac[6]);
/* The same with a retry number: attempt 0 is sr_derive_mac(); the config
 * validator takes the next attempt when a derived MAC collides with
 * another adapter's, so the result is still a function of the config. */
void sr_derive_mac_try(const uuid_t app, const char *name, uint32_t occurrence,
		       uint32_t attempt, uint8_t mac[6]);

/* "02:00:5e:..": buf must hold 18 bytes. */
void sr_mac_format(const uint8_t mac[6], char buf[18]);

/* Validation primitives, shared by every layer that takes these strings. */
bool sr_valid_pci(const char *s);           /* "dddd:bb:dd.f", lowercase hex as the kernel names devices, device 00..1f, function 0..7 */
bool sr_valid_ifname(const char *s);        /* 1..15 bytes, no '/', ':' or space, not . or .. */
int sr_parse_mac(const char *s, uint8_t mac[6]); /* 0, -EINVAL malformed */
/* libuuid's uuid_parse rules (36 characters, '-' at 8, 13, 18, 23, hex digits
 * of either case elsewhere) without its strtoul per byte: 0, -EINVAL malformed */
int sr_parse_uuid(const char *s, uint8_t uuid[16]);
bool sr_mac_is_unicast(const uint8_t mac[6]);    /* not multicast, not all-zero */
