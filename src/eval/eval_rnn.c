/*
 * eval_rnn.c — the recurrent layers RNN, GRU and LSTM: directions forward, reverse and
 * bidirectional, sequence_lens, initial_h and initial_c, LSTM peepholes, GRU's
 * linear_before_reset, the activations attributes, clip and layout 0/1. Weights are read
 * once into double arrays; each step is a pair of matrix-vector products per gate.
 */
#include "config.h"
#include <math.h>
#include <strings.h>
#include "eval_internal.h"

enum { K_RNN = 1, K_GRU = 3, K_LSTM = 4 };   /* the value is the number of gates */

enum act_fn { A_SIGMOID, A_TANH, A_RELU, A_HARDSIGMOID, A_LEAKYRELU, A_THRESHOLDEDRELU,
              A_SCALEDTANH, A_AFFINE, A_ELU, A_SOFTSIGN, A_SOFTPLUS };

struct act {
	int fn;
	double alpha, beta;
};

/* name, then whether it takes alpha and beta, and their defaults */
static const struct {
	const char *name;
	int n_par;
	double alpha, beta;
} act_names[] = {
	[A_SIGMOID] = { "Sigmoid", 0, 0, 0 },          [A_TANH] = { "Tanh", 0, 0, 0 },
	[A_RELU] = { "Relu", 0, 0, 0 },                [A_HARDSIGMOID] = { "HardSigmoid", 2, 0.2, 0.5 },
	[A_LEAKYRELU] = { "LeakyRelu", 1, 0.01, 0 },  [A_THRESHOLDEDRELU] = { "ThresholdedRelu", 1, 1, 0 },
	[A_SCALEDTANH] = { "ScaledTanh", 2, 1, 1 },    [A_AFFINE] = { "Affine", 2, 1, 0 },
	[A_ELU] = { "Elu", 1, 1, 0 },                  [A_SOFTSIGN] = { "Softsign", 0, 0, 0 },
	[A_SOFTPLUS] = { "Softplus", 0, 0, 0 },
};

static double act(const struct act *a, double x)
{
	switch (a->fn) {
	case A_SIGMOID: return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
	case A_TANH: return tanh(x);
	case A_RELU: return x > 0 ? x : 0;
	case A_HARDSIGMOID: return fmax(0, fmin(1, a->alpha * x + a->beta));
	case A_LEAKYRELU: return x < 0 ? a->alpha * x : x;
	case A_THRESHOLDEDRELU: return x > a->alpha ? x : 0;
	case A_SCALEDTANH: return a->alpha * tanh(a->beta * x);
	case A_AFFINE: return a->alpha * x + a->beta;
	case A_ELU: return x < 0 ? a->alpha * expm1(x) : x;
	case A_SOFTSIGN: return x / (1 + fabs(x));
	default: return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
	}
}

struct rnn {
	int kind, layout, ndir;
	int64_t seq, batch, in, hid;
	double clip;                /* 0: none */
	bool lbr;                   /* GRU: linear_before_reset */
	struct act f[2][3];         /* per direction: f, g, h */
	double *w, *r, *b, *p;      /* [ndir][G*hid][in], [ndir][G*hid][hid], [ndir][2*G*hid],
	                               [ndir][3*hid]; arena */
	double *h0, *c0;            /* [ndir][batch][hid] whatever the layout; arena */
	int64_t *lens;              /* [batch] */
};

/* ---- reading the call ---------------------------------------------------------------- */

/* count doubles from input i (zeros when omitted or i is past the inputs), which must hold
 * exactly that many. */
static int read_input(struct ev *e, size_t i, int64_t count, double **out)
{
	const struct od_tensor *t = i < e->nin ? e->in[i] : NULL;
	*out = od_arena_alloc(e->a, (size_t)(count ? count : 1) * sizeof **out);
	if (!*out)
		return ev_err(e, OD_ENOMEM, "out of memory");
	if (!t)
		return 0;
	if (t->numel != count)
		return ev_bad(e, "input %zu holds %lld values, %lld expected", i, (long long)t->numel,
		              (long long)count);
	for (int64_t k = 0; k < count; k++)
		(*out)[k] = ev_getf(t, k);
	return 0;
}

