/*
 * eval_gather.c — kernels that read or write elements at positions given by an index
 * tensor: Gather, GatherElements, GatherND, ScatterElements, ScatterND, NonZero and Compress. Indices may be
 * negative (counted from the end); any index outside its axis is refused with a message.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

/* ---- Gather -------------------------------------------------------------------------- */

static int gather_index(struct ev *e, const struct od_tensor *ix, int64_t j, int64_t size,
                        int64_t axis, int64_t *v)
{
	int64_t i = ev_geti(ix, j);
	*v = i < 0 ? i + size : i;
	if (*v < 0 || *v >= size)
		return ev_bad(e, "index %lld out of range for axis %lld of size %lld",
		              (long long)i, (long long)axis, (long long)size);
	return 0;
}

int ev_k_gather(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *ix = e->in[1];
	int64_t axis = ev_attr_i(e, "axis", 0), dims[OD_MAX_RANK], v;
	struct od_tensor *t;
	int rc, nd = 0;
	if (ix->dtype != OD_INT32 && ix->dtype != OD_INT64)
		return ev_bad(e, "indices must be int32 or int64, not %s", od_dtype_name(ix->dtype));
	if ((rc = ev_axis(e, &axis, x->ndims)))
		return rc;
	if (x->ndims + ix->ndims - 1 > OD_MAX_RANK)
		return ev_bad(e, "output rank exceeds %d", OD_MAX_RANK);
	for (int64_t j = 0; j < ix->numel; j++)
		if ((rc = gather_index(e, ix, j, x->dims[axis], axis, &v)))
			return rc;
	for (int d = 0; d < x->ndims; d++) {
		if (d != axis)
			dims[nd++] = x->dims[d];
		else
			for (int q = 0; q < ix->ndims; q++)
				dims[nd++] = ix->dims[q];
	}
	if ((rc = ev_new(e, 0, x->dtype, nd, dims, &t)))
		return rc;
	int64_t outer = ev_numel((int)axis, x->dims), inner = ev_numel(x->ndims - (int)axis - 1,
	                x->dims + axis + 1), size = x->dims[axis];
	for (int64_t o = 0; o < outer; o++)
		for (int64_t j = 0; j < ix->numel; j++) {
			gather_index(e, ix, j, size, axis, &v);
			ev_copy(t, (o * ix->numel + j) * inner, x, (o * size + v) * inner, inner);
		}
	return 0;
}

/* ---- GatherElements, ScatterElements ------------------------------------------------------ */

static int check_indices(struct ev *e, const struct od_tensor *ix)
{
	if (ix->dtype != OD_INT32 && ix->dtype != OD_INT64)
		return ev_bad(e, "indices must be int32 or int64, not %s", od_dtype_name(ix->dtype));
	return 0;
}

/* For each position of ix (same rank as x), the offset in x with the axis coordinate
 * replaced by the index there; fills off[] (ix->numel entries, caller frees). */
static int element_offsets(struct ev *e, const struct od_tensor *x, const struct od_tensor *ix,
                           int64_t axis, int64_t **off)
{
	int64_t st[OD_MAX_RANK], idx[OD_MAX_RANK] = { 0 }, v;
	int rc;
	if (ix->ndims != x->ndims)
		return ev_bad(e, "indices of rank %d for data of rank %d", ix->ndims, x->ndims);
	for (int d = 0; d < x->ndims; d++)
		if (d != axis && ix->dims[d] > x->dims[d])
			return ev_bad(e, "indices dimension %d is %lld, data has %lld", d,
			              (long long)ix->dims[d], (long long)x->dims[d]);
	if (!(*off = od_calloc((size_t)ix->numel, sizeof **off)))
		return ev_err(e, OD_ENOMEM, "out of memory");
	ev_strides(x->ndims, x->dims, st);
	for (int64_t i = 0; i < ix->numel; i++) {
		if ((rc = gather_index(e, ix, i, x->dims[axis], axis, &v))) {
			od_free(*off);
			return rc;
		}
		int64_t o = 0;
		for (int d = 0; d < x->ndims; d++)
			o += (d == axis ? v : idx[d]) * st[d];
		(*off)[i] = o;
		for (int d = x->ndims - 1; d >= 0 && ++idx[d] == ix->dims[d]; d--)
			idx[d] = 0;
	}
	return 0;
}

