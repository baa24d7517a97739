/*
 * verify.c — runs two models on the same feeds and compares their outputs; when they
 * differ, reruns both on the failing feeds keeping the outputs of A's nodes that the
 * structural diff matched, and finds the first matched pair (in A's evaluation order)
 * whose outputs differ. See verify.h.
 */
#include "config.h"
#include <math.h>
#include <string.h>
#include "verify.h"
#include "diff.h"
#include "internal.h"

struct cmp {
	bool same_shape;
	double max_abs, max_rel;
	bool ok;
};

/* Types whose elements od_tensor_get_f64 reads as numbers. */
static bool numeric(int dtype)
{
	return od_dtype_size(dtype) && dtype != OD_COMPLEX64 && dtype != OD_COMPLEX128;
}

static void compare(const struct od_tensor *x, const struct od_tensor *y, double atol,
                    double rtol, struct cmp *c)
{
	*c = (struct cmp){ .ok = true };
	c->same_shape = x->dtype == y->dtype && x->ndims == y->ndims &&
	                (!x->ndims || !memcmp(x->dims, y->dims, (size_t)x->ndims * sizeof *x->dims));
	if (!c->same_shape || !numeric(x->dtype)) {
		c->ok = c->same_shape && od_tensor_equal(x, y);
		return;
	}
	for (int64_t i = 0; i < x->numel; i++) {
		double p = od_tensor_get_f64(x, i), q = od_tensor_get_f64(y, i);
		if ((isnan(p) && isnan(q)) || p == q)
			continue;
		double d = fabs(p - q);
		if (isnan(d)) {
			c->ok = false;
			c->max_abs = INFINITY;
			continue;
		}
		c->max_abs = d > c->max_abs ? d : c->max_abs;
		if (q != 0 && d / fabs(q) > c->max_rel)
			c->max_rel = d / fabs(q);
		if (d > atol + rtol * fabs(q))
			c->ok = false;
	}
}

/* ---- feeds ------------------------------------------------------------------------------ */

static const struct od_feed *feed_named(const struct od_feed *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(f[i].name, name))
			return &f[i];
	return NULL;
}

/* B's given values: the user's, then A's by name, else by position. */
static int feeds_for_b(const struct od_model *a, const struct od_model *b,
                       const struct od_verify_opts *o, const struct od_feed *fa, size_t nfa,
                       struct od_arena *ar, struct od_feed **out, size_t *n)
{
	const struct od_graph *gb = b->graph, *ga = a->graph;
	struct od_feed *v = od_arena_alloc(ar, (gb->n_inputs + o->n_feeds_b + 1) * sizeof *v);
	if (!v)
		return OD_ENOMEM;
	*n = 0;
	for (size_t i = 0; i < o->n_feeds_b; i++)
		v[(*n)++] = o->feeds_b[i];
	for (size_t k = 0; k < gb->n_inputs; k++) {
		const char *name = gb->inputs[k]->name;
		if (feed_named(o->feeds_b, o->n_feeds_b, name))
			continue;
		const struct od_feed *f = feed_named(fa, nfa, name);
		if (!f && !od_graph_find_input(ga, name) && k < ga->n_inputs &&
		    !od_graph_find_input(gb, ga->inputs[k]->name))
			f = feed_named(fa, nfa, ga->inputs[k]->name);
		if (f)
			v[(*n)++] = (struct od_feed){ name, f->value };
	}
	*out = v;
	return 0;
}

/* ---- one sample ---------------------------------------------------------------------------- */

/* "cannot run 'a.onnx': <message>", as od_run says it. */
static int cannot_run(struct od_ctx *ctx, int rc, const struct od_model *m)
{
	char detail[sizeof ctx->msg];
	snprintf(detail, sizeof detail, "%s", ctx->msg);
	return od_error(ctx, rc, "cannot run '%s': %s", m->path ? m->path : "model", detail);
}

struct sample {
	struct od_feed *fa, *fb;
	size_t nfa, nfb;
	struct od_tensor **oa, **ob;
	struct od_arena *arena;
};

