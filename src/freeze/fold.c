/*
 * fold.c — the constant folder shared by freeze and `diff --fold`.
 *
 * One pass per graph, in topological order: a node whose inputs are all constant
 * (initializers, Constant outputs, values folded before it, constants of enclosing graphs;
 * an omitted optional input "" counts as constant) is evaluated with the eval/ kernels and
 * its values recorded; an If with a constant condition is replaced by its chosen branch
 * (fold_if.c). Freeze replaces only nodes that depend on a frozen value, so the rest of the
 * model stays as exported; od_fold_model replaces every evaluated node, Constant nodes too:
 * under `diff --fold` a constant reads the same whether the exporter wrote it as a Constant
 * node or an initializer (a frozen shape chain folds into initializers, a static export
 * writes the same values as Constant nodes). Freeze keeps Constant nodes where something
 * still reads them.
 *
 * Then the graph is settled: values that something remaining still reads (a node, a
 * subgraph, a graph output) become initializers, or Constant nodes when they are graph
 * outputs (the output keeps its name and a producer). When the new constants would exceed
 * the growth budget, the producer of the largest is kept as a node instead (its inputs are
 * then what must be stored), until the rest fits. Last, what reaches no output is pruned.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "eval.h"
#include "freeze_impl.h"
#include "shape.h"

/* ---- notes and scopes --------------------------------------------------------------------- */

int fz_note(struct fz *f, const struct fz_scope *s, const struct od_node *n, const char *fmt, ...)
{
	struct od_freeze_report *r = f->rep;
	struct od_arena *ra = r->arena;
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	void *p = od_arena_grow(ra, r->notes, r->n_notes, sizeof *r->notes, &f->cap_notes, r->n_notes + 1);
	if (!p)
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	r->notes = p;
	struct od_freeze_note *note = &r->notes[r->n_notes];
	note->path = s->path;
	note->node = od_arena_strdup(ra, n->name);
	note->op_type = od_arena_strdup(ra, n->op_type);
	note->reason = od_arena_strdup(ra, buf);
	if (!note->node || !note->op_type || !note->reason)
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	r->n_notes++;
	return 0;
}

bool fz_has_subgraph(const struct od_node *n)
{
	for (size_t k = 0; k < n->n_attrs; k++)
		if ((n->attrs[k].type == OD_ATTR_GRAPH && n->attrs[k].g) ||
		    (n->attrs[k].type == OD_ATTR_GRAPHS && n->attrs[k].n))
			return true;
	return false;
}

struct fz_val *fz_lookup(const struct fz_scope *s, const char *name)
{
	size_t i;
	for (; s; s = s->outer)
		if (od_map_get(&s->idx, name, &i))
			return &s->vals[i];
	return NULL;
}

int fz_define(struct fz *f, struct fz_scope *s, const char *name, struct od_tensor *t,
              bool tainted, long prod)
{
	size_t i = s->n_vals;
	if (!*name)
		return 0;
	struct fz_val *v = od_grow(s->vals, s->n_vals, sizeof *v, &s->cap_vals, 64);
	if (!v)
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	s->vals = v;
	int put = od_map_put(&s->idx, name, i);     /* one hash when the name is new */
	if (put < 0)
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	if (put)
		od_map_get(&s->idx, name, &i);
	else
		s->n_vals++;
	s->vals[i] = (struct fz_val){t, tainted, false, prod};
	return 0;
}


static bool listed(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], name))
			return true;
	return false;
}

/* Graph inputs are dynamic (also those with an initializer: an overridable default). */
static int scope_init(struct fz *f, struct fz_scope *s)
{
	struct od_graph *g = s->g;
	int rc = od_map_init(&s->idx, g->n_inputs + g->n_inits + g->n_nodes * 2);
	if (rc)
		return od_error(f->ctx, rc, "out of memory");
	for (size_t i = 0; !rc && i < g->n_inputs; i++)
		rc = fz_define(f, s, g->inputs[i]->name, NULL, false, -1);
	for (size_t i = 0; !rc && i < g->n_inits; i++)   /* only inputs are defined yet; sparse: not folded */
		if (!od_map_get(&s->idx, g->inits[i]->name, NULL))
			rc = fz_define(f, s, g->inits[i]->name, g->inits[i]->sparse ? NULL : g->inits[i],
			               !s->outer && listed(f->frozen, f->n_frozen, g->inits[i]->name), -1);
	return rc;
}

