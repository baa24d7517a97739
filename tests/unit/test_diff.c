/*
 * test_diff.c — the structural diff: models built in memory from a small text spec (and
 * the seed fixtures), each perturbation reported precisely and nothing else.
 */
#include "config.h"
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "od.h"
#include "diff.h"
#include "internal.h"
#include "helpers.h"

#define FIX OD_SRCDIR "/fixtures/"

/* ---- building models from a spec --------------------------------------------------------
 *
 * One item per line (or ';'), words separated by spaces:
 *   opset 14                       ai.onnx version (default 14)
 *   in x float N,4                 graph input (dims: numbers or symbols; "-" for a scalar)
 *   out y float N,4                graph output
 *   init W float 4,4 1.5           initializer, element i = 1.5 + i / 8
 *   const c float 4 2.0            a Constant node named c writing c
 *   node Gemm g1 x,W,b h alpha=0.5 transB=1 mode='x' perm=[1,0]
 *                                  op, name, inputs (',' list, '_' for none), outputs
 */

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

static void add_attr(struct od_arena *a, struct od_node *n, const char *spec)
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

static void fill_graph(struct od_model *m, struct od_graph *g, const char *spec)
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

static struct od_model *model(const char *spec)
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
static struct od_graph *subgraph(struct od_model *m, struct od_graph *parent, struct od_node *n,
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

static void model_free(struct od_model *m)
{
	if (m)
		od_arena_free(m->arena);
}

static struct od_tensor *init_of(struct od_model *m, const char *name)
{
	struct od_tensor *t = od_graph_find_init(m->graph, name);
	cr_assert(t, "no initializer %s", name);
	return t;
}

static struct od_node *node_of(struct od_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n_nodes; i++)
		if (!strcmp(g->nodes[i]->name, name))
			return g->nodes[i];
	cr_assert_fail("no node %s", name);
	return NULL;
}

/* ---- running and inspecting diffs ---------------------------------------------------------- */

static struct od_diff *diff_opts(struct od_model *a, struct od_model *b, const struct od_diff_opts *o)
{
	struct od_ctx ctx = {0};
	struct od_diff *d = NULL;
	cr_assert_eq(od_diff(a, b, o, &d, &ctx), 0, "od_diff: %s", ctx.msg);
	return d;
}

static struct od_diff *diff(struct od_model *a, struct od_model *b)
{
	return diff_opts(a, b, NULL);
}

static char *text(const struct od_diff *d)
{
	char *out = NULL;
	struct od_emit_opts o = {.a_label = "a", .b_label = "b"};
	cr_assert_eq(od_diff_emit_text(d, &o, buf_write, &out), 0);
	return out ? out : strdup("");
}

/* Changes that are not renames, top level and details alike. */
static size_t real_changes(const struct od_diff *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n_changes; i++)
		n += d->changes[i].kind != OD_CHANGE_RENAMED;
	return n;
}

static const struct od_change *find(const struct od_diff *d, int kind, int what)
{
	for (size_t i = 0; i < d->n_changes; i++)
		if ((int)d->changes[i].kind == kind && (int)d->changes[i].what == what)
			return &d->changes[i];
	return NULL;
}

#define MLP \
	"in x float N,4; in mask float 1,4; out y float N,4;" \
	"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;" \
	"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1;" \
	"node Gemm fc2 a1,W2,b2 h2 transB=1; node Mul masked h2,mask y"

/* The same model: every tensor and node renamed, nodes and initializers listed in another
 * valid order, commutative inputs swapped, a default written out. */
#define MLP_RENAMED \
	"in x float N,4; in mask float 1,4; out y float N,4;" \
	"init p3 float 4 2.0; init p2 float 4,4 -0.25; init p1 float 4 1.0; init p0 float 4,4 0.5;" \
	"node Gemm m/fc1 x,p0,p1 t0 transB=1 alpha=1.0; node Relu m/act t0 t1;" \
	"node Gemm m/fc2 t1,p2,p3 t2 transB=1; node Mul m/masked mask,t2 y"

/* ---- tests ------------------------------------------------------------------------------------ */

