/*
 * diff_textconv.c — a canonical text dump of a model for git's textconv driver: names
 * kept, one node per line, nodes in a topological order that does not depend on the order
 * of the file (ready nodes are taken by name), initializers sorted by name with dtype,
 * shape and content hash, attributes sorted by name, subgraphs indented under their node.
 */
#include "config.h"
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diff_impl.h"

struct dumper {
	struct od_printer p;
	struct od_arena *tmp;
};

/* The key a node is ordered by among ready nodes: its name, else its first output. */
static const char *node_key(const struct od_node *n)
{
	if (n->name && *n->name)
		return n->name;
	return n->n_outputs ? n->outputs[0] : "";
}

struct heap {
	uint32_t *v;
	size_t n;
	const struct od_graph *g;
};

static bool before(const struct heap *h, uint32_t a, uint32_t b)
{
	int c = strcmp(node_key(h->g->nodes[a]), node_key(h->g->nodes[b]));
	return c ? c < 0 : a < b;
}

static void heap_push(struct heap *h, uint32_t x)
{
	size_t i = h->n++;
	h->v[i] = x;
	while (i && before(h, h->v[i], h->v[(i - 1) / 2])) {
		uint32_t t = h->v[i];
		h->v[i] = h->v[(i - 1) / 2];
		h->v[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static uint32_t heap_pop(struct heap *h)
{
	uint32_t top = h->v[0];
	h->v[0] = h->v[--h->n];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && before(h, h->v[l], h->v[m]))
			m = l;
		if (r < h->n && before(h, h->v[r], h->v[m]))
			m = r;
		if (m == i)
			break;
		uint32_t t = h->v[i];
		h->v[i] = h->v[m];
		h->v[m] = t;
		i = m;
	}
	return top;
}

/* Kahn's algorithm taking the smallest key first; nodes on a cycle go last in file order. */
static uint32_t *stable_order(struct dumper *d, const struct dside *s)
{
	size_t nn = s->g->n_nodes, k = 0;
	uint32_t *indeg = od_arena_alloc(d->tmp, (nn + 1) * sizeof *indeg);
	uint32_t *order = od_arena_alloc(d->tmp, (nn + 1) * sizeof *order);
	struct heap h = {od_arena_alloc(d->tmp, (nn + 1) * sizeof *h.v), 0, s->g};
	if (!indeg || !order || !h.v)
		return NULL;
	for (size_t i = 0; i < s->n_vals; i++)
		if (s->vals[i].kind == V_NODE)
			for (uint32_t c = s->vals[i].cons; c < s->vals[i].cons + s->vals[i].n_cons; c++)
				indeg[s->cons[c].node]++;
	for (uint32_t i = 0; i < nn; i++)
		if (!indeg[i])
			heap_push(&h, i);
	while (h.n) {
		uint32_t x = heap_pop(&h);
		order[k++] = x;
		for (uint32_t o = s->out_start[x]; o < s->out_start[x + 1]; o++)
			for (uint32_t c = s->vals[o].cons; c < s->vals[o].cons + s->vals[o].n_cons; c++)
				if (--indeg[s->cons[c].node] == 0)
					heap_push(&h, s->cons[c].node);
	}
	for (uint32_t i = 0; i < nn && k < nn; i++)
		if (indeg[i])
			order[k++] = i;
	return order;
}

static int cmp_init(const void *x, const void *y)
{
	const struct od_tensor *a = *(struct od_tensor *const *)x, *b = *(struct od_tensor *const *)y;
	return strcmp(a->name, b->name);
}

static int cmp_attr(const void *x, const void *y)
{
	const struct od_attr *a = *(const struct od_attr *const *)x;
	const struct od_attr *b = *(const struct od_attr *const *)y;
	return strcmp(a->name, b->name);
}

static void dump_graph(struct dumper *d, const struct dside *s, int indent);

/* A text from the arena, or "" after noting that the allocation failed. */
static const char *txt(struct dumper *d, const char *s)
{
	if (!s && !d->p.rc)
		d->p.rc = OD_ENOMEM;
	return s ? s : "";
}

static void dump_tensor(struct dumper *d, int indent, const char *what, struct od_tensor *t)
{
	od_print(&d->p, "%*s%s %s %s xxh3:%016" PRIx64 "\n", indent, "", what, t->name,
	    txt(d, od_tensor_type_text(d->tmp, t)), od_tensor_hash(t));
}

static void dump_node(struct dumper *d, const struct dside *s, uint32_t k, int indent)
{
	const struct od_node *n = s->g->nodes[k];
	const struct od_attr **attrs = od_arena_alloc(d->tmp, (n->n_attrs + 1) * sizeof *attrs);
	if (!attrs) {
		d->p.rc = OD_ENOMEM;
		return;
	}
	od_print(&d->p, "%*snode %s: ", indent, "", *n->name ? n->name : "-");
	for (size_t i = 0; i < n->n_outputs; i++)
		od_print(&d->p, "%s%s", i ? ", " : "", n->outputs[i]);
	od_print(&d->p, " = %s%s%s(", *n->domain ? n->domain : "", *n->domain ? "." : "", n->op_type);
	for (size_t i = 0; i < n->n_inputs; i++)
		od_print(&d->p, "%s%s", i ? ", " : "", n->inputs[i]);
	od_print(&d->p, ")");
	for (size_t i = 0; i < n->n_attrs; i++)
		attrs[i] = &n->attrs[i];
	if (n->n_attrs > 1)
		qsort(attrs, n->n_attrs, sizeof *attrs, cmp_attr);
	for (size_t i = 0; i < n->n_attrs; i++)
		if (attrs[i]->type != OD_ATTR_GRAPH && attrs[i]->type != OD_ATTR_GRAPHS)
			od_print(&d->p, " %s=%s", attrs[i]->name, txt(d, diff_attr_text(d->tmp, attrs[i])));
	od_print(&d->p, "\n");
	for (size_t i = 0; i < n->n_attrs; i++)
		for (uint32_t c = s->child_start[k]; c < s->child_start[k + 1]; c++)
			if (!strcmp(s->child_attr[c], attrs[i]->name)) {
				od_print(&d->p, "%*s  %s:\n", indent, "", attrs[i]->name);
				dump_graph(d, s->child[c], indent + 4);
			}
}

static void dump_values(struct dumper *d, int indent, const char *what,
                        struct od_value *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		od_print(&d->p, "%*s%s %s %s\n", indent, "", what, v[i]->name, txt(d, od_value_type_text(d->tmp, v[i])));
}

static void dump_graph(struct dumper *d, const struct dside *s, int indent)
{
	const struct od_graph *g = s->g;
	struct od_tensor **inits = od_arena_alloc(d->tmp, (g->n_inits + 1) * sizeof *inits);
	uint32_t *order = stable_order(d, s);
	if (!inits || !order) {
		d->p.rc = OD_ENOMEM;
		return;
	}
	od_print(&d->p, "%*sgraph %s\n", indent, "", g->name ? g->name : "");
	dump_values(d, indent, "input", g->inputs, g->n_inputs);
	dump_values(d, indent, "output", g->outputs, g->n_outputs);
	if (g->n_inits) {
		memcpy(inits, g->inits, g->n_inits * sizeof *inits);
		qsort(inits, g->n_inits, sizeof *inits, cmp_init);
	}
	for (size_t i = 0; i < g->n_inits; i++)
		dump_tensor(d, indent, "initializer", inits[i]);
	for (size_t i = 0; i < g->n_nodes && !d->p.rc; i++)
		dump_node(d, s, order[i], indent);
}

static void dump_model(struct dumper *d, struct dstate *st, const struct od_model *m)
{
	struct dside *s;
	od_print(&d->p, "onnxdiff-textconv 1\n");
	od_print(&d->p, "ir_version %" PRId64 "\n", m->ir_version);
	od_print(&d->p, "producer %s %s\n", m->producer_name ? m->producer_name : "",
	    m->producer_version ? m->producer_version : "");
	if (m->domain && *m->domain)
		od_print(&d->p, "domain %s\n", m->domain);
	if (m->model_version)
		od_print(&d->p, "model_version %" PRId64 "\n", m->model_version);
	for (size_t i = 0; i < m->n_opsets; i++)
		od_print(&d->p, "opset %s %" PRId64 "\n", *m->opsets[i].domain ? m->opsets[i].domain : "ai.onnx",
		    m->opsets[i].version);
	for (size_t i = 0; i < m->n_props; i++)
		od_print(&d->p, "metadata %s=%s\n", m->props[i].key, m->props[i].value);
	if ((d->p.rc = d->p.rc ? d->p.rc : diff_side_build(st, m->graph, NULL, 0, 0, &s)))
		return;
	dump_graph(d, s, 0);
	for (size_t i = 0; i < m->n_functions && !d->p.rc; i++) {
		const struct od_function *f = m->functions[i];
		od_print(&d->p, "function %s%s%s(", *f->domain ? f->domain : "", *f->domain ? "." : "", f->name);
		for (size_t j = 0; j < f->n_attr_names; j++)
			od_print(&d->p, "%s%s", j ? ", " : "", f->attr_names[j]);
		od_print(&d->p, ")\n");
		for (size_t j = 0; j < f->n_opsets; j++)
			od_print(&d->p, "  opset %s %" PRId64 "\n", *f->opsets[j].domain ? f->opsets[j].domain : "ai.onnx",
			    f->opsets[j].version);
		if (!d->p.rc && !(d->p.rc = diff_side_build(st, f->body, NULL, 0, 0, &s)))
			dump_graph(d, s, 2);
	}
}

int od_diff_textconv(struct od_model *m, od_write_fn out, void *priv, struct od_ctx *ctx)
{
	struct dstate st = {0};
	struct dumper d = {{out, priv, 0}, NULL};
	st.opts.max_depth = OD_MAX_DEPTH_DEFAULT;
	if (!m || !m->graph)
		return od_error(ctx, OD_EARG, "cannot dump: the model has no graph");
	/* every payload hashed up front, read from the files on all CPUs (tensor.c) */
	if (od_models_hash(&m, 1, 0) || !(st.tmp = d.tmp = od_arena_new()))
		return od_error(ctx, OD_ENOMEM, "cannot dump: out of memory");
	dump_model(&d, &st, m);
	od_arena_free(st.tmp);
	if (d.p.rc == OD_ENOMEM)
		return od_error(ctx, OD_ENOMEM, "cannot dump: out of memory");
	if (d.p.rc)
		return od_error(ctx, d.p.rc < 0 ? d.p.rc : OD_EIO, "cannot write the dump");
	return 0;
}
