/*
 * eval_conv.c — Conv and ConvTranspose over any number of spatial dims, and the window
 * geometry (kernel, strides, dilations, pads, auto_pad, ceil_mode) the pools and the integer
 * convolutions of eval_qlinear.c share.
 *
 * Conv is im2col + one cblas_sgemm per image and group (a 1x1 kernel with unit strides and
 * no pads multiplies the image itself); ConvTranspose is the transposed product followed by
 * col2im. Everything is computed in float32: float16 and bfloat16 are widened and rounded
 * once on the way out. Col2Im, the operator, sums in double or in 64-bit integers.
 */
#include "config.h"
#include "eval_internal.h"

/* ---- window geometry ------------------------------------------------------------------ */

static int64_t span(const struct ev_win *w, int i)
{
	return (w->k[i] - 1) * w->d[i] + 1;
}

int ev_win_read(struct ev *e, struct ev_win *w)
{
	int ns, nd, np, rc;
	int64_t pads[2 * EV_WIN_MAX];
	if ((rc = ev_attr_ints(e, "strides", w->s, EV_WIN_MAX, &ns)) ||
	    (rc = ev_attr_ints(e, "dilations", w->d, EV_WIN_MAX, &nd)) ||
	    (rc = ev_attr_ints(e, "pads", pads, 2 * EV_WIN_MAX, &np)))
		return rc;
	if ((ns >= 0 && ns != w->nd) || (nd >= 0 && nd != w->nd) || (np >= 0 && np != 2 * w->nd))
		return ev_bad(e, "strides, dilations or pads do not match %d spatial dims", w->nd);
	for (int i = 0; i < w->nd; i++) {
		if (ns < 0)
			w->s[i] = 1;
		if (nd < 0)
			w->d[i] = 1;
		w->pb[i] = np < 0 ? 0 : pads[i];
		w->pe[i] = np < 0 ? 0 : pads[w->nd + i];
		if (w->s[i] < 1 || w->d[i] < 1 || w->k[i] < 1 || w->pb[i] < 0 || w->pe[i] < 0)
			return ev_bad(e, "kernel, strides, dilations and pads must be positive");
		/* No dim exceeds OD_MAX_NUMEL, so no useful window, stride or pad does; within
		 * these bounds no position a window reaches overflows. */
		int64_t ext;
		if (w->s[i] > OD_MAX_NUMEL || w->pb[i] > OD_MAX_NUMEL || w->pe[i] > OD_MAX_NUMEL ||
		    __builtin_mul_overflow(w->k[i] - 1, w->d[i], &ext) || ext >= OD_MAX_NUMEL)
			return ev_bad(e, "kernel, strides, dilations or pads too large");
	}
	const struct od_attr *ap = ev_attr(e, "auto_pad", OD_ATTR_STRING);
	w->autopad = EV_PAD_NOTSET;
	if (!ap || (ap->s.len == 6 && !memcmp(ap->s.data, "NOTSET", 6)))
		return 0;
	if (ap->s.len == 5 && !memcmp(ap->s.data, "VALID", 5))
		w->autopad = EV_PAD_VALID;
	else if (ap->s.len == 10 && !memcmp(ap->s.data, "SAME_UPPER", 10))
		w->autopad = EV_PAD_UPPER;
	else if (ap->s.len == 10 && !memcmp(ap->s.data, "SAME_LOWER", 10))
		w->autopad = EV_PAD_LOWER;
	else
		return ev_bad(e, "auto_pad '%.*s' unknown", (int)ap->s.len, (const char *)ap->s.data);
	return 0;
}

int ev_win_init(struct ev *e, struct ev_win *w, const struct od_tensor *x, bool ceil_mode)
{
	int rc = ev_win_read(e, w);
	if (rc)
		return rc;
	for (int i = 0; i < w->nd; i++) {
		int64_t in = x->dims[2 + i], ext = span(w, i);
		w->in[i] = in;
		if (w->autopad == EV_PAD_UPPER || w->autopad == EV_PAD_LOWER) {
			w->out[i] = (in + w->s[i] - 1) / w->s[i];
			int64_t total = (w->out[i] - 1) * w->s[i] + ext - in;
			total = total < 0 ? 0 : total;
			w->pb[i] = w->autopad == EV_PAD_UPPER ? total / 2 : total - total / 2;
			w->pe[i] = total - w->pb[i];
			continue;
		}
		if (w->autopad == EV_PAD_VALID)
			w->pb[i] = w->pe[i] = 0;
		int64_t room = in + w->pb[i] + w->pe[i] - ext;
		if (room < 0)
			return ev_bad(e, "kernel of %lld is larger than the padded input of %lld",
			              (long long)ext, (long long)(in + w->pb[i] + w->pe[i]));
		w->out[i] = (ceil_mode ? room + w->s[i] - 1 : room) / w->s[i] + 1;
		/* The last window must start inside the input or its leading pad. */
		if (ceil_mode && (w->out[i] - 1) * w->s[i] >= in + w->pb[i])
			w->out[i]--;
	}
	return 0;
}