Test(diff, identical_models_are_the_same)
{
	struct od_model *a = model(MLP), *b = model(MLP);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0);
	cr_expect(od_diff_is_same(d));
	cr_expect_eq(d->graphs[0].n_matched, 4);
	char *t = text(d);
	cr_expect_str_empty(t);
	free(t);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, renamed_and_reordered_copy_is_the_same)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	struct od_diff *d = diff(a, b);
	cr_expect(od_diff_is_same(d), "changes:\n%s", text(d));
	cr_expect_eq(real_changes(d), 0);
	cr_expect_eq(d->graphs[0].n_matched, 4);
	/* every node pairs with its namesake */
	for (size_t k = 0; k < a->graph->n_nodes; k++) {
		const struct od_node *x = a->graph->nodes[k];
		const struct od_node *y = b->graph->nodes[d->graphs[0].a_match[k]];
		cr_expect(strstr(y->name, x->name), "%s matched %s", x->name, y->name);
	}
	/* weights renamed by content, not changed */
	const struct od_change *c = find(d, OD_CHANGE_RENAMED, OD_CHANGE_INITIALIZER);
	cr_assert(c);
	cr_expect_eq(d->stat.count[OD_CHANGE_RENAMED], 8);   /* 4 initializers, 4 nodes */
	od_diff_free(d);

	struct od_diff_opts strict = {.strict_names = true};
	d = diff_opts(a, b, &strict);
	cr_expect_not(od_diff_is_same(d));
	od_diff_free(d);

	struct od_diff_opts quiet = {.ignore = OD_DIFF_IGNORE(NAMES)};
	d = diff_opts(a, b, &quiet);
	cr_expect_eq(d->n_changes, 0);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, one_weight_element_changed)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	struct od_tensor *w = init_of(b, "p2");
	od_tensor_set_f64(w, 5, od_tensor_get_f64(w, 5) + 0.5);
	w->hashed = false;
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_INITIALIZER);
	cr_assert(c);
	cr_expect_str_eq(c->a_name, "W2");
	cr_expect_str_eq(c->b_name, "p2");
	cr_expect(c->delta.compared);
	cr_expect_eq(c->delta.numel, 16);
	cr_expect_eq(c->delta.n_diff, 1);
	cr_expect_eq(c->delta.first_diff, 5);
	cr_expect_float_eq(c->delta.max_abs, 0.5, 1e-6);
	/* the nodes reading it are matched all the same */
	cr_expect_eq(d->graphs[0].n_matched, 4);
	od_diff_free(d);

	struct od_diff_opts loose = {.atol = 0.6};
	d = diff_opts(a, b, &loose);
	cr_expect(od_diff_is_same(d));
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

/* A model with one initializer (kind "init") or Constant ("const") w of dtype and n
 * elements, set from raw bytes. */
static struct od_model *one_value(const char *kind, const char *dtype, const void *bytes, int64_t n)
{
	char spec[200];
	snprintf(spec, sizeof spec, "%s w %s %lld 0 out y %s %lld node Identity id w y",
	         kind, dtype, (long long)n, dtype, (long long)n);
	struct od_model *m = model(spec);
	struct od_tensor *t = *kind == 'i' ? init_of(m, "w") : node_of(m->graph, "w_node")->attrs[0].t;
	memcpy((void *)t->data, bytes, t->nbytes);
	t->hashed = false;
	return m;
}

static struct od_model *one_init(const char *dtype, const void *bytes, int64_t n)
{
	return one_value("init", dtype, bytes, n);
}

/* The text rendering contains needle (printed on failure). */
static bool has_text(const struct od_diff *d, const char *needle)
{
	char *t = text(d);
	bool found = strstr(t, needle) != NULL;
	if (!found)
		cr_log_info("no '%s' in:\n%s", needle, t);
	free(t);
	return found;
}

static const struct od_change *init_change(struct od_diff *d)
{
	return find(d, OD_CHANGE_CHANGED, OD_CHANGE_INITIALIZER);
}

