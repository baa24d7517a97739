/*
 * eval_internal.h — what the kernel families (eval_*.c) share: the table entry, the call
 * context handed to every kernel, element access by dtype, output allocation under the size
 * limit, attribute and index-list readers, and numpy-style broadcasting.
 */
#ifndef OD_EVAL_INTERNAL_H
#define OD_EVAL_INTERNAL_H

#include <stdint.h>
#include <string.h>
#include "eval.h"
#include "internal.h"

/* The newest opset each entry was checked against: a model newer than this is not folded,
 * since a new operator version may change what the op computes. */
#define EV_OPSET_KNOWN 28

/* Dtype masks for the table. */
#define EV_FLOATS (OD_DT(OD_FLOAT) | OD_DT(OD_DOUBLE) | OD_DT(OD_FLOAT16))
#define EV_FLOATB (EV_FLOATS | OD_DT(OD_BFLOAT16))
#define EV_SINTS (OD_DT(OD_INT8) | OD_DT(OD_INT16) | OD_DT(OD_INT32) | OD_DT(OD_INT64))
#define EV_UINTS (OD_DT(OD_UINT8) | OD_DT(OD_UINT16) | OD_DT(OD_UINT32) | OD_DT(OD_UINT64))
#define EV_INTS (EV_SINTS | EV_UINTS)
#define EV_NUM (EV_FLOATS | EV_INTS)
#define EV_NUMB (EV_NUM | OD_DT(OD_BOOL))
/* Every fixed-size type: data movement copies bytes, so bfloat16 and float8 come free. */
#define EV_FIXED (EV_NUMB | OD_DT(OD_BFLOAT16) | OD_DT(OD_FLOAT8E4M3FN) | \
                  OD_DT(OD_FLOAT8E4M3FNUZ) | OD_DT(OD_FLOAT8E5M2) | OD_DT(OD_FLOAT8E5M2FNUZ) | \
                  OD_DT(OD_COMPLEX64) | OD_DT(OD_COMPLEX128))
#define EV_ANY (EV_FIXED | OD_DT(OD_STRING))
#define EV_IDX (OD_DT(OD_INT32) | OD_DT(OD_INT64))

/* Hot float loops are compiled once per instruction set (EV_CLONES: AVX-512, AVX2, the
 * baseline), the widest the CPU has picked when the program is loaded. Those that call
 * erf, exp or tanh in double and round once call glibc's vector variants
 * (libmvec) where configure found them; each value rounds to what the scalar call rounds
 * to (test_eval.c checks). Contraction into FMA is off (-ffp-contract=off): every clone gives
 * the same bits. */
#include <math.h>
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define EV_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define EV_CLONES
#endif
#if defined(OD_LIBMVEC) && defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((simd("notinbranch"))) double erf(double);
__attribute__((simd("notinbranch"))) double exp(double);
__attribute__((simd("notinbranch"))) double tanh(double);
#endif

struct ev;
typedef int (*ev_fn)(struct ev *e);

/* One row of the operator table (eval.c). */
struct ev_entry {
	const char *domain;     /* "" for ai.onnx */
	const char *op;
	int64_t since, until;   /* opset range, inclusive */
	uint32_t dtypes;        /* OD_DT mask of what the kernel computes */
	int8_t typed;           /* input whose dtype the mask constrains; -1: the kernel checks */
	uint8_t min_in, max_in; /* input count bounds; EV_VARIADIC for no upper bound */
	uint8_t n_out;          /* outputs the kernel produces (extra ones are refused) */
	ev_fn fn;
};
#define EV_VARIADIC 255

/* One kernel call: everything od_eval_node was given, plus the matching table entry. */
struct ev {
	const struct od_node *n;
	const struct ev_entry *k;
	int64_t opset;
	struct od_tensor *const *in; /* n->n_inputs entries, NULL for omitted optionals */
	size_t nin;
	struct od_tensor **out;
	int64_t max_numel;          /* 0: no limit */
	struct od_arena *a;
	struct od_ctx *ctx;
};

/* ---- errors ----------------------------------------------------------------------- */

