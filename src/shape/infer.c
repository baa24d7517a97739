/*
 * infer.c — the inference engine: walks every graph of a model in topological order (a
 * scope per graph, names looked up in the graph then the graphs around it), calls the
 * handler of each node's operator (infer_ops.c), evaluates small all-constant nodes with
 * the eval/ kernels, and checks the shapes the file declares against the inferred ones.
 * Linear in the nodes: one map lookup per input, one handler call per node.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval.h"
#include "infer.h"

/* Constants up to this many elements are evaluated while inferring (Shape arithmetic,
 * Reshape targets, Range bounds); larger ones are the folder's business. */
#define SH_EVAL_MAX 4096
/* Values kept element by element: 1-D int tensors up to this length. */
#define SH_VALUE_MAX 64

/* ---- warnings ------------------------------------------------------------------------------- */

static int vwarn(struct sh *s, long slot, const char *node, const char *fmt, va_list ap)
{
	char buf[400];
	vsnprintf(buf, sizeof buf, fmt, ap);
	struct od_shapes *r = s->res;
	const char *path = slot >= 0 ? r->graphs[slot].path : "graph";
	const char *line = node ? od_arena_printf(s->a, "%s: node '%s': %s", path, node, buf)
	                        : od_arena_printf(s->a, "%s: %s", path, buf);
	void *p = line ? od_arena_grow(s->a, r->warnings, r->n_warnings, sizeof *r->warnings,
	                               &s->p->cap_warn, r->n_warnings + 1) : NULL;
	if (!p)
		return OD_ENOMEM;
	r->warnings = p;
	r->warnings[r->n_warnings++] = line;
	return 0;
}

void sh_warn(struct sh_call *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (vwarn(c->s, c->slot, *c->n->name ? c->n->name : c->n->op_type, fmt, ap))
		c->s->nomem = true;
	va_end(ap);
}

int sh_warn_at(struct sh *s, long slot, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vwarn(s, slot, NULL, fmt, ap);
	va_end(ap);
	return rc;
}

/* ---- text ------------------------------------------------------------------------------------ */

const char *od_shape_text(const struct od_shape *v, char *buf, size_t n)
{
	if (!v || (v->kind == OD_TYPE_NONE && v->dtype == OD_UNDEFINED && v->rank < 0)) {
		snprintf(buf, n, "?");
		return buf;
	}
	size_t off = (size_t)snprintf(buf, n, "%s%s%s", v->kind == OD_TYPE_SEQUENCE ? "seq(" :
	                              v->kind == OD_TYPE_OPTIONAL ? "optional(" : "",
	                              v->dtype ? od_dtype_name(v->dtype) : "?",
	                              v->kind == OD_TYPE_SEQUENCE || v->kind == OD_TYPE_OPTIONAL ? ")" : "");
	for (int i = 0; v->rank >= 0 && i <= v->rank && off < n; i++) {
		const char *sep = i == v->rank ? "]" : i ? "," : "";
		if (i == 0)
			off += (size_t)snprintf(buf + off, n - off, "[");
		if (i == v->rank)
			off += (size_t)snprintf(buf + off, n - off, "%s", sep);
		else if (v->dims[i].value >= 0)
			off += (size_t)snprintf(buf + off, n - off, "%s%lld", sep, (long long)v->dims[i].value);
		else
			off += (size_t)snprintf(buf + off, n - off, "%s%s", sep, v->dims[i].param ? v->dims[i].param : "?");
	}
	return buf;
}

/* ---- graph slots ------------------------------------------------------------------------------- */

static const char *ptr_key(struct sh *s, const struct od_graph *g)
{
	return od_arena_printf(s->a, "%p", (const void *)g);
}

static size_t node_outputs(const struct od_graph *g)
{
	size_t k = 0;
	for (size_t i = 0; i < g->n_nodes; i++)
		k += g->nodes[i]->n_outputs;
	return k;
}

static long slot_of(const struct od_shapes *r, const struct od_graph *g)
{
	const struct sh_priv *p = r->priv;
	char key[32];
	size_t i;
	snprintf(key, sizeof key, "%p", (const void *)g);
	return od_map_get(&p->by_ptr, key, &i) ? (long)i : -1;
}

