/*
 * eval_dft.c — DFT (opsets 17 and 20) and STFT (17) through FFTW, in double as numpy's fft
 * computes the reference: a real ([..., 1]) or complex ([..., 2]) signal along one axis,
 * cropped or padded with zeros to dft_length, forward (onesided keeps the n / 2 + 1 first
 * frequencies), inverse (divided by n), or inverse onesided (a half spectrum to n real
 * values, as numpy's irfft). STFT cuts [batch, length, 1 or 2] into frames of frame_length
 * every frame_step samples, weights them by the window and transforms each.
 */
#include "config.h"
#include <complex.h>     /* before fftw3.h: fftw_complex is then double complex */
#include <pthread.h>
#include <fftw3.h>
#include "eval_internal.h"

/* FFTW's planner is not thread-safe (fftw_execute is): two models run at once on two
 * threads plan one at a time. */
static pthread_mutex_t planner = PTHREAD_MUTEX_INITIALIZER;

/* One transform of length n, reused for every line of a call. */
struct line {
	int64_t n;
	fftw_complex *in, *out;
	fftw_plan plan;
};

static int line_init(struct ev *e, struct line *l, int64_t n, bool backward)
{
	if (n < 1 || n > INT32_MAX)
		return ev_bad(e, "a transform of %lld points (dft_length or frame_length) is not from 1 to %d",
		              (long long)n, INT32_MAX);
	l->n = n;
	l->in = fftw_malloc((size_t)n * sizeof *l->in);
	l->out = fftw_malloc((size_t)n * sizeof *l->out);
	l->plan = NULL;
	if (l->in && l->out) {
		pthread_mutex_lock(&planner);
		l->plan = fftw_plan_dft_1d((int)n, l->in, l->out, backward ? FFTW_BACKWARD : FFTW_FORWARD,
		                           FFTW_ESTIMATE);
		pthread_mutex_unlock(&planner);
	}
	return l->plan ? 0 : ev_err(e, OD_ENOMEM, "out of memory for a transform of %lld", (long long)n);
}

static void line_done(struct line *l)
{
	if (l->plan) {
		pthread_mutex_lock(&planner);
		fftw_destroy_plan(l->plan);
		pthread_mutex_unlock(&planner);
	}
	fftw_free(l->in);
	fftw_free(l->out);
}

/* ---- DFT -------------------------------------------------------------------------------- */

/* x as [outer, len, inner, c]: the transform runs along len for each (outer, inner). */
struct dft {
	int64_t outer, len, inner, c;   /* c: 1 real, 2 complex */
	int64_t n, bins;                /* transform length, outputs kept along the axis */
	bool inverse, onesided;
};

/* Line (o, i): input element k of the transform (complex), zero past the input. */
static double complex dft_in(const struct od_tensor *x, const struct dft *d, int64_t o, int64_t i,
                             int64_t k)
{
	if (k >= d->len)
		return 0;
	int64_t at = ((o * d->len + k) * d->inner + i) * d->c;
	return ev_getf(x, at) + (d->c == 2 ? ev_getf(x, at + 1) * I : 0);
}

static void dft_run(const struct od_tensor *x, struct od_tensor *y, const struct dft *d,
                    struct line *l)
{
	const int64_t oc = d->inverse && d->onesided ? 1 : 2, half = d->n / 2 + 1;
	for (int64_t o = 0; o < d->outer; o++)
		for (int64_t i = 0; i < d->inner; i++) {
			for (int64_t k = 0; k < d->n; k++) {
				double complex v;
				if (d->inverse && d->onesided)  /* the half spectrum, Hermitian */
					v = k < half ? dft_in(x, d, o, i, k) : conj(dft_in(x, d, o, i, d->n - k));
				else
					v = dft_in(x, d, o, i, k);
				l->in[k] = v;
			}
			fftw_execute(l->plan);
			for (int64_t k = 0; k < d->bins; k++) {
				double scale = d->inverse ? 1.0 / (double)d->n : 1.0;
				int64_t at = ((o * d->bins + k) * d->inner + i) * oc;
				ev_setf(y, at, creal(l->out[k]) * scale);
				if (oc == 2)
					ev_setf(y, at + 1, cimag(l->out[k]) * scale);
			}
		}
}

