/*
 * session.h — an interactive freezing session, without a screen: the models, the values
 * frozen so far, the live diff, undo and write. Everything it does is a library call
 * (od_tensor_parse, od_freeze, od_diff, od_model_save); the TUI adds no logic of its own.
 *
 * The current model is always rebuilt from scratch: A is mapped once, and every freeze or
 * undo loads a fresh model from that mapping (payloads are views, so this is cheap) and
 * freezes the whole list of bindings into it. Undo is therefore exact, and writing over
 * A's file does not disturb the session (the mapping keeps the original bytes).
 */
#ifndef TUI_SESSION_H
#define TUI_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include "od.h"
#include "diff.h"
#include "freeze.h"

/* One frozen input as the user gave it. */
struct tui_bind {
	const char *name;          /* the input's name, session arena */
	const char *spec;          /* the value as typed ("@mask.npy", "[[1,0,1,1]]"), arena */
	struct od_tensor *value;   /* parsed once into the session arena; cloned per apply */
};

/* A list of bindings: the state undo returns to. */
struct tui_binds {
	size_t n;
	struct tui_bind *v;        /* session arena */
};

/* Milliseconds spent by the last apply (freeze or undo), for --timing and the benchmark. */
struct tui_timing {
	double load, freeze, diff, total;
};

struct tui_session {
	const char *a_path;        /* as given; also used in the equivalent commands */
	const char *b_path;        /* NULL without B */
	struct od_model *orig;     /* A as loaded, never modified: the inputs pane, the diff
	                              baseline without B */
	struct od_model *b;        /* B, or NULL */
	struct od_model *cur;      /* A with binds frozen into it */
	struct od_diff *diff;      /* cur against B, or orig against cur; NULL if it failed */
	bool fold;                 /* the diff compares both sides folded (od_fold_model) */
	struct od_model *b_folded; /* B folded, loaded when fold is first turned on */
	struct od_model *cur_folded; /* cur folded, what diff compares while fold is on */
	char diff_error[512];      /* why diff is NULL */
	struct od_freeze_report *report; /* of the last apply with bindings, or NULL */
	struct tui_binds binds;    /* what cur has frozen, in the order given */
	struct tui_binds saved;    /* what the last write had frozen (dirty compares) */
	size_t n_hist, cap_hist;
	struct tui_binds *hist;    /* earlier states, for undo (malloc'd array) */
	const char *written;       /* last path written, arena, or NULL */
	bool written_over_input;   /* it was A's own file (the command needs --force) */
	bool dirty;                /* binds changed since the last write */
	const char *command;       /* tui_session_command(), refreshed by every action, arena */
	struct tui_timing timing;
	struct od_arena *arena;    /* specs, names and parsed values of the session */
	void *map;                 /* A's bytes (mmap'd) */
	size_t map_len;
	char *a_dir;               /* A's folder, for external data (malloc'd) */
	char *a_real;              /* realpath of A when opened (malloc'd), to spot writes over it */
	unsigned long long a_dev, a_ino;
};

/* Loads A (and B when b_path is not NULL). Caller frees with tui_session_close(). */
int tui_session_open(struct tui_session **out, const char *a_path, const char *b_path,
                     struct od_ctx *ctx);
void tui_session_close(struct tui_session *s);

/* Freezes input `name` to the value `spec`: parses it against the input's declared dtype,
 * freezes all bindings into a fresh load of A, re-diffs. A binding of the same input is
 * replaced. On error (bad value, freeze failed) the session is unchanged and ctx says why. */
int tui_session_freeze(struct tui_session *s, const char *name, const char *spec,
                       struct od_ctx *ctx);
/* Returns to the bindings before the last freeze; OD_ENOTFOUND when there is nothing to undo. */
int tui_session_undo(struct tui_session *s, struct od_ctx *ctx);
/* Writes the current model to path atomically (od_model_save). */
int tui_session_write(struct tui_session *s, const char *path, struct od_ctx *ctx);

/* Turns folding of both sides in the live diff on or off and re-diffs: with it, a freeze
 * that computes what B computes diffs equal to B (as `diff --fold`). */
int tui_session_set_fold(struct tui_session *s, bool on, struct od_ctx *ctx);

/* Runs the current model against A fed the frozen values, and against B when there is one
 * (od_verify, seeded random values for the other inputs), and says how it went in buf:
 * "verify: A fed the values: same (max abs 0); B: differs, first divergence: Mul '/Mul'
 * <-> '/m/Mul': max abs 0.88". *same: every comparison held. */
int tui_session_verify(struct tui_session *s, char *buf, size_t n, bool *same,
                       struct od_ctx *ctx);
/* The binding of input name, or NULL. */
const struct tui_bind *tui_session_bind(const struct tui_session *s, const char *name);
/* Whether path is A's own file (same device and inode). */
bool tui_session_is_input(const struct tui_session *s, const char *path);
/* The path `w` proposes: the last one written, else "<A's folder>/<stem>.frozen.onnx". */
const char *tui_session_default_out(struct tui_session *s);
/* True when cur's graph inputs are B's (same names, dtypes and shapes, any order). */
bool tui_session_inputs_match(const struct tui_session *s);

/* The command line equivalent to the session so far, shell-quoted (s->command, refreshed
 * by every action): "onnxdiff freeze A -o OUT --set mask=@mask.npy --expect-inputs x"
 * once something is frozen, else "onnxdiff diff A B" ("onnxdiff show A" without B). */
const char *tui_session_command(const struct tui_session *s);
/* Appends word to the arena string *line, single-quoted when the shell needs it. */
char *tui_shell_quote(struct od_arena *a, const char *line, const char *word);

#endif