Test(diff, int64_compared_and_printed_exactly)
{
	int64_t x[2] = {INT64_C(9007199254740992), 5}, y[2] = {INT64_C(9007199254740993), 5};
	struct od_model *a = one_init("int64", x, 2), *b = one_init("int64", y, 2);
	struct od_diff *d = diff(a, b);
	const struct od_change *c = init_change(d);
	cr_assert(c, "2^53 vs 2^53+1 must differ");
	cr_expect(c->delta.integer);
	cr_expect_eq(c->delta.n_diff, 1);
	cr_expect_eq(c->delta.max_abs_int, 1);
	cr_expect(has_text(d, "1 of 2 elements differs (max abs 1,"));
	od_diff_free(d);
	model_free(a);
	model_free(b);

	/* a Slice end INT64_MAX vs INT64_MAX-1, printed as the integers they are */
	int64_t e1[1] = {INT64_MAX}, e2[1] = {INT64_MAX - 1};
	a = one_value("const", "int64", e1, 1), b = one_value("const", "int64", e2, 1);
	d = diff(a, b);
	cr_assert(!od_diff_is_same(d), "INT64_MAX vs INT64_MAX-1 must differ");
	cr_expect(has_text(d, "{9223372036854775807} -> int64[1] {9223372036854775806}"));
	od_diff_free(d);
	model_free(a);
	model_free(b);

	/* near 2^62, a difference of 1000 is 1000 */
	int64_t f1[1] = {(INT64_C(1) << 62) + 1}, f2[1] = {(INT64_C(1) << 62) + 1001};
	a = one_init("int64", f1, 1), b = one_init("int64", f2, 1);
	d = diff(a, b);
	c = init_change(d);
	cr_assert(c);
	cr_expect_eq(c->delta.max_abs_int, 1000);
	cr_expect(!has_text(d, "1024"));
	od_diff_free(d);
	model_free(a);
	model_free(b);

	/* extremes of the signed range: the delta fits uint64 */
	int64_t g1[1] = {INT64_MIN}, g2[1] = {INT64_MAX};
	a = one_init("int64", g1, 1), b = one_init("int64", g2, 1);
	d = diff(a, b);
	c = init_change(d);
	cr_assert(c);
	cr_expect_eq(c->delta.max_abs_int, UINT64_MAX);
	cr_expect(has_text(d, "max abs 18446744073709551615"));
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, uint64_near_2_64_and_signed_zero_at_zero_tolerance)
{
	uint64_t x[1] = {UINT64_MAX}, y[1] = {UINT64_MAX - 1};
	struct od_model *a = one_init("uint64", x, 1), *b = one_init("uint64", y, 1);
	struct od_diff *d = diff(a, b);
	const struct od_change *c = init_change(d);
	cr_assert(c, "uint64 max vs max-1 must differ");
	cr_expect_eq(c->delta.max_abs_int, 1);
	od_diff_free(d);
	model_free(a);
	model_free(b);
	a = one_value("const", "uint64", x, 1), b = one_value("const", "uint64", y, 1);
	d = diff(a, b);
	cr_expect(has_text(d, "{18446744073709551614}"));
	od_diff_free(d);
	model_free(a);
	model_free(b);

	float p[2] = {0.0f, 1.0f}, m[2] = {-0.0f, 1.0f};
	a = one_init("float", p, 2), b = one_init("float", m, 2);
	d = diff(a, b);
	c = init_change(d);
	cr_assert(c, "+0.0 vs -0.0 differ bit for bit at --atol 0");
	cr_expect(c->delta.bitwise);
	cr_expect_eq(c->delta.n_bits, 1);
	cr_expect(has_text(d, "1 of 2 elements differs, 1 only bit for bit (-0.0 vs 0.0 or NaN payloads)"), "the output says so");
	cr_expect(!has_text(d, "max rel"), "no max rel for a zero");
	od_diff_free(d);
	struct od_diff_opts loose = {.atol = 1e-9};
	d = diff_opts(a, b, &loose);
	cr_expect(od_diff_is_same(d), "with a tolerance, -0.0 == 0.0");
	od_diff_free(d);
	model_free(a);
	model_free(b);

	/* NaN payloads: equal under a tolerance, different bit for bit */
	uint32_t n1 = 0x7fc00000, n2 = 0x7fc00001;
	a = one_init("float", &n1, 1), b = one_init("float", &n2, 1);
	d = diff(a, b);
	c = init_change(d);
	cr_assert(c, "NaN payloads differ at --atol 0");
	cr_expect_eq(c->delta.n_bits, 1);
	cr_expect(has_text(d, "only bit for bit"));
	od_diff_free(d);
	d = diff_opts(a, b, &loose);
	cr_expect(od_diff_is_same(d));
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, max_rel_only_where_it_means_something)
{
	float x[3] = {0.0f, INFINITY, 2.0f}, y[3] = {1.0f, -INFINITY, 2.0f};
	struct od_model *a = one_init("float", x, 3), *b = one_init("float", y, 3);
	struct od_diff *d = diff(a, b);
	const struct od_change *c = init_change(d);
	cr_assert(c);
	cr_expect(!c->delta.has_rel, "a's 0 and inf give no relative difference");
	cr_expect(has_text(d, "2 of 3 elements differ (max abs inf)\n"));
	od_diff_free(d);
	model_free(a);
	float n[3] = {NAN, -INFINITY, 4.0f};
	a = one_init("float", n, 3);
	d = diff(a, b);
	cr_expect(has_text(d, "2 of 3 elements differ (max abs 2, max rel 0.5), 1 NaN against a number\n"));
	od_diff_free(d);
	model_free(a);
	model_free(b);

	float u[2] = {2.0f, 1.0f}, v[2] = {3.0f, 1.0f};
	a = one_init("float", u, 2), b = one_init("float", v, 2);
	d = diff(a, b);
	cr_expect(has_text(d, "(max abs 1, max rel 0.5)"));
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, one_attribute_changed_defaults_explicit)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	add_attr(b->arena, node_of(b->graph, "m/fc2"), "alpha=0.5");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 2, "changes:\n%s", text(d));   /* the node and its detail */
	const struct od_change *n = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_ATTRIBUTE);
	cr_assert(n && c);
	cr_expect_str_eq(n->a_name, "fc2");
	cr_expect_str_eq(c->key, "alpha");
	cr_expect_str_eq(c->old_text, "1.0 (default)");
	cr_expect_str_eq(c->new_text, "0.5");
	cr_expect_eq(c->parent, n - d->changes);
	cr_expect_null(c->a_attr);
	cr_expect_not_null(c->b_attr);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, node_inserted)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x float N,4; in mask float 1,4; out y float N,4;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1; node Sigmoid gate a1 g1;"
		"node Gemm fc2 g1,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_ADDED, OD_CHANGE_NODE);
	cr_assert(c);
	cr_expect_str_eq(c->b_node->op_type, "Sigmoid");
	cr_expect_str_eq(c->context, "reads Relu 'act'; feeds Gemm 'fc2' input 0");
	cr_expect_eq(d->graphs[0].n_matched, 4);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, node_removed)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x float N,4; in mask float 1,4; out y float N,4;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1;"
		"node Gemm fc2 h1,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_REMOVED, OD_CHANGE_NODE);
	cr_assert(c);
	cr_expect_str_eq(c->a_name, "act");
	cr_expect_eq(d->graphs[0].n_matched, 3);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, input_dtype_changed)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x double N,4; in mask float 1,4; out y float N,4;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1;"
		"node Gemm fc2 a1,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_INPUT);
	cr_assert(c);
	cr_expect_str_eq(c->a_name, "x");
	cr_expect_str_eq(c->old_text, "float[N,4]");
	cr_expect_str_eq(c->new_text, "double[N,4]");
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, inputs_reordered)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(MLP);
	struct od_value *t = b->graph->inputs[0];
	b->graph->inputs[0] = b->graph->inputs[1];
	b->graph->inputs[1] = t;
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 2, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_INPUT);
	cr_assert(c);
	cr_expect_str_eq(c->key, "position");
	cr_expect_str_eq(c->a_name, "x");
	cr_expect_str_eq(c->old_text, "0");
	cr_expect_str_eq(c->new_text, "1");
	cr_expect_eq(d->graphs[0].n_matched, 4);
	char *out = text(d);
	cr_expect(strstr(out, "~ input x: position 0 -> 1\n"), "%s", out);
	free(out);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, symbolic_dim_renamed)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(MLP_RENAMED);
	b->graph->outputs[0]->dims[0].param = "batch";
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OUTPUT);
	cr_assert(c);
	cr_expect_str_eq(c->new_text, "float[batch,4]");
	od_diff_free(d);
	struct od_diff_opts o = {.ignore = OD_DIFF_IGNORE(SHAPES)};
	d = diff_opts(a, b, &o);
	cr_expect(od_diff_is_same(d));
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, opset_bump)
{
	struct od_model *a = model(MLP), *b = model("opset 15;" MLP);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OPSET);
	cr_assert(c);
	cr_expect_str_eq(c->key, "");
	cr_expect_str_eq(c->old_text, "14");
	cr_expect_str_eq(c->new_text, "15");
	cr_expect_str_eq(c->path, "model");
	od_diff_free(d);
	struct od_diff_opts o = {.ignore = OD_DIFF_IGNORE(OPSETS)};
	d = diff_opts(a, b, &o);
	cr_expect_eq(d->n_changes, 0);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, opset_changes_a_default)
{
	/* Softmax's default axis is 1 before opset 13 and -1 from 13 on. */
	struct od_model *a = model("opset 12; in x float 2,3; out y float 2,3; node Softmax s x y");
	struct od_model *b = model("opset 13; in x float 2,3; out y float 2,3; node Softmax s x y");
	struct od_diff *d = diff(a, b);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_ATTRIBUTE);
	cr_assert(c, "changes:\n%s", text(d));
	cr_expect_str_eq(c->key, "axis");
	cr_expect_str_eq(c->old_text, "1 (default)");
	cr_expect_str_eq(c->new_text, "-1 (default)");
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

