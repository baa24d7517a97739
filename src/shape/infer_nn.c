/*
 * infer_nn.c — the operators of neural networks: MatMul, Gemm, Conv and ConvTranspose
 * (pads, strides, dilations, groups, auto_pad), pools, normalizations, reductions, RNN /
 * GRU / LSTM, Einsum, losses, quantized variants, RoiAlign, GridSample, windows.
 */
#include "config.h"
#include <string.h>
#include "infer.h"

#define MAXR OD_MAX_RANK

static int matmul_into(struct sh_call *c, size_t ia, size_t ib, int dt)
{
	const struct od_shape *a = sh_in(c, ia), *b = sh_in(c, ib);
	int ra = sh_in_rank(c, ia), rb = sh_in_rank(c, ib);
	if (ra < 1 || rb < 1)
		return sh_set(c, 0, dt, -1, NULL);
	struct od_dim da[MAXR + 1], db[MAXR + 1], d[MAXR + 1];
	memcpy(da, a->dims, (size_t)ra * sizeof *da);
	memcpy(db, b->dims, (size_t)rb * sizeof *db);
	bool va = ra == 1, vb = rb == 1, bad = false;
	if (va) {
		da[1] = da[0], da[0] = sh_d(1), ra = 2;
	}
	if (vb)
		db[1] = sh_d(1), rb = 2;
	if (sh_known(da[ra - 1]) && sh_known(db[rb - 2]) && da[ra - 1].value != db[rb - 2].value) {
		sh_warn(c, "MatMul inner dims %lld and %lld differ", (long long)da[ra - 1].value,
		        (long long)db[rb - 2].value);
		return sh_set(c, 0, dt, -1, NULL);
	}
	int r = ra > rb ? ra : rb, k = 0;
	for (int i = 0; i < r - 2; i++) {
		struct od_dim x = i - (r - ra) >= 0 ? da[i - (r - ra)] : sh_d(1);
		struct od_dim y = i - (r - rb) >= 0 ? db[i - (r - rb)] : sh_d(1);
		d[k++] = sh_dim_bcast(x, y, &bad);
	}
	if (!va)
		d[k++] = da[ra - 2];
	if (!vb)
		d[k++] = db[rb - 1];
	if (bad)
		sh_warn(c, "batch dims do not broadcast");
	return sh_set(c, 0, dt, k, bad ? NULL : d);
}

int sh_op_matmul(struct sh_call *c)
{
	return matmul_into(c, 0, 1, sh_in_dtype(c, 0));
}

/* A dim divided by a head count: known when both are and it divides. */
static struct od_dim per_head(struct od_dim d, int64_t heads)
{
	return sh_known(d) && heads > 0 && d.value % heads == 0 ? sh_d(d.value / heads) : SH_UNK;
}

/* Attention (opset 23): Y [b, q heads, q seq, v size] (rank 3: [b, q seq, q heads * v size]),
 * present_key and present_value [b, kv heads, past + kv seq, size], qk_matmul_output [b, q
 * heads, q seq, past + kv seq]. Rank-3 inputs split their last dim into q_num_heads and
 * kv_num_heads. */
