/*
 * eval.h — onnxdiff's own operator kernels, used by the constant folder (freeze.c) and
 * `diff --fold`. One sorted table of (domain, op, opset range, dtypes, kernel) in eval.c,
 * looked up with bsearch; kernels live in eval_*.c by family.
 */
#ifndef OD_EVAL_H
#define OD_EVAL_H

#include "od.h"

/* Bit for a dtype in a dtype mask: OD_DT(OD_FLOAT) | OD_DT(OD_INT64) ... */
#define OD_DT(t) (UINT32_C(1) << (t))

/* Evaluates node n whose inputs are all constant. ins has n->n_inputs entries, NULL for an
 * omitted optional input (""). On success outs[0..n->n_outputs-1] hold new tensors in arena a
 * (named after n->outputs). opset is the model's version of n's domain.
 * Returns 0; OD_EUNSUPPORTED when the op, opset, dtype or an attribute is not covered (the
 * reason in ctx, e.g. "Gather: dtype complex64 not supported"); OD_EVALUE / OD_EGRAPH when
 * the inputs are inconsistent (shapes that do not broadcast, indices out of range);
 * OD_ELIMIT when an output would exceed max_numel elements (0: no limit). */
int od_eval_node(const struct od_node *n, int64_t opset, struct od_tensor *const *ins,
                 struct od_tensor **outs, int64_t max_numel, struct od_arena *a,
                 struct od_ctx *ctx);

/* How many threads a kernel's work (matrix products, element-wise loops, Softmax rows,
 * depthwise convs) is split over (eval_par.c; 1: the calling thread alone). Not while a
 * kernel runs. */
void od_eval_set_threads(int threads);
int od_eval_threads(void);

/* The files behind the payloads of the model this thread evaluates (od_model_sources),
 * NULL when none: misaligned float32 weights are then read from them with pread() instead
 * of copied from the mapping. The caller keeps v alive until it sets them back to NULL. */
struct od_source;
void od_eval_set_sources(const struct od_source *v, size_t n);

/* Aligned copies of misaligned float32 weights, kept from one run of a model to the next
 * (od_run_cache in run.h): while one is set, such a weight is read once into it instead of
 * into a buffer freed after each node. Keys are payload addresses inside the sources, so a
 * cache serves one model: od_eval_cache_bind() ties it to its first owner and refuses
 * another. NULL stops keeping. */
struct od_run_cache;
struct od_run_cache *od_eval_cache_new(void);
void od_eval_cache_free(struct od_run_cache *c);
void od_eval_set_cache(struct od_run_cache *c);
size_t od_eval_cache_count(const struct od_run_cache *c);      /* payloads kept */
int od_eval_cache_bind(struct od_run_cache *c, const void *owner);

/* True when the table has a kernel for (domain, op_type) at this opset. */
bool od_eval_has_kernel(const char *domain, const char *op_type, int64_t opset);

/* Walks the table: for each entry, calls fn(domain, op, since, until, dtype_mask, priv). */
void od_eval_each(void (*fn)(const char *domain, const char *op, int64_t since,
                             int64_t until, uint32_t dtypes, void *priv), void *priv);

#endif
