/*
 * feed.c — the values a run starts from: given ones checked against their inputs (dtype,
 * rank, static dims, symbolic dims agreeing across inputs, as freeze checks --set), and
 * seeded random ones for the rest, so that `run` and `verify` need no feeds at all.
 */
#include "config.h"
#include <string.h>
#include "run.h"
#include "internal.h"

struct dims {
	struct od_dim_size *v;  /* malloc'd; param strings borrowed */
	const char **by;        /* the input that fixed each one, NULL for --dim */
	size_t n;
};

static char *decl_text(struct od_arena *a, const struct od_value *in)
{
	const char *b = in->type_str ? strchr(in->type_str, '[') : NULL;
	return od_arena_printf(a, "%s%s", od_dtype_name(in->dtype), b ? b : "");
}

static int shape_error(struct od_arena *a, const struct od_value *in, const struct od_tensor *t,
                       struct od_ctx *ctx)
{
	char shape[1024];
	char *decl = decl_text(a, in);
	return od_error(ctx, OD_EVALUE, "value for '%s' has shape %s, input is %s", in->name,
	                od_shape_str(t, shape, sizeof shape), decl ? decl : "?");
}

static int64_t *find_dim(struct dims *d, const char *param, size_t *at)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].param, param)) {
			*at = i;
			return &d->v[i].value;
		}
	return NULL;
}

static int add_dim(struct dims *d, const char *param, int64_t value, const char *by)
{
	struct od_dim_size *v = od_realloc(d->v, (d->n + 1) * sizeof *v);
	const char **b = v ? od_realloc(d->by, (d->n + 1) * sizeof *b) : NULL;
	if (v)
		d->v = v;
	if (!b)
		return OD_ENOMEM;
	d->by = b;
	d->v[d->n] = (struct od_dim_size){ param, value };
	d->by[d->n++] = by;
	return 0;
}

/* A symbolic dim of input in takes size value from its feed. */
static int fix_dim(struct dims *d, struct od_arena *a, const struct od_value *in,
                   const struct od_tensor *t, const char *param, int64_t value,
                   struct od_ctx *ctx)
{
	size_t at;
	int64_t *have = find_dim(d, param, &at);
	if (!have)
		return add_dim(d, param, value, in->name) ? od_error(ctx, OD_ENOMEM, "out of memory") : 0;
	if (*have == value)
		return 0;
	if (!d->by[at])
		return od_error(ctx, OD_EVALUE, "value for '%s' makes dim '%s' %lld, but --dim made it %lld",
		                in->name, param, (long long)value, (long long)*have);
	if (!strcmp(d->by[at], in->name))
		return shape_error(a, in, t, ctx);
	return od_error(ctx, OD_EVALUE, "value for '%s' makes dim '%s' %lld, but the value for '%s' made it %lld",
	                in->name, param, (long long)value, d->by[at], (long long)*have);
}

/* A scalar repeated to a static shape. */
static struct od_tensor *fill(struct od_arena *a, const struct od_tensor *t, const int64_t *dims,
                              int rank)
{
	size_t es = od_dtype_size(t->dtype);
	struct od_tensor *c = es ? od_tensor_new(a, t->name, t->dtype, rank, dims) : NULL;
	for (int64_t i = 0; c && i < c->numel; i++)
		memcpy((char *)c->data + (size_t)i * es, t->data, es);
	return c;
}

static int check_feed(struct dims *d, struct od_arena *a, const struct od_value *in,
                      struct od_tensor **tp, struct od_ctx *ctx)
{
	struct od_tensor *t = *tp;
	if (in->kind != OD_TYPE_TENSOR)
		return od_error(ctx, OD_EUNSUPPORTED, "input '%s' is %s: only tensor inputs can be fed",
		                in->name, in->type_str && *in->type_str ? in->type_str : "untyped");
	if (t->dtype != in->dtype) {
		char *decl = decl_text(a, in);
		return od_error(ctx, OD_EVALUE, "value for '%s' has dtype %s, input is %s", in->name,
		                od_dtype_name(t->dtype), decl ? decl : "?");
	}
	if (in->rank < 0)
		return 0;
	if (t->ndims == 0 && in->rank > 0 && t->numel == 1) {
		int64_t dims[OD_MAX_RANK];
		for (int i = 0; i < in->rank && i < OD_MAX_RANK; i++)
			if ((dims[i] = in->dims[i].value) < 0)
				return shape_error(a, in, t, ctx);
		if (in->rank > OD_MAX_RANK || !(*tp = fill(a, t, dims, in->rank)))
			return od_error(ctx, OD_ENOMEM, "out of memory");
		return 0;
	}
	if (t->ndims != in->rank)
		return shape_error(a, in, t, ctx);
	for (int i = 0; i < in->rank; i++) {
		const struct od_dim *dm = &in->dims[i];
		int rc = 0;
		if (dm->value >= 0 && dm->value != t->dims[i])
			return shape_error(a, in, t, ctx);
		if (dm->value < 0 && dm->param &&
		    (rc = fix_dim(d, a, in, t, dm->param, t->dims[i], ctx)))
			return rc;
	}
	return 0;
}

