/*
 * eval_index.c — kernels that move elements to new places: Slice, Concat, Transpose,
 * Tile, Expand and Trilu. They copy bytes, so they serve every fixed-size dtype
 * (and strings, by reference until eval.c copies them into the arena).
 */
#include "config.h"
#include "eval_internal.h"

/* Fills out (row-major over its dims) from src at base + sum(idx[d] * sst[d]); runs along
 * the last dimension are copied in one go when they are contiguous in src. */
static void strided_copy(struct od_tensor *out, const struct od_tensor *src, int64_t base,
                         const int64_t *sst)
{
	int nd = out->ndims;
	int64_t idx[OD_MAX_RANK] = { 0 }, off = base;
	if (!out->numel)
		return;
	if (!nd) {
		ev_copy(out, 0, src, base, 1);
		return;
	}
	int64_t run = out->dims[nd - 1], step = sst[nd - 1];
	for (int64_t i = 0; i < out->numel; i += run) {
		if (step == 1)
			ev_copy(out, i, src, off, run);
		else
			for (int64_t j = 0; j < run; j++)
				ev_copy(out, i + j, src, off + j * step, 1);
		for (int d = nd - 2; d >= 0; d--) {
			off += sst[d];
			if (++idx[d] < out->dims[d])
				break;
			off -= sst[d] * out->dims[d];
			idx[d] = 0;
		}
	}
}

/* ---- Slice --------------------------------------------------------------------------- */

struct slice {
	int64_t start[OD_MAX_RANK], step[OD_MAX_RANK], count[OD_MAX_RANK];
	bool set[OD_MAX_RANK];
};

/* ONNX's clamping: after adding the size to negatives, starts clamp to [0, size] (to
 * [0, size-1] for negative steps) and ends to [0, size] (to [-1, size-1]). */
static void slice_axis(struct slice *s, int d, int64_t size, int64_t start, int64_t end,
                       int64_t step)
{
	int64_t lo = step > 0 ? 0 : -1, hi = step > 0 ? size : size - 1;
	if (start < 0)
		start += size;
	if (end < 0)
		end += size;
	start = start < 0 ? 0 : start > hi ? hi : start;
	end = end < lo ? lo : end > hi ? hi : end;
	uint64_t ustep = step > 0 ? (uint64_t)step : 0 - (uint64_t)step;
	uint64_t span = step > 0 ? (uint64_t)(end - start) : (uint64_t)(start - end);
	bool empty = size == 0 || (step > 0 ? end <= start : start <= end);
	s->start[d] = start;
	s->step[d] = step;
	s->count[d] = empty ? 0 : (int64_t)((span + ustep - 1) / ustep);
}

static int slice_apply(struct ev *e, struct slice *s)
{
	const struct od_tensor *x = e->in[0];
	int64_t st[OD_MAX_RANK], sst[OD_MAX_RANK], base = 0;
	struct od_tensor *t;
	ev_strides(x->ndims, x->dims, st);
	for (int d = 0; d < x->ndims; d++) {
		if (!s->set[d]) {
			s->start[d] = 0;
			s->step[d] = 1;
			s->count[d] = x->dims[d];
		}
		if (s->count[d] > 0)
			base += s->start[d] * st[d];
		/* A huge step matters only when it is taken, which needs count > 1. */
		sst[d] = s->count[d] > 1 ? s->step[d] * st[d] : 0;
	}
	int rc = ev_new(e, 0, x->dtype, x->ndims, s->count, &t);
	if (!rc)
		strided_copy(t, x, base, sst);
	return rc;
}

/* Shared by both forms: axes default to 0..n-1, steps to 1. */
static int slice_run(struct ev *e, const int64_t *starts, const int64_t *ends, int n,
                     int64_t *axes, int na, const int64_t *steps, int ns)
{
	const struct od_tensor *x = e->in[0];
	struct slice s;
	bool mask[OD_MAX_RANK];
	int rc;
	if (na < 0)
		for (na = 0; na < n; na++)
			axes[na] = na;
	if (na != n || (ns >= 0 && ns != n))
		return ev_bad(e, "starts, ends, axes and steps differ in length");
	if ((rc = ev_axes(e, axes, na, x->ndims, mask)))
		return rc;
	memset(s.set, 0, sizeof s.set);
	for (int j = 0; j < n; j++) {
		int64_t step = ns >= 0 ? steps[j] : 1;
		if (!step)
			return ev_bad(e, "step %d is zero", j);
		slice_axis(&s, (int)axes[j], x->dims[axes[j]], starts[j], ends[j], step);
		s.set[axes[j]] = true;
	}
	return slice_apply(e, &s);
}