int sh_op_attention(struct sh_call *c)
{
	const struct od_shape *q = sh_in(c, 0), *k = sh_in(c, 1), *v = sh_in(c, 2), *pk = sh_in(c, 4);
	int r = sh_in_rank(c, 0), dq = sh_in_dtype(c, 0);
	if (r != 3 && r != 4) {
		for (size_t o = 0; o < 4; o++)
			sh_set(c, o, sh_in_dtype(c, o == 1 ? 1 : o == 2 ? 2 : 0), -1, NULL);
		return 0;
	}
	int64_t qh = sh_attr_i(c, "q_num_heads", 0), kvh = sh_attr_i(c, "kv_num_heads", 0);
	bool flat = r == 3, ok = sh_in_rank(c, 1) == r && sh_in_rank(c, 2) == r;
	struct od_dim b = q->dims[0], qs = q->dims[flat ? 1 : 2];
	struct od_dim heads = flat ? sh_d(qh) : q->dims[1], kheads = flat ? sh_d(kvh) : ok ? k->dims[1] : SH_UNK;
	struct od_dim news = ok ? k->dims[flat ? 1 : 2] : SH_UNK;
	struct od_dim d = ok ? (flat ? per_head(k->dims[2], kvh) : k->dims[3]) : SH_UNK;
	struct od_dim vd = ok ? (flat ? per_head(v->dims[2], kvh) : v->dims[3]) : SH_UNK;
	struct od_dim kvs = news;
	if (pk && sh_in_rank(c, 4) == 4) {
		int64_t t;
		kvs = sh_known(news) && sh_known(pk->dims[2]) ?
		      sh_ck(sh_add(news.value, pk->dims[2].value, &t), t) : SH_UNK;
	} else if (pk)
		kvs = SH_UNK;
	struct od_dim y4[4] = { b, heads, qs, vd }, y3[3] = { b, qs, sh_dim_mul(heads, vd) };
	struct od_dim pkd[4] = { b, kheads, kvs, d }, pvd[4] = { b, kheads, kvs, vd };
	struct od_dim qk[4] = { b, heads, qs, kvs };
	sh_set(c, 0, dq, r, flat ? y3 : y4);
	sh_set(c, 1, sh_in_dtype(c, 1), 4, pkd);
	sh_set(c, 2, sh_in_dtype(c, 2), 4, pvd);
	return sh_set(c, 3, dq, 4, qk);
}

int sh_op_matmul_int(struct sh_call *c)
{
	return matmul_into(c, 0, 1, OD_INT32);
}

int sh_op_qlinear_matmul(struct sh_call *c)
{
	return matmul_into(c, 0, 3, sh_in_dtype(c, 7) ? sh_in_dtype(c, 7) : sh_in_dtype(c, 0));
}

int sh_op_gemm(struct sh_call *c)
{
	const struct od_shape *a = sh_in(c, 0), *b = sh_in(c, 1);
	int dt = sh_in_dtype(c, 0);
	if (sh_in_rank(c, 0) != 2 || sh_in_rank(c, 1) != 2)
		return sh_set(c, 0, dt, 2, NULL);
	bool ta = sh_attr_i(c, "transA", 0), tb = sh_attr_i(c, "transB", 0);
	struct od_dim d[2] = {a->dims[ta ? 1 : 0], b->dims[tb ? 0 : 1]};
	struct od_dim ka = a->dims[ta ? 0 : 1], kb = b->dims[tb ? 1 : 0];
	if (sh_known(ka) && sh_known(kb) && ka.value != kb.value)
		sh_warn(c, "Gemm inner dims %lld and %lld differ", (long long)ka.value, (long long)kb.value);
	return sh_set(c, 0, dt, 2, d);
}

/* ---- windows: Conv, ConvTranspose, pools ------------------------------------------------------ */

struct window {
	int n;                          /* spatial dims */
	int64_t k[MAXR], s[MAXR], dl[MAXR], pb[MAXR], pe[MAXR];
	const char *auto_pad;
	bool ceil;
	bool kernel_known[MAXR];
};

/* Reads kernel_shape (or the weight's dims from index 2), strides, dilations, pads. */
static bool window_read(struct sh_call *c, struct window *w, int n, const struct od_shape *wt)
{
	size_t m;
	const int64_t *v;
	w->n = n;
	for (int i = 0; i < n; i++) {
		w->s[i] = w->dl[i] = 1;
		w->pb[i] = w->pe[i] = 0;
		w->k[i] = -1;
	}
	if ((v = sh_attr_ints(c, "kernel_shape", &m)) && (int)m == n)
		for (int i = 0; i < n; i++)
			w->k[i] = v[i];
	else if (wt && wt->rank == n + 2)
		for (int i = 0; i < n; i++)
			w->k[i] = sh_known(wt->dims[i + 2]) ? wt->dims[i + 2].value : -1;
	if ((v = sh_attr_ints(c, "strides", &m)) && (int)m == n)
		memcpy(w->s, v, m * sizeof *v);
	if ((v = sh_attr_ints(c, "dilations", &m)) && (int)m == n)
		memcpy(w->dl, v, m * sizeof *v);
	if ((v = sh_attr_ints(c, "pads", &m))) {
		if ((int)m != 2 * n) {
			sh_warn(c, "%zu pads for %d spatial dims", m, n);
			return false;
		}
		for (int i = 0; i < n; i++)
			w->pb[i] = v[i], w->pe[i] = v[i + n];
	}
	w->auto_pad = sh_attr_s(c, "auto_pad", "NOTSET");
	w->ceil = sh_attr_i(c, "ceil_mode", 0) != 0;
	for (int i = 0; i < n; i++)
		if (w->s[i] <= 0 || w->dl[i] <= 0) {
			sh_warn(c, "strides and dilations must be positive");
			return false;
		}
	return true;
}