static int run_sample(struct od_model *a, struct od_model *b, const struct od_verify_opts *o,
                      uint64_t seed, struct sample *s, struct od_ctx *ctx)
{
	struct od_run_opts ro = { .threads = o->threads };
	struct od_feed *gb;
	size_t ngb;
	int rc;
	if (!(s->arena = od_arena_new()) ||
	    !(s->oa = od_arena_alloc(s->arena, (a->graph->n_outputs + 1) * sizeof *s->oa)) ||
	    !(s->ob = od_arena_alloc(s->arena, (b->graph->n_outputs + 1) * sizeof *s->ob)))
		return od_error(ctx, OD_ENOMEM, "out of memory");
	if ((rc = od_feeds_complete(a, o->feeds_a, o->n_feeds_a, o->dims, o->n_dims, seed,
	                            s->arena, &s->fa, &s->nfa, ctx)))
		return cannot_run(ctx, rc, a);
	if ((rc = feeds_for_b(a, b, o, s->fa, s->nfa, s->arena, &gb, &ngb)))
		return od_error(ctx, rc, "out of memory");
	if ((rc = od_feeds_complete(b, gb, ngb, o->dims, o->n_dims, seed, s->arena, &s->fb,
	                            &s->nfb, ctx)))
		return cannot_run(ctx, rc, b);
	if ((rc = od_run(a, s->fa, s->nfa, &ro, s->arena, s->oa, ctx)) ||
	    (rc = od_run(b, s->fb, s->nfb, &ro, s->arena, s->ob, ctx)))
		return rc;
	return 0;
}

/* ---- output pairs ---------------------------------------------------------------------------- */

/* Pairs by name, else by position; *pairs (index into b's outputs, or SIZE_MAX) per a output,
 * plus b outputs left over. */
static int pair_outputs(const struct od_graph *ga, const struct od_graph *gb,
                        struct od_verify_report *r)
{
	size_t cap = ga->n_outputs + gb->n_outputs + 1;
	r->outputs = od_arena_alloc(r->arena, cap * sizeof *r->outputs);
	bool *used = od_arena_alloc(r->arena, gb->n_outputs + 1);
	if (!r->outputs || !used)
		return OD_ENOMEM;
	for (size_t k = 0; k < ga->n_outputs; k++) {
		const char *name = ga->outputs[k]->name;
		struct od_verify_output *p = &r->outputs[r->n_outputs++];
		p->a_name = name;
		for (size_t j = 0; j < gb->n_outputs && !p->b_name; j++)
			if (!strcmp(gb->outputs[j]->name, name))
				p->b_name = name, used[j] = true;
	}
	for (size_t k = 0; k < r->n_outputs; k++) {
		struct od_verify_output *p = &r->outputs[k];
		if (!p->b_name && k < gb->n_outputs && !used[k] &&
		    !od_graph_find_output(ga, gb->outputs[k]->name))
			p->b_name = gb->outputs[k]->name, used[k] = true;
	}
	for (size_t j = 0; j < gb->n_outputs; j++)
		if (!used[j])
			r->outputs[r->n_outputs++] = (struct od_verify_output){ .b_name = gb->outputs[j]->name };
	return 0;
}

static struct od_tensor *output_of(const struct od_graph *g, struct od_tensor **outs,
                                   const char *name)
{
	for (size_t k = 0; name && k < g->n_outputs; k++)
		if (!strcmp(g->outputs[k]->name, name))
			return outs[k];
	return NULL;
}

static const char *type_text(struct od_arena *a, const struct od_tensor *t)
{
	char shape[512];
	return od_arena_printf(a, "%s%s", od_dtype_name(t->dtype), od_shape_str(t, shape, sizeof shape));
}

/* Folds sample s into the report; true when every pair agreed. */
static bool compare_sample(struct od_model *a, struct od_model *b, const struct od_verify_opts *o,
                           const struct sample *s, struct od_verify_report *r, bool first)
{
	bool all = true;
	for (size_t k = 0; k < r->n_outputs; k++) {
		struct od_verify_output *p = &r->outputs[k];
		struct od_tensor *x = output_of(a->graph, s->oa, p->a_name);
		struct od_tensor *y = output_of(b->graph, s->ob, p->b_name);
		struct cmp c = { 0 };
		if (x)
			p->a_type = type_text(r->arena, x);
		if (y)
			p->b_type = type_text(r->arena, y);
		if (x && y)
			compare(x, y, o->atol, o->rtol, &c);
		p->compared = (first || p->compared) && x && y && c.same_shape;
		p->max_abs = fmax(first ? 0 : p->max_abs, c.max_abs);
		p->max_rel = fmax(first ? 0 : p->max_rel, c.max_rel);
		p->ok = (first || p->ok) && x && y && c.ok;
		all = all && p->ok;
	}
	return all;
}