/* Kernel shape from the attribute, else from the weights' trailing dims. */
static int kernel_shape(struct ev *e, struct ev_win *w, const struct od_tensor *wt)
{
	int nk, rc = ev_attr_ints(e, "kernel_shape", w->k, EV_WIN_MAX, &nk);
	if (rc)
		return rc;
	if (nk >= 0 && nk != w->nd)
		return ev_bad(e, "kernel_shape has %d dims, input has %d spatial dims", nk, w->nd);
	for (int i = 0; i < w->nd; i++)
		if (nk < 0 || wt->dims[2 + i] == w->k[i])
			w->k[i] = wt->dims[2 + i];
		else
			return ev_bad(e, "kernel_shape differs from the weights' shape");
	return 0;
}

static int64_t prod(int n, const int64_t *v)
{
	int64_t p = 1;
	for (int i = 0; i < n; i++)
		p *= v[i];
	return p;
}

/* Splits flat index i over dims (row-major) into idx. */
static void unflatten(int64_t i, int n, const int64_t *dims, int64_t *idx)
{
	for (int d = n - 1; d >= 0; d--) {
		idx[d] = i % dims[d];
		i /= dims[d];
	}
}

/* ---- im2col / col2im ------------------------------------------------------------------- */

void ev_win_taps(int64_t off, int64_t s, int64_t in, int64_t out, int64_t *j0, int64_t *j1)
{
	int64_t lo = off >= 0 ? 0 : (-off + s - 1) / s;
	int64_t hi = in - 1 - off < 0 ? 0 : (in - 1 - off) / s + 1;
	*j0 = lo < out ? lo : out;
	*j1 = hi < out ? hi : out;
	if (*j1 < *j0)
		*j1 = *j0;
}

/* Input offset of the row of output position oidx (all dims but the last) for kernel
 * position kidx; -1 when it falls into padding. */
static int64_t row_offset(const struct ev_win *w, const int64_t *oidx, const int64_t *kidx)
{
	int64_t off = 0;
	for (int i = 0; i < w->nd - 1; i++) {
		int64_t ix = oidx[i] * w->s[i] - w->pb[i] + kidx[i] * w->d[i];
		if (ix < 0 || ix >= w->in[i])
			return -1;
		off = off * w->in[i] + ix;
	}
	return off * w->in[w->nd - 1];
}

/* One row of columns, from the image row at (stride s), 0 outside [j0, j1). */
static void gather_row(float *dst, const float *at, int64_t s, int64_t j0, int64_t j1,
                       int64_t inner)
{
	memset(dst, 0, (size_t)j0 * sizeof *dst);
	if (s == 1)
		memcpy(dst + j0, at + j0, (size_t)(j1 - j0) * sizeof *dst);
	else
		for (int64_t j = j0; j < j1; j++)
			dst[j] = at[j * s];
	memset(dst + j1, 0, (size_t)(inner - j1) * sizeof *dst);
}

/* Walks the columns of an image: col[(c*K + kk) * P + p] stands for img[c, position p moved
 * by kernel offset kk]. im2col (back false) fills col from img, 0 in the pads; col2im (back
 * true) adds col into img, where w->in is the image's extent and w->out the columns'
 * (ConvTranspose swaps the roles). img is only read when back is false. */
static void im2col_walk(const struct ev_win *w, int64_t channels, float *img, float *col,
                        bool back)
{
	int nd = w->nd, last = nd - 1;
	int64_t K = prod(nd, w->k), P = prod(nd, w->out), IN = prod(nd, w->in);
	int64_t inner = w->out[last], outer = P / (inner ? inner : 1), s = w->s[last];
	int64_t kidx[EV_WIN_MAX], oidx[EV_WIN_MAX];
	for (int64_t c = 0; c < channels; c++)
		for (int64_t kk = 0; kk < K; kk++) {
			float *row = col + (c * K + kk) * P;
			unflatten(kk, nd, w->k, kidx);
			int64_t off = kidx[last] * w->d[last] - w->pb[last], j0, j1;
			ev_win_taps(off, s, w->in[last], inner, &j0, &j1);
			for (int64_t o = 0; o < outer; o++, row += inner) {
				unflatten(o, last, w->out, oidx);
				int64_t r = row_offset(w, oidx, kidx);
				float *at = r < 0 ? NULL : img + c * IN + r + off;
				if (!back && !at)
					memset(row, 0, (size_t)inner * sizeof *row);
				else if (!back)
					gather_row(row, at, s, j0, j1, inner);
				else if (at)
					for (int64_t j = j0; j < j1; j++)
						at[j * s] += row[j];
			}
		}
}