static struct od_model *if_model(double then_const, const char *else_op)
{
	struct od_model *m = model("in x float 3; in flag bool -; out y float 3;"
	                           "node If if0 flag y");
	struct od_node *n = node_of(m->graph, "if0");
	char spec[256];
	snprintf(spec, sizeof spec, "out t float 3; const c float - %g; node Add add x,c t", then_const);
	subgraph(m, m->graph, n, "then_branch", spec);
	snprintf(spec, sizeof spec, "out e float 3; node %s neg x e", else_op);
	subgraph(m, m->graph, n, "else_branch", spec);
	return m;
}

Test(diff, change_inside_if_branch)
{
	struct od_model *a = if_model(1.0, "Neg"), *b = if_model(2.0, "Neg");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 2, "changes:\n%s", text(d));
	const struct od_change *n = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_ATTRIBUTE);
	cr_assert(n && c);
	cr_expect_str_eq(n->path, "graph/if0:then_branch");
	cr_expect_eq(n->depth, 1);
	cr_expect_str_eq(n->a_node->op_type, "Constant");
	cr_expect_str_eq(c->key, "value");
	cr_expect_eq(c->delta.n_diff, 1);
	cr_expect_float_eq(c->delta.max_abs, 1.0, 1e-9);
	cr_expect_eq(d->n_graphs, 3);
	od_diff_free(d);
	model_free(a);
	model_free(b);

	a = if_model(1.0, "Neg");
	b = if_model(1.0, "Abs");
	d = diff(a, b);
	n = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OP);
	cr_assert(n && c, "changes:\n%s", text(d));
	cr_expect_str_eq(n->path, "graph/if0:else_branch");
	cr_expect_str_eq(c->old_text, "Neg");
	cr_expect_str_eq(c->new_text, "Abs");
	cr_expect_eq(real_changes(d), 2);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, commutative_inputs_and_attribute_order)
{
	struct od_model *a = model("in p float 2; in q float 2; out y float 2; out z float 2;"
	                           "node Add s p,q y; node Gemm g p,q z alpha=2.0 beta=3.0");
	struct od_model *b = model("in p float 2; in q float 2; out y float 2; out z float 2;"
	                           "node Gemm g p,q z beta=3.0 alpha=2.0; node Add s q,p y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "changes:\n%s", text(d));
	od_diff_free(d);
	/* but Sub is not commutative */
	model_free(a);
	model_free(b);
	a = model("in p float 2; in q float 2; out y float 2; node Sub s p,q y");
	b = model("in p float 2; in q float 2; out y float 2; node Sub s q,p y");
	d = diff(a, b);
	cr_expect_eq(real_changes(d), 3, "changes:\n%s", text(d));   /* node + two ports */
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, input_became_initializer)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x float N,4; out y float N,4; init mask float 1,4 0.0;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1;"
		"node Gemm fc2 a1,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 4, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_REMOVED, OD_CHANGE_INPUT);
	cr_assert(c);
	cr_expect_str_eq(c->a_name, "mask");
	cr_assert(find(d, OD_CHANGE_ADDED, OD_CHANGE_INITIALIZER));
	c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_PORT);
	cr_assert(c);
	cr_expect_eq(c->port, 1);
	cr_expect_str_eq(c->old_text, "graph input 'mask' float[1,4]");
	cr_expect_str_eq(c->new_text, "initializer 'mask' float[1,4]");
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, constant_and_initializer_of_equal_content_feed_alike)
{
	struct od_model *a = model("in x float 4; out y float 4; init c float 4 3.0; node Mul m x,c y");
	struct od_model *b = model("in x float 4; out y float 4; const c float 4 3.0; node Mul m x,c y");
	struct od_diff *d = diff(a, b);
	/* the initializer went, a Constant node came; the Mul reads the same value */
	cr_expect_eq(real_changes(d), 2, "changes:\n%s", text(d));
	cr_expect(find(d, OD_CHANGE_REMOVED, OD_CHANGE_INITIALIZER));
	cr_expect(find(d, OD_CHANGE_ADDED, OD_CHANGE_NODE));
	cr_expect_eq(d->graphs[0].n_matched, 1);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, metadata_producer_ir_version)
{
	struct od_model *a = model(MLP), *b = model(MLP);
	b->ir_version = 9;
	b->producer_version = "2";
	b->n_props = 1;
	b->props = od_arena_alloc(b->arena, sizeof *b->props);
	b->props[0] = (struct od_prop){.key = "author", .value = "me"};
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 3, "changes:\n%s", text(d));
	cr_expect(find(d, OD_CHANGE_CHANGED, OD_CHANGE_IR_VERSION));
	cr_expect(find(d, OD_CHANGE_CHANGED, OD_CHANGE_PRODUCER));
	cr_expect(find(d, OD_CHANGE_ADDED, OD_CHANGE_METADATA));
	od_diff_free(d);
	struct od_diff_opts o = {0};
	struct od_ctx ctx = {0};
	cr_assert_eq(od_diff_ignore_parse("metadata,producer,ir_version", &o.ignore, &ctx), 0);
	d = diff_opts(a, b, &o);
	cr_expect_eq(d->n_changes, 0);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

