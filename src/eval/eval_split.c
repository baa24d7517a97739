/*
 * eval_split.c — kernels that cut a tensor into pieces or grow it at its borders: Split
 * (sizes as attribute before opset 13, as input after, num_outputs from 18) and Pad
 * (constant, edge, reflect and wrap; attributes before opset 11, inputs after, axes 18+).
 */
#include "config.h"
#include "eval_internal.h"

#define MAX_PARTS 256

/* ---- Split ------------------------------------------------------------------------- */

static int split_run(struct ev *e, int64_t axis, const int64_t *sizes, int n)
{
	const struct od_tensor *x = e->in[0];
	int64_t dims[OD_MAX_RANK], total = 0;
	int rc;
	if ((size_t)n != e->n->n_outputs)
		return ev_bad(e, "%d parts for %zu outputs", n, e->n->n_outputs);
	for (int i = 0; i < n; i++) {
		if (sizes[i] < 0)
			return ev_bad(e, "part %d has a negative size", i);
		total += sizes[i];
	}
	if (total != x->dims[axis])
		return ev_bad(e, "parts add up to %lld, axis %lld has %lld", (long long)total,
		              (long long)axis, (long long)x->dims[axis]);
	int64_t outer = ev_numel((int)axis, x->dims), start = 0;
	int64_t inner = ev_numel(x->ndims - (int)axis - 1, x->dims + axis + 1);
	memcpy(dims, x->dims, (size_t)x->ndims * sizeof *dims);
	for (int i = 0; i < n; i++) {
		struct od_tensor *t;
		dims[axis] = sizes[i];
		if ((rc = ev_new(e, i, x->dtype, x->ndims, dims, &t)))
			return rc;
		for (int64_t o = 0; o < outer; o++)
			ev_copy(t, o * sizes[i] * inner, x, (o * x->dims[axis] + start) * inner,
			        sizes[i] * inner);
		start += sizes[i];
	}
	return 0;
}

/* Without sizes: equal parts, one per output (num_outputs: the last one may be smaller). */
static int split_even(struct ev *e, int64_t axis, int64_t parts, bool uneven)
{
	int64_t sizes[MAX_PARTS], dim = e->in[0]->dims[axis];
	if (parts < 1 || parts > MAX_PARTS)
		return ev_bad(e, "cannot split into %lld parts", (long long)parts);
	int64_t each = uneven ? (dim + parts - 1) / parts : dim / parts;
	if (!uneven && dim % parts)
		return ev_bad(e, "axis of size %lld does not split into %lld equal parts",
		              (long long)dim, (long long)parts);
	for (int64_t i = 0; i < parts; i++)
		sizes[i] = i < parts - 1 ? each : dim - each * (parts - 1);
	return split_run(e, axis, sizes, (int)parts);
}

int ev_k_split(struct ev *e)
{
	int64_t sizes[MAX_PARTS], axis = ev_attr_i(e, "axis", 0);
	const struct od_attr *num = ev_attr(e, "num_outputs", OD_ATTR_INT);
	int n, rc = ev_axis(e, &axis, e->in[0]->ndims);
	if (rc)
		return rc;
	if (e->nin > 1 && e->in[1]) {
		if ((rc = ev_read_ints(e, 1, sizes, MAX_PARTS, &n)))
			return rc;
		return split_run(e, axis, sizes, n);
	}
	if (num && e->opset >= 18)
		return split_even(e, axis, num->i, true);
	return split_even(e, axis, (int64_t)e->n->n_outputs, false);
}

int ev_k_split2(struct ev *e)
{
	int64_t sizes[MAX_PARTS], axis = ev_attr_i(e, "axis", 0);
	int n, rc = ev_axis(e, &axis, e->in[0]->ndims);
	if (!rc)
		rc = ev_attr_ints(e, "split", sizes, MAX_PARTS, &n);
	if (rc)
		return rc;
	return n >= 0 ? split_run(e, axis, sizes, n)
	              : split_even(e, axis, (int64_t)e->n->n_outputs, false);
}

/* ---- Pad ------------------------------------------------------------------------------- */

enum { PAD_CONSTANT, PAD_EDGE, PAD_REFLECT, PAD_WRAP };

struct pad {
	int mode;
	int64_t begin[OD_MAX_RANK], end[OD_MAX_RANK];
	const struct od_tensor *value;  /* one element of the data's dtype, or NULL */
	double fvalue;                  /* used when value is NULL (opset < 11) */
};

/* Source coordinate for output coordinate o on an axis of size dim; -1 for the constant. */
static int64_t pad_source(int mode, int64_t o, int64_t begin, int64_t dim)
{
	int64_t s = o - begin;
	if (s >= 0 && s < dim)
		return s;
	if (mode == PAD_CONSTANT)
		return -1;
	if (mode == PAD_EDGE)
		return s < 0 ? 0 : dim - 1;
	if (mode == PAD_WRAP)
		return ((s % dim) + dim) % dim;
	if (dim == 1)
		return 0;
	int64_t period = 2 * (dim - 1);
	s = ((s % period) + period) % period;
	return s < dim ? s : period - s;
}

