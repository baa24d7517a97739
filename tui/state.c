/*
 * state.c — what every screen changes in the TUI's state: the message line, and the rows
 * rebuilt from the session after an action (selections kept in range). Below the screens
 * (browse.c, pager.c, prompt.c, search.c) and the key loop (tui.c) that call it.
 */
#include "config.h"
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include "screen.h"
#include "tui.h"

void tui_message(struct tui *t, int color, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof t->msg, fmt, ap);
	va_end(ap);
	t->msg_color = color;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void tui_refresh_rows(struct tui *t, const char *why)
{
	struct tui_rows *r;
	double t0 = now_ms();
	if (tui_rows_build(t->s, &t->rows_opts, &r))
		tui_die("rows");
	tui_rows_free(t->rows);
	t->rows = r;
	for (int i = 0; i < TUI_PANE_MAX; i++)
		if (t->sel[i] >= r->pane[i].n)
			t->sel[i] = r->pane[i].n ? r->pane[i].n - 1 : 0;
	if (t->timing) {
		const struct tui_timing *tm = &t->s->timing;
		double rows_ms = now_ms() - t0;
		fprintf(stderr, "timing %s: load %.2f ms, freeze %.2f ms, diff %.2f ms, rows %.2f ms, total %.2f ms\n",
		        why, tm->load, tm->freeze, tm->diff, rows_ms, tm->total + rows_ms);
	}
}
