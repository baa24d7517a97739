/*
 * run.c — the graph executor. A frame evaluates one graph: a slot per value (graph inputs,
 * initializers, node outputs) found through a name map, read counts per slot (a node's
 * inputs and the outer names its subgraphs read), and an arena per node that holds its
 * outputs and goes when the last of them has been read for the last time. Graph outputs
 * are never released; the caller gets copies. If, Loop and Scan run their bodies in child
 * frames that look names up through their parents.
 */
#include "config.h"
#include <cblas.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "run.h"
#include "eval.h"
#include "internal.h"

#define NO_OWNER SIZE_MAX

struct slot {
	struct od_tensor *t;    /* NULL until produced */
	size_t refs;            /* reads still to come; graph outputs hold one for ever */
	size_t owner;           /* node whose arena holds t, NO_OWNER for inputs/initializers */
};

struct frame {
	const struct od_graph *g;
	const struct frame *parent;
	const struct od_model *m;
	struct od_map names;    /* value name -> slot */
	struct slot *slots;     /* malloc'd */
	size_t n_slots;
	struct od_arena **arenas; /* per node, NULL when gone or not yet made */
	size_t *live;           /* per node: outputs whose slots still have readers */
	size_t **reads;         /* per node: slots it reads (inputs and subgraph refs), malloc'd */
	size_t *n_reads;
	const struct od_run_opts *opts; /* on_node for the main graph only */
	struct od_ctx *ctx;
	size_t *bytes;          /* per node: bytes of the outputs its arena holds */
	struct meter *meter;    /* shared with the frames of subgraphs */
};

/* Bytes of node outputs alive at once: now, and the most so far; and the most elements
 * one output may have (shared with the frames of subgraphs). */
struct meter {
	size_t live, peak;
	int64_t max_numel;
};

/* Node k's arena goes, and with it the bytes of its outputs. */
static void drop_arena(struct frame *f, size_t k)
{
	od_arena_free(f->arenas[k]);
	f->arenas[k] = NULL;
	f->meter->live -= f->bytes[k];
	f->bytes[k] = 0;
}

static int frame_run(struct frame *f, struct od_ctx *ctx);

/* ---- slots ------------------------------------------------------------------------------ */

static int add_slot(struct frame *f, const char *name, struct od_tensor *t)
{
	int rc = od_map_put(&f->names, name, f->n_slots);
	if (rc < 0)
		return rc;
	if (rc == 1) {                  /* a feed or node output over an initializer default */
		size_t i;
		od_map_get(&f->names, name, &i);
		if (t)
			f->slots[i].t = t;
		return 0;
	}
	f->slots[f->n_slots++] = (struct slot){ t, 0, NO_OWNER };
	return 0;
}

/* The value of name in f or the frames around it; NULL when unknown or not yet made. */
static struct od_tensor *lookup(const struct frame *f, const char *name)
{
	for (size_t i; f; f = f->parent)
		if (od_map_get(&f->names, name, &i))
			return f->slots[i].t;
	return NULL;
}

struct reads {
	struct frame *f;
	size_t node;
};

static int add_read(const char *name, void *priv)
{
	struct reads *r = priv;
	struct frame *f = r->f;
	size_t i, n = f->n_reads[r->node];
	if (!od_map_get(&f->names, name, &i))
		return 0;                   /* from an enclosing graph, or local to the subgraph */
	size_t *v = od_realloc(f->reads[r->node], (n + 1) * sizeof *v);
	if (!v)
		return -1;
	v[n] = i;
	f->reads[r->node] = v;
	f->n_reads[r->node] = n + 1;
	f->slots[i].refs++;
	return 0;
}

static int count_reads(struct frame *f)
{
	const struct od_graph *g = f->g;
	for (size_t k = 0; k < g->n_nodes; k++) {
		const struct od_node *n = g->nodes[k];
		struct reads r = { f, k };
		for (size_t j = 0; j < n->n_inputs; j++)
			if (*n->inputs[j] && add_read(n->inputs[j], &r))
				return OD_ENOMEM;
		if (od_node_each_subgraph_ref(n, add_read, &r))
			return OD_ENOMEM;
	}
	for (size_t k = 0; k < g->n_outputs; k++) {
		size_t i;
		if (od_map_get(&f->names, g->outputs[k]->name, &i))
			f->slots[i].refs++;
	}
	return 0;
}

/* Sets up f for graph g: inputs bound to ins (n_ins of them, in order), initializers,
 * node output slots, read counts. */
