/*
 * model.c — loads an ONNX file into onnxdiff's own structs (od.h).
 *
 * The file is mapped, its wire format stripped of large payloads (wire.c), the skeleton
 * unpacked by protobuf-c into the model's arena, payloads re-attached as views into the
 * mapping, and the result converted to struct od_model. The protobuf tree stays alive
 * (src pointers) so the writer can keep every field onnxdiff does not model.
 */
#include "config.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "internal.h"
#include "model_priv.h"
#include "sparse.h"
#include "wire.h"

struct loader {
	struct od_model *m;
	struct model_priv *priv;
	struct od_ctx *ctx;
	size_t max_depth;
	bool no_external;
};

/* protobuf-c's allocator: the model arena, remembering a failure (unpack returns NULL both
 * for bad input and for out of memory). */
struct pb_arena {
	struct od_arena *a;
	bool oom;
};

static void *pb_alloc(void *data, size_t size)
{
	struct pb_arena *pa = data;
	void *p = od_arena_alloc(pa->a, size);
	pa->oom |= !p;
	return p;
}

/* protobuf-c frees only its scratch (the scanned-member slabs of a message with many
 * fields): the big ones go back, the rest with the arena. */
static void pb_free(void *data, void *p)
{
	od_arena_release(((struct pb_arena *)data)->a, p);
}

static const char *str(const char *s)
{
	return s ? s : "";
}

#define NEW(L, p) ((p) = od_arena_alloc((L)->m->arena, sizeof *(p)))
#define NEW_N(L, p, n) ((p) = od_arena_alloc((L)->m->arena, (n) ? (size_t)(n) * sizeof *(p) : 1))
#define OOM(L) od_error((L)->ctx, OD_ENOMEM, "out of memory")

/* ---- tensors ---------------------------------------------------------------------------- */

static int check_dims(struct loader *L, const char *what, size_t n, const int64_t *dims,
                      int64_t *numel)
{
	if (n > OD_MAX_RANK)
		return od_error(L->ctx, OD_ELIMIT, "%s: rank %zu exceeds the limit of %d", what, n, OD_MAX_RANK);
	*numel = 1;
	for (size_t i = 0; i < n; i++) {
		if (dims[i] < 0)
			return od_error(L->ctx, OD_EFORMAT, "%s: negative dimension %lld", what, (long long)dims[i]);
		if (dims[i] && *numel > OD_MAX_NUMEL / dims[i])
			return od_error(L->ctx, OD_ELIMIT, "%s: element count overflows", what);
		*numel *= dims[i];
	}
	return 0;
}

/* Packs n values of a wider typed field into elements of size esz (little-endian),
 * keeping the low bytes as onnx's numpy_helper and onnxruntime do. */
static void *narrow(struct loader *L, const void *src, size_t srcsz, size_t n, size_t esz)
{
	uint8_t *out = od_arena_alloc(L->m->arena, n && esz ? n * esz : 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * esz, (const uint8_t *)src + i * srcsz, esz);
	return out;
}

/* bool from int32_data: any nonzero value is true (onnxruntime, numpy's astype(bool)). */
static void *bools(struct loader *L, const int32_t *src, size_t n)
{
	uint8_t *out = od_arena_alloc(L->m->arena, n ? n : 1);
	for (size_t i = 0; out && i < n; i++)
		out[i] = src[i] != 0;
	return out;
}

/* float16 and bfloat16 keep their bits in int32_data; onnxruntime refuses a value outside
 * 0..65535 ("data overflow") where numpy would wrap it, so onnxdiff refuses it too. */
static int halves_ok(struct loader *L, const struct od_tensor *t, const int32_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (src[i] < 0 || src[i] > 65535)
			return od_error(L->ctx, OD_EFORMAT, "tensor '%s': %s value %d in int32_data is out of range",
			                t->name, od_dtype_name(t->dtype), (int)src[i]);
	return 0;
}

