/*
 * screen.h — the only door to curses (htop's CRT.h): start and stop the terminal, paint
 * text in a colour role, read keys, dump the screen as text. screen.c is the one file that
 * includes curses; everything else draws through these calls.
 *
 * The terminal is restored on tui_screen_done(), at exit, and on fatal signals. Headless
 * mode draws into a virtual terminal of a fixed size (curses on /dev/null) and reads no
 * keys: the caller feeds them from a script and dumps the screen.
 */
#ifndef TUI_SCREEN_H
#define TUI_SCREEN_H

#include <stdbool.h>
#include <stdio.h>
#include "od.h"

struct tui_screen_opts {
	bool headless;          /* virtual terminal of rows x cols, no keyboard */
	int rows, cols;         /* headless size */
	bool mono;              /* monochrome even if the terminal has colours */
	bool mouse;             /* report clicks and the wheel as TUI_KEY_MOUSE */
};

int tui_screen_init(const struct tui_screen_opts *o, struct od_ctx *ctx);
/* Restores the terminal; safe to call twice and from atexit. */
void tui_screen_done(void);

void tui_screen_size(int *rows, int *cols);
/* No colours (none available, NO_COLOR, --mono) or no UTF-8: draw ASCII-safe glyphs. */
bool tui_screen_mono(void);
bool tui_screen_utf8(void);

void tui_screen_erase(void);
/* Paints UTF-8 text at (y, x) in a colour role (enum tui_color), cut to width columns and
 * padded with blanks of the same role up to width. */
void tui_screen_put(int y, int x, int width, int color, const char *text);
/* A pane's row: the one-column lead (the selection mark), then text from display column skip
 * on; a row cut at the right edge ends in a mark (an ellipsis, '$' in ASCII), and a row
 * scrolled sideways starts with one. */
void tui_screen_put_row(int y, int x, int width, int color, char lead, const char *text, int skip);
/* A vertical rule of n rows. */
void tui_screen_vline(int y, int x, int n, int color);
/* Where the cursor is left (a prompt), or hidden. */
void tui_screen_cursor(int y, int x, bool visible);
/* Shows what was painted (a full repaint when all is true: C-l, resize). */
void tui_screen_show(bool all);

/* Waits for a key: a code point or TUI_KEY_* (keys.h). */
int tui_screen_key(void);
/* The row and column of the last mouse event, and whether it was the wheel (+1 down, -1 up). */
void tui_screen_mouse(int *y, int *x, int *wheel);

/* Headless: changes the virtual terminal's size as a resize would. */
int tui_screen_resize(int rows, int cols);
/* Writes the screen as text, one line per row, trailing blanks cut. */
int tui_screen_dump(FILE *f);

/* Out of memory in the front end: restore the terminal, say so, abort (htop's xMalloc). */
_Noreturn void tui_die(const char *what);

#endif
