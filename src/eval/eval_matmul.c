/*
 * eval_matmul.c — matrix products through the system's BLAS: MatMul (batched, numpy
 * broadcasting of the batch dims, 1-D operands promoted and squeezed as numpy does) and
 * Gemm. float32 goes straight to cblas_sgemm on the payloads; float16 and bfloat16 are
 * widened to float32 and rounded once on the way out; double uses cblas_dgemm; integer
 * MatMul is exact (64-bit accumulation wrapping to the dtype, as numpy's integer matmul).
 * Det, by LU decomposition. Also the float32 buffer helpers the Conv and pool kernels share,
 * and MatMul's shapes, which the integer products of eval_qlinear.c share.
 */
#include "config.h"
#include <string.h>
#include <cblas.h>
#include "eval_internal.h"

/* ---- float32 views -------------------------------------------------------------------- */

/* The files behind the payloads of the model being run (od_eval_set_sources), on the
 * thread that runs it. */
static _Thread_local const struct od_source *sources;
static _Thread_local size_t n_sources;

void od_eval_set_sources(const struct od_source *v, size_t n)
{
	sources = v;
	n_sources = n;
}

struct copy_job {
	float *dst;
	const unsigned char *src;
	int fd;                 /* >= 0: read the bytes from the file at off */
	off_t off;
};

static int copy_part(void *ctx, int64_t lo, int64_t hi)
{
	const struct copy_job *j = ctx;
	size_t at = (size_t)lo * sizeof(float), len = (size_t)(hi - lo) * sizeof(float);
	size_t got = j->fd >= 0 ? od_pread_full(j->fd, (char *)j->dst + at, len, j->off + (off_t)at) : 0;
	/* the rest (the file shrank: the mapping faults the same way) from the mapping */
	memcpy((char *)j->dst + at + got, j->src + at + got, len - got);
	return 0;
}

/* Aligned copies kept between runs, found by payload address (open addressing). */
struct od_run_cache {
	const void *owner;      /* the model whose payloads the keys point into */
	size_t cap, n;          /* cap is 0 or a power of two */
	struct kept { const void *key; size_t nbytes; float *v; } *e;
};

static _Thread_local struct od_run_cache *cache;

struct od_run_cache *od_eval_cache_new(void)
{
	return od_calloc(1, sizeof(struct od_run_cache));
}

void od_eval_cache_free(struct od_run_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		od_free(c->e[i].v);
	od_free(c->e);
	od_free(c);
}

void od_eval_set_cache(struct od_run_cache *c)
{
	cache = c;
}

size_t od_eval_cache_count(const struct od_run_cache *c)
{
	return c ? c->n : 0;
}

int od_eval_cache_bind(struct od_run_cache *c, const void *owner)
{
	if (c && c->owner && c->owner != owner)
		return OD_EARG;
	if (c)
		c->owner = owner;
	return 0;
}

static struct kept *cache_slot(struct od_run_cache *c, const void *key)
{
	uint64_t h = (uint64_t)(uintptr_t)key * 0x9E3779B97F4A7C15u;
	size_t i = (size_t)(h ^ h >> 32) & (c->cap - 1);
	while (c->e[i].key && c->e[i].key != key)
		i = (i + 1) & (c->cap - 1);
	return &c->e[i];
}

/* The kept copy of a payload, or the empty slot to keep it in (NULL when out of memory). */
static struct kept *cache_find(struct od_run_cache *c, const void *key)
{
	if (c->n + 1 > c->cap / 2) {
		size_t cap = c->cap ? 2 * c->cap : 64, old_cap = c->cap;
		struct kept *old = c->e, *e = od_calloc(cap, sizeof *e);
		if (!e)
			return NULL;
		c->e = e;
		c->cap = cap;
		for (size_t i = 0; i < old_cap; i++)
			if (old[i].key)
				*cache_slot(c, old[i].key) = old[i];
		od_free(old);
	}
	return cache_slot(c, key);
}

/* A misaligned float32 payload (raw_data at an odd offset of the file) is read from the
 * file with pread() where the model's file is open, not copied from the mapping: its pages
 * are then never mapped in, and the kernel's copy costs no page faults. With a cache set
 * (od_eval_set_cache), a payload of the model's files is read once and kept. */