/* Points t->data at whichever typed field carries the payload. */
static int typed_payload(struct loader *L, const Onnx__TensorProto *tp, struct od_tensor *t)
{
	size_t esz = od_dtype_size(t->dtype);
	int rc;
	switch (t->dtype) {
	case OD_FLOAT: case OD_COMPLEX64:
		t->data = tp->float_data; t->nbytes = tp->n_float_data * 4; break;
	case OD_DOUBLE: case OD_COMPLEX128:
		t->data = tp->double_data; t->nbytes = tp->n_double_data * 8; break;
	case OD_INT64:
		t->data = tp->int64_data; t->nbytes = tp->n_int64_data * 8; break;
	case OD_UINT64:
		t->data = tp->uint64_data; t->nbytes = tp->n_uint64_data * 8; break;
	case OD_UINT32:
		t->data = narrow(L, tp->uint64_data, 8, tp->n_uint64_data, 4);
		t->nbytes = tp->n_uint64_data * 4; break;
	case OD_INT32:
		t->data = tp->int32_data; t->nbytes = tp->n_int32_data * 4; break;
	case OD_BOOL:
		t->data = bools(L, tp->int32_data, tp->n_int32_data);
		t->nbytes = tp->n_int32_data; break;
	case OD_FLOAT16: case OD_BFLOAT16:
		if ((rc = halves_ok(L, t, tp->int32_data, tp->n_int32_data)))
			return rc;
		/* fall through */
	case OD_INT8: case OD_UINT8: case OD_INT16: case OD_UINT16: case OD_FLOAT8E4M3FN: case OD_FLOAT8E4M3FNUZ:
	case OD_FLOAT8E5M2: case OD_FLOAT8E5M2FNUZ:
		t->data = narrow(L, tp->int32_data, 4, tp->n_int32_data, esz);
		t->nbytes = tp->n_int32_data * esz; break;
	case OD_UINT4: case OD_INT4:    /* two elements per byte, one byte per int32 */
		t->data = narrow(L, tp->int32_data, 4, tp->n_int32_data, 1);
		t->nbytes = tp->n_int32_data; break;
	case OD_STRING:
		NEW_N(L, t->strings, tp->n_string_data);
		if (!t->strings)
			return OOM(L);
		for (size_t i = 0; i < tp->n_string_data; i++)
			t->strings[i] = (struct od_bytes){tp->string_data[i].len, tp->string_data[i].data};
		return tp->n_string_data == (size_t)t->numel ? 0 :
		       od_error(L->ctx, OD_EFORMAT, "tensor '%s': %zu strings for %lld elements",
		                t->name, tp->n_string_data, (long long)t->numel);
	default:
		t->data = NULL; t->nbytes = 0; break;
	}
	return t->data || !t->nbytes ? 0 : OOM(L);
}

static size_t expected_bytes(const struct od_tensor *t)
{
	if (t->dtype == OD_UINT4 || t->dtype == OD_INT4)
		return (size_t)(t->numel + 1) / 2;
	return (size_t)t->numel * od_dtype_size(t->dtype);
}

static int convert_tensor(struct loader *L, Onnx__TensorProto *tp, const char *what,
                          struct od_tensor **out)
{
	struct od_tensor *t;
	if (!NEW(L, t))
		return OOM(L);
	t->name = str(tp->name);
	t->dtype = tp->has_data_type ? tp->data_type : OD_UNDEFINED;
	t->src = tp;
	char label[300];
	snprintf(label, sizeof label, "%s '%s'", what, t->name);
	int rc = check_dims(L, label, tp->n_dims, tp->dims, &t->numel);
	if (rc)
		return rc;
	t->ndims = (int)tp->n_dims;
	t->dims = tp->dims;
	if (tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL)
		rc = od_external_resolve(L->m, tp, t, L->no_external, L->ctx);
	else if (tp->has_raw_data) {
		t->data = tp->raw_data.data;
		t->nbytes = tp->raw_data.len;
	} else
		rc = typed_payload(L, tp, t);
	if (rc)
		return rc;
	if (t->dtype < 1 || t->dtype > OD_DTYPE_MAX)
		return od_error(L->ctx, OD_EFORMAT, "%s: unknown data type %d", label, t->dtype);
	if (t->dtype == OD_STRING && !t->strings)   /* numel would be unbounded by the file */
		return od_error(L->ctx, OD_EFORMAT, "%s: string tensor stored as raw bytes", label);
	if (t->dtype != OD_STRING && (t->data || !t->ext) && t->nbytes != expected_bytes(t))
		return od_error(L->ctx, OD_EFORMAT, "%s: %zu bytes of data for shape %s %s (%zu bytes)",
		                label, t->nbytes, od_shape_str(t, (char[64]){0}, 64),
		                od_dtype_name(t->dtype), expected_bytes(t));
	*out = t;
	return 0;
}

/* A SparseTensorProto as a struct od_tensor of the dense dtype and dims with t->sparse set;
 * values and indices are tensors of their own (payloads and external data handled alike),
 * checked as onnx.checker does. */
