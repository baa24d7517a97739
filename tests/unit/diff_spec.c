/*
 * diff_spec.c — models built in memory from a small text spec, and the diff helpers the
 * test_diff_*.c programs share. Criterion asserts inside: a helper that fails fails the
 * test that called it.
 */
#include "diff_spec.h"

static const char *word(const char **p, char *buf, size_t n)
{
	size_t len = 0;
	while (**p == ' ')
		(*p)++;
	while (**p && **p != ' ' && **p != '\n' && **p != ';' && len + 1 < n)
		buf[len++] = *(*p)++;
	buf[len] = 0;
	return len ? buf : NULL;
}

static char **split(struct od_arena *a, const char *list, size_t *n)
{
	char **v = od_arena_alloc(a, 16 * sizeof *v);
	*n = 0;
	if (!strcmp(list, "_"))
		return v;
	for (const char *p = list; *p; ) {
		size_t len = strcspn(p, ",");
		v[(*n)++] = od_arena_printf(a, "%.*s", (int)len, p);
		p += len + (p[len] == ',');
	}
	return v;
}

static struct od_value *value(struct od_arena *a, const char *name, const char *dtype,
                              const char *dims)
{
	struct od_value *v = od_arena_alloc(a, sizeof *v);
	size_t n;
	char **d = split(a, strcmp(dims, "-") ? dims : "_", &n);
	v->name = od_arena_strdup(a, name);
	v->kind = OD_TYPE_TENSOR;
	v->dtype = od_dtype_from_name(dtype);
	v->rank = (int)n;
	v->dims = od_arena_alloc(a, (n + 1) * sizeof *v->dims);
	for (size_t i = 0; i < n; i++) {
		char *end;
		long long x = strtoll(d[i], &end, 10);
		if (*end)
			v->dims[i] = (struct od_dim){-1, d[i]};
		else
			v->dims[i] = (struct od_dim){x, NULL};
	}
	v->type_str = "";
	return v;
}

static struct od_tensor *tensor(struct od_arena *a, const char *name, const char *dtype,
                                const char *dims, double base)
{
	size_t n;
	char **d = split(a, strcmp(dims, "-") ? dims : "_", &n);
	int64_t dd[8];
	for (size_t i = 0; i < n; i++)
		dd[i] = strtoll(d[i], NULL, 10);
	struct od_tensor *t = od_tensor_new(a, name, od_dtype_from_name(dtype), (int)n, dd);
	cr_assert(t);
	for (int64_t i = 0; i < t->numel; i++)
		od_tensor_set_f64(t, i, base + (double)i / 8);
	return t;
}

void add_attr(struct od_arena *a, struct od_node *n, const char *spec)
{
	struct od_attr *at = od_arena_alloc(a, (n->n_attrs + 1) * sizeof *at);
	if (n->n_attrs)
		memcpy(at, n->attrs, n->n_attrs * sizeof *at);
	n->attrs = at;
	at = &at[n->n_attrs++];
	const char *eq = strchr(spec, '=');
	at->name = od_arena_printf(a, "%.*s", (int)(eq - spec), spec);
	const char *v = eq + 1;
	if (*v == '\'') {
		at->type = OD_ATTR_STRING;
		at->s.data = (const uint8_t *)od_arena_strdup(a, v + 1);
		at->s.len = strlen(v + 1) - 1;
	} else if (*v == '[') {
		size_t k;
		char *inner = od_arena_strdup(a, v + 1);
		inner[strlen(inner) - 1] = 0;
		char **items = split(a, inner, &k);
		at->type = OD_ATTR_INTS;
		at->n = k;
		at->ints = od_arena_alloc(a, (k + 1) * sizeof *at->ints);
		for (size_t i = 0; i < k; i++)
			at->ints[i] = strtoll(items[i], NULL, 10);
	} else if (strchr(v, '.')) {
		at->type = OD_ATTR_FLOAT;
		at->f = strtof(v, NULL);
	} else {
		at->type = OD_ATTR_INT;
		at->i = strtoll(v, NULL, 10);
	}
}

static struct od_node *add_node(struct od_arena *a, struct od_graph *g, const char *op,
                                const char *name, const char *ins, const char *outs)
{
	struct od_node *n = od_node_new(a, op, "", name);
	size_t k;
	char **v = split(a, ins, &k);
	n->n_inputs = k;
	n->inputs = (const char **)v;
	for (size_t i = 0; i < k; i++)
		if (!strcmp(v[i], "-"))
			v[i] = "";
	v = split(a, outs, &k);
	n->n_outputs = k;
	n->outputs = (const char **)v;
	cr_assert_eq(od_graph_add_node(a, g, n), 0);
	return n;
}

static void push_value(struct od_arena *a, struct od_value ***arr, size_t *n, struct od_value *v)
{
	struct od_value **p = od_arena_alloc(a, (*n + 1) * sizeof *p);
	if (*n)
		memcpy(p, *arr, *n * sizeof *p);
	p[(*n)++] = v;
	*arr = p;
}

