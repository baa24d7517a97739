/*
 * chrome.c — what every screen shows around its content: the title bar (the two paths, the
 * state, the key hints) and the bottom lines (the equivalent command, the status line, the
 * message or the prompt).
 */
#include "config.h"
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "screen.h"
#include "tui.h"

/* path as given, or when longer than room bytes its tail after "..." (one form of the path
 * at every width: the end of it, which names the file, always shows). */
static void tail_of(char *out, size_t n, const char *path, int room)
{
	int len = (int)strlen(path);
	if (len <= room || room < 8)
		snprintf(out, n, "%s", len <= room ? path : path + len - (room > 0 ? room : 0));
	else
		snprintf(out, n, "...%s", path + len - (room - 3));
}

/* The title: the two paths on the left (their tails when they do not fit), the state and
 * the key hints on the right, which are never cut. */
void tui_draw_title(struct tui *t, int cols)
{
	const struct tui_session *s = t->s;
	const char *hint = s->dirty ? "[not written]  ? help  q quit " : "? help  q quit ";
	int hw = (int)strlen(hint);
	char a[1024], b[1024] = "", line[sizeof a + sizeof b + 32];
	bool hints = cols > hw + 20;
	int room = cols - (hints ? hw : 0) - 1 - (int)strlen(" onnxdiff tui  A: ") - (s->b_path ? 5 : 0);
	int la = (int)strlen(s->a_path), lb = s->b_path ? (int)strlen(s->b_path) : 0;
	int ra = la + lb <= room ? la : s->b_path ? (la < room / 2 ? la : room - (lb < room / 2 ? lb : room / 2)) : room;
	tail_of(a, sizeof a, s->a_path, ra);
	if (s->b_path)
		tail_of(b, sizeof b, s->b_path, room - (int)strlen(a));
	snprintf(line, sizeof line, " onnxdiff tui  A: %s%s%s", a, s->b_path ? "  B: " : "", b);
	if (hints) {
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
