/*
 * eval_qlinear.c — the integer products of quantized models: MatMulInteger and ConvInteger
 * (int32 results), QLinearMatMul and QLinearConv (requantized to 8 bits).
 *
 * The int8 or uint8 operands have their zero points taken off first (the differences fit
 * int16, their products int32) and are summed modulo 2^32: the spec lets the int32
 * accumulation, and only it, overflow. Requantizing computes the multiplier x_scale *
 * w_scale / y_scale in the scales' type and the sum times it in double, as the reference
 * does, then rounds half to even and adds y's zero point, as the spec's y = saturate(round(x /
 * y_scale) + y_zero_point) says and ORT does: the reference adds the zero point before it
 * rounds, which moves a tie to the other even number when the zero point is odd.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

/* ---- operands --------------------------------------------------------------------------- */

static const struct od_tensor *opt(const struct ev *e, size_t i)
{
	return i < e->nin ? e->in[i] : NULL;
}

static bool is_q8(const struct od_tensor *t)
{
	return t->dtype == OD_INT8 || t->dtype == OD_UINT8;
}

/* Input i (named what) is int8 or uint8, and its zero point, input zi when given, alike. */
static int check_q8(struct ev *e, size_t i, size_t zi, const char *what)
{
	const struct od_tensor *t = e->in[i], *z = opt(e, zi);
	if (!is_q8(t))
		return ev_unsup(e, "%s of dtype %s not supported", what, od_dtype_name(t->dtype));
	if (z && z->dtype != t->dtype)
		return ev_bad(e, "zero point of %s is %s, %s is %s", what, od_dtype_name(z->dtype),
		              what, od_dtype_name(t->dtype));
	return 0;
}

static int16_t q8(const struct od_tensor *t, int64_t i)
{
	const uint8_t *p = t->data;
	return t->dtype == OD_INT8 ? (int8_t)p[i] : p[i];
}

/* v = t - zp (NULL: 0), zp broadcast to t's shape as numpy does. */
static int widen(struct ev *e, const struct od_tensor *t, const struct od_tensor *zp,
                 int16_t *v, const char *what)
{
	const struct od_tensor *ts[2] = { t, zp };
	struct ev_bcast bc;
	int rc = ev_bcast_init(e, &bc, zp ? 2 : 1, ts);
	if (rc)
		return rc;
	if (bc.nd != t->ndims || memcmp(bc.dims, t->dims, (size_t)t->ndims * sizeof *t->dims))
		return ev_bad(e, "zero point of %s does not broadcast to its shape", what);
	for (int64_t i = 0; i < t->numel; i++, ev_bcast_next(&bc))
		v[i] = (int16_t)(q8(t, i) - (zp ? q8(zp, bc.off[1]) : 0));
	return 0;
}

/* A scale or zero point of a matrix operand t ([..., m, k]) as it broadcasts: one value as a
 * scalar whatever its rank; for a (rows true), under the spec's per-row reading, a 1-D one of
 * m entries as [m, 1], where numpy would take it per column; any other as it is. */
static struct od_tensor param(const struct od_tensor *p, const struct od_tensor *t, bool rows,
                              int64_t *dims)
{
	struct od_tensor v = *p;
	if (p->numel == 1)
		v.ndims = 0;
	else if (rows && p->ndims == 1 && t->ndims > 1 && p->numel == t->dims[t->ndims - 2]) {
		dims[0] = p->numel, dims[1] = 1;
		v.ndims = 2, v.dims = dims;
	}
	return v;
}

/* ---- the int32 product ------------------------------------------------------------------ */

struct igemm {
	const int16_t *a, *b;
	int32_t *c;
	int64_t k, n;
};

/* Rows lo..hi of c = a b (a [m, k], b [k, n]) in i-k-j order, which reads b's rows in turn;
 * uint32 sums wrap as the int32 accumulation may. */
static EV_CLONES int igemm_rows(void *ctx, int64_t lo, int64_t hi)
{
	const struct igemm *g = ctx;
	for (int64_t i = lo; i < hi; i++) {
		uint32_t *acc = (uint32_t *)g->c + i * g->n;
		memset(acc, 0, (size_t)g->n * sizeof *acc);
		for (int64_t p = 0; p < g->k; p++) {
			const int32_t av = g->a[i * g->k + p];
			const int16_t *b = g->b + p * g->n;
			for (int64_t j = 0; j < g->n; j++)
				acc[j] += (uint32_t)(av * b[j]);
		}
	}
	return 0;
}