/* ---- random values ------------------------------------------------------------------------ */

static uint64_t splitmix(uint64_t *s)
{
	uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = UINT64_C(1469598103934665603);
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * UINT64_C(1099511628211);
	return h;
}

static int random_feed(struct dims *d, struct od_arena *a, const struct od_value *in,
                       uint64_t seed, struct od_tensor **out, struct od_ctx *ctx)
{
	int64_t dims[OD_MAX_RANK];
	int rank = in->rank < 0 ? 0 : in->rank;
	if (in->kind != OD_TYPE_TENSOR || in->dtype == OD_STRING || !od_dtype_size(in->dtype))
		return od_error(ctx, OD_EUNSUPPORTED, "input '%s' is %s: give it a value with --feed",
		                in->name, in->type_str && *in->type_str ? in->type_str : "untyped");
	if (rank > OD_MAX_RANK)
		return od_error(ctx, OD_ELIMIT, "input '%s' has rank %d", in->name, rank);
	for (int i = 0; i < rank; i++) {
		size_t at;
		int64_t *v = in->dims[i].param ? find_dim(d, in->dims[i].param, &at) : NULL;
		dims[i] = in->dims[i].value >= 0 ? in->dims[i].value : v ? *v : 1;
	}
	struct od_tensor *t = od_tensor_new(a, in->name, in->dtype, rank, dims);
	if (!t)
		return od_error(ctx, OD_ELIMIT, "no room for a random value for input '%s'", in->name);
	uint64_t s = seed ^ name_hash(in->name);
	bool fl = od_dtype_is_float(in->dtype);
	for (int64_t i = 0; i < t->numel; i++) {
		uint64_t r = splitmix(&s);
		double v = fl ? (double)(r >> 11) / 4503599627370496.0 - 1.0 :
		           in->dtype == OD_BOOL ? (double)(r & 1) : (double)(r & 3);
		od_tensor_set_f64(t, i, v);
	}
	*out = t;
	return 0;
}

/* ---- all feeds ------------------------------------------------------------------------------ */

static int given_ok(const struct od_graph *g, const struct od_feed *given, size_t n,
                    struct od_ctx *ctx)
{
	for (size_t i = 0; i < n; i++) {
		if (!given[i].name || !given[i].value)
			return od_error(ctx, OD_EARG, "feed %zu has no name or value", i);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(given[i].name, given[j].name))
				return od_error(ctx, OD_EARG, "input '%s' is given twice", given[i].name);
		if (!od_graph_find_input(g, given[i].name))
			return od_error(ctx, OD_ENOTFOUND, "input '%s' not found in graph", given[i].name);
	}
	return 0;
}

static const struct od_feed *find_given(const struct od_feed *given, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(given[i].name, name))
			return &given[i];
	return NULL;
}

int od_feeds_complete(const struct od_model *m, const struct od_feed *given, size_t n_given,
                      const struct od_dim_size *dims, size_t n_dims, uint64_t seed,
                      struct od_arena *a, struct od_feed **out, size_t *n_out,
                      struct od_ctx *ctx)
{
	const struct od_graph *g = m->graph;
	struct dims d = { 0 };
	struct od_feed *f = od_arena_alloc(a, (g->n_inputs + 1) * sizeof *f);
	int rc = f ? given_ok(g, given, n_given, ctx) : od_error(ctx, OD_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < n_dims; i++)
		if (add_dim(&d, dims[i].param, dims[i].value, NULL))
			rc = od_error(ctx, OD_ENOMEM, "out of memory");
	for (size_t k = 0; !rc && k < g->n_inputs; k++) {
		const struct od_feed *v = find_given(given, n_given, g->inputs[k]->name);
		f[k] = (struct od_feed){ g->inputs[k]->name, v ? v->value : NULL };
		if (v)
			rc = check_feed(&d, a, g->inputs[k], &f[k].value, ctx);
	}
	size_t n = 0;
	for (size_t k = 0; !rc && k < g->n_inputs; k++) {
		/* An input with an initializer default keeps it unless given. */
		if (!f[k].value && od_graph_find_init(g, f[k].name))
			continue;
		if (!f[k].value)
			rc = random_feed(&d, a, g->inputs[k], seed, &f[k].value, ctx);
		f[n++] = f[k];
	}
	od_free(d.v);
	od_free(d.by);
	if (!rc) {
		*out = f;
		*n_out = n;
	}
	return rc;
}