static int convert_sparse(struct loader *L, Onnx__SparseTensorProto *sp, const char *what,
                          struct od_tensor **out)
{
	struct od_tensor *t;
	struct od_sparse *s;
	char label[300];
	if (!NEW(L, t) || !NEW(L, s))
		return OOM(L);
	if (!sp->values)
		return od_error(L->ctx, OD_EFORMAT, "%s: no values", what);
	int rc = convert_tensor(L, sp->values, what, &s->values);
	if (!rc && sp->indices)
		rc = convert_tensor(L, sp->indices, what, &s->indices);
	if (rc)
		return rc;
	t->name = s->values->name;
	t->dtype = s->values->dtype;
	t->sparse = s;
	s->src = sp;
	snprintf(label, sizeof label, "%s '%s'", what, t->name);
	if ((rc = check_dims(L, label, sp->n_dims, sp->dims, &t->numel)))
		return rc;
	t->ndims = (int)sp->n_dims;
	t->dims = sp->dims;
	if (s->values->ndims != 1)
		return od_error(L->ctx, OD_EFORMAT, "%s: values must have rank 1, not %d", label, s->values->ndims);
	if (!t->ndims)
		return od_error(L->ctx, OD_EFORMAT, "%s: no dims", label);
	for (int i = 0; i < t->ndims; i++)
		if (!t->dims[i])
			return od_error(L->ctx, OD_EFORMAT, "%s: dimension %d is 0", label, i);
	s->nnz = s->values->numel;
	t->nbytes = s->values->nbytes + (s->indices ? s->indices->nbytes : 0);
	t->ext = s->values->ext ? s->values->ext : s->indices ? s->indices->ext : NULL;
	if ((rc = od_sparse_index(L->m->arena, t, s, label, L->ctx)))
		return rc;
	*out = t;
	return 0;
}

/* ---- types -------------------------------------------------------------------------------- */

static char *shape_text(struct loader *L, const Onnx__TensorShapeProto *sh)
{
	if (!sh)
		return "";
	size_t len = 3;
	for (size_t i = 0; i < sh->n_dim; i++) {
		const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
		len += 22 + (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM ? strlen(str(d->dim_param)) : 0);
	}
	char *s = od_arena_alloc(L->m->arena, len), *p = s;
	if (!s)
		return NULL;
	*p++ = '[';
	for (size_t i = 0; i < sh->n_dim; i++) {
		const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
		if (i)
			*p++ = ',';
		if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
			p += sprintf(p, "%lld", (long long)d->dim_value);
		else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
			p += sprintf(p, "%s", str(d->dim_param));
		else
			*p++ = '?';
	}
	*p++ = ']';
	*p = 0;
	return s;
}

/* Canonical text of a type: "tensor(float)[batch,4]", "seq(tensor(int64))", ... NULL when
 * out of memory (a part that failed must not print as "(null)"). */
static char *type_text(struct loader *L, const Onnx__TypeProto *tp, int depth)
{
	struct od_arena *a = L->m->arena;
	const char *in;
	if (!tp || depth > 16)
		return "?";
	switch (tp->value_case) {
	case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
		in = tp->tensor_type->shape ? shape_text(L, tp->tensor_type->shape) : "";
		return in ? od_arena_printf(a, "tensor(%s)%s", od_dtype_name(tp->tensor_type->elem_type), in) : NULL;
	case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE:
		in = tp->sparse_tensor_type->shape ? shape_text(L, tp->sparse_tensor_type->shape) : "";
		return in ? od_arena_printf(a, "sparse_tensor(%s)%s", od_dtype_name(tp->sparse_tensor_type->elem_type), in) : NULL;
	case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
		in = type_text(L, tp->sequence_type->elem_type, depth + 1);
		return in ? od_arena_printf(a, "seq(%s)", in) : NULL;
	case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE:
		in = type_text(L, tp->optional_type->elem_type, depth + 1);
		return in ? od_arena_printf(a, "optional(%s)", in) : NULL;
	case ONNX__TYPE_PROTO__VALUE_MAP_TYPE:
		in = type_text(L, tp->map_type->value_type, depth + 1);
		return in ? od_arena_printf(a, "map(%s,%s)", od_dtype_name(tp->map_type->key_type), in) : NULL;
	default:
		return "?";
	}
}

