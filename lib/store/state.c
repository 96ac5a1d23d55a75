/* SPDX-License-Identifier: MIT */
/*
 * The agent's durable state (state.h): encode, decode, load and save.
 * Generic file I/O (whole reads, atomic writes, the lock) is files.c.
 */
#include "state.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"
#include "state.pb-c.h"

typedef SriovAgent__State__State PbState;
typedef SriovAgent__State__Pf PbPf;
typedef SriovAgent__State__Vf PbVf;
typedef SriovAgent__State__VfSettings PbSettings;
typedef SriovAgent__State__Reservation PbRes;
typedef SriovAgent__State__AttrResult PbAttr;
typedef SriovAgent__State__App PbApp;

#define STATE_MAX_BYTES (64u << 20)
/* The checksum trailer: field 15, wire type 5 (fixed32), then 4 bytes LE. */
#define CHECKSUM_TAG ((15u << 3) | 5u)
#define CHECKSUM_LEN 5

/* CRC-32 state c (start 0xffffffff) over buf; the CRC is the final c with
 * all bits flipped. */
static uint32_t crc32_update(uint32_t c, const void *buf, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	const uint8_t *p = buf;

	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t v = i;

			for (int k = 0; k < 8; k++)
				v = v & 1 ? 0xedb88320u ^ (v >> 1) : v >> 1;
			table[i] = v;
		}
		ready = true;
	}
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c;
}

uint32_t sr_crc32(const void *buf, size_t len)
{
	return crc32_update(0xffffffffu, buf, len) ^ 0xffffffffu;
}

void sr_state_free(struct sr_state *st)
{
	if (!st)
		return;
	for (size_t i = 0; i < st->n_pfs; i++)
		sr_pf_clear(&st->pfs[i]);
	free(st->pfs);
	sr_reservations_free(st->res, st->n_res);
	free(st->apps);
	memset(st, 0, sizeof(*st));
}

/* ---- encode: model -> protobuf-c structs that point into the model ---- */

struct enc_settings {
	PbSettings pb;
	ProtobufCBinaryData mac;
};

static PbSettings *enc_settings(const struct sr_vf_settings *s, struct enc_settings *e)
{
	sriov_agent__state__vf_settings__init(&e->pb);
	if (s->has_mac) {
		e->pb.has_mac = true;
		e->pb.mac.data = (uint8_t *)s->mac;
		e->pb.mac.len = 6;
	}
#define ENC(field, cond, val) \
	do {                                 \
		if (cond) {                  \
			e->pb.has_##field = true; \
			e->pb.field = (val); \
		}                            \
	} while (0)
	ENC(vlan, s->vlan != SR_UNSET, (uint32_t)s->vlan);
	ENC(qos, s->qos != SR_UNSET, (uint32_t)s->qos);
	ENC(vlan_proto, s->vlan_proto != SR_UNSET, (uint32_t)s->vlan_proto);
	ENC(spoofchk, s->spoofchk != SR_UNSET, s->spoofchk);
	ENC(trust, s->trust != SR_UNSET, s->trust);
	ENC(link_state, s->link_state != SR_UNSET, (uint32_t)s->link_state);
	ENC(min_tx_rate, s->min_tx_rate != SR_UNSET, (uint32_t)s->min_tx_rate);
	ENC(max_tx_rate, s->max_tx_rate != SR_UNSET, (uint32_t)s->max_tx_rate);
#undef ENC
	return &e->pb;
}

static void dec_settings(const PbSettings *pb, struct sr_vf_settings *s)
{
	sr_vf_settings_init(s);
	if (!pb)
		return;
	if (pb->has_mac && pb->mac.len == 6) {
		s->has_mac = true;
		memcpy(s->mac, pb->mac.data, 6);
	}
	if (pb->has_vlan && pb->vlan <= SR_VLAN_MAX)
		s->vlan = (int32_t)pb->vlan;
	if (pb->has_qos && pb->qos <= SR_QOS_MAX)
		s->qos = (int32_t)pb->qos;
	if (pb->has_vlan_proto && pb->vlan_proto <= 0xffff)
		s->vlan_proto = (int32_t)pb->vlan_proto;
	if (pb->has_spoofchk)
		s->spoofchk = pb->spoofchk ? 1 : 0;
	if (pb->has_trust)
		s->trust = pb->trust ? 1 : 0;
	if (pb->has_link_state && pb->link_state <= SR_LINK_STATE_DISABLE)
		s->link_state = (int8_t)pb->link_state;
	if (pb->has_min_tx_rate)
		s->min_tx_rate = pb->min_tx_rate;
	if (pb->has_max_tx_rate)
		s->max_tx_rate = pb->max_tx_rate;
}

