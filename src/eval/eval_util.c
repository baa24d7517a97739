/*
 * eval_util.c — the helpers every kernel family uses: messages, element access by dtype
 * (float16 and bfloat16 through their own rounding), outputs allocated under the size
 * limit, attribute and index-list readers, axis normalisation and numpy broadcasting.
 */
#include "config.h"
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include "eval_internal.h"

/* ---- errors ----------------------------------------------------------------------- */

int ev_err(struct ev *e, int code, const char *fmt, ...)
{
	char msg[sizeof e->ctx->msg];
	va_list ap;
	if (!e->ctx)
		return code;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	return od_error(e->ctx, code, "%s: %s", e->n->op_type, msg);
}

int ev_check_dtype(struct ev *e, int dtype)
{
	if (dtype >= 0 && dtype < 32 && (e->k->dtypes & OD_DT(dtype)))
		return 0;
	return ev_unsup(e, "dtype %s not supported", od_dtype_name(dtype));
}

/* ---- element sizes and classes -------------------------------------------------------- */

size_t ev_esize(int dtype)
{
	static const unsigned char size[] = {
		[OD_FLOAT] = 4, [OD_UINT8] = 1, [OD_INT8] = 1, [OD_UINT16] = 2, [OD_INT16] = 2,
		[OD_INT32] = 4, [OD_INT64] = 8, [OD_BOOL] = 1, [OD_FLOAT16] = 2, [OD_DOUBLE] = 8,
		[OD_UINT32] = 4, [OD_UINT64] = 8, [OD_COMPLEX64] = 8, [OD_COMPLEX128] = 16,
		[OD_BFLOAT16] = 2, [OD_FLOAT8E4M3FN] = 1, [OD_FLOAT8E4M3FNUZ] = 1,
		[OD_FLOAT8E5M2] = 1, [OD_FLOAT8E5M2FNUZ] = 1,
	};
	return dtype >= 0 && (size_t)dtype < sizeof size ? size[dtype] : 0;
}

int ev_class(int dtype)
{
	switch (dtype) {
	case OD_INT8: case OD_INT16: case OD_INT32: case OD_INT64:
		return EV_CS;
	case OD_UINT8: case OD_UINT16: case OD_UINT32: case OD_UINT64: case OD_BOOL:
		return EV_CU;
	default:
		return EV_CF;
	}
}

/* ---- float16 and bfloat16 ------------------------------------------------------------- */

/* Rounds a > 0 to mant fraction bits with minimum normal exponent emin, ties to even. */
static double round_fmt(double a, int mant, int emin)
{
	int ex;
	frexp(a, &ex);
	int e = ex - 1 < emin ? emin : ex - 1;
	return ldexp(nearbyint(ldexp(a, mant - e)), e - mant);
}

/* Encodes v in a binary format of ebits exponent and mant fraction bits (IEEE layout). */
static uint32_t encode_fmt(double v, int ebits, int mant)
{
	int bias = (1 << (ebits - 1)) - 1, emin = 1 - bias;
	uint32_t sign = signbit(v) ? UINT32_C(1) << (ebits + mant) : 0;
	uint32_t inf = ((UINT32_C(1) << ebits) - 1) << mant;
	if (isnan(v))
		return sign | inf | UINT32_C(1) << (mant - 1);
	double a = fabs(v);
	if (isinf(a))
		return sign | inf;
	if (a == 0)
		return sign;
	double r = round_fmt(a, mant, emin);
	if (r >= ldexp(1.0, bias + 1))
		return sign | inf;
	if (r < ldexp(1.0, emin))
		return sign | (uint32_t)ldexp(r, mant - emin);
	int ex;
	double m = frexp(r, &ex);
	return sign | (uint32_t)(ex - 1 + bias) << mant | (uint32_t)ldexp(m * 2 - 1, mant);
}