/* Reads optional input i as an index list; *n = -1 when omitted. */
static int opt_ints(struct ev *e, size_t i, int64_t *v, int *n)
{
	*n = -1;
	if (i >= e->nin || !e->in[i])
		return 0;
	return ev_read_ints(e, (int)i, v, OD_MAX_RANK, n);
}

int ev_k_slice(struct ev *e)
{
	int64_t starts[OD_MAX_RANK], ends[OD_MAX_RANK], axes[OD_MAX_RANK], steps[OD_MAX_RANK];
	int n, ne, na, ns, rc;
	if ((rc = ev_read_ints(e, 1, starts, OD_MAX_RANK, &n)) ||
	    (rc = ev_read_ints(e, 2, ends, OD_MAX_RANK, &ne)) ||
	    (rc = opt_ints(e, 3, axes, &na)) || (rc = opt_ints(e, 4, steps, &ns)))
		return rc;
	if (n != ne)
		return ev_bad(e, "%d starts but %d ends", n, ne);
	return slice_run(e, starts, ends, n, axes, na, steps, ns);
}

int ev_k_slice1(struct ev *e)
{
	int64_t starts[OD_MAX_RANK], ends[OD_MAX_RANK], axes[OD_MAX_RANK];
	int n, ne, na, rc;
	if ((rc = ev_attr_ints(e, "starts", starts, OD_MAX_RANK, &n)) ||
	    (rc = ev_attr_ints(e, "ends", ends, OD_MAX_RANK, &ne)) ||
	    (rc = ev_attr_ints(e, "axes", axes, OD_MAX_RANK, &na)))
		return rc;
	if (n < 0 || ne < 0)
		return ev_bad(e, "attributes 'starts' and 'ends' are required");
	if (n != ne)
		return ev_bad(e, "%d starts but %d ends", n, ne);
	return slice_run(e, starts, ends, n, axes, na, NULL, -1);
}

/* ---- Concat -------------------------------------------------------------------------- */

static int concat_check(struct ev *e, int64_t axis, int64_t *total)
{
	const struct od_tensor *x = e->in[0];
	*total = 0;
	for (size_t i = 0; i < e->nin; i++) {
		const struct od_tensor *y = e->in[i];
		if (!y)
			return ev_bad(e, "input %zu is missing", i);
		if (y->dtype != x->dtype || y->ndims != x->ndims)
			return ev_bad(e, "input %zu is %s of rank %d, input 0 %s of rank %d", i,
			              od_dtype_name(y->dtype), y->ndims, od_dtype_name(x->dtype),
			              x->ndims);
		for (int d = 0; d < x->ndims; d++)
			if (d != axis && y->dims[d] != x->dims[d])
				return ev_bad(e, "input %zu has size %lld on axis %d, input 0 %lld", i,
				              (long long)y->dims[d], d, (long long)x->dims[d]);
		*total += y->dims[axis];
	}
	return 0;
}

int ev_k_concat(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	const struct od_attr *at = ev_attr(e, "axis", OD_ATTR_INT);
	int64_t axis = at ? at->i : 1, dims[OD_MAX_RANK], total;
	struct od_tensor *t;
	int rc;
	if (!at && e->opset >= 4)
		return ev_bad(e, "attribute 'axis' missing");
	if ((rc = ev_axis(e, &axis, x->ndims)) || (rc = concat_check(e, axis, &total)))
		return rc;
	memcpy(dims, x->dims, (size_t)x->ndims * sizeof *dims);
	dims[axis] = total;
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, dims, &t)))
		return rc;
	int64_t outer = ev_numel((int)axis, x->dims), inner = ev_numel(x->ndims - (int)axis - 1,
	                x->dims + axis + 1), at_out = 0;
	for (int64_t o = 0; o < outer; o++)
		for (size_t i = 0; i < e->nin; i++) {
			int64_t block = e->in[i]->dims[axis] * inner;
			ev_copy(t, at_out, e->in[i], o * block, block);
			at_out += block;
		}
	return 0;
}

/* ---- Transpose, Expand ------------------------------------------------------------------- */

