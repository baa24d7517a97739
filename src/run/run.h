/*
 * run.h — evaluating a whole model with onnxdiff's kernels (src/eval): the main graph in a
 * topological order, If and Loop bodies with the values of the graphs around them, every
 * intermediate freed after its last reader. Also the feeds: checking a value against the
 * input it is given for, and seeded random values for the inputs not given.
 */
#ifndef OD_RUN_H
#define OD_RUN_H

#include "od.h"

/* A value for a graph input. */
struct od_feed {
	const char *name;
	struct od_tensor *value;
};

/* A size for a symbolic dim ("batch" = 2). */
struct od_dim_size {
	const char *param;
	int64_t value;
};

/* Called after each node of the main graph, in evaluation order, with its outputs
 * (n->n_outputs entries, NULL for omitted ones). They are freed after their last reader:
 * clone what you keep. A non-zero return stops the run and is returned. */
typedef int (*od_run_node_fn)(void *priv, const struct od_node *n,
                              struct od_tensor *const *outs);

/* What a run used. */
struct od_run_stats {
	size_t peak_bytes;      /* the most bytes of node outputs alive at once (subgraphs' too) */
};

/* What one run of a model prepares for the next: aligned copies of its float32 weights
 * that sit at odd offsets of its file (read at first use, instead of once per node per
 * run). A caller evaluating one model several times gives every run the same cache, as
 * onnxruntime's session keeps its weights; memory grows by those weights' size, at most the
 * file's. A cache serves the model of its first run: another model is refused (OD_EARG). */
struct od_run_cache;
OD_API struct od_run_cache *od_run_cache_new(void);   /* NULL when out of memory */
OD_API void od_run_cache_free(struct od_run_cache *c);

struct od_run_opts {
	int threads;            /* threads; 0: one per CPU */
	struct od_run_cache *cache; /* may be NULL: nothing kept between runs */
	od_run_node_fn on_node; /* may be NULL */
	void *priv;             /* for on_node */
	struct od_run_stats *stats; /* may be NULL; filled by od_run */
};

/* Evaluates m's main graph on feeds, which must hold a value for every graph input that
 * has no initializer default, each checked with od_feed_check(). On success outs[i] (one
 * per graph output) holds output i in arena a. Errors name the model and the node:
 * "cannot run 'm.onnx': no kernel for com.microsoft::Attention (node 'attn_0')"
 * (OD_EUNSUPPORTED); "cannot run 'm.onnx': node '/Add' (Add): ..." when a kernel refuses
 * its inputs (OD_EVALUE). opts may be NULL. */
OD_API int od_run(const struct od_model *m, const struct od_feed *feeds, size_t n_feeds,
                  const struct od_run_opts *opts, struct od_arena *a, struct od_tensor **outs,
                  struct od_ctx *ctx);

/* Sets how many threads evaluation uses (0: one per CPU this process may use); od_run
 * calls it with opts->threads. It also stops the threads OpenBLAS started when it was
 * loaded, which spin for about 0.1 s of CPU before they sleep: a program that evaluates
 * nothing calls od_run_set_threads(1) first (the onnxdiff command does). Not while another
 * thread runs a model. */
OD_API void od_run_set_threads(int threads);

/* The feeds for every graph input of m (but those with an initializer default that are
 * not given): the given ones (each checked against its input:
 * dtype, rank, static dims, a symbolic dim the same size wherever it appears; a scalar
 * fills a static shape), then seeded random values of the input's dtype and shape for the
 * others, their symbolic dims taken from the given values, else from dims, else 1. Floats
 * are uniform in [-1, 1), integers in [0, 4), bools either; the values of an input depend
 * on seed and its name only. *out (*n_out entries) lives in arena a; the given values are
 * used as they are. Errors: "input 'x' not found in graph", "value for 'mask' has shape
 * [2,4], input is float[1,4]" (OD_ENOTFOUND / OD_EVALUE). */
OD_API int od_feeds_complete(const struct od_model *m, const struct od_feed *given, size_t n_given,
                             const struct od_dim_size *dims, size_t n_dims, uint64_t seed,
                             struct od_arena *a, struct od_feed **out, size_t *n_out,
                             struct od_ctx *ctx);

#endif