const struct od_shape_graph *od_shapes_graph(const struct od_shapes *s, const struct od_graph *g)
{
	long k = s && g ? slot_of(s, g) : -1;
	return k >= 0 ? &s->graphs[k] : NULL;
}

static struct od_shape *find_in(const struct od_shapes *r, long slot, const char *name)
{
	const struct sh_priv *p = r->priv;
	size_t i;
	for (; slot >= 0; slot = p->g[slot].outer)
		if (od_map_get(&p->g[slot].idx, name, &i))
			return &r->graphs[slot].values[i];
	return NULL;
}

const struct od_shape *od_shapes_find(const struct od_shapes *s, const struct od_graph *g,
                                      const char *name)
{
	long k = s && g && name ? slot_of(s, g) : -1;
	return k >= 0 ? find_in(s, k, name) : NULL;
}

/* A new entry for name in slot (an existing one is reused: a name defined twice). */
static struct od_shape *define(struct sh *s, long slot, const char *name)
{
	struct od_shape_graph *sg = &s->res->graphs[slot];
	struct od_map *idx = &s->p->g[slot].idx;
	size_t i;
	if (od_map_get(idx, name, &i))
		return &sg->values[i];
	i = sg->n++;
	if (od_map_put(idx, name, i) < 0)
		return NULL;
	sg->values[i] = (struct od_shape){.name = name, .rank = -1, .n_value = -1};
	return &sg->values[i];
}

/* ---- values from tensors and declarations ------------------------------------------------------- */

bool sh_is_int(int dtype)
{
	switch (dtype) {
	case OD_INT8: case OD_INT16: case OD_INT32: case OD_INT64: case OD_UINT8:
	case OD_UINT16: case OD_UINT32: case OD_UINT64: case OD_BOOL:
		return true;
	default:
		return false;
	}
}

static int from_tensor(struct sh *s, struct od_shape *v, const struct od_tensor *t, bool constant)
{
	v->kind = OD_TYPE_TENSOR;
	v->dtype = t->dtype;
	v->rank = t->ndims;
	v->dims = od_arena_alloc(s->a, (size_t)(t->ndims + 1) * sizeof *v->dims);
	if (!v->dims)
		return OD_ENOMEM;
	for (int d = 0; d < t->ndims; d++)
		v->dims[d] = sh_d(t->dims[d]);
	if (!constant || !t->data)
		return 0;
	v->constant = t;
	bool integral = sh_is_int(t->dtype) || od_dtype_is_float(t->dtype);
	if (!integral || t->ndims > 1 || t->numel > SH_VALUE_MAX)
		return 0;
	struct od_dim *val = od_arena_alloc(s->a, (size_t)(t->numel + 1) * sizeof *val);
	if (!val)
		return OD_ENOMEM;
	for (int64_t i = 0; i < t->numel; i++) {
		int64_t si;
		uint64_t ui;
		if (od_tensor_get_int(t, i, &si, &ui)) {        /* exactly: torch's INT64_MAX ends */
			if (od_dtype_is_unsigned(t->dtype) && ui > INT64_MAX)
				return 0;
			val[i] = (struct od_dim){od_dtype_is_unsigned(t->dtype) ? (int64_t)ui : si, NULL};
			continue;
		}
		double x = od_tensor_get_f64(t, i);
		if (x != x || x < -9.0e15 || x > 9.0e15 || x != (double)(int64_t)x)
			return 0;       /* only integral values take part in shape arithmetic */
		val[i] = (struct od_dim){(int64_t)x, NULL};
	}
	v->value = val;
	v->n_value = (int)t->numel;
	return 0;
}

static int from_decl(struct sh *s, struct od_shape *v, const struct od_value *d)
{
	v->kind = d->kind;
	v->dtype = d->dtype;
	v->rank = d->kind == OD_TYPE_TENSOR || d->kind == OD_TYPE_SPARSE_TENSOR ? d->rank : -1;
	if (v->rank < 0)
		return 0;
	v->dims = od_arena_alloc(s->a, (size_t)(v->rank + 1) * sizeof *v->dims);
	if (!v->dims)
		return OD_ENOMEM;
	for (int i = 0; i < v->rank; i++)
		v->dims[i] = d->dims[i].value >= 0 ? sh_d(d->dims[i].value) :
		             (struct od_dim){-1, d->dims[i].param && *d->dims[i].param ? d->dims[i].param : NULL};
	return 0;
}

