/*
 * show.c — the summary of one model that `onnxdiff show` prints: metadata, inputs,
 * outputs, initializers with content hashes, an operator histogram, subgraphs, functions.
 */
#include "config.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"
#include "shape.h"

struct op_count {
	const char *name;       /* "Gemm", or "domain::Op" outside ai.onnx, arena or static */
	size_t count;
};

struct histogram {
	struct od_map index;
	struct op_count *ops;   /* malloc'd */
	size_t n, cap;
	struct od_arena *a;
};

static int count_graph(struct histogram *h, const struct od_graph *g);

static int count_node(struct histogram *h, const struct od_node *n)
{
	size_t i;
	const char *name = n->op_type;
	if (!od_domain_is_onnx(n->domain) &&
	    !(name = od_arena_printf(h->a, "%s::%s", n->domain, n->op_type)))
		return OD_ENOMEM;
	if (od_map_get(&h->index, name, &i)) {
		h->ops[i].count++;
	} else {
		struct op_count *p = od_grow(h->ops, h->n, sizeof *p, &h->cap, 32);
		if (!p)
			return OD_ENOMEM;
		h->ops = p;
		if (od_map_put(&h->index, name, h->n) < 0)
			return OD_ENOMEM;
		h->ops[h->n++] = (struct op_count){name, 1};
	}
	for (size_t k = 0; k < n->n_attrs; k++) {
		const struct od_attr *a = &n->attrs[k];
		int rc = a->type == OD_ATTR_GRAPH && a->g ? count_graph(h, a->g) : 0;
		for (size_t j = 0; !rc && a->type == OD_ATTR_GRAPHS && j < a->n; j++)
			rc = count_graph(h, a->graphs[j]);
		if (rc)
			return rc;
	}
	return 0;
}

