/*
 * browse.c — the main screen: the model's panes stacked on the left, the live diff on the
 * right, the equivalent command, the status line and the message or prompt at the bottom.
 * browse_draw() lays out and paints; browse_key() maps keys to requests (keys.h).
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "keys.h"
#include "screen.h"
#include "tui.h"

#define LEFT_PANES 4            /* inputs, outputs, initializers, nodes */
#define HSCROLL_STEP 8          /* columns per sideways scroll */

/* ---- layout ------------------------------------------------------------------------------ */

/* Splits avail rows among the left panes: each gets what it needs up to a fair share
 * (water-filling); rows nobody needs go to the nodes pane, the last one. */
static void split_left(const struct tui *t, int avail, int *h)
{
	int need[LEFT_PANES], left = avail > LEFT_PANES ? avail : LEFT_PANES, open = LEFT_PANES;
	bool done[LEFT_PANES] = {0};
	for (int i = 0; i < LEFT_PANES; i++) {
		size_t n = t->rows->pane[i].n;
		need[i] = !n ? 1 : n > (size_t)left ? left : (int)n;
	}
	for (bool progress = true; open && progress;) {
		progress = false;
		int share = left / open;
		for (int i = 0; i < LEFT_PANES; i++)
			if (!done[i] && need[i] <= share) {
				h[i] = need[i];
				left -= need[i];
				done[i] = true;
				open--;
				progress = true;
			}
	}
	if (!open) {
		h[LEFT_PANES - 1] += left;
		return;
	}
	for (int i = 0, k = open; i < LEFT_PANES; i++)
		if (!done[i]) {
			h[i] = --k ? left / open : left - (open - 1) * (left / open);
		}
}

/* As wide as the model's rows need (titles included), at most half the screen. */
static int left_width(const struct tui *t, int cols)
{
	size_t w = 28;
	for (int i = 0; i < LEFT_PANES; i++) {
		const struct tui_pane *p = &t->rows->pane[i];
		size_t l = strlen(p->title) + 12;
		w = l > w ? l : w;
		for (size_t k = 0; k < p->n && w < (size_t)cols / 2; k++) {
			l = strlen(p->rows[k].text) + 2;
			w = l > w ? l : w;
		}
	}
	return w < (size_t)cols / 2 ? (int)w : cols / 2;
}

static void layout(struct tui *t, int rows, int cols)
{
	int body = rows - 3 - tui_command_lines(t, cols);   /* title bar, status, message */
	int lw = left_width(t, cols), h[LEFT_PANES], y = 1;
	split_left(t, body - LEFT_PANES, h);
	for (int i = 0; i < LEFT_PANES; i++) {
		t->rect[i] = (struct tui_rect){y + 1, 0, h[i], lw};
		y += h[i] + 1;
	}
	t->rect[TUI_PANE_DIFF] = (struct tui_rect){2, lw + 1, body - 1, cols - lw - 1};
}

/* ---- painting ------------------------------------------------------------------------------ */

static void keep_visible(struct tui *t, int id)
{
	size_t n = t->rows->pane[id].n, h = t->rect[id].h > 0 ? (size_t)t->rect[id].h : 1;
	if (t->sel[id] >= n)
		t->sel[id] = n ? n - 1 : 0;
	if (t->sel[id] < t->top[id])
		t->top[id] = t->sel[id];
	if (t->sel[id] >= t->top[id] + h)
		t->top[id] = t->sel[id] - h + 1;
	if (t->top[id] + h > n)
		t->top[id] = n > h ? n - h : 0;
}

static void draw_pane(struct tui *t, int id)
{
	const struct tui_pane *p = &t->rows->pane[id];
	const struct tui_rect *r = &t->rect[id];
	char title[512];
	bool focus = t->focus == id;
	if (r->h <= 0 && r->y > 0)
		return;
	keep_visible(t, id);
	if (p->n > (size_t)r->h)
		snprintf(title, sizeof title, " %s  [%zu/%zu]", p->title, t->sel[id] + 1, p->n);
	else
		snprintf(title, sizeof title, " %s", p->title);
	tui_screen_put(r->y - 1, r->x, r->w, focus ? TUI_COLOR_FOCUS : TUI_COLOR_TITLE, title);
	for (int i = 0; i < r->h; i++) {
		size_t k = t->top[id] + (size_t)i;
		if (k >= p->n) {
			tui_screen_put(r->y + i, r->x, r->w, TUI_COLOR_DIM, !p->n && !i ? " (none)" : "");
			continue;
		}
		bool sel = focus && k == t->sel[id];
		tui_screen_put_row(r->y + i, r->x, r->w, sel ? TUI_COLOR_SELECTED : p->rows[k].color,
		                   sel ? '>' : ' ', p->rows[k].text, t->hscroll[id]);
	}
}