static int convert_value(struct loader *L, Onnx__ValueInfoProto *vi, struct od_value **out)
{
	struct od_value *v;
	if (!NEW(L, v))
		return OOM(L);
	v->name = str(vi->name);
	v->doc_string = vi->doc_string;
	v->src = vi;
	v->rank = -1;
	const Onnx__TypeProto *tp = vi->type;
	v->type_str = tp ? type_text(L, tp, 0) : "";
	if (!v->type_str)
		return OOM(L);
	if (!tp || tp->value_case == ONNX__TYPE_PROTO__VALUE__NOT_SET) {
		v->kind = tp ? OD_TYPE_OTHER : OD_TYPE_NONE;
	} else if (tp->value_case == ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE ||
	           tp->value_case == ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE) {
		bool sparse = tp->value_case == ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE;
		v->kind = sparse ? OD_TYPE_SPARSE_TENSOR : OD_TYPE_TENSOR;
		v->dtype = sparse ? tp->sparse_tensor_type->elem_type : tp->tensor_type->elem_type;
		const Onnx__TensorShapeProto *sh = sparse ? tp->sparse_tensor_type->shape : tp->tensor_type->shape;
		if (sh) {
			if (sh->n_dim > OD_MAX_RANK)
				return od_error(L->ctx, OD_ELIMIT, "value '%s': rank %zu exceeds the limit of %d",
				                v->name, sh->n_dim, OD_MAX_RANK);
			v->rank = (int)sh->n_dim;
			NEW_N(L, v->dims, sh->n_dim);
			if (!v->dims)
				return OOM(L);
			for (size_t i = 0; i < sh->n_dim; i++) {
				const Onnx__TensorShapeProto__Dimension *d = sh->dim[i];
				v->dims[i].value = -1;
				if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE)
					v->dims[i].value = d->dim_value;
				else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
					v->dims[i].param = str(d->dim_param);
			}
		}
	} else {
		v->kind = tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE ? OD_TYPE_SEQUENCE :
		          tp->value_case == ONNX__TYPE_PROTO__VALUE_MAP_TYPE ? OD_TYPE_MAP :
		          tp->value_case == ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE ? OD_TYPE_OPTIONAL : OD_TYPE_OTHER;
	}
	*out = v;
	return 0;
}

/* ---- nodes and graphs ------------------------------------------------------------------------ */

static int convert_graph(struct loader *L, Onnx__GraphProto *gp, struct od_graph *parent,
                         size_t depth, struct od_graph **out);

/* IR versions before 3 may leave the attribute type unset; infer it from what is present. */
static int attr_type(const Onnx__AttributeProto *ap)
{
	if (ap->has_type)
		return ap->type;
	if (ap->has_f) return OD_ATTR_FLOAT;
	if (ap->has_i) return OD_ATTR_INT;
	if (ap->has_s) return OD_ATTR_STRING;
	if (ap->t) return OD_ATTR_TENSOR;
	if (ap->g) return OD_ATTR_GRAPH;
	if (ap->n_floats) return OD_ATTR_FLOATS;
	if (ap->n_ints) return OD_ATTR_INTS;
	if (ap->n_strings) return OD_ATTR_STRINGS;
	if (ap->n_tensors) return OD_ATTR_TENSORS;
	if (ap->n_graphs) return OD_ATTR_GRAPHS;
	if (ap->sparse_tensor) return OD_ATTR_SPARSE_TENSOR;
	if (ap->n_sparse_tensors) return OD_ATTR_SPARSE_TENSORS;
	if (ap->tp) return OD_ATTR_TYPE_PROTO;
	if (ap->n_type_protos) return OD_ATTR_TYPE_PROTOS;
	return OD_ATTR_UNDEFINED;
}

