/*
 * fold_if.c — replacing an If whose condition is constant by its chosen branch.
 *
 * The branch's nodes, initializers and value_info move into the enclosing graph. Names the
 * branch defines keep their spelling when no other graph of the model defines them, else
 * get a "_N" suffix; references inside nested subgraphs follow. A branch output produced by
 * a branch node takes the If's output name, so consumers and graph outputs keep reading the
 * same name; an output that is an outer value or an initializer gets an Identity instead.
 * The moved nodes then go through the folder like any other (nested constant Ifs included).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "freeze_impl.h"

/* ---- every name of the model, with how often it is defined -------------------------------- */

static int count_name(struct fz *f, const char *name)
{
	size_t i;
	if (!*name)
		return 0;
	if (od_map_get(&f->names, name, &i)) {
		f->name_count[i]++;
		return 0;
	}
	size_t *c = od_grow(f->name_count, f->n_names, sizeof *c, &f->cap_names, 256);
	if (!c)
		return OD_ENOMEM;
	f->name_count = c;
	f->name_count[f->n_names] = 1;
	if (od_map_put(&f->names, name, f->n_names) < 0)
		return OD_ENOMEM;
	f->n_names++;
	return 0;
}

static int count_graph(struct fz *f, const struct od_graph *g)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < g->n_inputs; i++)
		rc = count_name(f, g->inputs[i]->name);
	for (size_t i = 0; !rc && i < g->n_inits; i++)
		rc = count_name(f, g->inits[i]->name);
	for (size_t i = 0; !rc && i < g->n_nodes; i++) {
		const struct od_node *n = g->nodes[i];
		for (size_t o = 0; !rc && o < n->n_outputs; o++)
			rc = count_name(f, n->outputs[o]);
		for (size_t k = 0; !rc && k < n->n_attrs; k++) {
			const struct od_attr *a = &n->attrs[k];
			if (a->type == OD_ATTR_GRAPH && a->g)
				rc = count_graph(f, a->g);
			for (size_t j = 0; !rc && a->type == OD_ATTR_GRAPHS && j < a->n; j++)
				rc = count_graph(f, a->graphs[j]);
		}
	}
	return rc;
}

static int ensure_names(struct fz *f)
{
	if (f->name_count)
		return 0;
	if (od_map_init(&f->names, 1024) || count_graph(f, f->m->graph))
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	return 0;
}

/* A name for a value the branch defines: its own when unique in the model, else name_N. */
static const char *fresh(struct fz *f, const char *name)
{
	size_t i;
	if (od_map_get(&f->names, name, &i) && f->name_count[i] <= 1)
		return name;
	for (unsigned k = 1;; k++) {
		char *cand = od_arena_printf(f->a, "%s_%u", name, k);
		if (!cand)
			return NULL;
		if (!od_map_get(&f->names, cand, NULL))
			return count_name(f, cand) ? NULL : cand;
	}
}

/* ---- renaming -------------------------------------------------------------------------------- */

struct rename {
	struct od_map idx;      /* old name -> index into to */
	const char **to;        /* malloc'd */
	size_t n, cap;
};

static int ren_add(struct rename *r, const char *from, const char *to)
{
	size_t i;
	if (od_map_get(&r->idx, from, &i)) {
		r->to[i] = to;
		return 0;
	}
	const char **v = od_grow(r->to, r->n, sizeof *v, &r->cap, 32);
	if (!v)
		return OD_ENOMEM;
	r->to = v;
	r->to[r->n] = to;
	if (od_map_put(&r->idx, from, r->n) < 0)
		return OD_ENOMEM;
	r->n++;
	return 0;
}

static const char *ren_get(const struct rename *r, const char *name)
{
	size_t i;
	return *name && od_map_get(&r->idx, name, &i) ? r->to[i] : name;
}

/* A new array of the names with the renames applied (the old one may be the loader's). */
static const char **ren_names(struct fz *f, const struct rename *r, const char **names, size_t n)
{
	const char **v = od_arena_alloc(f->a, (n + 1) * sizeof *v);
	for (size_t i = 0; v && i < n; i++)
		v[i] = ren_get(r, names[i]);
	return v;
}