static void igemm(const int16_t *a, const int16_t *b, int32_t *c, int64_t m, int64_t k,
                  int64_t n)
{
	struct igemm g = { a, b, c, k, n };
	ev_par_range(m, EV_PAR_GRAIN / (k * n > 0 ? k * n : 1) + 1, igemm_rows, &g);
}

/* The multiplier of requantization, x_scale * w_scale / y_scale in the scales' dtype as the
 * reference computes it: each step in double, then rounded to that dtype (double has room
 * enough that this is the dtype's own correctly rounded product and quotient). */
static double in_dtype(int dtype, double v)
{
	switch (dtype) {
	case OD_FLOAT16: return ev_f16_to(ev_f16_from(v));
	case OD_BFLOAT16: return ev_bf16_to(ev_bf16_from(v));
	default: return (float)v;
	}
}

static double multiplier(int dtype, double xs, double ws, double ys)
{
	return in_dtype(dtype, in_dtype(dtype, xs * ws) / ys);
}

/* y[i] = the sum requantized. */
static void requant(struct od_tensor *y, int64_t i, int32_t sum, double mult, double zp)
{
	ev_setf(y, i, nearbyint((double)sum * mult) + zp);    /* saturates */
}

/* The scales (float32, or with wide float16 and bfloat16 too) and y's zero point (int8 or
 * uint8): one value each for y, which the reference would broadcast. */
static int check_requant(struct ev *e, const struct od_tensor *xs, const struct od_tensor *ws,
                         const struct od_tensor *ys, const struct od_tensor *yzp, bool wide)
{
	if (xs->dtype != ws->dtype || xs->dtype != ys->dtype)
		return ev_bad(e, "scales of different dtypes");
	bool half = xs->dtype == OD_FLOAT16 || xs->dtype == OD_BFLOAT16;
	if (xs->dtype != OD_FLOAT && !(wide && half))
		return ev_bad(e, "scale dtype %s not allowed", od_dtype_name(xs->dtype));
	if (!is_q8(yzp))
		return ev_unsup(e, "y of dtype %s not supported", od_dtype_name(yzp->dtype));
	if (ys->numel != 1 || yzp->numel != 1)
		return ev_unsup(e, "y_scale and y_zero_point of more than one value not supported");
	return 0;
}

/* ---- MatMulInteger, QLinearMatMul ------------------------------------------------------- */

/* The int32 products of a and b (zero points azp and bzp, or NULL) into sum: one [m, n]
 * matrix per batch entry of s. */
static int mm_sum(struct ev *e, const struct ev_mm *s, const struct od_tensor *a,
                  const struct od_tensor *azp, const struct od_tensor *b,
                  const struct od_tensor *bzp, int32_t *sum)
{
	int64_t rows[2];
	struct od_tensor za = azp ? param(azp, a, true, rows) : (struct od_tensor){ 0 };
	struct od_tensor zb = bzp ? param(bzp, b, false, NULL) : (struct od_tensor){ 0 };
	int16_t *wa = od_malloc((size_t)(a->numel ? a->numel : 1) * sizeof *wa);
	int16_t *wb = od_malloc((size_t)(b->numel ? b->numel : 1) * sizeof *wb);
	int rc = wa && wb ? 0 : ev_err(e, OD_ENOMEM, "out of memory");
	if (!rc && !(rc = widen(e, a, azp ? &za : NULL, wa, "A")) &&
	    !(rc = widen(e, b, bzp ? &zb : NULL, wb, "B"))) {
		struct ev_bcast bc = s->bc;
		int64_t mk = s->m * s->k, kn = s->k * s->n, mn = s->m * s->n;
		for (int64_t i = 0; i < bc.numel; i++, ev_bcast_next(&bc))
			igemm(wa + bc.off[0] * mk, wb + bc.off[1] * kn, sum + i * mn, s->m, s->k,
			      s->n);
	}
	od_free(wa);
	od_free(wb);
	return rc;
}

/* MatMulInteger: A B as numpy.matmul in int32, after the zero points: one value, or one per
 * row of A and one per column of B ([..., m, 1] and [..., 1, n], or 1-D), or any shape that
 * broadcasts to the operand's. */
