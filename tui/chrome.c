/*
 * chrome.c — what every screen shows around its content: the title bar (the two paths, the
 * state, the key hints) and the bottom lines (the equivalent command, the status line, the
 * message or the prompt).
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "screen.h"
#include "tui.h"

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash && slash[1] ? slash + 1 : path;
}

/* The title: the two paths on the left (base names when the paths do not fit), the state
 * and the key hints on the right, which are never cut. */
void tui_draw_title(struct tui *t, int cols)
{
	const struct tui_session *s = t->s;
	const char *hint = s->dirty ? "[not written]  ? help  q quit " : "? help  q quit ";
	int hw = (int)strlen(hint);
	char line[2048];
	for (int shorten = 0; shorten < 2; shorten++) {
		const char *a = shorten ? base_name(s->a_path) : s->a_path;
		const char *b = s->b_path ? (shorten ? base_name(s->b_path) : s->b_path) : NULL;
		snprintf(line, sizeof line, " onnxdiff tui  A: %s%s%s", a, b ? "  B: " : "", b ? b : "");
		if ((int)strlen(line) + 2 <= cols - hw)
			break;
	}
	if (cols > hw + 20) {
		tui_screen_put(0, 0, cols - hw, TUI_COLOR_STATUS, line);
		tui_screen_put(0, cols - hw, hw, TUI_COLOR_STATUS, hint);
	} else {
		tui_screen_put(0, 0, cols, TUI_COLOR_STATUS, line);
	}
}

int tui_command_lines(const struct tui *t, int cols)
{
	size_t len = strlen(tui_session_command(t->s)) + 2;
	return cols > 0 && len > (size_t)cols ? 2 : 1;
}

/* Command (1-2 lines, cut at a blank), status, message or prompt. */
void tui_draw_bottom(struct tui *t, int rows, int cols)
{
	const char *cmd = tui_session_command(t->s);
	int n = tui_command_lines(t, cols), y = rows - 2 - n;
	char line[4096];
	size_t len = strlen(cmd), room = (size_t)(cols > 4 ? cols - 2 : 2), first = len;
	if (n == 2) {
		for (first = room; first > 0 && cmd[first] != ' '; first--)
			;
		if (!first)
			first = room;
	}
	snprintf(line, sizeof line, "$ %.*s", (int)first, cmd);
	tui_screen_put(y, 0, cols, TUI_COLOR_COMMAND, line);
	if (n == 2) {
		const char *rest = cmd + first + (cmd[first] == ' ');
		size_t rl = strlen(rest);
		if (rl > room)   /* too long for two lines: its end is the part that changes */
			snprintf(line, sizeof line, "  ...%s", rest + rl - (room - 3));
		else
			snprintf(line, sizeof line, "  %.*s", (int)rl, rest);
		tui_screen_put(y + 1, 0, cols, TUI_COLOR_COMMAND, line);
	}
	snprintf(line, sizeof line, " %s", t->rows->status);
	tui_screen_put(rows - 2, 0, cols, t->rows->status_color, line);
	if (t->prompt.ask)
		prompt_draw(t, rows - 1, cols);
	else
		tui_screen_put(rows - 1, 0, cols, t->msg_color, t->msg);
}