/* "Gather: index 7 out of range ...": the op name is prefixed. */
int ev_err(struct ev *e, int code, const char *fmt, ...) OD_PRINTF(3, 4);
#define ev_bad(e, ...) ev_err(e, OD_EVALUE, __VA_ARGS__)
#define ev_unsup(e, ...) ev_err(e, OD_EUNSUPPORTED, __VA_ARGS__)
/* OD_EUNSUPPORTED "Op: dtype X not supported" unless dtype is in the entry's mask. */
int ev_check_dtype(struct ev *e, int dtype);

/* ---- elements --------------------------------------------------------------------- */

enum ev_class { EV_CF, EV_CS, EV_CU };   /* computed as double, int64_t, uint64_t */
int ev_class(int dtype);                  /* bool counts as unsigned */

double ev_getf(const struct od_tensor *t, int64_t i);
int64_t ev_geti(const struct od_tensor *t, int64_t i);
uint64_t ev_getu(const struct od_tensor *t, int64_t i);
void ev_setf(struct od_tensor *t, int64_t i, double v);   /* to ints: truncate, saturate */
void ev_seti(struct od_tensor *t, int64_t i, int64_t v);  /* to ints: wraps like C */
void ev_setu(struct od_tensor *t, int64_t i, uint64_t v);
uint16_t ev_f16_from(double v);           /* round to nearest even */
double ev_f16_to(uint16_t h);
uint16_t ev_bf16_from(double v);
double ev_bf16_to(uint16_t h);

/* The payload of a tensor this module allocated (outputs are writable). */
static inline void *ev_mut(struct od_tensor *t) { return (void *)t->data; }
/* Bytes of one element; 0 for strings. */
size_t ev_esize(int dtype);
/* Copies count elements from src[si..] to dst[di..] (strings by reference). */
void ev_copy(struct od_tensor *dst, int64_t di, const struct od_tensor *src, int64_t si,
             int64_t count);

/* ---- outputs ---------------------------------------------------------------------- */

/* Allocates output i (named after n->outputs[i]) after checking the size limit. */
int ev_new(struct ev *e, int i, int dtype, int ndims, const int64_t *dims,
           struct od_tensor **out);
/* ev_new for a kernel that writes every element of the output on every path that returns
 * 0: a big output's memory is not zeroed first (a pass over it that showed as 2 to 4 % of
 * resnet50's and vit_b_16's evaluation). */
int ev_new_whole(struct ev *e, int i, int dtype, int ndims, const int64_t *dims,
                 struct od_tensor **out);
/* Output 0 as a copy of src's elements under another shape of the same size. */
int ev_copy_as(struct ev *e, const struct od_tensor *src, int ndims, const int64_t *dims);
/* Checks that t's shape, numel and payload agree (what names it in messages). */
int ev_check_tensor(struct ev *e, const struct od_tensor *t, const char *what);
/* Product of dims; -1 when negative or beyond OD_MAX_NUMEL (zeros counted as ones). */
int64_t ev_numel(int ndims, const int64_t *dims);
/* Steps the row-major index idx through [lo, hi) of each of n dims; false (idx back at lo)
 * after the last position. ev_step is the box from 0 to dims. */
bool ev_step_box(int n, const int64_t *lo, const int64_t *hi, int64_t *idx);
bool ev_step(int n, const int64_t *dims, int64_t *idx);

/* ---- attributes and index inputs ---------------------------------------------------- */

const struct od_attr *ev_attr(struct ev *e, const char *name, int type); /* NULL if absent */
int64_t ev_attr_i(struct ev *e, const char *name, int64_t dflt);
float ev_attr_f(struct ev *e, const char *name, float dflt);
/* A string attribute copied NUL-terminated into buf (cut to size - 1 bytes), or dflt when
 * absent; returns buf or dflt. */