/* a / b rounded up and down, b > 0, without an intermediate that could overflow */
static int64_t div_up(int64_t a, int64_t b)
{
	return a / b + (a % b > 0);
}

static int64_t div_down(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

/* Output size of spatial dim i for input size in. */
static struct od_dim window_out(const struct window *w, int i, struct od_dim in)
{
	if (!sh_known(in))
		return SH_UNK;
	int64_t x = in.value, ext, span, o, start, end;
	if (!strcmp(w->auto_pad, "SAME_UPPER") || !strcmp(w->auto_pad, "SAME_LOWER"))
		return sh_d(div_up(x, w->s[i]));
	if (w->k[i] < 0)
		return SH_UNK;
	/* the window's extent and the span it slides over; attributes may be anything */
	if (sh_mul(w->k[i] - 1, w->dl[i], &ext) || sh_add(ext, 1, &ext))
		return SH_UNK;
	if (!strcmp(w->auto_pad, "VALID"))
		return sh_sub(x, ext, &span) || span < 0 ? SH_UNK : sh_d(div_down(span, w->s[i]) + 1);
	if (sh_add(x, w->pb[i], &span) || sh_add(span, w->pe[i], &span) || sh_sub(span, ext, &span) ||
	    span < 0)
		return SH_UNK;
	if (!w->ceil)
		return sh_d(div_down(span, w->s[i]) + 1);
	o = div_up(span, w->s[i]) + 1;
	if (!sh_mul(o - 1, w->s[i], &start) && !sh_add(x, w->pb[i], &end) && start >= end)
		o--;            /* the last window would start in the end padding */
	return sh_d(o);
}

static int conv_into(struct sh_call *c, size_t ix, size_t iw, int dt)
{
	const struct od_shape *x = sh_in(c, ix), *w = sh_in(c, iw);
	int r = sh_in_rank(c, ix);
	if (r < 0 && sh_in_rank(c, iw) >= 0)
		r = sh_in_rank(c, iw);
	if (r < 3)
		return sh_set(c, 0, dt, r, NULL);
	struct window win;
	if (!window_read(c, &win, r - 2, w))
		return sh_set(c, 0, dt, r, NULL);
	struct od_dim d[MAXR];
	d[0] = x && x->rank == r ? x->dims[0] : SH_UNK;
	d[1] = w && w->rank == r ? w->dims[0] : SH_UNK;
	for (int i = 0; i < r - 2; i++)
		d[i + 2] = x && x->rank == r ? window_out(&win, i, x->dims[i + 2]) : SH_UNK;
	return sh_set(c, 0, dt, r, d);
}

int sh_op_conv(struct sh_call *c)
{
	return conv_into(c, 0, 1, sh_in_dtype(c, 0));
}

int sh_op_conv_integer(struct sh_call *c)
{
	return conv_into(c, 0, 1, OD_INT32);
}

int sh_op_qlinear_conv(struct sh_call *c)
{
	return conv_into(c, 0, 3, sh_in_dtype(c, 7) ? sh_in_dtype(c, 7) : sh_in_dtype(c, 0));
}

int sh_op_conv_transpose(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0), *w = sh_in(c, 1);
	int r = sh_in_rank(c, 0), dt = sh_in_dtype(c, 0);
	if (r < 3)
		return sh_set(c, 0, dt, r, NULL);
	struct window win;
	if (!window_read(c, &win, r - 2, w))
		return sh_set(c, 0, dt, r, NULL);
	size_t m, mo;
	const int64_t *os = sh_attr_ints(c, "output_shape", &m), *op = sh_attr_ints(c, "output_padding", &mo);
	int64_t group = sh_attr_i(c, "group", 1);
	struct od_dim d[MAXR];
	d[0] = x->dims[0];
	d[1] = w && w->rank == r && group > 0 ? sh_dim_mul(w->dims[1], sh_d(group)) : SH_UNK;
	bool same = !strcmp(win.auto_pad, "SAME_UPPER") || !strcmp(win.auto_pad, "SAME_LOWER");
	for (int i = 0; i < r - 2; i++) {
		struct od_dim in = x->dims[i + 2];
		int64_t opad = op && (int)mo == r - 2 ? op[i] : 0;
		if (os && (int)m >= r - 2)
			d[i + 2] = sh_d(os[(int)m - (r - 2) + i]);
		else if (!sh_known(in) || win.k[i] < 0)
			d[i + 2] = SH_UNK;
		else if (same)
			d[i + 2] = sh_dim_mul(in, sh_d(win.s[i]));
		else {          /* s * (in - 1) + opad + (k - 1) * dl + 1 - pb - pe */
			int64_t v = 0, ext = 0;
			bool over = sh_mul(win.s[i], in.value - 1, &v) || sh_add(v, opad, &v) ||
			            sh_mul(win.k[i] - 1, win.dl[i], &ext) || sh_add(v, ext, &v) ||
			            sh_add(v, 1, &v) || sh_sub(v, win.pb[i], &v) || sh_sub(v, win.pe[i], &v);
			d[i + 2] = sh_ck(over, v);
		}
	}
	return sh_set(c, 0, dt, r, d);
}

