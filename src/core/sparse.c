/*
 * sparse.c — sparse tensors (see sparse.h). A sparse tensor is a dense shape, nnz values and
 * their indices; every element not listed is zero. Its content, for hashing and equality,
 * is the list of (linear index, value) pairs whose value is not all zero bytes: the dense
 * tensor bit for bit, so explicit zeros and absent elements are the same content.
 */
#include "config.h"
#include <math.h>
#include <string.h>
#include "internal.h"
#include "sparse.h"

static int64_t index_at(const struct od_tensor *ix, int64_t i)
{
	int64_t v;
	memcpy(&v, (const uint8_t *)ix->data + (size_t)i * sizeof v, sizeof v);
	return v;
}

/* Linear index of coordinate tuple k of a [nnz,rank] index tensor; -1 when out of range. */
static int64_t linearize(const struct od_tensor *t, const struct od_tensor *ix, int64_t k,
                         int *bad_dim)
{
	int64_t lin = 0;
	for (int d = 0; d < t->ndims; d++) {
		int64_t c = index_at(ix, k * t->ndims + d);
		if (c < 0 || c >= t->dims[d]) {
			*bad_dim = d;
			return -1;
		}
		lin = lin * t->dims[d] + c;
	}
	return lin;
}

int od_sparse_index(struct od_arena *a, const struct od_tensor *t, struct od_sparse *sp,
                    const char *label, struct od_ctx *ctx)
{
	const struct od_tensor *ix = sp->indices;
	if (!ix)
		return sp->nnz ? od_error(ctx, OD_EFORMAT, "%s: %lld values without indices", label,
		                          (long long)sp->nnz) : 0;
	if (ix->dtype != OD_INT64)
		return od_error(ctx, OD_EFORMAT, "%s: indices must be int64, not %s", label, od_dtype_name(ix->dtype));
	bool coo = ix->ndims == 2;
	if ((ix->ndims != 1 && !coo) || ix->dims[0] != sp->nnz || (coo && ix->dims[1] != t->ndims))
		return od_error(ctx, OD_EFORMAT, "%s: indices of shape %s for %lld values of rank %d", label,
		                od_shape_str(ix, (char[64]){0}, 64), (long long)sp->nnz, t->ndims);
	if (!ix->data)          /* external data not read (no_external) */
		return 0;
	int64_t *lin = od_arena_alloc(a, sp->nnz ? (size_t)sp->nnz * sizeof *lin : 1);
	if (!lin)
		return od_error(ctx, OD_ENOMEM, "out of memory");
	for (int64_t i = 0; i < sp->nnz; i++) {
		int d = 0;
		lin[i] = coo ? linearize(t, ix, i, &d) : index_at(ix, i);
		if (lin[i] < 0 || lin[i] >= t->numel)
			return od_error(ctx, OD_EFORMAT, "%s: index %lld out of range for shape %s", label,
			                (long long)i, od_shape_str(t, (char[64]){0}, 64));
		if (i && lin[i] <= lin[i - 1])
			return od_error(ctx, OD_EFORMAT, "%s: index %lld not in increasing order", label, (long long)i);
	}
	sp->lin = lin;
	return 0;
}

/* Value k's bytes (strings: the string's), and whether they are all zero (an empty string). */
static struct od_bytes value_at(const struct od_tensor *v, int64_t k)
{
	if (v->dtype == OD_STRING)
		return v->strings ? v->strings[k] : (struct od_bytes){0, NULL};
	size_t sz = od_dtype_size(v->dtype);
	return (struct od_bytes){sz, v->data ? (const uint8_t *)v->data + (size_t)k * sz : NULL};
}

static bool is_zero(struct od_bytes b)
{
	for (size_t i = 0; i < b.len; i++)
		if (b.data[i])
			return false;
	return true;
}

/* The next stored element from *k on that is not zero; false at the end. */
static bool next_nonzero(const struct od_sparse *sp, int64_t *k, struct od_bytes *val)
{
	for (; sp->lin && *k < sp->nnz; ++*k) {
		*val = value_at(sp->values, *k);
		if (val->data && !is_zero(*val))
			return true;
	}
	return false;
}

void od_sparse_hash(XXH3_state_t *st, const struct od_tensor *t)
{
	const struct od_sparse *sp = t->sparse;
	struct od_bytes val;
	XXH3_64bits_update(st, "sparse", 6);
	for (int64_t k = 0; next_nonzero(sp, &k, &val); k++) {
		uint64_t len = val.len;
		XXH3_64bits_update(st, &sp->lin[k], sizeof sp->lin[k]);
		if (t->dtype == OD_STRING)
			XXH3_64bits_update(st, &len, sizeof len);
		XXH3_64bits_update(st, val.data, val.len);
	}
}

bool od_sparse_equal(const struct od_tensor *a, const struct od_tensor *b)
{
	const struct od_sparse *x = a->sparse, *y = b->sparse;
	struct od_bytes va, vb;
	int64_t i = 0, j = 0;
	if (!x || !y || !x->lin != !y->lin)
		return false;
	for (;; i++, j++) {
		bool ha = next_nonzero(x, &i, &va), hb = next_nonzero(y, &j, &vb);
		if (!ha || !hb)
			return ha == hb;
		if (x->lin[i] != y->lin[j] || va.len != vb.len || memcmp(va.data, vb.data, va.len))
			return false;
	}
}

double od_sparse_get_f64(const struct od_tensor *t, int64_t i)
{
	const struct od_sparse *sp = t->sparse;
	int64_t lo = 0, hi = sp->nnz;
	if (!sp->lin || i < 0 || i >= t->numel || t->dtype == OD_STRING)
		return NAN;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo) / 2;
		if (sp->lin[mid] < i)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sp->nnz && sp->lin[lo] == i ? od_tensor_get_f64(sp->values, lo) : 0.0;
}

static void *dup(struct od_arena *a, const void *p, size_t n)
{
	void *c = od_arena_alloc(a, n ? n : 1);
	if (c && n)
		memcpy(c, p, n);
	return c;
}

struct od_tensor *od_sparse_clone(struct od_arena *a, const struct od_tensor *t)
{
	const struct od_sparse *from = t->sparse;
	struct od_tensor *c = dup(a, t, sizeof *t);
	struct od_sparse *sp = dup(a, from, sizeof *from);
	if (!c || !sp || !(c->dims = dup(a, t->dims, (size_t)t->ndims * sizeof *t->dims)) ||
	    !(c->name = od_arena_strdup(a, t->name)) || !(sp->values = od_tensor_clone(a, from->values)) ||
	    (from->indices && !(sp->indices = od_tensor_clone(a, from->indices))) ||
	    (from->lin && !(sp->lin = dup(a, from->lin, (size_t)from->nnz * sizeof *from->lin))))
		return NULL;
	sp->values->name = c->name;
	sp->src = NULL;
	c->sparse = sp;
	c->src = NULL;
	return c;
}