static int ren_graph(struct fz *f, const struct rename *r, struct od_graph *g);

static int ren_node(struct fz *f, const struct rename *r, struct od_node *n, struct od_graph *owner)
{
	n->inputs = ren_names(f, r, n->inputs, n->n_inputs);
	n->outputs = ren_names(f, r, n->outputs, n->n_outputs);
	if (!n->inputs || !n->outputs)
		return OD_ENOMEM;
	for (size_t k = 0; k < n->n_attrs; k++) {
		struct od_attr *a = &n->attrs[k];
		size_t cnt = a->type == OD_ATTR_GRAPH ? (a->g != NULL) : a->type == OD_ATTR_GRAPHS ? a->n : 0;
		for (size_t j = 0; j < cnt; j++) {
			struct od_graph *sg = a->type == OD_ATTR_GRAPH ? a->g : a->graphs[j];
			sg->parent = owner;
			int rc = ren_graph(f, r, sg);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* References from nested subgraphs to names of the branch. */
static int ren_graph(struct fz *f, const struct rename *r, struct od_graph *g)
{
	for (size_t i = 0; i < g->n_nodes; i++) {
		int rc = ren_node(f, r, g->nodes[i], g);
		if (rc)
			return rc;
	}
	for (size_t i = 0; i < g->n_outputs; i++) {
		const char *to = ren_get(r, g->outputs[i]->name);
		if (to != g->outputs[i]->name) {
			g->outputs[i]->name = to;
			g->outputs[i]->dirty = true;
		}
	}
	return 0;
}

/* ---- inlining --------------------------------------------------------------------------------- */

struct inliner {
	struct fz *f;
	struct fz_scope *s;
	struct od_node *n;      /* the If */
	struct od_graph *b;     /* the chosen branch */
	struct rename r;
	bool *defined_by_node;  /* per branch output: produced by a branch node */
};

/* Fresh names for everything the branch defines; outputs take the If's names. */
static int plan_names(struct inliner *in)
{
	struct od_graph *b = in->b;
	struct fz *f = in->f;
	for (size_t i = 0; i < b->n_inits; i++) {
		const char *to = fresh(f, b->inits[i]->name);
		if (!to || ren_add(&in->r, b->inits[i]->name, to))
			return OD_ENOMEM;
	}
	struct od_map outs;
	if (od_map_init(&outs, b->n_nodes * 2))
		return OD_ENOMEM;
	int rc = 0;
	for (size_t i = 0; !rc && i < b->n_nodes; i++)
		for (size_t o = 0; !rc && o < b->nodes[i]->n_outputs; o++) {
			const char *name = b->nodes[i]->outputs[o], *to;
			if (!*name)
				continue;
			rc = od_map_put(&outs, name, 0) < 0 || !(to = fresh(f, name)) ||
			     ren_add(&in->r, name, to) ? OD_ENOMEM : 0;
		}
	for (size_t i = 0; !rc && i < b->n_outputs && i < in->n->n_outputs; i++) {
		const char *bo = b->outputs[i]->name;
		bool claimed = false;
		for (size_t j = 0; j < i; j++)
			claimed |= in->defined_by_node[j] && !strcmp(b->outputs[j]->name, bo);
		in->defined_by_node[i] = *in->n->outputs[i] && !claimed && od_map_get(&outs, bo, NULL);
		if (in->defined_by_node[i])
			rc = ren_add(&in->r, bo, in->n->outputs[i]) ? OD_ENOMEM : 0;
	}
	od_map_done(&outs);
	return rc;
}

/* Initializers and value_info of the branch join the enclosing graph. The initializers are
 * the exporter's constants: they do not count as derived from a frozen value. */
static int move_data(struct inliner *in)
{
	struct fz *f = in->f;
	struct od_graph *g = in->s->g, *b = in->b;
	for (size_t i = 0; i < b->n_inits; i++) {
		struct od_tensor *t = b->inits[i];
		const char *to = ren_get(&in->r, t->name);
		if (to != t->name) {
			t->name = to;
			t->data_dirty = true;
		}
		if (od_graph_add_init(f->a, g, t) || fz_define(f, in->s, t->name, t, false, -1))
			return OD_ENOMEM;
	}
	for (size_t i = 0; i < b->n_value_info; i++) {
		struct od_value *v = b->value_info[i];
		const char *to = ren_get(&in->r, v->name);
		if (to != v->name) {
			v->name = to;
			v->dirty = true;
		}
		void *p = od_arena_grow(f->a, g->value_info, g->n_value_info, sizeof *g->value_info,
		                        &g->cap_value_info, g->n_value_info + 1);
		if (!p)
			return OD_ENOMEM;
		g->value_info = p;
		g->value_info[g->n_value_info++] = v;
	}
	return 0;
}

static struct od_node *identity(struct fz *f, const char *name, const char *from, const char *to)
{
	struct od_node *id = od_node_new(f->a, "Identity", "", name);
	const char **io = od_arena_alloc(f->a, 2 * sizeof *io);
	if (!id || !io)
		return NULL;
	io[0] = from;
	io[1] = to;
	id->inputs = io;
	id->n_inputs = 1;
	id->outputs = io + 1;
	id->n_outputs = 1;
	return id;
}

static int run_inline(struct inliner *in)
{
	struct fz *f = in->f;
	struct od_graph *b = in->b;
	size_t *order = NULL;
	int rc = plan_names(in);
	if (!rc)
		rc = move_data(in);
	if (!rc)
		rc = od_graph_topo_order(b, &order, f->ctx);
	if (rc)
		return rc == OD_ENOMEM ? od_error(f->ctx, rc, "out of memory") : rc;
	for (size_t i = 0; !rc && i < b->n_nodes; i++) {
		struct od_node *bn = b->nodes[order[i]];
		rc = ren_node(f, &in->r, bn, in->s->g);
		if (rc)
			rc = od_error(f->ctx, rc, "out of memory");
		else
			rc = fz_process(f, in->s, bn);
	}
	od_free(order);
	for (size_t i = 0; !rc && i < b->n_outputs && i < in->n->n_outputs; i++) {
		if (in->defined_by_node[i] || !*in->n->outputs[i])
			continue;
		struct od_node *id = identity(f, in->n->name, ren_get(&in->r, b->outputs[i]->name),
		                              in->n->outputs[i]);
		rc = id ? fz_process(f, in->s, id) : od_error(f->ctx, OD_ENOMEM, "out of memory");
	}
	return rc;
}

int fz_inline_if(struct fz *f, struct fz_scope *s, struct od_node *n,
                 const struct od_tensor *cond)
{
	bool then = od_tensor_get_f64(cond, 0) != 0;
	struct od_attr *at = od_node_attr(n, then ? "then_branch" : "else_branch");
	if (!at || at->type != OD_ATTR_GRAPH || !at->g || at->g->n_outputs != n->n_outputs ||
	    at->g->n_inputs)
		return od_error(f->ctx, OD_EGRAPH, "If '%s' has no usable %s", n->name,
		                then ? "then_branch" : "else_branch");
	struct inliner in = {.f = f, .s = s, .n = n, .b = at->g};
	int rc = ensure_names(f);
	if (rc)
		return rc;
	in.defined_by_node = od_calloc(n->n_outputs + 1, sizeof *in.defined_by_node);
	if (!in.defined_by_node || od_map_init(&in.r.idx, at->g->n_nodes * 2 + at->g->n_inits)) {
		od_free(in.defined_by_node);
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	}
	/* The branch's nodes fold by the rule of every node: when they read a value derived
	 * from a frozen one, not because a frozen value chose their branch. */
	rc = run_inline(&in);
	if (rc == OD_ENOMEM && f->ctx && !f->ctx->code)
		od_error(f->ctx, rc, "out of memory");
	if (!rc)
		f->rep->n_if_inlined++;
	od_map_done(&in.r.idx);
	od_free(in.r.to);
	od_free(in.defined_by_node);
	return rc;
}
