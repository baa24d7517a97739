/*
 * rows.h — what each pane of the TUI shows, as plain rows of text and a colour role,
 * built from a session (its models and change list) without a terminal, so that unit tests
 * check what a user would see (tig's TIG_NO_DISPLAY). screen.c only paints rows.
 */
#ifndef TUI_ROWS_H
#define TUI_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include "od.h"
#include "session.h"

/* Colour roles, in the order of the legend. How each looks (colour pair, attributes, the
 * monochrome scheme) is screen.c's business: no curses name outside it. */
#define TUI_COLOR_TABLE(X) \
	X(NORMAL) \
	X(TITLE) \
	X(FOCUS) \
	X(HEADER) \
	X(ADDED) \
	X(REMOVED) \
	X(CHANGED) \
	X(RENAMED) \
	X(FROZEN) \
	X(DIM) \
	X(SELECTED) \
	X(STATUS) \
	X(MATCH) \
	X(MISMATCH) \
	X(COMMAND) \
	X(ERROR) \
	X(PROMPT)

enum tui_color {
#define TUI_X(name) TUI_COLOR_##name,
	TUI_COLOR_TABLE(TUI_X)
#undef TUI_X
	TUI_COLOR_MAX
};

/* The panes: id, title word. The first four are the model, stacked on the left; the diff
 * is beside them. Tab follows this order. */
#define TUI_PANE_TABLE(X) \
	X(INPUTS,  "Inputs") \
	X(OUTPUTS, "Outputs") \
	X(INITS,   "Initializers") \
	X(NODES,   "Nodes") \
	X(DIFF,    "Diff")

enum tui_pane_id {
#define TUI_X(name, word) TUI_PANE_##name,
	TUI_PANE_TABLE(TUI_X)
#undef TUI_X
	TUI_PANE_MAX
};

/* What a row is about (for Enter, f and search). */
enum tui_ref {
	TUI_REF_NONE,
	TUI_REF_INPUT,          /* item: struct od_value of the original A */
	TUI_REF_OUTPUT,         /* item: struct od_value of the current model */
	TUI_REF_INIT,           /* item: struct od_tensor of the current model */
	TUI_REF_OP,             /* item: NULL; name: the op type (a group header) */
	TUI_REF_NODE,           /* item: struct od_node of the current model */
	TUI_REF_CHANGE          /* item: struct od_change of the session's diff */
};

struct tui_row {
	const char *text;       /* one line, no control characters, rows arena */
	int color;              /* enum tui_color */
	int ref;                /* enum tui_ref */
	const void *item;       /* see enum tui_ref; lives as long as the session's models */
	const char *name;       /* input, output, tensor or node name, or op type */
};

struct tui_pane {
	const char *title;      /* "Inputs 2 (1 frozen)", rows arena */
	size_t n, cap;
	struct tui_row *rows;   /* rows arena */
};

struct tui_rows {
	struct tui_pane pane[TUI_PANE_MAX];
	const char *status;     /* "inputs: x  ✓ matches B" */
	int status_color;       /* STATUS, MATCH or MISMATCH */
	bool match;             /* the remaining inputs are B's */
	struct od_arena *arena; /* owns everything above */
};

struct tui_rows_opts {
	bool ascii;             /* no UTF-8 glyphs (monochrome or a non-UTF-8 locale) */
};

/* Builds the rows of every pane for the session's current state. Caller frees with
 * tui_rows_free(). opts may be NULL. */
int tui_rows_build(const struct tui_session *s, const struct tui_rows_opts *opts,
                   struct tui_rows **out);
void tui_rows_free(struct tui_rows *r);

/* The lines of the details view for a row (a node's attributes and inputs, a tensor's
 * values, a change's sides), in arena a. */
int tui_rows_detail(const struct tui_session *s, const struct tui_row *row, struct od_arena *a,
                    struct tui_pane *out);
/* The help overlay, drawn from the key binding table. */
int tui_rows_help(struct od_arena *a, struct tui_pane *out);
/* The report of the last freeze (od_freeze_report_text), one row per line. */
int tui_rows_report(const struct tui_session *s, struct od_arena *a, struct tui_pane *out);

/* Appends a row (text copied into a); returns 0 or OD_ENOMEM. */
int tui_pane_add(struct od_arena *a, struct tui_pane *p, int color, int ref, const void *item,
                 const char *name, const char *fmt, ...) OD_PRINTF(7, 8);

#endif