static double decode_fmt(uint32_t h, int ebits, int mant)
{
	int bias = (1 << (ebits - 1)) - 1;
	uint32_t e = (h >> mant) & ((UINT32_C(1) << ebits) - 1);
	uint32_t m = h & ((UINT32_C(1) << mant) - 1);
	double s = (h >> (ebits + mant)) & 1 ? -1.0 : 1.0;
	if (e == 0)
		return s * ldexp(m, 1 - bias - mant);
	if (e == (UINT32_C(1) << ebits) - 1)
		return m ? NAN : s * INFINITY;
	return s * ldexp(m + (UINT32_C(1) << mant), (int)e - bias - mant);
}

uint16_t ev_f16_from(double v) { return (uint16_t)encode_fmt(v, 5, 10); }
double ev_f16_to(uint16_t h) { return decode_fmt(h, 5, 10); }
uint16_t ev_bf16_from(double v) { return (uint16_t)encode_fmt(v, 8, 7); }
double ev_bf16_to(uint16_t h) { return decode_fmt(h, 8, 7); }

/* ---- element access --------------------------------------------------------------------- */

/* Payloads may be unaligned views into a mapped file: every access goes through memcpy. */
#define LD(type, t, i) \
	({ type v_; memcpy(&v_, (const unsigned char *)(t)->data + (i) * sizeof v_, sizeof v_); v_; })
#define ST(type, t, i, val) \
	do { type v_ = (val); memcpy((unsigned char *)ev_mut(t) + (i) * sizeof v_, &v_, sizeof v_); } while (0)

double ev_getf(const struct od_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case OD_FLOAT: return LD(float, t, i);
	case OD_DOUBLE: return LD(double, t, i);
	case OD_FLOAT16: return ev_f16_to(LD(uint16_t, t, i));
	case OD_BFLOAT16: return ev_bf16_to(LD(uint16_t, t, i));
	case OD_UINT64: return (double)LD(uint64_t, t, i);
	case OD_INT8: case OD_INT16: case OD_INT32: case OD_INT64:
		return (double)ev_geti(t, i);
	case OD_UINT8: case OD_UINT16: case OD_UINT32: case OD_BOOL:
		return (double)ev_getu(t, i);
	default: return NAN;
	}
}

/* Float to int64 truncating toward zero, saturating; NaN gives 0 (C leaves it undefined). */
static int64_t f2i(double v)
{
	if (isnan(v))
		return 0;
	if (v >= 0x1p63)
		return INT64_MAX;
	return v <= -0x1p63 ? INT64_MIN : (int64_t)v;
}

static uint64_t f2u(double v)
{
	if (isnan(v) || v <= 0)
		return 0;
	return v >= 0x1p64 ? UINT64_MAX : (uint64_t)v;
}

int64_t ev_geti(const struct od_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case OD_INT8: return LD(int8_t, t, i);
	case OD_INT16: return LD(int16_t, t, i);
	case OD_INT32: return LD(int32_t, t, i);
	case OD_INT64: return LD(int64_t, t, i);
	case OD_UINT8: case OD_UINT16: case OD_UINT32: case OD_UINT64: case OD_BOOL:
		return (int64_t)ev_getu(t, i);
	default: return f2i(ev_getf(t, i));
	}
}

uint64_t ev_getu(const struct od_tensor *t, int64_t i)
{
	switch (t->dtype) {
	case OD_UINT8: return LD(uint8_t, t, i);
	case OD_BOOL: return LD(uint8_t, t, i) != 0;
	case OD_UINT16: return LD(uint16_t, t, i);
	case OD_UINT32: return LD(uint32_t, t, i);
	case OD_UINT64: return LD(uint64_t, t, i);
	case OD_INT8: case OD_INT16: case OD_INT32: case OD_INT64:
		return (uint64_t)ev_geti(t, i);
	default: return f2u(ev_getf(t, i));
	}
}

/* Saturates a float into [lo, hi] after truncation toward zero. */
static int64_t f2i_range(double v, int64_t lo, int64_t hi)
{
	int64_t x = f2i(v);
	return x < lo ? lo : x > hi ? hi : x;
}