/* ---- dims ------------------------------------------------------------------------------------- */

bool sh_dim_eq(struct od_dim a, struct od_dim b)
{
	if (sh_known(a) || sh_known(b))
		return a.value == b.value;
	return a.param && b.param && !strcmp(a.param, b.param);
}

struct od_dim sh_dim_mul(struct od_dim a, struct od_dim b)
{
	int64_t r;
	if (sh_known(a) && sh_known(b))
		return sh_mul(a.value, b.value, &r) ? SH_UNK : sh_d(r);
	if (a.value == 0 || b.value == 0)
		return sh_d(0);
	if (a.value == 1)
		return b;
	if (b.value == 1)
		return a;
	return SH_UNK;
}

struct od_dim sh_dim_bcast(struct od_dim a, struct od_dim b, bool *bad)
{
	if (a.value == 1)
		return b;
	if (b.value == 1)
		return a;
	if (sh_known(a) && sh_known(b)) {
		if (a.value != b.value)
			*bad = true;
		return a;
	}
	if (sh_known(a))
		return a;       /* b must be a (or 1, when it is not a) */
	if (sh_known(b))
		return b;
	return a.param && b.param && !strcmp(a.param, b.param) ? a : SH_UNK;
}

struct od_dim sh_dim_to_v(struct od_dim d)
{
	return sh_known(d) ? sh_v(d.value) : d.param ? (struct od_dim){-1, d.param} : SH_VUNK;
}

struct od_dim sh_v_to_dim(struct od_dim e)
{
	if (sh_vknown(e))       /* no dim holds more than 2^40 elements: INT64_MAX is no size */
		return e.value >= 0 && e.value <= (INT64_C(1) << 40) ? sh_d(e.value) : SH_UNK;
	return *e.param ? (struct od_dim){-1, e.param} : SH_UNK;
}

/* ---- reading a node ---------------------------------------------------------------------------- */

const struct od_shape *sh_in(const struct sh_call *c, size_t i)
{
	return i < c->nin ? c->in[i] : NULL;
}

int sh_in_dtype(const struct sh_call *c, size_t i)
{
	const struct od_shape *v = sh_in(c, i);
	return v ? v->dtype : OD_UNDEFINED;
}

int sh_in_rank(const struct sh_call *c, size_t i)
{
	const struct od_shape *v = sh_in(c, i);
	return v && v->kind != OD_TYPE_SEQUENCE ? v->rank : -1;
}

int64_t sh_attr_i(const struct sh_call *c, const char *name, int64_t def)
{
	const struct od_attr *a = od_node_attr(c->n, name);
	return a && a->type == OD_ATTR_INT ? a->i : def;
}

float sh_attr_f(const struct sh_call *c, const char *name, float def)
{
	const struct od_attr *a = od_node_attr(c->n, name);
	return a && a->type == OD_ATTR_FLOAT ? a->f : def;
}

const char *sh_attr_s(const struct sh_call *c, const char *name, const char *def)
{
	const struct od_attr *a = od_node_attr(c->n, name);
	if (!a || a->type != OD_ATTR_STRING)
		return def;
	char *s = od_arena_alloc(c->s->a, a->s.len + 1);
	if (s)
		memcpy(s, a->s.data, a->s.len);
	else
		c->s->nomem = true;
	return s ? s : def;
}

const int64_t *sh_attr_ints(const struct sh_call *c, const char *name, size_t *n)
{
	const struct od_attr *a = od_node_attr(c->n, name);
	if (!a || a->type != OD_ATTR_INTS)
		return NULL;
	*n = a->n;
	return a->ints ? a->ints : (const int64_t *)"";
}

bool sh_in_ints(const struct sh_call *c, size_t i, int64_t *buf, size_t max, size_t *n)
{
	const struct od_shape *v = sh_in(c, i);
	if (!v || v->n_value < 0 || (size_t)v->n_value > max)
		return false;
	for (int k = 0; k < v->n_value; k++) {
		if (!sh_vknown(v->value[k]))
			return false;
		buf[k] = v->value[k].value;
	}
	*n = (size_t)v->n_value;
	return true;
}