static int convert_attr(struct loader *L, Onnx__AttributeProto *ap, struct od_graph *g,
                        struct od_node *n, size_t depth, struct od_attr *a)
{
	int rc = 0;
	a->name = str(ap->name);
	a->type = attr_type(ap);
	a->f = ap->f;
	a->i = ap->i;
	a->s = (struct od_bytes){ap->s.len, ap->s.data};
	a->ref_attr_name = ap->ref_attr_name;
	a->src = ap;
	switch (a->type) {
	case OD_ATTR_TENSOR:
		if (!ap->t)
			return od_error(L->ctx, OD_EFORMAT, "attribute '%s' of node '%s' has no tensor", a->name, n->name);
		return convert_tensor(L, ap->t, "attribute tensor", &a->t);
	case OD_ATTR_GRAPH:
		if (!ap->g)
			return od_error(L->ctx, OD_EFORMAT, "attribute '%s' of node '%s' has no graph", a->name, n->name);
		rc = convert_graph(L, ap->g, g, depth + 1, &a->g);
		if (!rc) {
			a->g->owner = n;
			a->g->owner_attr = a->name;
		}
		return rc;
	case OD_ATTR_FLOATS: a->n = ap->n_floats; a->floats = ap->floats; return 0;
	case OD_ATTR_INTS: a->n = ap->n_ints; a->ints = ap->ints; return 0;
	case OD_ATTR_STRINGS:
		a->n = ap->n_strings;
		NEW_N(L, a->strings, a->n);
		if (!a->strings)
			return OOM(L);
		for (size_t i = 0; i < a->n; i++)
			a->strings[i] = (struct od_bytes){ap->strings[i].len, ap->strings[i].data};
		return 0;
	case OD_ATTR_TENSORS:
		a->n = ap->n_tensors;
		NEW_N(L, a->tensors, a->n);
		for (size_t i = 0; !rc && i < a->n; i++)
			rc = a->tensors ? convert_tensor(L, ap->tensors[i], "attribute tensor", &a->tensors[i]) : OOM(L);
		return rc;
	case OD_ATTR_GRAPHS:
		a->n = ap->n_graphs;
		NEW_N(L, a->graphs, a->n);
		for (size_t i = 0; !rc && i < a->n; i++) {
			rc = a->graphs ? convert_graph(L, ap->graphs[i], g, depth + 1, &a->graphs[i]) : OOM(L);
			if (!rc) {
				a->graphs[i]->owner = n;
				a->graphs[i]->owner_attr = a->name;
			}
		}
		return rc;
	case OD_ATTR_SPARSE_TENSOR:
		if (!ap->sparse_tensor)
			return od_error(L->ctx, OD_EFORMAT, "attribute '%s' of node '%s' has no sparse tensor", a->name, n->name);
		return convert_sparse(L, ap->sparse_tensor, "attribute sparse tensor", &a->t);
	case OD_ATTR_SPARSE_TENSORS:
		a->n = ap->n_sparse_tensors;
		NEW_N(L, a->tensors, a->n);
		for (size_t i = 0; !rc && i < a->n; i++)
			rc = a->tensors ? convert_sparse(L, ap->sparse_tensors[i], "attribute sparse tensor", &a->tensors[i]) : OOM(L);
		return rc;
	case OD_ATTR_TYPE_PROTO:
	case OD_ATTR_TYPE_PROTOS:
		a->n = a->type == OD_ATTR_TYPE_PROTOS ? ap->n_type_protos : 0;
		NEW_N(L, a->types, a->n ? a->n : 1);
		if (!a->types)
			return OOM(L);
		for (size_t i = 0; i < (a->n ? a->n : 1); i++)
			if (!(a->types[i] = type_text(L, a->n ? ap->type_protos[i] : ap->tp, 0)))
				return OOM(L);
		return 0;
	default:
		return 0;
	}
}

static int convert_names(struct loader *L, char **names, size_t n, const char ***out)
{
	NEW_N(L, *out, n);
	if (!*out)
		return OOM(L);
	for (size_t i = 0; i < n; i++)
		(*out)[i] = str(names[i]);
	return 0;
}

static int convert_node(struct loader *L, Onnx__NodeProto *np, struct od_graph *g,
                        size_t depth, struct od_node **out)
{
	struct od_node *n;
	if (!NEW(L, n))
		return OOM(L);
	n->op_type = str(np->op_type);
	n->domain = str(np->domain);
	n->name = str(np->name);
	n->src = np;
	n->n_inputs = np->n_input;
	n->n_outputs = np->n_output;
	int rc = convert_names(L, np->input, np->n_input, &n->inputs);
	if (!rc)
		rc = convert_names(L, np->output, np->n_output, &n->outputs);
	if (rc)
		return rc;
	if (!*n->op_type)
		return od_error(L->ctx, OD_EFORMAT, "node '%s' has no op_type", n->name);
	n->n_attrs = np->n_attribute;
	NEW_N(L, n->attrs, n->n_attrs);
	if (!n->attrs)
		return OOM(L);
	for (size_t i = 0; !rc && i < n->n_attrs; i++)
		rc = convert_attr(L, np->attribute[i], g, n, depth, &n->attrs[i]);
	*out = n;
	return rc;
}