/* im2col_walk's columns for 2-D images (every torchvision conv), rows as a loop: no
 * index splitting per row, which cost as much as the copying. */
static void im2col_2d(const struct ev_win *w, int64_t channels, const float *x, float *col)
{
	const int64_t H = w->in[0], W = w->in[1], OH = w->out[0], OW = w->out[1];
	for (int64_t c = 0; c < channels; c++, x += H * W)
		for (int64_t kh = 0; kh < w->k[0]; kh++)
			for (int64_t kw = 0; kw < w->k[1]; kw++) {
				int64_t off = kw * w->d[1] - w->pb[1], j0, j1;
				ev_win_taps(off, w->s[1], W, OW, &j0, &j1);
				for (int64_t oh = 0; oh < OH; oh++, col += OW) {
					int64_t ih = oh * w->s[0] - w->pb[0] + kh * w->d[0];
					if (ih < 0 || ih >= H || j0 == j1) {
						memset(col, 0, (size_t)OW * sizeof *col);
						continue;
					}
					/* the row's first tap is x[ih * W + off + j0 * s], inside the image */
					const float *at = x + ih * W + off + j0 * w->s[1];
					memset(col, 0, (size_t)j0 * sizeof *col);
					if (w->s[1] == 1)
						memcpy(col + j0, at, (size_t)(j1 - j0) * sizeof *col);
					else
						for (int64_t j = 0; j < j1 - j0; j++)
							col[j0 + j] = at[j * w->s[1]];
					memset(col + j1, 0, (size_t)(OW - j1) * sizeof *col);
				}
			}
}

struct im2col_job {
	const struct ev_win *w;
	const float *x;
	float *col;
};

/* channels lo..hi: their rows of the column matrix are theirs alone */
static int im2col_channels(void *ctx, int64_t lo, int64_t hi)
{
	const struct im2col_job *j = ctx;
	const struct ev_win *w = j->w;
	int64_t plane = w->in[0] * w->in[1], rows = w->k[0] * w->k[1] * w->out[0] * w->out[1];
	im2col_2d(w, hi - lo, j->x + lo * plane, j->col + lo * rows);
	return 0;
}

static void im2col(const struct ev_win *w, int64_t channels, const float *x, float *col)
{
	if (w->nd == 2) {
		struct im2col_job j = { w, x, col };
		int64_t per = w->k[0] * w->k[1] * w->out[0] * w->out[1];
		ev_par_range(channels, EV_PAR_GRAIN / (per ? per : 1) + 1, im2col_channels, &j);
	} else
		im2col_walk(w, channels, (float *)x, col, false);   /* x is only read */
}

static void col2im(const struct ev_win *w, int64_t channels, const float *col, float *y)
{
	im2col_walk(w, channels, y, (float *)col, true);    /* col is only read */
}

/* ---- Conv ------------------------------------------------------------------------------ */

struct conv {
	struct ev_win w;
	int64_t n, c, m, group, cg, mg, K, P, IN;
};

static int conv_shapes(struct ev *e, struct conv *cv, const struct od_tensor *x,
                       const struct od_tensor *wt, const struct od_tensor *b, bool transpose)
{
	if (x->ndims < 3 || x->ndims - 2 > EV_WIN_MAX || wt->ndims != x->ndims)
		return ev_bad(e, "X and W must have the same rank, 3 to %d", EV_WIN_MAX + 2);
	cv->w.nd = x->ndims - 2;
	cv->group = ev_attr_i(e, "group", 1);
	cv->n = x->dims[0], cv->c = x->dims[1];
	if (cv->group < 1 || cv->c % cv->group)
		return ev_bad(e, "group %lld does not divide %lld channels", (long long)cv->group,
		              (long long)cv->c);
	cv->cg = cv->c / cv->group;
	if (transpose) {
		cv->mg = wt->dims[1], cv->m = cv->mg * cv->group;
		if (wt->dims[0] != cv->c)
			return ev_bad(e, "W has %lld input channels, X has %lld", (long long)wt->dims[0],
			              (long long)cv->c);
	} else {
		cv->m = wt->dims[0];
		if (cv->m % cv->group || wt->dims[1] != cv->cg)
			return ev_bad(e, "W of shape [%lld,%lld,...] does not fit %lld channels in %lld groups",
			              (long long)wt->dims[0], (long long)wt->dims[1], (long long)cv->c,
			              (long long)cv->group);
		cv->mg = cv->m / cv->group;
	}
	if (b && (b->ndims != 1 || b->dims[0] != cv->m))
		return ev_bad(e, "B must have %lld entries", (long long)cv->m);
	return kernel_shape(e, &cv->w, wt);
}

