/*
 * eval_attention.c — ONNX's Attention (opset 23, and 24's nonpad_kv_seqlen): scaled dot
 * product attention over Q, K, V of rank 4 ([batch, heads, seq, head size]) or 3 ([batch,
 * seq, heads * head size], split by q_num_heads and kv_num_heads), with a KV cache (past_key
 * and past_value are prepended to K and V, which come out as present_key and present_value),
 * grouped-query attention (query head h reads key/value head h / (q_heads / kv_heads)), an
 * additive or boolean mask broadcast from the right and padded with -inf to the keys it
 * does not cover, a bottom-right causal mask (a query i attends key j when j <= i + offset,
 * the offset being the past's length, or nonpad_kv_seqlen[b] - q_seq), keys past
 * nonpad_kv_seqlen[b] masked out, softcap (c * tanh(x / c), before the mask), and the
 * qk_matmul_output of qk_matmul_output_mode 0 or 1 (the scaled, softcapped product), 2 (with
 * the mask added) or 3 (the probabilities). A query whose mask leaves it no key gets zero
 * probabilities and a zero output. As onnx's reference does, Q and K are each multiplied by
 * the square root of the scale and rounded to float before their product; the products
 * are float32 (OpenBLAS), the softmax double; float16 and bfloat16 compute in float32.
 */
#include "config.h"
#include <math.h>
#include "eval_internal.h"

struct attn {
	int64_t b, qh, kvh, qs, news, past, kvs, d, vd;  /* kvs = past + new keys */
	bool flat;                      /* rank 3: [batch, seq, heads * size] */
	bool causal;
	int mode;
	double softcap;
	float root;                     /* the square root of the scale */
	const struct od_tensor *mask, *nonpad;
	int mnd;                        /* the mask's rank; its dims right-aligned to [b,h,i,j] */
	int64_t mdim[4], mst[4];        /* 1 (broadcast, stride 0) or the extent and its stride */
};

/* [batch, heads, seq, size] of an input of either rank; heads from attribute for rank 3. */
static int shape4(struct ev *e, const struct od_tensor *t, const char *what, bool flat,
                  int64_t heads, int64_t out[4])
{
	if (t->ndims != (flat ? 3 : 4))
		return ev_bad(e, "%s must have rank %d like Q", what, flat ? 3 : 4);
	if (!flat) {
		memcpy(out, t->dims, 4 * sizeof *out);
		return 0;
	}
	if (heads <= 0)
		return ev_bad(e, "rank-3 inputs need q_num_heads and kv_num_heads");
	if (t->dims[2] % heads)
		return ev_bad(e, "%s's last dim %lld is not a multiple of %lld heads", what,
		              (long long)t->dims[2], (long long)heads);
	out[0] = t->dims[0], out[1] = heads, out[2] = t->dims[1], out[3] = t->dims[2] / heads;
	return 0;
}

/* The mask's dims aligned to [batch, heads, q, kv] from the right; its last may be shorter
 * than the keys (the rest are masked out), the others broadcast. */
static int mask_init(struct ev *e, struct attn *a)
{
	const struct od_tensor *m = a->mask;
	const int64_t want[4] = { a->b, a->qh, a->qs, a->kvs };
	if (m->ndims < 1 || m->ndims > 4)
		return ev_bad(e, "attn_mask must have rank 1 to 4");
	if (m->dtype != OD_BOOL && ev_class(m->dtype) != EV_CF)
		return ev_bad(e, "attn_mask must be bool or a float type");
	int64_t st = 1;
	for (int k = 3; k >= 0; k--) {
		int md = m->ndims - 4 + k;
		int64_t n = md >= 0 ? m->dims[md] : 1;
		if (k == 3 ? n > want[k] : n != 1 && n != want[k])
			return ev_bad(e, "attn_mask's dim %d (%lld) does not broadcast to %lld",
			              md, (long long)n, (long long)want[k]);
		a->mdim[k] = n;
		a->mst[k] = n == 1 && k < 3 ? 0 : st;
		st *= n;
	}
	return 0;
}

/* The additive bias of query i and key j in batch bb and head h: the mask (or 0), causal
 * and padding terms; -inf masks out. */