/* A file may import a domain twice or repeat a metadata key: against itself, no change. */
static struct od_model *duplicated_entries(void)
{
	struct od_model *m = model(MLP);
	m->n_opsets = 2;
	m->opsets = od_arena_alloc(m->arena, 2 * sizeof *m->opsets);
	m->opsets[0] = (struct od_opset){.domain = "", .version = 11};
	m->opsets[1] = (struct od_opset){.domain = "ai.onnx", .version = 16};
	m->n_props = 2;
	m->props = od_arena_alloc(m->arena, 2 * sizeof *m->props);
	m->props[0] = (struct od_prop){.key = "k", .value = "1"};
	m->props[1] = (struct od_prop){.key = "k", .value = "2"};
	return m;
}

Test(diff, duplicated_opsets_and_metadata)
{
	struct od_model *a = duplicated_entries(), *b = duplicated_entries();
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "changes:\n%s", text(d));
	od_diff_free(d);
	b->props[1].value = "3";
	d = diff(a, b);
	cr_expect_eq(d->n_changes, 1, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_METADATA);
	cr_assert(c);
	cr_expect_str_eq(c->old_text, "2");
	cr_expect_str_eq(c->new_text, "3");
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

/* LogSoftmax's default axis is 1 before opset 13 and -1 from 13 on; a file importing
 * ai.onnx twice runs at its last import, as the folder and onnx.checker take it. */
static struct od_model *log_softmax(int64_t first, int64_t last)
{
	struct od_model *m = model("in x float 2,3; out y float 2,3; node LogSoftmax ls x y");
	m->n_opsets = 2;
	m->opsets = od_arena_alloc(m->arena, 2 * sizeof *m->opsets);
	m->opsets[0] = (struct od_opset){.domain = "", .version = first};
	m->opsets[1] = (struct od_opset){.domain = "ai.onnx", .version = last};
	return m;
}