const char *ev_attr_s(struct ev *e, const char *name, const char *dflt, char *buf, size_t size);
/* Reads an ints attribute into v (at most max); *n = -1 when absent. */
int ev_attr_ints(struct ev *e, const char *name, int64_t *v, int max, int *n);
/* Reads an int32/int64 tensor of rank <= 1 with at most max entries into v. */
int ev_read_ints(struct ev *e, int input, int64_t *v, int max, int *n);
/* Makes axis in [-rank, rank) non-negative; OD_EVALUE otherwise. */
int ev_axis(struct ev *e, int64_t *axis, int rank);
/* Views input 0 as [outer, n, inner] around axis (default dflt): from opset 13 the axis alone
 * (Softmax, Hardmax, ...), before it as the 2-D [prod(dims[:axis]), prod(dims[axis:])]. */
int ev_axis_view(struct ev *e, int64_t dflt, bool coerce_2d, int64_t *outer, int64_t *n,
                 int64_t *inner);
/* Normalises a list of axes and refuses duplicates; marks them in mask (rank entries). */
int ev_axes(struct ev *e, int64_t *axes, int n, int rank, bool *mask);
/* The input, or an OD_EVALUE when it was omitted. */
int ev_need(struct ev *e, size_t i, struct od_tensor **t);

/* ---- broadcasting ------------------------------------------------------------------- */

#define EV_BCAST_MAX 3
struct ev_bcast {
	int nd, nt;
	int64_t dims[OD_MAX_RANK];              /* output shape */
	int64_t numel;
	int64_t st[EV_BCAST_MAX][OD_MAX_RANK];  /* element strides per input, 0 where broadcast */
	int64_t idx[OD_MAX_RANK];               /* iterator position */
	int64_t off[EV_BCAST_MAX];              /* element offset of each input at idx */
};
/* Multidirectional (numpy) broadcast of nt shapes; OD_EVALUE when they do not broadcast. */
int ev_bcast_shapes(struct ev *e, struct ev_bcast *b, int nt, const int *ndims,
                    const int64_t *const *dims);
int ev_bcast_init(struct ev *e, struct ev_bcast *b, int nt, const struct od_tensor *const *ts);
/* Steps the iterator by one along dim d, carrying into the dims before it. */
static inline void ev_bcast_step(struct ev_bcast *b, int d)
{
	for (; d >= 0; d--) {
		for (int k = 0; k < b->nt; k++)
			b->off[k] += b->st[k][d];
		if (++b->idx[d] < b->dims[d])
			return;
		for (int k = 0; k < b->nt; k++)
			b->off[k] -= b->st[k][d] * b->dims[d];
		b->idx[d] = 0;
	}
}
/* Steps the iterator to the next output element (offsets follow). */
static inline void ev_bcast_next(struct ev_bcast *b)
{
	ev_bcast_step(b, b->nd - 1);
}
/* The longest run of trailing dims that every input walks with one stride (0: broadcast,
 * 1: contiguous): its first dim in *from, its length returned, each input's stride in
 * st[k]. Loop over rows of that length, stepping with ev_bcast_step(b, *from - 1). */
int64_t ev_bcast_rows(const struct ev_bcast *b, int *from, int64_t *st);
/* Row-major strides of a shape, in elements. */
void ev_strides(int nd, const int64_t *dims, int64_t *st);

/* ---- float32 buffers (eval_matmul.c), for the BLAS kernels ------------------------------ */

/* Whether t is float32 with a payload a float pointer may read: a view into the model file
 * (raw_data) can be misaligned, and is then read through ev_getf or copied. */
static inline bool ev_is_f32(const struct od_tensor *t)
{
	return t->dtype == OD_FLOAT && (uintptr_t)t->data % _Alignof(float) == 0;
}

/* A float32 view of a float-like or small integer tensor: its payload for aligned float
 * (ev_is_f32), else a converted copy (*owned set; give it back with ev_f32_free). NULL when out of memory. */
float *ev_f32_in(const struct od_tensor *t, bool *owned);
void ev_f32_free(float *v, bool owned);
/* Where to compute output t in float32 (its payload for float, else a zeroed buffer);
 * ev_f32_done stores the buffer into t, rounding once, and frees it. */
float *ev_f32_out(struct od_tensor *t);
void ev_f32_done(struct od_tensor *t, float *v);

/* ---- matrix products (eval_matmul.c, eval_par.c) -------------------------------------- */