void ev_setf(struct od_tensor *t, int64_t i, double v)
{
	switch (t->dtype) {
	case OD_FLOAT: ST(float, t, i, (float)v); break;
	case OD_DOUBLE: ST(double, t, i, v); break;
	case OD_FLOAT16: ST(uint16_t, t, i, ev_f16_from(v)); break;
	case OD_BFLOAT16: ST(uint16_t, t, i, ev_bf16_from(v)); break;
	case OD_BOOL: ST(uint8_t, t, i, v != 0); break;
	case OD_INT8: ST(int8_t, t, i, (int8_t)f2i_range(v, INT8_MIN, INT8_MAX)); break;
	case OD_INT16: ST(int16_t, t, i, (int16_t)f2i_range(v, INT16_MIN, INT16_MAX)); break;
	case OD_INT32: ST(int32_t, t, i, (int32_t)f2i_range(v, INT32_MIN, INT32_MAX)); break;
	case OD_INT64: ST(int64_t, t, i, f2i(v)); break;
	case OD_UINT8: ST(uint8_t, t, i, (uint8_t)f2i_range(v, 0, UINT8_MAX)); break;
	case OD_UINT16: ST(uint16_t, t, i, (uint16_t)f2i_range(v, 0, UINT16_MAX)); break;
	case OD_UINT32: ST(uint32_t, t, i, (uint32_t)f2i_range(v, 0, UINT32_MAX)); break;
	case OD_UINT64: ST(uint64_t, t, i, f2u(v)); break;
	default: break;
	}
}

void ev_seti(struct od_tensor *t, int64_t i, int64_t v)
{
	switch (t->dtype) {
	case OD_FLOAT: ST(float, t, i, (float)v); break;
	case OD_DOUBLE: ST(double, t, i, (double)v); break;
	case OD_FLOAT16: case OD_BFLOAT16: ev_setf(t, i, (double)v); break;
	default: ev_setu(t, i, (uint64_t)v); break;
	}
}

void ev_setu(struct od_tensor *t, int64_t i, uint64_t v)
{
	switch (t->dtype) {
	case OD_FLOAT: ST(float, t, i, (float)v); break;
	case OD_DOUBLE: ST(double, t, i, (double)v); break;
	case OD_FLOAT16: case OD_BFLOAT16: ev_setf(t, i, (double)v); break;
	case OD_BOOL: ST(uint8_t, t, i, v != 0); break;
	case OD_INT8: case OD_UINT8: ST(uint8_t, t, i, (uint8_t)v); break;
	case OD_INT16: case OD_UINT16: ST(uint16_t, t, i, (uint16_t)v); break;
	case OD_INT32: case OD_UINT32: ST(uint32_t, t, i, (uint32_t)v); break;
	case OD_INT64: case OD_UINT64: ST(uint64_t, t, i, v); break;
	default: break;
	}
}

void ev_copy(struct od_tensor *dst, int64_t di, const struct od_tensor *src, int64_t si,
             int64_t count)
{
	if (count <= 0)
		return;
	if (src->dtype == OD_STRING) {
		memcpy(dst->strings + di, src->strings + si, (size_t)count * sizeof *dst->strings);
		return;
	}
	size_t es = ev_esize(src->dtype);
	memcpy((unsigned char *)ev_mut(dst) + (size_t)di * es,
	       (const unsigned char *)src->data + (size_t)si * es, (size_t)count * es);
}

/* A payload that does not hold numel elements would make any kernel read past it. */
int ev_check_tensor(struct ev *e, const struct od_tensor *t, const char *what)
{
	if (t->ndims < 0 || t->ndims > OD_MAX_RANK || (t->ndims && !t->dims))
		return ev_bad(e, "%s has a bad rank %d", what, t->ndims);
	for (int d = 0; d < t->ndims; d++)
		if (t->dims[d] < 0)
			return ev_bad(e, "%s has a negative dimension", what);
	if (ev_numel(t->ndims, t->dims) != t->numel)
		return ev_bad(e, "%s has %lld elements for its shape", what, (long long)t->numel);
	if (t->dtype == OD_STRING)
		return t->numel && !t->strings ? ev_unsup(e, "%s has no strings loaded", what) : 0;
	size_t es = ev_esize(t->dtype);
	if (!es)
		return ev_unsup(e, "dtype %s not supported", od_dtype_name(t->dtype));
	if (t->numel && !t->data)
		return ev_unsup(e, "%s has no payload loaded", what);
	if (t->nbytes < (size_t)t->numel * es)
		return ev_bad(e, "%s holds %zu bytes for %lld elements of %s", what, t->nbytes,
		              (long long)t->numel, od_dtype_name(t->dtype));
	return 0;
}

