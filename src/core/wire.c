/*
 * wire.c — the skeleton stripper (see wire.h). protobuf-c copies every bytes field on
 * unpack; for a model of hundreds of MB that copy costs more than reading the file and
 * doubles the memory. So the payloads are cut out here and re-attached as views.
 */
#include "config.h"
#include <string.h>
#include "internal.h"
#include "wire.h"
#include "onnx.pb-c.h"

#define MAX_NESTING 512         /* protobuf message nesting; subgraph depth is checked later */
#define LEN_RESERVE 5           /* a length prefix is always written as 5 varint bytes */
#define MAX_FIELDS 64           /* fields per message whose repeats are counted */
#define MAX_MERGES 16           /* occurrences of one singular message field: protobuf-c
                                   merges them, copying the repeated fields each time, so
                                   thousands of them cost memory quadratic in the file size */

struct walk {
	const uint8_t *base;
	struct od_skeleton *s;
	struct od_ctx *ctx;
};

static int reserve(struct od_skeleton *s, size_t n)
{
	if (s->cap - s->len >= n)
		return 0;
	size_t cap = s->cap ? s->cap : 4096;
	while (cap - s->len < n) {
		if (cap > SIZE_MAX / 2)
			return OD_ENOMEM;
		cap *= 2;
	}
	uint8_t *p = od_realloc(s->buf, cap);
	if (!p)
		return OD_ENOMEM;
	s->buf = p;
	s->cap = cap;
	return 0;
}

static int put(struct od_skeleton *s, const void *p, size_t n)
{
	if (reserve(s, n))
		return OD_ENOMEM;
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

static size_t varint_put(uint8_t *out, uint64_t v)
{
	size_t n = 0;
	do {
		out[n] = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			out[n] |= 0x80;
		n++;
	} while (v);
	return n;
}

/* Reads a varint at *p (< end); 0 on success. */
static int varint_get(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	uint64_t r = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*p >= end)
			return -1;
		uint8_t b = *(*p)++;
		r |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*v = r;
			return 0;
		}
	}
	return -1;
}

static int truncated(struct walk *w, const uint8_t *at)
{
	return od_error(w->ctx, OD_EFORMAT, "truncated or malformed protobuf at byte %zu",
	                (size_t)(at - w->base));
}

static int add_payload(struct walk *w, const uint8_t *p, size_t len, uint64_t *idx)
{
	struct od_skeleton *s = w->s;
	struct od_payload *np = od_grow(s->payloads, s->n_payloads, sizeof *np, &s->cap_payloads, 64);
	if (!np)
		return od_error(w->ctx, OD_ENOMEM, "out of memory");
	s->payloads = np;
	s->payloads[s->n_payloads] = (struct od_payload){(size_t)(p - w->base), len};
	*idx = s->n_payloads++;
	return 0;
}

static int walk_message(struct walk *w, const ProtobufCMessageDescriptor *d,
                        const uint8_t *p, const uint8_t *end, int depth);