void fill_graph(struct od_model *m, struct od_graph *g, const char *spec)
{
	struct od_arena *a = m->arena;
	char w[6][256];
	for (const char *p = spec; *p; ) {
		const char *kind = word(&p, w[0], sizeof w[0]);
		if (!kind) {
			p += *p != 0;
			continue;
		}
		if (!strcmp(kind, "opset")) {
			m->opsets[0].version = strtoll(word(&p, w[1], sizeof w[1]), NULL, 10);
		} else if (!strcmp(kind, "in") || !strcmp(kind, "out")) {
			const char *name = word(&p, w[1], 256), *dt = word(&p, w[2], 256);
			const char *dims = word(&p, w[3], 256);
			struct od_value *v = value(a, name, dt, dims);
			if (!strcmp(kind, "in"))
				push_value(a, &g->inputs, &g->n_inputs, v);
			else
				push_value(a, &g->outputs, &g->n_outputs, v);
		} else if (!strcmp(kind, "init") || !strcmp(kind, "const")) {
			const char *name = word(&p, w[1], 256), *dt = word(&p, w[2], 256);
			const char *dims = word(&p, w[3], 256), *base = word(&p, w[4], 256);
			struct od_tensor *t = tensor(a, name, dt, dims, strtod(base, NULL));
			if (!strcmp(kind, "init")) {
				cr_assert_eq(od_graph_add_init(a, g, t), 0);
			} else {
				char out[300];
				snprintf(out, sizeof out, "%s", name);
				struct od_node *n = add_node(a, g, "Constant", od_arena_printf(a, "%s_node", name),
				                             "_", out);
				n->attrs = od_arena_alloc(a, sizeof *n->attrs);
				n->n_attrs = 1;
				n->attrs[0].name = "value";
				n->attrs[0].type = OD_ATTR_TENSOR;
				t->name = "";
				n->attrs[0].t = t;
			}
		} else if (!strcmp(kind, "node")) {
			const char *op = word(&p, w[1], 256), *name = word(&p, w[2], 256);
			const char *ins = word(&p, w[3], 256), *outs = word(&p, w[4], 256);
			struct od_node *n = add_node(a, g, op, name, ins, outs);
			const char *at;
			while ((at = word(&p, w[5], 256)))
				add_attr(a, n, at);
		} else {
			cr_assert_fail("bad spec item '%s'", kind);
		}
	}
}

struct od_model *model(const char *spec)
{
	struct od_arena *a = od_arena_new();
	struct od_model *m = od_arena_alloc(a, sizeof *m);
	m->arena = a;
	m->ir_version = 8;
	m->producer_name = "test";
	m->producer_version = "1";
	m->domain = "";
	m->path = "spec";
	m->n_opsets = 1;
	m->opsets = od_arena_alloc(a, sizeof *m->opsets);
	m->opsets[0] = (struct od_opset){.domain = "", .version = 14};
	m->graph = od_arena_alloc(a, sizeof *m->graph);
	m->graph->name = "g";
	fill_graph(m, m->graph, spec);
	return m;
}

/* A subgraph for attribute name of node n. */
struct od_graph *subgraph(struct od_model *m, struct od_graph *parent, struct od_node *n,
                                 const char *attr, const char *spec)
{
	struct od_graph *g = od_arena_alloc(m->arena, sizeof *g);
	g->name = attr;
	g->parent = parent;
	g->owner = n;
	g->owner_attr = attr;
	fill_graph(m, g, spec);
	struct od_attr *at = od_arena_alloc(m->arena, (n->n_attrs + 1) * sizeof *at);
	if (n->n_attrs)
		memcpy(at, n->attrs, n->n_attrs * sizeof *at);
	at[n->n_attrs].name = attr;
	at[n->n_attrs].type = OD_ATTR_GRAPH;
	at[n->n_attrs].g = g;
	n->attrs = at;
	n->n_attrs++;
	return g;
}

void model_free(struct od_model *m)
{
	if (m)
		od_arena_free(m->arena);
}

struct od_tensor *init_of(struct od_model *m, const char *name)
{
	struct od_tensor *t = od_graph_find_init(m->graph, name);
	cr_assert(t, "no initializer %s", name);
	return t;
}

struct od_node *node_of(struct od_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		if (!strcmp(g->nodes[i]->name, name))
			return g->nodes[i];
	cr_assert_fail("no node %s", name);
	return NULL;
}

/* ---- running and inspecting diffs ---------------------------------------------------------- */

struct od_diff *diff_opts(struct od_model *a, struct od_model *b, const struct od_diff_opts *o)
{
	struct od_ctx ctx = {0};
	struct od_diff *d = NULL;
	cr_assert_eq(od_diff(a, b, o, &d, &ctx), 0, "od_diff: %s", ctx.msg);
	return d;
}

struct od_diff *diff(struct od_model *a, struct od_model *b)
{
	return diff_opts(a, b, NULL);
}

char *text(const struct od_diff *d)
{
	char *out = NULL;
	struct od_emit_opts o = {.a_label = "a", .b_label = "b"};
	cr_assert_eq(od_diff_emit_text(d, &o, buf_write, &out), 0);
	return out ? out : strdup("");
}

/* Changes that are not renames, top level and details alike. */
size_t real_changes(const struct od_diff *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_changes; i++)
		n += d->changes[i].kind != OD_CHANGE_RENAMED;
	return n;
}

const struct od_change *find(const struct od_diff *d, int kind, int what)
{
	for (size_t i = 0; i < d->n_changes; i++)
		if ((int)d->changes[i].kind == kind && (int)d->changes[i].what == what)
			return &d->changes[i];
	return NULL;
}

struct od_model *nested_if(double c)
{
	struct od_model *m = model("in x float 3; in flag bool -; out y float 3; node If if0 flag y");
	struct od_graph *g1 = subgraph(m, m->graph, node_of(m->graph, "if0"), "then_branch",
	                               "out t float 3; node If if1 flag t");
	subgraph(m, m->graph, node_of(m->graph, "if0"), "else_branch",
	         "out e float 3; node Neg neg x e");
	char spec[128];
	snprintf(spec, sizeof spec, "out u float 3; const c float - %g; node Add add x,c u", c);
	subgraph(m, g1, node_of(g1, "if1"), "then_branch", spec);
	subgraph(m, g1, node_of(g1, "if1"), "else_branch", "out w float 3; node Abs abs x w");
	return m;
}