/* Converts n protobuf items into an arena array of pointers with the given converter. */
#define CONVERT_ARRAY(L, src, n, dst, cap, conv, ...) do { \
	(cap) = (n); \
	NEW_N(L, dst, cap); \
	if (!(dst)) \
		return OOM(L); \
	for (size_t i_ = 0; i_ < (n); i_++) { \
		int rc_ = conv(L, (src)[i_], __VA_ARGS__, &(dst)[i_]); \
		if (rc_) \
			return rc_; \
	} \
} while (0)

static int convert_value_any(struct loader *L, Onnx__ValueInfoProto *vi, int unused, struct od_value **out)
{
	(void)unused;
	return convert_value(L, vi, out);
}

static int convert_graph(struct loader *L, Onnx__GraphProto *gp, struct od_graph *parent,
                         size_t depth, struct od_graph **out)
{
	struct od_graph *g;
	int rc;
	if (depth > L->max_depth)
		return od_error(L->ctx, OD_ELIMIT, "subgraphs nested deeper than %zu", L->max_depth);
	if (!NEW(L, g))
		return OOM(L);
	g->name = str(gp->name);
	g->parent = parent;
	g->doc_string = gp->doc_string;
	g->src = gp;
	g->cap_inits = gp->n_initializer + gp->n_sparse_initializer;
	NEW_N(L, g->inits, g->cap_inits);
	if (!g->inits)
		return OOM(L);
	for (size_t i = 0; i < gp->n_initializer; i++)
		if ((rc = convert_tensor(L, gp->initializer[i], "initializer", &g->inits[g->n_inits++])))
			return rc;
	for (size_t i = 0; i < gp->n_sparse_initializer; i++)
		if ((rc = convert_sparse(L, gp->sparse_initializer[i], "sparse initializer", &g->inits[g->n_inits++])))
			return rc;
	CONVERT_ARRAY(L, gp->input, gp->n_input, g->inputs, g->cap_inputs, convert_value_any, 0);
	g->n_inputs = gp->n_input;
	CONVERT_ARRAY(L, gp->output, gp->n_output, g->outputs, g->cap_outputs, convert_value_any, 0);
	g->n_outputs = gp->n_output;
	CONVERT_ARRAY(L, gp->value_info, gp->n_value_info, g->value_info, g->cap_value_info, convert_value_any, 0);
	g->n_value_info = gp->n_value_info;
	CONVERT_ARRAY(L, gp->node, gp->n_node, g->nodes, g->cap_nodes, convert_node, g, depth);
	g->n_nodes = gp->n_node;
	*out = g;
	return 0;
}

/* ---- model ------------------------------------------------------------------------------- */

static int convert_opsets(struct loader *L, Onnx__OperatorSetIdProto **ops, size_t n,
                          struct od_opset **out)
{
	NEW_N(L, *out, n);
	if (!*out)
		return OOM(L);
	for (size_t i = 0; i < n; i++)
		(*out)[i] = (struct od_opset){str(ops[i]->domain), ops[i]->version, ops[i]};
	return 0;
}

static int convert_function(struct loader *L, Onnx__FunctionProto *fp, struct od_function **out)
{
	struct od_function *f;
	struct od_graph *g;
	if (!NEW(L, f) || !NEW(L, g))
		return OOM(L);
	f->name = str(fp->name);
	f->domain = str(fp->domain);
	f->src = fp;
	f->body = g;
	g->name = f->name;
	f->n_attr_names = fp->n_attribute;
	int rc = convert_names(L, fp->attribute, fp->n_attribute, &f->attr_names);
	if (!rc)
		rc = convert_opsets(L, fp->opset_import, fp->n_opset_import, &f->opsets);
	if (rc)
		return rc;
	f->n_opsets = fp->n_opset_import;
	struct { char **names; size_t n; struct od_value ***dst; size_t *count, *cap; } io[2] = {
		{fp->input, fp->n_input, &g->inputs, &g->n_inputs, &g->cap_inputs},
		{fp->output, fp->n_output, &g->outputs, &g->n_outputs, &g->cap_outputs},
	};
	for (int k = 0; k < 2; k++) {
		NEW_N(L, *io[k].dst, io[k].n);
		if (!*io[k].dst)
			return OOM(L);
		*io[k].count = *io[k].cap = io[k].n;
		for (size_t i = 0; i < io[k].n; i++) {
			struct od_value *v;
			if (!NEW(L, v))
				return OOM(L);
			v->name = str(io[k].names[i]);
			v->rank = -1;
			v->type_str = "";
			(*io[k].dst)[i] = v;
		}
	}
	CONVERT_ARRAY(L, fp->node, fp->n_node, g->nodes, g->cap_nodes, convert_node, g, 0);
	g->n_nodes = fp->n_node;
	*out = f;
	return 0;
}

