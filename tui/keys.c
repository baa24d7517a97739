/*
 * keys.c — key names and the binding table (see keys.h). No curses here: the names serve
 * the help overlay and the key scripts of the headless mode alike.
 */
#include "config.h"
#include <stdio.h>
#include <string.h>
#include "keys.h"

const struct tui_binding_info tui_bindings[] = {
#define TUI_X(name, k1, k2, k3, help) {TUI_REQ_##name, {k1, k2, k3}, help},
	TUI_REQ_TABLE(TUI_X)
#undef TUI_X
};
const size_t tui_n_bindings = sizeof tui_bindings / sizeof *tui_bindings;

static const char *const special_names[] = {
#define TUI_X(name, word) word,
	TUI_KEYCODE_TABLE(TUI_X)
#undef TUI_X
};

/* Names of control and blank characters, both ways. */
static const struct {
	int key;
	const char *name;
} plain_names[] = {
	{'\t', "Tab"}, {'\n', "Enter"}, {TUI_ESC, "Esc"}, {' ', "Space"}, {'<', "lt"},
	{127, "BS"},
};

int tui_req_of_key(int key)
{
	if (!key)
		return TUI_REQ_NONE;
	if (key == '\r')
		key = '\n';
	for (size_t i = 0; i < tui_n_bindings; i++)
		for (int k = 0; k < 3; k++)
			if (tui_bindings[i].keys[k] == key)
				return tui_bindings[i].req;
	return TUI_REQ_NONE;
}

const char *tui_key_name(int key, char *buf, size_t n)
{
	if (key > TUI_KEY_BASE && key < TUI_KEY_NONE) {
		snprintf(buf, n, "%s", special_names[key - TUI_KEY_BASE - 1]);
		return buf;
	}
	for (size_t i = 0; i < sizeof plain_names / sizeof *plain_names; i++)
		if (plain_names[i].key == key && key != '<') {
			snprintf(buf, n, "%s", plain_names[i].name);
			return buf;
		}
	if (key > 0 && key < 32)
		snprintf(buf, n, "C-%c", key + 'a' - 1);
	else if (key < 128)
		snprintf(buf, n, "%c", key);
	else
		snprintf(buf, n, "U+%04X", (unsigned)key);
	return buf;
}

/* A UTF-8 sequence at *s as a code point (invalid bytes are taken one by one). */
static int utf8_next(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	int len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc0 ? 2 : 1;
	int cp = len == 1 ? p[0] : p[0] & (0x3f >> (len - 1));
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*s += 1;
			return p[0];
		}
		cp = cp << 6 | (p[i] & 0x3f);
	}
	*s += len;
	return cp;
}

static int name_to_key(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof special_names / sizeof *special_names; i++)
		if (strlen(special_names[i]) == len && !strncmp(special_names[i], name, len))
			return TUI_KEY_BASE + 1 + (int)i;
	for (size_t i = 0; i < sizeof plain_names / sizeof *plain_names; i++)
		if (strlen(plain_names[i].name) == len && !strncmp(plain_names[i].name, name, len))
			return plain_names[i].key;
	if (len == 3 && name[0] == 'C' && name[1] == '-' && name[2] >= 'a' && name[2] <= 'z')
		return TUI_CTRL(name[2]);
	return -1;
}

int tui_key_parse(const char **s)
{
	const char *p = *s;
	if (*p == '<') {
		const char *end = strchr(p + 1, '>');
		if (end && end > p + 1) {
			int key = name_to_key(p + 1, (size_t)(end - p - 1));
			if (key >= 0)
				*s = end + 1;
			return key;
		}
	}
	return utf8_next(s);
}