/* ---- outputs ------------------------------------------------------------------------------ */

/* Zero-sized dimensions do not excuse the others: strides and sub-products of a shape
 * must stay small too, so the bound applies to the product with zeros counted as ones. */
bool ev_step_box(int n, const int64_t *lo, const int64_t *hi, int64_t *idx)
{
	for (int d = n - 1; d >= 0; d--) {
		if (++idx[d] < hi[d])
			return true;
		idx[d] = lo ? lo[d] : 0;
	}
	return false;
}

bool ev_step(int n, const int64_t *dims, int64_t *idx)
{
	return ev_step_box(n, NULL, dims, idx);
}

int64_t ev_numel(int ndims, const int64_t *dims)
{
	int64_t n = 1, bound = 1;
	for (int d = 0; d < ndims; d++) {
		if (dims[d] < 0)
			return -1;
		if (__builtin_mul_overflow(bound, dims[d] ? dims[d] : 1, &bound) ||
		    bound > OD_MAX_NUMEL)
			return -1;
		n *= dims[d];
	}
	return n;
}

static char *shape_str(int nd, const int64_t *dims, char *buf, size_t size)
{
	size_t at = (size_t)snprintf(buf, size, "[");
	for (int d = 0; d < nd && at < size; d++)
		at += (size_t)snprintf(buf + at, size - at, "%s%lld", d ? "," : "",
		                       (long long)dims[d]);
	if (at < size)
		snprintf(buf + at, size - at, "]");
	return buf;
}

static int new_out(struct ev *e, int i, int dtype, int ndims, const int64_t *dims,
                   struct od_tensor **out, bool zero)
{
	char buf[128];
	if (ndims < 0 || ndims > OD_MAX_RANK)
		return ev_err(e, OD_ELIMIT, "output rank %d exceeds %d", ndims, OD_MAX_RANK);
	int64_t n = ev_numel(ndims, dims);
	if (n < 0)
		return ev_err(e, OD_ELIMIT, "output shape %s is too large",
		              shape_str(ndims, dims, buf, sizeof buf));
	if (e->max_numel > 0 && n > e->max_numel)
		return ev_err(e, OD_ELIMIT, "output of %lld elements exceeds the limit of %lld",
		              (long long)n, (long long)e->max_numel);
	if (dtype != OD_STRING && !ev_esize(dtype))
		return ev_unsup(e, "dtype %s not supported", od_dtype_name(dtype));
	static const int64_t scalar[1] = { 1 };
	const char *name = e->n->outputs && e->n->outputs[i] ? e->n->outputs[i] : "";
	struct od_tensor *t = (zero ? od_tensor_new : od_tensor_new_uninit)(e->a, name, dtype, ndims,
	                                                                  ndims ? dims : scalar);
	if (!t)
		return ev_err(e, OD_ENOMEM, "out of memory for an output of %lld elements",
		              (long long)n);
	if (dtype == OD_STRING && n && !t->strings) {
		t->strings = od_arena_alloc(e->a, (size_t)n * sizeof *t->strings);
		if (!t->strings)
			return ev_err(e, OD_ENOMEM, "out of memory");
	}
	e->out[i] = t;
	*out = t;
	return 0;
}

int ev_new(struct ev *e, int i, int dtype, int ndims, const int64_t *dims,
           struct od_tensor **out)
{
	return new_out(e, i, dtype, ndims, dims, out, true);
}

int ev_new_whole(struct ev *e, int i, int dtype, int ndims, const int64_t *dims,
                 struct od_tensor **out)
{
	return new_out(e, i, dtype, ndims, dims, out, dtype == OD_STRING);
}