/* Initial states come as [ndir, batch, hid] (layout 0) or [batch, ndir, hid]: to the former. */
static void to_dir_major(struct rnn *r, double *v)
{
	if (!r->layout || r->ndir == 1)
		return;
	double tmp[2];
	for (int64_t b = 0; b < r->batch; b++)
		for (int64_t h = 0; h < r->hid; h++) {
			for (int d = 0; d < 2; d++)
				tmp[d] = v[(b * 2 + d) * r->hid + h];
			for (int d = 0; d < 2; d++)
				v[(d * r->batch + b) * r->hid + h] = tmp[d];
		}
}

static int find_act(struct ev *e, const struct od_bytes *s, int *fn)
{
	for (int k = 0; k < (int)(sizeof act_names / sizeof *act_names); k++)
		if (strlen(act_names[k].name) == s->len &&
		    !strncasecmp(act_names[k].name, (const char *)s->data, s->len)) {
			*fn = k;
			return 0;
		}
	return ev_unsup(e, "activation '%.*s' not supported", (int)s->len, (const char *)s->data);
}

/* The activations attribute (with alpha and beta consumed by the ones that take them), or
 * the defaults of the op. */
static int read_acts(struct ev *e, struct rnn *r)
{
	static const int dflt[3][3] = { { A_TANH }, { A_SIGMOID, A_TANH },
	                                 { A_SIGMOID, A_TANH, A_TANH } };
	int per = r->kind == K_RNN ? 1 : r->kind == K_GRU ? 2 : 3;
	const struct od_attr *names = ev_attr(e, "activations", OD_ATTR_STRINGS);
	const struct od_attr *al = ev_attr(e, "activation_alpha", OD_ATTR_FLOATS);
	const struct od_attr *be = ev_attr(e, "activation_beta", OD_ATTR_FLOATS);
	size_t ia = 0, ib = 0;
	if (names && names->n != (size_t)(per * r->ndir))
		return ev_bad(e, "%zu activations given, %d expected", names->n, per * r->ndir);
	for (int d = 0; d < r->ndir; d++)
		for (int k = 0; k < per; k++) {
			struct act *a = &r->f[d][k];
			a->fn = dflt[per - 1][k];
			if (names) {
				int rc = find_act(e, &names->strings[d * per + k], &a->fn);
				if (rc)
					return rc;
			}
			a->alpha = act_names[a->fn].alpha;
			a->beta = act_names[a->fn].beta;
			if (names && act_names[a->fn].n_par >= 1 && al && ia < al->n)
				a->alpha = al->floats[ia++];
			if (names && act_names[a->fn].n_par >= 2 && be && ib < be->n)
				a->beta = be->floats[ib++];
		}
	return 0;
}

static int read_dir(struct ev *e, struct rnn *r, bool *reverse)
{
	char buf[16];
	const char *d = ev_attr_s(e, "direction", "forward", buf, sizeof buf);
	r->ndir = !strcmp(d, "bidirectional") ? 2 : 1;
	*reverse = !strcmp(d, "reverse");
	if (r->ndir == 1 && !*reverse && strcmp(d, "forward"))
		return ev_bad(e, "direction must be forward, reverse or bidirectional");
	return 0;
}

