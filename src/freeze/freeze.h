/*
 * freeze.h — freezing graph inputs into constants: bind, remove, re-bind dims, fold, prune
 * (docs/design.md "Freezing"). Also the folder on its own, for `diff --fold`.
 */
#ifndef OD_FREEZE_H
#define OD_FREEZE_H

#include "od.h"

/* One input to freeze and its value (parse it with od_tensor_parse() into m->arena so it
 * lives as long as the model). */
struct od_binding {
	const char *name;
	struct od_tensor *value;
};

struct od_freeze_opts {
	double max_growth;      /* folding may add at most this many bytes of constants per byte
	                           of the model's original constants (0: default 1.0), plus 1 MiB */
	int64_t max_growth_bytes; /* > 0: the limit in bytes instead of the max_growth rule;
	                           < 0: no limit; 0: the max_growth rule */
	bool strict;            /* a node that still depends on a frozen value is an error */
	bool no_fold;           /* only bind and prune */
	bool keep_unused_inputs; /* keep graph inputs that nothing reads after folding */
	bool write_shapes;      /* store the inferred shapes of the result as value_info */
};

/* A node that still depends on a frozen value after folding, and why it did not fold. */
struct od_freeze_note {
	const char *path;       /* graph path, "graph" or "graph/If_0:then_branch" */
	const char *node;       /* node name ("" when unnamed) */
	const char *op_type;
	const char *reason;     /* "no kernel for NonZero", "dtype complex64", "size limit", ... */
};

/* An input that was frozen, and a symbolic dim a frozen value fixed. */
struct od_freeze_item {
	const char *name;       /* "mask" */
	const char *type;       /* the value's type: "float[1,4]" */
};
struct od_freeze_dim {
	const char *param;      /* "batch" */
	int64_t value;          /* 2 */
};

/* Everything in a report lives in its own arena: it outlives the model. */
struct od_freeze_report {
	size_t n_frozen;        /* inputs bound */
	struct od_freeze_item *frozen; /* n_frozen entries */
	size_t n_folded;        /* nodes evaluated into constants */
	size_t n_shape_folded;  /* of which known from shapes alone (Shape, Size, their arithmetic) */
	size_t n_dropped;       /* graph inputs nothing read any more, removed */
	const char *const *dropped; /* their names */
	size_t n_if_inlined;    /* If nodes replaced by their chosen branch */
	size_t n_nodes_removed; /* nodes gone in total (folded or pruned) */
	size_t n_inits_removed; /* initializers no longer used */
	size_t n_dims_fixed;    /* symbolic dims fixed by a frozen value ("T = 4") */
	struct od_freeze_dim *dims; /* n_dims_fixed entries */
	size_t n_notes;
	struct od_freeze_note *notes;
	const char *const *remaining_inputs; /* the result's graph inputs */
	size_t n_remaining_inputs;
	size_t n_nodes_before, n_nodes_after;   /* nodes, subgraphs included */
	size_t n_inits_before, n_inits_after;   /* initializers of the main graph (as show) */
	uint64_t bytes_added;   /* bytes of constants folding added */
	uint64_t growth_limit;  /* what it was allowed to add (UINT64_MAX: no limit) */
	struct od_arena *arena; /* owns the report */
};

/* Freezes the bindings into m (in place): binds each value as an initializer (checked
 * against the input's dtype and shape; a scalar fills a fully static shape; a symbolic dim
 * takes its size from the value and keeps it on every input, output and value_info of the
 * main graph that shares it), removes the inputs, folds what depends on them (nodes whose
 * inputs are all constant and at least one derived from a frozen value; If nodes with such a
 * condition are replaced by the chosen branch), prunes what no longer reaches an output and
 * validates the result. A node left with only constant inputs is a note (its reason); with
 * opts->strict the first note is an OD_EUNSUPPORTED error instead. Bad values (unknown input,
 * dtype, shape) are OD_ENOTFOUND / OD_EVALUE naming the input, e.g. "value for 'mask' has
 * shape [2,4], input is float[1,4]". On error m may be half-changed: callers that
 * must not lose it work on a fresh load. *report (may be NULL) receives a report the
 * caller frees with od_freeze_report_free(). --expect-inputs mismatch: OD_EVALUE with
 * "inputs are 'x', 'mask', expected 'x'" in ctx. */
OD_API int od_freeze(struct od_model *m, const struct od_binding *bindings, size_t n,
                     const struct od_freeze_opts *opts, struct od_freeze_report **report,
                     struct od_ctx *ctx);

/* Folds every node whose inputs are all constant (no binding) and inlines every If whose
 * condition is constant, then prunes; for `diff --fold`. Constant nodes become initializers
 * like every folded value (a graph output stays a Constant node), so a constant compares the
 * same however the exporter wrote it. opts may be NULL. */
OD_API int od_fold_model(struct od_model *m, const struct od_freeze_opts *opts,
                         struct od_freeze_report **report, struct od_ctx *ctx);

OD_API void od_freeze_report_free(struct od_freeze_report *r);

/* The summary freeze prints: what was frozen, folded, removed, and each note; a line each:
 *   frozen: mask float[1,4]
 *   dims: batch = 2
 *   folded: 14 nodes (6 from shapes), 0 If inlined, +1.1 KiB of constants
 *   nodes: 117 -> 81 with subgraphs, initializers: 16 -> 20 in the main graph
 *   inputs: x
 *   dropped: past.0.key, past.0.value (no longer read)
 *   not folded: /NonZero (NonZero): no kernel
 *   not folded: /Loop (Loop) in graph/If_0:then_branch: size limit: ...
 */
OD_API int od_freeze_report_text(const struct od_freeze_report *r, od_write_fn out, void *priv);

#endif