int ev_copy_as(struct ev *e, const struct od_tensor *src, int ndims, const int64_t *dims)
{
	struct od_tensor *t;
	if (ev_numel(ndims, dims) != src->numel)
		return ev_bad(e, "cannot give %lld elements a shape of %lld", (long long)src->numel,
		              (long long)ev_numel(ndims, dims));
	int rc = ev_new_whole(e, 0, src->dtype, ndims, dims, &t);
	if (!rc)
		ev_copy(t, 0, src, 0, src->numel);
	return rc;
}

/* ---- attributes and index inputs -------------------------------------------------------- */

const struct od_attr *ev_attr(struct ev *e, const char *name, int type)
{
	for (size_t i = 0; i < e->n->n_attrs; i++) {
		const struct od_attr *at = &e->n->attrs[i];
		if (at->name && !strcmp(at->name, name) && !at->ref_attr_name)
			return at->type == type ? at : NULL;
	}
	return NULL;
}

int64_t ev_attr_i(struct ev *e, const char *name, int64_t dflt)
{
	const struct od_attr *at = ev_attr(e, name, OD_ATTR_INT);
	return at ? at->i : dflt;
}

float ev_attr_f(struct ev *e, const char *name, float dflt)
{
	const struct od_attr *at = ev_attr(e, name, OD_ATTR_FLOAT);
	return at ? at->f : dflt;
}

const char *ev_attr_s(struct ev *e, const char *name, const char *dflt, char *buf, size_t size)
{
	const struct od_attr *at = ev_attr(e, name, OD_ATTR_STRING);
	if (!at)
		return dflt;
	size_t n = at->s.len < size - 1 ? at->s.len : size - 1;
	if (n)
		memcpy(buf, at->s.data, n);
	buf[n] = 0;
	return buf;
}

int ev_attr_ints(struct ev *e, const char *name, int64_t *v, int max, int *n)
{
	const struct od_attr *at = ev_attr(e, name, OD_ATTR_INTS);
	*n = -1;
	if (!at)
		return 0;
	if (at->n > (size_t)max)
		return ev_bad(e, "attribute '%s' has %zu entries, at most %d allowed", name, at->n, max);
	if (at->n && !at->ints)
		return ev_bad(e, "attribute '%s' has no values", name);
	if (at->n)              /* an empty list has no array to copy from */
		memcpy(v, at->ints, at->n * sizeof *v);
	*n = (int)at->n;
	return 0;
}

int ev_read_ints(struct ev *e, int input, int64_t *v, int max, int *n)
{
	const struct od_tensor *t = e->in[input];
	if (t->dtype != OD_INT64 && t->dtype != OD_INT32)
		return ev_bad(e, "input %d must be int32 or int64, not %s", input,
		              od_dtype_name(t->dtype));
	if (t->ndims > 1)
		return ev_bad(e, "input %d must be a list, not of rank %d", input, t->ndims);
	if (t->numel > max)
		return ev_bad(e, "input %d has %lld entries, at most %d allowed", input,
		              (long long)t->numel, max);
	for (int64_t i = 0; i < t->numel; i++)
		v[i] = ev_geti(t, i);
	*n = (int)t->numel;
	return 0;
}

int ev_axis(struct ev *e, int64_t *axis, int rank)
{
	if (*axis < -(int64_t)rank || *axis >= rank)
		return ev_bad(e, "axis %lld out of range for rank %d", (long long)*axis, rank);
	if (*axis < 0)
		*axis += rank;
	return 0;
}

int ev_axis_view(struct ev *e, int64_t dflt, bool coerce_2d, int64_t *outer, int64_t *n,
                 int64_t *inner)
{
	const struct od_tensor *x = e->in[0];
	int64_t axis = ev_attr_i(e, "axis", dflt);
	int rc = coerce_2d && axis == x->ndims ? 0 : ev_axis(e, &axis, x->ndims); /* 2-D: rank is fine */
	if (rc)
		return rc;
	*outer = ev_numel((int)axis, x->dims);
	if (coerce_2d) {
		*n = ev_numel(x->ndims - (int)axis, x->dims + axis);
		*inner = 1;
	} else {
		*n = x->dims[axis];
		*inner = ev_numel(x->ndims - (int)axis - 1, x->dims + axis + 1);
	}
	return 0;
}