void browse_draw(struct tui *t)
{
	int rows, cols;
	tui_screen_size(&rows, &cols);
	layout(t, rows, cols);
	tui_draw_title(t, cols);
	for (int i = 0; i < TUI_PANE_MAX; i++)
		draw_pane(t, i);
	const struct tui_rect *d = &t->rect[TUI_PANE_DIFF];
	tui_screen_vline(1, d->x - 1, d->h + 1, TUI_COLOR_DIM);
	tui_draw_bottom(t, rows, cols);
}

/* ---- keys ------------------------------------------------------------------------------------ */

static const struct tui_row *selected(const struct tui *t)
{
	const struct tui_pane *p = &t->rows->pane[t->focus];
	return p->n ? &p->rows[t->sel[t->focus] < p->n ? t->sel[t->focus] : p->n - 1] : NULL;
}

static void move_sel(struct tui *t, long delta)
{
	size_t n = t->rows->pane[t->focus].n, *sel = &t->sel[t->focus];
	if (!n)
		return;
	if (delta < 0)
		*sel = (size_t)-delta > *sel ? 0 : *sel - (size_t)-delta;
	else
		*sel = *sel + (size_t)delta >= n ? n - 1 : *sel + (size_t)delta;
}

/* The input of A a row is about: an Inputs row, or a diff row about a graph input. */
static const struct od_value *row_input(const struct tui *t, const struct tui_row *r)
{
	const struct od_graph *g = t->s->orig->graph;
	if (!r)
		return NULL;
	if (r->ref == TUI_REF_INPUT)
		return r->item;
	const struct od_change *c = r->item;
	if (r->ref != TUI_REF_CHANGE || c->what != OD_CHANGE_INPUT)
		return NULL;
	const struct od_value *v = c->a_name ? od_graph_find_input(g, c->a_name) : NULL;
	return v ? v : c->b_name ? od_graph_find_input(g, c->b_name) : NULL;
}

static void freeze_selected(struct tui *t)
{
	const struct od_value *v = row_input(t, selected(t));
	if (!v) {
		tui_message(t, TUI_COLOR_ERROR, "select an input first (Tab moves between panes)");
		return;
	}
	const struct tui_bind *b = tui_session_bind(t->s, v->name);
	prompt_open(t, TUI_ASK_FREEZE, v->name, b ? b->spec : "", "freeze %s (%s) = ", v->name,
	            od_value_type_text(t->rows->arena, v));
}

static void click(struct tui *t)
{
	int y, x, wheel;
	tui_screen_mouse(&y, &x, &wheel);
	for (int i = 0; i < TUI_PANE_MAX; i++) {
		const struct tui_rect *r = &t->rect[i];
		if (x < r->x || x >= r->x + r->w || y < r->y - 1 || y >= r->y + r->h)
			continue;
		t->focus = i;
		if (wheel)
			move_sel(t, 3 * wheel);
		else if (y >= r->y && t->top[i] + (size_t)(y - r->y) < t->rows->pane[i].n)
			t->sel[i] = t->top[i] + (size_t)(y - r->y);
	}
}

