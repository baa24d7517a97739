/*
 * prompt.c — the prompt line (a value to freeze, a path to write, a search, a yes/no) and
 * what accepting each answer does. The answers go to the session (session.c), which calls
 * the library; failures land in the message line and the session goes on.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include "keys.h"
#include "screen.h"
#include "tui.h"

void prompt_open(struct tui *t, int ask, const char *arg, const char *initial, const char *fmt, ...)
{
	struct tui_prompt *p = &t->prompt;
	va_list ap;
	p->ask = ask;
	va_start(ap, fmt);
	vsnprintf(p->label, sizeof p->label, fmt, ap);
	va_end(ap);
	snprintf(p->buf, sizeof p->buf, "%s", initial);
	p->len = strlen(p->buf);
	snprintf(p->arg, sizeof p->arg, "%s", arg);
	t->msg[0] = 0;
}

static bool yes_no(int ask)
{
	return ask == TUI_ASK_OVERWRITE || ask == TUI_ASK_QUIT;
}

/* The label, then as much of the end of the answer as fits, then the cursor. */
void prompt_draw(struct tui *t, int y, int width)
{
	const struct tui_prompt *p = &t->prompt;
	int lw = (int)strlen(p->label);
	if (lw > width / 2 && !yes_no(p->ask))
		lw = width / 2;
	tui_screen_put(y, 0, lw, TUI_COLOR_PROMPT, p->label);
	int room = width - lw - 1 > 0 ? width - lw - 1 : 0;
	const char *shown = p->buf;
	if (p->len > (size_t)room) {     /* byte count over-estimates columns: safe */
		shown = p->buf + p->len - (size_t)room;
		while ((*shown & 0xc0) == 0x80)
			shown++;
	}
	tui_screen_put(y, lw, width - lw, TUI_COLOR_NORMAL, shown);
	int col = lw + (int)strlen(shown);
	tui_screen_cursor(y, col < width ? col : width - 1, true);
}

/* ---- what each answer does ------------------------------------------------------------------ */

static void freeze(struct tui *t, const char *name, const char *spec)
{
	struct od_ctx ctx = {0};
	if (!*spec) {
		tui_message(t, TUI_COLOR_NORMAL, "nothing frozen (no value given)");
		return;
	}
	if (tui_session_freeze(t->s, name, spec, &ctx)) {
		tui_message(t, TUI_COLOR_ERROR, "%s", ctx.msg);
		return;
	}
	tui_refresh_rows(t, "freeze");
	const struct od_freeze_report *r = t->s->report;
	char notes[128] = "";
	if (r && r->n_notes)
		snprintf(notes, sizeof notes, "; %zu node%s did not fold (r says why)", r->n_notes,
		         r->n_notes == 1 ? "" : "s");
	tui_message(t, TUI_COLOR_NORMAL, "froze %s: %zu folded, %zu removed%s", name,
	            r ? r->n_folded : 0, r ? r->n_nodes_removed : 0, notes);
}

static void write_model(struct tui *t, const char *path)
{
	struct od_ctx ctx = {0};
	if (tui_session_write(t->s, path, &ctx)) {
		tui_message(t, TUI_COLOR_ERROR, "%s", ctx.msg);
		return;
	}
	tui_refresh_rows(t, "write");
	tui_message(t, TUI_COLOR_NORMAL, "wrote '%s'", path);
}

static void ask_write(struct tui *t, const char *path)
{
	struct stat st;
	if (!*path) {
		tui_message(t, TUI_COLOR_NORMAL, "not written (no file name)");
	} else if (tui_session_is_input(t->s, path)) {
		prompt_open(t, TUI_ASK_OVERWRITE, path, "", "'%s' is the input model: overwrite it? (y/n) ", path);
	} else if (!stat(path, &st)) {
		prompt_open(t, TUI_ASK_OVERWRITE, path, "", "'%s' exists: overwrite it? (y/n) ", path);
	} else {
		write_model(t, path);
	}
}

static void accept(struct tui *t)
{
	struct tui_prompt p = t->prompt;   /* the action may open the next prompt */
	bool yes = p.buf[0] == 'y' || p.buf[0] == 'Y';
	t->prompt.ask = TUI_ASK_NONE;
	tui_screen_cursor(0, 0, false);
	switch (p.ask) {
	case TUI_ASK_FREEZE: freeze(t, p.arg, p.buf); break;
	case TUI_ASK_WRITE: ask_write(t, p.buf); break;
	case TUI_ASK_OVERWRITE:
		if (yes)
			write_model(t, p.arg);
		else
			tui_message(t, TUI_COLOR_NORMAL, "not written");
		break;
	case TUI_ASK_SEARCH:
		if (p.buf[0])
			snprintf(t->search, sizeof t->search, "%s", p.buf);
		if (t->search[0])
			tui_search_next(t);
		break;
	case TUI_ASK_QUIT:
		t->quit = yes;
		break;
	}
}

static void put_utf8(struct tui_prompt *p, int key)
{
	char b[4];
	size_t n = key < 0x80 ? (b[0] = (char)key, 1)
	         : key < 0x800 ? (b[0] = (char)(0xc0 | key >> 6), b[1] = (char)(0x80 | (key & 0x3f)), 2)
	         : key < 0x10000 ? (b[0] = (char)(0xe0 | key >> 12), b[1] = (char)(0x80 | (key >> 6 & 0x3f)),
	                            b[2] = (char)(0x80 | (key & 0x3f)), 3)
	         : (b[0] = (char)(0xf0 | key >> 18), b[1] = (char)(0x80 | (key >> 12 & 0x3f)),
	            b[2] = (char)(0x80 | (key >> 6 & 0x3f)), b[3] = (char)(0x80 | (key & 0x3f)), 4);
	if (p->len + n >= sizeof p->buf)
		return;
	memcpy(p->buf + p->len, b, n);
	p->len += n;
	p->buf[p->len] = 0;
}

void prompt_key(struct tui *t, int key)
{
	struct tui_prompt *p = &t->prompt;
	if (key == '\n' || key == TUI_KEY_ENTER || (yes_no(p->ask) && key < TUI_KEY_BASE && key >= ' ')) {
		if (key != '\n' && key != TUI_KEY_ENTER)
			put_utf8(p, key);
		accept(t);
	} else if (key == TUI_ESC || key == TUI_CTRL('c') || key == TUI_CTRL('g')) {
		p->ask = TUI_ASK_NONE;
		tui_screen_cursor(0, 0, false);
		tui_message(t, TUI_COLOR_NORMAL, "cancelled");
	} else if (key == TUI_KEY_BACKSPACE || key == TUI_CTRL('h')) {
		while (p->len && (p->buf[--p->len] & 0xc0) == 0x80)
			;
		p->buf[p->len] = 0;
	} else if (key == TUI_CTRL('u')) {
		p->len = 0;
		p->buf[0] = 0;
	} else if (key == TUI_KEY_RESIZE) {
		t->repaint = true;
	} else if (key >= ' ' && key < TUI_KEY_BASE && key != 127) {
		put_utf8(p, key);
	}
}