int sh_op_pool(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = sh_in_dtype(c, 0), rc;
	struct window win;
	if (r < 3 || !window_read(c, &win, r - 2, NULL)) {
		rc = sh_set(c, 0, dt, r, NULL);
		return rc ? rc : sh_set(c, 1, OD_INT64, r, NULL);
	}
	struct od_dim d[MAXR];
	d[0] = x->dims[0];
	d[1] = x->dims[1];
	for (int i = 0; i < r - 2; i++)
		d[i + 2] = window_out(&win, i, x->dims[i + 2]);
	rc = sh_set(c, 0, dt, r, d);
	return rc ? rc : sh_set(c, 1, OD_INT64, r, d);
}

int sh_op_global_pool(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0);
	struct od_dim d[MAXR];
	for (int i = 0; i < r; i++)
		d[i] = i < 2 ? x->dims[i] : sh_d(1);
	return sh_set(c, 0, sh_in_dtype(c, 0), r, r >= 0 ? d : NULL);
}

int sh_op_max_unpool(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = sh_in_dtype(c, 0), n;
	struct od_dim d[MAXR];
	const struct od_shape *os = sh_in(c, 2);
	if (os && os->n_value >= 0 && os->n_value <= MAXR) {
		n = os->n_value;
		for (int i = 0; i < n; i++)
			d[i] = sh_v_to_dim(os->value[i]);
		return sh_set(c, 0, dt, n, d);
	}
	struct window win;
	if (r < 3 || os || !window_read(c, &win, r - 2, NULL))
		return sh_set(c, 0, dt, r, NULL);
	d[0] = x->dims[0];
	d[1] = x->dims[1];
	for (int i = 0; i < r - 2; i++) {     /* (x - 1) * s - pb - pe + k */
		int64_t v = 0;
		bool over = !sh_known(x->dims[i + 2]) || win.k[i] < 0 ||
		            sh_mul(x->dims[i + 2].value - 1, win.s[i], &v) || sh_sub(v, win.pb[i], &v) ||
		            sh_sub(v, win.pe[i], &v) || sh_add(v, win.k[i], &v);
		d[i + 2] = sh_ck(over, v);
	}
	return sh_set(c, 0, dt, r, d);
}

/* ---- normalizations and reductions -------------------------------------------------------------- */