int ev_conv_window(struct ev *e, const struct od_tensor *x, const struct od_tensor *wt,
                   struct ev_win *w, int64_t *group)
{
	struct conv cv = { 0 };
	int rc = conv_shapes(e, &cv, x, wt, NULL, false);
	if (rc || (rc = ev_win_init(e, &cv.w, x, false)))
		return rc;
	*w = cv.w;
	*group = cv.group;
	return 0;
}

struct bias_job {
	float *y;
	const float *b;
	int64_t m, p;
};

/* planes lo..hi of y (image i / m, channel i % m) get their channel's bias */
static EV_CLONES int bias_planes(void *ctx, int64_t lo, int64_t hi)
{
	const struct bias_job *j = ctx;
	for (int64_t i = lo; i < hi; i++) {
		const float b = j->b[i % j->m];
		for (int64_t k = 0; k < j->p; k++)
			j->y[i * j->p + k] += b;
	}
	return 0;
}

static void add_bias(float *y, const float *b, int64_t n, int64_t m, int64_t p)
{
	struct bias_job j = { y, b, m, p };
	ev_par_range(n * m, EV_PAR_GRAIN / (p ? p : 1) + 1, bias_planes, &j);
}

static bool pointwise(const struct ev_win *w)
{
	for (int i = 0; i < w->nd; i++)
		if (w->k[i] != 1 || w->s[i] != 1 || w->pb[i] || w->pe[i])
			return false;
	return true;
}

/* Depthwise 2-D convolutions with a channel multiplier (one input channel per group, several
 * output channels; depthwise_last below takes those with one): each output
 * plane is a sum of shifted input rows times one weight each, accumulated row by row,
 * instead of an im2col matrix of one row and a product one row tall per group
 * (mobilenet_v2 14.6 -> 12 ms, mobilenet_v3_small 8.4 -> 6.2 ms on one thread). Each input row is visited
 * once and added into the output rows whose windows hold it, in the order of the window's
 * taps; with a stride, the row is first split into its stride phases, so that every
 * accumulation reads consecutive floats and vectorizes. */
struct depthwise {
	const struct conv *cv;
	const float *x, *wt;
	float *y;
};

/* y[0..n) += c * src[0..n) */
static void axpy_row(float *y, float c, const float *src, int64_t n)
{
	for (int64_t j = 0; j < n; j++)
		y[j] += c * src[j];
}

static EV_CLONES int depthwise_planes(void *ctx, int64_t lo, int64_t hi)
{
	const struct depthwise *j = ctx;
	const struct conv *cv = j->cv;
	const struct ev_win *w = &cv->w;
	const int64_t H = w->in[0], W = w->in[1], OH = w->out[0], OW = w->out[1];
	const int64_t KH = w->k[0], KW = w->k[1], sh = w->s[0], s = w->s[1];
	const int64_t plen = W / s + 1;         /* phase r holds row[r + s * t], t < plen */
	float *phases = s > 1 ? od_malloc((size_t)(s * plen) * sizeof *phases) : NULL;
	/* per tap kw, the same for every row: the first column it reaches, how many, and where
	 * they start in the row (s == 1) or in the phases */
	int64_t *tap = od_malloc((size_t)(3 * KW + 1) * sizeof *tap);
	if ((s > 1 && !phases) || !tap) {
		od_free(phases);
		od_free(tap);
		return OD_ENOMEM;
	}
	for (int64_t kw = 0; kw < KW; kw++) {
		/* yr[jj] takes row[off + jj * s] for the jj whose tap is inside */
		int64_t off = kw * w->d[1] - w->pb[1], j0, j1;
		ev_win_taps(off, s, W, OW, &j0, &j1);
		int64_t first = off + j0 * s;   /* = r + s * q: phase r, from q */
		tap[3 * kw] = j0;
		tap[3 * kw + 1] = j1 - j0;
		tap[3 * kw + 2] = s == 1 ? first : first % s * plen + first / s;
	}
	const float *from = NULL;
	for (int64_t p = lo; p < hi; p++) {     /* output plane p: image p / m, channel p % m */
		int64_t o = p % cv->m, g = o / cv->mg;
		const float *x = j->x + (p / cv->m * cv->c + g) * H * W, *k = j->wt + o * KH * KW;
		float *y = j->y + p * OH * OW;
		memset(y, 0, (size_t)(OH * OW) * sizeof *y);
		for (int64_t ih = 0; ih < H; ih++) {
			const float *row = x + ih * W;
			for (int64_t r = 0; r < s && s > 1; r++)
				for (int64_t t = 0, i = r; i < W; t++, i += s)
					phases[r * plen + t] = row[i];
			from = s == 1 ? row : phases;
			for (int64_t kh = 0; kh < KH; kh++) {
				/* the output row whose tap kh is input row ih */
				int64_t t = ih + w->pb[0] - kh * w->d[0];
				if (t < 0 || t % sh || t / sh >= OH)
					continue;
				float *yr = y + t / sh * OW;
				for (int64_t kw = 0; kw < KW; kw++)
					if (tap[3 * kw + 1])
						axpy_row(yr + tap[3 * kw], k[kh * KW + kw], from + tap[3 * kw + 2],
						         tap[3 * kw + 1]);
			}
		}
	}
	od_free(phases);
	od_free(tap);
	return 0;
}