static int frame_init(struct frame *f, const struct od_graph *g, struct od_tensor *const *ins,
                      size_t n_ins)
{
	size_t values = g->n_inputs + g->n_inits;
	for (size_t k = 0; k < g->n_nodes; k++)
		values += g->nodes[k]->n_outputs;
	f->g = g;
	f->slots = od_calloc(values + 1, sizeof *f->slots);
	f->arenas = od_calloc(g->n_nodes + 1, sizeof *f->arenas);
	f->live = od_calloc(g->n_nodes + 1, sizeof *f->live);
	f->reads = od_calloc(g->n_nodes + 1, sizeof *f->reads);
	f->n_reads = od_calloc(g->n_nodes + 1, sizeof *f->n_reads);
	f->bytes = od_calloc(g->n_nodes + 1, sizeof *f->bytes);
	if (!f->slots || !f->arenas || !f->live || !f->reads || !f->n_reads || !f->bytes ||
	    od_map_init(&f->names, values))
		return OD_ENOMEM;
	int rc = 0;
	for (size_t k = 0; !rc && k < g->n_inits; k++)
		rc = add_slot(f, g->inits[k]->name, g->inits[k]);
	for (size_t k = 0; !rc && k < g->n_inputs; k++)
		rc = add_slot(f, g->inputs[k]->name, k < n_ins ? ins[k] : NULL);
	for (size_t k = 0; !rc && k < g->n_nodes; k++)
		for (size_t j = 0; !rc && j < g->nodes[k]->n_outputs; j++)
			if (*g->nodes[k]->outputs[j])
				rc = add_slot(f, g->nodes[k]->outputs[j], NULL);
	return rc ? rc : count_reads(f);
}

static void frame_done(struct frame *f)
{
	for (size_t k = 0; f->g && k < f->g->n_nodes; k++) {
		if (f->bytes)
			drop_arena(f, k);
		else
			od_arena_free(f->arenas[k]);
		od_free(f->reads[k]);
	}
	od_free(f->bytes);
	od_free(f->slots);
	od_free(f->arenas);
	od_free(f->live);
	od_free(f->reads);
	od_free(f->n_reads);
	od_map_done(&f->names);
}

/* Node k's reads are done: slots nobody reads any more give their node's arena back
 * once all of its outputs are unread. */
static void release_reads(struct frame *f, size_t k)
{
	for (size_t j = 0; j < f->n_reads[k]; j++) {
		struct slot *s = &f->slots[f->reads[k][j]];
		if (--s->refs || s->owner == NO_OWNER)
			continue;
		s->t = NULL;
		if (!--f->live[s->owner])
			drop_arena(f, s->owner);
	}
}

/* ---- errors ----------------------------------------------------------------------------- */

static const char *node_name(const struct od_node *n)
{
	return n->name && *n->name ? n->name : n->outputs && n->n_outputs ? n->outputs[0] : "";
}

static int no_kernel(struct od_ctx *ctx, const struct od_node *n)
{
	const char *d = n->domain && *n->domain && strcmp(n->domain, "ai.onnx") ? n->domain : "";
	return od_error(ctx, OD_EUNSUPPORTED, "no kernel for %s%s%s (node '%s')", d,
	                *d ? "::" : "", n->op_type, node_name(n));
}

/* "node '/Add' (Add): <what the kernel said>" */
static int node_error(struct od_ctx *ctx, int rc, const struct od_node *n)
{
	char detail[sizeof ctx->msg];
	snprintf(detail, sizeof detail, "%s", ctx->msg);
	return od_error(ctx, rc, "node '%s' (%s): %s", node_name(n), n->op_type, detail);
}

/* ---- If and Loop ------------------------------------------------------------------------ */

static const struct od_graph *graph_attr(const struct od_node *n, const char *name)
{
	const struct od_attr *at = od_node_attr(n, name);
	return at && at->type == OD_ATTR_GRAPH ? at->g : NULL;
}

/* Runs body g in a child frame of f on ins; copies its outputs into arena a. */
static int run_body(const struct frame *f, const struct od_graph *g, struct od_tensor *const *ins,
                    size_t n_ins, struct od_arena *a, struct od_tensor **outs, struct od_ctx *ctx)
{
	struct frame c = { .parent = f, .m = f->m, .meter = f->meter };
	int rc = frame_init(&c, g, ins, n_ins);
	if (rc)
		rc = od_error(ctx, rc, "out of memory");
	else if (!(rc = frame_run(&c, ctx)))
		for (size_t k = 0; !rc && k < g->n_outputs; k++) {
			struct od_tensor *t = lookup(&c, g->outputs[k]->name);
			if (!t)
				rc = od_error(ctx, OD_EGRAPH, "subgraph output '%s' not computed",
				              g->outputs[k]->name);
			else if (!(outs[k] = od_tensor_clone(a, t)))
				rc = od_error(ctx, OD_ENOMEM, "out of memory");
		}
	frame_done(&c);
	return rc;
}

static bool truth(const struct od_tensor *t)
{
	return t && t->numel >= 1 && od_tensor_get_f64(t, 0) != 0;
}

static int run_if(const struct frame *f, const struct od_node *n, struct od_tensor *const *ins,
                  struct od_arena *a, struct od_tensor **outs, struct od_ctx *ctx)
{
	if (n->n_inputs < 1 || !ins[0] || ins[0]->numel != 1)
		return od_error(ctx, OD_EVALUE, "condition must be one value");
	const struct od_graph *g = graph_attr(n, truth(ins[0]) ? "then_branch" : "else_branch");
	if (!g || g->n_outputs != n->n_outputs)
		return od_error(ctx, OD_EGRAPH, "branch missing or with %zu outputs for %zu",
		                g ? g->n_outputs : 0, n->n_outputs);
	return run_body(f, g, NULL, 0, a, outs, ctx);
}

