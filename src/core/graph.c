/*
 * graph.c — lookups, edits, topological order and structural validation of graphs.
 *
 * Values are SSA: every name is defined once, by a graph input, an initializer, a sparse
 * initializer, a node output or an enclosing graph (subgraphs may read outer names).
 */
#include "config.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

struct od_node *od_node_new(struct od_arena *a, const char *op_type, const char *domain,
                            const char *name)
{
	struct od_node *n = od_arena_alloc(a, sizeof *n);
	if (!n)
		return NULL;
	n->op_type = od_arena_strdup(a, op_type);
	n->domain = od_arena_strdup(a, domain ? domain : "");
	n->name = od_arena_strdup(a, name ? name : "");
	return n->op_type && n->domain && n->name ? n : NULL;
}

struct od_attr *od_node_attr(const struct od_node *n, const char *name)
{
	for (size_t i = 0; i < n->n_attrs; i++)
		if (!strcmp(n->attrs[i].name, name))
			return &n->attrs[i];
	return NULL;
}

bool od_domain_is_onnx(const char *domain)
{
	return !domain || !*domain || !strcmp(domain, "ai.onnx");
}

int64_t od_opsets_version(const struct od_opset *o, size_t n, const char *domain)
{
	bool onnx = od_domain_is_onnx(domain);
	int64_t v = 0;
	for (size_t i = 0; i < n; i++)
		if (onnx ? od_domain_is_onnx(o[i].domain) : !strcmp(o[i].domain, domain))
			v = o[i].version;
	return v;
}

int64_t od_model_opset(const struct od_model *m, const char *domain)
{
	return od_opsets_version(m->opsets, m->n_opsets, domain);
}

#define APPEND(a, arr, n, cap, item) do { \
	void *p_ = od_arena_grow(a, arr, n, sizeof *(arr), &(cap), (n) + 1); \
	if (!p_) \
		return OD_ENOMEM; \
	(arr) = p_; \
	(arr)[(n)++] = (item); \
	return 0; \
} while (0)

int od_graph_add_node(struct od_arena *a, struct od_graph *g, struct od_node *n)
{
	APPEND(a, g->nodes, g->n_nodes, g->cap_nodes, n);
}

int od_graph_add_init(struct od_arena *a, struct od_graph *g, struct od_tensor *t)
{
	APPEND(a, g->inits, g->n_inits, g->cap_inits, t);
}

struct od_tensor *od_graph_find_init(const struct od_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n_inits; i++)
		if (!strcmp(g->inits[i]->name, name))
			return g->inits[i];
	return NULL;
}

char *od_value_type_text(struct od_arena *a, const struct od_value *v)
{
	char buf[1024];
	size_t off;
	if (v->kind != OD_TYPE_TENSOR)
		return od_arena_strdup(a, v->type_str && *v->type_str ? v->type_str : "(no type)");
	off = (size_t)snprintf(buf, sizeof buf, "%s", od_dtype_name(v->dtype));
	for (int i = 0; i < v->rank && off < sizeof buf; i++) {
		const struct od_dim *d = &v->dims[i];
		const char *sep = i ? "," : "[";
		off += (size_t)(d->param ? snprintf(buf + off, sizeof buf - off, "%s%s", sep, d->param)
		                : d->value >= 0 ? snprintf(buf + off, sizeof buf - off, "%s%lld", sep, (long long)d->value)
		                : snprintf(buf + off, sizeof buf - off, "%s?", sep));
	}
	if (v->rank >= 0 && off < sizeof buf)
		off += (size_t)snprintf(buf + off, sizeof buf - off, v->rank ? "]" : "[]");
	if (off >= sizeof buf)                      /* a dim name of a kilobyte: cut it */
		memcpy(buf + sizeof buf - 4, "...", 4);
	return od_arena_strdup(a, buf);
}

static struct od_value *find_value(struct od_value **v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i]->name, name))
			return v[i];
	return NULL;
}

struct od_value *od_graph_find_input(const struct od_graph *g, const char *name)
{
	return find_value(g->inputs, g->n_inputs, name);
}

