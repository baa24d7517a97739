/*
 * wire.h — one pass over the protobuf wire format of a model that copies everything but
 * large tensor payloads into a small "skeleton" for protobuf-c to unpack, and remembers
 * where each payload lives in the original buffer. Payloads stay views into the mapping.
 */
#ifndef OD_WIRE_H
#define OD_WIRE_H

#include <protobuf-c/protobuf-c.h>
#include "od.h"

struct od_payload {
	size_t offset;          /* bytes into the original buffer */
	size_t len;
};

struct od_skeleton {
	uint8_t *buf;           /* malloc'd; free with od_skeleton_done() */
	size_t len, cap;
	struct od_payload *payloads; /* malloc'd, n_payloads entries */
	size_t n_payloads, cap_payloads;
};

/* Walks buf as a message of descriptor d. Every TensorProto.raw_data is cut out and
 * replaced by a bytes field holding its payload index as a varint, so that protobuf-c
 * applies protobuf's rules (last occurrence wins, messages merge) to the indices.
 * Errors are EFORMAT with the byte offset. */
int od_wire_strip(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *d,
                  struct od_skeleton *out, struct od_ctx *ctx);
void od_skeleton_done(struct od_skeleton *s);

/* Gives every TensorProto below root its raw_data back, as a view into base; -1 when an
 * index is not one od_wire_strip() wrote. */
int od_wire_reattach(ProtobufCMessage *root, const uint8_t *base, const struct od_skeleton *s);

#endif