int ev_k_transpose(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t perm[OD_MAX_RANK], st[OD_MAX_RANK], sst[OD_MAX_RANK], dims[OD_MAX_RANK];
	bool mask[OD_MAX_RANK];
	struct od_tensor *t;
	int n, rc;
	if ((rc = ev_attr_ints(e, "perm", perm, OD_MAX_RANK, &n)))
		return rc;
	if (n < 0)
		for (n = 0; n < x->ndims; n++)
			perm[n] = x->ndims - 1 - n;
	if (n != x->ndims)
		return ev_bad(e, "perm has %d entries for rank %d", n, x->ndims);
	if ((rc = ev_axes(e, perm, n, x->ndims, mask)))
		return rc;
	ev_strides(x->ndims, x->dims, st);
	for (int d = 0; d < n; d++) {
		dims[d] = x->dims[perm[d]];
		sst[d] = st[perm[d]];
	}
	if ((rc = ev_new(e, 0, x->dtype, n, dims, &t)))
		return rc;
	strided_copy(t, x, 0, sst);
	return 0;
}

int ev_k_expand(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t shape[OD_MAX_RANK];
	int n, rc;
	struct ev_bcast b;
	struct od_tensor *t;
	if ((rc = ev_read_ints(e, 1, shape, OD_MAX_RANK, &n)))
		return rc;
	for (int d = 0; d < n; d++)
		if (shape[d] < 0)
			return ev_bad(e, "shape entry %d is negative (%lld)", d, (long long)shape[d]);
	int ndims[2] = { x->ndims, n };
	const int64_t *dims[2] = { x->dims, shape };
	if ((rc = ev_bcast_shapes(e, &b, 2, ndims, dims)) ||
	    (rc = ev_new(e, 0, x->dtype, b.nd, b.dims, &t)))
		return rc;
	strided_copy(t, x, 0, b.st[0]);
	return 0;
}

/* ---- Tile ------------------------------------------------------------------------------- */

int ev_k_tile(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	int64_t rep[OD_MAX_RANK], dims[OD_MAX_RANK], st[OD_MAX_RANK], idx[OD_MAX_RANK] = { 0 };
	struct od_tensor *t;
	int n, rc, nd = x->ndims;
	if ((rc = ev_read_ints(e, 1, rep, OD_MAX_RANK, &n)))
		return rc;
	if (n != nd)
		return ev_bad(e, "%d repeats for rank %d", n, nd);
	for (int d = 0; d < nd; d++) {
		if (rep[d] < 0)
			return ev_bad(e, "repeat %d is negative (%lld)", d, (long long)rep[d]);
		if (__builtin_mul_overflow(x->dims[d], rep[d], &dims[d]))
			return ev_err(e, OD_ELIMIT, "output too large");
	}
	if ((rc = ev_new(e, 0, x->dtype, nd, dims, &t)) || !t->numel)
		return rc;
	if (!nd) {
		ev_copy(t, 0, x, 0, 1);
		return 0;
	}
	/* Row by row (all dims but the last): the source row repeated rep[last] times. */
	ev_strides(nd, x->dims, st);
	int64_t run = x->dims[nd - 1];
	for (int64_t i = 0; i < t->numel; i += dims[nd - 1]) {
		int64_t src = 0;
		for (int d = 0; d < nd - 1; d++)
			src += (idx[d] % x->dims[d]) * st[d];
		for (int64_t r = 0; r < rep[nd - 1]; r++)
			ev_copy(t, i + r * run, x, src, run);
		for (int d = nd - 2; d >= 0 && ++idx[d] == dims[d]; d--)
			idx[d] = 0;
	}
	return 0;
}

/* ---- Trilu --------------------------------------------------------------------------- */

/* Keeps the upper (j - i >= k) or lower (j - i <= k) triangle of each trailing matrix. */
int ev_k_trilu(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	bool upper = ev_attr_i(e, "upper", 1) != 0;
	int64_t k = 0;
	struct od_tensor *t;
	int rc;
	if (x->ndims < 2)
		return ev_bad(e, "input must be of rank 2 or more, not %d", x->ndims);
	if (e->nin > 1 && e->in[1]) {
		if (e->in[1]->numel != 1 || ev_class(e->in[1]->dtype) != EV_CS)
			return ev_bad(e, "k must be one integer");
		k = ev_geti(e->in[1], 0);
	}
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, x->dims, &t)))
		return rc;
	int64_t rows = x->dims[x->ndims - 2], cols = x->dims[x->ndims - 1];
	for (int64_t i = 0; i < x->numel; i++) {
		int64_t c = i % cols, r = (i / cols) % rows;
		bool keep = upper ? c - r >= k : c - r <= k;
		if (keep)
			ev_copy(t, i, x, i, 1);
	}
	return 0;
}