int sh_op_norm(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int rc = sh_same(c, 0, x, sh_in_dtype(c, 0));
	for (size_t o = 1; !rc && o < c->nout; o++)      /* BatchNormalization in training */
		rc = sh_same(c, o, sh_in(c, 3), sh_in_dtype(c, 3) ? sh_in_dtype(c, 3) : sh_in_dtype(c, 0));
	return rc;
}

int sh_op_layernorm(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), rc = sh_same(c, 0, x, sh_in_dtype(c, 0));
	int64_t axis = sh_attr_i(c, "axis", -1);
	int st = (int)sh_attr_i(c, "stash_type", OD_FLOAT);
	if (rc || c->nout < 2)
		return rc;
	if (r < 0 || !sh_axis(c, &axis, r)) {
		rc = sh_set(c, 1, st, r, NULL);
		return rc ? rc : sh_set(c, 2, st, r, NULL);
	}
	struct od_dim d[MAXR];
	for (int i = 0; i < r; i++)
		d[i] = i < axis ? x->dims[i] : sh_d(1);
	rc = sh_set(c, 1, st, r, d);
	return rc ? rc : sh_set(c, 2, st, r, d);
}

int sh_op_lp_norm(struct sh_call *c)
{
	return sh_same(c, 0, sh_in(c, 0), sh_in_dtype(c, 0));
}

int sh_op_reduce(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = sh_in_dtype(c, 0);
	bool keep = sh_attr_i(c, "keepdims", 1) != 0, noop = sh_attr_i(c, "noop_with_empty_axes", 0) != 0;
	int64_t axes[MAXR];
	size_t na = 0;
	int got = sh_ints_arg(c, "axes", 1, axes, MAXR, &na);
	if (r < 0)
		return sh_set(c, 0, dt, -1, NULL);
	if (got < 0)
		return sh_set(c, 0, dt, keep ? r : -1, NULL);
	if (got && !na && c->nin > 1 && !noop)
		got = 0;        /* an empty axes input reduces over everything */
	if (!got && noop)
		return sh_same(c, 0, x, dt);
	bool red[MAXR] = {0};
	for (size_t i = 0; i < na; i++) {
		if (!sh_axis(c, &axes[i], r))
			return sh_set(c, 0, dt, -1, NULL);
		red[axes[i]] = true;
	}
	struct od_dim d[MAXR];
	int k = 0;
	for (int i = 0; i < r; i++) {
		bool gone = !got || red[i];
		if (!gone)
			d[k++] = x->dims[i];
		else if (keep)
			d[k++] = sh_d(1);
	}
	return sh_set(c, 0, dt, k, d);
}

int sh_op_argreduce(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0);
	int64_t axis = sh_attr_i(c, "axis", 0);
	bool keep = sh_attr_i(c, "keepdims", 1) != 0;
	if (r < 0 || !sh_axis(c, &axis, r))
		return sh_set(c, 0, OD_INT64, r >= 0 && keep ? r : -1, NULL);
	struct od_dim d[MAXR];
	int k = 0;
	for (int i = 0; i < r; i++)
		if (i != axis)
			d[k++] = x->dims[i];
		else if (keep)
			d[k++] = sh_d(1);
	return sh_set(c, 0, OD_INT64, k, d);
}

int sh_op_softmax_loss(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0), dt = sh_in_dtype(c, 0), rc;
	const char *red = sh_attr_s(c, "reduction", "mean");
	if (strcmp(red, "none"))
		rc = sh_set(c, 0, dt, 0, NULL);
	else if (r < 2)
		rc = sh_set(c, 0, dt, r < 0 ? -1 : r - 1, NULL);
	else {
		struct od_dim d[MAXR];
		for (int i = 0, k = 0; i < r; i++)
			if (i != 1)
				d[k++] = x->dims[i];
		rc = sh_set(c, 0, dt, r - 1, d);
	}
	return rc ? rc : sh_same(c, 1, x, dt);
}

int sh_op_nll_loss(struct sh_call *c)
{
	const char *red = sh_attr_s(c, "reduction", "mean");
	if (strcmp(red, "none"))
		return sh_set(c, 0, sh_in_dtype(c, 0), 0, NULL);
	return sh_same(c, 0, sh_in(c, 1), sh_in_dtype(c, 0));
}

