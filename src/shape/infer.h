/*
 * infer.h — what the files of the shape module share (not exported): the run, one scope per
 * graph, one call per node, dim and value helpers, and the handlers of the operator table
 * (infer_ops.c), which live in infer_*.c by family.
 */
#ifndef OD_INFER_H
#define OD_INFER_H

#include "shape.h"
#include "internal.h"

/* The private half of struct od_shapes: a name index per graph and graph lookup. */
struct sh_graph_priv {
	struct od_map idx;      /* name -> index into the graph's values */
	long outer;             /* index of the enclosing graph, -1 at the top */
	bool done;
};
struct sh_priv {
	struct sh_graph_priv *g; /* one per graph slot, malloc'd */
	size_t cap_graphs;
	struct od_map by_ptr;   /* "%p" of the od_graph -> slot */
	size_t cap_warn;
};

struct sh {
	const struct od_model *m;
	struct od_shapes *res;
	struct sh_priv *p;
	struct od_arena *a;     /* res->arena */
	struct od_ctx *ctx;
	int64_t opset;          /* ai.onnx */
	bool nomem;             /* an allocation failed where the caller could not say so */
};

/* One node being inferred. */
struct sh_call {
	struct sh *s;
	long slot;              /* its graph */
	const struct od_node *n;
	int64_t opset;
	size_t nin;
	const struct od_shape **in; /* nin entries, NULL for "" or a name nothing defined */
	size_t nout;
	struct od_shape *out;   /* nout entries, filled by the handler */
};

typedef int (*sh_fn)(struct sh_call *c);

/* One row of the table: op name (ai.onnx) -> handler. */
struct sh_entry {
	const char *op;
	sh_fn fn;
};
const struct sh_entry *sh_lookup(const char *op);

/* ---- dims ---------------------------------------------------------------------------- */
static inline struct od_dim sh_d(int64_t v) { return (struct od_dim){v, NULL}; }
#define SH_UNK ((struct od_dim){-1, NULL})
static inline bool sh_known(struct od_dim d) { return d.value >= 0; }
bool sh_dim_eq(struct od_dim a, struct od_dim b);         /* provably equal */
struct od_dim sh_dim_mul(struct od_dim a, struct od_dim b);
/* Int64 arithmetic on attributes and dims, any of which a file may set near INT64_MAX:
 * sh_add, sh_sub and sh_mul store the result and return true when it overflowed, and
 * sh_ck(overflowed, v) is the dim v, or unknown when a step overflowed or v < 0. */
static inline bool sh_add(int64_t a, int64_t b, int64_t *r) { return __builtin_add_overflow(a, b, r); }
static inline bool sh_sub(int64_t a, int64_t b, int64_t *r) { return __builtin_sub_overflow(a, b, r); }
static inline bool sh_mul(int64_t a, int64_t b, int64_t *r) { return __builtin_mul_overflow(a, b, r); }
static inline struct od_dim sh_ck(bool overflowed, int64_t v) { return overflowed || v < 0 ? SH_UNK : sh_d(v); }
/* Broadcasts two dims; *bad when both are static, differ and neither is 1. */
struct od_dim sh_dim_bcast(struct od_dim a, struct od_dim b, bool *bad);

/* Value elements (struct od_shape.value): static when param is NULL, else a symbol, or
 * unknown when param is "". */
static inline struct od_dim sh_v(int64_t v) { return (struct od_dim){v, NULL}; }
#define SH_VUNK ((struct od_dim){0, ""})
static inline bool sh_vknown(struct od_dim e) { return !e.param; }
struct od_dim sh_dim_to_v(struct od_dim d);
struct od_dim sh_v_to_dim(struct od_dim e);

/* ---- the run ----------------------------------------------------------------------- */
void sh_warn(struct sh_call *c, const char *fmt, ...) OD_PRINTF(2, 3);
int sh_warn_at(struct sh *s, long slot, const char *fmt, ...) OD_PRINTF(3, 4);
/* Infers subgraph g with input hints (n_hints entries, NULL ones ignored); on return
 * outs[i] (may be NULL) points at the shape of its i-th output. */