int ev_k_matmulint(struct ev *e)
{
	const struct od_tensor *a = e->in[0], *b = e->in[1];
	struct ev_mm s;
	struct od_tensor *y;
	int rc;
	if ((rc = check_q8(e, 0, 2, "A")) || (rc = check_q8(e, 1, 3, "B")) ||
	    (rc = ev_mm_shapes(e, a, b, &s)) ||
	    (rc = ev_new_whole(e, 0, OD_INT32, s.nd, s.dims, &y)))
		return rc;
	return mm_sum(e, &s, a, opt(e, 2), b, opt(e, 3), ev_mut(y));
}

/* y from the sums of QLinearMatMul: the multiplier of each element from a's scale of its row
 * and b's of its column, which must broadcast to y's shape. */
static int mm_requant(struct ev *e, const struct ev_mm *s, const int32_t *sum,
                      struct od_tensor *y)
{
	const struct od_tensor *as = e->in[1], *bs = e->in[4];
	int64_t rows[2];
	struct od_tensor sa = param(as, e->in[0], true, rows);
	struct od_tensor sb = param(bs, e->in[3], false, NULL);
	int nds[3] = { s->nd, sa.ndims, sb.ndims };
	const int64_t *dss[3] = { s->dims, sa.dims, sb.dims };
	struct ev_bcast bc;
	int rc = ev_bcast_shapes(e, &bc, 3, nds, dss);
	if (rc)
		return rc;
	if (bc.nd != s->nd || memcmp(bc.dims, s->dims, (size_t)s->nd * sizeof *s->dims))
		return ev_bad(e, "scales of a and b do not broadcast to the output's shape");
	double ys = ev_getf(e->in[6], 0), zp = (double)q8(e->in[7], 0);
	for (int64_t i = 0; i < y->numel; i++, ev_bcast_next(&bc))
		requant(y, i, sum[i], multiplier(as->dtype, ev_getf(as, bc.off[1]),
		                                 ev_getf(bs, bc.off[2]), ys), zp);
	return 0;
}

/* QLinearMatMul: MatMulInteger's product requantized with a_scale * b_scale / y_scale, a's
 * scale per tensor or per row, b's per tensor or per column. Float8 operands are not
 * supported. */
int ev_k_qlmatmul(struct ev *e)
{
	const struct od_tensor *a = e->in[0], *b = e->in[3], *yzp = e->in[7];
	struct ev_mm s;
	struct od_tensor *y;
	int32_t *sum;
	int rc;
	if ((rc = check_q8(e, 0, 2, "a")) || (rc = check_q8(e, 3, 5, "b")) ||
	    (rc = check_requant(e, e->in[1], e->in[4], e->in[6], yzp, e->opset >= 21)) ||
	    (rc = ev_mm_shapes(e, a, b, &s)) ||
	    (rc = ev_new_whole(e, 0, yzp->dtype, s.nd, s.dims, &y)))
		return rc;
	if (!(sum = od_malloc((size_t)(y->numel ? y->numel : 1) * sizeof *sum)))
		return ev_err(e, OD_ENOMEM, "out of memory");
	if (!(rc = mm_sum(e, &s, a, e->in[2], b, e->in[5], sum)))
		rc = mm_requant(e, &s, sum, y);
	od_free(sum);
	return rc;
}

/* ---- ConvInteger, QLinearConv ----------------------------------------------------------- */

/* The shapes of an integer convolution: x [n, c, in...], w [m, cg, k...], y [n, m, out...]. */
struct qconv {
	struct ev_win w;
	int64_t n, c, m, group, cg, mg;
	int64_t K, P, IN;           /* kernel taps, output and input positions per channel */
};