static void scope_done(struct fz_scope *s)
{
	od_map_done(&s->idx);
	od_free(s->vals);
	od_free(s->nodes);
}

/* ---- evaluating one node ------------------------------------------------------------------- */

static int push_node(struct fz *f, struct fz_scope *s, struct od_node *n, bool tainted)
{
	struct fz_node *v = od_grow(s->nodes, s->n_nodes, sizeof *v, &s->cap_nodes, 64);
	if (!v)
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	s->nodes = v;
	s->nodes[s->n_nodes++] = (struct fz_node){n, false, tainted};
	return 0;
}

static int define_outputs(struct fz *f, struct fz_scope *s, const struct od_node *n,
                          struct od_tensor **outs, bool tainted, long prod)
{
	int rc = 0;
	for (size_t o = 0; !rc && o < n->n_outputs; o++)
		rc = fz_define(f, s, n->outputs[o], outs ? outs[o] : NULL, tainted, prod);
	return rc;
}

/* A view of t under another name: Identity folds without copying its payload. */
static struct od_tensor *alias(struct fz *f, const struct od_tensor *t, const char *name)
{
	struct od_tensor *c = od_arena_alloc(f->a, sizeof *c);
	if (!c)
		return NULL;
	*c = *t;
	c->name = name;
	c->src = NULL;
	c->data_dirty = true;
	return c;
}

static bool is_op(const struct od_node *n, const char *op)
{
	return !strcmp(n->op_type, op) && od_domain_is_onnx(n->domain);
}

/* Evaluates n (all inputs constant) into outs; a failure becomes a note, not an error. */
static int evaluate(struct fz *f, struct fz_scope *s, struct od_node *n, bool tainted,
                    struct od_tensor **outs, bool *ok)
{
	struct od_ctx ectx = {0};
	int rc = 0;
	*ok = false;
	if (is_op(n, "Identity") && n->n_inputs == 1 && n->n_outputs == 1 && *n->inputs[0]) {
		outs[0] = alias(f, fz_lookup(s, n->inputs[0])->t, n->outputs[0]);
		if (!outs[0])
			return od_error(f->ctx, OD_ENOMEM, "out of memory");
		*ok = true;
		return 0;
	}
	struct od_tensor **ins = od_calloc(n->n_inputs + 1, sizeof *ins);
	if (!ins)
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	for (size_t p = 0; p < n->n_inputs; p++)
		ins[p] = *n->inputs[p] ? fz_lookup(s, n->inputs[p])->t : NULL;
	rc = od_eval_node(n, od_model_opset(f->m, n->domain), ins, outs, f->max_numel, f->a, &ectx);
	od_free(ins);
	if (rc == OD_ENOMEM)
		return od_error(f->ctx, rc, "out of memory");
	if (!rc) {
		*ok = true;
		return 0;
	}
	if (!tainted && !f->fold_all)
		return 0;
	/* the kernels say "Op: why"; the note names the op already */
	const char *why = ectx.msg;
	size_t ol = strlen(n->op_type);
	if (!strncmp(why, n->op_type, ol) && why[ol] == ':' && why[ol + 1] == ' ')
		why += ol + 2;
	return fz_note(f, s, n, "%s%s", rc == OD_ELIMIT ? "size limit: " : "", why);
}

/* A node whose inputs are not all constant but whose outputs shape inference knows (Shape
 * of a tensor with static dims, Gather of its static element, arithmetic on them): its
 * values, from shapes alone. They count as derived from the freeze, so what they feed folds. */