int ev_k_gatherelements(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *ix = e->in[1];
	int64_t axis = ev_attr_i(e, "axis", 0), *off;
	struct od_tensor *t;
	int rc;
	if ((rc = check_indices(e, ix)) || (rc = ev_axis(e, &axis, x->ndims)) ||
	    (rc = element_offsets(e, x, ix, axis, &off)))
		return rc;
	if (!(rc = ev_new(e, 0, x->dtype, ix->ndims, ix->dims, &t)))
		for (int64_t i = 0; i < ix->numel; i++)
			ev_copy(t, i, x, off[i], 1);
	od_free(off);
	return rc;
}

enum { RED_NONE, RED_ADD, RED_MUL, RED_MAX, RED_MIN };

static int reduction(struct ev *e, int *red)
{
	static const char *const names[] = { "none", "add", "mul", "max", "min" };
	const struct od_attr *at = ev_attr(e, "reduction", OD_ATTR_STRING);
	*red = RED_NONE;
	for (int i = 0; at && i < 5; i++)
		if (at->s.len == strlen(names[i]) && !memcmp(at->s.data, names[i], at->s.len)) {
			*red = i;
			return 0;
		}
	return at ? ev_unsup(e, "reduction '%.*s' not supported", (int)at->s.len,
	                     (const char *)at->s.data) : 0;
}

/* t[i] = t[i] (red) u[j]; "none" replaces. */
static void combine(struct od_tensor *t, int64_t i, const struct od_tensor *u, int64_t j, int red)
{
	int cls = ev_class(t->dtype);
	if (red == RED_NONE) {
		ev_copy(t, i, u, j, 1);
	} else if (cls == EV_CF) {
		double a = ev_getf(t, i), b = ev_getf(u, j);
		ev_setf(t, i, red == RED_ADD ? a + b : red == RED_MUL ? a * b :
		              red == RED_MAX ? fmax(a, b) : fmin(a, b));
	} else if (cls == EV_CS) {
		int64_t a = ev_geti(t, i), b = ev_geti(u, j);
		ev_seti(t, i, red == RED_ADD ? (int64_t)((uint64_t)a + (uint64_t)b) :
		              red == RED_MUL ? (int64_t)((uint64_t)a * (uint64_t)b) :
		              red == RED_MAX ? (a > b ? a : b) : (a < b ? a : b));
	} else {
		uint64_t a = ev_getu(t, i), b = ev_getu(u, j);
		ev_setu(t, i, red == RED_ADD ? a + b : red == RED_MUL ? a * b :
		              red == RED_MAX ? (a > b ? a : b) : (a < b ? a : b));
	}
}

static int scatter_start(struct ev *e, int *red, struct od_tensor **t)
{
	const struct od_tensor *x = e->in[0], *u = e->in[2];
	int rc;
	if ((rc = check_indices(e, e->in[1])) || (rc = reduction(e, red)))
		return rc;
	if (u->dtype != x->dtype)
		return ev_bad(e, "updates are %s, data %s", od_dtype_name(u->dtype),
		              od_dtype_name(x->dtype));
	if (*red != RED_NONE && !(OD_DT(x->dtype) & EV_NUM))
		return ev_unsup(e, "dtype %s not supported with a reduction", od_dtype_name(x->dtype));
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, t)))
		return rc;
	ev_copy(*t, 0, x, 0, x->numel);
	return 0;
}

