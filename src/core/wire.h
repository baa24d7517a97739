/*
 * wire.h — one pass over the protobuf wire format of a model that copies everything but
 * large tensor payloads into a small "skeleton" for protobuf-c to unpack, and remembers
 * where each payload lives in the original buffer. Payloads stay views into the mapping.
 */
#ifndef OD_WIRE_H
#define OD_WIRE_H

#include <protobuf-c/protobuf-c.h>
#include "od.h"

/* A TensorProto whose raw_data was cut out carries this field instead: varint = index. */
#define OD_WIRE_MARKER_FIELD 536870911u

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

/* Walks buf as a message of descriptor d. Payloads of at least threshold bytes in
 * TensorProto.raw_data are cut out. Errors are EFORMAT with the byte offset. */
int od_wire_strip(const uint8_t *buf, size_t len, const ProtobufCMessageDescriptor *d,
                  size_t threshold, struct od_skeleton *out, struct od_ctx *ctx);
void od_skeleton_done(struct od_skeleton *s);

/* Reads the marker index from a message's unknown fields and removes it from them.
 * Returns the index or -1 when the message carries none. */
long od_wire_take_marker(ProtobufCMessage *m);

/* Gives every marked TensorProto below root its raw_data back, as a view into base. */
int od_wire_reattach(ProtobufCMessage *root, const uint8_t *base, const struct od_skeleton *s);

#endif
