/*
 * pager.c — a full-height scrolling view of rows: the details of the selected row (Enter),
 * the help drawn from the key table (?), the report of the last freeze (r).
 */
#include "config.h"
#include <stdio.h>
#include "keys.h"
#include "screen.h"
#include "tui.h"

void pager_open(struct tui *t, int what)
{
	const struct tui_pane *p = &t->rows->pane[t->focus];
	int rc;
	od_arena_free(t->page_arena);
	if (!(t->page_arena = od_arena_new()))
		tui_die("pager");
	if (what == TUI_REQ_HELP)
		rc = tui_rows_help(t->page_arena, &t->page);
	else if (what == TUI_REQ_REPORT)
		rc = tui_rows_report(t->s, t->page_arena, &t->page);
	else if (p->n)
		rc = tui_rows_detail(t->s, &p->rows[t->sel[t->focus]], t->page_arena, &t->page);
	else
		return;
	if (rc == OD_ENOMEM)
		tui_die("pager");
	t->page_top = 0;
	t->view = TUI_VIEW_PAGER;
}

void pager_draw(struct tui *t)
{
	int rows, cols;
	char title[256];
	tui_screen_size(&rows, &cols);
	int h = rows - 4 - tui_command_lines(t, cols);
	t->page_h = h > 1 ? h : 1;
	if (t->page.n > (size_t)t->page_h && t->page_top + (size_t)t->page_h > t->page.n)
		t->page_top = t->page.n - (size_t)t->page_h;
	tui_draw_title(t, cols);
	if (t->page.n > (size_t)t->page_h)
		snprintf(title, sizeof title, " %s  [%zu-%zu/%zu]  Esc closes", t->page.title, t->page_top + 1,
		         t->page_top + (size_t)t->page_h, t->page.n);
	else
		snprintf(title, sizeof title, " %s  Esc closes", t->page.title);
	tui_screen_put(1, 0, cols, TUI_COLOR_FOCUS, title);
	for (int i = 0; i < h; i++) {
		size_t k = t->page_top + (size_t)i;
		char line[1100];
		snprintf(line, sizeof line, " %s", k < t->page.n ? t->page.rows[k].text : "");
		tui_screen_put(2 + i, 0, cols, k < t->page.n ? t->page.rows[k].color : TUI_COLOR_NORMAL, line);
	}
	tui_draw_bottom(t, rows, cols);
}

static void scroll(struct tui *t, long delta)
{
	size_t max = t->page.n > (size_t)t->page_h ? t->page.n - (size_t)t->page_h : 0;
	if (delta < 0)
		t->page_top = (size_t)-delta > t->page_top ? 0 : t->page_top - (size_t)-delta;
	else
		t->page_top = t->page_top + (size_t)delta > max ? max : t->page_top + (size_t)delta;
}

void pager_key(struct tui *t, int key)
{
	long page = t->page_h > 1 ? t->page_h - 1 : 1;
	if (key == TUI_ESC || key == 'q') {
		t->view = TUI_VIEW_BROWSE;
		return;
	}
	switch (tui_req_of_key(key)) {
	case TUI_REQ_DOWN: scroll(t, 1); break;
	case TUI_REQ_UP: scroll(t, -1); break;
	case TUI_REQ_PAGE_DOWN: scroll(t, page); break;
	case TUI_REQ_PAGE_UP: scroll(t, -page); break;
	case TUI_REQ_FIRST: t->page_top = 0; break;
	case TUI_REQ_LAST: scroll(t, (long)t->page.n); break;
	case TUI_REQ_REDRAW: t->repaint = true; break;
	case TUI_REQ_ENTER:
	case TUI_REQ_HELP:
		t->view = TUI_VIEW_BROWSE;
		break;
	default:
		if (key == TUI_KEY_RESIZE)
			t->repaint = true;
		break;
	}
}
