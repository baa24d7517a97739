/*
 * freeze.c — freezing graph inputs into constants (docs/design.md "Freezing"): bind each value
 * (checked against the input's declared dtype and shape), remove the inputs, re-bind the
 * symbolic dims the values fix, fold (fold.c), validate, and report. Also od_fold_model
 * for `diff --fold`, and the summary text.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "freeze_impl.h"
#include "shape.h"

#define GROWTH_SLACK (UINT64_C(1) << 20)      /* bytes every model may grow by */
#define EVAL_MIN_NUMEL (INT64_C(1) << 24)     /* elements of one evaluated tensor: at least */
#define EVAL_MAX_NUMEL (INT64_C(1) << 28)     /* and at most */

/* ---- type texts --------------------------------------------------------------------------- */

/* The loader's canonical text, "tensor(float)[2,4]", after dims changed. */
static char *canonical_text(struct od_arena *a, const struct od_value *v)
{
	char *s = od_value_type_text(a, v);
	const char *bracket = s ? strchr(s, '[') : NULL;
	return s ? od_arena_printf(a, "tensor(%s)%s", od_dtype_name(v->dtype), bracket ? bracket : "") : NULL;
}

/* ---- the report ------------------------------------------------------------------------------ */

static struct od_freeze_report *report_new(void)
{
	struct od_arena *a = od_arena_new();
	struct od_freeze_report *r = a ? od_arena_alloc(a, sizeof *r) : NULL;
	if (!r) {
		od_arena_free(a);
		return NULL;
	}
	r->arena = a;
	return r;
}

void od_freeze_report_free(struct od_freeze_report *r)
{
	if (r)
		od_arena_free(r->arena);
}

static int report_before(struct od_freeze_report *r, const struct od_model *m)
{
	r->n_nodes_before = od_graph_count_nodes(m->graph);
	r->n_inits_before = m->graph->n_inits;
	return 0;
}

static int report_after(struct od_freeze_report *r, const struct od_model *m, uint64_t added)
{
	const struct od_graph *g = m->graph;
	r->n_nodes_after = od_graph_count_nodes(g);
	r->n_inits_after = g->n_inits;
	r->n_nodes_removed = r->n_nodes_before > r->n_nodes_after ? r->n_nodes_before - r->n_nodes_after : 0;
	r->n_inits_removed = r->n_inits_before + r->n_frozen > r->n_inits_after ?
	                     r->n_inits_before + r->n_frozen - r->n_inits_after : 0;
	r->bytes_added = added;
	const char **in = od_arena_alloc(r->arena, (g->n_inputs + 1) * sizeof *in);
	if (!in)
		return OD_ENOMEM;
	for (size_t i = 0; i < g->n_inputs; i++)
		if (!(in[i] = od_arena_strdup(r->arena, g->inputs[i]->name)))
			return OD_ENOMEM;
	r->remaining_inputs = in;
	r->n_remaining_inputs = g->n_inputs;
	return 0;
}

/* ---- binding ----------------------------------------------------------------------------------- */

struct fix {
	const char *param;
	int64_t value;
	const char *by;         /* input whose value fixed it */
};

static uint64_t growth_budget(const struct od_freeze_opts *o, uint64_t const_bytes);

struct binder {
	struct od_model *m;
	struct od_freeze_report *rep;
	struct fix *fixes;      /* malloc'd */
	size_t n_fixes;
	const char **rebound;   /* inputs whose dims were fixed, malloc'd */
	size_t n_rebound;
	uint64_t budget;        /* bytes a scalar may be repeated to (the growth budget) */
	struct od_ctx *ctx;
};

static int shape_error(struct binder *b, const char *name, const struct od_tensor *t,
                       const struct od_value *in)
{
	char shape[1024];
	char *decl = od_value_type_text(b->m->arena, in);
	return od_error(b->ctx, OD_EVALUE, "value for '%s' has shape %s, input is %s", name,
	                od_shape_str(t, shape, sizeof shape), decl ? decl : "?");
}

static int add_fix(struct binder *b, const char *name, const char *param, int64_t value,
                   const struct od_tensor *t, const struct od_value *in)
{
	for (size_t i = 0; i < b->n_fixes; i++) {
		struct fix *x = &b->fixes[i];
		if (strcmp(x->param, param))
			continue;
		if (x->value == value)
			return 0;
		if (!strcmp(x->by, name))
			return shape_error(b, name, t, in);
		return od_error(b->ctx, OD_EVALUE, "value for '%s' makes dim '%s' %lld, but the value for '%s' made it %lld",
		                name, param, (long long)value, x->by, (long long)x->value);
	}
	struct fix *v = od_realloc(b->fixes, (b->n_fixes + 1) * sizeof *v);
	if (!v)
		return od_error(b->ctx, OD_ENOMEM, "out of memory");
	b->fixes = v;
	b->fixes[b->n_fixes++] = (struct fix){param, value, name};
	return 0;
}