struct od_value *od_graph_find_output(const struct od_graph *g, const char *name)
{
	return find_value(g->outputs, g->n_outputs, name);
}

int od_graph_remove_input(struct od_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n_inputs; i++)
		if (!strcmp(g->inputs[i]->name, name)) {
			memmove(&g->inputs[i], &g->inputs[i + 1], (g->n_inputs - i - 1) * sizeof *g->inputs);
			g->n_inputs--;
			return 0;
		}
	return OD_ENOTFOUND;
}

bool od_graph_init_is_input(const struct od_graph *g, const struct od_tensor *t)
{
	return od_graph_find_input(g, t->name) != NULL;
}

size_t od_graph_count_nodes(const struct od_graph *g)
{
	size_t n = g->n_nodes;
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t k = 0; k < g->nodes[i]->n_attrs; k++) {
			const struct od_attr *a = &g->nodes[i]->attrs[k];
			if (a->type == OD_ATTR_GRAPH && a->g)
				n += od_graph_count_nodes(a->g);
			for (size_t j = 0; a->type == OD_ATTR_GRAPHS && j < a->n; j++)
				n += od_graph_count_nodes(a->graphs[j]);
		}
	return n;
}

size_t od_graph_count_subgraphs(const struct od_graph *g)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n_nodes; i++)
		for (size_t k = 0; k < g->nodes[i]->n_attrs; k++) {
			const struct od_attr *a = &g->nodes[i]->attrs[k];
			if (a->type == OD_ATTR_GRAPH && a->g)
				n += 1 + od_graph_count_subgraphs(a->g);
			for (size_t j = 0; a->type == OD_ATTR_GRAPHS && j < a->n; j++)
				n += 1 + od_graph_count_subgraphs(a->graphs[j]);
		}
	return n;
}

/* ---- topological order ---------------------------------------------------------------- */

int od_node_each_subgraph_ref(const struct od_node *n, int (*fn)(const char *, void *), void *priv)
{
	for (size_t k = 0; k < n->n_attrs; k++) {
		const struct od_attr *a = &n->attrs[k];
		size_t cnt = a->type == OD_ATTR_GRAPH ? (a->g != NULL) : a->type == OD_ATTR_GRAPHS ? a->n : 0;
		for (size_t j = 0; j < cnt; j++) {
			const struct od_graph *sg = a->type == OD_ATTR_GRAPH ? a->g : a->graphs[j];
			for (size_t i = 0; i < sg->n_nodes; i++) {
				const struct od_node *sn = sg->nodes[i];
				for (size_t p = 0; p < sn->n_inputs; p++)
					if (*sn->inputs[p] && fn(sn->inputs[p], priv))
						return -1;
				if (od_node_each_subgraph_ref(sn, fn, priv))
					return -1;
			}
			for (size_t i = 0; i < sg->n_outputs; i++)
				if (fn(sg->outputs[i]->name, priv))
					return -1;
		}
	}
	return 0;
}

struct topo {
	const struct od_map *producers;
	size_t self;
	bool direct;            /* a node's own input: reading its own output is a cycle */
	size_t n_nodes;         /* producer values at or past this are not nodes */
	size_t *edges;          /* pairs (from, to), malloc'd */
	size_t n_edges, cap_edges;
};

static int add_edge(const char *name, void *priv)
{
	struct topo *t = priv;
	size_t from;
	if (!od_map_get(t->producers, name, &from) || from >= t->n_nodes ||
	    (from == t->self && !t->direct))
		return 0;
	size_t *e = od_grow(t->edges, t->n_edges, 2 * sizeof *e, &t->cap_edges, 256);
	if (!e)
		return -1;
	t->edges = e;
	t->edges[2 * t->n_edges] = from;
	t->edges[2 * t->n_edges + 1] = t->self;
	t->n_edges++;
	return 0;
}

/* Binary min-heap of node indices, so the order is the file's order whenever it is valid. */
static void heap_push(size_t *h, size_t *n, size_t v)
{
	size_t i = (*n)++;
	while (i && h[(i - 1) / 2] > v) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static size_t heap_pop(size_t *h, size_t *n)
{
	size_t top = h[0], v = h[--*n], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && h[c + 1] < h[c])
			c++;
		if (h[c] >= v)
			break;
		h[i] = h[c];
		i = c;
	}
	h[i] = v;
	return top;
}