static int pad_run(struct ev *e, struct pad *p)
{
	const struct od_tensor *x = e->in[0];
	int64_t dims[OD_MAX_RANK], st[OD_MAX_RANK], idx[OD_MAX_RANK] = { 0 };
	struct od_tensor *t;
	int rc;
	for (int d = 0; d < x->ndims; d++) {
		if (__builtin_add_overflow(x->dims[d], p->begin[d], &dims[d]) ||
		    __builtin_add_overflow(dims[d], p->end[d], &dims[d]))
			return ev_err(e, OD_ELIMIT, "pads too large");
		if (dims[d] < 0)
			return ev_bad(e, "pads remove more than axis %d holds", d);
		if (p->mode != PAD_CONSTANT && !x->dims[d] && dims[d])
			return ev_bad(e, "cannot pad the empty axis %d in this mode", d);
	}
	if ((rc = ev_new(e, 0, x->dtype, x->ndims, dims, &t)))
		return rc;
	ev_strides(x->ndims, x->dims, st);
	for (int64_t i = 0; i < t->numel; i++) {
		int64_t off = 0;
		for (int d = 0; d < x->ndims && off >= 0; d++) {
			int64_t s = pad_source(p->mode, idx[d], p->begin[d], x->dims[d]);
			off = s < 0 ? -1 : off + s * st[d];
		}
		if (off >= 0)
			ev_copy(t, i, x, off, 1);
		else if (p->value)
			ev_copy(t, i, p->value, 0, 1);
		else if (x->dtype != OD_STRING)
			ev_setf(t, i, p->fvalue);
		for (int d = x->ndims - 1; d >= 0 && ++idx[d] == dims[d]; d--)
			idx[d] = 0;
	}
	return 0;
}

static int pad_mode(struct ev *e, struct pad *p)
{
	static const char *const names[] = { "constant", "edge", "reflect", "wrap" };
	const struct od_attr *at = ev_attr(e, "mode", OD_ATTR_STRING);
	p->mode = PAD_CONSTANT;
	for (int i = 0; at && i < 4; i++)
		if (at->s.len == strlen(names[i]) && !memcmp(at->s.data, names[i], at->s.len)) {
			p->mode = i;
			return 0;
		}
	return at ? ev_unsup(e, "mode '%.*s' not supported", (int)at->s.len,
	                     (const char *)at->s.data) : 0;
}

/* pads = [begin of each axis..., end of each axis...] for the axes listed (all when NULL). */
static int pad_set(struct ev *e, struct pad *p, const int64_t *pads, int n, int64_t *axes,
                   int na)
{
	int rank = e->in[0]->ndims, rc;
	bool mask[OD_MAX_RANK];
	if (na < 0)
		for (na = 0; na < rank; na++)
			axes[na] = na;
	if (n != 2 * na)
		return ev_bad(e, "%d pads for %d axes", n, na);
	if ((rc = ev_axes(e, axes, na, rank, mask)))
		return rc;
	memset(p->begin, 0, sizeof p->begin);
	memset(p->end, 0, sizeof p->end);
	for (int j = 0; j < na; j++) {
		p->begin[axes[j]] = pads[j];
		p->end[axes[j]] = pads[na + j];
	}
	return 0;
}

int ev_k_pad(struct ev *e)
{
	int64_t pads[2 * OD_MAX_RANK], axes[OD_MAX_RANK];
	int n, na = -1, rc;
	struct pad p = { .value = e->nin > 2 ? e->in[2] : NULL };
	if ((rc = pad_mode(e, &p)) || (rc = ev_read_ints(e, 1, pads, 2 * OD_MAX_RANK, &n)))
		return rc;
	if (e->nin > 3 && e->in[3] && (rc = ev_read_ints(e, 3, axes, OD_MAX_RANK, &na)))
		return rc;
	if (p.value && (p.value->numel != 1 || p.value->dtype != e->in[0]->dtype))
		return ev_bad(e, "constant_value must be one %s", od_dtype_name(e->in[0]->dtype));
	if ((rc = pad_set(e, &p, pads, n, axes, na)))
		return rc;
	return pad_run(e, &p);
}

int ev_k_pad2(struct ev *e)
{
	int64_t pads[2 * OD_MAX_RANK], axes[OD_MAX_RANK];
	int n, rc;
	struct pad p = { .fvalue = ev_attr_f(e, "value", 0) };
	if ((rc = pad_mode(e, &p)) || (rc = ev_attr_ints(e, "pads", pads, 2 * OD_MAX_RANK, &n)))
		return rc;
	if (n < 0)
		return ev_bad(e, "attribute 'pads' missing");
	if (p.mode == PAD_WRAP)
		return ev_unsup(e, "mode 'wrap' not supported before opset 19");
	if ((rc = pad_set(e, &p, pads, n, axes, -1)))
		return rc;
	return pad_run(e, &p);
}