/* Stacks parts[0..n) (one shape and dtype) along a new axis at axis (0..rank) into arena
 * a, last part first when rev. With no parts the result is [0] of dtype. */
static struct od_tensor *stack(struct od_arena *a, struct od_tensor **parts, size_t n, int axis,
                               bool rev, int dtype)
{
	int64_t dims[OD_MAX_RANK + 1] = { (int64_t)n };
	int nd = 1;
	if (n) {
		const struct od_tensor *p = parts[0];
		size_t esz = od_dtype_size(p->dtype);
		if (p->ndims >= OD_MAX_RANK || axis < 0 || axis > p->ndims || !esz || p->nbytes != (size_t)p->numel * esz)
			return NULL;            /* strings and 4-bit types are not stacked */
		for (size_t i = 1; i < n; i++)
			if (parts[i]->dtype != p->dtype || parts[i]->ndims != p->ndims ||
			    memcmp(parts[i]->dims, p->dims, (size_t)p->ndims * sizeof *p->dims))
				return NULL;
		memcpy(dims, p->dims, (size_t)axis * sizeof *dims);
		dims[axis] = (int64_t)n;
		memcpy(dims + axis + 1, p->dims + axis, (size_t)(p->ndims - axis) * sizeof *dims);
		nd = p->ndims + 1;
	}
	struct od_tensor *t = od_tensor_new(a, "", n ? parts[0]->dtype : dtype, nd, dims);
	if (!t || !n)
		return t;
	size_t outer = 1, inner = od_dtype_size(t->dtype);
	for (int d = 0; d < axis; d++)
		outer *= (size_t)dims[d];
	for (int d = axis + 1; d < nd; d++)
		inner *= (size_t)dims[d];
	for (size_t i = 0; i < n; i++) {
		const char *src = parts[rev ? n - 1 - i : i]->data;
		for (size_t o = 0; o < outer; o++)
			memcpy((char *)t->data + (o * n + i) * inner, src + o * inner, inner);
	}
	return t;
}

/* Element idx of t along axis: a tensor of one rank less in arena a (NULL for strings and
 * 4-bit types, or out of memory). */
static struct od_tensor *slice_axis(struct od_arena *a, const struct od_tensor *t, int axis, int64_t idx)
{
	int64_t dims[OD_MAX_RANK];
	size_t esz = od_dtype_size(t->dtype), outer = 1, inner = esz;
	if (!esz || t->nbytes != (size_t)t->numel * esz)
		return NULL;
	for (int d = 0, k = 0; d < t->ndims; d++)
		if (d != axis)
			dims[k++] = t->dims[d];
	for (int d = 0; d < axis; d++)
		outer *= (size_t)t->dims[d];
	for (int d = axis + 1; d < t->ndims; d++)
		inner *= (size_t)t->dims[d];
	struct od_tensor *s = od_tensor_new(a, "", t->dtype, t->ndims - 1, dims);
	size_t len = (size_t)t->dims[axis];
	for (size_t o = 0; s && o < outer; o++)
		memcpy((char *)s->data + o * inner, (const char *)t->data + (o * len + (size_t)idx) * inner, inner);
	return s;
}

struct loop {
	size_t n_carried, n_scan;
	struct od_tensor **state;   /* iter, cond, carried... (body inputs) */
	struct od_tensor **res;     /* cond, carried..., scan... (body outputs) */
	struct od_tensor ***scans;  /* per scan output: one value per iteration */
	size_t cap;
};

static int loop_step(struct loop *L, size_t iter)
{
	if (iter == L->cap) {
		L->cap = L->cap ? 2 * L->cap : 16;
		for (size_t s = 0; s < L->n_scan; s++) {
			struct od_tensor **v = od_realloc(L->scans[s], L->cap * sizeof *v);
			if (!v)
				return OD_ENOMEM;
			L->scans[s] = v;
		}
	}
	for (size_t s = 0; s < L->n_scan; s++)
		L->scans[s][iter] = L->res[1 + L->n_carried + s];
	return 0;
}

static int loop_iterate(const struct frame *f, const struct od_graph *body, struct loop *L,
                        int64_t max_iter, struct od_arena *keep, size_t *iters,
                        struct od_ctx *ctx)
{
	/* Carried values of one iteration live in an arena that goes two iterations later;
	 * scan values stay in keep until they are stacked. */
	struct od_arena *cur = NULL, *prev = NULL;
	int rc = 0;
	size_t i = 0;
	for (; (max_iter < 0 || (int64_t)i < max_iter) && truth(L->state[1]); i++) {
		od_arena_free(prev);
		prev = cur;
		if (!(cur = od_arena_new()) || !(L->state[0] = od_tensor_new(cur, "", OD_INT64, 0, NULL))) {
			rc = od_error(ctx, OD_ENOMEM, "out of memory");
			break;
		}
		((int64_t *)L->state[0]->data)[0] = (int64_t)i;
		if ((rc = run_body(f, body, L->state, 2 + L->n_carried, cur, L->res, ctx)))
			break;
		for (size_t s = 0; s < L->n_scan; s++)
			if (!(L->res[1 + L->n_carried + s] = od_tensor_clone(keep, L->res[1 + L->n_carried + s])))
				rc = OD_ENOMEM;
		if (rc || (rc = loop_step(L, i))) {
			rc = od_error(ctx, OD_ENOMEM, "out of memory");
			break;
		}
		L->state[1] = L->res[0];
		memcpy(L->state + 2, L->res + 1, L->n_carried * sizeof *L->state);
	}
	*iters = i;
	/* The final carried values are copied out by the caller before these go. */
	if (!rc)
		for (size_t k = 0; k < L->n_carried; k++)
			if (!(L->state[2 + k] = od_tensor_clone(keep, L->state[2 + k])))
				rc = od_error(ctx, OD_ENOMEM, "out of memory");
	od_arena_free(prev);
	od_arena_free(cur);
	return rc;
}