void browse_key(struct tui *t, int key)
{
	int page = t->rect[t->focus].h > 1 ? t->rect[t->focus].h - 1 : 1;
	const struct tui_row *r;
	if (key == TUI_KEY_RESIZE) {
		t->repaint = true;
		return;
	}
	if (key == TUI_KEY_MOUSE) {
		click(t);
		return;
	}
	if (key == TUI_ESC) {
		t->msg[0] = 0;
		return;
	}
	switch (tui_req_of_key(key)) {
	case TUI_REQ_DOWN: move_sel(t, 1); break;
	case TUI_REQ_UP: move_sel(t, -1); break;
	case TUI_REQ_PAGE_DOWN: move_sel(t, page); break;
	case TUI_REQ_PAGE_UP: move_sel(t, -page); break;
	case TUI_REQ_FIRST: t->sel[t->focus] = 0; break;
	case TUI_REQ_LAST: move_sel(t, (long)t->rows->pane[t->focus].n); break;
	case TUI_REQ_NEXT_PANE: t->focus = (t->focus + 1) % TUI_PANE_MAX; break;
	case TUI_REQ_OTHER_SIDE:
		if (t->focus == TUI_PANE_DIFF) {
			t->focus = t->left;
		} else {
			t->left = t->focus;
			t->focus = TUI_PANE_DIFF;
		}
		break;
	case TUI_REQ_SCROLL_RIGHT:
		if (t->hscroll[t->focus] < 4096)
			t->hscroll[t->focus] += HSCROLL_STEP;
		break;
	case TUI_REQ_SCROLL_LEFT:
		t->hscroll[t->focus] = t->hscroll[t->focus] > HSCROLL_STEP ? t->hscroll[t->focus] - HSCROLL_STEP : 0;
		break;
	case TUI_REQ_PREV_PANE: t->focus = (t->focus + TUI_PANE_MAX - 1) % TUI_PANE_MAX; break;
	case TUI_REQ_ENTER:
		if ((r = selected(t)))
			pager_open(t, TUI_REQ_ENTER);
		break;
	case TUI_REQ_FREEZE: freeze_selected(t); break;
	case TUI_REQ_UNDO: {
		struct od_ctx ctx = {0};
		if (tui_session_undo(t->s, &ctx)) {
			tui_message(t, TUI_COLOR_ERROR, "%s", ctx.msg);
			break;
		}
		tui_refresh_rows(t, "undo");
		tui_message(t, TUI_COLOR_NORMAL, "undone; %s", t->rows->status);
		break;
	}
	case TUI_REQ_WRITE:
		prompt_open(t, TUI_ASK_WRITE, "", tui_session_default_out(t->s), "write to: ");
		break;
	case TUI_REQ_REPORT: pager_open(t, TUI_REQ_REPORT); break;
	case TUI_REQ_FOLD: {
		struct od_ctx ctx = {0};
		if (tui_session_set_fold(t->s, !t->s->fold, &ctx)) {
			tui_message(t, TUI_COLOR_ERROR, "%s", ctx.msg);
			break;
		}
		tui_refresh_rows(t, "fold");
		tui_message(t, TUI_COLOR_NORMAL, "diff against B: %s", t->s->fold ? "both sides folded" : "as written");
		break;
	}
	case TUI_REQ_VERIFY: {
		struct od_ctx ctx = {0};
		char buf[1024];
		bool same;
		if (tui_session_verify(t->s, buf, sizeof buf, &same, &ctx))
			tui_message(t, TUI_COLOR_ERROR, "verify: %s", ctx.msg);
		else
			tui_message(t, same ? TUI_COLOR_NORMAL : TUI_COLOR_ERROR, "verify: %s", buf);
		break;
	}
	case TUI_REQ_SEARCH: prompt_open(t, TUI_ASK_SEARCH, "", "", "/"); break;
	case TUI_REQ_NEXT_MATCH:
		if (!t->search[0])
			tui_message(t, TUI_COLOR_ERROR, "no search yet (/ searches)");
		else
			tui_search_next(t);
		break;
	case TUI_REQ_REDRAW: t->repaint = true; break;
	case TUI_REQ_HELP: pager_open(t, TUI_REQ_HELP); break;
	case TUI_REQ_QUIT:
		if (t->s->dirty)
			prompt_open(t, TUI_ASK_QUIT, "", "", "the frozen model is not written: quit anyway? (y/n) ");
		else
			t->quit = true;
		break;
	default: {
		char name[32];
		tui_message(t, TUI_COLOR_ERROR, "unknown key %s (? shows the keys)", tui_key_name(key, name, sizeof name));
	}
	}
}