Test(diff, opset_imported_twice_last_counts)
{
	struct od_model *a = log_softmax(11, 13), *b = log_softmax(12, 13), *c = log_softmax(13, 11);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "11,13 vs 12,13 run at 13 both:\n%s", text(d));
	od_diff_free(d);
	d = diff(a, c);
	char *t = text(d);
	cr_expect(strstr(t, "axis: -1 (default) -> 1 (default)"), "%s", t);
	free(t);
	const struct od_change *o = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OPSET);
	cr_assert(o);
	cr_expect_str_eq(o->old_text, "13");
	cr_expect_str_eq(o->new_text, "11");
	od_diff_free(d);
	model_free(a);
	model_free(b);
	model_free(c);
}

Test(diff, ignore_parse_rejects_unknown)
{
	unsigned mask = 0;
	struct od_ctx ctx = {0};
	cr_expect_eq(od_diff_ignore_parse("doc,nope", &mask, &ctx), OD_EARG);
	cr_expect_str_eq(ctx.msg, "unknown --ignore category 'nope'");
	cr_expect_eq(od_diff_ignore_parse("doc,weights", &mask, &ctx), 0);
	cr_expect_eq(mask, OD_DIFF_IGNORE(DOC) | OD_DIFF_IGNORE(WEIGHTS));
}

Test(diff, weights_ignored)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	struct od_tensor *w = init_of(b, "p0");
	od_tensor_set_f64(w, 0, 42);
	w->hashed = false;
	struct od_diff_opts o = {.ignore = OD_DIFF_IGNORE(WEIGHTS)};
	struct od_diff *d = diff_opts(a, b, &o);
	cr_expect(od_diff_is_same(d), "changes:\n%s", text(d));
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, stat_counts)
{
	struct od_model *a = model(MLP);
	struct od_model *b = model(
		"in x float N,4; in mask float 1,4; out y float N,4;"
		"init W1 float 4,4 0.5; init b1 float 4 1.0; init W2 float 4,4 -0.25; init b2 float 4 2.0;"
		"node Gemm fc1 x,W1,b1 h1 transB=1; node Relu act h1 a1; node Relu act2 a1 a2;"
		"node Gemm fc2 a2,W2,b2 h2 transB=1; node Mul masked h2,mask y");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->stat.nodes_a, 4);
	cr_expect_eq(d->stat.nodes_b, 5);
	cr_expect_eq(d->stat.params_a, 40);
	cr_expect_eq(d->stat.bytes_b, 160);
	for (size_t i = 0; i < d->stat.n_ops; i++)
		if (!strcmp(d->stat.ops[i].op_type, "Relu")) {
			cr_expect_eq(d->stat.ops[i].a, 1);
			cr_expect_eq(d->stat.ops[i].b, 2);
		}
	char *out = NULL;
	cr_assert_eq(od_diff_emit_stat(d, NULL, buf_write, &out), 0);
	cr_expect(strstr(out, " nodes        4 -> 5 (+1)\n"), "%s", out);
	cr_expect(strstr(out, "   Relu         1 -> 2 (+1)\n"), "%s", out);
	cr_expect(strstr(out, " 1 added, 0 removed, 0 changed, 0 renamed\n"), "%s", out);
	free(out);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, json_schema)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	add_attr(b->arena, node_of(b->graph, "m/act"), "alpha=0.5");
	struct od_diff *d = diff(a, b);
	char *out = NULL;
	cr_assert_eq(od_diff_emit_json(d, NULL, buf_write, &out), 0);
	json_error_t err;
	json_t *j = json_loads(out, 0, &err);
	cr_assert(j, "bad JSON: %s\n%s", err.text, out);
	cr_expect_str_eq(json_string_value(json_object_get(j, "schema")), "onnxdiff-diff/1");
	cr_expect(json_is_false(json_object_get(j, "same")));
	json_t *changes = json_object_get(j, "changes");
	int found = 0;
	for (size_t i = 0; i < json_array_size(changes); i++) {
		json_t *c = json_array_get(changes, i);
		if (!strcmp(json_string_value(json_object_get(c, "kind")), "changed")) {
			json_t *det = json_array_get(json_object_get(c, "details"), 0);
			cr_expect_str_eq(json_string_value(json_object_get(det, "what")), "attribute");
			cr_expect_str_eq(json_string_value(json_object_get(det, "key")), "alpha");
			found++;
		}
	}
	cr_expect_eq(found, 1, "%s", out);
	json_decref(j);
	free(out);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

static int fail(void *priv, const char *s, size_t n)
{
	(void)priv, (void)s, (void)n;
	return OD_EIO;
}