static int run_loop(const struct frame *f, const struct od_node *n, struct od_tensor *const *ins,
                    struct od_arena *a, struct od_tensor **outs, struct od_ctx *ctx)
{
	const struct od_graph *body = graph_attr(n, "body");
	if (!body || n->n_inputs < 2 || body->n_inputs != n->n_inputs ||
	    body->n_outputs != n->n_outputs + 1 || n->n_outputs < n->n_inputs - 2)
		return od_error(ctx, OD_EGRAPH, "Loop body does not match the node's inputs and outputs");
	struct loop L = { .n_carried = n->n_inputs - 2 };
	L.n_scan = n->n_outputs - L.n_carried;
	int64_t max_iter = ins[0] ? (int64_t)od_tensor_get_f64(ins[0], 0) : -1;
	static bool yes = true;
	struct od_tensor always = { .name = "", .dtype = OD_BOOL, .numel = 1, .data = &yes, .nbytes = 1 };
	struct od_arena *keep = od_arena_new();
	L.state = od_calloc(n->n_inputs + 1, sizeof *L.state);
	L.res = od_calloc(body->n_outputs + 1, sizeof *L.res);
	L.scans = od_calloc(L.n_scan + 1, sizeof *L.scans);
	size_t iters = 0;
	int rc = keep && L.state && L.res && L.scans ? 0 : od_error(ctx, OD_ENOMEM, "out of memory");
	if (!rc) {
		L.state[1] = ins[1] ? ins[1] : &always;
		memcpy(L.state + 2, ins + 2, L.n_carried * sizeof *L.state);
		rc = loop_iterate(f, body, &L, max_iter, keep, &iters, ctx);
	}
	for (size_t k = 0; !rc && k < L.n_carried; k++)
		if (!(outs[k] = od_tensor_clone(a, L.state[2 + k])))
			rc = od_error(ctx, OD_ENOMEM, "out of memory");
	for (size_t s = 0; !rc && s < L.n_scan; s++) {
		const struct od_value *v = body->outputs[1 + L.n_carried + s];
		outs[L.n_carried + s] = stack(a, L.scans[s], iters, 0, false, v->dtype);
		if (!outs[L.n_carried + s])
			rc = od_error(ctx, OD_EVALUE, "scan output %zu cannot be stacked", s);
	}
	for (size_t s = 0; L.scans && s < L.n_scan; s++)
		od_free(L.scans[s]);
	od_free(L.scans);
	od_free(L.state);
	od_free(L.res);
	od_arena_free(keep);
	return rc;
}

/* ---- Scan ------------------------------------------------------------------------------- */

struct scan {
	const struct od_graph *body;
	size_t n_state, n_in, n_out;        /* state variables, scan inputs, scan outputs */
	int64_t *in_axis, *in_rev, *out_axis, *out_rev;
};

/* Runs sc's body iters times: states from state0, the i-th slice of each scan input xs[j]
 * along its axis (from the end when reversed); outs gets the final states and the scan
 * outputs stacked along their axes, in arena a. */