int sh_ints_arg(const struct sh_call *c, const char *name, size_t i, int64_t *buf, size_t max,
                size_t *n)
{
	size_t k;
	const int64_t *a = name ? sh_attr_ints(c, name, &k) : NULL;
	if (a) {
		if (k > max)
			return -1;
		memcpy(buf, a, k * sizeof *a);
		*n = k;
		return 1;
	}
	if (!sh_in(c, i))
		return i < c->nin && *c->n->inputs[i] ? -1 : 0;
	return sh_in_ints(c, i, buf, max, n) ? 1 : -1;
}

bool sh_axis(struct sh_call *c, int64_t *axis, int rank)
{
	if (*axis < -rank || *axis >= rank) {
		sh_warn(c, "axis %lld out of range for rank %d", (long long)*axis, rank);
		return false;
	}
	if (*axis < 0)
		*axis += rank;
	return true;
}

/* ---- writing outputs ------------------------------------------------------------------------------ */

int sh_set(struct sh_call *c, size_t o, int dtype, int rank, const struct od_dim *dims)
{
	if (o >= c->nout)
		return 0;
	struct od_shape *v = &c->out[o];
	if (rank > OD_MAX_RANK) {
		sh_warn(c, "output %zu would have rank %d, above the limit of %d", o, rank, OD_MAX_RANK);
		rank = -1;
	}
	v->kind = OD_TYPE_TENSOR;
	v->dtype = dtype;
	v->rank = rank;
	v->dims = NULL;
	if (rank < 0)
		return 0;
	v->dims = od_arena_alloc(c->s->a, (size_t)(rank + 1) * sizeof *v->dims);
	if (!v->dims)
		return OD_ENOMEM;
	for (int d = 0; d < rank; d++)
		v->dims[d] = dims ? dims[d] : SH_UNK;
	return 0;
}

int sh_same(struct sh_call *c, size_t o, const struct od_shape *from, int dtype)
{
	if (!from)
		return sh_set(c, o, dtype, -1, NULL);
	int rc = sh_set(c, o, dtype, from->rank, from->dims);
	if (!rc && o < c->nout && from->kind == OD_TYPE_SEQUENCE)
		c->out[o].kind = OD_TYPE_SEQUENCE;
	return rc;
}

int sh_value(struct sh_call *c, size_t o, size_t n, const struct od_dim *v)
{
	if (o >= c->nout || n > SH_VALUE_MAX)
		return 0;
	struct od_dim *e = od_arena_alloc(c->s->a, (n + 1) * sizeof *e);
	if (!e)
		return OD_ENOMEM;
	if (n)
		memcpy(e, v, n * sizeof *e);
	c->out[o].value = e;
	c->out[o].n_value = (int)n;
	return 0;
}

int sh_broadcast(struct sh_call *c, size_t o, size_t from, size_t to, int dtype)
{
	int rank = 0;
	for (size_t i = from; i < to; i++) {
		if (!sh_in(c, i))
			continue;
		if (sh_in_rank(c, i) < 0)
			return sh_set(c, o, dtype, -1, NULL);
		rank = sh_in_rank(c, i) > rank ? sh_in_rank(c, i) : rank;
	}
	struct od_dim dims[OD_MAX_RANK + 1];
	bool bad = false;
	if (rank > OD_MAX_RANK)
		return sh_set(c, o, dtype, rank, NULL);
	for (int d = 0; d < rank; d++)
		dims[d] = sh_d(1);
	for (size_t i = from; i < to; i++) {
		const struct od_shape *v = sh_in(c, i);
		for (int d = 0; v && d < v->rank; d++)
			dims[rank - v->rank + d] = sh_dim_bcast(dims[rank - v->rank + d], v->dims[d], &bad);
	}
	if (bad) {
		char a[128], b[128];
		sh_warn(c, "inputs %s and %s do not broadcast", od_shape_text(sh_in(c, from), a, sizeof a),
		        od_shape_text(sh_in(c, from + 1), b, sizeof b));
		return sh_set(c, o, dtype, rank, NULL);
	}
	return sh_set(c, o, dtype, rank, dims);
}

/* ---- declared shapes ---------------------------------------------------------------------------- */