Test(diff, callback_error_stops_the_emitter)
{
	struct od_model *a = model(MLP), *b = model(MLP_RENAMED);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(od_diff_emit_text(d, NULL, fail, NULL), OD_EIO);
	cr_expect_eq(od_diff_emit_json(d, NULL, fail, NULL), OD_EIO);
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

Test(diff, textconv_ignores_node_order)
{
	const char *order1 = "in x float 2; out y float 2; init w float 2 1.0;"
	                     "node Relu r x a; node Neg n x b; node Add s a,b c; node Mul m c,w y";
	const char *order2 = "in x float 2; out y float 2; init w float 2 1.0;"
	                     "node Neg n x b; node Relu r x a; node Add s a,b c; node Mul m c,w y";
	struct od_model *a = model(order1), *b = model(order2);
	char *ta = NULL, *tb = NULL;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_diff_textconv(a, buf_write, &ta, &ctx), 0);
	cr_assert_eq(od_diff_textconv(b, buf_write, &tb, &ctx), 0);
	cr_expect_str_eq(ta, tb);
	cr_expect(strstr(ta, "node m: y = Mul(c, w)\n"), "%s", ta);
	cr_expect(strstr(ta, "initializer w float[2] xxh3:"), "%s", ta);
	free(ta);
	free(tb);
	model_free(a);
	model_free(b);
}

/* A model calling the local function ns.Foo(x, y) -> z whose body applies op. */
static struct od_model *function_model(const char *op, const char *extra_fn)
{
	struct od_model *m = model("in a float 2; in b float 2; out c float 2; node Foo call a,b c");
	struct od_arena *ar = m->arena;
	node_of(m->graph, "call")->domain = "ns";
	m->n_functions = extra_fn ? 2 : 1;
	m->functions = od_arena_alloc(ar, 2 * sizeof *m->functions);
	for (size_t i = 0; i < m->n_functions; i++) {
		struct od_function *f = od_arena_alloc(ar, sizeof *f);
		f->name = i ? extra_fn : "Foo";
		f->domain = "ns";
		f->n_opsets = 1;
		f->opsets = od_arena_alloc(ar, sizeof *f->opsets);
		f->opsets[0] = (struct od_opset){.domain = "", .version = 14};
		f->body = od_arena_alloc(ar, sizeof *f->body);
		char spec[128];
		snprintf(spec, sizeof spec, "in x float -; in y float -; out z float -; node %s body x,y z", op);
		fill_graph(m, f->body, spec);
		m->functions[i] = f;
	}
	return m;
}

Test(diff, local_functions)
{
	struct od_model *a = function_model("Add", NULL), *b = function_model("Add", NULL);
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "changes:\n%s", text(d));
	cr_expect_eq(d->n_graphs, 2);
	cr_expect_str_eq(d->graphs[1].path, "function:ns.Foo");
	od_diff_free(d);
	model_free(b);

	b = function_model("Mul", "Bar");
	d = diff(a, b);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_OP);
	cr_assert(c, "changes:\n%s", text(d));
	cr_expect_str_eq(c->path, "function:ns.Foo");
	cr_expect_str_eq(c->old_text, "Add");
	cr_expect_str_eq(c->new_text, "Mul");
	c = find(d, OD_CHANGE_ADDED, OD_CHANGE_FUNCTION);
	cr_assert(c);
	cr_expect_str_eq(c->b_name, "ns.Bar");
	cr_expect_eq(real_changes(d), 3);   /* Foo's node and its op; Bar added */
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

/* if0's then_branch holds if1, whose then_branch holds a constant. */
static struct od_model *nested_if(double c)
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

Test(diff, nested_subgraphs_and_max_depth)
{
	struct od_model *a = nested_if(1.0), *b = nested_if(2.0);
	struct od_diff *d = diff(a, b);
	const struct od_change *c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	cr_assert(c, "changes:\n%s", text(d));
	cr_expect_str_eq(c->path, "graph/if0:then_branch/if1:then_branch");
	cr_expect_eq(c->depth, 2);
	cr_expect_eq(d->n_graphs, 5);
	cr_expect_eq(real_changes(d), 2);
	od_diff_free(d);

	struct od_diff_opts o = {.max_depth = 1};   /* one level of subgraphs */
	d = diff_opts(a, b, &o);
	cr_expect_eq(d->n_graphs, 3);
	cr_expect_eq(d->n_changes, 0, "changes:\n%s", text(d));
	od_diff_free(d);
	model_free(a);
	model_free(b);
}

#ifdef OD_FAULT_INJECTION
Test(diff, textconv_allocation_failures)
{
	struct od_model *m = nested_if(1.0);
	char *whole = NULL;
	struct od_ctx ctx = {0};
	cr_assert_eq(od_diff_textconv(m, buf_write, &whole, &ctx), 0);
	long k;
	for (k = 1; k < 100000; k++) {
		char *out = NULL;
		od_fault_alloc_after(k);
		int rc = od_diff_textconv(m, buf_write, &out, &ctx);
		long used = od_fault_alloc_count();
		od_fault_alloc_after(0);
		cr_assert(rc == 0 || rc == OD_ENOMEM, "allocation %ld: rc %d", k, rc);
		if (rc == 0)
			cr_assert_str_eq(out, whole, "allocation %ld failed but the dump went on", k);
		else
			cr_assert_str_eq(ctx.msg, "cannot dump: out of memory");
		free(out);
		if (rc == 0 && used < k)
			break;
	}
	cr_expect_gt(k, 3);
	free(whole);
	model_free(m);
}
#endif