static int scan_run(const struct frame *f, const struct scan *sc, struct od_tensor *const *state0,
                    struct od_tensor *const *xs, size_t iters, struct od_arena *a,
                    struct od_tensor **outs, struct od_ctx *ctx)
{
	size_t ns = sc->n_state, ni = sc->n_in, no = sc->n_out;
	struct od_arena *keep = od_arena_new(), *cur = NULL, *prev = NULL;
	struct od_tensor **bins = od_calloc(ns + ni + 1, sizeof *bins);
	struct od_tensor **res = od_calloc(ns + no + 1, sizeof *res);
	struct od_tensor **parts = no && iters > SIZE_MAX / no / sizeof *parts ? NULL :
	                           od_calloc(iters * no + 1, sizeof *parts);
	int rc = keep && bins && res && parts ? 0 : od_error(ctx, OD_ENOMEM, "out of memory");
	if (!rc)
		memcpy(bins, state0, ns * sizeof *bins);
	for (size_t i = 0; !rc && i < iters; i++) {
		od_arena_free(prev);    /* the states of two iterations ago */
		prev = cur;
		if (!(cur = od_arena_new())) {
			rc = od_error(ctx, OD_ENOMEM, "out of memory");
			break;
		}
		for (size_t j = 0; !rc && j < ni; j++)
			if (!(bins[ns + j] = slice_axis(cur, xs[j], (int)sc->in_axis[j],
			                                (int64_t)(sc->in_rev[j] ? iters - 1 - i : i))))
				rc = od_error(ctx, OD_EVALUE, "scan input %zu (%s) cannot be sliced", j,
				              od_dtype_name(xs[j]->dtype));
		if (rc || (rc = run_body(f, sc->body, bins, ns + ni, cur, res, ctx)))
			break;
		for (size_t k = 0; !rc && k < no; k++)
			if (!(parts[k * iters + i] = od_tensor_clone(keep, res[ns + k])))
				rc = od_error(ctx, OD_ENOMEM, "out of memory");
		memcpy(bins, res, ns * sizeof *bins);
	}
	for (size_t k = 0; !rc && k < ns; k++)
		if (!(outs[k] = od_tensor_clone(a, bins[k])))
			rc = od_error(ctx, OD_ENOMEM, "out of memory");
	for (size_t k = 0; !rc && k < no; k++) {
		struct od_tensor **p = parts + k * iters;
		int rank = iters ? p[0]->ndims + 1 : 1;
		int64_t axis = sc->out_axis[k] < 0 ? sc->out_axis[k] + rank : sc->out_axis[k];
		if (axis < 0 || axis >= rank)
			rc = od_error(ctx, OD_EVALUE, "scan_output_axes[%zu] = %" PRId64 " is out of range for rank %d",
			              k, sc->out_axis[k], rank);
		else if (!(outs[ns + k] = stack(a, p, iters, (int)axis, sc->out_rev[k],
		                                sc->body->outputs[ns + k]->dtype)))
			rc = od_error(ctx, OD_EVALUE, "scan output %zu cannot be stacked (its shape changes "
			              "between iterations, or a string or 4-bit type)", k);
	}
	od_arena_free(prev);
	od_arena_free(cur);
	od_arena_free(keep);
	od_free(parts);
	od_free(res);
	od_free(bins);
	return rc;
}

/* An ints attribute of count entries, each in [lo, hi], into v (zeros when absent). */
static int scan_ints(const struct od_node *n, const char *name, int64_t *v, size_t count, int64_t lo,
                     int64_t hi, struct od_ctx *ctx)
{
	const struct od_attr *at = od_node_attr(n, name);
	if (!at)
		return 0;
	if (at->type != OD_ATTR_INTS || at->n != count)
		return od_error(ctx, OD_EVALUE, "%s must be %zu integers", name, count);
	for (size_t i = 0; i < count; i++) {
		if (at->ints[i] < lo || at->ints[i] > hi)
			return od_error(ctx, OD_EVALUE, "%s[%zu] = %" PRId64 " is out of range", name, i, at->ints[i]);
		v[i] = at->ints[i];
	}
	return 0;
}

/* Scan-8: every input has a batch axis first; the body runs per batch element, over its
 * sequence length (sequence_lens, else the whole sequence), and the scan outputs are
 * padded with zeros past it, as onnxruntime does. */
static int scan8(const struct frame *f, const struct scan *sc, struct od_tensor *const *ins,
                 struct od_arena *a, struct od_tensor **outs, struct od_ctx *ctx)
{
	size_t ns = sc->n_state, ni = sc->n_in, no = sc->n_out, nv = ns + ni;
	const struct od_tensor *lens = ins[0];
	struct od_tensor *const *v = ins + 1;
	for (size_t k = 0; k < nv; k++)
		if (!v[k] || v[k]->ndims < (k < ns ? 1 : 2) || v[k]->dims[0] != v[0]->dims[0] ||
		    (k >= ns && v[k]->dims[1] != v[ns]->dims[1]))
			return od_error(ctx, OD_EVALUE, "inputs must share the batch axis, scan inputs the sequence axis");
	size_t batch = (size_t)v[0]->dims[0], max_len = (size_t)v[ns]->dims[1];
	if (lens && (lens->dtype != OD_INT64 || lens->numel != (int64_t)batch))
		return od_error(ctx, OD_EVALUE, "sequence_lens must be int64 [%zu]", batch);
	struct od_arena *keep = od_arena_new();
	struct od_tensor **per = od_calloc((ns + no) * batch + 1, sizeof *per);
	struct od_tensor **xin = od_calloc(nv + 1, sizeof *xin), **res = od_calloc(ns + no + 1, sizeof *res);
	int rc = keep && per && xin && res ? 0 : od_error(ctx, OD_ENOMEM, "out of memory");
	for (size_t b = 0; !rc && b < batch; b++) {
		int64_t len = lens ? ((const int64_t *)lens->data)[b] : (int64_t)max_len;
		if (len < 1 || len > (int64_t)max_len) {
			rc = od_error(ctx, OD_EVALUE, "sequence_lens[%zu] = %" PRId64 " is not in 1..%zu", b, len, max_len);
			break;
		}
		struct od_arena *tmp = od_arena_new();
		for (size_t k = 0; tmp && k < nv && !rc; k++)
			if (!(xin[k] = slice_axis(tmp, v[k], 0, (int64_t)b)))
				rc = od_error(ctx, OD_EVALUE, "input %zu (%s) cannot be sliced", k + 1, od_dtype_name(v[k]->dtype));
		rc = rc ? rc : !tmp ? od_error(ctx, OD_ENOMEM, "out of memory") :
		     scan_run(f, sc, xin, xin + ns, (size_t)len, tmp, res, ctx);
		for (size_t k = 0; !rc && k < ns + no; k++) {
			struct od_tensor *t = res[k];
			if (k >= ns && (size_t)len < max_len) {        /* padded to the whole sequence */
				int64_t dims[OD_MAX_RANK];
				memcpy(dims, t->dims, (size_t)t->ndims * sizeof *dims);
				dims[0] = (int64_t)max_len;
				struct od_tensor *p = od_tensor_new(keep, "", t->dtype, t->ndims, dims);
				if (p) {
					memcpy((void *)p->data, t->data, t->nbytes);
					memset((char *)p->data + t->nbytes, 0, p->nbytes - t->nbytes);
				}
				t = p;
			} else {
				t = od_tensor_clone(keep, t);
			}
			if (!(per[k * batch + b] = t))
				rc = od_error(ctx, OD_ENOMEM, "out of memory");
		}
		od_arena_free(tmp);
	}
	for (size_t k = 0; !rc && k < ns + no; k++)
		if (!(outs[k] = stack(a, per + k * batch, batch, 0, false, sc->body->outputs[k]->dtype)))
			rc = od_error(ctx, OD_EVALUE, "output %zu cannot be stacked over the batch", k);
	od_free(res);
	od_free(xin);
	od_free(per);
	od_arena_free(keep);
	return rc;
}