float *ev_f32_in(const struct od_tensor *t, bool *owned)
{
	*owned = false;
	if (ev_is_f32(t) && t->data)
		return (float *)t->data;
	struct copy_job j = { NULL, t->data, -1, 0 };
	bool file = t->dtype == OD_FLOAT && t->numel;   /* a payload at an odd offset */
	if (file)
		j.fd = od_source_find(sources, n_sources, t->data, t->nbytes, &j.off);
	struct kept *k = file && j.fd >= 0 && cache ? cache_find(cache, t->data) : NULL;
	if (k && k->key && k->nbytes == t->nbytes)
		return k->v;
	float *v = od_malloc((size_t)(t->numel ? t->numel : 1) * sizeof *v);
	if (!v)
		return NULL;
	if (file) {
		j.dst = v;
		ev_par_range(t->numel, 4 * EV_PAR_GRAIN, copy_part, &j);
	}
	else
		for (int64_t i = 0; i < t->numel; i++)
			v[i] = (float)ev_getf(t, i);
	if (k && !k->key) {     /* kept: the cache frees it */
		*k = (struct kept){ t->data, t->nbytes, v };
		cache->n++;
		return v;
	}
	*owned = true;
	return v;
}

float *ev_f32_out(struct od_tensor *t)
{
	if (t->dtype == OD_FLOAT)
		return ev_mut(t);
	return od_calloc((size_t)(t->numel ? t->numel : 1), sizeof(float));
}

void ev_f32_done(struct od_tensor *t, float *v)
{
	if (!v || t->dtype == OD_FLOAT)
		return;
	for (int64_t i = 0; i < t->numel; i++)
		ev_setf(t, i, v[i]);
	od_free(v);
}

void ev_f32_free(float *v, bool owned)
{
	if (owned)
		od_free(v);
}

/* t's doubles: the payload, or a copy when it is misaligned (a view into the file); free
 * *copy afterwards. NULL when out of memory. */
static const double *f64_in(const struct od_tensor *t, double **copy)
{
	*copy = NULL;
	if ((uintptr_t)t->data % _Alignof(double) == 0)
		return t->data;
	if ((*copy = od_malloc(t->nbytes ? t->nbytes : 1)))
		memcpy(*copy, t->data, t->nbytes);
	return *copy;
}

/* ---- MatMul --------------------------------------------------------------------------- */

int ev_mm_shapes(struct ev *e, const struct od_tensor *a, const struct od_tensor *b,
                 struct ev_mm *s)
{
	if (!a->ndims || !b->ndims)
		return ev_bad(e, "operands must not be scalars");
	int64_t ad[OD_MAX_RANK], bd[OD_MAX_RANK];
	int an = a->ndims, bn = b->ndims;
	memcpy(ad, a->dims, (size_t)an * sizeof *ad);
	memcpy(bd, b->dims, (size_t)bn * sizeof *bd);
	if (an == 1) {                    /* [k] -> [1,k] */
		ad[1] = ad[0], ad[0] = 1, an = 2;
	}
	if (bn == 1)                      /* [k] -> [k,1] */
		bd[1] = 1, bn = 2;
	s->m = ad[an - 2], s->k = ad[an - 1], s->n = bd[bn - 1];
	if (bd[bn - 2] != s->k)
		return ev_bad(e, "inner dimensions differ: %lld and %lld", (long long)s->k,
		              (long long)bd[bn - 2]);
	int nds[2] = { an - 2, bn - 2 };
	const int64_t *dss[2] = { ad, bd };
	int rc = ev_bcast_shapes(e, &s->bc, 2, nds, dss);
	if (rc)
		return rc;
	s->nd = 0;
	for (int d = 0; d < s->bc.nd; d++)
		s->dims[s->nd++] = s->bc.dims[d];
	if (a->ndims > 1)
		s->dims[s->nd++] = s->m;
	if (b->ndims > 1)
		s->dims[s->nd++] = s->n;
	return 0;
}

static void mm_f32(const struct ev_mm *s, const float *a, const float *b, float *y)
{
	struct ev_bcast bc = s->bc;
	int64_t mk = s->m * s->k, kn = s->k * s->n, mn = s->m * s->n;
	for (int64_t i = 0; i < bc.numel; i++, ev_bcast_next(&bc))
		ev_sgemm(false, false, (int)s->m, (int)s->n, (int)s->k, 1.0f, a + bc.off[0] * mk,
		         (int)s->k, b + bc.off[1] * kn, (int)s->n, 0.0f, y + i * mn, (int)s->n);
}

static void mm_f64(const struct ev_mm *s, const double *a, const double *b, double *y)
{
	struct ev_bcast bc = s->bc;
	int64_t mk = s->m * s->k, kn = s->k * s->n, mn = s->m * s->n;
	for (int64_t i = 0; i < bc.numel; i++, ev_bcast_next(&bc))
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)s->m, (int)s->n,
		            (int)s->k, 1.0, a + bc.off[0] * mk, (int)s->k, b + bc.off[1] * kn,
		            (int)s->n, 0.0, y + i * mn, (int)s->n);
}