/* ---- fixtures ---------------------------------------------------------------------------------- */

Test(diff, seed_mask_input_became_a_constant)
{
	struct od_model *a = load(FIX "seed/with_mask.onnx"), *b = load(FIX "seed/wrapper.onnx");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(real_changes(d), 4, "changes:\n%s", text(d));
	const struct od_change *c = find(d, OD_CHANGE_REMOVED, OD_CHANGE_INPUT);
	cr_assert(c);
	cr_expect_str_eq(c->a_name, "mask");
	c = find(d, OD_CHANGE_ADDED, OD_CHANGE_INITIALIZER);
	cr_assert(c);
	cr_expect_str_eq(c->b_name, "mask");
	c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_NODE);
	cr_assert(c);
	cr_expect_str_eq(c->a_node->op_type, "Mul");
	c = find(d, OD_CHANGE_CHANGED, OD_CHANGE_PORT);
	cr_assert(c);
	cr_expect_eq(c->port, 1);
	cr_expect_eq(d->graphs[0].n_matched, 2);
	/* the weights are renamed, not changed */
	size_t renamed_inits = 0;
	for (size_t i = 0; i < d->n_changes; i++)
		renamed_inits += d->changes[i].kind == OD_CHANGE_RENAMED &&
		                 d->changes[i].what == OD_CHANGE_INITIALIZER;
	cr_expect_eq(renamed_inits, 2);
	od_diff_free(d);
	model_free(NULL);
	od_model_free(a);
	od_model_free(b);
}

Test(diff, seed_renamed_copies_are_the_same)
{
	static const char *const copies[] = {"seed/renamed.onnx", "seed/renamed-io.onnx"};
	struct od_model *a = load(FIX "seed/with_mask.onnx");
	for (size_t i = 0; i < 2; i++) {
		char path[512];
		snprintf(path, sizeof path, FIX "%s", copies[i]);
		struct od_model *b = load(path);
		struct od_diff *d = diff(a, b);
		cr_expect(od_diff_is_same(d), "%s:\n%s", copies[i], text(d));
		od_diff_free(d);
		od_model_free(b);
	}
	od_model_free(a);
}

Test(diff, if_fixture_against_itself)
{
	struct od_model *a = load(FIX "if/model.onnx"), *b = load(FIX "if/model.onnx");
	struct od_diff *d = diff(a, b);
	cr_expect_eq(d->n_changes, 0, "%s", text(d));
	cr_expect_eq(d->n_graphs, 3);
	od_diff_free(d);
	od_model_free(a);
	od_model_free(b);
}

/* Every backend model against its own round trip through the writer: nothing differs. */
Test(diff, backend_round_trip, .timeout = 600)
{
	static const char *const patterns[] = {
		"node/*/model.onnx", "light/*.onnx", "pytorch-*/*/model.onnx", "simple/*/model.onnx",
	};
	const char *root = OD_SRCDIR "/../shared/onnx-backend-tests/";
	size_t covered = 0, failed = 0;
	glob_t gl = {0};
	for (size_t p = 0; p < sizeof patterns / sizeof *patterns; p++) {
		char pat[1024];
		snprintf(pat, sizeof pat, "%s%s", root, patterns[p]);
		glob(pat, p ? GLOB_APPEND : 0, NULL, &gl);
	}
	if (!gl.gl_pathc)
		cr_skip_test("../shared/onnx-backend-tests not found");
	for (size_t i = 0; i < gl.gl_pathc; i++) {
		struct od_ctx ctx = {0};
		struct od_model *a = NULL, *b = NULL;
		struct od_diff *d = NULL;
		void *buf = NULL;
		size_t len = 0;
		char dir[1024];
		snprintf(dir, sizeof dir, "%s", gl.gl_pathv[i]);
		*strrchr(dir, '/') = 0;
		if (od_model_load(gl.gl_pathv[i], NULL, &a, &ctx) ||
		    od_model_serialize(a, &buf, &len, &ctx) ||
		    od_model_load_buffer(buf, len, gl.gl_pathv[i], dir, NULL, &b, &ctx) ||
		    od_diff(a, b, NULL, &d, &ctx)) {
			cr_log_warn("%s: %s", gl.gl_pathv[i], ctx.msg);
			failed++;
		} else if (d->n_changes) {
			char *t = text(d);
			cr_log_warn("%s differs from its round trip:\n%s", gl.gl_pathv[i], t);
			free(t);
			failed++;
		}
		covered++;
		od_diff_free(d);
		od_model_free(b);
		od_model_free(a);
		free(buf);
	}
	globfree(&gl);
	cr_log_info("round trip: %zu backend models, %zu failed", covered, failed);
	cr_expect_eq(failed, 0, "%zu of %zu backend models differ from their round trip", failed, covered);
}
