/* SPDX-License-Identifier: MIT */
/*
 * The model's small pure helpers (model.h): VF settings, attribute
 * comparisons, derived MACs and the validation primitives.
 */
#include "model.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sr_vf_settings_init(struct sr_vf_settings *s)
{
	*s = (struct sr_vf_settings){
		.vlan = SR_UNSET,
		.qos = SR_UNSET,
		.vlan_proto = SR_UNSET,
		.spoofchk = SR_UNSET,
		.trust = SR_UNSET,
		.link_state = SR_UNSET,
		.min_tx_rate = SR_UNSET,
		.max_tx_rate = SR_UNSET,
	};
}

bool sr_vf_settings_equal(const struct sr_vf_settings *a, const struct sr_vf_settings *b)
{
	if (a->has_mac != b->has_mac || (a->has_mac && memcmp(a->mac, b->mac, 6)))
		return false;
	return a->vlan == b->vlan && a->qos == b->qos && a->vlan_proto == b->vlan_proto &&
	       a->spoofchk == b->spoofchk && a->trust == b->trust &&
	       a->link_state == b->link_state && a->min_tx_rate == b->min_tx_rate &&
	       a->max_tx_rate == b->max_tx_rate;
}

const char *sr_vf_attr_name(enum sr_vf_attr a)
{
	static const char *const names[SR_ATTR__COUNT] = {
		[SR_ATTR_MAC] = "mac",
		[SR_ATTR_VLAN] = "vlan",
		[SR_ATTR_SPOOFCHK] = "spoofchk",
		[SR_ATTR_TRUST] = "trust",
		[SR_ATTR_LINK_STATE] = "link_state",
		[SR_ATTR_RATE] = "rate",
	};

	return (unsigned)a < SR_ATTR__COUNT ? names[a] : "?";
}

void sr_pf_clear(struct sr_pf *pf)
{
	free(pf->vfs);
	pf->vfs = NULL;
	pf->n_vfs = 0;
}

