/*
 * tui.h — the state of `onnxdiff tui` and its screens. Each screen is a draw/key pair
 * (ncdu's browse_draw()/browse_key()): browse (the panes), pager (details, help, freeze
 * report) and the prompt line that browse opens for values, paths, searches and
 * confirmations. Drawing goes through screen.h only.
 */
#ifndef TUI_TUI_H
#define TUI_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include "rows.h"
#include "session.h"

enum tui_view { TUI_VIEW_BROWSE, TUI_VIEW_PAGER };

/* What the prompt line asks for: id, what Enter does with the answer (prompt.c). */
enum tui_ask {
	TUI_ASK_NONE,
	TUI_ASK_FREEZE,         /* a value for input `arg` */
	TUI_ASK_WRITE,          /* a path to write to */
	TUI_ASK_OVERWRITE,      /* y/n: write over `arg` */
	TUI_ASK_SEARCH,         /* a search pattern */
	TUI_ASK_QUIT            /* y/n: quit with a freeze not written */
};

struct tui_prompt {
	int ask;                /* enum tui_ask; TUI_ASK_NONE when the prompt is closed */
	char label[320];        /* "freeze mask (float[1,4]) = " */
	char buf[1024];         /* what is typed, UTF-8 */
	size_t len;
	char arg[1024];         /* input name or path the answer is about */
};

struct tui_rect {
	int y, x, h, w;         /* content rows of a pane in the last layout (title excluded) */
};

struct tui {
	struct tui_session *s;
	struct tui_rows *rows;          /* rebuilt after every action */
	struct tui_rows_opts rows_opts;
	int view;                       /* enum tui_view */
	int focus;                      /* enum tui_pane_id */
	size_t sel[TUI_PANE_MAX];       /* selected row per pane */
	size_t top[TUI_PANE_MAX];       /* first row shown per pane */
	int hscroll[TUI_PANE_MAX];      /* display columns scrolled sideways per pane */
	int left;                       /* the left pane `o` returns to from the diff */
	struct tui_rect rect[TUI_PANE_MAX];
	struct tui_pane page;           /* the pager's rows, in page_arena */
	struct od_arena *page_arena;
	size_t page_top;
	int page_h;                     /* pager rows in the last layout */
	struct tui_prompt prompt;
	char msg[512];                  /* last message, shown until the next key */
	int msg_color;
	char search[1024];              /* last search pattern */
	bool quit;
	bool repaint;                   /* repaint everything at the next draw (C-l, resize) */
	bool timing;                    /* print times of freeze/undo on stderr */
};

/* state.c */
/* Rebuilds the rows from the session after an action (why: "freeze", ... for --timing);
 * selections are kept in range. */
void tui_refresh_rows(struct tui *t, const char *why);
/* Sets the message line (printf-like); color is a role (ERROR for failures). */
void tui_message(struct tui *t, int color, const char *fmt, ...) OD_PRINTF(3, 4);
/* tui.c */
/* Handles one key on the current screen; draws nothing. */
void tui_key(struct tui *t, int key);
/* Draws the current screen. */
void tui_draw(struct tui *t);

/* The screens (browse.c, pager.c, prompt.c). */
void browse_draw(struct tui *t);
void browse_key(struct tui *t, int key);
void pager_open(struct tui *t, int what);   /* TUI_REQ_ENTER, _HELP or _REPORT */
void pager_draw(struct tui *t);
void pager_key(struct tui *t, int key);
void prompt_open(struct tui *t, int ask, const char *arg, const char *initial, const char *fmt,
                 ...) OD_PRINTF(5, 6);
void prompt_draw(struct tui *t, int y, int width);
void prompt_key(struct tui *t, int key);
/* Searches every pane for t->search after the selection; moves there (search.c). */
void tui_search_next(struct tui *t);
/* The screen chrome (chrome.c): the title bar, and at the bottom the command, the status
 * and the message or prompt; tui_command_lines() is how many lines (1 or 2) the command
 * takes at width cols, which the layouts keep free. */
int tui_command_lines(const struct tui *t, int cols);
void tui_draw_bottom(struct tui *t, int rows, int cols);
void tui_draw_title(struct tui *t, int cols);

#endif