/* The encoder builds one element at a time (a PF with its VFs, a
 * reservation, an app) in scratch space the next one reuses, and packs it
 * as protobuf-c packs a repeated message field: tag, length, bytes, fields
 * in number order. The bytes are those of packing the whole State at once,
 * without its message tree (3.8 MiB of structs at 4096 reservations). */
struct enc {
	PbPf pf;
	PbVf *vfs, **vfp;
	struct enc_settings *vf_kernel;
	size_t cap_vfs;
	PbRes res;
	struct enc_settings desired, original;
	PbAttr attrs[SR_ATTR__COUNT], *attrp[SR_ATTR__COUNT];
	PbApp app;
};

static void enc_free(struct enc *e)
{
	free(e->vfs);
	free(e->vfp);
	free(e->vf_kernel);
}

static char *nz(const char *s)
{
	return s[0] ? (char *)s : NULL;
}

/* Scratch for the largest PF's VFs. */
static int enc_alloc(struct enc *e, const struct sr_state *st)
{
	size_t n = 1;

	for (size_t i = 0; i < st->n_pfs; i++)
		if (st->pfs[i].n_vfs > n)
			n = st->pfs[i].n_vfs;
	e->vfs = calloc(n, sizeof(*e->vfs));
	e->vfp = calloc(n, sizeof(*e->vfp));
	e->vf_kernel = calloc(n, sizeof(*e->vf_kernel));
	e->cap_vfs = n;
	return e->vfs && e->vfp && e->vf_kernel ? 0 : -ENOMEM;
}

static const ProtobufCMessage *enc_pf(struct enc *e, const struct sr_pf *pf)
{
	struct sr_vf_settings unset;
	PbPf *p = &e->pf;

	sr_vf_settings_init(&unset);
	sriov_agent__state__pf__init(p);
	p->label = nz(pf->label);
	p->ifname = nz(pf->ifname);
	p->pci = (char *)pf->pci;
	p->driver = nz(pf->driver);
	p->has_vendor = p->has_device = true;
	p->vendor = pf->vendor;
	p->device = pf->device;
	p->name = nz(pf->name);
	p->has_totalvfs = p->has_numvfs = true;
	p->totalvfs = pf->totalvfs;
	p->numvfs = pf->numvfs;
	p->vfs = e->vfp;
	p->n_vfs = pf->n_vfs;
	for (size_t j = 0; j < pf->n_vfs; j++) {
		const struct sr_vf *vf = &pf->vfs[j];
		PbVf *q = &e->vfs[j];

		sriov_agent__state__vf__init(q);
		q->index = vf->index;
		q->pci = (char *)vf->pci;
		q->ifname = nz(vf->ifname);
		q->driver = nz(vf->driver);
		q->has_iommu_group = vf->iommu_group != SR_UNSET;
		q->iommu_group = vf->iommu_group;
		if (vf->has_kernel && !sr_vf_settings_equal(&vf->kernel, &unset))
			q->kernel = enc_settings(&vf->kernel, &e->vf_kernel[j]);
		e->vfp[j] = q;
	}
	return &p->base;
}