static int fold_from_shapes(struct fz *f, struct fz_scope *s, struct od_node *n, bool *done)
{
	struct od_tensor *outs[8];
	*done = false;
	if (!f->shapes || n->n_outputs > 8 || !n->n_outputs || fz_has_subgraph(n) || is_op(n, "Constant"))
		return 0;
	for (size_t o = 0; o < n->n_outputs; o++) {
		outs[o] = NULL;
		if (!*n->outputs[o])
			continue;
		const struct od_shape *v = od_shapes_find(f->shapes, s->g, n->outputs[o]);
		if (!v || (!v->constant && v->n_value < 0))
			return 0;
		if (!od_shape_is_constant(v))
			return 0;
		if (!(outs[o] = od_shape_constant(f->a, v, n->outputs[o])))
			return od_error(f->ctx, OD_ENOMEM, "out of memory");
	}
	long k = (long)s->n_nodes;
	int rc = push_node(f, s, n, true);
	if (!rc)
		rc = define_outputs(f, s, n, outs, true, k);
	if (!rc) {
		s->nodes[k].fold = true;
		f->rep->n_shape_folded++;
		*done = true;
	}
	return rc;
}

int fz_process(struct fz *f, struct fz_scope *s, struct od_node *n)
{
	bool all_const = true, tainted = false;
	for (size_t p = 0; p < n->n_inputs; p++) {
		if (!*n->inputs[p])
			continue;
		struct fz_val *v = fz_lookup(s, n->inputs[p]);
		all_const &= v && v->t;
		tainted |= v && v->tainted;
	}
	if (!f->no_eval && all_const && (tainted || f->fold_all) && is_op(n, "If") &&
	    n->n_inputs == 1 && *n->inputs[0]) {
		const struct od_tensor *cond = fz_lookup(s, n->inputs[0])->t;
		if (cond->numel == 1 && cond->data)
			return fz_inline_if(f, s, n, cond);
	}
	if (!f->no_eval && !all_const) {
		bool done;
		int rc = fold_from_shapes(f, s, n, &done);
		if (rc || done)
			return rc;
	}
	long k = (long)s->n_nodes;
	int rc = push_node(f, s, n, tainted);
	if (rc)
		return rc;
	if (f->no_eval || !all_const)
		return define_outputs(f, s, n, NULL, tainted, k);
	struct od_tensor **outs = od_calloc(n->n_outputs + 1, sizeof *outs);
	bool ok;
	if (!outs)
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	rc = evaluate(f, s, n, tainted, outs, &ok);
	if (!rc)
		rc = define_outputs(f, s, n, ok ? outs : NULL, tainted, k);
	od_free(outs);
	/* freeze keeps Constant nodes (an inlined branch's too), --fold stores them */
	s->nodes[k].fold = !rc && ok && (f->fold_all || (tainted && !is_op(n, "Constant")));
	return rc;
}

/* ---- settling: what stays constant, within the budget ---------------------------------------- */

static int need_local(const char *name, void *priv)
{
	struct fz_scope *s = priv;
	size_t i;
	if (*name && od_map_get(&s->idx, name, &i))
		s->vals[i].need = true;
	return 0;
}

static void mark_node_needs(struct fz_scope *s, const struct od_node *n)
{
	for (size_t p = 0; p < n->n_inputs; p++)
		need_local(n->inputs[p], s);
	od_node_each_subgraph_ref(n, need_local, s);
}

/* The values that must be stored: needed, and produced by a folded node. */
struct stored {
	size_t *v;              /* indices into the scope's vals, malloc'd */
	size_t n, cap;
	uint64_t bytes;
};

static uint64_t val_bytes(const struct fz_val *v)
{
	return v->t->dtype == OD_STRING ? (uint64_t)v->t->numel * 16 : v->t->nbytes;
}

static bool is_stored(const struct fz_scope *s, const struct fz_val *v)
{
	return v->need && v->prod >= 0 && s->nodes[v->prod].fold;
}

static int stored_add(struct stored *st, const struct fz_scope *s, size_t i)
{
	size_t *v = od_grow(st->v, st->n, sizeof *v, &st->cap, 64);
	if (!v)
		return OD_ENOMEM;
	st->v = v;
	st->v[st->n++] = i;
	st->bytes += val_bytes(&s->vals[i]);
	return 0;
}