static int run_scan(const struct frame *f, const struct od_node *n, int64_t opset,
                    struct od_tensor *const *ins, struct od_arena *a, struct od_tensor **outs,
                    struct od_ctx *ctx)
{
	const struct od_graph *body = graph_attr(n, "body");
	const struct od_attr *m = od_node_attr(n, "num_scan_inputs");
	size_t first = opset < 9;               /* Scan-8's sequence_lens */
	if (!body || !m || m->type != OD_ATTR_INT || m->i < 1 || (uint64_t)m->i > n->n_inputs - first)
		return od_error(ctx, OD_EGRAPH, "Scan needs a body and num_scan_inputs within its inputs");
	struct scan sc = { .body = body, .n_in = (size_t)m->i };
	sc.n_state = n->n_inputs - first - sc.n_in;
	if (n->n_outputs < sc.n_state || body->n_inputs != sc.n_state + sc.n_in ||
	    body->n_outputs != n->n_outputs)
		return od_error(ctx, OD_EGRAPH, "Scan body does not match the node's inputs and outputs");
	sc.n_out = n->n_outputs - sc.n_state;
	int64_t *buf = od_calloc(2 * (sc.n_in + sc.n_out) + 1, sizeof *buf);
	if (!buf)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	sc.in_axis = buf, sc.in_rev = buf + sc.n_in, sc.out_axis = buf + 2 * sc.n_in;
	sc.out_rev = sc.out_axis + sc.n_out;
	int rc;
	if (first) {
		rc = scan_ints(n, "directions", sc.in_rev, sc.n_in, 0, 1, ctx);
		if (!rc)
			rc = scan8(f, &sc, ins, a, outs, ctx);
		od_free(buf);
		return rc;
	}
	struct od_tensor *const *xs = ins + sc.n_state;
	rc = scan_ints(n, "scan_input_directions", sc.in_rev, sc.n_in, 0, 1, ctx);
	if (!rc)
		rc = scan_ints(n, "scan_input_axes", sc.in_axis, sc.n_in, -OD_MAX_RANK, OD_MAX_RANK - 1, ctx);
	if (!rc)
		rc = scan_ints(n, "scan_output_axes", sc.out_axis, sc.n_out, -OD_MAX_RANK - 1, OD_MAX_RANK, ctx);
	if (!rc)
		rc = scan_ints(n, "scan_output_directions", sc.out_rev, sc.n_out, 0, 1, ctx);
	int64_t iters = -1;
	for (size_t j = 0; !rc && j < sc.n_in; j++) {
		int64_t ax = sc.in_axis[j];
		if (!xs[j] || ax < -xs[j]->ndims || ax >= xs[j]->ndims) {
			rc = od_error(ctx, OD_EVALUE, "scan input %zu is missing or has no axis %" PRId64, j, ax);
			break;
		}
		sc.in_axis[j] = ax < 0 ? ax + xs[j]->ndims : ax;
		if (iters >= 0 && xs[j]->dims[sc.in_axis[j]] != iters)
			rc = od_error(ctx, OD_EVALUE, "scan inputs differ in length (%" PRId64 " and %" PRId64 ")",
			              iters, xs[j]->dims[sc.in_axis[j]]);
		iters = xs[j]->dims[sc.in_axis[j]];
	}
	for (size_t k = 0; !rc && k < sc.n_state; k++)
		if (!ins[k])
			rc = od_error(ctx, OD_EVALUE, "state variable %zu is missing", k);
	if (!rc)
		rc = scan_run(f, &sc, ins, xs, (size_t)iters, a, outs, ctx);
	od_free(buf);
	return rc;
}