/* ---- recurrent ------------------------------------------------------------------------------------ */

int sh_op_rnn(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int dt = sh_in_dtype(c, 0), rc = 0;
	int64_t hs = sh_attr_i(c, "hidden_size", -1);
	bool batch_first = sh_attr_i(c, "layout", 0) != 0;
	const char *dir = sh_attr_s(c, "direction", "forward");
	struct od_dim nd = sh_d(!strcmp(dir, "bidirectional") ? 2 : 1), h = hs >= 0 ? sh_d(hs) : SH_UNK;
	struct od_dim seq = SH_UNK, batch = SH_UNK;
	if (sh_in_rank(c, 0) == 3) {
		seq = x->dims[batch_first ? 1 : 0];
		batch = x->dims[batch_first ? 0 : 1];
	}
	if (!sh_known(h) && sh_in_rank(c, 2) == 3 && sh_known(sh_in(c, 2)->dims[2]))
		h = sh_in(c, 2)->dims[2];   /* R is [num_directions, k*hidden, hidden] */
	struct od_dim y[4] = {seq, nd, batch, h}, yb[4] = {batch, seq, nd, h};
	struct od_dim yh[3] = {nd, batch, h}, yhb[3] = {batch, nd, h};
	if (c->nout > 0 && *c->n->outputs[0])
		rc = sh_set(c, 0, dt, 4, batch_first ? yb : y);
	for (size_t o = 1; !rc && o < c->nout && o < 3; o++)
		rc = sh_set(c, o, dt, 3, batch_first ? yhb : yh);
	return rc;
}

/* ---- Einsum -------------------------------------------------------------------------------------- */

struct term {
	char l[MAXR];           /* letters, '.' for each ellipsis dim */
	int n;
	int ell;                /* index of the ellipsis in l, -1 if none */
};

static bool parse_term(const char *s, size_t len, int rank, struct term *t)
{
	int letters = 0;
	bool ell = false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (ell || i + 2 >= len || s[i + 1] != '.' || s[i + 2] != '.')
				return false;
			ell = true;
			i += 2;
		} else if ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')) {
			letters++;
		} else if (s[i] != ' ') {
			return false;
		}
	}
	int ne = ell ? rank - letters : 0;
	if (ne < 0 || letters + ne > MAXR || (!ell && rank >= 0 && rank != letters))
		return false;
	t->n = 0;
	t->ell = -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			t->ell = t->n;
			for (int k = 0; k < ne; k++)
				t->l[t->n++] = '.';
			i += 2;
		} else if (s[i] != ' ') {
			t->l[t->n++] = s[i];
		}
	}
	return true;
}

int sh_op_einsum(struct sh_call *c)
{
	const char *eq = sh_attr_s(c, "equation", "");
	int dt = sh_in_dtype(c, 0);
	const char *arrow = strstr(eq, "->");
	size_t lhs = arrow ? (size_t)(arrow - eq) : strlen(eq);
	struct od_dim let[128], ell[MAXR];
	bool seen[128] = {0}, bad = false;
	int count[128] = {0}, nell = 0;
	for (int i = 0; i < 128; i++)
		let[i] = SH_UNK;
	const char *p = eq;
	for (size_t i = 0; i < c->nin; i++) {
		const char *comma = memchr(p, ',', lhs - (size_t)(p - eq));
		size_t len = comma ? (size_t)(comma - p) : lhs - (size_t)(p - eq);
		const struct od_shape *x = sh_in(c, i);
		struct term t;
		if (!x || x->rank < 0 || !parse_term(p, len, x->rank, &t))
			return sh_set(c, 0, dt, -1, NULL);
		int ne = 0;
		for (int k = 0; k < t.n; k++)
			ne += t.l[k] == '.';
		if (ne > nell) {        /* the ellipsis dims of all inputs align on the right */
			memmove(ell + (ne - nell), ell, (size_t)nell * sizeof *ell);
			for (int q = 0; q < ne - nell; q++)
				ell[q] = sh_d(1);
			nell = ne;
		}
		for (int k = 0; k < t.n; k++) {
			unsigned char ch = (unsigned char)t.l[k] & 127;
			if (ch == '.') {
				int e = k - t.ell + (nell - ne);
				ell[e] = sh_dim_bcast(ell[e], x->dims[k], &bad);
				continue;
			}
			if (!seen[ch] || (!sh_known(let[ch]) && sh_known(x->dims[k])))
				let[ch] = x->dims[k];
			seen[ch] = true;
			count[ch]++;
		}
		p = comma ? comma + 1 : eq + lhs;
	}
	struct od_dim d[MAXR];
	int k = 0;
	if (!arrow) {
		for (int e = 0; e < nell; e++)
			d[k++] = ell[e];
		for (int ch = 0; ch < 128 && k < MAXR; ch++)
			if (count[ch] == 1)
				d[k++] = let[ch];
		return sh_set(c, 0, dt, k, d);
	}
	for (const char *q = arrow + 2; *q && k < MAXR; q++) {
		if (*q == '.') {
			for (int e = 0; e < nell && k < MAXR; e++)
				d[k++] = ell[e];
			q += 2;
		} else if (*q != ' ') {
			d[k++] = let[(unsigned char)*q & 127];
		}
	}
	return sh_set(c, 0, dt, k, d);
}

