/*
 * text.c: the CLI's pure text helpers (see text.h), unit-tested in
 * tests/unit/test_text.c.
 *
 * Display width comes from wcwidth(3) in the caller's locale: a Chinese
 * system name takes two columns per character on a terminal, and a table
 * lines up only if it is counted so.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "text.h"
#include "util.h"

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0. */
size_t
text_utf8_seq(const unsigned char *s, uint32_t *cp)
{
	static const uint32_t	 min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t			 i, n;

	n = s[0] < 0x80 ? 1 : (s[0] & 0xe0) == 0xc0 ? 2 :
	    (s[0] & 0xf0) == 0xe0 ? 3 : (s[0] & 0xf8) == 0xf0 ? 4 : 0;
	if (n == 0)
		return 0;
	*cp = n == 1 ? s[0] : s[0] & (0x7fU >> n);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	if (*cp < min[n] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

/*
 * Text as it can be printed.  For a terminal (term) control characters
 * (C0, DEL, C1) are escaped, never sent: a cause can hold a remote
 * server's words.  Invalid UTF-8 becomes U+FFFD for JSON, HTML and CSV,
 * \xNN on a UTF-8 terminal, and stays as it is for any other charset.
 */
char *
text_mend(const char *s, int term, int utf8)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *o;
	uint32_t		 c;
	size_t			 n;

	o = out = xmalloc(4 * strlen(s) + 1);
	for (; *p != '\0'; p += n) {
		if ((n = text_utf8_seq(p, &c)) == 0) {
			n = 1;
			if (!term)
				o = stpcpy(o, "\xef\xbf\xbd");
			else if (utf8)
				o += sprintf(o, "\\x%02x", *p);
			else
				*o++ = (char)*p;
		} else if (term && (c < 0x20 || c == 0x7f ||
		    (c >= 0x80 && c < 0xa0))) {
			if (c == '\n' || c == '\t')
				o += sprintf(o, "\\%c", c == '\n' ? 'n' : 't');
			else
				o += sprintf(o, "\\x%02x", (unsigned int)c);
		} else {
			memcpy(o, p, n);
			o += n;
		}
	}
	*o = '\0';
	return out;
}

/* Columns on screen; bytes when the locale cannot tell. */
size_t
text_width(const char *s, int utf8)
{
	wchar_t	*ws;
	size_t	 n, i, w = 0;
	int	 cw;

	if (!utf8 || (n = mbstowcs(NULL, s, 0)) == (size_t)-1)
		return strlen(s);
	ws = xcalloc(n + 1, sizeof(*ws));
	mbstowcs(ws, s, n + 1);
	for (i = 0; i < n; i++)
		w += (cw = wcwidth(ws[i])) < 0 ? 1 : (size_t)cw;
	free(ws);
	return w;
}

/*
 * s cut to at most width columns, whole characters only, ending in an
 * ellipsis ("~" outside UTF-8) when something was cut.
 */
char *
text_truncate(const char *s, size_t width, int utf8)
{
	const char	*mark = utf8 ? "\xe2\x80\xa6" : "~";
	char		*out;
	size_t		 w = 0, len, n;
	uint32_t	 c;
	wchar_t		 wc;
	int		 cw;

	if (text_width(s, utf8) <= width)
		return xstrdup(s);
	out = xmalloc(strlen(s) + 4);
	if (width == 0) {
		*out = '\0';
		return out;
	}
	for (len = 0; s[len] != '\0'; len += n) {
		if (!utf8 || (n = text_utf8_seq((const unsigned char *)s +
		    len, &c)) == 0) {
			n = 1;
			cw = 1;
		} else {
			wc = (wchar_t)c;
			cw = wcwidth(wc) < 0 ? 1 : wcwidth(wc);
		}
		if (w + (size_t)cw > width - 1)
			break;
		w += (size_t)cw;
	}
	memcpy(out, s, len);
	memcpy(out + len, mark, strlen(mark) + 1);
	return out;
}

/* RFC 4180: quoted only when it must be, quotes doubled. */
char *
text_csv(const char *s)
{
	char	*out, *o;

	if (strpbrk(s, ",\"\r\n") == NULL)
		return xstrdup(s);
	o = out = xmalloc(2 * strlen(s) + 3);
	*o++ = '"';
	for (; *s != '\0'; s++) {
		if (*s == '"')
			*o++ = '"';
		*o++ = *s;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}

/* Safe in HTML text and in a quoted attribute. */
char *
text_html(const char *s)
{
	char	*out, *o;

	o = out = xmalloc(6 * strlen(s) + 1);
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			o = stpcpy(o, "&amp;");
			break;
		case '<':
			o = stpcpy(o, "&lt;");
			break;
		case '>':
			o = stpcpy(o, "&gt;");
			break;
		case '"':
			o = stpcpy(o, "&quot;");
			break;
		case '\'':
			o = stpcpy(o, "&#39;");
			break;
		default:
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

/*
 * Literal in CommonMark, table cells included: the punctuation that can
 * make markup inside a line is backslash-escaped (a value never starts a
 * line, so list and heading marks need nothing), and a line break inside
 * a value becomes <br> so that a table row stays one line.
 */
char *
text_md(const char *s)
{
	char	*out, *o;

	o = out = xmalloc(4 * strlen(s) + 1);
	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			o = stpcpy(o, "<br>");
			continue;
		}
		if (*s == '\r')
			continue;
		if (strchr("\\`*_[]<>#|~", *s) != NULL)
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	return out;
}
