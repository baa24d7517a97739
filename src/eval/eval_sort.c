/*
 * eval_sort.c — the kernels that sort: TopK (the k largest or smallest entries along an
 * axis with their indices, ties broken by the lower index as the reference does) and Unique
 * (distinct elements or slices, sorted or in order of first occurrence).
 */
#include "config.h"
#include <math.h>
#include <stdlib.h>
#include "eval_internal.h"

/* long double holds every int64 and uint64 exactly (x87 extended, 64-bit mantissa), so one
 * key type serves floats and integers. */
struct item {
	long double v;
	int64_t i;
};

static long double key(const struct od_tensor *x, int64_t i)
{
	switch (ev_class(x->dtype)) {
	case EV_CS: return (long double)ev_geti(x, i);
	case EV_CU: return (long double)ev_getu(x, i);
	default: return ev_getf(x, i);
	}
}

/* NaN counts as larger than any number, as numpy's sort places it. */
static int cmp_val(long double a, long double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return (a > b) - (a < b);
}

static int by_largest(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	int c = cmp_val(b->v, a->v);
	return c ? c : (a->i > b->i) - (a->i < b->i);
}

static int by_smallest(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	int c = cmp_val(a->v, b->v);
	return c ? c : (a->i > b->i) - (a->i < b->i);
}

static int topk(struct ev *e, int64_t k)
{
	const struct od_tensor *x = e->in[0];
	int64_t axis = ev_attr_i(e, "axis", -1), dims[OD_MAX_RANK];
	bool largest = ev_attr_i(e, "largest", 1);
	struct od_tensor *vals, *idx;
	int rc = ev_axis(e, &axis, x->ndims);
	if (rc)
		return rc;
	int64_t n = x->dims[axis], inner = ev_numel(x->ndims - (int)axis - 1, x->dims + axis + 1);
	int64_t outer = ev_numel((int)axis, x->dims);
	if (k < 0 || k > n)
		return ev_bad(e, "k %lld out of range for an axis of %lld", (long long)k, (long long)n);
	memcpy(dims, x->dims, (size_t)x->ndims * sizeof *dims);
	dims[axis] = k;
	struct item *it = od_arena_alloc(e->a, (size_t)(n ? n : 1) * sizeof *it);
	if (!it)
		return ev_err(e, OD_ENOMEM, "out of memory");
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, dims, &vals)) ||
	    (e->n->n_outputs > 1 && (rc = ev_new(e, 1, OD_INT64, x->ndims, dims, &idx))))
		return rc;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t in = 0; in < inner; in++) {
			int64_t base = o * n * inner + in, obase = o * k * inner + in;
			for (int64_t j = 0; j < n; j++)
				it[j] = (struct item){ key(x, base + j * inner), j };
			qsort(it, (size_t)n, sizeof *it, largest ? by_largest : by_smallest);
			for (int64_t j = 0; j < k; j++) {
				ev_copy(vals, obase + j * inner, x, base + it[j].i * inner, 1);
				if (e->n->n_outputs > 1)
					ev_seti(idx, obase + j * inner, it[j].i);
			}
		}
	return 0;
}

int ev_k_topk1(struct ev *e) { return topk(e, ev_attr_i(e, "k", -1)); }

int ev_k_topk(struct ev *e)
{
	const struct od_tensor *k = e->in[1];
	if (k->numel != 1 || ev_class(k->dtype) != EV_CS)
		return ev_bad(e, "k must be one integer");
	return topk(e, ev_geti(k, 0));
}

/* ---- Unique --------------------------------------------------------------------------------- */

/* Items are the slices along the axis (single elements when flattened): item k holds
 * x[o, k, in] for every outer o and inner in. */
struct items {
	const struct od_tensor *x;
	int64_t n, outer, inner;
};

static int cmp_items(const struct items *it, int64_t a, int64_t b)
{
	for (int64_t o = 0; o < it->outer; o++)
		for (int64_t in = 0; in < it->inner; in++) {
			int64_t base = o * it->n * it->inner + in;
			int c = cmp_val(key(it->x, base + a * it->inner), key(it->x, base + b * it->inner));
			if (c)
				return c;
		}
	return 0;
}

static int by_item(const void *pa, const void *pb, void *priv)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	int c = cmp_items(priv, a, b);
	return c ? c : (a > b) - (a < b);
}

static int by_index(const void *pa, const void *pb)
{
	int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
	return (a > b) - (a < b);
}

/* Outputs Y, indices (first occurrences), inverse_indices, counts. */
int ev_k_unique(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	const struct od_attr *ax = ev_attr(e, "axis", OD_ATTR_INT);
	int64_t axis = ax ? ax->i : 0, dims[OD_MAX_RANK], flat = x->numel;
	int nd = ax ? x->ndims : 1, rc = ev_axis(e, &axis, nd);
	const int64_t *shape = ax ? x->dims : &flat;
	if (rc)
		return rc;
	struct items it = { x, shape[axis], ev_numel((int)axis, shape),
	                    ev_numel(nd - (int)axis - 1, shape + axis + 1) };
	size_t sz = (size_t)(it.n ? it.n : 1) * sizeof(int64_t);
	int64_t *order = od_arena_alloc(e->a, sz), *first = od_arena_alloc(e->a, sz);
	int64_t *group = od_arena_alloc(e->a, sz), *count = od_arena_alloc(e->a, sz), u = 0;
	if (!order || !first || !group || !count)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t k = 0; k < it.n; k++)
		order[k] = k;
	qsort_r(order, (size_t)it.n, sizeof *order, by_item, &it);
	for (int64_t k = 0; k < it.n; k++) {
		if (!k || cmp_items(&it, order[k - 1], order[k]))
			first[u++] = order[k];      /* stable: the lowest index of its group */
		group[order[k]] = u - 1;
	}
	if (!ev_attr_i(e, "sorted", 1)) {
		/* renumber the groups by first occurrence */
		int64_t *rank = order;
		qsort(first, (size_t)u, sizeof *first, by_index);
		for (int64_t g = 0; g < u; g++)
			rank[group[first[g]]] = g;
		for (int64_t k = 0; k < it.n; k++)
			count[k] = rank[group[k]];
		memcpy(group, count, sz);
	}
	memset(count, 0, sz);
	for (int64_t k = 0; k < it.n; k++)
		count[group[k]]++;
	memcpy(dims, shape, (size_t)nd * sizeof *dims);
	dims[axis] = u;
	struct od_tensor *y, *o[3] = { NULL, NULL, NULL };
	if ((rc = ev_new(e, 0, x->dtype, nd, dims, &y)))
		return rc;
	for (int64_t oo = 0; oo < it.outer; oo++)
		for (int64_t g = 0; g < u; g++)
			ev_copy(y, (oo * u + g) * it.inner, x, (oo * it.n + first[g]) * it.inner, it.inner);
	int64_t len[3] = { u, it.n, u };
	const int64_t *vals[3] = { first, group, count };
	for (int i = 0; i < 3; i++) {
		if ((size_t)i + 1 >= e->n->n_outputs || !*e->n->outputs[i + 1])
			continue;
		if ((rc = ev_new(e, i + 1, OD_INT64, 1, &len[i], &o[i])))
			return rc;
		for (int64_t k = 0; k < len[i]; k++)
			ev_seti(o[i], k, vals[i][k]);
	}
	return 0;
}