/* Depthwise convolutions with one output channel per input channel (most of MobileNet's):
 * channels last. The image is transposed to [H*W, C], each output pixel accumulates its
 * window's taps over all channels at once (consecutive floats: vectors of 8 or 16 whatever
 * the plane's width, where rows of 7 or 14 left most of each vector empty), and the result
 * is transposed back. Every output element sums the same products in the same order as
 * the row kernel above (taps by kernel row, then column, from zero): the same bits. */
struct dw_last {
	const struct conv *cv;
	const float *x, *wt;
	float *y, *xt, *yt, *kt;        /* xt [H*W, C], yt [OH*OW, C], kt [KH*KW, C] */
};

/* Rows lo..hi of dst, the transpose of src ([rows, cols]): dst[j * rows + i] =
 * src[i * cols + j] for j in lo..hi, in tiles that stay in cache. Threads split dst's rows,
 * so none writes a cache line another writes. */
static void transpose(float *dst, const float *src, int64_t rows, int64_t cols, int64_t lo,
                      int64_t hi)
{
	enum { T = 32 };
	for (int64_t j0 = lo; j0 < hi; j0 += T)
		for (int64_t i0 = 0; i0 < rows; i0 += T) {
			int64_t j1 = j0 + T < hi ? j0 + T : hi, i1 = i0 + T < rows ? i0 + T : rows;
			for (int64_t j = j0; j < j1; j++)
				for (int64_t i = i0; i < i1; i++)
					dst[j * rows + i] = src[i * cols + j];
		}
}

static int dw_to_last(void *ctx, int64_t lo, int64_t hi)       /* pixels lo..hi */
{
	const struct dw_last *j = ctx;
	transpose(j->xt, j->x, j->cv->c, j->cv->IN, lo, hi);
	return 0;
}

static int dw_to_first(void *ctx, int64_t lo, int64_t hi)      /* channels lo..hi */
{
	const struct dw_last *j = ctx;
	transpose(j->y, j->yt, j->cv->P, j->cv->m, lo, hi);
	return 0;
}

/* Output rows lo..hi. */
static EV_CLONES int dw_rows(void *ctx, int64_t lo, int64_t hi)
{
	const struct dw_last *j = ctx;
	const struct ev_win *w = &j->cv->w;
	const int64_t C = j->cv->c, H = w->in[0], W = w->in[1], OW = w->out[1];
	for (int64_t oh = lo; oh < hi; oh++)
		for (int64_t ow = 0; ow < OW; ow++) {
			float *acc = j->yt + (oh * OW + ow) * C;
			for (int64_t c = 0; c < C; c++)
				acc[c] = 0;
			for (int64_t kh = 0; kh < w->k[0]; kh++) {
				int64_t ih = oh * w->s[0] - w->pb[0] + kh * w->d[0];
				if (ih < 0 || ih >= H)
					continue;
				for (int64_t kw = 0; kw < w->k[1]; kw++) {
					int64_t iw = ow * w->s[1] - w->pb[1] + kw * w->d[1];
					if (iw < 0 || iw >= W)
						continue;
					const float *k = j->kt + (kh * w->k[1] + kw) * C, *x = j->xt + (ih * W + iw) * C;
					for (int64_t c = 0; c < C; c++)
						acc[c] += k[c] * x[c];
				}
			}
		}
	return 0;
}