static double bias_at(const struct attn *a, int64_t bb, int64_t h, int64_t i, int64_t j)
{
	double v = 0;
	if (a->mask) {
		if (j >= a->mdim[3])
			return -INFINITY;
		const int64_t at[4] = { bb, h, i, j };
		int64_t off = 0;
		for (int k = 0; k < 4; k++)
			off += (a->mdim[k] == 1 ? 0 : at[k]) * a->mst[k];
		if (a->mask->dtype == OD_BOOL)
			v = ev_getu(a->mask, off) ? 0 : -INFINITY;
		else
			v = ev_getf(a->mask, off);
	}
	int64_t len = a->nonpad ? ev_geti(a->nonpad, bb) : a->kvs;
	if (a->causal && j > i + (a->nonpad && !a->past ? len - a->qs : a->past))
		v += -INFINITY;
	if (a->nonpad && j >= len)
		v += -INFINITY;
	return v;
}

/* Row i of one head: logits x[kvs] (the scaled product) become the probabilities in p;
 * qk gets what qk_matmul_output_mode asks for (NULL: not wanted). */
static void attend_row(const struct attn *a, int64_t bb, int64_t h, int64_t i, float *x,
                       float *p, float *qk)
{
	double max = -INFINITY, sum = 0;
	bool open = false;                      /* some key's bias is not -inf */
	for (int64_t j = 0; j < a->kvs; j++) {
		float v = x[j];
		if (a->softcap > 0)
			v = (float)(a->softcap * tanh((double)(v / (float)a->softcap)));
		double bias = bias_at(a, bb, h, i, j);
		open = open || bias != -INFINITY;
		if (qk && a->mode < 2)
			qk[j] = v;
		x[j] = (float)(v + bias);
		if (qk && a->mode == 2)
			qk[j] = x[j];
		max = x[j] > max || isnan(x[j]) ? x[j] : max;     /* NaN spreads, as numpy's max */
	}
	if (max == -INFINITY)
		max = 0;                        /* every logit -inf: all zero, not NaN */
	for (int64_t j = 0; j < a->kvs; j++)
		sum += exp(x[j] - max);
	for (int64_t j = 0; j < a->kvs; j++) {
		p[j] = open ? (float)(exp(x[j] - max) / (sum ? sum : 1)) : 0;
		if (qk && a->mode == 3)
			qk[j] = p[j];
	}
}

/* Q, K or V as [batch, heads, past + news, size] floats: t holds the news positions (in
 * Q's layout), past ([batch, heads, past, size]) the ones before them. */
static void gather(const struct attn *a, const struct od_tensor *t, const struct od_tensor *past,
                   int64_t heads, int64_t news, int64_t size, float *out)
{
	const int64_t np = past ? past->dims[2] : 0;
	for (int64_t bb = 0; bb < a->b; bb++)
		for (int64_t h = 0; h < heads; h++)
			for (int64_t s = 0; s < np + news; s++)
				for (int64_t k = 0; k < size; k++) {
					int64_t n = s - np, at;
					if (n < 0)
						at = ((bb * heads + h) * np + s) * size + k;
					else if (a->flat)
						at = (bb * news + n) * heads * size + h * size + k;
					else
						at = ((bb * heads + h) * news + n) * size + k;
					*out++ = (float)ev_getf(n < 0 ? past : t, at);
				}
}