static const ProtobufCMessage *enc_res(struct enc *e, const struct sr_reservation *rs)
{
	PbRes *p = &e->res;

	sriov_agent__state__reservation__init(p);
	p->app_uuid = (char *)rs->app_uuid;
	p->pf_pci = (char *)rs->pf_pci;
	p->pf_ifname = nz(rs->pf_ifname);
	p->vf_index = rs->vf_index;
	p->vf_pci = (char *)rs->vf_pci;
	p->has_adapter = true;
	p->adapter = rs->adapter;
	if (rs->adapter_name[0]) {
		p->adapter_name = (char *)rs->adapter_name;
		p->has_occurrence = true;
		p->occurrence = rs->occurrence;
	}
	p->desired = enc_settings(&rs->desired, &e->desired);
	if (rs->has_original)
		p->original = enc_settings(&rs->original, &e->original);
	p->attrs = e->attrp;
	for (int k = 0; k < SR_ATTR__COUNT; k++) {
		sriov_agent__state__attr_result__init(&e->attrs[k]);
		e->attrs[k].attr = (char *)sr_vf_attr_name(k);
		e->attrs[k].has_result = rs->attr_result[k] != SR_ATTR_NOT_TRIED;
		e->attrs[k].result = rs->attr_result[k];
		e->attrp[k] = &e->attrs[k];
	}
	p->n_attrs = SR_ATTR__COUNT;
	p->error = rs->error && rs->error[0] ? rs->error : NULL;
	p->bound_driver = nz(rs->bound_driver);
	p->original_driver = nz(rs->original_driver);
	return &p->base;
}

static const ProtobufCMessage *enc_app(struct enc *e, const struct sr_app *ap)
{
	PbApp *p = &e->app;

	sriov_agent__state__app__init(p);
	p->uuid = (char *)ap->uuid_str;
	p->name = nz(ap->name);
	p->has_memory_kib = p->has_vcpus = p->has_virt_mode = p->has_activate = true;
	p->memory_kib = ap->memory_kib;
	p->vcpus = ap->vcpus;
	p->virt_mode = ap->virt_mode;
	p->activate = ap->activate;
	return &p->base;
}

/* Where packed elements go: counted, written to out, or through tmp and
 * buf to a file. */
struct sink {
	enum { SINK_COUNT, SINK_WRITE, SINK_FD } mode;
	uint8_t *out;
	uint8_t *tmp;
	size_t tmp_cap;
	size_t off;
	int err;                       /* -errno, with a message in e */
	/* SINK_FD: through buf (SINK_FD_BUF bytes) to fd, crc kept */
	int fd;
	const char *path;
	uint8_t *buf;
	size_t used;
	uint32_t crc;
	struct sr_err *e;
};

#define SINK_FD_BUF (64u << 10)

static void sink_flush(struct sink *k)
{
	if (!k->err && k->used)
		k->err = sr_write_all(k->fd, k->buf, k->used, k->path, k->e);
	k->used = 0;
}

static void sink_put(struct sink *k, const uint8_t *p, size_t n)
{
	while (n && !k->err) {
		size_t c = SINK_FD_BUF - k->used < n ? SINK_FD_BUF - k->used : n;

		memcpy(k->buf + k->used, p, c);
		k->used += c;
		p += c;
		n -= c;
		if (k->used == SINK_FD_BUF)
			sink_flush(k);
	}
}