/* ---- the first divergence ------------------------------------------------------------------ */

struct locate {
	const struct od_graph *ga, *gb;
	const size_t *a_match, *b_match;
	struct od_map a_index, b_index; /* first output name -> node index */
	struct od_tensor ***kept;       /* per A node: clones of its outputs, NULL if unmatched */
	size_t *order;                  /* per A node: evaluation position */
	size_t step;
	struct od_arena *keep;
	const struct od_verify_opts *o;
	size_t best;                    /* evaluation position of the first divergence */
	size_t best_a, best_b;
	char what[128];
	double abs;
};

static bool node_index(const struct od_map *m, const struct od_node *n, size_t *i)
{
	return n->n_outputs && od_map_get(m, n->outputs[0], i);
}

static int keep_a(void *priv, const struct od_node *n, struct od_tensor *const *outs)
{
	struct locate *L = priv;
	size_t i;
	if (!node_index(&L->a_index, n, &i))
		return 0;
	L->order[i] = L->step++;
	if (L->a_match[i] == OD_DIFF_NONE)
		return 0;
	if (!(L->kept[i] = od_arena_alloc(L->keep, (n->n_outputs + 1) * sizeof **L->kept)))
		return OD_ENOMEM;
	for (size_t k = 0; k < n->n_outputs; k++)
		if (outs[k] && !(L->kept[i][k] = od_tensor_clone(L->keep, outs[k])))
			return OD_ENOMEM;
	return 0;
}

static int check_b(void *priv, const struct od_node *n, struct od_tensor *const *outs)
{
	struct locate *L = priv;
	size_t j, i;
	if (!node_index(&L->b_index, n, &j) || (i = L->b_match[j]) == OD_DIFF_NONE ||
	    !L->kept[i] || L->order[i] >= L->best)
		return 0;
	size_t m = L->ga->nodes[i]->n_outputs < n->n_outputs ? L->ga->nodes[i]->n_outputs : n->n_outputs;
	for (size_t k = 0; k < m; k++) {
		const struct od_tensor *x = L->kept[i][k], *y = outs[k];
		struct cmp c;
		char s1[256], s2[256];
		if (!x || !y)
			continue;
		compare(x, y, L->o->atol, L->o->rtol, &c);
		if (c.ok)
			continue;
		L->best = L->order[i], L->best_a = i, L->best_b = j, L->abs = c.max_abs;
		if (c.same_shape)
			snprintf(L->what, sizeof L->what, "max abs %.3g", c.max_abs);
		else
			snprintf(L->what, sizeof L->what, "%s%s vs %s%s", od_dtype_name(x->dtype),
			         od_shape_str(x, s1, sizeof s1), od_dtype_name(y->dtype),
			         od_shape_str(y, s2, sizeof s2));
		return 0;
	}
	return 0;
}

static int index_nodes(const struct od_graph *g, struct od_map *m)
{
	if (od_map_init(m, g->n_nodes))
		return OD_ENOMEM;
	for (size_t i = 0; i < g->n_nodes; i++)
		if (g->nodes[i]->n_outputs && od_map_put(m, g->nodes[i]->outputs[0], i) < 0)
			return OD_ENOMEM;
	return 0;
}

static const char *label(const struct od_node *n)
{
	return n->name && *n->name ? n->name : n->n_outputs ? n->outputs[0] : "";
}