static int depthwise_last(const struct conv *cv, const float *x, const float *wt, float *y)
{
	const int64_t C = cv->c, OH = cv->w.out[0];
	struct dw_last j = { cv, NULL, wt, NULL, od_malloc((size_t)(cv->IN * C) * sizeof(float)),
	                     od_malloc((size_t)(cv->P * C) * sizeof(float)),
	                     od_malloc((size_t)(cv->K * C) * sizeof(float)) };
	int rc = j.xt && j.yt && j.kt ? 0 : OD_ENOMEM;
	if (!rc)
		transpose(j.kt, wt, C, cv->K, 0, cv->K);
	for (int64_t n = 0; !rc && n < cv->n; n++) {
		j.x = x + n * C * cv->IN;
		j.y = y + n * C * cv->P;
		int64_t row = cv->w.out[1] * cv->K * C;
		if (!(rc = ev_par_range(cv->IN, EV_PAR_GRAIN / (C ? C : 1) + 1, dw_to_last, &j)) &&
		    !(rc = ev_par_range(OH, EV_PAR_GRAIN / (row ? row : 1) + 1, dw_rows, &j)))
			rc = ev_par_range(C, EV_PAR_GRAIN / (cv->P ? cv->P : 1) + 1, dw_to_first, &j);
	}
	od_free(j.xt);
	od_free(j.yt);
	od_free(j.kt);
	return rc;
}

static int conv_run(struct conv *cv, const float *x, const float *wt, float *y)
{
	if (cv->w.nd == 2 && cv->cg == 1 && cv->mg == 1 && cv->group > 1)
		return depthwise_last(cv, x, wt, y);
	if (cv->w.nd == 2 && cv->cg == 1 && cv->group > 1) {
		struct depthwise j = { cv, x, wt, y };
		int64_t plane = cv->w.out[0] * cv->w.out[1] * cv->K;
		return ev_par_range(cv->n * cv->m, EV_PAR_GRAIN / (plane ? plane : 1) + 1,
		                    depthwise_planes, &j);
	}
	bool direct = pointwise(&cv->w);
	float *col = direct ? NULL : od_malloc((size_t)(cv->cg * cv->K * cv->P) * sizeof *col);
	if (!direct && !col)
		return OD_ENOMEM;
	for (int64_t n = 0; n < cv->n; n++)
		for (int64_t g = 0; g < cv->group; g++) {
			const float *xg = x + (n * cv->c + g * cv->cg) * cv->IN;
			if (!direct)
				im2col(&cv->w, cv->cg, xg, col);
			ev_sgemm(false, false, (int)cv->mg, (int)cv->P, (int)(cv->cg * cv->K), 1.0f,
			         wt + g * cv->mg * cv->cg * cv->K, (int)(cv->cg * cv->K),
			         direct ? xg : col, (int)cv->P, 0.0f,
			         y + (n * cv->m + g * cv->mg) * cv->P, (int)cv->P);
		}
	od_free(col);
	return 0;
}

/* Runs fn on float32 views of X, W, B and Y, converting other float dtypes. */
static int with_f32(struct ev *e, struct conv *cv, struct od_tensor *y,
                    int (*fn)(struct conv *, const float *, const float *, float *))
{
	const struct od_tensor *b = e->nin > 2 ? e->in[2] : NULL;
	bool ox, ow, ob = false;
	float *fx = ev_f32_in(e->in[0], &ox), *fw = ev_f32_in(e->in[1], &ow);
	float *fb = b ? ev_f32_in(b, &ob) : NULL, *fy = ev_f32_out(y);
	int rc = OD_ENOMEM;
	if (fx && fw && fy && (!b || fb) && y->numel)
		rc = fn(cv, fx, fw, fy);
	else if (fx && fw && fy && (!b || fb))
		rc = 0;
	if (!rc && fb)
		add_bias(fy, fb, cv->n, cv->m, cv->P);
	ev_f32_free(fx, ox);
	ev_f32_free(fw, ow);
	ev_f32_free(fb, ob);
	ev_f32_done(y, fy);
	return rc ? ev_err(e, rc, "out of memory") : 0;
}

static int same_dtypes(struct ev *e)
{
	for (size_t i = 1; i < e->nin; i++)
		if (e->in[i] && e->in[i]->dtype != e->in[0]->dtype)
			return ev_bad(e, "input %zu is %s, X is %s", i, od_dtype_name(e->in[i]->dtype),
			              od_dtype_name(e->in[0]->dtype));
	return 0;
}

/* ---- ConvTranspose ---------------------------------------------------------------------- */