/* m packed in k->tmp (grown to size). */
static bool pack_tmp(struct sink *k, const ProtobufCMessage *m, size_t size)
{
	if (size > k->tmp_cap) {
		uint8_t *t = realloc(k->tmp, size);

		if (!t) {
			k->err = sr_err_set(k->e, -ENOMEM, "state: out of memory");
			return false;
		}
		k->tmp = t;
		k->tmp_cap = size;
	}
	protobuf_c_message_pack(m, k->tmp);
	return true;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	do {
		p[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			p[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* m as a field of State: tag (0: top-level fields, packed as they are)
 * then its length. */
static void emit(struct sink *k, uint8_t tag, const ProtobufCMessage *m)
{
	size_t size = protobuf_c_message_get_packed_size(m), h = 0;
	uint8_t head[11];

	if (k->err)
		return;
	if (tag) {
		head[h++] = tag;
		h += put_varint(head + h, size);
	}
	switch (k->mode) {
	case SINK_COUNT:
		break;
	case SINK_WRITE:
		memcpy(k->out + k->off, head, h);
		protobuf_c_message_pack(m, k->out + k->off + h);
		break;
	case SINK_FD:
		if (!pack_tmp(k, m, size))
			break;
		k->crc = crc32_update(crc32_update(k->crc, head, h), k->tmp, size);
		sink_put(k, head, h);
		sink_put(k, k->tmp, size);
		break;
	}
	k->off += h + size;
}

/* State's fields in number order: version 1, pfs 2, reservations 3, apps
 * 4, applied_at 5, last_result 7 (then the checksum, 15). */
static void enc_walk(struct enc *e, const struct sr_state *st, struct sink *k)
{
	PbState head, tail;

	sriov_agent__state__state__init(&head);
	head.has_version = true;
	head.version = SR_STATE_VERSION;
	emit(k, 0, &head.base);
	for (size_t i = 0; i < st->n_pfs; i++)
		emit(k, (2u << 3) | 2u, enc_pf(e, &st->pfs[i]));
	for (size_t i = 0; i < st->n_res; i++)
		emit(k, (3u << 3) | 2u, enc_res(e, &st->res[i]));
	for (size_t i = 0; i < st->n_apps; i++)
		emit(k, (4u << 3) | 2u, enc_app(e, &st->apps[i]));
	sriov_agent__state__state__init(&tail);
	tail.has_applied_at = true;
	tail.applied_at = st->applied_at;
	tail.last_result = nz(st->last_result);
	emit(k, 0, &tail.base);
}

int sr_state_encode(const struct sr_state *st, uint8_t **buf, size_t *len, struct sr_err *err)
{
	struct sink k = { .mode = SINK_COUNT };
	struct enc e = { 0 };
	uint32_t crc;
	size_t n;
	int r = 0;

	if (enc_alloc(&e, st)) {
		r = sr_err_set(err, -ENOMEM, "state: out of memory");
		goto out;
	}
	enc_walk(&e, st, &k);
	n = k.off;
	k = (struct sink){ .mode = SINK_WRITE, .out = malloc(n + CHECKSUM_LEN) };
	if (!k.out) {
		r = sr_err_set(err, -ENOMEM, "state: out of memory");
		goto out;
	}
	enc_walk(&e, st, &k);
	crc = sr_crc32(k.out, n);
	k.out[n] = CHECKSUM_TAG;
	for (int i = 0; i < 4; i++)
		k.out[n + 1 + i] = (uint8_t)(crc >> (8 * i));
	*len = n + CHECKSUM_LEN;
	*buf = k.out;
out:
	enc_free(&e);
	return r;
}

/* m and n pack to the same bytes (tmp[0] and tmp[1] grown to fit). */
static bool pack_same(struct sink k[2], const ProtobufCMessage *m, const ProtobufCMessage *n)
{
	size_t size = protobuf_c_message_get_packed_size(m);

	if (size != protobuf_c_message_get_packed_size(n))
		return false;
	return !size || (pack_tmp(&k[0], m, size) && pack_tmp(&k[1], n, size) &&
			 !memcmp(k[0].tmp, k[1].tmp, size));
}

bool sr_state_same(const struct sr_state *a, const struct sr_state *b)
{
	struct sr_err ignored = { "" };
	struct sink k[2] = { { .e = &ignored }, { .e = &ignored } };
	struct enc ea = { 0 }, eb = { 0 };
	bool same = a->n_pfs == b->n_pfs && a->n_res == b->n_res && a->n_apps == b->n_apps &&
		    a->applied_at == b->applied_at && !strcmp(a->last_result, b->last_result);

	if (same && (enc_alloc(&ea, a) || enc_alloc(&eb, b)))
		same = false;
	for (size_t i = 0; same && i < a->n_pfs; i++)
		same = pack_same(k, enc_pf(&ea, &a->pfs[i]), enc_pf(&eb, &b->pfs[i]));
	for (size_t i = 0; same && i < a->n_res; i++)
		same = pack_same(k, enc_res(&ea, &a->res[i]), enc_res(&eb, &b->res[i]));
	for (size_t i = 0; same && i < a->n_apps; i++)
		same = pack_same(k, enc_app(&ea, &a->apps[i]), enc_app(&eb, &b->apps[i]));
	free(k[0].tmp);
	free(k[1].tmp);
	enc_free(&ea);
	enc_free(&eb);
	return same;
}

/* ---- decode ---- */

static int copy_str(char *dst, size_t cap, const char *src, const char *what,
		    struct sr_err *err)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		return sr_err_set(err, -EINVAL, "state: %s is %zu bytes, at most %zu allowed",
				  what, n, cap - 1);
	memcpy(dst, src ? src : "", n + 1);
	return 0;
}

static int dec_pf(const PbPf *p, struct sr_pf *pf, struct sr_err *err)
{
	int r;

	if ((r = copy_str(pf->label, sizeof(pf->label), p->label, "pf label", err)) ||
	    (r = copy_str(pf->ifname, sizeof(pf->ifname), p->ifname, "pf ifname", err)) ||
	    (r = copy_str(pf->pci, sizeof(pf->pci), p->pci, "pf pci", err)) ||
	    (r = copy_str(pf->driver, sizeof(pf->driver), p->driver, "pf driver", err)) ||
	    (r = copy_str(pf->name, sizeof(pf->name), p->name, "pf name", err)))
		return r;
	if (!sr_valid_pci(pf->pci))
		return sr_err_set(err, -EINVAL, "state: PF PCI address \"%s\" is not dddd:bb:dd.f",
				  pf->pci);
	pf->vendor = p->vendor;
	pf->device = p->device;
	pf->totalvfs = p->totalvfs;
	pf->numvfs = p->numvfs;
	pf->vfs = calloc(p->n_vfs ? p->n_vfs : 1, sizeof(*pf->vfs));
	if (!pf->vfs)
		return sr_err_set(err, -ENOMEM, "state: out of memory");
	for (size_t j = 0; j < p->n_vfs; j++) {
		const PbVf *q = p->vfs[j];
		struct sr_vf *vf = &pf->vfs[j];

		vf->index = q->index;
		if ((r = copy_str(vf->pci, sizeof(vf->pci), q->pci, "vf pci", err)) ||
		    (r = copy_str(vf->ifname, sizeof(vf->ifname), q->ifname, "vf ifname", err)) ||
		    (r = copy_str(vf->driver, sizeof(vf->driver), q->driver, "vf driver", err)))
			return r;
		vf->iommu_group = q->has_iommu_group && q->iommu_group >= 0 ? q->iommu_group : SR_UNSET;
		vf->has_kernel = q->kernel != NULL;
		dec_settings(q->kernel, &vf->kernel);
		pf->n_vfs++;
	}
	return 0;
}

static int dec_error(struct sr_reservation *rs, const char *error, struct sr_err *err)
{
	size_t n = error ? strlen(error) : 0;

	if (!n)
		return 0;
	if (n >= SR_RES_ERROR_MAX)
		return sr_err_set(err, -EINVAL, "state: error is %zu bytes, at most %d allowed", n,
				  SR_RES_ERROR_MAX - 1);
	if (!(rs->error = strdup(error)))
		return sr_err_set(err, -ENOMEM, "state: out of memory");
	return 0;
}

static int dec_res(const PbRes *p, struct sr_reservation *rs, struct sr_err *err)
{
	uuid_t u;
	int r;

	sr_reservation_init(rs);
	if ((r = copy_str(rs->app_uuid, sizeof(rs->app_uuid), p->app_uuid, "app uuid", err)) ||
	    (r = copy_str(rs->pf_pci, sizeof(rs->pf_pci), p->pf_pci, "pf pci", err)) ||
	    (r = copy_str(rs->pf_ifname, sizeof(rs->pf_ifname), p->pf_ifname, "pf ifname", err)) ||
	    (r = copy_str(rs->vf_pci, sizeof(rs->vf_pci), p->vf_pci, "vf pci", err)) ||
	    (r = copy_str(rs->bound_driver, sizeof(rs->bound_driver), p->bound_driver,
			  "bound driver", err)) ||
	    (r = copy_str(rs->original_driver, sizeof(rs->original_driver), p->original_driver,
			  "original driver", err)) ||
	    (r = copy_str(rs->adapter_name, sizeof(rs->adapter_name), p->adapter_name,
			  "adapter name", err)) ||
	    (r = dec_error(rs, p->error, err)))
		return r;
	/* "" is a VF's own settings (vflist.data) on a VF no app holds */
	if (rs->app_uuid[0] && sr_parse_uuid(rs->app_uuid, u))
		return sr_err_set(err, -EINVAL, "state: reservation app UUID \"%s\" is malformed",
				  rs->app_uuid);
	if (!sr_valid_pci(rs->pf_pci) || (rs->vf_pci[0] && !sr_valid_pci(rs->vf_pci)))
		return sr_err_set(err, -EINVAL, "state: reservation of %s has a malformed PCI address",
				  rs->app_uuid);
	rs->vf_index = p->vf_index;
	rs->adapter = p->adapter;
	rs->occurrence = p->occurrence;
	dec_settings(p->desired, &rs->desired);
	rs->has_original = p->original != NULL;
	dec_settings(p->original, &rs->original);
	for (size_t k = 0; k < p->n_attrs; k++)
		for (int a = 0; a < SR_ATTR__COUNT; a++)
			if (p->attrs[k]->attr && !strcmp(p->attrs[k]->attr, sr_vf_attr_name(a)) &&
			    p->attrs[k]->has_result && p->attrs[k]->result <= 0)
				rs->attr_result[a] = p->attrs[k]->result;
	return 0;
}

static int dec_app(const PbApp *p, struct sr_app *ap, struct sr_err *err)
{
	int r;

	memset(ap, 0, sizeof(*ap));
	if ((r = copy_str(ap->name, sizeof(ap->name), p->name, "app name", err)))
		return r;
	if (!p->uuid || sr_parse_uuid(p->uuid, ap->uuid))
		return sr_err_set(err, -EINVAL, "state: app UUID \"%.40s\" is malformed",
				  p->uuid ? p->uuid : "");
	uuid_unparse_lower(ap->uuid, ap->uuid_str);
	ap->memory_kib = p->memory_kib;
	ap->vcpus = p->vcpus;
	ap->virt_mode = p->virt_mode;
	ap->activate = p->activate;
	return 0;
}

/* The State message is walked field by field here and each PF,
 * reservation and app unpacked on its own, converted and freed: the whole
 * message tree (2.6 MiB at 4096 reservations) never exists at once. Errors
 * keep protobuf-c's precedence: bytes that do not unpack anywhere are "not
 * a valid state file" before any other complaint. */
struct field {
	uint32_t id, wire;
	uint64_t v;                    /* varint, fixed */
	const uint8_t *p;              /* length-delimited */
	size_t n;
};

static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t x = 0;

	for (unsigned shift = 0; shift < 70; shift += 7) {
		if (*p >= end)
			return -EINVAL;
		x |= (uint64_t)(**p & 0x7f) << (shift < 64 ? shift : 63);
		if (!(*(*p)++ & 0x80)) {
			*v = x;
			return 0;
		}
	}
	return -EINVAL;
}

/* The next field at *p; -EINVAL when the bytes are not protobuf. */
static int next_field(const uint8_t **p, const uint8_t *end, struct field *f)
{
	uint64_t tag;

	if (get_varint(p, end, &tag) || !(tag >> 3) || (tag >> 3) > 0x1fffffff)
		return -EINVAL;
	f->id = (uint32_t)(tag >> 3);
	f->wire = (uint32_t)(tag & 7);
	switch (f->wire) {
	case 0:
		return get_varint(p, end, &f->v);
	case 1:
	case 5:
		if ((size_t)(end - *p) < (f->wire == 1 ? 8u : 4u))
			return -EINVAL;
		*p += f->wire == 1 ? 8 : 4;
		return 0;
	case 2:
		if (get_varint(p, end, &f->v) || f->v > (uint64_t)(end - *p))
			return -EINVAL;
		f->p = *p;
		f->n = (size_t)f->v;
		*p += f->n;
		return 0;
	default:
		return -EINVAL;
	}
}

/* State's own fields: the wire type protobuf-c expects (others: skipped). */
static int state_wire(uint32_t id)
{
	switch (id) {
	case 1: case 5: return 0;             /* version, applied_at */
	case 2: case 3: case 4: case 7: return 2; /* pfs, reservations, apps, last_result */
	case 15: return 5;                    /* checksum */
	default: return -1;
	}
}

struct state_scan {
	size_t n[5];                   /* elements of fields 2..4 */
	bool has_version;
	uint32_t version;
	int64_t applied_at;
	const uint8_t *result;
	size_t result_len;
};

static int scan_state(const uint8_t *p, const uint8_t *end, struct state_scan *sc)
{
	struct field f;

	while (p < end) {
		if (next_field(&p, end, &f))
			return -EINVAL;
		if (state_wire(f.id) >= 0 && (uint32_t)state_wire(f.id) != f.wire)
			return -EINVAL;
		if (f.id >= 2 && f.id <= 4)
			sc->n[f.id]++;
		else if (f.id == 1)
			sc->has_version = true, sc->version = (uint32_t)f.v;
		else if (f.id == 5)
			sc->applied_at = (int64_t)f.v;
		else if (f.id == 7)
			sc->result = f.p, sc->result_len = f.n;
	}
	return 0;
}

static ProtobufCMessage *unpack_elem(uint32_t id, const struct field *f)
{
	const ProtobufCMessageDescriptor *d = id == 2 ? &sriov_agent__state__pf__descriptor :
					      id == 3 ? &sriov_agent__state__reservation__descriptor :
							&sriov_agent__state__app__descriptor;

	return protobuf_c_message_unpack(d, NULL, f->n, f->p);
}

/* Every element unpacks (what one unpack of the whole State checked). */
static bool elements_unpack(const uint8_t *p, const uint8_t *end)
{
	struct field f;

	while (p < end && !next_field(&p, end, &f)) {
		ProtobufCMessage *m;

		if (f.id < 2 || f.id > 4)
			continue;
		if (!(m = unpack_elem(f.id, &f)))
			return false;
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return true;
}

static int dec_elem(uint32_t id, const ProtobufCMessage *m, struct sr_state *st,
		    struct sr_err *err)
{
	if (id == 2)
		return st->n_pfs++, dec_pf((const PbPf *)m, &st->pfs[st->n_pfs - 1], err);
	if (id == 3)
		return dec_res((const PbRes *)m, &st->res[st->n_res++], err);
	return dec_app((const PbApp *)m, &st->apps[st->n_apps++], err);
}

static int dec_elements(const uint8_t *p, const uint8_t *end, struct sr_state *st,
			struct sr_err *err)
{
	struct field f;
	int r = 0;

	while (!r && p < end && !next_field(&p, end, &f)) {
		ProtobufCMessage *m;

		if (f.id < 2 || f.id > 4)
			continue;
		if (!(m = unpack_elem(f.id, &f)))
			return -EBADMSG;
		r = dec_elem(f.id, m, st, err);
		protobuf_c_message_free_unpacked(m, NULL);
	}
	return r;
}

/* A NUL-terminated copy of the first n bytes at p, cut at an embedded NUL;
 * NULL when out of memory. */
static char *bytes_to_str(const uint8_t *p, size_t n)
{
	const uint8_t *nul = n ? memchr(p, 0, n) : NULL;
	char *s;

	if (nul)
		n = (size_t)(nul - p);
	s = malloc(n + 1);
	if (!s)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static int dec_state(const uint8_t *buf, size_t len, struct sr_state *st, struct sr_err *err)
{
	const uint8_t *end = buf + len;
	struct state_scan sc = { 0 };
	char *result;
	int r;

	if (scan_state(buf, end, &sc))
		return -EBADMSG;
	if (sc.has_version && sc.version != SR_STATE_VERSION)
		return sr_err_set(err, -EINVAL, "state: version %u, this agent reads version %u",
				  sc.version, SR_STATE_VERSION);
	st->pfs = calloc(sc.n[2] ? sc.n[2] : 1, sizeof(*st->pfs));
	st->res = calloc(sc.n[3] ? sc.n[3] : 1, sizeof(*st->res));
	st->apps = calloc(sc.n[4] ? sc.n[4] : 1, sizeof(*st->apps));
	if (!st->pfs || !st->res || !st->apps)
		return sr_err_set(err, -ENOMEM, "state: out of memory");
	if ((r = dec_elements(buf, end, st, err)))
		return r;
	st->applied_at = sc.applied_at;
	/* As protobuf-c's string: the bytes up to the first NUL. Not strndup:
	 * the field is not NUL-terminated in the buffer. */
	result = bytes_to_str(sc.result, sc.result ? sc.result_len : 0);
	if (!result)
		return sr_err_set(err, -ENOMEM, "state: out of memory");
	r = copy_str(st->last_result, sizeof(st->last_result), result, "last result", err);
	free(result);
	return r;
}

int sr_state_decode(const uint8_t *buf, size_t len, struct sr_state *out, struct sr_err *err)
{
	struct sr_state st = { 0 };
	int r;

	if (len < CHECKSUM_LEN || buf[len - CHECKSUM_LEN] != CHECKSUM_TAG)
		return sr_err_set(err, -EINVAL,
				  "state: %zu bytes without the closing checksum: truncated, or not written by this agent",
				  len);
	if (sr_crc32(buf, len - CHECKSUM_LEN) !=
	    ((uint32_t)buf[len - 4] | (uint32_t)buf[len - 3] << 8 | (uint32_t)buf[len - 2] << 16 |
	     (uint32_t)buf[len - 1] << 24))
		return sr_err_set(err, -EINVAL, "state: %zu bytes with a wrong checksum: corrupt", len);
	r = dec_state(buf, len - CHECKSUM_LEN, &st, err);
	if (r == -EBADMSG || (r && r != -ENOMEM && !elements_unpack(buf, buf + len - CHECKSUM_LEN)))
		r = sr_err_set(err, -EINVAL, "state: %zu bytes are not a valid state file", len);
	if (!r) {
		*out = st;
		memset(&st, 0, sizeof(st));
	}
	sr_state_free(&st);
	return r;
}

/* ---- load and save ---- */

/* No state.pb, but the config in force is there: an apply saves it after
 * state.pb, so state.pb was deleted (by hand, the obvious recovery) or
 * lost, not never written. An empty state would give the running apps'
 * VFs out in config order (issue 23, 6): refused, as a corrupt one is. */
static bool state_lost(const char *dir)
{
	char path[PATH_MAX];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, SR_CONFIG_FILE);
	return lstat(path, &sb) == 0;
}

int sr_state_load_found(const char *dir, struct sr_state *out, bool *found,
			struct sr_err *err)
{
	char path[PATH_MAX];
	uint8_t *buf;
	size_t len;
	int r;

	if (found)
		*found = false;
	snprintf(path, sizeof(path), "%s/%s", dir, SR_STATE_FILE);
	r = sr_read_file(path, STATE_MAX_BYTES, &buf, &len, err);
	if (r == -ENOENT && state_lost(dir))
		return sr_err_set(err, -EINVAL,
				  "%s: missing, while %s/%s (saved after it by every apply) is there: the state was lost, and with it which VF each running app holds",
				  path, dir, SR_CONFIG_FILE);
	if (r == -ENOENT) {
		memset(out, 0, sizeof(*out));
		return 0;
	}
	if (r)
		return r;
	if (found)
		*found = true;
	r = sr_state_decode(buf, len, out, err);
	if (r)
		sr_err_prefix(err, r, "%s", path);
	free(buf);
	return r;
}

int sr_state_load(const char *dir, struct sr_state *out, struct sr_err *err)
{
	return sr_state_load_found(dir, out, NULL, err);
}

/* The state encoded straight into the file through a 64 KiB buffer, the
 * checksum computed on the way: no buffer of the whole encoding (1 MiB at
 * 4096 reservations). */
static int fill_state(void *arg, int fd, const char *path, struct sr_err *err)
{
	const struct sr_state *st = arg;
	struct sink k = { .mode = SINK_FD, .fd = fd, .path = path, .crc = 0xffffffffu, .e = err };
	struct enc e = { 0 };
	uint8_t trailer[CHECKSUM_LEN];
	uint32_t crc;

	k.buf = malloc(SINK_FD_BUF);
	if (!k.buf || enc_alloc(&e, st))
		k.err = sr_err_set(err, -ENOMEM, "state: out of memory");
	else
		enc_walk(&e, st, &k);
	crc = k.crc ^ 0xffffffffu;
	trailer[0] = CHECKSUM_TAG;
	for (int i = 0; i < 4; i++)
		trailer[1 + i] = (uint8_t)(crc >> (8 * i));
	sink_put(&k, trailer, sizeof(trailer));
	sink_flush(&k);
	free(k.buf);
	free(k.tmp);
	enc_free(&e);
	return k.err;
}

int sr_state_save(const char *dir, const struct sr_state *st, struct sr_err *err)
{
	if (mkdir(dir, 0700) && errno != EEXIST)
		return sr_err_set(err, -errno, "state dir %s: %s", dir, strerror(errno));
	return sr_write_atomic_fill(dir, SR_STATE_FILE, fill_state, (void *)st, 0600, err);
}