/* Adds what decl knows that v does not; a contradiction is a warning naming what. */
static int reconcile(struct sh *s, long slot, struct od_shape *v, const struct od_value *decl,
                     const char *what)
{
	char a[256], b[256];
	if (decl->kind == OD_TYPE_NONE)
		return 0;
	if (v->kind == OD_TYPE_NONE)
		return from_decl(s, v, decl);
	if (decl->kind != OD_TYPE_TENSOR || v->kind != OD_TYPE_TENSOR)
		return 0;
	struct od_shape d = {0};
	int rc = from_decl(s, &d, decl);
	if (rc)
		return rc;
	bool bad = v->dtype && d.dtype && v->dtype != d.dtype;
	bad |= v->rank >= 0 && d.rank >= 0 && v->rank != d.rank;
	for (int i = 0; !bad && v->rank >= 0 && i < v->rank && d.rank == v->rank; i++)
		bad = sh_known(v->dims[i]) && sh_known(d.dims[i]) && v->dims[i].value != d.dims[i].value;
	if (bad)
		return sh_warn_at(s, slot, "%s '%s' is declared %s, inferred %s", what, v->name,
		                  od_shape_text(&d, a, sizeof a), od_shape_text(v, b, sizeof b));
	if (!v->dtype)
		v->dtype = d.dtype;
	if (v->rank < 0 && d.rank >= 0) {
		v->rank = d.rank;
		v->dims = d.dims;
		return 0;
	}
	for (int i = 0; d.rank == v->rank && i < v->rank; i++)
		if (!sh_known(v->dims[i]) && (sh_known(d.dims[i]) || !v->dims[i].param))
			v->dims[i] = d.dims[i];
	return 0;
}

/* ---- nodes ------------------------------------------------------------------------------------- */

struct sh_graph_run {
	long slot;
	struct od_map decl;     /* value_info and outputs: name -> index into decls */
	const struct od_value **decls;
	const char **what;      /* "output", "value_info" for each decl */
	size_t n_decls;
};

static int infer_graph(struct sh *s, long outer, const struct od_graph *g, const char *path,
                       const struct od_shape *const *hints, size_t n_hints, long *slot_out);

/* A tensor for input v whose value is fully known (a constant, or a static small value). */
static struct od_tensor *as_tensor(struct sh *s, const struct od_shape *v)
{
	if (v->constant)
		return (struct od_tensor *)v->constant;
	if (v->n_value < 0 || v->rank < 0 || v->rank > 1 || !v->dtype || v->dtype == OD_STRING)
		return NULL;
	for (int i = 0; i < v->n_value; i++)
		if (!sh_vknown(v->value[i]))
			return NULL;
	int64_t n = v->n_value;
	struct od_tensor *t = od_tensor_new(s->a, v->name, v->dtype, v->rank, &n);
	for (int64_t i = 0; t && t->data && i < n; i++)
		od_tensor_set_f64(t, i, (double)v->value[i].value);
	if (!t || (n && !t->data))
		s->nomem = true;
	return t && (t->data || !n) ? t : NULL;
}

bool od_shape_is_constant(const struct od_shape *v)
{
	if (!v || (!v->constant && (v->n_value < 0 || v->rank < 0 || v->rank > 1 || !v->dtype ||
	                            v->dtype == OD_STRING || v->kind != OD_TYPE_TENSOR)))
		return false;
	for (int i = 0; !v->constant && i < v->n_value; i++)
		if (!sh_vknown(v->value[i]))
			return false;
	return true;
}

struct od_tensor *od_shape_constant(struct od_arena *a, const struct od_shape *v, const char *name)
{
	if (!od_shape_is_constant(v))
		return NULL;
	if (v->constant) {
		struct od_tensor *t = od_tensor_clone(a, v->constant);
		if (t) {
			t->name = od_arena_strdup(a, name);
			t->src = NULL;
			t->data_dirty = true;
		}
		return t && t->name ? t : NULL;
	}
	int64_t n = v->n_value;
	struct od_tensor *t = od_tensor_new(a, name, v->dtype, v->rank, &n);
	for (int64_t i = 0; t && t->data && i < n; i++)
		od_tensor_set_f64(t, i, (double)v->value[i].value);
	return t && t->data ? t : NULL;
}

