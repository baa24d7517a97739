/*
 * verify.h — do two models compute the same thing? Both run on the same feeds (given ones,
 * and seeded random values shared by name, else by position), outputs are paired by
 * name, else by position, and compared within atol/rtol. When they differ, the structural
 * diff's node pairing (od_diff) finds the first pair of matched nodes, in A's evaluation
 * order, whose outputs differ: where two exports part ways, even when every name differs.
 */
#ifndef OD_VERIFY_H
#define OD_VERIFY_H

#include "od.h"
#include "run.h"

struct od_verify_opts {
	double atol, rtol;      /* equal when |a - b| <= atol + rtol * |b|; < 0: 1e-5, 1e-4 */
	int samples;            /* random feeds tried (seed, seed + 1, ...); 0: 1 */
	uint64_t seed;
	int threads;            /* BLAS threads, 0: one per CPU */
	const struct od_feed *feeds_a; /* given values for A's inputs (checked like run's) */
	size_t n_feeds_a;
	const struct od_feed *feeds_b; /* for B's; an input of B not given takes A's value of
	                           the same name, else of the same position */
	size_t n_feeds_b;
	const struct od_dim_size *dims; /* sizes of symbolic dims for random values */
	size_t n_dims;
};

/* One pair of outputs. */
struct od_verify_output {
	const char *a_name, *b_name; /* NULL on the side that has no counterpart */
	const char *a_type, *b_type; /* "float[1,10]" of the values computed (last sample) */
	bool compared;          /* same dtype and shape in every sample */
	double max_abs, max_rel; /* over all samples; max_rel over elements with b != 0 */
	bool ok;                /* compared and within tolerance */
};

struct od_verify_report {
	const char *a_path, *b_path;
	size_t n_outputs;
	struct od_verify_output *outputs;
	int samples;
	double atol, rtol;      /* the tolerances used */
	bool same;              /* every output paired and within tolerance */
	/* The first diverging pair of matched nodes (when !same and one was found): */
	bool diverged;
	const char *div_op;     /* A's op type */
	const char *div_a, *div_b; /* node names (the first output's when unnamed) */
	const char *div_what;   /* "max abs 0.81" or "shape [1,2] vs [1,3]" */
	double div_abs;
	struct od_arena *arena; /* owns the report */
};

/* Runs a and b as above. *out (free with od_verify_report_free) tells whether they agree;
 * trouble (a missing kernel, a bad feed) is an error naming the model. a and b are not
 * changed but for cached tensor hashes (the diff's). */
OD_API int od_verify(struct od_model *a, struct od_model *b, const struct od_verify_opts *opts,
                     struct od_verify_report **out, struct od_ctx *ctx);
OD_API void od_verify_report_free(struct od_verify_report *r);

/* A line per output pair, then the first divergence:
 *   y <-> y: float[1,10]  max abs 1.19e-07  max rel 2.3e-07  ok
 *   first divergence: Conv '/layer2/layer2.0/conv1/Conv' <-> 'node_3f2a': max abs 0.81 */
OD_API int od_verify_report_text(const struct od_verify_report *r, od_write_fn out, void *priv);
/* The same as JSON, schema "onnxdiff-verify/1". */
OD_API int od_verify_report_json(const struct od_verify_report *r, od_write_fn out, void *priv);

#endif
