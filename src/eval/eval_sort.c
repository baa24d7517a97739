/*
 * eval_sort.c — TopK: the k largest (or smallest) entries along an axis with their indices,
 * ties broken by the lower index as the reference does.
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