static int locate(struct od_model *a, struct od_model *b, const struct od_verify_opts *o,
                  const struct sample *s, struct od_verify_report *r, struct od_ctx *ctx)
{
	struct od_diff *d = NULL;
	struct locate L = { .o = o, .best = SIZE_MAX };
	int rc = od_diff(a, b, NULL, &d, ctx);
	if (rc)
		return rc;
	L.ga = a->graph, L.gb = b->graph;
	L.a_match = d->graphs[0].a_match, L.b_match = d->graphs[0].b_match;
	L.kept = od_calloc(L.ga->n_nodes + 1, sizeof *L.kept);
	L.order = od_calloc(L.ga->n_nodes + 1, sizeof *L.order);
	L.keep = od_arena_new();
	struct od_arena *scratch = od_arena_new();
	struct od_tensor **oa = od_calloc(L.ga->n_outputs + 1, sizeof *oa);
	struct od_tensor **ob = od_calloc(L.gb->n_outputs + 1, sizeof *ob);
	if (!L.kept || !L.order || !L.keep || !scratch || !oa || !ob ||
	    index_nodes(L.ga, &L.a_index) || index_nodes(L.gb, &L.b_index))
		rc = od_error(ctx, OD_ENOMEM, "out of memory");
	struct od_run_opts ra = { .threads = o->threads, .on_node = keep_a, .priv = &L };
	struct od_run_opts rb = { .threads = o->threads, .on_node = check_b, .priv = &L };
	if (!rc && !(rc = od_run(a, s->fa, s->nfa, &ra, scratch, oa, ctx)))
		rc = od_run(b, s->fb, s->nfb, &rb, scratch, ob, ctx);
	if (!rc && L.best != SIZE_MAX) {
		const struct od_node *na = L.ga->nodes[L.best_a], *nb = L.gb->nodes[L.best_b];
		r->diverged = true;
		r->div_op = od_arena_strdup(r->arena, na->op_type);
		r->div_a = od_arena_strdup(r->arena, label(na));
		r->div_b = od_arena_strdup(r->arena, label(nb));
		r->div_what = od_arena_strdup(r->arena, L.what);
		r->div_abs = L.abs;
	}
	od_map_done(&L.a_index);
	od_map_done(&L.b_index);
	od_free(L.kept);
	od_free(L.order);
	od_free(oa);
	od_free(ob);
	od_arena_free(L.keep);
	od_arena_free(scratch);
	od_diff_free(d);
	return rc;
}

/* ---- entry points ------------------------------------------------------------------------------ */

int od_verify(struct od_model *a, struct od_model *b, const struct od_verify_opts *opts,
              struct od_verify_report **out, struct od_ctx *ctx)
{
	struct od_ctx local = { 0 };
	if (!ctx)
		ctx = &local;           /* messages are built from earlier ones */
	if (!a || !b || !out)
		return od_error(ctx, OD_EARG, "od_verify: missing argument");
	struct od_verify_opts o = opts ? *opts : (struct od_verify_opts){ .atol = -1, .rtol = -1 };
	if (o.atol < 0)
		o.atol = 1e-5;
	if (o.rtol < 0)
		o.rtol = 1e-4;
	if (o.samples < 1)
		o.samples = 1;
	struct od_verify_report *r = od_calloc(1, sizeof *r);
	int rc = r && (r->arena = od_arena_new()) ? 0 : OD_ENOMEM;
	if (!rc)
		rc = pair_outputs(a->graph, b->graph, r);
	if (rc) {
		od_verify_report_free(r);
		return od_error(ctx, rc, "out of memory");
	}
	r->a_path = od_arena_strdup(r->arena, a->path ? a->path : "A");
	r->b_path = od_arena_strdup(r->arena, b->path ? b->path : "B");
	r->same = true;
	r->atol = o.atol, r->rtol = o.rtol;
	for (int i = 0; !rc && i < o.samples; i++) {
		struct sample s = { 0 };
		rc = run_sample(a, b, &o, o.seed + (uint64_t)i, &s, ctx);
		bool agree = !rc && compare_sample(a, b, &o, &s, r, i == 0);
		r->samples = i + 1;
		if (!rc && !agree && r->same) {
			r->same = false;
			rc = locate(a, b, &o, &s, r, ctx);
		}
		od_arena_free(s.arena);
	}
	if (rc) {
		od_verify_report_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void od_verify_report_free(struct od_verify_report *r)
{
	if (!r)
		return;
	od_arena_free(r->arena);
	od_free(r);
}