/* The geometry of x and wt, and y of the given dtype. */
static int qconv_init(struct ev *e, struct qconv *q, const struct od_tensor *wt, int dtype,
                      struct od_tensor **y)
{
	const struct od_tensor *x = e->in[0];
	int64_t dims[2 + EV_WIN_MAX];
	int rc = ev_conv_window(e, x, wt, &q->w, &q->group);
	if (rc)
		return rc;
	q->n = x->dims[0], q->c = x->dims[1], q->m = wt->dims[0];
	q->cg = q->c / q->group, q->mg = q->m / q->group;
	dims[0] = q->n, dims[1] = q->m;
	memcpy(dims + 2, q->w.out, (size_t)q->w.nd * sizeof *dims);
	/* y's size is checked first: the products below then stay in range */
	if ((rc = ev_new_whole(e, 0, dtype, x->ndims, dims, y)))
		return rc;
	q->K = q->P = q->IN = 1;
	for (int i = 0; i < q->w.nd; i++)
		q->K *= q->w.k[i], q->P *= q->w.out[i], q->IN *= q->w.in[i];
	if (q->cg * q->K > 0 && q->P > OD_MAX_NUMEL / (q->cg * q->K))
		return ev_err(e, OD_ELIMIT, "convolution too large");
	return 0;
}

/* A zero point of x, which must hold one value, seen as a scalar. */
static int per_tensor(struct ev *e, const struct od_tensor *p, struct od_tensor *v)
{
	if (p->numel != 1)
		return ev_bad(e, "x_zero_point must hold one value");
	*v = *p;
	v->ndims = 0;
	return 0;
}

/* A zero point of w: one value, or a 1-D one of one per output channel, seen as [m, 1, ...]
 * so that it broadcasts to w. */
static int per_channel(struct ev *e, const struct od_tensor *p, const struct od_tensor *wt,
                       struct od_tensor *v, int64_t *dims)
{
	if (p->numel == 1)
		return per_tensor(e, p, v);
	*v = *p;
	if (p->ndims != 1 || p->numel != wt->dims[0])
		return ev_bad(e, "w_zero_point must hold one value or %lld",
		              (long long)wt->dims[0]);
	dims[0] = p->numel;
	for (int d = 1; d < wt->ndims; d++)
		dims[d] = 1;
	v->ndims = wt->ndims, v->dims = dims;
	return 0;
}

/* x at output position pos moved by kernel tap tap, 0 in the pads. */
static int16_t tap_at(const struct ev_win *w, const int16_t *x, const int64_t *tap,
                      const int64_t *pos)
{
	int64_t off = 0;
	for (int d = 0; d < w->nd; d++) {
		int64_t i = pos[d] * w->s[d] - w->pb[d] + tap[d] * w->d[d];
		if (i < 0 || i >= w->in[d])
			return 0;
		off = off * w->in[d] + i;
	}
	return x[off];
}

/* The columns of one group of an image: col[(c * K + t) * P + p] is channel c at output
 * position p moved by tap t. x has its zero point taken off, so the pads, which hold the zero
 * point, are 0. */
static void im2col16(const struct qconv *q, const int16_t *x, int16_t *col)
{
	const struct ev_win *w = &q->w;
	int64_t tap[EV_WIN_MAX] = { 0 }, pos[EV_WIN_MAX] = { 0 };
	for (int64_t c = 0; c < q->cg; c++, x += q->IN)
		for (int64_t t = 0; t < q->K; t++, ev_step(w->nd, w->k, tap))
			for (int64_t p = 0; p < q->P; p++, ev_step(w->nd, w->out, pos))
				*col++ = tap_at(w, x, tap, pos);
}

/* Per image and group, the group's rows of w times the columns of x (col: room for them). */
static void conv_groups(const struct qconv *q, const int16_t *x, const int16_t *w, int16_t *col,
                        int32_t *sum)
{
	int64_t rows = q->cg * q->K;
	for (int64_t n = 0; n < q->n; n++)
		for (int64_t g = 0; g < q->group; g++) {
			im2col16(q, x + (n * q->c + g * q->cg) * q->IN, col);
			igemm(w + g * q->mg * rows, col, sum + (n * q->m + g * q->mg) * q->P, q->mg,
			      rows, q->P);
		}
}

/* The int32 convolution into sum ([n, m, out...]): x and w with their zero points xzp (one
 * value) and wzp (one, or one per output channel) taken off first. */
