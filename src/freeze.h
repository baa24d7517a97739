/*
 * freeze.h — freezing graph inputs into constants: bind, remove, fold, prune, re-bind dims,
 * check (DESIGN.md "Freezing"). Also the folder on its own, for `diff --fold`.
 *
 * A starting contract: the freeze module owns it and may extend it; front ends (CLI, TUI)
 * only use what is declared here.
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
	bool strict;            /* a node that still depends on a frozen value is an error */
	bool no_fold;           /* only bind and prune */
	const char *const *expect_inputs; /* with check_expect: the inputs the result must have */
	size_t n_expect_inputs;
	bool check_expect;
};

/* A node that still depends on a frozen value after folding, and why it did not fold. */
struct od_freeze_note {
	const char *path;       /* graph path, "graph" or "graph/If_0:then_branch" */
	const char *node;       /* node name ("" when unnamed) */
	const char *op_type;
	const char *reason;     /* "no kernel for NonZero", "dtype complex64", "size limit", ... */
};

struct od_freeze_report {
	size_t n_frozen;        /* inputs bound */
	size_t n_folded;        /* nodes evaluated into constants */
	size_t n_if_inlined;    /* If nodes replaced by their chosen branch */
	size_t n_nodes_removed; /* nodes gone in total (folded or pruned) */
	size_t n_inits_removed; /* initializers no longer used */
	size_t n_dims_fixed;    /* symbolic dims fixed by a frozen value ("T = 4") */
	size_t n_notes;
	struct od_freeze_note *notes;
	const char *const *remaining_inputs; /* the result's graph inputs */
	size_t n_remaining_inputs;
};

/* Freezes the bindings into m (in place). On error m may be half-changed: callers that
 * must not lose it work on a fresh load. *report (may be NULL) receives a report the
 * caller frees with od_freeze_report_free(). --expect-inputs mismatch: OD_EVALUE with
 * "inputs are 'x', 'mask', expected 'x'" in ctx. */
int od_freeze(struct od_model *m, const struct od_binding *bindings, size_t n,
              const struct od_freeze_opts *opts, struct od_freeze_report **report,
              struct od_ctx *ctx);

/* Folds every node whose inputs are all constant (no binding), as freeze does; for
 * `diff --fold`. */
int od_fold_model(struct od_model *m, const struct od_freeze_opts *opts,
                  struct od_freeze_report **report, struct od_ctx *ctx);

void od_freeze_report_free(struct od_freeze_report *r);

/* The summary freeze prints: what was frozen, folded, removed, and each note. */
int od_freeze_report_text(const struct od_freeze_report *r, od_write_fn out, void *priv);

#endif