/* Integers: not a hot path in exported models (shape arithmetic at most), exact instead. */
static void mm_int(const struct ev_mm *s, const struct od_tensor *a, const struct od_tensor *b,
                   struct od_tensor *y)
{
	struct ev_bcast bc = s->bc;
	bool uns = ev_class(y->dtype) == EV_CU;
	int64_t mk = s->m * s->k, kn = s->k * s->n, mn = s->m * s->n;
	for (int64_t i = 0; i < bc.numel; i++, ev_bcast_next(&bc))
		for (int64_t r = 0; r < s->m; r++)
			for (int64_t c = 0; c < s->n; c++) {
				uint64_t acc = 0;
				for (int64_t j = 0; j < s->k; j++)
					acc += (uint64_t)ev_geti(a, bc.off[0] * mk + r * s->k + j) *
					       (uint64_t)ev_geti(b, bc.off[1] * kn + j * s->n + c);
				if (uns)
					ev_setu(y, i * mn + r * s->n + c, acc);
				else
					ev_seti(y, i * mn + r * s->n + c, (int64_t)acc);
			}
}

static int too_big(struct ev *e, int64_t m, int64_t k, int64_t n)
{
	if (m > INT32_MAX || k > INT32_MAX || n > INT32_MAX)
		return ev_err(e, OD_ELIMIT, "matrix dimension beyond 2^31");
	return 0;
}

int ev_k_matmul(struct ev *e)
{
	const struct od_tensor *a = e->in[0], *b = e->in[1];
	struct od_tensor *y;
	struct ev_mm s;
	int rc;
	if (a->dtype != b->dtype)
		return ev_bad(e, "operands are %s and %s", od_dtype_name(a->dtype),
		              od_dtype_name(b->dtype));
	/* the float products write every element when there is something to sum */
	if ((rc = ev_mm_shapes(e, a, b, &s)) || (rc = too_big(e, s.m, s.k, s.n)) ||
	    (rc = (s.k && ev_class(a->dtype) == EV_CF ? ev_new_whole : ev_new)(e, 0, a->dtype, s.nd,
	                                                                       s.dims, &y)))
		return rc;
	if (!y->numel)
		return 0;
	/* One B for every matrix of A, which are consecutive ([197,1,768] x [768,2304] in a
	 * torch export): one product of all A's rows, not one per matrix (each of which would
	 * pack B again: 197 products of one row cost 8 times the one). */
	if (s.bc.numel > 1 && b->numel == s.k * s.n && a->numel == s.bc.numel * s.m * s.k) {
		s.m *= s.bc.numel;
		s.bc.numel = 1;
	}
	if (a->dtype == OD_DOUBLE) {
		double *ca, *cb;
		const double *da = f64_in(a, &ca), *db = f64_in(b, &cb);
		if (da && db)
			mm_f64(&s, da, db, ev_mut(y));
		od_free(ca);
		od_free(cb);
		return da && db ? 0 : ev_err(e, OD_ENOMEM, "out of memory");
	}
	if (ev_class(a->dtype) != EV_CF) {
		mm_int(&s, a, b, y);
		return 0;
	}
	bool oa, ob;
	float *fa = ev_f32_in(a, &oa), *fb = ev_f32_in(b, &ob), *fy = ev_f32_out(y);
	if (fa && fb && fy)
		mm_f32(&s, fa, fb, fy);
	else
		rc = ev_err(e, OD_ENOMEM, "out of memory");
	ev_f32_free(fa, oa);
	ev_f32_free(fb, ob);
	ev_f32_done(y, fy);
	return rc;
}

/* ---- Gemm ----------------------------------------------------------------------------- */

/* y = beta * C broadcast to [m,n] (unidirectionally), as doubles through ev_setf. */
static int gemm_bias(struct ev *e, const struct od_tensor *c, struct od_tensor *y, float beta)
{
	struct ev_bcast bc;
	const struct od_tensor *ts[2] = { y, c };
	int rc = ev_bcast_init(e, &bc, 2, ts);
	if (rc)
		return rc;
	if (bc.nd != y->ndims || bc.numel != y->numel)
		return ev_bad(e, "C does not broadcast to [%lld,%lld]", (long long)y->dims[0],
		              (long long)y->dims[1]);
	if (y->dtype == OD_FLOAT && ev_is_f32(c)) {
		float *o = ev_mut(y);
		const float *cv = c->data;
		for (int64_t i = 0; i < bc.numel; i++, ev_bcast_next(&bc))
			o[i] = beta * cv[bc.off[1]];
		return 0;
	}
	for (int64_t i = 0; i < bc.numel; i++, ev_bcast_next(&bc))
		ev_setf(y, i, (double)beta * ev_getf(c, bc.off[1]));
	return 0;
}