static int convert_function_any(struct loader *L, Onnx__FunctionProto *fp, int unused,
                                struct od_function **out)
{
	(void)unused;
	return convert_function(L, fp, out);
}

static int convert_model(struct loader *L, Onnx__ModelProto *mp)
{
	struct od_model *m = L->m;
	if (!mp->graph)
		return od_error(L->ctx, OD_EFORMAT, "not an ONNX model: no graph");
	if (!mp->has_ir_version)
		return od_error(L->ctx, OD_EFORMAT, "not an ONNX model: no ir_version");
	if (mp->ir_version >= 3 && !mp->n_opset_import)
		return od_error(L->ctx, OD_EFORMAT, "not an ONNX model: no opset_import");
	m->ir_version = mp->ir_version;
	m->producer_name = str(mp->producer_name);
	m->producer_version = str(mp->producer_version);
	m->domain = str(mp->domain);
	m->model_version = mp->model_version;
	m->doc_string = str(mp->doc_string);
	m->n_opsets = mp->n_opset_import;
	int rc = convert_opsets(L, mp->opset_import, mp->n_opset_import, &m->opsets);
	if (rc)
		return rc;
	m->n_props = mp->n_metadata_props;
	NEW_N(L, m->props, m->n_props);
	if (!m->props)
		return OOM(L);
	for (size_t i = 0; i < m->n_props; i++)
		m->props[i] = (struct od_prop){str(mp->metadata_props[i]->key), str(mp->metadata_props[i]->value),
		                             mp->metadata_props[i]};
	rc = convert_graph(L, mp->graph, NULL, 0, &m->graph);
	if (rc)
		return rc;
	size_t cap;
	CONVERT_ARRAY(L, mp->functions, mp->n_functions, m->functions, cap, convert_function_any, 0);
	m->n_functions = mp->n_functions;
	return 0;
}

static bool looks_like_text(const uint8_t *p, size_t len)
{
	size_t n = len < 512 ? len : 512;
	for (size_t i = 0; i < n; i++)
		if (p[i] < 0x20 && p[i] != '\n' && p[i] != '\r' && p[i] != '\t')
			return false;
	return n > 0;
}

static bool is_lone_tensor(const void *buf, size_t len)
{
	struct od_arena *a = od_arena_new();
	struct od_tensor *t = NULL;
	bool yes = a && !od_tensor_load_pb_buffer(a, buf, len, &t, NULL) && t && t->dtype != 0;
	od_arena_free(a);
	return yes;
}

/* A file that is not a model is often something common a user mixed up with one: say what
 * it looks like (the message in ctx becomes "not an ONNX model: it is ..."). */
static void say_what_it_is(const void *buf, size_t len, struct od_ctx *ctx)
{
	const uint8_t *p = buf;
	const char *what = NULL;
	if (len >= 6 && !memcmp(p, "\x93NUMPY", 6))
		what = "a NumPy array (.npy); 'freeze --set NAME=@FILE' takes one";
	else if (len >= 4 && (!memcmp(p, "PK\x03\x04", 4) || !memcmp(p, "PK\x05\x06", 4)))
		what = "a zip archive (a torch .pt checkpoint or a .npz is one)";
	else if (len >= 2 && p[0] == 0x1f && p[1] == 0x8b)
		what = "gzip-compressed data";
	else if (is_lone_tensor(buf, len))
		what = "a lone TensorProto (.pb); 'freeze --set NAME=@FILE' takes one";
	else if (looks_like_text(p, len))
		what = "a text file";
	if (what)
		od_error(ctx, OD_EFORMAT, "not an ONNX model: it looks like %s", what);
}