/* The shapes of one MatMul as numpy.matmul has them: a [batch..., m, k] times b [batch...,
 * k, n], the batch dims broadcast, a 1-D operand promoted to a matrix and its dim left out
 * of the output. */
struct ev_mm {
	int64_t m, k, n;
	struct ev_bcast bc;     /* over the batch dims: offsets count matrices */
	int nd;                 /* output rank */
	int64_t dims[OD_MAX_RANK];
};
int ev_mm_shapes(struct ev *e, const struct od_tensor *a, const struct od_tensor *b,
                 struct ev_mm *s);

/* cblas_sgemm, row-major: C = alpha * op(A) op(B) + beta * C, split into blocks of rows or
 * columns over the threads od_eval_set_threads gave, each block a single-threaded product. */
void ev_sgemm(bool ta, bool tb, int m, int n, int k, float alpha, const float *a, int lda,
              const float *b, int ldb, float beta, float *c, int ldc);

/* fn(ctx, lo, hi) over ranges covering [0, n), in parallel when n is worth at least two
 * ranges of grain; fn must only write what its range owns. Returns 0, or the failure
 * (OD_ENOMEM, ...) one range returned. */
int ev_par_range(int64_t n, int64_t grain, int (*fn)(void *ctx, int64_t lo, int64_t hi),
                 void *ctx);
/* Elements of cheap element-wise work worth handing to another thread (with workers
 * watching for jobs, 64K split resnet50 at two threads 35 -> 31 ms against 256K; 16K was no
 * better). */
#define EV_PAR_GRAIN (64 * 1024)

/* ---- windows of Conv, ConvTranspose and the pools (eval_conv.c) ------------------------ */

#define EV_WIN_MAX 8            /* spatial dims */
enum { EV_PAD_NOTSET, EV_PAD_VALID, EV_PAD_UPPER, EV_PAD_LOWER };
struct ev_win {
	int nd;                     /* spatial dims */
	int autopad;                /* EV_PAD_* */
	int64_t in[EV_WIN_MAX];     /* input extent */
	int64_t k[EV_WIN_MAX];      /* kernel extent (set before ev_win_init) */
	int64_t s[EV_WIN_MAX], d[EV_WIN_MAX];   /* strides, dilations */
	int64_t pb[EV_WIN_MAX], pe[EV_WIN_MAX]; /* pads at the start and the end */
	int64_t out[EV_WIN_MAX];    /* output extent */
};
/* Reads strides, dilations, pads and auto_pad (all optional) of e's node for the w->nd
 * dims of the kernel w->k, and checks them: positive, and small enough that no position
 * they give overflows. */
int ev_win_read(struct ev *e, struct ev_win *w);
/* Reads strides, dilations, pads and auto_pad of e's node and computes the output extent
 * of a window w->k sliding over the spatial dims of x ([N, C, spatial...]). */
int ev_win_init(struct ev *e, struct ev_win *w, const struct od_tensor *x, bool ceil_mode);
/* Conv's geometry for X ([N, C, spatial...]) and W ([M, C/group, kernel...]) after checking
 * that they fit: the window over X's spatial dims and the number of groups. */
int ev_conv_window(struct ev *e, const struct od_tensor *x, const struct od_tensor *wt,
                   struct ev_win *w, int64_t *group);
/* [*j0, *j1): the j in [0, out) whose position off + j * s lies in [0, in) (the output
 * columns a kernel tap reaches, or a window's taps inside the input: then s is the
 * dilation and out the kernel extent). */
void ev_win_taps(int64_t off, int64_t s, int64_t in, int64_t out, int64_t *j0, int64_t *j1);

/* ---- kernels (one per table row; families in eval_*.c) ----------------------------- */