static int dft(struct ev *e, int64_t axis)
{
	const struct od_tensor *x = e->in[0];
	struct dft d = { .inverse = ev_attr_i(e, "inverse", 0) != 0,
	                 .onesided = ev_attr_i(e, "onesided", 0) != 0 };
	int rc;
	if (x->ndims < 2 || (x->dims[x->ndims - 1] != 1 && x->dims[x->ndims - 1] != 2))
		return ev_bad(e, "input must end in a dim of 1 (real) or 2 (complex)");
	if ((rc = ev_axis(e, &axis, x->ndims)))
		return rc;
	if (axis == x->ndims - 1)
		return ev_bad(e, "axis %lld is the real/imaginary dim", (long long)axis);
	d.c = x->dims[x->ndims - 1];
	d.len = x->dims[axis];
	d.outer = ev_numel((int)axis, x->dims);
	d.inner = ev_numel(x->ndims - (int)axis - 2, x->dims + axis + 1);
	if (e->nin > 1 && e->in[1]) {
		if (e->in[1]->numel != 1 || ev_class(e->in[1]->dtype) != EV_CS)
			return ev_bad(e, "dft_length must be one integer");
		d.n = ev_geti(e->in[1], 0);
	} else
		d.n = d.inverse && d.onesided ? 2 * (d.len - 1) : d.len;
	d.bins = !d.inverse && d.onesided ? d.n / 2 + 1 : d.n;
	int64_t dims[OD_MAX_RANK];
	memcpy(dims, x->dims, (size_t)x->ndims * sizeof *dims);
	dims[axis] = d.bins;
	dims[x->ndims - 1] = d.inverse && d.onesided ? 1 : 2;
	struct od_tensor *y;
	struct line l = { 0 };
	if ((rc = line_init(e, &l, d.n, d.inverse)) ||
	    (rc = ev_new_whole(e, 0, x->dtype, x->ndims, dims, &y))) {
		line_done(&l);
		return rc;
	}
	dft_run(x, y, &d, &l);
	line_done(&l);
	return 0;
}

int ev_k_dft17(struct ev *e)
{
	return dft(e, ev_attr_i(e, "axis", 1));
}

int ev_k_dft(struct ev *e)
{
	const struct od_tensor *a = e->nin > 2 ? e->in[2] : NULL;
	if (a && (a->numel != 1 || ev_class(a->dtype) != EV_CS))
		return ev_bad(e, "axis must be one integer");
	return dft(e, a ? ev_geti(a, 0) : -2);
}

/* ---- STFT ------------------------------------------------------------------------------- */

static int scalar_int(struct ev *e, size_t i, const char *what, int64_t *v)
{
	const struct od_tensor *t = e->in[i];
	if (t->numel != 1 || ev_class(t->dtype) != EV_CS)
		return ev_bad(e, "%s must be one integer", what);
	*v = ev_geti(t, 0);
	return 0;
}

/* A sample times its window weight, rounded as the reference does it: in the signal's
 * dtype (float32 unless double), before the transform in double. */
static double weigh(const struct od_tensor *x, int64_t at, double wt)
{
	double v = ev_getf(x, at) * wt;
	return x->dtype == OD_DOUBLE ? v : (double)(float)v;
}

int ev_k_stft(struct ev *e)
{
	const struct od_tensor *x = e->in[0], *w = e->nin > 2 ? e->in[2] : NULL;
	int64_t step, fl, batch, len, c;
	bool onesided = ev_attr_i(e, "onesided", 1) != 0;
	int rc = scalar_int(e, 1, "frame_step", &step);
	if (rc)
		return rc;
	if (x->ndims != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
		return ev_bad(e, "signal must be [batch, length, 1 or 2]");
	batch = x->dims[0], len = x->dims[1], c = x->dims[2];
	if (w && w->ndims != 1)
		return ev_bad(e, "window must have rank 1");
	if (e->nin > 3 && e->in[3]) {
		if ((rc = scalar_int(e, 3, "frame_length", &fl)))
			return rc;
		if (w && w->dims[0] != fl)
			return ev_bad(e, "window of %lld for frames of %lld", (long long)w->dims[0],
			              (long long)fl);
	} else
		fl = w ? w->dims[0] : len;
	if (step < 1 || fl < 1 || fl > len)
		return ev_bad(e, "frames of %lld every %lld do not fit a signal of %lld", (long long)fl,
		              (long long)step, (long long)len);
	const int64_t frames = 1 + (len - fl) / step, bins = onesided ? fl / 2 + 1 : fl;
	struct od_tensor *y;
	struct line l = { 0 };
	if ((rc = line_init(e, &l, fl, false)) ||
	    (rc = ev_new_whole(e, 0, x->dtype, 4, (const int64_t[]){ batch, frames, bins, 2 }, &y))) {
		line_done(&l);
		return rc;
	}
	for (int64_t b = 0; b < batch; b++)
		for (int64_t f = 0; f < frames; f++) {
			for (int64_t t = 0; t < fl; t++) {
				int64_t at = (b * len + f * step + t) * c;
				double wt = w ? ev_getf(w, t) : 1;
				l.in[t] = weigh(x, at, wt) + (c == 2 ? weigh(x, at + 1, wt) : 0) * I;
			}
			fftw_execute(l.plan);
			for (int64_t k = 0; k < bins; k++) {
				ev_setf(y, ((b * frames + f) * bins + k) * 2, creal(l.out[k]));
				ev_setf(y, ((b * frames + f) * bins + k) * 2 + 1, cimag(l.out[k]));
			}
		}
	line_done(&l);
	return 0;
}