static int count_graph(struct histogram *h, const struct od_graph *g)
{
	for (size_t i = 0; i < g->n_nodes; i++) {
		int rc = count_node(h, g->nodes[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static int by_count(const void *x, const void *y)
{
	const struct op_count *a = x, *b = y;
	if (a->count != b->count)
		return a->count < b->count ? 1 : -1;
	return strcmp(a->name, b->name);
}

static int histogram_build(struct histogram *h, struct od_model *m)
{
	memset(h, 0, sizeof *h);
	h->a = m->arena;
	if (od_map_init(&h->index, 64))
		return OD_ENOMEM;
	int rc = count_graph(h, m->graph);
	if (!rc && h->n)        /* qsort(NULL, 0, ...) is undefined: a graph without nodes */
		qsort(h->ops, h->n, sizeof *h->ops, by_count);
	return rc;
}

static void histogram_done(struct histogram *h)
{
	od_map_done(&h->index);
	od_free(h->ops);
}

/* ---- text ------------------------------------------------------------------------------------ */

static int name_width(size_t w)
{
	return (int)(w < 4 ? 4 : w > 40 ? 40 : w);
}

static void show_values(struct od_printer *p, const char *title, struct od_value **v, size_t n)
{
	size_t w = 0;
	struct od_arena *a = od_arena_new();
	for (size_t i = 0; i < n; i++)
		w = strlen(v[i]->name) > w ? strlen(v[i]->name) : w;
	od_print(p, "%s (%zu):\n", title, n);
	for (size_t i = 0; i < n && !p->rc; i++) {
		const char *type = a ? od_value_type_text(a, v[i]) : NULL;
		if (!type)
			p->rc = OD_ENOMEM;
		else
			od_print(p, "  %-*s  %s\n", name_width(w), v[i]->name, type);
	}
	od_arena_free(a);
}

/* Graph input names, so telling an initializer that is also an input is not quadratic. */
static int input_names(const struct od_graph *g, struct od_map *names)
{
	if (od_map_init(names, g->n_inputs))
		return OD_ENOMEM;
	for (size_t i = 0; i < g->n_inputs; i++)
		if (od_map_put(names, g->inputs[i]->name, i) < 0) {
			od_map_done(names);
			return OD_ENOMEM;
		}
	return 0;
}

static void show_inits(struct od_printer *p, struct od_graph *g)
{
	size_t w = 0, tw = 0, bytes = 0;
	int64_t params = 0;
	char hb[32], sb[96];
	for (size_t i = 0; i < g->n_inits; i++) {
		struct od_tensor *t = g->inits[i];
		w = strlen(t->name) > w ? strlen(t->name) : w;
		od_shape_str(t, sb, sizeof sb);
		tw = strlen(sb) + strlen(od_dtype_name(t->dtype)) > tw ? strlen(sb) + strlen(od_dtype_name(t->dtype)) : tw;
		bytes += t->nbytes;
		params += t->numel;
	}
	od_print(p, "initializers (%zu, %lld parameters, %s):\n", g->n_inits, (long long)params, od_bytes_text(hb, sizeof hb, (double)bytes));
	struct od_map inputs;
	if (input_names(g, &inputs)) {
		p->rc = p->rc ? p->rc : OD_ENOMEM;
		return;
	}
	for (size_t i = 0; i < g->n_inits; i++) {
		struct od_tensor *t = g->inits[i];
		char type[128];
		snprintf(type, sizeof type, "%s%s", od_dtype_name(t->dtype), od_shape_str(t, sb, sizeof sb));
		od_print(p, "  %-*s  %-*s  %9s  %016llx%s%s%s\n", name_width(w), t->name, (int)tw, type,
		   od_bytes_text(hb, sizeof hb, (double)t->nbytes), (unsigned long long)od_tensor_hash(t),
		   t->sparse ? "  sparse" : "", t->ext ? "  external" : "",
		   od_map_get(&inputs, t->name, NULL) ? "  (also an input: overridable default)" : "");
	}
	od_map_done(&inputs);
}

/* Every value of the main graph with its inferred type (`show --values`). */
static void show_inferred(struct od_printer *p, const struct od_shapes *s)
{
	const struct od_shape_graph *g = &s->graphs[0];
	size_t w = 0;
	char tb[512];
	for (size_t i = 0; i < g->n; i++)
		w = strlen(g->values[i].name) > w ? strlen(g->values[i].name) : w;
	od_print(p, "values (%zu):\n", g->n);
	for (size_t i = 0; i < g->n; i++)
		od_print(p, "  %-*s  %s\n", name_width(w), g->values[i].name, od_shape_text(&g->values[i], tb, sizeof tb));
}

int od_show_text(struct od_model *m, od_write_fn out, void *priv)
{
	return od_show_values_text(m, NULL, out, priv);
}

int od_show_values_text(struct od_model *m, const struct od_shapes *s, od_write_fn out, void *priv)
{
	if (od_models_hash(&m, 1, 0))   /* every payload, spread over the CPUs */
		return OD_ENOMEM;
	struct od_printer p = {out, priv, 0};
	struct histogram h;
	char sb[32];
	od_print(&p, "model: %s (%s)\n", m->path, od_bytes_text(sb, sizeof sb, (double)m->file_size));
	od_print(&p, "ir_version: %lld\n", (long long)m->ir_version);
	od_print(&p, "producer: %s%s%s\n", *m->producer_name ? m->producer_name : "(none)",
	   *m->producer_version ? " " : "", m->producer_version);
	if (*m->domain || m->model_version)
		od_print(&p, "domain: %s  model_version: %lld\n", m->domain, (long long)m->model_version);
	od_print(&p, "opsets:");
	for (size_t i = 0; i < m->n_opsets; i++)
		od_print(&p, " %s %lld%s", *m->opsets[i].domain ? m->opsets[i].domain : "ai.onnx",
		   (long long)m->opsets[i].version, i + 1 < m->n_opsets ? "," : "");
	od_print(&p, "\n");
	for (size_t i = 0; i < m->n_props; i++)
		od_print(&p, "metadata: %s = %s\n", m->props[i].key, m->props[i].value);
	od_print(&p, "\n");
	show_values(&p, "inputs", m->graph->inputs, m->graph->n_inputs);
	show_values(&p, "outputs", m->graph->outputs, m->graph->n_outputs);
	show_inits(&p, m->graph);
	if (histogram_build(&h, m)) {
		histogram_done(&h);
		return OD_ENOMEM;
	}
	od_print(&p, "operators (%zu nodes, %zu types):\n", od_graph_count_nodes(m->graph), h.n);
	for (size_t i = 0; i < h.n; i++)
		od_print(&p, "  %-24s %zu\n", h.ops[i].name, h.ops[i].count);
	histogram_done(&h);
	od_print(&p, "subgraphs: %zu\n", od_graph_count_subgraphs(m->graph));
	od_print(&p, "functions: %zu", m->n_functions);
	for (size_t i = 0; i < m->n_functions; i++)
		od_print(&p, "%s %s%s%s", i ? "," : "", m->functions[i]->domain,
		   *m->functions[i]->domain ? "::" : "", m->functions[i]->name);
	od_print(&p, "\n");
	if (s && s->n_graphs)
		show_inferred(&p, s);
	return p.rc;
}

/* ---- JSON -------------------------------------------------------------------------------------- */

/* json_object_set_new with a key from the file; -1 (v released) on failure. */
static int jset(json_t *o, const char *key, json_t *v)
{
	json_t *k = od_json_text(key);
	int rc = k && v ? json_object_set_new(o, json_string_value(k), v) : -1;
	if (!k || !v)
		json_decref(v);
	json_decref(k);
	return rc;
}

/* json_array_append_new that remembers a failure (NULL item or array) in *bad. */
static void jadd(json_t *arr, json_t *v, bool *bad)
{
	if (!v || json_array_append_new(arr, v))
		*bad = true;
}

/* Returns o, or NULL (o released) when bad. */
static json_t *jdone(json_t *o, bool bad)
{
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *value_json(const struct od_value *v)
{
	json_t *o = json_pack("{s:o, s:o}", "name", od_json_text(v->name), "type", od_json_text(v->type_str));
	bool bad = !o;
	if (!bad && (v->kind == OD_TYPE_TENSOR || v->kind == OD_TYPE_SPARSE_TENSOR)) {
		bad |= jset(o, "dtype", json_string(od_dtype_name(v->dtype))) < 0;
		if (v->rank >= 0) {
			json_t *shape = json_array();
			for (int i = 0; i < v->rank; i++)
				jadd(shape, v->dims[i].value >= 0 ? json_integer(v->dims[i].value) :
				     v->dims[i].param ? od_json_text(v->dims[i].param) : json_null(), &bad);
			bad |= jset(o, "shape", jdone(shape, bad)) < 0;
		}
	}
	return jdone(o, bad);
}

static json_t *values_json(struct od_value **v, size_t n)
{
	json_t *arr = json_array();
	bool bad = !arr;
	for (size_t i = 0; !bad && i < n; i++)
		jadd(arr, value_json(v[i]), &bad);
	return jdone(arr, bad);
}

static json_t *inits_json(struct od_graph *g)
{
	json_t *arr = json_array();
	struct od_map inputs;
	char hash[20];
	bool bad = !arr || input_names(g, &inputs);
	if (bad)
		return jdone(arr, bad);
	for (size_t i = 0; !bad && i < g->n_inits; i++) {
		struct od_tensor *t = g->inits[i];
		json_t *shape = json_array();
		for (int d = 0; d < t->ndims; d++)
			jadd(shape, json_integer(t->dims[d]), &bad);
		snprintf(hash, sizeof hash, "%016llx", (unsigned long long)od_tensor_hash(t));
		jadd(arr, json_pack("{s:o, s:s, s:o, s:I, s:I, s:s, s:b, s:b, s:b}",
		        "name", od_json_text(t->name), "dtype", od_dtype_name(t->dtype), "shape", jdone(shape, bad),
		        "elements", (json_int_t)t->numel, "bytes", (json_int_t)t->nbytes, "hash", hash,
		        "external", t->ext != NULL, "sparse", t->sparse != NULL,
		        "also_input", od_map_get(&inputs, t->name, NULL)), &bad);
	}
	od_map_done(&inputs);
	return jdone(arr, bad);
}

static int json_out(const char *buf, size_t len, void *data)
{
	struct od_printer *p = data;
	return p->rc = p->out(p->priv, buf, len);
}

/* "values": [{"name", "dtype", "shape"}] with each dim an integer, a symbol or null. */
static json_t *inferred_json(const struct od_shapes *s)
{
	const struct od_shape_graph *g = &s->graphs[0];
	json_t *arr = json_array();
	bool bad = !arr;
	for (size_t i = 0; !bad && i < g->n; i++) {
		const struct od_shape *v = &g->values[i];
		bool tensor = v->kind == OD_TYPE_TENSOR || v->kind == OD_TYPE_NONE;
		char tb[64];
		if (!tensor) {          /* "seq(float)": the container, without a shape */
			od_shape_text(&(struct od_shape){.kind = v->kind, .dtype = v->dtype, .rank = -1}, tb, sizeof tb);
			jadd(arr, json_pack("{s:o, s:s, s:n}", "name", od_json_text(v->name), "dtype", tb, "shape"), &bad);
			continue;
		}
		json_t *shape = v->rank >= 0 ? json_array() : json_null();
		for (int d = 0; v->rank >= 0 && d < v->rank; d++)
			jadd(shape, v->dims[d].value >= 0 ? json_integer(v->dims[d].value) :
			     v->dims[d].param ? od_json_text(v->dims[d].param) : json_null(), &bad);
		jadd(arr, json_pack("{s:o, s:o, s:o}", "name", od_json_text(v->name),
		     "dtype", v->dtype ? json_string(od_dtype_name(v->dtype)) : json_null(),
		     "shape", jdone(shape, bad)), &bad);
	}
	return jdone(arr, bad);
}

static json_t *warnings_json(const struct od_shapes *s)
{
	json_t *arr = json_array();
	bool bad = !arr;
	for (size_t i = 0; !bad && i < s->n_warnings; i++)
		jadd(arr, od_json_text(s->warnings[i]), &bad);
	return jdone(arr, bad);
}

int od_show_json(struct od_model *m, od_write_fn out, void *priv)
{
	return od_show_values_json(m, NULL, out, priv);
}

int od_show_values_json(struct od_model *m, const struct od_shapes *s, od_write_fn out, void *priv)
{
	if (od_models_hash(&m, 1, 0))
		return OD_ENOMEM;
	struct od_printer p = {out, priv, 0};
	struct histogram h;
	json_t *opsets = json_array(), *meta = json_object(), *ops = json_object(), *funcs = json_array();
	bool bad = !opsets || !meta || !ops || !funcs;
	for (size_t i = 0; !bad && i < m->n_opsets; i++)
		jadd(opsets, json_pack("{s:o, s:I}", "domain", od_json_text(*m->opsets[i].domain ?
		     m->opsets[i].domain : "ai.onnx"), "version", (json_int_t)m->opsets[i].version), &bad);
	for (size_t i = 0; !bad && i < m->n_props; i++)
		bad |= jset(meta, m->props[i].key, od_json_text(m->props[i].value)) < 0;
	bad |= histogram_build(&h, m) != 0;
	for (size_t i = 0; !bad && i < h.n; i++)
		bad |= jset(ops, h.ops[i].name, json_integer((json_int_t)h.ops[i].count)) < 0;
	histogram_done(&h);
	for (size_t i = 0; !bad && i < m->n_functions; i++)
		jadd(funcs, json_pack("{s:o, s:o}", "domain", od_json_text(m->functions[i]->domain),
		     "name", od_json_text(m->functions[i]->name)), &bad);
	if (bad) {
		json_decref(opsets);
		json_decref(meta);
		json_decref(ops);
		json_decref(funcs);
		return OD_ENOMEM;
	}
	/* "o" steals its reference even when json_pack fails */
	json_t *root = json_pack("{s:s, s:o, s:I, s:I, s:{s:o, s:o}, s:o, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:o}",
	        "schema", "onnxdiff-show/1", "path", od_json_text(m->path), "file_size", (json_int_t)m->file_size,
	        "ir_version", (json_int_t)m->ir_version,
	        "producer", "name", od_json_text(m->producer_name), "version", od_json_text(m->producer_version),
	        "domain", od_json_text(m->domain), "model_version", (json_int_t)m->model_version,
	        "opsets", opsets, "metadata", meta,
	        "inputs", values_json(m->graph->inputs, m->graph->n_inputs),
	        "outputs", values_json(m->graph->outputs, m->graph->n_outputs),
	        "initializers", inits_json(m->graph), "operators", ops,
	        "nodes", (json_int_t)od_graph_count_nodes(m->graph),
	        "subgraphs", (json_int_t)od_graph_count_subgraphs(m->graph), "functions", funcs);
	if (!root)
		return OD_ENOMEM;
	if (s && s->n_graphs && (jset(root, "values", inferred_json(s)) < 0 ||
	                         jset(root, "warnings", warnings_json(s)) < 0)) {
		json_decref(root);
		return OD_ENOMEM;
	}
	int rc = json_dump_callback(root, json_out, &p, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!rc)
		od_print(&p, "\n");
	return p.rc ? p.rc : rc ? OD_ENOMEM : 0;
}