#define EV_KERNELS(X) \
	/* eval_matmul.c, eval_conv.c, eval_pool.c */ \
	X(matmul) X(gemm) X(det) X(conv) X(convtranspose) X(col2im) X(maxpool) X(averagepool) \
	X(globalaveragepool) X(globalmaxpool) X(lppool1) X(lppool2) X(lppool) X(globallppool1) \
	X(globallppool) X(maxunpool) \
	/* eval_data.c */ \
	X(constant) X(identity) X(cast) X(castlike) X(shape) X(size) X(constantofshape) \
	X(range) X(hannwindow) X(hammingwindow) X(blackmanwindow) \
	/* eval_shape.c */ \
	X(reshape) X(reshape1) X(flatten) X(squeeze) X(squeeze1) X(unsqueeze) X(unsqueeze1) \
	X(dropout) \
	/* eval_index.c */ \
	X(slice) X(slice1) X(concat) X(transpose) X(tile) X(expand) X(trilu) \
	/* eval_gather.c */ \
	X(gather) X(gatherelements) X(gathernd) X(scatterelements) X(scatternd) X(nonzero) \
	X(compress) \
	/* eval_split.c */ \
	X(split) X(split2) X(pad) X(pad2) \
	/* eval_math.c */ \
	X(add) X(sub) X(mul) X(div) X(pow) X(mod) X(min) X(max) X(sum) X(mean) \
	X(equal) X(less) X(greater) X(less_equal) X(greater_equal) \
	X(and) X(or) X(xor) X(where) X(clip) X(clip6) \
	X(bitwise_and) X(bitwise_or) X(bitwise_xor) X(bitshift) \
	/* eval_unary.c */ \
	X(not) X(neg) X(abs) X(sqrt) X(reciprocal) X(floor) X(ceil) X(round) X(sign) \
	X(exp) X(log) X(erf) X(relu) X(sigmoid) X(tanh) X(isnan) X(isinf) \
	X(sin) X(cos) X(tan) X(asin) X(acos) X(atan) X(sinh) X(cosh) X(asinh) X(acosh) \
	X(atanh) X(bitwise_not) \
	/* eval_reduce.c */ \
	X(reduce_sum) X(reduce_max) X(reduce_min) X(reduce_mean) X(reduce_prod) \
	X(reduce_sum1) X(reduce_max1) X(reduce_min1) X(reduce_mean1) X(reduce_prod1) \
	X(reduce_l1) X(reduce_l2) X(reduce_sum_square) X(reduce_log_sum) X(reduce_log_sum_exp) \
	X(reduce_l11) X(reduce_l21) X(reduce_sum_square1) X(reduce_log_sum1) \
	X(reduce_log_sum_exp1) \
	X(softmax) X(softmax1) X(logsoftmax) X(logsoftmax1) X(cumsum) X(cumprod) X(argmax) \
	X(argmin) \
	/* eval_act.c */ \
	X(leakyrelu) X(elu) X(selu) X(celu) X(hardsigmoid) X(hardswish) X(softplus) \
	X(softsign) X(mish) X(swish) X(thresholdedrelu) X(shrink) X(gelu) X(prelu) X(hardmax) \
	X(hardmax1) \
	/* eval_norm.c */ \
	X(batchnorm) X(instancenorm) X(groupnorm) X(layernorm) X(lpnorm) X(mvn) X(lrn) \
	X(rmsnorm) \
	/* eval_sort.c */ \
	X(topk) X(topk1) X(unique) \
	/* eval_layout.c */ \
	X(depthtospace) X(spacetodepth) X(reversesequence) X(onehot) \
	X(eyelike) X(centercroppad) \
	/* eval_einsum.c */ \
	X(einsum) \
	/* eval_rnn.c */ \
	X(rnn) X(gru) X(lstm) \
	/* eval_resize.c */ \
	X(resize) X(resize10) X(upsample) \
	/* eval_loss.c */ \
	X(nllloss) X(sceloss) \
	/* eval_quant.c, eval_qlinear.c */ \
	X(quantize) X(dequantize) X(dynquant) X(matmulint) X(convint) X(qlmatmul) X(qlconv) \
	/* eval_boxes.c */ \
	X(nms) X(roialign) \
	/* eval_grid.c */ \
	X(gridsample) X(affinegrid) \
	/* eval_rotary.c */ \
	X(rotary) \
	/* eval_attention.c */ \
	X(attention) \
	/* eval_dft.c */ \
	X(dft17) X(dft) X(stft)

#define EV_DECLARE(name) int ev_k_##name(struct ev *e);
EV_KERNELS(EV_DECLARE)
#undef EV_DECLARE

#endif
