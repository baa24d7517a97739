/*
 * text.c — text from a model file on its way out: names may hold any bytes. Control
 * characters (a newline, an escape sequence meant for the terminal, C0 or C1) are written
 * as \n, \xHH or \u00HH, so a hostile name can neither break a one-line message nor
 * reach the terminal, and JSON gets U+FFFD for bytes that are not UTF-8.
 */
#include "config.h"
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "internal.h"

/* Length of the valid UTF-8 sequence at p (avail bytes), 0 when there is none (overlong,
 * surrogate, cut short, ...). */
static size_t utf8_len(const unsigned char *p, size_t avail)
{
	unsigned c = p[0], v, min;
	size_t n;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, v = c & 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, v = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, v = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n > avail)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3f);
	}
	return v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff) ? 0 : n;
}

/* The one rule for text on its way to a terminal. How the text at p (avail bytes) is
 * written: returns the bytes it covers and fills esc (NUL-terminated, "" when they pass as
 * they are). Escaped are a newline as \n, the other C0 controls and DEL as \xHH,
 * the C1 controls U+0080..U+009F (ESC [ as one character, to a terminal that reads
 * UTF-8: "\u009b"), and the bytes 0x80..0x9f that are not part of valid UTF-8 (the same
 * controls to a terminal that reads Latin-1). */
static size_t escape_at(const unsigned char *p, size_t avail, char esc[8])
{
	unsigned c = p[0];
	esc[0] = 0;
	if (c == '\n') {
		memcpy(esc, "\\n", 3);
		return 1;
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(esc, 8, "\\x%02x", c);
		return 1;
	}
	if (c < 0x80)
		return 1;
	size_t n = utf8_len(p, avail);
	if (n == 2 && c == 0xc2 && p[1] <= 0x9f)
		snprintf(esc, 8, "\\u%04x", p[1]);
	else if (!n && c <= 0x9f)
		snprintf(esc, 8, "\\x%02x", c);
	return n ? n : 1;
}

int od_write_text(od_write_fn out, void *priv, const char *s, size_t n, size_t keep)
{
	size_t from = 0, i = 0;
	int rc = 0;
	while (!rc && i < keep && i < n) {
		char esc[8];
		size_t len = escape_at((const unsigned char *)s + i, n - i, esc);
		if (*esc) {
			if (i > from)
				rc = out(priv, s + from, i - from);
			if (!rc)
				rc = out(priv, esc, strlen(esc));
			from = i + len;
		}
		i += len;
	}
	if (!rc && n > from)
		rc = out(priv, s + from, n - from);
	return rc;
}

size_t od_text_escape(char *out, size_t size, const char *s)
{
	size_t k = 0, used = 0, n = strlen(s);
	bool full = !size;
	for (size_t i = 0; i < n; ) {
		char esc[8];
		size_t len = escape_at((const unsigned char *)s + i, n - i, esc);
		const char *piece = *esc ? esc : s + i;
		size_t plen = *esc ? strlen(esc) : len;
		if (!full && used + plen < size) {     /* cut whole pieces, never inside one */
			memcpy(out + used, piece, plen);
			used += plen;
		} else {
			full = true;
		}
		k += plen;
		i += len;
	}
	if (size)
		out[used] = 0;
	return k;
}

void od_vprintf_text(od_write_fn out, void *priv, int *rc, const char *fmt, va_list ap)
{
	char stack[2048], *s = stack;
	va_list again;
	if (*rc)
		return;
	va_copy(again, ap);
	int n = vsnprintf(stack, sizeof stack, fmt, ap);
	if (n >= 0 && (size_t)n >= sizeof stack) {
		if ((s = od_malloc((size_t)n + 1)))
			vsnprintf(s, (size_t)n + 1, fmt, again);
		else
			*rc = OD_ENOMEM;
	}
	va_end(again);
	if (n < 0 || *rc)
		return;
	size_t len = (size_t)n;
	*rc = od_write_text(out, priv, s, len, *fmt && fmt[strlen(fmt) - 1] == '\n' ? len - 1 : len);
	if (s != stack)
		od_free(s);
}

void od_print(struct od_printer *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	od_vprintf_text(p->out, p->priv, &p->rc, fmt, ap);
	va_end(ap);
}

/* A JSON string of text from the file. jansson refuses invalid UTF-8, and a NULL inside
 * json_pack or an append drops the whole item without a word (an input missing from the
 * list): invalid bytes become U+FFFD instead. NULL only when out of memory. */
json_t *od_json_text(const char *s)
{
	json_t *j = json_string(s);
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), k = 0, len;
	while ((len = *u ? utf8_len(u, n - (size_t)(u - (const unsigned char *)s)) : 0))
		u += len;
	if (j || !*u)           /* valid: json_string ran out of memory */
		return j;
	char *t = malloc(3 * n + 1);
	if (!t)
		return NULL;
	for (const unsigned char *q = (const unsigned char *)s; *q; ) {
		len = utf8_len(q, n - (size_t)(q - (const unsigned char *)s));
		if (len) {
			memcpy(t + k, q, len);
			k += len, q += len;
		} else {
			memcpy(t + k, "\xef\xbf\xbd", 3);
			k += 3, q++;
		}
	}
	t[k] = 0;
	j = json_string(t);
	free(t);
	return j;
}

