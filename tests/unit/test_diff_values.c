/*
 * test_diff_values.c — the structural diff, comparing tensor contents: exact integers, bit-exact floats at --atol 0, what max abs and max rel mean.
 * Models are built in memory from the text spec of diff_spec.h.
 */
#include "diff_spec.h"

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
