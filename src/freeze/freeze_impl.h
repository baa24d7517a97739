/*
 * freeze_impl.h — what the freeze module's files share (not exported): the folder's state
 * (fold.c), one scope per graph with the values known there, If inlining (fold_if.c), and
 * pruning (fold_prune.c). freeze.c binds values and drives it all.
 */
#ifndef OD_FREEZE_IMPL_H
#define OD_FREEZE_IMPL_H

#include "freeze.h"
#include "internal.h"

/* What the folder knows about one value name of a graph. */
struct fz_val {
	struct od_tensor *t;    /* its constant value, NULL when dynamic */
	bool tainted;           /* derived from a frozen value */
	bool need;              /* read by something that stays (while settling) */
	long prod;              /* index into the scope's node list, -1 for initializers,
	                           inputs and values from outside */
};

/* A node of the graph being rebuilt. */
struct fz_node {
	struct od_node *n;
	bool fold;              /* evaluated: replaced by its values */
	bool tainted;
};

/* One graph being folded; subgraphs see the values of the scopes around them. */
struct fz_scope {
	const struct fz_scope *outer;
	struct od_graph *g;
	const char *path;       /* "graph", "graph/loop:body" (report arena) */
	struct od_map idx;      /* name -> index into vals (names defined in this graph) */
	struct fz_val *vals;    /* malloc'd */
	size_t n_vals, cap_vals;
	struct fz_node *nodes;  /* the graph's new node list, malloc'd */
	size_t n_nodes, cap_nodes;
};

struct fz {
	struct od_model *m;
	struct od_arena *a;     /* m->arena: everything added to the model */
	struct od_freeze_report *rep;
	size_t cap_notes;
	bool fold_all;          /* od_fold_model: fold what is constant, frozen or not */
	bool no_eval;           /* --no-fold: only prune */
	const char *const *frozen; /* names whose values are tainted (freeze) */
	size_t n_frozen;
	const char *const *rebound; /* main graph inputs whose dims a frozen value fixed */
	size_t n_rebound;
	uint64_t budget;        /* bytes of constants folding may add (UINT64_MAX: no limit) */
	uint64_t added;
	int64_t max_numel;      /* per evaluated tensor */
	struct od_map names;    /* every value name of the model -> index into name_count */
	size_t *name_count;     /* definitions of each name, malloc'd; NULL until needed */
	size_t n_names, cap_names;
	const struct od_shapes *shapes; /* inferred before this pass, NULL when unknown */
	struct od_ctx *ctx;
};

/* fold.c */
int fz_run(struct fz *f);
struct fz_val *fz_lookup(const struct fz_scope *s, const char *name);
int fz_define(struct fz *f, struct fz_scope *s, const char *name, struct od_tensor *t,
              bool tainted, long prod);
int fz_process(struct fz *f, struct fz_scope *s, struct od_node *n);
int fz_note(struct fz *f, const struct fz_scope *s, const struct od_node *n,
            const char *fmt, ...) OD_PRINTF(4, 5);
bool fz_has_subgraph(const struct od_node *n);

/* fold_if.c: replaces If node n whose condition is cond by its chosen branch. */
int fz_inline_if(struct fz *f, struct fz_scope *s, struct od_node *n,
                 const struct od_tensor *cond);

/* freeze_shapes.c: removes the main graph's inputs nothing reads (listed in rep->dropped);
 * replaces the main graph's value_info by the inferred types of its node outputs. */
int fz_drop_unused_inputs(struct od_model *m, struct od_freeze_report *rep, struct od_ctx *ctx);
int fz_write_shapes(struct od_model *m, struct od_ctx *ctx);

/* fold_prune.c */
/* Drops nodes that reach no output of s's graph, then unused initializers and stale
 * value_info. The nodes must be in topological order (apply() leaves them in the order
 * folding processed them, which is one) and their names defined in s. */
int fz_prune(struct fz *f, const struct fz_scope *s);
/* Initializers of g and every subgraph. */
size_t fz_count_inits(const struct od_graph *g);
/* Bytes of initializers and Constant node values in g and every subgraph. */
uint64_t fz_const_bytes(const struct od_graph *g);

#endif