int ev_axes(struct ev *e, int64_t *axes, int n, int rank, bool *mask)
{
	for (int d = 0; d < rank; d++)
		mask[d] = false;
	for (int j = 0; j < n; j++) {
		int rc = ev_axis(e, &axes[j], rank);
		if (rc)
			return rc;
		if (mask[axes[j]])
			return ev_bad(e, "axis %lld repeated", (long long)axes[j]);
		mask[axes[j]] = true;
	}
	return 0;
}

int ev_need(struct ev *e, size_t i, struct od_tensor **t)
{
	if (i >= e->nin || !e->in[i])
		return ev_bad(e, "input %zu is missing", i);
	*t = e->in[i];
	return 0;
}

/* ---- broadcasting --------------------------------------------------------------------- */

void ev_strides(int nd, const int64_t *dims, int64_t *st)
{
	int64_t s = 1;
	for (int d = nd - 1; d >= 0; d--) {
		st[d] = s;
		s *= dims[d];
	}
}

/* Output dimension d of the broadcast; -1 when the shapes disagree there. */
static int64_t bcast_dim(int nd, int d, int nt, const int *ndims, const int64_t *const *dims)
{
	int64_t size = 1;
	for (int k = 0; k < nt; k++) {
		int dk = d - (nd - ndims[k]);
		int64_t v = dk < 0 ? 1 : dims[k][dk];
		if (v == 1)
			continue;
		if (size != 1 && size != v)
			return -1;
		size = v;
	}
	return size;
}

static int bcast_fail(struct ev *e, int nt, const int *ndims, const int64_t *const *dims)
{
	char a[128], b[128], c[128] = "";
	shape_str(ndims[0], dims[0], a, sizeof a);
	shape_str(ndims[1], dims[1], b, sizeof b);
	if (nt > 2)
		shape_str(ndims[2], dims[2], c, sizeof c);
	return ev_bad(e, "shapes %s, %s%s%s do not broadcast", a, b, nt > 2 ? ", " : "", c);
}

int ev_bcast_shapes(struct ev *e, struct ev_bcast *b, int nt, const int *ndims,
                    const int64_t *const *dims)
{
	memset(b, 0, sizeof *b);
	b->nt = nt;
	for (int k = 0; k < nt; k++)
		if (ndims[k] > b->nd)
			b->nd = ndims[k];
	for (int d = 0; d < b->nd; d++) {
		b->dims[d] = bcast_dim(b->nd, d, nt, ndims, dims);
		if (b->dims[d] < 0)
			return bcast_fail(e, nt, ndims, dims);
	}
	b->numel = ev_numel(b->nd, b->dims);
	if (b->numel < 0)
		return ev_err(e, OD_ELIMIT, "broadcast output is too large");
	for (int k = 0; k < nt; k++) {
		int64_t st[OD_MAX_RANK];
		int off = b->nd - ndims[k];
		ev_strides(ndims[k], dims[k], st);
		for (int d = 0; d < b->nd; d++)
			b->st[k][d] = d < off || dims[k][d - off] == 1 ? 0 : st[d - off];
	}
	return 0;
}

int64_t ev_bcast_rows(const struct ev_bcast *b, int *from, int64_t *st)
{
	int d = b->nd - 1;
	int64_t len = d >= 0 ? b->dims[d] : 1;
	for (int k = 0; k < b->nt; k++)
		st[k] = d >= 0 ? b->st[k][d] : 0;
	for (bool merge = d > 0; merge; ) {
		for (int k = 0; k < b->nt && merge; k++)
			merge = b->st[k][d - 1] == b->st[k][d] * b->dims[d];
		if (merge) {
			len *= b->dims[--d];
			merge = d > 0;
		}
	}
	*from = d < 0 ? 0 : d;
	return len;
}

int ev_bcast_init(struct ev *e, struct ev_bcast *b, int nt, const struct od_tensor *const *ts)
{
	int ndims[EV_BCAST_MAX];
	const int64_t *dims[EV_BCAST_MAX];
	for (int k = 0; k < nt; k++) {
		ndims[k] = ts[k]->ndims;
		dims[k] = ts[k]->dims;
	}
	return ev_bcast_shapes(e, b, nt, ndims, dims);
}