/* ---- nodes ------------------------------------------------------------------------------- */

static int eval_one(struct frame *f, size_t k, struct od_tensor **ins, struct od_tensor **outs,
                    struct od_ctx *ctx)
{
	const struct od_node *n = f->g->nodes[k];
	bool std = !n->domain || !*n->domain || !strcmp(n->domain, "ai.onnx");
	int64_t opset = od_model_opset(f->m, n->domain);
	if (!(f->arenas[k] = od_arena_new()))
		return od_error(ctx, OD_ENOMEM, "out of memory");
	if (std && !strcmp(n->op_type, "If"))
		return run_if(f, n, ins, f->arenas[k], outs, ctx);
	if (std && !strcmp(n->op_type, "Loop"))
		return run_loop(f, n, ins, f->arenas[k], outs, ctx);
	if (std && !strcmp(n->op_type, "Scan"))
		return run_scan(f, n, opset, ins, f->arenas[k], outs, ctx);
	if (!od_eval_has_kernel(n->domain, n->op_type, opset))
		return no_kernel(ctx, n);
	return od_eval_node(n, opset, ins, outs, f->meter->max_numel, f->arenas[k], ctx);
}

/* Gathers node k's inputs (NULL for omitted ones). */
static int gather(const struct frame *f, const struct od_node *n, struct od_tensor **ins,
                  struct od_ctx *ctx)
{
	for (size_t j = 0; j < n->n_inputs; j++) {
		ins[j] = NULL;
		if (*n->inputs[j] && !(ins[j] = lookup(f, n->inputs[j])))
			return od_error(ctx, OD_EGRAPH, "node '%s' (%s): no value for input '%s'",
			                node_name(n), n->op_type, n->inputs[j]);
	}
	return 0;
}

/* Stores node k's outputs in their slots; those nobody reads go at once. */
static void store(struct frame *f, size_t k, struct od_tensor **outs)
{
	const struct od_node *n = f->g->nodes[k];
	for (size_t j = 0; j < n->n_outputs; j++)
		f->bytes[k] += outs[j] ? outs[j]->nbytes : 0;
	f->meter->live += f->bytes[k];
	if (f->meter->live > f->meter->peak)
		f->meter->peak = f->meter->live;
	for (size_t j = 0; j < n->n_outputs; j++) {
		size_t i;
		if (!*n->outputs[j] || !outs[j] || !od_map_get(&f->names, n->outputs[j], &i))
			continue;
		outs[j]->name = n->outputs[j];
		f->slots[i].t = outs[j];
		f->slots[i].owner = k;
		f->live[k] += f->slots[i].refs > 0;
		if (!f->slots[i].refs)
			f->slots[i].t = NULL;
	}
}

static int run_node(struct frame *f, size_t k, struct od_ctx *ctx)
{
	const struct od_node *n = f->g->nodes[k];
	struct od_tensor **ins = od_calloc(n->n_inputs + 1, sizeof *ins);
	struct od_tensor **outs = od_calloc(n->n_outputs + 1, sizeof *outs);
	int rc = ins && outs ? gather(f, n, ins, ctx) : od_error(ctx, OD_ENOMEM, "out of memory");
	if (!rc && (rc = eval_one(f, k, ins, outs, ctx)) && !strstr(ctx->msg, "no kernel for"))
		rc = node_error(ctx, rc, n);
	if (!rc && f->opts && f->opts->on_node)
		rc = f->opts->on_node(f->opts->priv, n, outs);
	if (!rc) {
		store(f, k, outs);
		if (!f->live[k])
			drop_arena(f, k);
		release_reads(f, k);
	}
	od_free(ins);
	od_free(outs);
	return rc;
}

static int frame_run(struct frame *f, struct od_ctx *ctx)
{
	size_t *order;
	int rc = od_graph_topo_order(f->g, &order, ctx);
	if (rc)
		return rc;
	for (size_t i = 0; !rc && i < f->g->n_nodes; i++)
		rc = run_node(f, order[i], ctx);
	od_free(order);
	return rc;
}

/* ---- entry points ------------------------------------------------------------------------- */

/* The CPUs this process may run on (its affinity mask, as taskset or a container's cpuset
 * leave it), else the CPUs online. */