/* Node p stays a node: its outputs are no longer stored, its inputs may now be. */
static int unfold(struct stored *st, struct fz_scope *s, struct fz_node *p)
{
	size_t k = 0, i;
	p->fold = false;
	for (size_t j = 0; j < st->n; j++)
		if (is_stored(s, &s->vals[st->v[j]]))
			st->v[k++] = st->v[j];
		else
			st->bytes -= val_bytes(&s->vals[st->v[j]]);
	st->n = k;
	for (size_t q = 0; q < p->n->n_inputs; q++) {
		if (!*p->n->inputs[q] || !od_map_get(&s->idx, p->n->inputs[q], &i) || s->vals[i].need)
			continue;
		s->vals[i].need = true;
		if (is_stored(s, &s->vals[i]) && stored_add(st, s, i))
			return OD_ENOMEM;
	}
	return 0;
}

/* Keeps the producer of the largest stored value as a node until the rest fits. */
static int fit_budget(struct fz *f, struct fz_scope *s, struct stored *st)
{
	while (st->n && f->budget != UINT64_MAX && f->added + st->bytes > f->budget) {
		size_t big = 0;
		for (size_t j = 1; j < st->n; j++)
			if (val_bytes(&s->vals[st->v[j]]) > val_bytes(&s->vals[st->v[big]]))
				big = j;
		struct fz_node *p = &s->nodes[s->vals[st->v[big]].prod];
		char have[32], limit[32];
		od_bytes_text(have, sizeof have, (double)f->added + st->bytes);
		od_bytes_text(limit, sizeof limit, (double)f->budget);
		if (unfold(st, s, p))
			return od_error(f->ctx, OD_ENOMEM, "out of memory");
		if (p->tainted || f->fold_all) {
			int rc = fz_note(f, s, p->n, "size limit: folding would add %s of constants, the limit is %s",
			                 have, limit);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int settle(struct fz *f, struct fz_scope *s)
{
	struct od_graph *g = s->g;
	struct stored st = {0};
	int rc = 0;
	for (size_t i = 0; i < s->n_vals; i++)
		s->vals[i].need = false;
	for (size_t i = 0; i < g->n_outputs; i++)
		need_local(g->outputs[i]->name, s);
	for (size_t k = 0; k < s->n_nodes; k++)
		if (!s->nodes[k].fold)
			mark_node_needs(s, s->nodes[k].n);
	for (size_t i = 0; !rc && i < s->n_vals; i++)
		if (is_stored(s, &s->vals[i]))
			rc = stored_add(&st, s, i) ? od_error(f->ctx, OD_ENOMEM, "out of memory") : 0;
	if (!rc)
		rc = fit_budget(f, s, &st);
	if (!rc)
		f->added += st.bytes;
	od_free(st.v);
	return rc;
}

/* A Constant node that produces graph output name with value t. */
static struct od_node *constant_node(struct fz *f, const struct od_node *from, const char *name,
                                     struct od_tensor *t)
{
	struct od_node *c = od_node_new(f->a, "Constant", "", from->name);
	const char **outs = od_arena_alloc(f->a, sizeof *outs);
	struct od_attr *at = od_arena_alloc(f->a, sizeof *at);
	if (!c || !outs || !at)
		return NULL;
	outs[0] = name;
	c->outputs = outs;
	c->n_outputs = 1;
	at->name = "value";
	at->type = OD_ATTR_TENSOR;
	at->t = t;
	c->attrs = at;
	c->n_attrs = 1;
	return c;
}

/* Where folded node nd's outputs go: an initializer, or a Constant node when the name is a
 * graph output (outs: the graph's output names, looked up once per folded output). */
static int place_outputs(struct fz *f, struct fz_scope *s, const struct od_map *outs,
                         struct od_node *nd, struct od_node ***nodes, size_t *n, size_t *cap)
{
	for (size_t o = 0; o < nd->n_outputs; o++) {
		struct fz_val *v = fz_lookup(s, nd->outputs[o]);
		if (!*nd->outputs[o] || !v || !v->need)
			continue;
		struct od_tensor *t = v->t;
		if (strcmp(t->name, nd->outputs[o]) && !(t = alias(f, t, nd->outputs[o])))
			return OD_ENOMEM;
		if (!od_map_get(outs, nd->outputs[o], NULL)) {
			if (od_graph_add_init(f->a, s->g, t))
				return OD_ENOMEM;
			continue;
		}
		struct od_node *c = constant_node(f, nd, nd->outputs[o], t);
		*nodes = c ? od_arena_grow(f->a, *nodes, *n, sizeof **nodes, cap, *n + 1) : NULL;
		if (!*nodes)
			return OD_ENOMEM;
		(*nodes)[(*n)++] = c;
	}
	return 0;
}

/* Replaces the folded nodes of the graph by initializers (or Constant nodes for outputs). */
static int apply(struct fz *f, struct fz_scope *s)
{
	struct od_graph *g = s->g;
	size_t n = 0, cap = s->n_nodes + 1;
	struct od_node **nodes = od_arena_alloc(f->a, cap * sizeof *nodes);
	struct od_map outs;
	if (!nodes || od_map_init(&outs, g->n_outputs))
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	int rc = 0;
	for (size_t i = 0; !rc && i < g->n_outputs; i++)
		rc = od_map_put(&outs, g->outputs[i]->name, i) < 0 ? OD_ENOMEM : 0;
	for (size_t k = 0; !rc && k < s->n_nodes; k++) {
		struct od_node *nd = s->nodes[k].n;
		if (s->nodes[k].fold) {
			f->rep->n_folded++;
			rc = place_outputs(f, s, &outs, nd, &nodes, &n, &cap);
			continue;
		}
		nodes = od_arena_grow(f->a, nodes, n, sizeof *nodes, &cap, n + 1);
		if (!nodes)
			rc = OD_ENOMEM;
		else
			nodes[n++] = nd;
	}
	od_map_done(&outs);
	if (rc)
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	g->nodes = nodes;
	g->n_nodes = n;
	g->cap_nodes = cap;
	return 0;
}

/* ---- one graph ------------------------------------------------------------------------------- */

static int fold_graph(struct fz *f, const struct fz_scope *outer, struct od_graph *g,
                      const char *path);

static int fold_subgraphs(struct fz *f, struct fz_scope *s, struct od_node *n)
{
	for (size_t k = 0; k < n->n_attrs; k++) {
		struct od_attr *at = &n->attrs[k];
		size_t cnt = at->type == OD_ATTR_GRAPH ? (at->g != NULL) : at->type == OD_ATTR_GRAPHS ? at->n : 0;
		for (size_t j = 0; j < cnt; j++) {
			struct od_graph *sg = at->type == OD_ATTR_GRAPH ? at->g : at->graphs[j];
			const char *path = od_arena_printf(f->rep->arena, "%s/%s:%s", s->path,
			                                   *n->name ? n->name : n->op_type, at->name);
			if (!path)
				return od_error(f->ctx, OD_ENOMEM, "out of memory");
			int rc = fold_graph(f, s, sg, path);
			if (rc)
				return rc;
		}
	}
	return 0;
}

static int fold_graph(struct fz *f, const struct fz_scope *outer, struct od_graph *g,
                      const char *path)
{
	struct fz_scope s = {.outer = outer, .g = g, .path = path};
	size_t *order = NULL;
	int rc = scope_init(f, &s);
	if (!rc)
		rc = od_graph_topo_order(g, &order, f->ctx);
	/* fz_process may inline If branches: it works on a copy of the node list. */
	size_t n = g->n_nodes;
	struct od_node **orig = rc ? NULL : od_malloc((n + 1) * sizeof *orig);
	if (!rc && !orig)
		rc = od_error(f->ctx, OD_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n; i++)
		orig[i] = g->nodes[order[i]];
	for (size_t i = 0; !rc && i < n; i++)
		rc = fz_process(f, &s, orig[i]);
	for (size_t k = 0; !rc && k < s.n_nodes; k++)
		if (!s.nodes[k].fold && fz_has_subgraph(s.nodes[k].n))
			rc = fold_subgraphs(f, &s, s.nodes[k].n);
	if (!rc && !f->no_eval)
		rc = settle(f, &s);
	if (!rc)
		rc = apply(f, &s);
	if (!rc)
		rc = fz_prune(f, &s);
	od_free(orig);
	od_free(order);
	scope_done(&s);
	return rc;
}

int fz_run(struct fz *f)
{
	int rc = fold_graph(f, NULL, f->m->graph, "graph");
	od_free(f->name_count);
	f->name_count = NULL;
	if (f->names.cap)
		od_map_done(&f->names);
	return rc;
}