static int attn_init(struct ev *e, struct attn *a)
{
	const struct od_tensor *q = e->in[0], *k = e->in[1], *v = e->in[2];
	const struct od_tensor *pk = e->nin > 4 ? e->in[4] : NULL, *pv = e->nin > 5 ? e->in[5] : NULL;
	int64_t qd[4], kd[4], vd[4];
	int rc;
	a->flat = q->ndims == 3;
	if (q->ndims != 3 && q->ndims != 4)
		return ev_bad(e, "Q must have rank 3 or 4");
	int64_t qh = ev_attr_i(e, "q_num_heads", 0), kvh = ev_attr_i(e, "kv_num_heads", 0);
	if ((rc = shape4(e, q, "Q", a->flat, qh, qd)) || (rc = shape4(e, k, "K", a->flat, kvh, kd)) ||
	    (rc = shape4(e, v, "V", a->flat, kvh, vd)))
		return rc;
	if (k->dtype != q->dtype || v->dtype != q->dtype)
		return ev_bad(e, "Q, K and V must have one dtype");
	if (kd[0] != qd[0] || vd[0] != qd[0] || kd[1] != vd[1] || kd[2] != vd[2] || kd[3] != qd[3])
		return ev_bad(e, "Q, K and V do not agree on batch, heads, keys or head size");
	if (!kd[1] || qd[1] % kd[1])
		return ev_bad(e, "%lld query heads are not a multiple of %lld key heads",
		              (long long)qd[1], (long long)kd[1]);
	*a = (struct attn){ .b = qd[0], .qh = qd[1], .kvh = kd[1], .qs = qd[2], .news = kd[2],
	                    .d = qd[3], .vd = vd[3], .flat = a->flat };
	if (!pk != !pv)
		return ev_bad(e, "past_key and past_value come together");
	if (pk) {
		if (pk->dtype != k->dtype || pv->dtype != v->dtype)
			return ev_bad(e, "past_key and past_value must have K's and V's dtype");
		if (pk->ndims != 4 || pv->ndims != 4 || pk->dims[0] != a->b || pk->dims[1] != a->kvh ||
		    pk->dims[3] != a->d || pv->dims[0] != a->b || pv->dims[1] != a->kvh ||
		    pv->dims[2] != pk->dims[2] || pv->dims[3] != a->vd)
			return ev_bad(e, "past_key and past_value must be [batch, kv heads, past, size]");
		a->past = pk->dims[2];
	}
	a->kvs = a->past + a->news;
	a->causal = ev_attr_i(e, "is_causal", 0) != 0;
	a->mode = (int)ev_attr_i(e, "qk_matmul_output_mode", 0);
	if (a->mode < 0 || a->mode > 3)
		return ev_bad(e, "qk_matmul_output_mode %d is not 0 to 3", a->mode);
	a->softcap = ev_attr_f(e, "softcap", 0);
	/* the default in double, as onnx's reference computes it */
	double scale = ev_attr(e, "scale", OD_ATTR_FLOAT) ? ev_attr_f(e, "scale", 1) : 1 / sqrt((double)a->d);
	a->root = (float)sqrt(scale);
	a->mask = e->nin > 3 ? e->in[3] : NULL;
	a->nonpad = e->nin > 6 ? e->in[6] : NULL;
	int64_t logits, rows;                   /* the scratch of one head */
	if (a->qs > INT32_MAX || a->kvs > INT32_MAX || a->d > INT32_MAX || a->vd > INT32_MAX ||
	    __builtin_mul_overflow(a->qs, a->kvs, &logits) || __builtin_mul_overflow(a->qs, a->vd, &rows) ||
	    (e->max_numel > 0 && (logits > e->max_numel || rows > e->max_numel)))
		return ev_err(e, OD_ELIMIT, "%lld queries by %lld keys is too large",
		              (long long)a->qs, (long long)a->kvs);
	if (a->nonpad && (a->nonpad->ndims != 1 || a->nonpad->dims[0] != a->b ||
	                  ev_class(a->nonpad->dtype) != EV_CS))
		return ev_bad(e, "nonpad_kv_seqlen must be [batch] integers");
	return a->mask ? mask_init(e, a) : 0;
}

/* Outputs in float32 buffers: Y, present_key, present_value, qk_matmul_output (NULL when
 * not asked for). */
struct attn_out {
	struct od_tensor *t[4];
	float *f[4];
};

static int attn_outputs(struct ev *e, const struct attn *a, struct attn_out *o)
{
	const int64_t y4[4] = { a->b, a->qh, a->qs, a->vd }, y3[3] = { a->b, a->qs, a->qh * a->vd };
	const int64_t pk[4] = { a->b, a->kvh, a->kvs, a->d }, pv[4] = { a->b, a->kvh, a->kvs, a->vd };
	const int64_t qk[4] = { a->b, a->qh, a->qs, a->kvs };
	const int64_t *dims[4] = { a->flat ? y3 : y4, pk, pv, qk };
	for (int k = 0; k < 4; k++)
		o->t[k] = NULL, o->f[k] = NULL;
	for (int k = 0; k < 4; k++) {
		if ((size_t)k >= e->n->n_outputs || !*e->n->outputs[k])
			continue;
		int rc = ev_new(e, k, e->in[k == 1 ? 1 : k == 2 ? 2 : 0]->dtype, k || !a->flat ? 4 : 3,
		                dims[k], &o->t[k]);
		if (rc)
			return rc;
		if (!(o->f[k] = ev_f32_out(o->t[k])))
			return ev_err(e, OD_ENOMEM, "out of memory");
	}
	return 0;
}