/* A length-delimited field: recurse into messages, cut out large raw_data, copy the rest. */
static int walk_bytes(struct walk *w, const ProtobufCMessageDescriptor *d, uint32_t field,
                      const uint8_t *start, const uint8_t *key_end, const uint8_t *p, size_t len,
                      int depth)
{
	const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(d, field);
	if (fd && fd->type == PROTOBUF_C_TYPE_MESSAGE) {
		if (put(w->s, start, (size_t)(key_end - start)) || reserve(w->s, LEN_RESERVE))
			return od_error(w->ctx, OD_ENOMEM, "out of memory");
		size_t at = w->s->len;
		w->s->len += LEN_RESERVE;
		int rc = walk_message(w, fd->descriptor, p, p + len, depth + 1);
		if (rc)
			return rc;
		uint64_t sub = w->s->len - at - LEN_RESERVE;
		if (sub >> 35)
			return od_error(w->ctx, OD_ELIMIT, "message too large at byte %zu",
			                (size_t)(p - w->base));
		for (int i = 0; i < LEN_RESERVE; i++)
			w->s->buf[at + i] = (uint8_t)(((sub >> (7 * i)) & 0x7f) | (i < LEN_RESERVE - 1 ? 0x80 : 0));
		return 0;
	}
	if (d == &onnx__tensor_proto__descriptor && field == 9) {
		/* Every raw_data becomes a bytes field holding its payload index, so protobuf-c's
		 * own rules pick the occurrence that counts: the last one, or the earlier
		 * message's when two TensorProtos merge and the later has none. */
		uint8_t tmp[24];
		uint64_t idx = 0;
		int rc = add_payload(w, p, len, &idx);
		if (rc)
			return rc;
		size_t n = (size_t)(key_end - start);
		memcpy(tmp, start, n);
		size_t k = varint_put(tmp + n + 1, idx);
		tmp[n] = (uint8_t)k;
		return put(w->s, tmp, n + 1 + k) ? od_error(w->ctx, OD_ENOMEM, "out of memory") : 0;
	}
	return put(w->s, start, (size_t)(p - start) + len) ? od_error(w->ctx, OD_ENOMEM, "out of memory") : 0;
}

/* The wire type a field must have; repeated numeric fields may also come packed (2). */
static unsigned wire_type_of(const ProtobufCFieldDescriptor *fd)
{
	switch (fd->type) {
	case PROTOBUF_C_TYPE_SFIXED32: case PROTOBUF_C_TYPE_FIXED32: case PROTOBUF_C_TYPE_FLOAT:
		return 5;
	case PROTOBUF_C_TYPE_SFIXED64: case PROTOBUF_C_TYPE_FIXED64: case PROTOBUF_C_TYPE_DOUBLE:
		return 1;
	case PROTOBUF_C_TYPE_STRING: case PROTOBUF_C_TYPE_BYTES: case PROTOBUF_C_TYPE_MESSAGE:
		return 2;
	default:
		return 0;
	}
}

/* A known field must come with its wire type (protobuf-c would refuse the whole file without
 * saying where), and a singular message field may not repeat without bound. */
static int check_field(struct walk *w, const ProtobufCMessageDescriptor *d,
                       const ProtobufCFieldDescriptor *fd, unsigned wt, const uint8_t *at,
                       uint8_t *seen)
{
	unsigned want = wire_type_of(fd);
	size_t i = (size_t)(fd - d->fields);
	if (wt != want && !(wt == 2 && fd->label == PROTOBUF_C_LABEL_REPEATED))
		return od_error(w->ctx, OD_EFORMAT, "wrong wire type %u for field '%s' (%u) of %s at byte %zu",
		                wt, fd->name, fd->id, d->name, (size_t)(at - w->base));
	if (fd->type == PROTOBUF_C_TYPE_MESSAGE && fd->label != PROTOBUF_C_LABEL_REPEATED &&
	    i < MAX_FIELDS && ++seen[i] > MAX_MERGES)
		return od_error(w->ctx, OD_ELIMIT, "field '%s' (%u) of %s repeated more than %d times at byte %zu",
		                fd->name, fd->id, d->name, MAX_MERGES, (size_t)(at - w->base));
	return 0;
}

/* The payload of a packed repeated numeric field must hold whole elements. */
static bool packed_ok(const ProtobufCFieldDescriptor *fd, const uint8_t *p, size_t len)
{
	unsigned want = wire_type_of(fd);
	uint64_t v;
	if (want != 0)
		return len % (want == 5 ? 4 : 8) == 0;
	for (const uint8_t *q = p; q < p + len; )
		if (varint_get(&q, p + len, &v))
			return false;
	return true;
}