const struct sr_vf *sr_pf_find_vf(const struct sr_pf *pf, uint32_t index)
{
	size_t lo = 0, hi = pf->n_vfs;

	/* Sorted by index, and usually dense: try the direct slot first. */
	if (index < pf->n_vfs && pf->vfs[index].index == index)
		return &pf->vfs[index];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (pf->vfs[mid].index == index)
			return &pf->vfs[mid];
		if (pf->vfs[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

const struct sr_vf_settings *sr_pf_vf_kernel(const struct sr_pf *pf, uint32_t index)
{
	const struct sr_vf *vf = sr_pf_find_vf(pf, index);

	return vf && vf->has_kernel ? &vf->kernel : NULL;
}

/* Not freed: what an error becomes when its text cannot be allocated. */
static char no_memory[] = "out of memory";

void sr_reservation_clear_error(struct sr_reservation *r)
{
	if (r->error != no_memory)
		free(r->error);
	r->error = NULL;
}

void sr_reservation_set_error(struct sr_reservation *r, const char *fmt, ...)
{
	char buf[SR_RES_ERROR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sr_reservation_clear_error(r);
	r->error = strdup(buf);
	if (!r->error)
		r->error = no_memory;
}

void sr_reservations_free(struct sr_reservation *res, size_t n)
{
	for (size_t i = 0; res && i < n; i++)
		sr_reservation_clear_error(&res[i]);
	free(res);
}

void sr_reservation_init(struct sr_reservation *r)
{
	memset(r, 0, sizeof(*r));
	sr_vf_settings_init(&r->desired);
	sr_vf_settings_init(&r->original);
	for (int i = 0; i < SR_ATTR__COUNT; i++)
		r->attr_result[i] = SR_ATTR_NOT_TRIED;
}

bool sr_reservation_same_adapter(const struct sr_reservation *old,
				 const struct sr_reservation *now)
{
	if (strcmp(old->app_uuid, now->app_uuid))
		return false;
	if (!old->adapter_name[0] || !now->adapter_name[0])
		return old->adapter == now->adapter;
	return old->occurrence == now->occurrence && !strcmp(old->adapter_name, now->adapter_name);
}

static uint64_t fnv1a_u32(uint64_t h, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		h = (h ^ ((v >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
	return h;
}

void sr_derive_mac_try(const uuid_t app, const char *name, uint32_t occurrence,
		       uint32_t attempt, uint8_t mac[6])
{
	/* FNV-1a over the 16 UUID bytes, the name's bytes and a NUL, the
	 * occurrence (4 bytes, little endian); a retry after a collision also
	 * hashes the attempt number. */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (int i = 0; i < 16; i++)
		h = (h ^ app[i]) * 0x100000001b3ULL;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	h = h * 0x100000001b3ULL; /* the NUL: h ^ 0 */
	h = fnv1a_u32(h, occurrence);
	if (attempt)
		h = fnv1a_u32(h, attempt);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfc) | 0x02); /* unicast, locally administered */
}

void sr_derive_mac(const uuid_t app, const char *name, uint32_t occurrence, uint8_t mac[6])
{
	sr_derive_mac_try(app, name, occurrence, 0, mac);
}

void sr_mac_format(const uint8_t mac[6], char buf[18])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 6; i++) {
		buf[3 * i] = hex[mac[i] >> 4];
		buf[3 * i + 1] = hex[mac[i] & 0xf];
		buf[3 * i + 2] = i < 5 ? ':' : '\0';
	}
}

bool sr_vf_attr_is_set(enum sr_vf_attr a, const struct sr_vf_settings *w)
{
	switch (a) {
	case SR_ATTR_MAC:
		return w->has_mac;
	case SR_ATTR_VLAN:
		return w->vlan != SR_UNSET;
	case SR_ATTR_SPOOFCHK:
		return w->spoofchk != SR_UNSET;
	case SR_ATTR_TRUST:
		return w->trust != SR_UNSET;
	case SR_ATTR_LINK_STATE:
		return w->link_state != SR_UNSET;
	case SR_ATTR_RATE:
		return w->min_tx_rate != SR_UNSET || w->max_tx_rate != SR_UNSET;
	default:
		return false;
	}
}

static int64_t or_default(int64_t v, int64_t def)
{
	return v == SR_UNSET ? def : v;
}

bool sr_vf_attr_matches(enum sr_vf_attr a, const struct sr_vf_settings *w,
			const struct sr_vf_settings *h)
{
	switch (a) {
	case SR_ATTR_MAC:
		return h->has_mac && !memcmp(w->mac, h->mac, 6);
	case SR_ATTR_VLAN:
		if (h->vlan == SR_UNSET || w->vlan != h->vlan)
			return false;
		if (w->vlan == 0)
			return true;
		return or_default(w->qos, 0) == or_default(h->qos, 0) &&
		       or_default(w->vlan_proto, SR_ETH_P_8021Q) ==
			       or_default(h->vlan_proto, SR_ETH_P_8021Q);
	case SR_ATTR_SPOOFCHK:
		return h->spoofchk != SR_UNSET && w->spoofchk == h->spoofchk;
	case SR_ATTR_TRUST:
		return h->trust != SR_UNSET && w->trust == h->trust;
	case SR_ATTR_LINK_STATE:
		return h->link_state != SR_UNSET && w->link_state == h->link_state;
	case SR_ATTR_RATE:
		return h->max_tx_rate != SR_UNSET &&
		       or_default(w->min_tx_rate, 0) == or_default(h->min_tx_rate, 0) &&
		       or_default(w->max_tx_rate, 0) == or_default(h->max_tx_rate, 0);
	default:
		return false;
	}
}

bool sr_valid_pci(const char *s)
{
	/* dddd:bb:dd.f; device 0..1f, function 0..7 */
	static const char shape[] = "xxxx:xx:xx.x";

	if (!s || strlen(s) != sizeof(shape) - 1)
		return false;
	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'x' ? !isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])
				    : s[i] != shape[i])
			return false;
	}
	return strtoul(s + 8, NULL, 16) <= 0x1f && s[11] >= '0' && s[11] <= '7';
}

bool sr_valid_ifname(const char *s)
{
	size_t n;

	if (!s)
		return false;
	n = strlen(s);
	if (n < 1 || n >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] == '/' || s[i] == ':' || isspace((unsigned char)s[i]) ||
		    !isprint((unsigned char)s[i]))
			return false;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Two hex digits of either case at p: the byte, or -1. */
static int hex_byte(const char *p)
{
	int hi = hex_digit(p[0]), lo;

	if (hi < 0 || (lo = hex_digit(p[1])) < 0)
		return -1;
	return hi << 4 | lo;
}

int sr_parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t m[6];

	if (!s || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		const char *p = s + 3 * i;
		int b = hex_byte(p);

		if (b < 0)
			return -EINVAL;
		if (i < 5 && p[2] != ':' && p[2] != '-')
			return -EINVAL;
		m[i] = (uint8_t)b;
	}
	memcpy(mac, m, 6);
	return 0;
}

int sr_parse_uuid(const char *s, uint8_t uuid[16])
{
	uint8_t u[16];
	size_t k = 0;

	if (!s || strlen(s) != 36)
		return -EINVAL;
	for (size_t i = 0; i < 36;) {
		int b;

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i++] != '-')
				return -EINVAL;
			continue;
		}
		if ((b = hex_byte(s + i)) < 0)
			return -EINVAL;
		u[k++] = (uint8_t)b;
		i += 2;
	}
	memcpy(uuid, u, 16);
	return 0;
}

bool sr_mac_is_unicast(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !(mac[0] & 0x01) && memcmp(mac, zero, 6) != 0;
}