int od_model_load_buffer(const void *buf, size_t len, const char *name, const char *dir,
                         const struct od_load_opts *opts, struct od_model **out,
                         struct od_ctx *ctx)
{
	struct od_skeleton sk;
	struct od_model *m = NULL;
	int rc;
	*out = NULL;
	if (!len)
		return od_error(ctx, OD_EFORMAT, "cannot load '%s': empty file", name);
	rc = od_model_alloc(name, dir, &m, ctx);
	if (rc)
		return rc;
	struct model_priv *priv = m->priv;
	priv->ext_from = opts ? opts->ext_from : NULL;
	struct loader L = {m, priv, ctx, opts && opts->max_depth ? opts->max_depth : OD_MAX_DEPTH_DEFAULT,
	                   opts && opts->no_external};
	m->file_size = len;
	rc = od_wire_strip(buf, len, &onnx__model_proto__descriptor, &sk, ctx);
	if (rc)
		goto out;
	struct pb_arena pa = {m->arena, false};
	ProtobufCAllocator alloc = {pb_alloc, pb_free, &pa};
	priv->pb = (Onnx__ModelProto *)protobuf_c_message_unpack(&onnx__model_proto__descriptor,
	                                                          &alloc, sk.len, sk.buf);
	if (!priv->pb) {
		rc = pa.oom ? od_error(ctx, OD_ENOMEM, "out of memory") :
		     od_error(ctx, OD_EFORMAT, "malformed protobuf");
	} else if (od_wire_reattach(&priv->pb->base, buf, &sk)) {
		rc = od_error(ctx, OD_EFORMAT, "malformed protobuf (bad payload index)");
	} else {
		rc = convert_model(&L, priv->pb);
		if (!rc)
			rc = od_model_validate(m, ctx);
	}
	od_skeleton_done(&sk);
out:
	if (rc == OD_EFORMAT)
		say_what_it_is(buf, len, ctx);
	if (rc) {
		od_error_in(ctx, rc, name);
		od_model_free(m);
		return rc;
	}
	*out = m;
	return 0;
}

int od_model_load(const char *path, const struct od_load_opts *opts, struct od_model **out,
                  struct od_ctx *ctx)
{
	struct stat st;
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);  /* a fifo must not hang us */
	if (fd < 0)
		return od_error(ctx, OD_EIO, "cannot open '%s': %s", path, strerror(errno));
	int err = fstat(fd, &st) ? errno : S_ISDIR(st.st_mode) ? EISDIR : S_ISREG(st.st_mode) ? 0 : EINVAL;
	if (err) {              /* (errno is stale when fstat worked) */
		close(fd);
		return od_error(ctx, OD_EIO, "cannot read '%s': %s", path,
		                err == EINVAL ? "not a regular file" : strerror(err));
	}
	size_t len = (size_t)st.st_size;
	void *map = len ? mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
	if (len && map == MAP_FAILED) {
		close(fd);
		return od_error(ctx, OD_EIO, "cannot map '%s': %s", path, strerror(errno));
	}
	if (len)
		madvise(map, len, MADV_WILLNEED);
	char *dir = od_dirname(path);
	int rc = dir ? od_model_load_buffer(len ? map : "", len, path, dir, opts, out, ctx)
	             : od_error(ctx, OD_ENOMEM, "out of memory");
	free(dir);
	if (rc) {
		if (len)
			munmap(map, len);
		close(fd);
		return rc;
	}
	struct model_priv *priv = (*out)->priv;
	priv->map = map;
	priv->map_len = len;
	priv->fd = fd;          /* payloads are hashed with pread() (od_model_sources()) */
	priv->dev = st.st_dev;
	priv->ino = st.st_ino;
	priv->has_id = true;
	return 0;
}

/* ---- a lone TensorProto (test data, `--set name=@file.pb`) -------------------------------- */

int od_tensor_load_pb_buffer(struct od_arena *a, const void *buf, size_t len,
                             struct od_tensor **out, struct od_ctx *ctx)
{
	struct model_priv priv = {0};
	struct od_model m = {.arena = a, .priv = &priv};
	struct loader L = {&m, &priv, ctx, OD_MAX_DEPTH_DEFAULT, false};
	struct pb_arena pa = {a, false};
	ProtobufCAllocator alloc = {pb_alloc, pb_free, &pa};
	*out = NULL;
	Onnx__TensorProto *tp = onnx__tensor_proto__unpack(&alloc, len, buf);
	if (!tp)
		return pa.oom ? od_error(ctx, OD_ENOMEM, "out of memory") :
		       od_error(ctx, OD_EFORMAT, "not a serialized TensorProto");
	return convert_tensor(&L, tp, "tensor", out);
}

int od_tensor_load_pb(struct od_arena *a, const char *path, struct od_tensor **out,
                      struct od_ctx *ctx)
{
	uint8_t *buf;
	size_t len;
	*out = NULL;
	int rc = od_read_file(path, &buf, &len, ctx);
	if (rc)
		return rc;
	rc = od_tensor_load_pb_buffer(a, buf, len, out, ctx);
	od_free(buf);
	return rc ? od_error_in(ctx, rc, path) : 0;
}