static int cpus_usable(void)
{
	cpu_set_t set;
	if (!sched_getaffinity(0, sizeof set, &set) && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (int)n : 1;
}

#ifdef HAVE_BLAS_THREAD_SHUTDOWN_
/* OpenBLAS's, not in its cblas.h. Weak: Debian switches libopenblas.so.0 between its
 * pthread, OpenMP and serial builds (update-alternatives) after onnxdiff is built, and a
 * build without it must not stop onnxdiff from starting. */
int blas_thread_shutdown_(void) __attribute__((weak));
#endif

/* The evaluator splits products over its own threads (eval_par.c), each block a product
 * OpenBLAS computes on the thread that asks. */
void od_run_set_threads(int threads)
{
	od_eval_set_threads(threads > 0 ? threads : cpus_usable());
	openblas_set_num_threads(1);
#ifdef HAVE_BLAS_THREAD_SHUTDOWN_
	/* The threads OpenBLAS started when it was loaded spin on sched_yield() for ~0.1 s
	 * before they sleep, on CPUs the caller would rather use; with one thread asked
	 * for it never starts them again. */
	if (blas_thread_shutdown_)
		blas_thread_shutdown_();
#endif
}

struct od_run_cache *od_run_cache_new(void)
{
	return od_eval_cache_new();
}

void od_run_cache_free(struct od_run_cache *c)
{
	od_eval_cache_free(c);
}

/* The most elements one output may have: float32 values of half the memory the process
 * may use (the machine's, or its cgroup's limit when lower). A model that asks for more
 * (ConstantOfShape of a huge shape, say) is refused with an error naming the node, where
 * the kernel would otherwise fill memory the system has promised but does not have, until
 * the out-of-memory killer stops the process. */
static int64_t limit;

static void find_limit(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
	if (pages <= 0 || size <= 0)
		return;
	double bytes = (double)pages * (double)size;
	FILE *f = fopen("/sys/fs/cgroup/memory.max", "re");    /* "max" when unlimited */
	unsigned long long cg;
	if (f && fscanf(f, "%llu", &cg) == 1 && cg > 0 && (double)cg < bytes)
		bytes = (double)cg;
	if (f)
		fclose(f);
	limit = (int64_t)(bytes / 2 / sizeof(float));
}

/* Found once per process: verify and --repeat run many times. */
static int64_t output_limit(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, find_limit);
	return limit;
}

/* The feeds in graph-input order; an input without one keeps its initializer default. */
static int bind_feeds(const struct od_graph *g, const struct od_feed *feeds, size_t n_feeds,
                      struct od_tensor **ins, struct od_ctx *ctx)
{
	for (size_t k = 0; k < g->n_inputs; k++) {
		const char *name = g->inputs[k]->name;
		ins[k] = NULL;
		for (size_t j = 0; j < n_feeds && !ins[k]; j++)
			if (!strcmp(feeds[j].name, name))
				ins[k] = feeds[j].value;
		if (!ins[k] && !od_graph_find_init(g, name))
			return od_error(ctx, OD_EARG, "no value for input '%s'", name);
	}
	for (size_t j = 0; j < n_feeds; j++)
		if (!od_graph_find_input(g, feeds[j].name))
			return od_error(ctx, OD_ENOTFOUND, "input '%s' not found in graph", feeds[j].name);
	return 0;
}

int od_run(const struct od_model *m, const struct od_feed *feeds, size_t n_feeds,
           const struct od_run_opts *opts, struct od_arena *a, struct od_tensor **outs,
           struct od_ctx *ctx)
{
	struct od_ctx local = { 0 };
	if (!ctx)
		ctx = &local;           /* messages are built from earlier ones */
	if (!m || !m->graph || !a || !outs || (n_feeds && !feeds))
		return od_error(ctx, OD_EARG, "od_run: missing argument");
	const struct od_graph *g = m->graph;
	struct meter meter = { .max_numel = output_limit() };
	struct frame f = { .m = m, .opts = opts, .ctx = ctx, .meter = &meter };
	struct od_tensor **ins = od_calloc(g->n_inputs + 1, sizeof *ins);
	int rc = ins ? bind_feeds(g, feeds, n_feeds, ins, ctx) : od_error(ctx, OD_ENOMEM, "out of memory");
	od_run_set_threads(opts ? opts->threads : 0);
	struct od_source *src = NULL;
	size_t n_src = 0, cap = 0;
	if (!rc && (rc = od_model_sources(m, &src, &n_src, &cap)))
		od_error(ctx, rc, "out of memory");
	if (!rc && (rc = frame_init(&f, g, ins, g->n_inputs)))
		od_error(ctx, rc, "out of memory");
	if (!rc && opts && (rc = od_eval_cache_bind(opts->cache, m)))
		od_error(ctx, rc, "od_run: the cache was made by a run of another model");
	od_eval_set_sources(src, n_src);
	od_eval_set_cache(opts ? opts->cache : NULL);
	if (!rc)
		rc = frame_run(&f, ctx);
	od_eval_set_cache(NULL);
	od_eval_set_sources(NULL, 0);
	od_free(src);
	for (size_t k = 0; !rc && k < g->n_outputs; k++) {
		struct od_tensor *t = lookup(&f, g->outputs[k]->name);
		if (!t)
			rc = od_error(ctx, OD_EGRAPH, "output '%s' not computed", g->outputs[k]->name);
		else if (!(outs[k] = od_tensor_clone(a, t)))
			rc = od_error(ctx, OD_ENOMEM, "out of memory");
		else
			outs[k]->name = g->outputs[k]->name;
	}
	frame_done(&f);
	od_free(ins);
	if (opts && opts->stats)
		opts->stats->peak_bytes = meter.peak;
	if (rc) {
		char detail[sizeof ctx->msg];
		snprintf(detail, sizeof detail, "%s", ctx->msg);
		od_error(ctx, rc, "cannot run '%s': %s", m->path ? m->path : "model", detail);
	}
	return rc;
}