/* Evaluates a node whose inputs are small constants; true when it did. */
static int try_eval(struct sh_call *c, bool *done)
{
	struct od_tensor *ins[16] = {0}, *outs[16] = {0};
	struct od_ctx ectx = {0};
	int64_t total = 0;
	*done = false;
	if (c->nin > 16 || c->nout > 16 || !od_eval_has_kernel(c->n->domain, c->n->op_type, c->opset))
		return 0;
	for (size_t i = 0; i < c->nin; i++) {
		if (!*c->n->inputs[i])
			continue;
		if (!c->in[i] || !(ins[i] = as_tensor(c->s, c->in[i])))
			return 0;
		total += ins[i]->numel;
		if (total > SH_EVAL_MAX)
			return 0;
	}
	int rc = od_eval_node(c->n, c->opset, ins, outs, SH_EVAL_MAX, c->s->a, &ectx);
	if (rc == OD_ENOMEM)
		return rc;
	if (rc)
		return 0;
	for (size_t o = 0; o < c->nout; o++)
		if (outs[o] && (rc = from_tensor(c->s, &c->out[o], outs[o], true)))
			return rc;
	*done = true;
	return 0;
}

/* Subgraphs of n its handler did not infer: with what they declare. */
static int infer_rest(struct sh_call *c)
{
	for (size_t k = 0; k < c->n->n_attrs; k++) {
		const struct od_attr *at = &c->n->attrs[k];
		size_t cnt = at->type == OD_ATTR_GRAPH ? (at->g != NULL) : at->type == OD_ATTR_GRAPHS ? at->n : 0;
		for (size_t j = 0; j < cnt; j++) {
			const struct od_graph *sg = at->type == OD_ATTR_GRAPH ? at->g : at->graphs[j];
			if (slot_of(c->s->res, sg) >= 0)
				continue;
			int rc = sh_infer_subgraph(c, sg, at->name, NULL, 0, NULL);
			if (rc)
				return rc;
		}
	}
	return 0;
}

int sh_infer_subgraph(struct sh_call *c, const struct od_graph *g, const char *attr,
                      const struct od_shape *const *hints, size_t n_hints,
                      const struct od_shape ***outs)
{
	const char *path = od_arena_printf(c->s->a, "%s/%s:%s", c->s->res->graphs[c->slot].path,
	                                   *c->n->name ? c->n->name : c->n->op_type, attr);
	long slot;
	if (!path)
		return OD_ENOMEM;
	int rc = infer_graph(c->s, c->slot, g, path, hints, n_hints, &slot);
	if (rc || !outs)
		return rc;
	const struct od_shape **o = od_arena_alloc(c->s->a, (g->n_outputs + 1) * sizeof *o);
	if (!o)
		return OD_ENOMEM;
	for (size_t i = 0; i < g->n_outputs; i++)
		o[i] = find_in(c->s->res, slot, g->outputs[i]->name);
	*outs = o;
	return 0;
}

static int64_t opset_of(struct sh *s, const char *domain)
{
	return !*domain || !strcmp(domain, "ai.onnx") ? s->opset : od_model_opset(s->m, domain);
}

static int infer_node(struct sh *s, struct sh_graph_run *gr, const struct od_node *n)
{
	struct od_shape out_buf[8];
	const struct od_shape *in_buf[8];
	struct sh_call c = {.s = s, .slot = gr->slot, .n = n, .opset = opset_of(s, n->domain),
	                    .nin = n->n_inputs, .nout = n->n_outputs};
	c.in = n->n_inputs <= 8 ? in_buf : od_malloc(n->n_inputs * sizeof *c.in);
	c.out = n->n_outputs <= 8 ? out_buf : od_malloc(n->n_outputs * sizeof *c.out);
	int rc = !c.in || !c.out ? OD_ENOMEM : 0;
	for (size_t i = 0; !rc && i < n->n_inputs; i++)
		c.in[i] = *n->inputs[i] ? find_in(s->res, gr->slot, n->inputs[i]) : NULL;
	for (size_t o = 0; !rc && o < n->n_outputs; o++)
		c.out[o] = (struct od_shape){.rank = -1, .n_value = -1};
	bool onnx = !*n->domain || !strcmp(n->domain, "ai.onnx");
	const struct sh_entry *e = onnx ? sh_lookup(n->op_type) : NULL;
	bool done = false;
	if (!rc && onnx)
		rc = try_eval(&c, &done);
	if (!rc && !done && e)
		rc = e->fn(&c);
	if (!rc)
		rc = infer_rest(&c);
	for (size_t o = 0; !rc && o < n->n_outputs; o++) {
		if (!*n->outputs[o])
			continue;
		struct od_shape *v = define(s, gr->slot, n->outputs[o]);
		size_t k;
		if (!v) {
			rc = OD_ENOMEM;
			break;
		}
		c.out[o].name = v->name;
		*v = c.out[o];
		if (od_map_get(&gr->decl, v->name, &k))
			rc = reconcile(s, gr->slot, v, gr->decls[k], gr->what[k]);
	}
	if (c.in != in_buf)
		od_free(c.in);
	if (c.out != out_buf)
		od_free(c.out);
	return rc;
}