static int collect_edges(const struct od_graph *g, struct topo *t)
{
	for (size_t i = 0; i < g->n_nodes; i++) {
		const struct od_node *n = g->nodes[i];
		t->self = i;
		t->direct = true;
		for (size_t p = 0; p < n->n_inputs; p++)
			if (*n->inputs[p] && add_edge(n->inputs[p], t))
				return OD_ENOMEM;
		t->direct = false;
		if (od_node_each_subgraph_ref(n, add_edge, t))
			return OD_ENOMEM;
	}
	return 0;
}

static int cmp_edge(const void *a, const void *b)
{
	const size_t *x = a, *y = b;
	return x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Kahn's algorithm over the edges found through producers (name -> index of the node
 * that writes it; values >= n_nodes name something else and are no edge). */
static int topo_sort(const struct od_graph *g, const struct od_map *producers, size_t **order,
                     struct od_ctx *ctx)
{
	struct topo t = {producers, 0, false, g->n_nodes, NULL, 0, 0};
	size_t n = g->n_nodes, *indeg = NULL, *start = NULL, *heap = NULL, *out = NULL, nh = 0, k = 0;
	int rc = OD_ENOMEM;
	*order = NULL;
	if (collect_edges(g, &t))
		goto out;
	if (t.n_edges)          /* qsort(NULL, 0, ...) is undefined */
		qsort(t.edges, t.n_edges, 2 * sizeof *t.edges, cmp_edge);
	indeg = od_calloc(n + 1, sizeof *indeg);
	start = od_calloc(n + 2, sizeof *start);
	heap = od_malloc((n + 1) * sizeof *heap);
	out = od_malloc((n + 1) * sizeof *out);
	if (!indeg || !start || !heap || !out)
		goto out;
	for (size_t e = 0; e < t.n_edges; e++) {
		indeg[t.edges[2 * e + 1]]++;
		start[t.edges[2 * e] + 1]++;
	}
	for (size_t i = 0; i < n; i++)
		start[i + 1] += start[i];
	for (size_t i = 0; i < n; i++)
		if (!indeg[i])
			heap_push(heap, &nh, i);
	while (nh) {
		size_t v = heap_pop(heap, &nh);
		out[k++] = v;
		for (size_t e = start[v]; e < start[v + 1]; e++)
			if (!--indeg[t.edges[2 * e + 1]])
				heap_push(heap, &nh, t.edges[2 * e + 1]);
	}
	if (k != n) {
		for (size_t i = 0; i < n; i++)
			if (indeg[i]) {
				rc = od_error(ctx, OD_EGRAPH, "graph has a cycle through node '%s' (%s)",
				              g->nodes[i]->name, g->nodes[i]->op_type);
				break;
			}
		goto out;
	}
	*order = out;
	out = NULL;
	rc = 0;
out:
	if (rc == OD_ENOMEM)
		od_error(ctx, rc, "out of memory");
	od_free(t.edges);
	od_free(indeg);
	od_free(start);
	od_free(heap);
	od_free(out);
	return rc;
}

int od_graph_topo_order(const struct od_graph *g, size_t **order, struct od_ctx *ctx)
{
	struct od_map producers = {0};
	int rc = od_map_init(&producers, g->n_nodes);
	for (size_t i = 0; !rc && i < g->n_nodes; i++)
		for (size_t o = 0; !rc && o < g->nodes[i]->n_outputs; o++)
			if (*g->nodes[i]->outputs[o] && od_map_put(&producers, g->nodes[i]->outputs[o], i) < 0)
				rc = OD_ENOMEM;
	rc = rc ? od_error(ctx, OD_ENOMEM, "out of memory") : topo_sort(g, &producers, order, ctx);
	od_map_done(&producers);
	return rc;
}

/* ---- validation ---------------------------------------------------------------------------- */

struct scope {
	const struct scope *outer;
	struct od_map names;
};

