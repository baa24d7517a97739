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

static int add_live(const char *name, void *priv)
{
	return *name && od_map_put(priv, name, 0) < 0 ? -1 : 0;
}

static bool node_live(const struct od_node *n, const struct od_map *live)
{
	for (size_t o = 0; o < n->n_outputs; o++)
		if (*n->outputs[o] && od_map_get(live, n->outputs[o], NULL))
			return true;
	return false;
}

/* Marks the live nodes of g (keep[i]) and every name they read (live). */
static int mark_live(const struct od_graph *g, const size_t *order, bool *keep, struct od_map *live)
{
	for (size_t i = 0; i < g->n_outputs; i++)
		if (add_live(g->outputs[i]->name, live))
			return OD_ENOMEM;
	for (size_t i = g->n_nodes; i-- > 0;) {
		const struct od_node *n = g->nodes[order[i]];
		if (!node_live(n, live))
			continue;
		keep[order[i]] = true;
		for (size_t p = 0; p < n->n_inputs; p++)
			if (add_live(n->inputs[p], live))
				return OD_ENOMEM;
		if (od_node_each_subgraph_ref(n, add_live, live))
			return OD_ENOMEM;
	}
	return 0;
}

/* Keeps the initializers something reads and the value_info of values still produced. */
static int prune_data(struct od_graph *g, const struct od_map *live)
{
	struct od_map made;
	size_t k = 0;
	for (size_t i = 0; i < g->n_inits; i++)
		if (od_map_get(live, g->inits[i]->name, NULL) || od_graph_find_input(g, g->inits[i]->name))
			g->inits[k++] = g->inits[i];
	g->n_inits = k;
	if (od_map_init(&made, g->n_nodes * 2))
		return OD_ENOMEM;
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t o = 0; o < g->nodes[i]->n_outputs; o++)
			if (add_live(g->nodes[i]->outputs[o], &made)) {
				od_map_done(&made);
				return OD_ENOMEM;
			}
	k = 0;
	for (size_t i = 0; i < g->n_value_info; i++)
		if (od_map_get(&made, g->value_info[i]->name, NULL))
			g->value_info[k++] = g->value_info[i];
	g->n_value_info = k;
	od_map_done(&made);
	return 0;
}

int fz_prune(struct fz *f, struct od_graph *g)
{
	struct od_map live;
	size_t *order = NULL;
	bool *keep = NULL;
	int rc = od_graph_topo_order(g, &order, f->ctx);
	if (rc)
		return rc;
	keep = od_calloc(g->n_nodes + 1, sizeof *keep);
	if (!keep || od_map_init(&live, g->n_nodes * 2 + g->n_outputs)) {
		od_free(keep);
		od_free(order);
		return od_error(f->ctx, OD_ENOMEM, "out of memory");
	}
	rc = mark_live(g, order, keep, &live);
	if (!rc) {
		size_t k = 0;
		for (size_t i = 0; i < g->n_nodes; i++)
			if (keep[i])
				g->nodes[k++] = g->nodes[i];
		g->n_nodes = k;
		rc = prune_data(g, &live);
	}
	if (rc)
		od_error(f->ctx, rc, "out of memory");
	od_map_done(&live);
	od_free(keep);
	od_free(order);
	return rc;
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