int ev_k_scatterelements(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *ix = e->in[1], *u = e->in[2];
	int64_t axis = ev_attr_i(e, "axis", 0), *off;
	struct od_tensor *t;
	int red, rc;
	if (u->ndims != ix->ndims || memcmp(u->dims, ix->dims, (size_t)ix->ndims * sizeof *ix->dims))
		return ev_bad(e, "updates and indices differ in shape");
	if ((rc = ev_axis(e, &axis, x->ndims)) || (rc = check_indices(e, ix)) ||
	    (rc = element_offsets(e, x, ix, axis, &off)))
		return rc;
	if (!(rc = scatter_start(e, &red, &t)))
		for (int64_t i = 0; i < ix->numel; i++)
			combine(t, off[i], u, i, red);
	od_free(off);
	return rc;
}

/* ---- ScatterND ----------------------------------------------------------------------- */

/* indices [..., k] address slices x[i0, .., ik-1, :] that updates [..., x.dims[k:]] fill. */
static int scatternd_check(struct ev *e, int64_t *k, int64_t *slice)
{
	const struct od_tensor *x = e->in[0], *ix = e->in[1], *u = e->in[2];
	if (ix->ndims < 1 || (*k = ix->dims[ix->ndims - 1]) > x->ndims)
		return ev_bad(e, "indices of shape rank %d cannot address data of rank %d",
		              ix->ndims, x->ndims);
	int urank = ix->ndims - 1 + x->ndims - (int)*k;
	bool same = u->ndims == urank;
	for (int d = 0; same && d < ix->ndims - 1; d++)
		same = u->dims[d] == ix->dims[d];
	for (int d = ix->ndims - 1; same && d < urank; d++)
		same = u->dims[d] == x->dims[*k + d - (ix->ndims - 1)];
	if (!same)
		return ev_bad(e, "updates do not have the shape indices and data ask for");
	*slice = ev_numel(x->ndims - (int)*k, x->dims + *k);
	return 0;
}

int ev_k_scatternd(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *ix = e->in[1], *u = e->in[2];
	int64_t k = 0, slice = 0, st[OD_MAX_RANK], v;
	struct od_tensor *t;
	int red, rc;
	if ((rc = check_indices(e, ix)) || (rc = scatternd_check(e, &k, &slice)))
		return rc;
	if (!k)
		return ev_unsup(e, "indices of last dimension 0 not supported");
	ev_strides(x->ndims, x->dims, st);
	int64_t tuples = k ? ix->numel / k : 0;
	for (int64_t j = 0; j < tuples * k; j++)
		if ((rc = gather_index(e, ix, j, x->dims[j % k], j % k, &v)))
			return rc;
	if ((rc = scatter_start(e, &red, &t)))
		return rc;
	for (int64_t j = 0; j < tuples; j++) {
		int64_t off = 0;
		for (int64_t d = 0; d < k; d++) {
			gather_index(e, ix, j * k + d, x->dims[d], d, &v);
			off += v * st[d];
		}
		for (int64_t i = 0; i < slice; i++)
			combine(t, off + i, u, j * slice + i, red);
	}
	return 0;
}

/* ---- GatherND ------------------------------------------------------------------------ */

/* Output: indices.shape[:-1] + data.shape[batch_dims + k:], k = indices.shape[-1]; the
 * first batch_dims dimensions of both index the same batch entry. */