/* ---- graphs -------------------------------------------------------------------------------------- */

static int add_decl(struct sh_graph_run *gr, const struct od_value *v, const char *what)
{
	int rc = od_map_put(&gr->decl, v->name, gr->n_decls);
	if (rc < 0)
		return rc;
	if (rc == 0) {
		gr->decls[gr->n_decls] = v;
		gr->what[gr->n_decls++] = what;
	}
	return 0;
}

/* Merges a hint (what the enclosing node passes in) into a declared graph input: the hint's
 * type, with the dims the declaration knows better. */
static int merge_hint(struct sh *s, struct od_shape *v, const struct od_shape *h)
{
	if (!h || h->kind == OD_TYPE_NONE)
		return 0;
	if (v->kind != OD_TYPE_NONE && v->rank >= 0 && (h->rank != v->rank || h->kind != v->kind)) {
		v->dtype = v->dtype ? v->dtype : h->dtype;
		return 0;
	}
	int rank = v->rank;
	const struct od_dim *decl = v->dims;
	struct od_dim *dims = h->rank >= 0 ? od_arena_alloc(s->a, (size_t)(h->rank + 1) * sizeof *dims) : NULL;
	if (h->rank >= 0 && !dims)
		return OD_ENOMEM;
	for (int i = 0; i < h->rank; i++)
		dims[i] = !sh_known(h->dims[i]) && rank == h->rank && (sh_known(decl[i]) || decl[i].param) ?
		          decl[i] : h->dims[i];
	v->kind = h->kind;
	v->dtype = h->dtype ? h->dtype : v->dtype;
	v->rank = h->rank;
	v->dims = dims;
	return 0;
}

static int graph_inputs(struct sh *s, long slot, const struct od_graph *g,
                        const struct od_shape *const *hints, size_t n_hints)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < g->n_inputs; i++) {
		struct od_shape *v = define(s, slot, g->inputs[i]->name);
		rc = v ? from_decl(s, v, g->inputs[i]) : OD_ENOMEM;
		const struct od_tensor *t = rc ? NULL : od_graph_find_init(g, v->name);
		/* before IR 4 every initializer is listed as an input too: a constant, not a default */
		if (t && (v->rank < 0 || s->m->ir_version < 4))
			rc = from_tensor(s, v, t, s->m->ir_version < 4);
		if (!rc && i < n_hints)
			rc = merge_hint(s, v, hints[i]);
	}
	for (size_t i = 0; !rc && i < g->n_inits; i++) {
		if (od_graph_find_input(g, g->inits[i]->name))
			continue;
		struct od_shape *v = define(s, slot, g->inits[i]->name);
		rc = v ? from_tensor(s, v, g->inits[i], true) : OD_ENOMEM;
	}
	return rc;
}

static int graph_run_init(struct sh_graph_run *gr, const struct od_graph *g)
{
	size_t n = g->n_value_info + g->n_outputs + 1;
	gr->decls = od_malloc(n * sizeof *gr->decls);
	gr->what = od_malloc(n * sizeof *gr->what);
	int rc = !gr->decls || !gr->what || od_map_init(&gr->decl, n) ? OD_ENOMEM : 0;
	for (size_t i = 0; !rc && i < g->n_outputs; i++)
		rc = add_decl(gr, g->outputs[i], "output");
	for (size_t i = 0; !rc && i < g->n_value_info; i++)
		rc = add_decl(gr, g->value_info[i], "value_info");
	return rc;
}

