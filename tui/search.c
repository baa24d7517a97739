/*
 * search.c — `/` and `n`: the next row, in any pane, whose text holds the search string.
 */
#include "config.h"
#include <string.h>
#include "tui.h"

/* Every row of every pane, from the one after the selection, around to the selection. */
void tui_search_next(struct tui *t)
{
	size_t total = 0;
	for (int i = 0; i < TUI_PANE_MAX; i++)
		total += t->rows->pane[i].n;
	int pane = t->focus;
	size_t row = t->sel[pane];
	for (size_t step = 0; step < total; step++) {
		if (++row >= t->rows->pane[pane].n) {
			do
				pane = (pane + 1) % TUI_PANE_MAX;
			while (!t->rows->pane[pane].n);
			row = 0;
		}
		if (strcasestr(t->rows->pane[pane].rows[row].text, t->search)) {
			t->focus = pane;
			t->sel[pane] = row;
			tui_message(t, TUI_COLOR_NORMAL, "/%s", t->search);
			return;
		}
	}
	tui_message(t, TUI_COLOR_ERROR, "not found: %s", t->search);
}