int ev_k_gathernd(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *ix = e->in[1];
	int64_t b = ev_attr_i(e, "batch_dims", 0), st[OD_MAX_RANK], dims[OD_MAX_RANK], v;
	struct od_tensor *t;
	int rc = check_indices(e, ix), nd = 0;
	if (rc)
		return rc;
	if (ix->ndims < 1 || b < 0 || b >= ix->ndims || b >= x->ndims)
		return ev_bad(e, "batch_dims %lld does not fit the ranks", (long long)b);
	int64_t k = ix->dims[ix->ndims - 1];
	if (b + k > x->ndims)
		return ev_bad(e, "indices address %lld dimensions of data of rank %d",
		              (long long)(b + k), x->ndims);
	for (int d = 0; d < b; d++)
		if (ix->dims[d] != x->dims[d])
			return ev_bad(e, "batch dimension %d differs between data and indices", d);
	for (int d = 0; d < ix->ndims - 1; d++)
		dims[nd++] = ix->dims[d];
	for (int d = (int)(b + k); d < x->ndims; d++)
		dims[nd++] = x->dims[d];
	ev_strides(x->ndims, x->dims, st);
	int64_t slice = ev_numel(x->ndims - (int)(b + k), x->dims + b + k);
	int64_t nbatch = ev_numel((int)b, x->dims), bstride = b ? st[b - 1] : x->numel;
	int64_t tuples = k ? ix->numel / k : ev_numel(ix->ndims - 1, ix->dims), per = tuples / (nbatch ? nbatch : 1);
	for (int64_t j = 0; j < tuples * k; j++)
		if ((rc = gather_index(e, ix, j, x->dims[b + j % k], b + j % k, &v)))
			return rc;
	if ((rc = ev_new(e, 0, x->dtype, nd, dims, &t)))
		return rc;
	for (int64_t j = 0; j < tuples; j++) {
		int64_t off = (j / (per ? per : 1)) * bstride;
		for (int64_t d = 0; d < k; d++) {
			gather_index(e, ix, j * k + d, x->dims[b + d], b + d, &v);
			off += v * st[b + d];
		}
		ev_copy(t, j * slice, x, off, slice);
	}
	return 0;
}

/* ---- Compress ------------------------------------------------------------------------ */

/* The slices along axis (of the flattened input without one) whose condition is true;
 * a condition shorter than the axis leaves the rest out. */
int ev_k_compress(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *cond = e->in[1];
	const struct od_attr *ax = ev_attr(e, "axis", OD_ATTR_INT);
	int64_t axis = ax ? ax->i : 0, dims[OD_MAX_RANK], flat = x->numel, kept = 0;
	int nd = ax ? x->ndims : 1;
	const int64_t *shape = ax ? x->dims : &flat;
	struct od_tensor *t;
	int rc = ev_axis(e, &axis, nd);
	if (rc)
		return rc;
	if (cond->ndims != 1 || cond->dtype != OD_BOOL)
		return ev_bad(e, "condition must be a list of bools");
	if (cond->numel > shape[axis])
		return ev_bad(e, "condition is longer than axis %lld", (long long)axis);
	for (int64_t i = 0; i < cond->numel; i++)
		kept += ev_getu(cond, i) != 0;
	memcpy(dims, shape, (size_t)nd * sizeof *dims);
	dims[axis] = kept;
	if ((rc = ev_new(e, 0, x->dtype, nd, dims, &t)))
		return rc;
	int64_t n = shape[axis], inner = ev_numel(nd - (int)axis - 1, shape + axis + 1);
	int64_t outer = ev_numel((int)axis, shape), at = 0;
	for (int64_t o = 0; o < outer; o++)
		for (int64_t i = 0; i < cond->numel; i++)
			if (ev_getu(cond, i)) {
				ev_copy(t, at, x, (o * n + i) * inner, inner);
				at += inner;
			}
	return 0;
}

/* ---- NonZero ------------------------------------------------------------------------- */

static bool nonzero(const struct od_tensor *x, int64_t i)
{
	return ev_class(x->dtype) == EV_CF ? ev_getf(x, i) != 0 || isnan(ev_getf(x, i))
	                                   : ev_getu(x, i) != 0;
}

int ev_k_nonzero(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t nnz = 0, st[OD_MAX_RANK];
	struct od_tensor *t;
	int rc;
	if (!x->ndims)
		return ev_unsup(e, "scalar input not supported");
	for (int64_t i = 0; i < x->numel; i++)
		nnz += nonzero(x, i);
	int64_t dims[2] = { x->ndims, nnz };
	if ((rc = ev_new(e, 0, OD_INT64, 2, dims, &t)))
		return rc;
	ev_strides(x->ndims, x->dims, st);
	for (int64_t i = 0, j = 0; i < x->numel; i++) {
		if (!nonzero(x, i))
			continue;
		for (int d = 0; d < x->ndims; d++)
			ev_seti(t, d * nnz + j, i / st[d] % x->dims[d]);
		j++;
	}
	return 0;
}