int sh_infer_subgraph(struct sh_call *c, const struct od_graph *g, const char *attr,
                      const struct od_shape *const *hints, size_t n_hints,
                      const struct od_shape ***outs);

/* ---- reading a node -------------------------------------------------------------------- */
const struct od_shape *sh_in(const struct sh_call *c, size_t i);     /* NULL when absent */
int sh_in_dtype(const struct sh_call *c, size_t i);
int sh_in_rank(const struct sh_call *c, size_t i);                   /* -1 when unknown */
int64_t sh_attr_i(const struct sh_call *c, const char *name, int64_t def);
float sh_attr_f(const struct sh_call *c, const char *name, float def);
const char *sh_attr_s(const struct sh_call *c, const char *name, const char *def);
/* An ints attribute; NULL when absent. */
const int64_t *sh_attr_ints(const struct sh_call *c, const char *name, size_t *n);
/* The static elements of input i (its whole value must be known and static), at most max:
 * true when they are, with *n set. */
bool sh_in_ints(const struct sh_call *c, size_t i, int64_t *buf, size_t max, size_t *n);
/* An ints list given as attribute name (older opsets) or input i (newer): 1 found, 0 not
 * given at all, -1 given but not static. */
int sh_ints_arg(const struct sh_call *c, const char *name, size_t i, int64_t *buf, size_t max,
                size_t *n);
/* Normalises axis into [0, rank); false (and a warning) when out of range. */
bool sh_axis(struct sh_call *c, int64_t *axis, int rank);

/* ---- writing outputs ---------------------------------------------------------------------- */
/* Output o gets dtype and rank (-1: unknown) with dims copied from dims (NULL: unknown). */
int sh_set(struct sh_call *c, size_t o, int dtype, int rank, const struct od_dim *dims);
int sh_same(struct sh_call *c, size_t o, const struct od_shape *from, int dtype);
/* Output o's value: n elements (rank 0 when scalar is set). */
int sh_value(struct sh_call *c, size_t o, size_t n, const struct od_dim *v);
/* Broadcasts inputs [from, to) into output o with dtype. */
int sh_broadcast(struct sh_call *c, size_t o, size_t from, size_t to, int dtype);
bool sh_is_int(int dtype);

/* ---- handlers, by family ------------------------------------------------------------------- */
#define SH_HANDLERS(X) \
	X(affine_grid) X(argreduce) X(attention) X(bcast) X(bcast_bool) X(bernoulli) X(bitshift) X(bool_same) \
	X(cast) X(castlike) X(center_crop_pad) X(col2im) X(compress) X(concat) X(concat_from_seq) X(constant) \
	X(constant_of_shape) X(conv) X(conv_integer) X(conv_transpose) X(depth_to_space) \
	X(dequantize) X(det) X(dft) X(dropout) X(dyn_quantize) X(einsum) X(expand) X(eyelike) \
	X(flatten) X(gather) X(gather_elements) X(gather_nd) X(gemm) X(global_pool) X(grid_sample) \
	X(identity) X(if) X(layernorm) X(loop) X(lp_norm) X(matmul) X(matmul_int) X(max_unpool) \
	X(mod) X(multinomial) X(nll_loss) X(nonzero) X(norm) X(onehot) X(optional) X(optional_get) \
	X(optional_has) X(pad) X(pool) X(qlinear_conv) X(qlinear_matmul) X(quantize) X(random) \
	X(random_like) X(range) X(reduce) X(reshape) X(resize) X(reverse_seq) X(rnn) X(roi) \
	X(same) X(scan) X(seq_at) X(seq_construct) X(seq_empty) X(seq_insert) X(seq_length) \
	X(shape) X(size) X(slice) X(softmax_loss) X(space_to_depth) X(split) X(split_to_seq) \
	X(squeeze) X(stft) X(tile) X(topk) X(transpose) X(unique) X(unsqueeze) X(upsample) X(where) \
	X(window)
#define SH_DECL(name) int sh_op_##name(struct sh_call *c);
SH_HANDLERS(SH_DECL)
#undef SH_DECL

#endif