static int setup(struct ev *e, struct rnn *r, bool *reverse)
{
	const struct od_tensor *x = e->in[0], *w = e->in[1];
	int64_t g = r->kind;
	int rc = read_dir(e, r, reverse);
	if (rc)
		return rc;
	r->layout = (int)ev_attr_i(e, "layout", 0);
	r->hid = ev_attr_i(e, "hidden_size", w->ndims == 3 ? w->dims[1] / g : 0);
	r->clip = ev_attr_f(e, "clip", 0);
	r->lbr = ev_attr_i(e, "linear_before_reset", 0);
	if (ev_attr_i(e, "input_forget", 0))
		return ev_unsup(e, "input_forget 1 not supported");
	if (x->ndims != 3 || w->ndims != 3 || (r->layout != 0 && r->layout != 1))
		return ev_bad(e, "X and W must be of rank 3 and layout 0 or 1");
	r->seq = x->dims[r->layout ? 1 : 0];
	r->batch = x->dims[r->layout ? 0 : 1];
	r->in = x->dims[2];
	if (r->hid <= 0 || w->dims[0] != r->ndir || w->dims[1] != g * r->hid || w->dims[2] != r->in)
		return ev_bad(e, "W does not match X, direction and hidden_size");
	int64_t st = r->ndir * r->batch * r->hid;
	size_t none = SIZE_MAX, ic = r->kind == K_LSTM ? 6 : none, ip = r->kind == K_LSTM ? 7 : none;
	if ((rc = read_acts(e, r)) ||
	    (rc = read_input(e, 1, r->ndir * g * r->hid * r->in, &r->w)) ||
	    (rc = read_input(e, 2, r->ndir * g * r->hid * r->hid, &r->r)) ||
	    (rc = read_input(e, 3, r->ndir * 2 * g * r->hid, &r->b)) ||
	    (rc = read_input(e, 5, st, &r->h0)) ||
	    (rc = read_input(e, ic, st, &r->c0)) ||
	    (rc = read_input(e, ip, r->ndir * 3 * r->hid, &r->p)))
		return rc;
	to_dir_major(r, r->h0);
	to_dir_major(r, r->c0);
	r->lens = od_arena_alloc(e->a, (size_t)(r->batch ? r->batch : 1) * sizeof *r->lens);
	if (!r->lens)
		return ev_err(e, OD_ENOMEM, "out of memory");
	const struct od_tensor *sl = e->nin > 4 ? e->in[4] : NULL;
	if (sl && sl->numel != r->batch)
		return ev_bad(e, "sequence_lens must hold one length per batch entry");
	for (int64_t b = 0; b < r->batch; b++) {
		r->lens[b] = sl ? ev_geti(sl, b) : r->seq;
		if (r->lens[b] < 0 || r->lens[b] > r->seq)
			return ev_bad(e, "sequence length %lld out of range", (long long)r->lens[b]);
	}
	return 0;
}

/* ---- one step ------------------------------------------------------------------------- */

/* out[j] = sum_k m[j][k] * v[k] for rows rows of cols entries. */
static void matvec(const double *m, const double *v, int64_t rows, int64_t cols, double *out)
{
	for (int64_t j = 0; j < rows; j++) {
		double s = 0;
		for (int64_t k = 0; k < cols; k++)
			s += m[j * cols + k] * v[k];
		out[j] = s;
	}
}

static double clipped(const struct rnn *r, double v)
{
	return r->clip > 0 ? fmax(-r->clip, fmin(r->clip, v)) : v;
}

/* Advances h (and c) of direction d by input x; xw and hr are scratch of G*hid. */
static void step(const struct rnn *r, int d, const double *x, double *h, double *c,
                 double *xw, double *hr)
{
	int64_t H = r->hid, G = r->kind;
	const double *wb = r->b + d * 2 * G * H, *rb = wb + G * H, *p = r->p + d * 3 * H;
	const struct act *f = r->f[d];
	matvec(r->w + d * G * H * r->in, x, G * H, r->in, xw);
	matvec(r->r + d * G * H * H, h, G * H, H, hr);
	for (int64_t j = 0; j < G * H; j++)
		xw[j] += wb[j];
	if (r->kind == K_RNN) {
		for (int64_t j = 0; j < H; j++)
			h[j] = act(&f[0], clipped(r, xw[j] + hr[j] + rb[j]));
	} else if (r->kind == K_GRU) {
		/* gates z, r, h; hr of the h gate is recomputed on r .* h unless lbr */
		for (int64_t j = 0; j < 2 * H; j++)
			xw[j] = act(&f[0], clipped(r, xw[j] + hr[j] + rb[j]));
		if (!r->lbr) {
			for (int64_t j = 0; j < H; j++)
				hr[j] = xw[H + j] * h[j];          /* hr[0..H) is free now */
			matvec(r->r + d * G * H * H + 2 * H * H, hr, H, H, hr + 2 * H);
		}
		for (int64_t j = 0; j < H; j++) {
			double rh = r->lbr ? xw[H + j] * (hr[2 * H + j] + rb[2 * H + j])
			                   : hr[2 * H + j] + rb[2 * H + j];
			double ht = act(&f[1], clipped(r, xw[2 * H + j] + rh)), z = xw[j];
			h[j] = (1 - z) * ht + z * h[j];
		}
	} else {
		/* gates i, o, f, c */
		for (int64_t j = 0; j < H; j++) {
			double gi = act(&f[0], clipped(r, xw[j] + hr[j] + rb[j] + p[j] * c[j]));
			double gf = act(&f[0], clipped(r, xw[2 * H + j] + hr[2 * H + j] + rb[2 * H + j] +
			                                  p[2 * H + j] * c[j]));
			double gc = act(&f[1], clipped(r, xw[3 * H + j] + hr[3 * H + j] + rb[3 * H + j]));
			c[j] = gf * c[j] + gi * gc;
			double go = act(&f[0], clipped(r, xw[H + j] + hr[H + j] + rb[H + j] + p[H + j] * c[j]));
			h[j] = go * act(&f[2], c[j]);
		}
	}
}