static int walk_message(struct walk *w, const ProtobufCMessageDescriptor *d,
                        const uint8_t *p, const uint8_t *end, int depth)
{
	uint8_t seen[MAX_FIELDS] = {0};
	if (depth > MAX_NESTING)
		return od_error(w->ctx, OD_ELIMIT, "protobuf nested deeper than %d at byte %zu",
		                MAX_NESTING, (size_t)(p - w->base));
	while (p < end) {
		const uint8_t *start = p;
		uint64_t key, v, len;
		if (varint_get(&p, end, &key))
			return truncated(w, start);
		const uint8_t *key_end = p;
		uint32_t field = (uint32_t)(key >> 3);
		if (field == 0 || key >> 32)
			return od_error(w->ctx, OD_EFORMAT, "invalid field number at byte %zu", (size_t)(start - w->base));
		const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field(d, field);
		if (fd && (key & 7) <= 5) {
			int rc = check_field(w, d, fd, (unsigned)(key & 7), start, seen);
			if (rc)
				return rc;
		}
		switch (key & 7) {
		case 0:
			if (varint_get(&p, end, &v))
				return truncated(w, start);
			break;
		case 1:
		case 5: {
			size_t n = (key & 7) == 1 ? 8 : 4;
			if ((size_t)(end - p) < n)
				return truncated(w, start);
			p += n;
			break;
		}
		case 2: {
			if (varint_get(&p, end, &len) || len > (uint64_t)(end - p))
				return truncated(w, start);
			if (fd && wire_type_of(fd) != 2 && !packed_ok(fd, p, (size_t)len))
				return truncated(w, start);
			int rc = walk_bytes(w, d, field, start, key_end, p, (size_t)len, depth);
			if (rc)
				return rc;
			p += len;
			continue;
		}
		default:
			return od_error(w->ctx, OD_EFORMAT, "unsupported wire type %u at byte %zu",
			                (unsigned)(key & 7), (size_t)(start - w->base));
		}
		if (put(w->s, start, (size_t)(p - start)))
			return od_error(w->ctx, OD_ENOMEM, "out of memory");
	}
	return 0;
}

int od_wire_strip(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *d,
                  struct od_skeleton *out, struct od_ctx *ctx)
{
	struct walk w = {buf, out, ctx};
	memset(out, 0, sizeof *out);
	int rc = walk_message(&w, d, buf, buf + len, 0);
	if (rc)
		od_skeleton_done(out);
	return rc;
}

void od_skeleton_done(struct od_skeleton *s)
{
	if (!s)
		return;
	od_free(s->buf);
	od_free(s->payloads);
	memset(s, 0, sizeof *s);
}

/* Puts the payload views back: every TensorProto's raw_data holds a payload index and now
 * points into the original buffer. Generic over the descriptors, so sparse tensors and
 * attribute tensors are covered alike. */
static int reattach(ProtobufCMessage *m, const uint8_t *base, const struct od_skeleton *s)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	if (d == &onnx__tensor_proto__descriptor) {
		Onnx__TensorProto *t = (Onnx__TensorProto *)m;
		const uint8_t *p = t->raw_data.data;
		uint64_t idx;
		if (!t->has_raw_data)
			return 0;
		if (!p || varint_get(&p, p + t->raw_data.len, &idx) ||
		    p != t->raw_data.data + t->raw_data.len || idx >= s->n_payloads)
			return -1;
		t->raw_data.len = s->payloads[idx].len;
		t->raw_data.data = (uint8_t *)base + s->payloads[idx].offset;
		return 0;
	}
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *fd = &d->fields[i];
		char *at = (char *)m + fd->offset;
		if (fd->type != PROTOBUF_C_TYPE_MESSAGE)
			continue;
		if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(size_t *)((char *)m + fd->quantifier_offset);
			ProtobufCMessage **arr = *(ProtobufCMessage ***)at;
			for (size_t k = 0; k < n; k++)
				if (arr[k] && reattach(arr[k], base, s))
					return -1;
			continue;
		}
		if ((fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(uint32_t *)((char *)m + fd->quantifier_offset) != fd->id)
			continue;
		ProtobufCMessage *sub = *(ProtobufCMessage **)at;
		if (sub && reattach(sub, base, s))
			return -1;
	}
	return 0;
}

int od_wire_reattach(ProtobufCMessage *root, const uint8_t *base, const struct od_skeleton *s)
{
	return reattach(root, base, s);
}