static bool scope_has(const struct scope *s, const char *name)
{
	for (; s; s = s->outer)
		if (od_map_get(&s->names, name, NULL))
			return true;
	return false;
}

/* What defines a name, as the scope map stores it: a node output stores its node's index
 * (so the same map serves the topological order), the others one of these. */
#define DEF_INPUT  (SIZE_MAX - 1)
#define DEF_INIT   (SIZE_MAX - 2)
#define DEF_SPARSE (SIZE_MAX - 3)

static const char *def_label(size_t def)
{
	return def == DEF_INPUT ? "graph input" : def == DEF_INIT ? "initializer" :
	       def == DEF_SPARSE ? "sparse initializer" : "node output";
}

static int define(struct scope *s, const char *name, size_t def, struct od_ctx *ctx)
{
	if (!*name)
		return 0;
	int r = od_map_put(&s->names, name, def);
	if (r < 0)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	if (r)
		return od_error(ctx, OD_EGRAPH, "duplicate value name '%s' (%s)", name, def_label(def));
	return 0;
}

static int validate_graph(const struct od_graph *g, const struct scope *outer, struct od_ctx *ctx);

static int validate_node(const struct od_node *n, const struct scope *s, struct od_ctx *ctx)
{
	for (size_t p = 0; p < n->n_inputs; p++)
		if (*n->inputs[p] && !scope_has(s, n->inputs[p]))
			return od_error(ctx, OD_EGRAPH, "node '%s' (%s) reads undefined value '%s'",
			                n->name, n->op_type, n->inputs[p]);
	for (size_t k = 0; k < n->n_attrs; k++) {
		const struct od_attr *a = &n->attrs[k];
		int rc = 0;
		if (a->type == OD_ATTR_GRAPH && a->g)
			rc = validate_graph(a->g, s, ctx);
		for (size_t j = 0; !rc && a->type == OD_ATTR_GRAPHS && j < a->n; j++)
			rc = validate_graph(a->graphs[j], s, ctx);
		if (rc)
			return rc;
	}
	return 0;
}

static int validate_graph(const struct od_graph *g, const struct scope *outer, struct od_ctx *ctx)
{
	struct scope s = {outer, {0}};
	size_t what;
	size_t *order = NULL;
	int rc = od_map_init(&s.names, g->n_inputs + g->n_inits + g->n_nodes * 2);
	if (rc)
		return od_error(ctx, rc, "out of memory");
	for (size_t i = 0; !rc && i < g->n_inputs; i++)
		rc = define(&s, g->inputs[i]->name, DEF_INPUT, ctx);
	for (size_t i = 0; !rc && i < g->n_inits; i++)  /* one also an input: an overridable default */
		if (!od_map_get(&s.names, g->inits[i]->name, &what) || what != DEF_INPUT)
			rc = define(&s, g->inits[i]->name, g->inits[i]->sparse ? DEF_SPARSE : DEF_INIT, ctx);
	for (size_t i = 0; !rc && i < g->n_nodes; i++)
		for (size_t o = 0; !rc && o < g->nodes[i]->n_outputs; o++)
			rc = define(&s, g->nodes[i]->outputs[o], i, ctx);
	for (size_t i = 0; !rc && i < g->n_nodes; i++)
		rc = validate_node(g->nodes[i], &s, ctx);
	for (size_t i = 0; !rc && i < g->n_outputs; i++)
		if (!scope_has(&s, g->outputs[i]->name))
			rc = od_error(ctx, OD_EGRAPH, "graph output '%s' is not defined", g->outputs[i]->name);
	if (!rc)   /* the scope map doubles as the producer map */
		rc = topo_sort(g, &s.names, &order, ctx);
	od_free(order);
	od_map_done(&s.names);
	return rc;
}

int od_model_validate(const struct od_model *m, struct od_ctx *ctx)
{
	int rc = validate_graph(m->graph, NULL, ctx);
	for (size_t i = 0; !rc && i < m->n_functions; i++)
		rc = validate_graph(m->functions[i]->body, NULL, ctx);
	return rc;
}