/* ---- the rest ------------------------------------------------------------------------------------- */

int sh_op_det(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0);
	return sh_set(c, 0, sh_in_dtype(c, 0), r >= 2 ? r - 2 : -1, r >= 2 ? x->dims : NULL);
}

int sh_op_grid_sample(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0), *g = sh_in(c, 1);
	int r = sh_in_rank(c, 0), rg = sh_in_rank(c, 1);
	if (r < 3 || rg != r)
		return sh_set(c, 0, sh_in_dtype(c, 0), r, NULL);
	struct od_dim d[MAXR];
	d[0] = x->dims[0];
	d[1] = x->dims[1];
	for (int i = 2; i < r; i++)
		d[i] = g->dims[i - 1];
	return sh_set(c, 0, sh_in_dtype(c, 0), r, d);
}

int sh_op_affine_grid(struct sh_call *c)
{
	const struct od_shape *s = sh_in(c, 1);
	if (!s || s->n_value < 3 || s->n_value > 5)
		return sh_set(c, 0, sh_in_dtype(c, 0), -1, NULL);
	struct od_dim d[5];
	int n = s->n_value;
	d[0] = sh_v_to_dim(s->value[0]);
	for (int i = 2; i < n; i++)
		d[i - 1] = sh_v_to_dim(s->value[i]);
	d[n - 1] = sh_d(n - 2);
	return sh_set(c, 0, sh_in_dtype(c, 0), n, d);
}

int sh_op_roi(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0), *rois = sh_in(c, 1);
	size_t m;
	const int64_t *ps = sh_attr_ints(c, "pooled_shape", &m);
	struct od_dim d[4] = {sh_in_rank(c, 1) == 2 ? rois->dims[0] : SH_UNK,
	                      sh_in_rank(c, 0) == 4 ? x->dims[1] : SH_UNK,
	                      sh_d(sh_attr_i(c, "output_height", 1)), sh_d(sh_attr_i(c, "output_width", 1))};
	if (ps && m == 2)
		d[2] = sh_d(ps[0]), d[3] = sh_d(ps[1]);
	return sh_set(c, 0, sh_in_dtype(c, 0), 4, d);
}

int sh_op_window(struct sh_call *c)
{
	int64_t n;
	size_t k;
	struct od_dim d = sh_in_ints(c, 0, &n, 1, &k) && k == 1 && n >= 0 ? sh_d(n) : SH_UNK;
	return sh_set(c, 0, (int)sh_attr_i(c, "output_datatype", OD_FLOAT), 1, &d);
}

int sh_op_multinomial(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	struct od_dim d[2] = {sh_in_rank(c, 0) == 2 ? x->dims[0] : SH_UNK, sh_d(sh_attr_i(c, "sample_size", 1))};
	return sh_set(c, 0, (int)sh_attr_i(c, "dtype", OD_INT32), 2, d);
}