static int new_slot(struct sh *s, long outer, const struct od_graph *g, const char *path, long *out)
{
	struct od_shapes *r = s->res;
	if (r->n_graphs == s->p->cap_graphs)
		return od_error(s->ctx, OD_EGRAPH, "a graph is used by more than one node");
	long slot = (long)r->n_graphs;
	size_t n = g->n_inputs + g->n_inits + node_outputs(g) + 1;
	const char *key = ptr_key(s, g);
	r->graphs[slot] = (struct od_shape_graph){.g = g, .path = path};
	r->graphs[slot].values = od_arena_alloc(s->a, n * sizeof *r->graphs[slot].values);
	s->p->g[slot].outer = outer;
	if (!key || !r->graphs[slot].values || od_map_init(&s->p->g[slot].idx, n))
		return OD_ENOMEM;
	r->n_graphs++;
	int rc = od_map_put(&s->p->by_ptr, key, (size_t)slot);
	if (rc == 1)
		return od_error(s->ctx, OD_EGRAPH, "a graph is used by more than one node");
	*out = slot;
	return rc < 0 ? OD_ENOMEM : 0;
}

static int infer_graph(struct sh *s, long outer, const struct od_graph *g, const char *path,
                       const struct od_shape *const *hints, size_t n_hints, long *slot_out)
{
	struct sh_graph_run gr = {0};
	size_t *order = NULL;
	int rc = new_slot(s, outer, g, path, &gr.slot);
	if (!rc)
		rc = graph_inputs(s, gr.slot, g, hints, n_hints);
	if (!rc)
		rc = graph_run_init(&gr, g);
	if (!rc)
		rc = od_graph_topo_order(g, &order, s->ctx);
	for (size_t i = 0; !rc && i < g->n_nodes; i++)
		rc = infer_node(s, &gr, g->nodes[order[i]]);
	/* graph inputs and outputs a node does not produce: checked against their declaration */
	for (size_t i = 0; !rc && i < g->n_outputs; i++) {
		struct od_shape *v = find_in(s->res, gr.slot, g->outputs[i]->name);
		if (v && v->kind == OD_TYPE_NONE)
			rc = reconcile(s, gr.slot, v, g->outputs[i], "output");
	}
	if (gr.decls)
		od_map_done(&gr.decl);
	od_free(gr.decls);
	od_free(gr.what);
	od_free(order);
	*slot_out = gr.slot;
	return rc;
}

int od_shapes_infer(const struct od_model *m, struct od_shapes **out, struct od_ctx *ctx)
{
	struct od_shapes *r = NULL;
	struct sh_priv *p = od_calloc(1, sizeof *p);
	struct od_arena *a = od_arena_new();
	struct sh s = {.m = m, .p = p, .a = a, .ctx = ctx, .opset = od_model_opset(m, "")};
	long slot;
	*out = NULL;
	if (!p || !a || !(r = od_arena_alloc(a, sizeof *r))) {
		od_free(p);
		od_arena_free(a);
		return od_error(ctx, OD_ENOMEM, "out of memory");
	}
	r->arena = a;
	r->priv = p;
	s.res = r;
	p->cap_graphs = 1 + od_graph_count_subgraphs(m->graph);
	for (size_t i = 0; i < m->n_functions; i++)
		p->cap_graphs += 1 + od_graph_count_subgraphs(m->functions[i]->body);
	r->graphs = od_arena_alloc(a, p->cap_graphs * sizeof *r->graphs);
	p->g = od_calloc(p->cap_graphs, sizeof *p->g);
	int rc = !r->graphs || !p->g || od_map_init(&p->by_ptr, p->cap_graphs) ? OD_ENOMEM : 0;
	if (!rc)
		rc = infer_graph(&s, -1, m->graph, "graph", NULL, 0, &slot);
	for (size_t i = 0; !rc && i < m->n_functions; i++) {
		const struct od_function *f = m->functions[i];
		const char *path = od_arena_printf(a, "function %s%s%s", f->domain, *f->domain ? "::" : "", f->name);
		rc = path ? infer_graph(&s, -1, f->body, path, NULL, 0, &slot) : OD_ENOMEM;
	}
	if (!rc && s.nomem)
		rc = OD_ENOMEM;
	if (rc) {
		if (rc == OD_ENOMEM)
			od_error(ctx, rc, "out of memory");
		od_shapes_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void od_shapes_free(struct od_shapes *s)
{
	if (!s)
		return;
	struct sh_priv *p = s->priv;
	for (size_t i = 0; p && p->g && i < s->n_graphs; i++)
		od_map_done(&p->g[i].idx);
	if (p) {
		od_free(p->g);
		od_map_done(&p->by_ptr);
		od_free(p);
	}
	od_arena_free(s->arena);
}
