/*
 * fold_prune.c — removing what no longer reaches an output after freezing or folding:
 * nodes none of whose outputs is read (by a remaining node, a subgraph of one, or a graph
 * output), initializers nobody reads (overridable defaults, listed as inputs, stay: they
 * are part of the interface), and value_info of values no remaining node produces.
 */
#include "config.h"
#include <stdlib.h>
#include <string.h>
#include "freeze_impl.h"

/* What pruning knows about each value of the scope (indexed as s->vals, through s->idx,
 * the map folding built: pruning looks names up and builds no map of its own). */
enum { LIVE = 1, MADE = 2 };

struct marks {
	const struct fz_scope *s;
	unsigned char *v;       /* LIVE | MADE per value, malloc'd */
};

static unsigned char *mark_of(const struct marks *m, const char *name)
{
	size_t i;
	return *name && od_map_get(&m->s->idx, name, &i) ? &m->v[i] : NULL;
}

static int add_live(const char *name, void *priv)
{
	unsigned char *v = mark_of(priv, name);
	if (v)
		*v |= LIVE;
	return 0;
}

static bool node_live(const struct od_node *n, const struct marks *m)
{
	for (size_t o = 0; o < n->n_outputs; o++) {
		const unsigned char *v = mark_of(m, n->outputs[o]);
		if (v && (*v & LIVE))
			return true;
	}
	return false;
}

/* Marks the live nodes of g (keep[i]) and every name they read, walking the nodes
 * backwards: they are in topological order. */
static void mark_live(const struct od_graph *g, bool *keep, struct marks *m)
{
	for (size_t i = 0; i < g->n_outputs; i++)
		add_live(g->outputs[i]->name, m);
	for (size_t i = g->n_nodes; i-- > 0;) {
		const struct od_node *n = g->nodes[i];
		if (!node_live(n, m))
			continue;
		keep[i] = true;
		for (size_t p = 0; p < n->n_inputs; p++)
			add_live(n->inputs[p], m);
		od_node_each_subgraph_ref(n, add_live, m);
	}
}

/* Keeps the initializers something reads (or that are inputs' defaults) and the value_info
 * of values still produced. */
static void prune_data(struct od_graph *g, struct marks *m)
{
	size_t k = 0;
	for (size_t i = 0; i < g->n_inputs; i++)
		add_live(g->inputs[i]->name, m);
	for (size_t i = 0; i < g->n_inits; i++) {
		const unsigned char *v = mark_of(m, g->inits[i]->name);
		if (v && (*v & LIVE))
			g->inits[k++] = g->inits[i];
	}
	g->n_inits = k;
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t o = 0; o < g->nodes[i]->n_outputs; o++) {
			unsigned char *v = mark_of(m, g->nodes[i]->outputs[o]);
			if (v)
				*v |= MADE;
		}
	k = 0;
	for (size_t i = 0; i < g->n_value_info; i++) {
		const unsigned char *v = mark_of(m, g->value_info[i]->name);
		if (v && (*v & MADE))
			g->value_info[k++] = g->value_info[i];
	}
	g->n_value_info = k;
}

int fz_prune(struct fz *f, const struct fz_scope *s)
{
	struct od_graph *g = s->g;
	struct marks m = {s, od_calloc(s->n_vals + 1, 1)};
	bool *keep = od_calloc(g->n_nodes + 1, sizeof *keep);
	if (!keep || !m.v) {
		od_free(keep);
		od_free(m.v);
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	}
	mark_live(g, keep, &m);
	size_t k = 0;
	for (size_t i = 0; i < g->n_nodes; i++)
		if (keep[i])
			g->nodes[k++] = g->nodes[i];
	g->n_nodes = k;
	prune_data(g, &m);
	od_free(m.v);
	od_free(keep);
	return 0;
}

/* ---- sizes for the report and the growth budget --------------------------------------------- */

size_t fz_count_inits(const struct od_graph *g)
{
	size_t n = g->n_inits;
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t k = 0; k < g->nodes[i]->n_attrs; k++) {
			const struct od_attr *a = &g->nodes[i]->attrs[k];
			if (a->type == OD_ATTR_GRAPH && a->g)
				n += fz_count_inits(a->g);
			for (size_t j = 0; a->type == OD_ATTR_GRAPHS && j < a->n; j++)
				n += fz_count_inits(a->graphs[j]);
		}
	return n;
}

/* Bytes of initializers and Constant node values in g and its subgraphs. */
uint64_t fz_const_bytes(const struct od_graph *g)
{
	uint64_t n = 0;
	for (size_t i = 0; i < g->n_inits; i++)
		n += g->inits[i]->nbytes;
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t k = 0; k < g->nodes[i]->n_attrs; k++) {
			const struct od_attr *a = &g->nodes[i]->attrs[k];
			if (a->type == OD_ATTR_TENSOR && a->t)
				n += a->t->nbytes;
			if (a->type == OD_ATTR_GRAPH && a->g)
				n += fz_const_bytes(a->g);
			for (size_t j = 0; a->type == OD_ATTR_GRAPHS && j < a->n; j++)
				n += fz_const_bytes(a->graphs[j]);
		}
	return n;
}
