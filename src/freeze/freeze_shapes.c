/*
 * freeze_shapes.c — what freezing does with inferred shapes besides folding: drops the
 * graph inputs nothing reads any more (a merged decoder's past_key_values once the no-past
 * branch is inlined) and, with --write-shapes, stores the inferred types as value_info.
 */
#include "config.h"
#include <string.h>
#include "freeze_impl.h"
#include "shape.h"

static int mark_read(const char *name, void *priv)
{
	struct od_map *read = priv;
	return *name && od_map_put(read, name, 0) < 0 ? -1 : 0;
}

/* Names the main graph's nodes (and their subgraphs) and outputs read. */
static int names_read(const struct od_graph *g, struct od_map *read)
{
	if (od_map_init(read, g->n_nodes * 2 + g->n_outputs + 1))
		return OD_ENOMEM;
	for (size_t i = 0; i < g->n_outputs; i++)
		if (mark_read(g->outputs[i]->name, read))
			return OD_ENOMEM;
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct od_node *n = g->nodes[i];
		for (size_t p = 0; p < n->n_inputs; p++)
			if (mark_read(n->inputs[p], read))
				return OD_ENOMEM;
		if (od_node_each_subgraph_ref(n, mark_read, read))
			return OD_ENOMEM;
	}
	return 0;
}

int fz_drop_unused_inputs(struct od_model *m, struct od_freeze_report *rep, struct od_ctx *ctx)
{
	struct od_graph *g = m->graph;
	struct od_map read;
	int rc = names_read(g, &read);
	const char **dropped = rc ? NULL : od_arena_alloc(rep->arena, (g->n_inputs + 1) * sizeof *dropped);
	size_t k = 0, nd = 0;
	if (!rc && !dropped)
		rc = OD_ENOMEM;
	for (size_t i = 0; !rc && i < g->n_inputs; i++) {
		struct od_value *v = g->inputs[i];
		if (od_map_get(&read, v->name, NULL)) {
			g->inputs[k++] = v;
			continue;
		}
		if (!(dropped[nd++] = od_arena_strdup(rep->arena, v->name)))
			rc = OD_ENOMEM;
	}
	if (!rc) {
		g->n_inputs = k;
		rep->dropped = dropped;
		rep->n_dropped = nd;
	}
	od_map_done(&read);
	return rc ? od_error(ctx, rc, "out of memory") : 0;
}

/* An od_value for the inferred type v, in arena a. */
static struct od_value *value_of(struct od_arena *a, const struct od_shape *v)
{
	char text[1024];
	struct od_value *d = od_arena_alloc(a, sizeof *d);
	if (!d)
		return NULL;
	d->name = v->name;
	d->kind = OD_TYPE_TENSOR;
	d->dtype = v->dtype;
	d->rank = v->rank;
	d->dims = od_arena_alloc(a, (size_t)(v->rank + 1) * sizeof *d->dims);
	if (!d->dims)
		return NULL;
	for (int i = 0; i < v->rank; i++)
		d->dims[i] = v->dims[i].value >= 0 ? v->dims[i] : (struct od_dim){-1, v->dims[i].param};
	od_shape_text(v, text, sizeof text);
	const char *br = strchr(text, '[');
	d->type_str = od_arena_printf(a, "tensor(%s)%s", od_dtype_name(v->dtype), br ? br : "");
	d->dirty = true;
	return d->type_str ? d : NULL;
}

/* Names of g's inputs, outputs and initializers: they have types of their own. */
static int typed_names(const struct od_graph *g, struct od_map *names)
{
	int rc = od_map_init(names, g->n_inputs + g->n_outputs + g->n_inits + 1) ? OD_ENOMEM : 0;
	for (size_t i = 0; !rc && i < g->n_inputs; i++)
		rc = mark_read(g->inputs[i]->name, names);
	for (size_t i = 0; !rc && i < g->n_outputs; i++)
		rc = mark_read(g->outputs[i]->name, names);
	for (size_t i = 0; !rc && i < g->n_inits; i++)
		rc = mark_read(g->inits[i]->name, names);
	return rc ? OD_ENOMEM : 0;
}

int fz_write_shapes(struct od_model *m, struct od_ctx *ctx)
{
	struct od_shapes *s;
	struct od_graph *g = m->graph;
	struct od_map typed;
	int rc = od_shapes_infer(m, &s, ctx);
	if (rc)
		return rc;
	if (typed_names(g, &typed)) {
		od_shapes_free(s);
		return od_error(ctx, OD_ENOMEM, "out of memory");
	}
	const struct od_shape_graph *sg = od_shapes_graph(s, g);
	size_t cap = sg->n + 1, n = 0;
	struct od_value **vi = od_arena_alloc(m->arena, cap * sizeof *vi);
	for (size_t i = 0; vi && i < sg->n; i++) {
		const struct od_shape *v = &sg->values[i];
		if (v->kind != OD_TYPE_TENSOR || !v->dtype || od_map_get(&typed, v->name, NULL))
			continue;
		if (!(vi[n++] = value_of(m->arena, v)))
			vi = NULL;
	}
	od_map_done(&typed);
	od_shapes_free(s);
	if (!vi)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	g->value_info = vi;
	g->n_value_info = n;
	g->cap_value_info = cap;
	return 0;
}