static bool fully_static(const struct od_value *in)
{
	for (int d = 0; d < in->rank; d++)
		if (in->dims[d].value < 0)
			return false;
	return in->rank >= 0;
}

/* A scalar fills the declared shape only within the limits folding has: a 79-byte model
 * declaring float[65536,65536] must not make onnxdiff allocate 16 GiB. */
static int fill_error(struct binder *b, const struct od_tensor *t, const struct od_value *in)
{
	uint64_t numel = 1, bytes;
	for (int d = 0; d < in->rank; d++)
		if (in->dims[d].value && numel > (uint64_t)EVAL_MAX_NUMEL / (uint64_t)in->dims[d].value)
			numel = (uint64_t)EVAL_MAX_NUMEL + 1;
		else
			numel *= (uint64_t)in->dims[d].value;
	bytes = numel * od_dtype_size(t->dtype);
	if (numel <= (uint64_t)EVAL_MAX_NUMEL && bytes <= b->budget)
		return 0;
	char *decl = od_value_type_text(b->m->arena, in);
	if (numel > (uint64_t)EVAL_MAX_NUMEL)
		return od_error(b->ctx, OD_ELIMIT, "value for '%s': filling %s is more than %lld elements",
		                in->name, decl ? decl : "?", (long long)EVAL_MAX_NUMEL);
	return od_error(b->ctx, OD_ELIMIT, "value for '%s': filling %s takes %llu bytes, more than the "
	                "growth limit of %llu (--max-growth)", in->name, decl ? decl : "?",
	                (unsigned long long)bytes, (unsigned long long)b->budget);
}

/* A scalar repeated to the input's static shape. */
static struct od_tensor *broadcast(struct od_arena *a, const struct od_tensor *t,
                                   const struct od_value *in)
{
	int64_t dims[64];
	if (in->rank > 64 || t->dtype == OD_STRING || !od_dtype_size(t->dtype))
		return NULL;
	for (int d = 0; d < in->rank; d++)
		dims[d] = in->dims[d].value;
	struct od_tensor *c = od_tensor_new(a, t->name, t->dtype, in->rank, dims);
	size_t es = od_dtype_size(t->dtype);
	for (int64_t i = 0; c && i < c->numel; i++)
		memcpy((char *)c->data + (size_t)i * es, t->data, es);
	return c;
}

