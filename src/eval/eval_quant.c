/*
 * eval_quant.c — QuantizeLinear and DequantizeLinear for the integer types: per tensor, per
 * axis and (opset 21) per block; DynamicQuantizeLinear, which picks its own scale. Quantizing
 * divides in float32 as the reference and ORT do (a half-way quotient rounds differently in
 * double), rounds half to even and saturates to the output type. The float8 and 4-bit types
 * are not covered.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

/* For element i of x, the index of its scale: one scale, one per entry of axis, or one per
 * block of block_size entries along axis (the scale then has x's rank). */
struct qmap {
	int64_t axis, block;
	int64_t xst[OD_MAX_RANK], sst[OD_MAX_RANK];
	int nd;
	int64_t len;                /* entries of the axis */
	bool single;
};

static int qmap_init(struct ev *e, const struct od_tensor *x, const struct od_tensor *s,
                     const struct od_tensor *zp, struct qmap *q)
{
	q->axis = ev_attr_i(e, "axis", 1);
	q->block = e->opset >= 21 ? ev_attr_i(e, "block_size", 0) : 0;
	q->nd = x->ndims;
	q->single = s->numel == 1 && (s->ndims == 0 || (s->ndims == 1 && !q->block));
	if (zp && (zp->numel != s->numel))
		return ev_bad(e, "zero point and scale differ in size");
	if (q->single)
		return 0;
	int rc = ev_axis(e, &q->axis, x->ndims);
	if (rc)
		return rc;
	ev_strides(x->ndims, x->dims, q->xst);
	q->len = x->dims[q->axis];
	if (!q->block) {
		if (s->ndims != 1 || s->numel != x->dims[q->axis])
			return ev_bad(e, "scale must hold one value per entry of axis %lld",
			              (long long)q->axis);
		return 0;
	}
	if (q->block < 0 || s->ndims != x->ndims)
		return ev_bad(e, "blocked scale must have the input's rank");
	for (int d = 0; d < x->ndims; d++) {
		int64_t want = d == q->axis ? (x->dims[d] + q->block - 1) / q->block : x->dims[d];
		if (s->dims[d] != want)
			return ev_bad(e, "blocked scale has the wrong shape");
	}
	ev_strides(s->ndims, s->dims, q->sst);
	return 0;
}

static int64_t qmap_at(const struct qmap *q, int64_t i)
{
	if (q->single)
		return 0;
	if (!q->block)
		return (i / q->xst[q->axis]) % q->len;
	int64_t off = 0;
	for (int d = 0; d < q->nd; d++) {
		int64_t c = (i / q->xst[d]);
		i -= c * q->xst[d];
		off += (d == q->axis ? c / q->block : c) * q->sst[d];
	}
	return off;
}

int ev_k_dequantize(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *s = e->in[1], *zp = e->nin > 2 ? e->in[2] : NULL;
	struct qmap q;
	struct od_tensor *t;
	if (zp && zp->dtype != x->dtype)
		return ev_bad(e, "zero point is %s, input is %s", od_dtype_name(zp->dtype),
		              od_dtype_name(x->dtype));
	if (ev_class(s->dtype) != EV_CF)
		return ev_bad(e, "scale must be a float type");
	int dt = (int)ev_attr_i(e, "output_dtype", 0);
	int rc = qmap_init(e, x, s, zp, &q);
	if (rc || (rc = ev_new(e, 0, dt ? dt : s->dtype, x->ndims, x->dims, &t)))
		return rc;
	for (int64_t i = 0; i < x->numel; i++) {
		int64_t k = qmap_at(&q, i);
		double z = zp ? (double)ev_geti(zp, k) : 0;
		ev_setf(t, i, ((double)ev_geti(x, i) - z) * ev_getf(s, k));
	}
	return 0;
}

int ev_k_quantize(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *s = e->in[1], *zp = e->nin > 2 ? e->in[2] : NULL;
	struct qmap q;
	struct od_tensor *t;
	int dt = (int)ev_attr_i(e, "output_dtype", 0);
	dt = zp ? zp->dtype : dt ? dt : OD_UINT8;
	if (ev_class(dt) == EV_CF || dt == OD_BOOL || !ev_esize(dt))
		return ev_unsup(e, "output dtype %s not supported", od_dtype_name(dt));
	int rc = qmap_init(e, x, s, zp, &q);
	if (rc || (rc = ev_new(e, 0, dt, x->ndims, x->dims, &t)))
		return rc;
	for (int64_t i = 0; i < x->numel; i++) {
		int64_t k = qmap_at(&q, i);
		double z = zp ? (double)ev_geti(zp, k) : 0;
		double v = x->dtype == OD_DOUBLE ? ev_getf(x, i) / ev_getf(s, k) :
		           (double)((float)ev_getf(x, i) / (float)ev_getf(s, k));
		v = nearbyint(v) + z;
		ev_setf(t, i, v);           /* saturates to the output type */
	}
	return 0;
}

/* DynamicQuantizeLinear: x to uint8 with the scale and zero point that map x's range, widened
 * to hold 0, onto [0, 255], all in float32 as the reference computes it. The zero point is
 * clamped in the order of the reference's max(0, min(255, z)): a NaN one (x holds -inf)
 * becomes 255. NaNs in x do not widen the range. An x of zeros gets the reference's scale
 * 1/255 (ORT's is 1; y and the zero point are 0 either way). */
int ev_k_dynquant(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *y, *t;
	float lo = 0, hi = 0;
	for (int64_t i = 0; i < x->numel; i++) {
		float v = (float)ev_getf(x, i);
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	float scale = (hi == lo ? 1.0f : hi - lo) / 255.0f, z = 0.0f - lo / scale;
	z = z < 255.0f ? z : 255.0f;
	z = nearbyintf(z > 0.0f ? z : 0.0f);
	int rc = ev_new_whole(e, 0, OD_UINT8, x->ndims, x->dims, &y);
	for (int64_t i = 0; !rc && i < x->numel; i++)
		ev_setf(y, i, nearbyintf((float)ev_getf(x, i) / scale) + z);   /* saturates */
	if (!rc && e->n->n_outputs > 1 && !(rc = ev_new(e, 1, OD_FLOAT, 0, NULL, &t)))
		ev_setf(t, 0, scale);
	if (!rc && e->n->n_outputs > 2 && !(rc = ev_new(e, 2, OD_UINT8, 0, NULL, &t)))
		ev_setf(t, 0, z);
	return rc;
}