/* Output sizes and pads of ConvTranspose; cv->w.in is X's extent here, w->out Y's. */
static int convt_geometry(struct ev *e, struct conv *cv, const struct od_tensor *x)
{
	struct ev_win *w = &cv->w;
	int64_t op[EV_WIN_MAX], os[2 + EV_WIN_MAX];
	int nop, nos, rc = ev_win_read(e, w);
	if (rc || (rc = ev_attr_ints(e, "output_padding", op, EV_WIN_MAX, &nop)) ||
	    (rc = ev_attr_ints(e, "output_shape", os, 2 + EV_WIN_MAX, &nos)))
		return rc;
	if ((nop >= 0 && nop != w->nd) || (nos >= 0 && nos != w->nd && nos != w->nd + 2))
		return ev_bad(e, "output_padding or output_shape do not match %d spatial dims", w->nd);
	for (int i = 0; i < w->nd; i++) {
		int64_t in = x->dims[2 + i], pad = nop < 0 ? 0 : op[i], full;
		/* sizes from the file: checked, as ev_win_read checks the window's */
		if (pad < 0 || pad > OD_MAX_NUMEL || (nos >= 0 && (os[nos - w->nd + i] < 0 ||
		                                                   os[nos - w->nd + i] > OD_MAX_NUMEL)) ||
		    __builtin_mul_overflow(w->s[i], in - 1, &full) ||
		    __builtin_add_overflow(full, pad + span(w, i), &full) || full > OD_MAX_NUMEL)
			return ev_bad(e, "output_padding, output_shape or the output too large");
		w->in[i] = in;
		if (nos >= 0 || w->autopad == EV_PAD_UPPER || w->autopad == EV_PAD_LOWER) {
			/* A negative total (an output_shape beyond what the input reaches) pads
			 * the end with zeros, as the reference's floor division does. */
			int64_t out = nos >= 0 ? os[nos - w->nd + i] : 0;
			if (nos < 0 && (__builtin_mul_overflow(in, w->s[i], &out) || out > OD_MAX_NUMEL))
				return ev_bad(e, "output too large");
			int64_t total = full - out, half = total >= 0 ? total / 2 : -((-total + 1) / 2);
			w->pb[i] = w->autopad == EV_PAD_UPPER ? half : total - half;
			w->pe[i] = total - w->pb[i];
		} else if (w->autopad == EV_PAD_VALID) {
			w->pb[i] = w->pe[i] = 0;
		}
		w->out[i] = full - w->pb[i] - w->pe[i];
		if (w->out[i] < 0)
			return ev_bad(e, "pads larger than the output");
	}
	return 0;
}

static int convt_run(struct conv *cv, const float *x, const float *wt, float *y)
{
	/* col2im wants the image extent in w.in and the column extent in w.out. */
	struct ev_win w = cv->w;
	memcpy(w.in, cv->w.out, sizeof w.in);
	memcpy(w.out, cv->w.in, sizeof w.out);
	int64_t pin = cv->IN, pout = cv->P, rows = cv->mg * cv->K;
	float *col = od_malloc((size_t)(rows * pin) * sizeof *col);
	if (!col)
		return OD_ENOMEM;
	memset(y, 0, (size_t)(cv->n * cv->m * pout) * sizeof *y);
	for (int64_t n = 0; n < cv->n; n++)
		for (int64_t g = 0; g < cv->group; g++) {
			ev_sgemm(true, false, (int)rows, (int)pin, (int)cv->cg, 1.0f,
			         wt + g * cv->cg * rows, (int)rows, x + (n * cv->c + g * cv->cg) * pin,
			         (int)pin, 0.0f, col, (int)pin);
			col2im(&w, cv->mg, col, y + (n * cv->m + g * cv->mg) * pout);
		}
	od_free(col);
	return 0;
}

/* ---- the kernels ----------------------------------------------------------------------- */

/* Conv and ConvTranspose: checks, geometry, output, then fn on float32 views. */
static int convolve(struct ev *e, bool transpose,
                    int (*fn)(struct conv *, const float *, const float *, float *))
{
	const struct od_tensor *x = e->in[0], *wt = e->in[1];
	const struct od_tensor *b = e->nin > 2 ? e->in[2] : NULL;
	struct conv cv = { 0 };
	struct od_tensor *y;
	int64_t dims[2 + EV_WIN_MAX];
	int rc;
	if ((rc = same_dtypes(e)) || (rc = conv_shapes(e, &cv, x, wt, b, transpose)) ||
	    (rc = transpose ? convt_geometry(e, &cv, x) : ev_win_init(e, &cv.w, x, false)))
		return rc;
	dims[0] = cv.n, dims[1] = cv.m;
	memcpy(dims + 2, cv.w.out, (size_t)cv.w.nd * sizeof *dims);
	cv.K = prod(cv.w.nd, cv.w.k), cv.P = prod(cv.w.nd, cv.w.out), cv.IN = prod(cv.w.nd, cv.w.in);
	/* BLAS takes int sizes: the column matrix's rows and columns must fit. */
	if ((transpose ? cv.mg : cv.cg) * cv.K > INT32_MAX || cv.P > INT32_MAX || cv.IN > INT32_MAX)
		return ev_err(e, OD_ELIMIT, "convolution too large");
	/* Conv writes every element (products with beta 0, depthwise planes cleared first);
	 * ConvTranspose adds into its output */
	if ((rc = (transpose || !cv.cg || !cv.K ? ev_new : ev_new_whole)(e, 0, x->dtype, x->ndims, dims, &y)))
		return rc;
	return with_f32(e, &cv, y, fn);
}