/* Checks value *tp for input `in`; may replace it by its broadcast. */
static int check_value(struct binder *b, const struct od_value *in, struct od_tensor **tp)
{
	struct od_tensor *t = *tp;
	const char *name = in->name;
	if (in->kind != OD_TYPE_TENSOR)
		return od_error(b->ctx, OD_EUNSUPPORTED, "input '%s' is %s: only tensor inputs can be frozen",
		                name, *in->type_str ? in->type_str : "untyped");
	if (t->dtype != in->dtype) {
		char *decl = od_value_type_text(b->m->arena, in);
		return od_error(b->ctx, OD_EVALUE, "value for '%s' has dtype %s, input is %s", name,
		                od_dtype_name(t->dtype), decl ? decl : "?");
	}
	if (in->rank < 0)
		return 0;
	if (t->ndims == 0 && in->rank > 0) {
		if (!fully_static(in) || t->numel != 1)
			return shape_error(b, name, t, in);
		int rc = fill_error(b, t, in);
		if (rc)
			return rc;
		if (!(*tp = broadcast(b->m->arena, t, in)))
			return od_error(b->ctx, OD_ENOMEM, "out of memory");
		return 0;
	}
	if (t->ndims != in->rank)
		return shape_error(b, name, t, in);
	for (int d = 0; d < in->rank; d++) {
		if (in->dims[d].value >= 0 && in->dims[d].value != t->dims[d])
			return shape_error(b, name, t, in);
		if (in->dims[d].value < 0 && in->dims[d].param) {
			int rc = add_fix(b, name, in->dims[d].param, t->dims[d], t, in);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int check_bindings(struct binder *b, const struct od_binding *bind, size_t n)
{
	const struct od_graph *g = b->m->graph;
	for (size_t i = 0; i < n; i++) {
		if (!bind[i].name || !bind[i].value)
			return od_error(b->ctx, OD_EARG, "binding %zu has no name or value", i);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(bind[i].name, bind[j].name))
				return od_error(b->ctx, OD_EARG, "input '%s' is given twice", bind[i].name);
		if (!od_graph_find_input(g, bind[i].name))
			return od_error(b->ctx, OD_ENOTFOUND, "input '%s' not found in graph", bind[i].name);
	}
	return 0;
}

/* Stores value t under the input's name and removes the input. */
static int bind_one(struct binder *b, const struct od_value *in, struct od_tensor *t, size_t k)
{
	struct od_graph *g = b->m->graph;
	struct od_arena *a = b->m->arena;
	const char *name = in->name;
	b->rep->frozen[k].name = od_arena_strdup(b->rep->arena, name);
	b->rep->frozen[k].type = od_tensor_type_text(b->rep->arena, t);
	if (!b->rep->frozen[k].name || !b->rep->frozen[k].type)
		return od_error(b->ctx, OD_ENOMEM, "out of memory");
	if (!(t = od_tensor_clone(a, t)))
		return od_error(b->ctx, OD_ENOMEM, "out of memory");
	t->name = name;
	t->data_dirty = true;
	for (size_t i = 0; i < g->n_inits; i++)
		if (!strcmp(g->inits[i]->name, name)) {   /* it had an overridable default */
			g->inits[i] = t;
			return od_graph_remove_input(g, name);
		}
	if (od_graph_add_init(a, g, t))
		return od_error(b->ctx, OD_ENOMEM, "out of memory");
	return od_graph_remove_input(g, name);
}

/* Fixes dims named by b->fixes on v; *changed tells whether it had any. */
static int rebind_value(struct binder *b, struct od_value *v, bool *changed)
{
	*changed = false;
	if (v->kind != OD_TYPE_TENSOR || v->rank <= 0)
		return 0;
	struct od_dim *dims = od_arena_memdup(b->m->arena, v->dims, (size_t)v->rank * sizeof *dims);
	if (!dims)
		return od_error(b->ctx, OD_ENOMEM, "out of memory");
	for (int d = 0; d < v->rank; d++)
		for (size_t i = 0; dims[d].value < 0 && dims[d].param && i < b->n_fixes; i++)
			if (!strcmp(dims[d].param, b->fixes[i].param)) {
				dims[d].value = b->fixes[i].value;
				dims[d].param = NULL;
				*changed = true;
			}
	if (!*changed)
		return 0;
	v->dims = dims;
	v->dirty = true;
	v->type_str = canonical_text(b->m->arena, v);
	return v->type_str ? 0 : od_error(b->ctx, OD_ENOMEM, "out of memory");
}

static int rebind_dims(struct binder *b)
{
	struct od_graph *g = b->m->graph;
	bool changed;
	int rc = 0;
	b->rebound = od_calloc(g->n_inputs + 1, sizeof *b->rebound);
	if (!b->rebound)
		return od_error(b->ctx, OD_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < g->n_inputs; i++)
		if (!(rc = rebind_value(b, g->inputs[i], &changed)) && changed)
			b->rebound[b->n_rebound++] = g->inputs[i]->name;
	for (size_t i = 0; !rc && i < g->n_outputs; i++)
		rc = rebind_value(b, g->outputs[i], &changed);
	for (size_t i = 0; !rc && i < g->n_value_info; i++)
		rc = rebind_value(b, g->value_info[i], &changed);
	if (rc || !b->n_fixes)
		return rc;
	b->rep->dims = od_arena_alloc(b->rep->arena, b->n_fixes * sizeof *b->rep->dims);
	if (!b->rep->dims)
		return od_error(b->ctx, OD_ENOMEM, "out of memory");
	for (size_t i = 0; i < b->n_fixes; i++) {
		b->rep->dims[i].param = od_arena_strdup(b->rep->arena, b->fixes[i].param);
		b->rep->dims[i].value = b->fixes[i].value;
		if (!b->rep->dims[i].param)
			return od_error(b->ctx, OD_ENOMEM, "out of memory");
	}
	b->rep->n_dims_fixed = b->n_fixes;
	return 0;
}

static int bind_all(struct binder *b, const struct od_binding *bind, size_t n)
{
	struct od_tensor **vals = od_calloc(n + 1, sizeof *vals);
	int rc = vals ? 0 : od_error(b->ctx, OD_ENOMEM, "out of memory");
	if (!rc)
		rc = check_bindings(b, bind, n);
	for (size_t i = 0; !rc && i < n; i++) {
		vals[i] = bind[i].value;
		rc = check_value(b, od_graph_find_input(b->m->graph, bind[i].name), &vals[i]);
	}
	b->rep->frozen = rc ? NULL : od_arena_alloc(b->rep->arena, (n + 1) * sizeof *b->rep->frozen);
	if (!rc && !b->rep->frozen)
		rc = od_error(b->ctx, OD_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++) {
		/* the name must outlive the removed od_value: it is the model's string */
		rc = bind_one(b, od_graph_find_input(b->m->graph, bind[i].name), vals[i], i);
		b->rep->n_frozen = i + 1;
	}
	if (!rc)
		rc = rebind_dims(b);
	od_free(vals);
	return rc;
}

/* ---- folding and checks ------------------------------------------------------------------------ */

static uint64_t growth_budget(const struct od_freeze_opts *o, uint64_t const_bytes)
{
	if (o && o->max_growth_bytes > 0)
		return (uint64_t)o->max_growth_bytes;
	if (o && o->max_growth_bytes < 0)
		return UINT64_MAX;
	double ratio = o && o->max_growth > 0 ? o->max_growth : 1.0;
	double b = ratio * (double)const_bytes + (double)GROWTH_SLACK;
	return b >= 1.8e19 ? UINT64_MAX : (uint64_t)b;
}

/* Folds with the shapes inferred before each pass; what a pass folded or inlined may make
 * more shapes static (an inlined branch, a Reshape whose target became constant), so passes
 * repeat while they find something new, a few times at most. */
static int fold_passes(struct fz *f)
{
	int rc = 0;
	for (int pass = 0; !rc && pass < 4; pass++) {
		size_t before = f->rep->n_shape_folded + f->rep->n_if_inlined;
		struct od_shapes *s = NULL;
		struct od_ctx sctx = {0};
		if (!f->no_eval && (rc = od_shapes_infer(f->m, &s, &sctx)) == OD_ENOMEM)
			return od_error(f->ctx, rc, "out of memory");
		f->shapes = s;  /* a graph inference refuses (a cycle) folds without shapes */
		rc = fz_run(f);
		f->shapes = NULL;
		od_shapes_free(s);
		if (f->no_eval || f->rep->n_shape_folded + f->rep->n_if_inlined == before)
			break;
	}
	return rc;
}

static int run_fold(struct od_model *m, struct od_freeze_report *rep, const struct od_freeze_opts *o,
                    const struct binder *b, const char *const *frozen, bool fold_all,
                    struct od_ctx *ctx)
{
	struct fz f = {.m = m, .a = m->arena, .rep = rep, .fold_all = fold_all,
	               .no_eval = o && o->no_fold, .frozen = frozen, .ctx = ctx};
	if (b) {
		f.n_frozen = b->rep->n_frozen;
		f.rebound = b->rebound;
		f.n_rebound = b->n_rebound;
	}
	f.budget = growth_budget(o, fz_const_bytes(m->graph));
	/* Intermediates may be larger than what is finally stored (Expand, then ReduceSum): one
	 * evaluated tensor is bounded for memory only, the budget applies when settling. */
	f.max_numel = f.budget < (uint64_t)EVAL_MIN_NUMEL ? EVAL_MIN_NUMEL :
	              f.budget < (uint64_t)EVAL_MAX_NUMEL ? (int64_t)f.budget : EVAL_MAX_NUMEL;
	rep->growth_limit = f.budget;
	size_t all_inits = fz_count_inits(m->graph);    /* subgraphs' too */
	int rc = fold_passes(&f);
	if (!rc && b && !(o && o->keep_unused_inputs))
		rc = fz_drop_unused_inputs(m, rep, ctx);
	if (!rc && o && o->write_shapes)
		rc = fz_write_shapes(m, ctx);
	/* Folding that bound, folded, inlined and pruned nothing leaves the model the loader
	 * validated: checking it again was a fifth of `diff --fold` on a long chain. */
	bool same = !b && !rep->n_folded && !rep->n_if_inlined &&
	            od_graph_count_nodes(m->graph) == rep->n_nodes_before &&
	            fz_count_inits(m->graph) == all_inits;
	if (!rc && !same)
		rc = od_model_validate(m, ctx);
	if (!rc)
		rc = report_after(rep, m, f.added) ? od_error(ctx, OD_ENOMEM, "out of memory") : 0;
	return rc;
}

static int strict_error(const struct od_freeze_report *r, struct od_ctx *ctx)
{
	const struct od_freeze_note *n = &r->notes[0];
	char more[64] = "";
	if (r->n_notes > 1)
		snprintf(more, sizeof more, " (and %zu more)", r->n_notes - 1);
	return od_error(ctx, OD_EUNSUPPORTED, "node '%s' (%s) still depends on a frozen value: %s%s",
	                *n->node ? n->node : n->op_type, n->op_type, n->reason, more);
}

int od_freeze(struct od_model *m, const struct od_binding *bindings, size_t n,
              const struct od_freeze_opts *opts, struct od_freeze_report **report,
              struct od_ctx *ctx)
{
	struct od_freeze_report *rep = report_new();
	struct binder b = {.m = m, .rep = rep, .ctx = ctx};
	const char **names = od_calloc(n + 1, sizeof *names);
	int rc = 0;
	if (report)
		*report = NULL;
	if (!m || !m->graph || (n && !bindings))
		rc = od_error(ctx, OD_EARG, "od_freeze: missing argument");
	else if (!rep || !names)
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
	if (!rc) {
		report_before(rep, m);
		b.budget = growth_budget(opts, fz_const_bytes(m->graph));
		rc = bind_all(&b, bindings, n);
	}
	for (size_t i = 0; !rc && i < n; i++)
		names[i] = bindings[i].name;
	if (!rc)
		rc = run_fold(m, rep, opts, &b, names, false, ctx);
	if (!rc && opts && opts->strict && rep->n_notes)
		rc = strict_error(rep, ctx);
	od_free(b.fixes);
	od_free(b.rebound);
	od_free(names);
	if (rc || !report)
		od_freeze_report_free(rep);
	else
		*report = rep;
	return rc;
}

int od_fold_model(struct od_model *m, const struct od_freeze_opts *opts,
                  struct od_freeze_report **report, struct od_ctx *ctx)
{
	struct od_freeze_report *rep = report_new();
	int rc = 0;
	if (report)
		*report = NULL;
	if (!m || !m->graph)
		return od_error(ctx, OD_EARG, "od_fold_model: missing argument");
	if (!rep)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	report_before(rep, m);
	rc = run_fold(m, rep, opts, NULL, NULL, true, ctx);
	if (rc || !report)
		od_freeze_report_free(rep);
	else
		*report = rep;
	return rc;
}

/* ---- the summary -------------------------------------------------------------------------------- */

int od_freeze_report_text(const struct od_freeze_report *r, od_write_fn fn, void *priv)
{
	struct od_printer o = {fn, priv, 0};
	char added[32];
	for (size_t i = 0; i < r->n_frozen; i++)
		od_print(&o, "frozen: %s %s\n", r->frozen[i].name, r->frozen[i].type);
	for (size_t i = 0; i < r->n_dims_fixed; i++)
		od_print(&o, "%s%s = %lld", i ? ", " : "dims: ", r->dims[i].param, (long long)r->dims[i].value);
	if (r->n_dims_fixed)
		od_print(&o, "\n");
	od_bytes_text(added, sizeof added, (double)r->bytes_added);
	od_print(&o, "folded: %zu node%s", r->n_folded, r->n_folded == 1 ? "" : "s");
	if (r->n_shape_folded)
		od_print(&o, " (%zu from shapes)", r->n_shape_folded);
	od_print(&o, ", %zu If inlined, +%s of constants\n", r->n_if_inlined, added);
	/* the counts of `show`: its operators count subgraphs' nodes, its initializers the
	 * main graph's */
	od_print(&o, "nodes: %zu -> %zu with subgraphs, initializers: %zu -> %zu in the main graph\n",
	    r->n_nodes_before, r->n_nodes_after,
	    r->n_inits_before, r->n_inits_after);
	od_print(&o, "inputs:");
	for (size_t i = 0; i < r->n_remaining_inputs; i++)
		od_print(&o, "%s %s", i ? "," : "", r->remaining_inputs[i]);
	od_print(&o, "%s\n", r->n_remaining_inputs ? "" : " (none)");
	for (size_t i = 0; i < r->n_dropped; i++)
		od_print(&o, "%s%s", i ? ", " : "dropped: ", r->dropped[i]);
	if (r->n_dropped)
		od_print(&o, " (no longer read)\n");
	for (size_t i = 0; i < r->n_notes; i++) {
		const struct od_freeze_note *n = &r->notes[i];
		bool top = !strcmp(n->path, "graph");
		od_print(&o, "not folded: %s (%s)%s%s: %s\n", *n->node ? n->node : "(unnamed)", n->op_type,
		    top ? "" : " in ", top ? "" : n->path, n->reason);
	}
	return o.rc;
}