/* ---- the kernel ------------------------------------------------------------------------- */

static int recurrent(struct ev *e, int kind)
{
	struct rnn r = { .kind = kind };
	struct od_tensor *y = NULL, *yh = NULL, *yc = NULL;
	bool reverse;
	int rc = setup(e, &r, &reverse);
	if (rc)
		return rc;
	int64_t H = r.hid, ydims[4], sdims[3];
	int dt = e->in[0]->dtype;
	if (r.layout) {
		int64_t yd[4] = { r.batch, r.seq, r.ndir, H }, sd[3] = { r.batch, r.ndir, H };
		memcpy(ydims, yd, sizeof yd);
		memcpy(sdims, sd, sizeof sd);
	} else {
		int64_t yd[4] = { r.seq, r.ndir, r.batch, H }, sd[3] = { r.ndir, r.batch, H };
		memcpy(ydims, yd, sizeof yd);
		memcpy(sdims, sd, sizeof sd);
	}
	size_t no = e->n->n_outputs;
	if ((*e->n->outputs[0] && (rc = ev_new(e, 0, dt, 4, ydims, &y))) ||
	    (no > 1 && *e->n->outputs[1] && (rc = ev_new(e, 1, dt, 3, sdims, &yh))) ||
	    (no > 2 && *e->n->outputs[2] && (rc = ev_new(e, 2, dt, 3, sdims, &yc))))
		return rc;
	double *buf = od_arena_alloc(e->a, (size_t)(2 * H + r.in + 2 * kind * H) * sizeof *buf);
	if (!buf)
		return ev_err(e, OD_ENOMEM, "out of memory");
	double *h = buf, *c = h + H, *x = c + H, *xw = x + r.in, *hr = xw + kind * H;
	const struct od_tensor *X = e->in[0];
	for (int d = 0; d < r.ndir; d++)
		for (int64_t b = 0; b < r.batch; b++) {
			bool back = reverse || d == 1;
			int64_t len = r.lens[b], s0 = (d * r.batch + b) * H;
			memcpy(h, r.h0 + s0, (size_t)H * sizeof *h);
			memcpy(c, r.c0 + s0, (size_t)H * sizeof *c);
			for (int64_t s = 0; s < len; s++) {
				int64_t t = back ? len - 1 - s : s;
				int64_t xo = (r.layout ? b * r.seq + t : t * r.batch + b) * r.in;
				for (int64_t k = 0; k < r.in; k++)
					x[k] = ev_getf(X, xo + k);
				step(&r, d, x, h, c, xw, hr);
				int64_t yo = (r.layout ? (b * r.seq + t) * r.ndir + d
				                       : (t * r.ndir + d) * r.batch + b) * H;
				for (int64_t k = 0; y && k < H; k++)
					ev_setf(y, yo + k, h[k]);
			}
			int64_t so = (r.layout ? b * r.ndir + d : d * r.batch + b) * H;
			for (int64_t k = 0; k < H; k++) {
				if (yh)
					ev_setf(yh, so + k, h[k]);
				if (yc)
					ev_setf(yc, so + k, c[k]);
			}
		}
	return 0;
}

int ev_k_rnn(struct ev *e) { return recurrent(e, K_RNN); }
int ev_k_gru(struct ev *e) { return recurrent(e, K_GRU); }
int ev_k_lstm(struct ev *e) { return recurrent(e, K_LSTM); }