int ev_k_conv(struct ev *e) { return convolve(e, false, conv_run); }

int ev_k_convtranspose(struct ev *e) { return convolve(e, true, convt_run); }

/* ---- Col2Im ----------------------------------------------------------------------------- */

/* Col2Im's image (image_shape) in w->in, its block (block_shape) in w->k, the attributes,
 * and how many positions a block takes along each dim in w->out. */
static int fold_geometry(struct ev *e, struct ev_win *w)
{
	int ni, nb, rc;
	if ((rc = ev_read_ints(e, 1, w->in, EV_WIN_MAX, &ni)) ||
	    (rc = ev_read_ints(e, 2, w->k, EV_WIN_MAX, &nb)))
		return rc;
	if (ni < 1 || nb != ni)
		return ev_bad(e, "image_shape and block_shape must have one length, 1 to %d",
		              EV_WIN_MAX);
	w->nd = ni;
	if (ev_numel(ni, w->in) < 0)
		return ev_bad(e, "image_shape holds a negative or too large size");
	if ((rc = ev_win_read(e, w)))
		return rc;
	for (int i = 0; i < ni; i++) {
		int64_t padded = w->in[i] + w->pb[i] + w->pe[i], room = padded - span(w, i);
		if (room < 0)
			return ev_bad(e, "a block of %lld does not fit the padded image of %lld",
			              (long long)span(w, i), (long long)padded);
		w->out[i] = room / w->s[i] + 1;
	}
	return 0;
}

union fold_sum {
	double f;               /* floats */
	uint64_t u;             /* integers, wrapping */
};

/* Adds the K rows of L columns of x from element base into the image plane sum. */
static void fold_plane(const struct ev_win *w, const struct od_tensor *x, int64_t base,
                       int64_t K, int64_t L, union fold_sum *sum)
{
	bool flt = ev_class(x->dtype) == EV_CF;
	int64_t kidx[EV_WIN_MAX], oidx[EV_WIN_MAX];
	for (int64_t kk = 0; kk < K; kk++) {
		unflatten(kk, w->nd, w->k, kidx);
		for (int64_t p = 0; p < L; p++) {
			int64_t off = 0, i = base + kk * L + p;
			unflatten(p, w->nd, w->out, oidx);
			for (int d = 0; d < w->nd && off >= 0; d++) {
				int64_t at = oidx[d] * w->s[d] - w->pb[d] + kidx[d] * w->d[d];
				off = at >= 0 && at < w->in[d] ? off * w->in[d] + at : -1;
			}
			if (off >= 0 && flt)
				sum[off].f += ev_getf(x, i);
			else if (off >= 0)
				sum[off].u += ev_getu(x, i);
		}
	}
}

/* Col2Im (torch.nn.Fold): input [N, C * K, L] holds, for each channel and each of the K
 * offsets inside a block, the values at the L positions the block takes in the padded image
 * (row-major); each value is added into the image at that position plus the offset times
 * the dilation, unless it falls into the pads. Floats sum in double and round once;
 * integers wrap to their dtype, as numpy's += does. */
int ev_k_col2im(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	struct ev_win w = { 0 };
	struct od_tensor *y;
	int64_t dims[2 + EV_WIN_MAX];
	int rc = fold_geometry(e, &w);
	if (rc)
		return rc;
	int64_t K = ev_numel(w.nd, w.k), L = ev_numel(w.nd, w.out), IN = prod(w.nd, w.in);
	if (K < 0 || L < 0)
		return ev_bad(e, "too many blocks or too large a block");
	if (x->ndims != 3 || x->dims[1] % K || x->dims[2] != L)
		return ev_bad(e, "input must be [N, C * %lld, %lld] for these blocks", (long long)K,
		              (long long)L);
	dims[0] = x->dims[0], dims[1] = x->dims[1] / K;
	memcpy(dims + 2, w.in, (size_t)w.nd * sizeof *dims);
	if ((rc = ev_new_whole(e, 0, x->dtype, 2 + w.nd, dims, &y)) || !y->numel)
		return rc;
	union fold_sum *sum = od_malloc((size_t)IN * sizeof *sum);
	if (!sum)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t c = 0; c < dims[0] * dims[1]; c++) {
		memset(sum, 0, (size_t)IN * sizeof *sum);
		fold_plane(&w, x, c * K * L, K, L, sum);
		for (int64_t i = 0; i < IN; i++)
			if (ev_class(x->dtype) == EV_CF)
				ev_setf(y, c * IN + i, sum[i].f);
			else
				ev_setu(y, c * IN + i, sum[i].u);
	}
	od_free(sum);
	return 0;
}