static int conv_sum(struct ev *e, const struct qconv *q, const struct od_tensor *xzp,
                    const struct od_tensor *wt, const struct od_tensor *wzp, int32_t *sum)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor zx, zw;
	int64_t dims[OD_MAX_RANK], rows = q->cg * q->K;
	int rc = xzp ? per_tensor(e, xzp, &zx) : 0;
	if (rc || (rc = wzp ? per_channel(e, wzp, wt, &zw, dims) : 0))
		return rc;
	int16_t *wx = od_malloc((size_t)(x->numel ? x->numel : 1) * sizeof *wx);
	int16_t *ww = od_malloc((size_t)(wt->numel ? wt->numel : 1) * sizeof *ww);
	int16_t *col = od_malloc((size_t)(rows * q->P > 0 ? rows * q->P : 1) * sizeof *col);
	rc = wx && ww && col ? 0 : ev_err(e, OD_ENOMEM, "out of memory");
	if (!rc && !(rc = widen(e, x, xzp ? &zx : NULL, wx, "x")) &&
	    !(rc = widen(e, wt, wzp ? &zw : NULL, ww, "w")))
		conv_groups(q, wx, ww, col, sum);
	od_free(wx);
	od_free(ww);
	od_free(col);
	return rc;
}

/* ConvInteger: Conv of int8 or uint8 x and w in int32, after the zero points: x's one value,
 * w's one or one per output channel. */
int ev_k_convint(struct ev *e)
{
	struct qconv q;
	struct od_tensor *y;
	int rc;
	if ((rc = check_q8(e, 0, 2, "x")) || (rc = check_q8(e, 1, 3, "w")) ||
	    (rc = qconv_init(e, &q, e->in[1], OD_INT32, &y)))
		return rc;
	return conv_sum(e, &q, opt(e, 2), e->in[1], opt(e, 3), ev_mut(y));
}

/* QLinearConv's w_scale (one value or one per output channel) and bias (int32, one per
 * output channel). */
static int check_channels(struct ev *e, int64_t m)
{
	const struct od_tensor *ws = e->in[4], *bias = opt(e, 8);
	if (ws->numel != 1 && (ws->ndims != 1 || ws->numel != m))
		return ev_bad(e, "w_scale must hold one value or %lld", (long long)m);
	if (bias && (bias->dtype != OD_INT32 || bias->ndims != 1 || bias->numel != m))
		return ev_bad(e, "B must be int32 with %lld entries", (long long)m);
	return 0;
}

/* y from the sums of QLinearConv: the int32 bias of each output channel added (wrapping as
 * the sum does), then requantized with the channel's multiplier. */
static void conv_requant(struct ev *e, const struct qconv *q, const int32_t *sum,
                         struct od_tensor *y)
{
	const struct od_tensor *ws = e->in[4], *bias = opt(e, 8);
	double xs = ev_getf(e->in[1], 0), ys = ev_getf(e->in[6], 0), zp = q8(e->in[7], 0);
	for (int64_t plane = 0; plane < q->n * q->m; plane++) {
		int64_t o = plane % q->m, i0 = plane * q->P;
		double w = ev_getf(ws, ws->numel == 1 ? 0 : o);
		double mult = multiplier(OD_FLOAT, xs, w, ys);
		uint32_t b = bias ? (uint32_t)ev_geti(bias, o) : 0;
		for (int64_t i = i0; i < i0 + q->P; i++)
			requant(y, i, (int32_t)((uint32_t)sum[i] + b), mult, zp);
	}
}

/* QLinearConv: ConvInteger's sum plus the bias, requantized with x_scale * w_scale /
 * y_scale; w's scale and zero point per tensor or per output channel. */
int ev_k_qlconv(struct ev *e)
{
	struct qconv q;
	struct od_tensor *y;
	int32_t *sum;
	int rc;
	if ((rc = check_q8(e, 0, 2, "x")) || (rc = check_q8(e, 3, 5, "w")) ||
	    (rc = check_requant(e, e->in[1], e->in[4], e->in[6], e->in[7], false)))
		return rc;
	if (e->in[1]->numel != 1)
		return ev_bad(e, "x_scale must hold one value");
	if ((rc = qconv_init(e, &q, e->in[3], e->in[7]->dtype, &y)) ||
	    (rc = check_channels(e, q.m)))
		return rc;
	if (!(sum = od_malloc((size_t)(y->numel ? y->numel : 1) * sizeof *sum)))
		return ev_err(e, OD_ENOMEM, "out of memory");
	if (!(rc = conv_sum(e, &q, e->in[2], e->in[3], e->in[5], sum)))
		conv_requant(e, &q, sum, y);
	od_free(sum);
	return rc;
}