int sh_op_dft(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0);
	int r = sh_in_rank(c, 0);
	if (r < 2)
		return sh_set(c, 0, sh_in_dtype(c, 0), r, NULL);
	struct od_dim d[MAXR];
	bool simple = !sh_attr_i(c, "onesided", 0) && !sh_in(c, 1);
	for (int i = 0; i < r - 1; i++)
		d[i] = simple || i == 0 ? x->dims[i] : SH_UNK;
	bool inverse_real = sh_attr_i(c, "inverse", 0) && sh_attr_i(c, "onesided", 0);
	d[r - 1] = sh_d(inverse_real ? 1 : 2);
	return sh_set(c, 0, sh_in_dtype(c, 0), r, d);
}

/* STFT: [batch, frames, bins, 2], frames = 1 + (length - frame_length) / frame_step and
 * bins = frame_length / 2 + 1 when onesided (the default); frame_length is the input, else
 * the window's length, else the signal's. */
int sh_op_stft(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0), *w = sh_in(c, 2);
	int dt = sh_in_dtype(c, 0);
	if (sh_in_rank(c, 0) != 3)
		return sh_set(c, 0, dt, 4, NULL);
	struct od_dim len = x->dims[1], frames = SH_UNK, bins = SH_UNK;
	int64_t step, fl = -1;
	size_t n;
	if (sh_in(c, 3)) {
		if (!sh_in_ints(c, 3, &fl, 1, &n) || n != 1)
			fl = -1;
	} else if (w && sh_in_rank(c, 2) == 1 && sh_known(w->dims[0]))
		fl = w->dims[0].value;
	else if (!w && sh_known(len))
		fl = len.value;
	if (fl > 0 && sh_in_ints(c, 1, &step, 1, &n) && n == 1 && step > 0 && sh_known(len) &&
	    len.value >= fl)
		frames = sh_d(1 + (len.value - fl) / step);
	if (fl > 0)
		bins = sh_d(sh_attr_i(c, "onesided", 1) ? fl / 2 + 1 : fl);
	struct od_dim d[4] = { x->dims[0], frames, bins, sh_d(2) };
	return sh_set(c, 0, dt, 4, d);
}

int sh_op_col2im(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0), *img = sh_in(c, 1), *blk = sh_in(c, 2);
	if (!img || img->n_value < 0 || img->n_value + 2 > MAXR)
		return sh_set(c, 0, sh_in_dtype(c, 0), -1, NULL);
	struct od_dim d[MAXR], prod = sh_d(1);
	d[0] = sh_in_rank(c, 0) == 3 ? x->dims[0] : SH_UNK;
	for (int i = 0; blk && i < blk->n_value; i++)
		prod = sh_dim_mul(prod, sh_v_to_dim(blk->value[i]));
	d[1] = sh_in_rank(c, 0) == 3 && sh_known(x->dims[1]) && sh_known(prod) && prod.value ?
	       sh_d(x->dims[1].value / prod.value) : SH_UNK;
	for (int i = 0; i < img->n_value; i++)
		d[i + 2] = sh_v_to_dim(img->value[i]);
	return sh_set(c, 0, sh_in_dtype(c, 0), img->n_value + 2, d);
}

int sh_op_center_crop_pad(struct sh_call *c)
{
	const struct od_shape *x = sh_in(c, 0), *s = sh_in(c, 1);
	int r = sh_in_rank(c, 0);
	size_t na = 0;
	const int64_t *ax = sh_attr_ints(c, "axes", &na);
	if (r < 0 || !s || s->n_value < 0 || (ax ? na : (size_t)r) != (size_t)s->n_value)
		return sh_set(c, 0, sh_in_dtype(c, 0), r, NULL);
	struct od_dim d[MAXR];
	memcpy(d, x->dims, (size_t)r * sizeof *d);
	for (int i = 0; i < s->n_value; i++) {
		int64_t a = ax ? ax[i] : i;
		if (!sh_axis(c, &a, r))
			return sh_set(c, 0, sh_in_dtype(c, 0), r, NULL);
		d[a] = sh_v_to_dim(s->value[i]);
	}
	return sh_set(c, 0, sh_in_dtype(c, 0), r, d);
}