int ev_k_gemm(struct ev *e)
{
	const struct od_tensor *a = e->in[0], *b = e->in[1];
	const struct od_tensor *c = e->nin > 2 ? e->in[2] : NULL;
	bool ta = ev_attr_i(e, "transA", 0), tb = ev_attr_i(e, "transB", 0);
	float alpha = ev_attr_f(e, "alpha", 1.0f), beta = ev_attr_f(e, "beta", 1.0f);
	struct od_tensor *y;
	int rc;
	if (a->ndims != 2 || b->ndims != 2)
		return ev_bad(e, "A and B must be matrices");
	if (a->dtype != b->dtype || (c && c->dtype != a->dtype))
		return ev_bad(e, "operands of different dtypes");
	int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
	int64_t n = tb ? b->dims[0] : b->dims[1], kb = tb ? b->dims[1] : b->dims[0];
	if (k != kb)
		return ev_bad(e, "inner dimensions differ: %lld and %lld", (long long)k, (long long)kb);
	int64_t dims[2] = { m, n };
	if ((rc = too_big(e, m, k, n)) || (rc = ev_new(e, 0, a->dtype, 2, dims, &y)))
		return rc;
	if (c && beta != 0.0f && (rc = gemm_bias(e, c, y, beta)))
		return rc;
	if (!y->numel)
		return 0;
	float one = c && beta != 0.0f ? 1.0f : 0.0f;
	enum CBLAS_TRANSPOSE opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
	if (a->dtype == OD_DOUBLE) {
		double *ca, *cb;
		const double *da = f64_in(a, &ca), *db = f64_in(b, &cb);
		if (da && db)
			cblas_dgemm(CblasRowMajor, opa, opb, (int)m, (int)n, (int)k, alpha, da,
			            (int)a->dims[1], db, (int)b->dims[1], one, ev_mut(y), (int)n);
		od_free(ca);
		od_free(cb);
		return da && db ? 0 : ev_err(e, OD_ENOMEM, "out of memory");
	}
	bool oa, ob;
	float *fa = ev_f32_in(a, &oa), *fb = ev_f32_in(b, &ob), *fy = NULL;
	if (fa && fb && (fy = y->dtype == OD_FLOAT ? ev_mut(y) : ev_f32_in(y, &(bool){0}))) {
		ev_sgemm(ta, tb, (int)m, (int)n, (int)k, alpha, fa, (int)a->dims[1], fb,
		         (int)b->dims[1], one, fy, (int)n);
		ev_f32_done(y, fy);
	} else {
		rc = ev_err(e, OD_ENOMEM, "out of memory");
		if (y->dtype != OD_FLOAT)
			od_free(fy);
	}
	ev_f32_free(fa, oa);
	ev_f32_free(fb, ob);
	return rc;
}

/* ---- Det ------------------------------------------------------------------------------ */

/* The determinant of the m x m matrix a, which it overwrites: Gaussian elimination with
 * partial pivoting, as LAPACK's getrf under numpy's det. */
static double lu_det(double *a, int64_t m)
{
	double det = 1;
	for (int64_t k = 0; k < m; k++) {
		int64_t piv = k;
		for (int64_t i = k + 1; i < m; i++)
			if (fabs(a[i * m + k]) > fabs(a[piv * m + k]))
				piv = i;
		if (a[piv * m + k] == 0)
			return 0;
		if (piv != k) {
			for (int64_t j = k; j < m; j++) {
				double t = a[k * m + j];
				a[k * m + j] = a[piv * m + j];
				a[piv * m + j] = t;
			}
			det = -det;
		}
		det *= a[k * m + k];
		for (int64_t i = k + 1; i < m; i++) {
			double f = a[i * m + k] / a[k * m + k];
			for (int64_t j = k + 1; j < m; j++)
				a[i * m + j] -= f * a[k * m + j];
		}
	}
	return det;
}

/* Det: the determinant of each matrix of X [*, M, M], in double, rounded once; a 0 x 0
 * matrix has determinant 1. */
int ev_k_det(struct ev *e)
{
	const struct od_tensor *x = e->in[0];
	struct od_tensor *y;
	int r = x->ndims;
	if (r < 2 || x->dims[r - 1] != x->dims[r - 2])
		return ev_bad(e, "X must be [*, M, M]");
	int rc = ev_new_whole(e, 0, x->dtype, r - 2, x->dims, &y);
	if (rc || !y->numel)
		return rc;
	int64_t m = x->dims[r - 1];
	double *a = od_malloc((size_t)(m ? m * m : 1) * sizeof *a);
	if (!a)
		return ev_err(e, OD_ENOMEM, "out of memory");
	for (int64_t b = 0; b < y->numel; b++) {
		for (int64_t i = 0; i < m * m; i++)
			a[i] = ev_getf(x, b * m * m + i);
		ev_setf(y, b, lu_det(a, m));
	}
	od_free(a);
	return 0;
}