int ev_k_attention(struct ev *e)
{
	struct attn a = { 0 };
	struct attn_out o = { 0 };
	int rc = attn_init(e, &a);
	if (rc || (rc = attn_outputs(e, &a, &o)))
		goto out;
	const int64_t rep = a.qh / a.kvh;
	size_t nq = (size_t)(a.b * a.qh * a.qs * a.d), nk = (size_t)(a.b * a.kvh * a.kvs * a.d);
	size_t nv = (size_t)(a.b * a.kvh * a.kvs * a.vd);
	float *q = od_malloc((nq ? nq : 1) * sizeof *q), *k = od_malloc((nk ? nk : 1) * sizeof *k);
	float *v = od_malloc((nv ? nv : 1) * sizeof *v);
	float *x = od_malloc((size_t)(a.qs * a.kvs + 1) * sizeof *x);
	float *p = od_malloc((size_t)(a.qs * a.kvs + 1) * sizeof *p);
	float *y = od_malloc((size_t)(a.qs * a.vd + 1) * sizeof *y);
	if (!q || !k || !v || !x || !p || !y) {
		rc = ev_err(e, OD_ENOMEM, "out of memory");
		goto free;
	}
	gather(&a, e->in[0], NULL, a.qh, a.qs, a.d, q);
	gather(&a, e->in[1], e->nin > 4 ? e->in[4] : NULL, a.kvh, a.news, a.d, k);
	gather(&a, e->in[2], e->nin > 5 ? e->in[5] : NULL, a.kvh, a.news, a.vd, v);
	if (o.f[1])                     /* the cache as it is, then both sides times the root */
		memcpy(o.f[1], k, nk * sizeof *k);
	if (o.f[2])
		memcpy(o.f[2], v, nv * sizeof *v);
	for (size_t i = 0; i < nq; i++)
		q[i] *= a.root;
	for (size_t i = 0; i < nk; i++)
		k[i] *= a.root;
	for (int64_t bb = 0; bb < a.b; bb++)
		for (int64_t h = 0; h < a.qh; h++) {
			const int64_t g = bb * a.kvh + h / rep;      /* the key/value head it reads */
			const float *qm = q + (bb * a.qh + h) * a.qs * a.d;
			if (a.kvs && a.d)
				ev_sgemm(false, true, (int)a.qs, (int)a.kvs, (int)a.d, 1.0f, qm, (int)a.d,
				         k + g * a.kvs * a.d, (int)a.d, 0.0f, x, (int)a.kvs);
			else
				memset(x, 0, (size_t)(a.qs * a.kvs) * sizeof *x);
			float *qk = o.f[3] ? o.f[3] + (bb * a.qh + h) * a.qs * a.kvs : NULL;
			for (int64_t i = 0; i < a.qs; i++)
				attend_row(&a, bb, h, i, x + i * a.kvs, p + i * a.kvs, qk ? qk + i * a.kvs : NULL);
			if (a.kvs && a.vd)
				ev_sgemm(false, false, (int)a.qs, (int)a.vd, (int)a.kvs, 1.0f, p, (int)a.kvs,
				         v + g * a.kvs * a.vd, (int)a.vd, 0.0f, y, (int)a.vd);
			else
				memset(y, 0, (size_t)(a.qs * a.vd) * sizeof *y);
			for (int64_t i = 0; o.f[0] && i < a.qs; i++) /* [b, h, i, :] or [b, i, h * vd] */
				memcpy(o.f[0] + (a.flat ? (bb * a.qs + i) * a.qh * a.vd + h * a.vd
				                        : ((bb * a.qh + h) * a.qs + i) * a.vd),
				       y + i * a.vd, (size_t)a.vd * sizeof *y);
		}
free:
	od_free(q), od_free(k), od_free(v), od_free(x), od_free(p), od_free(y);
out:
	for (int kk = 0; kk < 4; kk++)
		if (o.t[kk])
			ev_f32_done(o.t[kk], o.f[kk]);
	return rc;
}
